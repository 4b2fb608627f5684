//! Xero's default answer format: without `Accept: application/json` the payroll API answers
//! XML. A plain rendering of the JSON body, close enough for a client to notice it did not
//! ask for JSON; not a mirror of real Xero XML.

use serde_json::Value;

/// A plain XML rendering of a JSON body, enough to look like Xero's default answer
/// (`<Response xmlns:i=…>`); arrays become repeated singular elements.
pub(super) fn to_xml(body: &Value) -> String {
    let mut out = String::from(r#"<Response xmlns:i="http://www.w3.org/2001/XMLSchema-instance">"#);
    if let Value::Object(map) = body {
        for (k, v) in map {
            write_xml(&mut out, k, v);
        }
    }
    out.push_str("</Response>");
    out
}

fn write_xml(out: &mut String, name: &str, value: &Value) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                write_xml(out, k, v);
            }
        }
        Value::Array(items) => {
            let singular = name.strip_suffix('s').unwrap_or(name);
            for item in items {
                write_xml(out, singular, item);
            }
        }
        Value::String(s) => out.push_str(
            &s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
        ),
        Value::Null => {}
        other => out.push_str(&other.to_string()),
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}
