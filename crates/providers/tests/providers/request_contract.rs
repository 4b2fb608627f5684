//! Contract test of the clients' requests: every request a client sent to a fake must be an
//! operation of the provider's published spec (the copies in `crates/fakes/spec/`), with only
//! query parameters the spec declares and every parameter and header it requires.
//!
//! The fakes' own contract test (`crates/fakes/tests/contract.rs`) checks their answers; this
//! one checks the other direction, so a misspelt parameter in a client fails here even if the
//! fake happens to tolerate it. The fakes record names only, never values.

use roster_fakes::faults::SeenRequest;
use serde_json::Value;

pub fn load_yaml(relative: &str) -> Value {
    serde_yaml_ng::from_str(&roster_fakes::spec_text(relative).unwrap()).unwrap()
}

pub fn load_json(relative: &str) -> Value {
    serde_json::from_str(&roster_fakes::spec_text(relative).unwrap()).unwrap()
}

/// One parameter as both spec dialects describe it.
#[derive(Debug)]
struct Param {
    name: String,
    location: String,
    required: bool,
}

/// Whether a spec path template and a fake's route template name the same resource: the
/// same literal segments (case-insensitively: Xero spells `/Connections`, clients send
/// `/connections`) and a parameter wherever the other has one.
fn same_template(spec: &str, route: &str) -> bool {
    let is_param = |s: &str| s.starts_with('{') && s.ends_with('}');
    let a: Vec<&str> = spec.trim_matches('/').split('/').collect();
    let b: Vec<&str> = route.trim_matches('/').split('/').collect();
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            (is_param(x) && is_param(y)) || (!is_param(x) && x.eq_ignore_ascii_case(y))
        })
}

/// Checks the requests of one operation against its declared parameters.
fn check_params(r: &SeenRequest, params: &[Param], out: &mut Vec<String>) {
    let at = format!("{} {} ({})", r.method, r.route, r.operation);
    for q in &r.query_names {
        if !params.iter().any(|p| p.location == "query" && &p.name == q) {
            out.push(format!("{at}: query parameter {q:?} is not in the spec"));
        }
    }
    for p in params.iter().filter(|p| p.required) {
        let sent = match p.location.as_str() {
            "query" => r.query_names.contains(&p.name),
            "header" => r.header_names.contains(&p.name.to_ascii_lowercase()),
            // Path parameters are in the route by construction.
            _ => true,
        };
        if !sent {
            out.push(format!(
                "{at}: required {} parameter {:?} missing",
                p.location, p.name
            ));
        }
    }
}

/// OpenAPI 3 (Xero): `prefix` is the spec server's path (`/payroll.xro/1.0`, or `` for the
/// identity spec). Requests whose route lies outside the prefix are not this spec's.
pub fn openapi_violations(spec: &Value, prefix: &str, requests: &[SeenRequest]) -> Vec<String> {
    let resolve = |p: &Value| -> Value {
        match p.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.trim_start_matches("#/components/parameters/");
                spec["components"]["parameters"][name].clone()
            }
            None => p.clone(),
        }
    };
    let mut out = Vec::new();
    for r in requests {
        let Some(path) = r.route.strip_prefix(prefix) else {
            continue;
        };
        let paths = spec["paths"].as_object().unwrap();
        let Some((_, item)) = paths.iter().find(|(p, _)| same_template(p, path)) else {
            out.push(format!(
                "{} {}: no such path in the spec",
                r.method, r.route
            ));
            continue;
        };
        let method = r.method.as_str().to_ascii_lowercase();
        let Some(op) = item.get(&method) else {
            out.push(format!(
                "{} {}: no such method in the spec",
                r.method, r.route
            ));
            continue;
        };
        let params: Vec<Param> = [&item["parameters"], &op["parameters"]]
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| {
                let p = resolve(p);
                Param {
                    name: p["name"].as_str().unwrap_or_default().to_owned(),
                    location: p["in"].as_str().unwrap_or_default().to_owned(),
                    required: p["required"].as_bool().unwrap_or(false),
                }
            })
            .collect();
        check_params(r, &params, &mut out);
    }
    out
}

/// A Google discovery document: every method, by its full path, with its parameters and the
/// document's global ones (`fields`, `key`, `prettyPrint`, ...).
pub fn discovery_violations(doc: &Value, requests: &[SeenRequest]) -> Vec<String> {
    fn methods<'a>(resources: &'a Value, out: &mut Vec<&'a Value>) {
        for resource in resources.as_object().into_iter().flat_map(|o| o.values()) {
            out.extend(
                resource["methods"]
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.values()),
            );
            methods(&resource["resources"], out);
        }
    }
    let params_of = |v: &Value| -> Vec<Param> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(name, p)| Param {
                name: name.clone(),
                location: p["location"].as_str().unwrap_or_default().to_owned(),
                required: p["required"].as_bool().unwrap_or(false),
            })
            .collect()
    };
    let service = doc["servicePath"].as_str().unwrap_or_default();
    let mut all = Vec::new();
    methods(&doc["resources"], &mut all);
    let mut out = Vec::new();
    for r in requests {
        let found = all.iter().find(|m| {
            let full = format!("{service}{}", m["path"].as_str().unwrap_or_default());
            m["httpMethod"].as_str() == Some(r.method.as_str()) && same_template(&full, &r.route)
        });
        let Some(method) = found else {
            out.push(format!(
                "{} {}: no such method in the spec",
                r.method, r.route
            ));
            continue;
        };
        let mut params = params_of(&method["parameters"]);
        params.extend(params_of(&doc["parameters"]));
        check_params(r, &params, &mut out);
    }
    out
}

#[test]
fn the_checker_catches_what_it_must() {
    let spec = load_yaml("xero/xero-payroll-au.yaml");
    let seen = |route: &str, query: &[&str], headers: &[&str]| SeenRequest {
        operation: "test".to_owned(),
        method: http::Method::GET,
        route: route.to_owned(),
        query_names: query.iter().map(|s| (*s).to_owned()).collect(),
        header_names: headers.iter().map(|s| (*s).to_owned()).collect(),
    };
    let prefix = "/payroll.xro/1.0";
    for (request, problems) in [
        (
            seen("/payroll.xro/1.0/Employees", &["page"], &["xero-tenant-id"]),
            0,
        ),
        (
            seen(
                "/payroll.xro/1.0/Employees",
                &["pageSize"],
                &["xero-tenant-id"],
            ),
            1,
        ),
        (seen("/payroll.xro/1.0/Employees", &["page"], &[]), 1),
        (seen("/payroll.xro/1.0/Staff", &[], &["xero-tenant-id"]), 1),
    ] {
        let found = openapi_violations(&spec, prefix, std::slice::from_ref(&request));
        assert_eq!(found.len(), problems, "{request:?}: {found:?}");
    }
}
