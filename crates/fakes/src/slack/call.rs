//! Reading a Web API call the way Slack reads it: arguments from the query string, a form or
//! (for write methods) a JSON body, and the token from `Authorization: Bearer` or a `token`
//! form field.

use axum::extract::Request;
use axum::http::header;
use serde_json::{Map, Value, json};

use crate::serve::{bearer, pairs};

/// A call's arguments and token, read the way Slack reads them.
pub(super) struct Call {
    pub(super) token: Option<String>,
    pub(super) args: Map<String, Value>,
    pub(super) missing_charset: bool,
}

/// Query and form arguments for every method; a JSON body only where `json_allowed` (Slack
/// takes JSON for write methods). The token comes from `Authorization: Bearer` or a `token`
/// form field, never from the query string (no longer accepted for new apps).
pub(super) async fn read_call(request: Request, json_allowed: bool) -> Call {
    let (parts, body) = request.into_parts();
    let mut args = Map::new();
    for (k, v) in pairs(parts.uri.query().unwrap_or_default()) {
        args.insert(k, json!(v));
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let mut token = bearer(&parts.headers).map(str::to_owned);
    let mut missing_charset = false;
    if content_type.starts_with("application/json") {
        if json_allowed {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes) {
                args.extend(map);
            }
        }
        missing_charset = !content_type.contains("charset");
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in pairs(&String::from_utf8_lossy(&bytes)) {
            if k == "token" {
                token.get_or_insert(v);
            } else {
                args.insert(k, json!(v));
            }
        }
    }
    Call {
        token,
        args,
        missing_charset,
    }
}

impl Call {
    pub(super) fn arg(&self, name: &str) -> Option<String> {
        match self.args.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}
