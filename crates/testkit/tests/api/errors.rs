use roster_testkit::spawn;
use serde_json::json;

#[tokio::test]
async fn unknown_routes_and_methods_answer_problems() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    t.get("/api/nowhere")
        .as_user(exec)
        .send()
        .await
        .assert_problem(404, "not_found");
    t.post("/api/admin/users")
        .as_user(exec)
        .json(&json!({}))
        .send()
        .await
        .assert_problem(405, "method_not_allowed");
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let big = format!("{{\"location\": \"{}\"}}", "x".repeat(1024 * 1024 + 1));
    let a = t
        .put(&format!("/api/admin/users/{}", t.world.at("lead").user.id))
        .as_user(exec)
        .raw(big)
        .send()
        .await;
    a.assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_sane_one_is_kept() {
    let t = spawn().await;
    let a = t.get("/healthz").send().await;
    let id = a.header("x-request-id").expect("request id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let a = t
        .get("/api/me")
        .header("x-request-id", "trace-abc-123")
        .send()
        .await;
    assert_eq!(a.header("x-request-id"), Some("trace-abc-123"));
    assert_eq!(a.status, 401);
}
