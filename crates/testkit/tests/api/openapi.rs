//! `docs/openapi.json` is the document `GET /openapi.json` serves, checked in so that a
//! reader of the repository (and a reviewer of a diff) sees the API without running it.

use roster_testkit::spawn;
use serde_json::Value;

/// The one command that rewrites the checked-in document from the code.
const REGENERATE: &str = "bash scripts/openapi.sh";

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

/// Where two JSON values first differ, as a readable path, with both sides; `None` when equal.
/// Object keys are visited in sorted order, so the answer does not depend on key order.
fn first_difference(served: &Value, file: &Value, path: &str) -> Option<String> {
    fn short(v: Option<&Value>) -> String {
        let text = v.map_or_else(|| "(absent)".to_owned(), ToString::to_string);
        if text.chars().count() > 120 {
            format!("{}…", text.chars().take(120).collect::<String>())
        } else {
            text
        }
    }
    fn key_path(path: &str, key: &str) -> String {
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            format!("{path}.{key}")
        } else {
            format!("{path}[{key:?}]")
        }
    }
    match (served, file) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|k| {
                let here = key_path(path, k);
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => first_difference(x, y, &here),
                    (x, y) => Some(format!("{here}: served {}, file {}", short(x), short(y))),
                }
            })
        }
        (Value::Array(a), Value::Array(b)) => (0..a.len().max(b.len())).find_map(|i| {
            let here = format!("{path}[{i}]");
            match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) => first_difference(x, y, &here),
                (x, y) => Some(format!("{here}: served {}, file {}", short(x), short(y))),
            }
        }),
        (a, b) if a == b => None,
        (a, b) => Some(format!(
            "{path}: served {}, file {}",
            short(Some(a)),
            short(Some(b))
        )),
    }
}

#[tokio::test]
async fn checked_in_document_matches_the_served_one() {
    let t = spawn().await;
    let served = t.get("/openapi.json").send().await;
    assert_eq!(served.status, 200, "{}", served.text);
    let text = std::fs::read_to_string(CHECKED_IN).unwrap_or_else(|e| {
        panic!("cannot read docs/openapi.json ({e}); create it with: {REGENERATE}")
    });
    let file: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("docs/openapi.json is not JSON ({e}); regenerate it with: {REGENERATE}")
    });
    if let Some(diff) = first_difference(&served.body, &file, "$") {
        panic!(
            "docs/openapi.json differs from the document the server serves; first difference at \
             {diff}.\nRegenerate it with: {REGENERATE}"
        );
    }
}

#[test]
fn first_difference_names_the_path_and_both_sides() {
    let served = serde_json::json!({"paths": {"/api/me": {"get": {"tags": ["me"]}}}, "a": [1, 2]});
    for (file, expected) in [
        (served.clone(), None),
        (
            serde_json::json!({"paths": {"/api/me": {"get": {"tags": ["you"]}}}, "a": [1, 2]}),
            Some(r#"$.paths["/api/me"].get.tags[0]: served "me", file "you""#),
        ),
        (
            serde_json::json!({"paths": {"/api/me": {"get": {"tags": ["me"]}}}, "a": [1]}),
            Some("$.a[1]: served 2, file (absent)"),
        ),
        (
            serde_json::json!({"paths": {"/api/me": {"get": {"tags": ["me"]}}}, "a": [1, 2], "b": true}),
            Some("$.b: served (absent), file true"),
        ),
    ] {
        assert_eq!(
            first_difference(&served, &file, "$").as_deref(),
            expected,
            "{file}"
        );
    }
}
