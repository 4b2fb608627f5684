use roster_testkit::spawn;
use serde_json::json;

#[tokio::test]
async fn health_and_readiness() {
    let t = spawn().await;
    let a = t.get("/healthz").send().await;
    assert_eq!((a.status, a.body.clone()), (200, json!({"status": "ok"})));
    let a = t.get("/readyz").send().await;
    assert_eq!(
        (a.status, a.body.clone()),
        (200, json!({"status": "ready", "database": "ok"}))
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let t = spawn().await;
    t.store.close().await;
    let a = t.get("/readyz").send().await;
    assert_eq!(a.status, 503, "{}", a.text);
    assert_eq!(a.body["status"], "not_ready");
    assert_eq!(
        t.get("/healthz").send().await.status,
        200,
        "liveness does not depend on the database"
    );
}

#[tokio::test]
async fn openapi_documents_every_endpoint_with_schemas_and_errors() {
    let t = spawn().await;
    let a = t.get("/openapi.json").send().await;
    assert_eq!(a.status, 200);
    assert!(a.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = a.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/openapi.json", "get"),
        ("/metrics", "get"),
        ("/api/me", "get"),
        ("/api/admin/users", "get"),
        ("/api/admin/users/{id}", "put"),
        ("/api/admin/users/{id}", "delete"),
        ("/api/admin/permissions", "get"),
        ("/api/admin/permissions", "put"),
        ("/api/admin/audit", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} documented");
        assert!(
            op["responses"]["200"].is_object(),
            "{method} {path} success answer"
        );
        if path.starts_with("/api/") {
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} documents 401"
            );
            assert!(
                op["responses"]["403"].is_object(),
                "{method} {path} documents 403"
            );
        }
    }
    assert!(paths["/api/admin/users/{id}"]["put"]["requestBody"].is_object());
    assert!(a.body["components"]["schemas"]["Problem"].is_object());
    assert!(a.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let t = spawn().await;
    let id = t.world.at("lead").user.id;
    t.put(&format!("/api/admin/users/{id}"))
        .as_user(t.world.at("employee"))
        .json(&json!({}))
        .send()
        .await;
    let unknown = t.get("/api/no-such-thing/secret-looking-path").send().await;
    assert_eq!(unknown.status, 404);
    let a = t.get("/metrics").send().await;
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").unwrap().starts_with("text/plain"));
    assert!(a.text.contains("roster_http_requests_total"), "{}", a.text);
    assert!(
        a.text.contains("route=\"/api/admin/users/{id}\""),
        "labels use the template, not the id"
    );
    assert!(!a.text.contains(&id.to_string()), "no ids in labels");
    assert!(a.text.contains("status=\"403\""));
    assert!(
        a.text.contains("route=\"unmatched\"") && a.text.contains("status=\"404\""),
        "unknown paths count, under one label"
    );
    assert!(
        !a.text.contains("secret-looking-path"),
        "raw paths never become labels"
    );
}
