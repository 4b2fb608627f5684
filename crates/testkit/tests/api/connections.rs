//! `/api/admin/connections`: every row of the contract's Connections table (user mappings
//! aside), against the provider fakes. Each endpoint: success, bad input naming the field,
//! 401, 403 for every other level, and the other organization never sees or changes it.

use chrono::Duration;
use roster_domain::Provider;
use roster_testkit::{Answer, Persona, TestApp, spawn};
use serde_json::{Value, json};

const EXEC: &str = "executive";

fn productive_body(t: &TestApp, token: &str) -> Value {
    json!({"api_token": token, "organization_id": t.fakes.productive.organization_id()})
}

fn slack_channel(t: &TestApp) -> &'static str {
    t.fakes
        .slack
        .channels()
        .iter()
        .find(|c| c.is_member && !c.is_archived)
        .unwrap()
        .id
}

fn google_body(t: &TestApp) -> Value {
    json!({
        "service_account_key": t.fakes.google.service_account_key_json(),
        "calendar_id": t.fakes.google.leave_calendar_id(),
    })
}

fn remote_token(t: &TestApp, name: &str) -> String {
    format!("{}{name}", t.fakes.remote.token_prefix())
}

/// Sends `method path` with an optional JSON body, as `who` (anonymous when `None`).
async fn send_as(
    t: &TestApp,
    who: Option<&Persona>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    let mut call = t.call(method.parse().unwrap(), path);
    if let Some(p) = who {
        call = call.as_user(p);
    }
    match body {
        Some(b) => call.json(b).send().await,
        None => call.send().await,
    }
}

async fn exec_call(t: &TestApp, method: &str, path: &str, body: Option<Value>) -> Answer {
    send_as(t, Some(t.world.at(EXEC)), method, path, body.as_ref()).await
}

async fn connections(t: &TestApp, exec: &roster_testkit::Persona) -> Vec<Value> {
    let a = t.get("/api/admin/connections").as_user(exec).send().await;
    assert_eq!(a.status, 200, "{}", a.text);
    a.body["connections"].as_array().unwrap().clone()
}

/// Runs Xero's flow as the demo does: authorize URL, the fake's consent, the callback.
async fn connect_xero(t: &TestApp) -> Answer {
    let auth = exec_call(t, "GET", "/api/admin/connections/xero/auth-url", None).await;
    assert_eq!(auth.status, 200, "{}", auth.text);
    let (code, state) = consent(auth.body["url"].as_str().unwrap()).await;
    exec_call(
        t,
        "POST",
        "/api/admin/connections/xero/callback",
        Some(json!({"code": code, "state": state})),
    )
    .await
}

async fn consent(authorize: &str) -> (String, String) {
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(authorize)
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    let get = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    (get("code"), get("state"))
}

#[tokio::test]
async fn every_connections_endpoint_is_for_executives_only() {
    let t = spawn().await;
    let routes: &[(&str, &str, Option<Value>)] = &[
        ("GET", "/api/admin/connections", None),
        ("GET", "/api/admin/connections/xero/auth-url", None),
        (
            "POST",
            "/api/admin/connections/xero/callback",
            Some(json!({"code": "c", "state": "s"})),
        ),
        ("DELETE", "/api/admin/connections/xero", None),
        (
            "PUT",
            "/api/admin/connections/productive",
            Some(json!({"api_token": "t"})),
        ),
        ("DELETE", "/api/admin/connections/productive", None),
        (
            "PUT",
            "/api/admin/connections/slack",
            Some(json!({"bot_token": "xoxb-1", "channel_id": "C1"})),
        ),
        ("DELETE", "/api/admin/connections/slack", None),
        (
            "PUT",
            "/api/admin/connections/google-workspace",
            Some(json!({"calendar_id": "c"})),
        ),
        ("DELETE", "/api/admin/connections/google-workspace", None),
        (
            "GET",
            "/api/admin/connections/google-workspace/status",
            None,
        ),
        ("GET", "/api/admin/connections/google-calendar/status", None),
        (
            "PUT",
            "/api/admin/connections/remote",
            Some(json!({"api_token": "t"})),
        ),
        ("DELETE", "/api/admin/connections/remote", None),
        ("GET", "/api/admin/connections/remote/status", None),
        (
            "PUT",
            "/api/admin/connections/scrapin",
            Some(json!({"api_key": "k"})),
        ),
        ("DELETE", "/api/admin/connections/scrapin", None),
        ("GET", "/api/admin/connections/scrapin/alerts-config", None),
        (
            "POST",
            "/api/admin/connections/scrapin/alerts-config",
            Some(json!({"webhook_url": "https://hooks.example.com/x"})),
        ),
    ];
    for (method, path, body) in routes {
        send_as(&t, None, method, path, body.as_ref())
            .await
            .assert_problem(401, "unauthenticated");
        for level in ["head", "manager", "lead", "employee"] {
            let a = send_as(&t, Some(t.world.at(level)), method, path, body.as_ref()).await;
            assert_eq!(a.status, 403, "{level} {method} {path}: {}", a.text);
        }
    }
    // Nothing was connected by any of them.
    assert!(connections(&t, t.world.at(EXEC)).await.is_empty());
}

#[tokio::test]
async fn productive_is_verified_stored_listed_and_kept_from_the_other_organization() {
    let t = spawn().await;
    let a = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/productive",
        Some(productive_body(&t, "good-token-1")),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["ok"], true);
    assert_eq!(a.body["org_name"], t.company.name);
    let list = connections(&t, t.world.at(EXEC)).await;
    assert_eq!(list.len(), 1);
    let c = &list[0];
    assert_eq!(
        (c["provider"].as_str(), c["status"].as_str()),
        (Some("productive"), Some("ok"))
    );
    assert_eq!(c["connected_by"], t.world.at(EXEC).user.id.to_string());
    assert!(
        c.get("last_error").is_some() && c["last_used_at"].is_string(),
        "{c}"
    );
    // The other organization sees nothing and cannot remove it.
    assert!(connections(&t, &t.world.globex_exec).await.is_empty());
    let theirs = t
        .delete("/api/admin/connections/productive")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    theirs.assert_problem(404, "not_found");
    assert_eq!(connections(&t, t.world.at(EXEC)).await.len(), 1);
    // A rejected token is a 422 naming the field; the stored one stays in force.
    let bad = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/productive",
        Some(productive_body(&t, "invalid-token")),
    )
    .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["api_token"]);
    let list = connections(&t, t.world.at(EXEC)).await;
    assert_eq!(list[0]["status"], "ok");
    // Bad input never reaches Productive.
    for (body, field) in [
        (json!({}), "api_token"),
        (json!({"api_token": ""}), "api_token"),
        (json!({"api_token": "two words"}), "api_token"),
        (json!({"api_token": "x".repeat(4097)}), "api_token"),
        (
            json!({"api_token": "t", "organization_id": "x".repeat(1001)}),
            "organization_id",
        ),
        (json!({"api_token": "t", "extra": 1}), "extra"),
        (
            json!({"api_token": "good-two-orgs-token"}),
            "organization_id",
        ),
        (
            json!({"api_token": "good-token-2", "organization_id": "999999"}),
            "organization_id",
        ),
    ] {
        let a = exec_call(
            &t,
            "PUT",
            "/api/admin/connections/productive",
            Some(body.clone()),
        )
        .await;
        a.assert_problem(422, "validation_failed");
        assert_eq!(a.error_fields(), [field], "{body}");
    }
    let gone = exec_call(&t, "DELETE", "/api/admin/connections/productive", None).await;
    assert_eq!(gone.status, 200, "{}", gone.text);
    assert!(connections(&t, t.world.at(EXEC)).await.is_empty());
    exec_call(&t, "DELETE", "/api/admin/connections/productive", None)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn slack_needs_a_bot_token_and_a_channel_the_bot_can_see() {
    let t = spawn().await;
    let channel = slack_channel(&t);
    for (body, field) in [
        (
            json!({"bot_token": "xoxp-user-token", "channel_id": channel}),
            "bot_token",
        ),
        (
            json!({"bot_token": "xoxb-ok", "channel_id": "general"}),
            "channel_id",
        ),
        (
            json!({"bot_token": "xoxb-ok", "channel_id": "C0NOSUCHCHAN"}),
            "channel_id",
        ),
        (
            json!({"bot_token": "xoxb-invalid", "channel_id": channel}),
            "bot_token",
        ),
        (json!({"channel_id": channel}), "bot_token"),
    ] {
        let a = exec_call(
            &t,
            "PUT",
            "/api/admin/connections/slack",
            Some(body.clone()),
        )
        .await;
        a.assert_problem(422, "validation_failed");
        assert_eq!(a.error_fields(), [field], "{body}");
    }
    let a = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/slack",
        Some(json!({"bot_token": "xoxb-good", "channel_id": channel})),
    )
    .await;
    assert_eq!(
        (a.status, &a.body),
        (200, &json!({"ok": true})),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn google_workspace_validates_the_key_and_reports_its_status() {
    let t = spawn().await;
    let status = |path: &'static str| exec_call(&t, "GET", path, None);
    let a = status("/api/admin/connections/google-workspace/status").await;
    assert_eq!(a.body, json!({"configured": false}));
    // A new connection needs the key; a key must be a service-account key with an RSA key.
    let no_key = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/google-workspace",
        Some(json!({"calendar_id": "c@group"})),
    )
    .await;
    assert_eq!(no_key.error_fields(), ["service_account_key"]);
    let mut broken: Value =
        serde_json::from_str(&t.fakes.google.service_account_key_json()).unwrap();
    broken["private_key"] =
        json!("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
    let mut body = google_body(&t);
    body["service_account_key"] = json!(broken.to_string());
    let bad = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/google-workspace",
        Some(body),
    )
    .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["service_account_key"]);
    let mut body = google_body(&t);
    body["calendar_id"] = json!("");
    let empty = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/google-workspace",
        Some(body),
    )
    .await;
    assert_eq!(empty.error_fields(), ["calendar_id"]);

    let ok = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/google-workspace",
        Some(google_body(&t)),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let a = status("/api/admin/connections/google-workspace/status").await;
    assert_eq!(
        a.body,
        json!({"configured": true, "calendar_id": t.fakes.google.leave_calendar_id()})
    );
    let legacy = status("/api/admin/connections/google-calendar/status").await;
    assert_eq!(legacy.body, json!({"configured": true}));
    // An update may leave the key out: the stored one is verified again and kept.
    let update = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/google-workspace",
        Some(json!({"calendar_id": t.fakes.google.leave_calendar_id()})),
    )
    .await;
    assert_eq!(update.status, 200, "{}", update.text);
    let theirs = t
        .get("/api/admin/connections/google-workspace/status")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    assert_eq!(theirs.body, json!({"configured": false}));
}

#[tokio::test]
async fn remote_status_asks_remote_and_a_rejected_token_is_502() {
    let t = spawn().await;
    let path = "/api/admin/connections/remote/status";
    assert_eq!(
        exec_call(&t, "GET", path, None).await.body,
        json!({"configured": false})
    );
    let token = remote_token(&t, "live-token");
    let a = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/remote",
        Some(json!({"api_token": token})),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let s = exec_call(&t, "GET", path, None).await;
    assert_eq!(s.status, 200, "{}", s.text);
    assert_eq!(s.body["configured"], true);
    assert_eq!(s.body["environment"], "production");
    assert!(s.body["company_name"].is_string() && s.body["company_status"].is_string());
    for (body, field) in [
        (
            json!({"api_token": token, "environment": "staging"}),
            "environment",
        ),
        (
            json!({"api_token": token, "company_id": "someone-else"}),
            "company_id",
        ),
    ] {
        let a = exec_call(
            &t,
            "PUT",
            "/api/admin/connections/remote",
            Some(body.clone()),
        )
        .await;
        a.assert_problem(422, "validation_failed");
        assert_eq!(a.error_fields(), [field], "{body}");
    }
    t.fakes.remote.revoke(&token);
    let rejected = exec_call(&t, "GET", path, None).await;
    rejected.assert_problem(502, "provider_error");
    assert!(!rejected.text.contains(&token), "no secret in the detail");
    let list = connections(&t, t.world.at(EXEC)).await;
    assert_eq!(list[0]["status"], "needs_reauth");
    assert!(
        list[0]["last_error"]
            .as_str()
            .is_some_and(|e| !e.contains(&token))
    );
}

#[tokio::test]
async fn removing_remote_clears_every_remote_employment_id_with_it() {
    let t = spawn().await;
    let token = remote_token(&t, "live-token");
    exec_call(
        &t,
        "PUT",
        "/api/admin/connections/remote",
        Some(json!({"api_token": token})),
    )
    .await;
    let person = t.world.at("lead").person.unwrap();
    let mut tx = t.store.begin().await.unwrap();
    tx.org(t.world.acme.id)
        .link_external_id(
            person,
            roster_domain::MappedProvider::Remote,
            "emp-123",
            t.app.clock.now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let a = exec_call(&t, "DELETE", "/api/admin/connections/remote", None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let mut tx = t.store.read().await.unwrap();
    let ids = tx
        .org(t.world.acme.id)
        .external_ids_of(person)
        .await
        .unwrap();
    assert!(ids.is_empty(), "{ids:?}");
}

#[tokio::test]
async fn scrapin_alerts_go_only_to_public_https_urls() {
    let t = spawn().await;
    let path = "/api/admin/connections/scrapin/alerts-config";
    assert_eq!(
        exec_call(&t, "GET", path, None).await.body,
        json!({"configured": false, "webhook_url": null})
    );
    let not_connected = exec_call(
        &t,
        "POST",
        path,
        Some(json!({"webhook_url": "https://hooks.example.com/roster"})),
    )
    .await;
    not_connected.assert_problem(409, "not_connected");
    let a = exec_call(
        &t,
        "PUT",
        "/api/admin/connections/scrapin",
        Some(json!({"api_key": "scrapinkey1"})),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    for url in [
        "http://hooks.example.com/roster",
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://hooks.private.test/roster",
        "https://user:pass@hooks.example.com/x",
        "https://localhost/hook",
    ] {
        let a = exec_call(&t, "POST", path, Some(json!({"webhook_url": url}))).await;
        a.assert_problem(422, "validation_failed");
        assert_eq!(a.error_fields(), ["webhook_url"], "{url}");
    }
    let ok = exec_call(
        &t,
        "POST",
        path,
        Some(json!({"webhook_url": "https://Hooks.Example.com./roster"})),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["webhook_url"], "https://hooks.example.com/roster");
    let read = exec_call(&t, "GET", path, None).await;
    assert_eq!(
        read.body,
        json!({"configured": true, "webhook_url": "https://hooks.example.com/roster"})
    );
}

#[tokio::test]
async fn xero_connects_through_state_and_pkce_and_a_state_works_once() {
    let t = spawn().await;
    let auth = exec_call(&t, "GET", "/api/admin/connections/xero/auth-url", None).await;
    assert_eq!(auth.status, 200, "{}", auth.text);
    let url = url::Url::parse(auth.body["url"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "roster-test");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(
        q["state"].len() >= 32 && q["code_challenge"].len() >= 43,
        "{q:?}"
    );
    let (code, state) = consent(url.as_str()).await;
    // Another organization's executive cannot finish it.
    let stolen = t
        .post("/api/admin/connections/xero/callback")
        .as_user(&t.world.globex_exec)
        .json(&json!({"code": code, "state": state}))
        .send()
        .await;
    stolen.assert_problem(400, "invalid_state");
    let done = exec_call(
        &t,
        "POST",
        "/api/admin/connections/xero/callback",
        Some(json!({"code": code, "state": state})),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["ok"], true);
    assert!(done.body["org_name"].is_string());
    let replayed = exec_call(
        &t,
        "POST",
        "/api/admin/connections/xero/callback",
        Some(json!({"code": code, "state": state})),
    )
    .await;
    replayed.assert_problem(400, "invalid_state");
    let unknown = exec_call(
        &t,
        "POST",
        "/api/admin/connections/xero/callback",
        Some(json!({"code": code, "state": "made-up"})),
    )
    .await;
    unknown.assert_problem(400, "invalid_state");
    // A state older than ten minutes is refused.
    let auth = exec_call(&t, "GET", "/api/admin/connections/xero/auth-url", None).await;
    let (code, state) = consent(auth.body["url"].as_str().unwrap()).await;
    t.clock.advance(Duration::minutes(11));
    let late = exec_call(
        &t,
        "POST",
        "/api/admin/connections/xero/callback",
        Some(json!({"code": code, "state": state})),
    )
    .await;
    late.assert_problem(400, "invalid_state");
    let list = connections(&t, t.world.at(EXEC)).await;
    assert_eq!(list[0]["provider"], "xero");
    assert!(list[0]["token_expires_at"].is_string());
}

#[tokio::test]
async fn twenty_calls_on_two_instances_refresh_an_expired_xero_token_once() {
    let t = spawn().await;
    assert_eq!(connect_xero(&t).await.status, 200);
    let refreshes_before = t.fakes.xero.calls().count("xero.token");
    // The access token expires now.
    t.clock.advance(Duration::minutes(30));
    let other = t.another_instance().await;
    let org = t.world.acme.id;
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let app = if i % 2 == 0 {
                t.app.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move { app.xero_access(org).await })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for call in calls {
        let access = call.await.unwrap().expect("every caller gets a token");
        tokens.insert(roster_vault::ExposeSecret::expose_secret(&access.access_token).to_owned());
    }
    assert_eq!(
        t.fakes.xero.calls().count("xero.token") - refreshes_before,
        1,
        "exactly one refresh at Xero"
    );
    assert_eq!(
        tokens.len(),
        1,
        "everyone uses the token the refresh stored"
    );
    // The new token works for a payroll call.
    let access = t.app.xero_access(org).await.unwrap();
    assert_eq!(
        t.fakes.xero.calls().count("xero.token") - refreshes_before,
        1
    );
    assert_eq!(access.tenant_id, t.fakes.xero.tenant_id());
}

#[tokio::test]
async fn an_invalid_grant_marks_xero_needs_reauth_and_keeps_the_row() {
    let t = spawn().await;
    assert_eq!(connect_xero(&t).await.status, 200);
    t.clock.advance(Duration::minutes(30));
    // Someone revokes the grant at Xero: the stored refresh token is now refused.
    let row = t
        .store
        .read_connection(t.world.acme.id, Provider::Xero)
        .await
        .unwrap()
        .unwrap();
    let sealed = roster_vault::Sealed::from_bytes(&row.secret).unwrap();
    let plain = t
        .keys
        .decrypt(
            &sealed,
            &roster_app::secrets::connection(t.world.acme.id, Provider::Xero),
        )
        .unwrap();
    let stored: Value =
        serde_json::from_slice(roster_vault::ExposeSecret::expose_secret(&plain)).unwrap();
    t.fakes
        .xero
        .revoke(stored["refresh_token"].as_str().unwrap());
    let err = t.app.xero_access(t.world.acme.id).await.unwrap_err();
    assert!(
        matches!(err, roster_app::Error::Provider(ref e) if e.is_needs_reauth()),
        "{err:?}"
    );
    let list = connections(&t, t.world.at(EXEC)).await;
    assert_eq!(
        (list.len(), list[0]["status"].as_str()),
        (1, Some("needs_reauth"))
    );
    let again = t.app.xero_access(t.world.acme.id).await.unwrap_err();
    assert!(
        matches!(again, roster_app::Error::NeedsReauth(Provider::Xero)),
        "{again:?}"
    );
    let audit = t
        .get("/api/admin/audit?action=connection.needs_reauth")
        .as_user(t.world.at(EXEC))
        .send()
        .await;
    assert_eq!(
        audit.body["events"].as_array().unwrap().len(),
        1,
        "{}",
        audit.text
    );
}

#[tokio::test]
async fn a_sealed_credential_differs_each_time_and_opens_only_where_it_was_saved() {
    let t = spawn().await;
    let token = remote_token(&t, "same-token");
    let save = || {
        exec_call(
            &t,
            "PUT",
            "/api/admin/connections/remote",
            Some(json!({"api_token": token})),
        )
    };
    assert_eq!(save().await.status, 200);
    let sealed = |org| {
        let store = t.store.clone();
        async move {
            let c = store
                .read_connection(org, Provider::Remote)
                .await
                .unwrap()
                .unwrap();
            c.secret
        }
    };
    let first = sealed(t.world.acme.id).await;
    assert_eq!(save().await.status, 200);
    let second = sealed(t.world.acme.id).await;
    assert_ne!(first, second, "a fresh nonce each time");
    // Copied to the other organization's row, it does not open there.
    let theirs = t
        .put("/api/admin/connections/remote")
        .as_user(&t.world.globex_exec)
        .json(&json!({"api_token": remote_token(&t, "globex-token")}))
        .send()
        .await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    let mut row = t
        .store
        .read_connection(t.world.acme.id, Provider::Remote)
        .await
        .unwrap()
        .unwrap();
    row.secret = second.clone();
    let mut tx = t.store.begin().await.unwrap();
    tx.org(t.world.globex.id)
        .save_connection(&row)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let status = t
        .get("/api/admin/connections/remote/status")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    status.assert_problem(500, "internal_error");
}

/// Every log line of this test, at debug level (the server runs on the test's thread).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[tokio::test]
async fn a_canary_credential_appears_in_no_answer_no_log_line_and_no_audit_detail() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let t = spawn().await;
    let canary = "canary7d3f9a2b";
    let bodies = [
        (
            "/api/admin/connections/productive",
            json!({"api_token": format!("{canary}-p"), "organization_id": t.fakes.productive.organization_id()}),
        ),
        (
            "/api/admin/connections/slack",
            json!({"bot_token": format!("xoxb-{canary}"), "channel_id": slack_channel(&t)}),
        ),
        (
            "/api/admin/connections/remote",
            json!({"api_token": remote_token(&t, canary)}),
        ),
        (
            "/api/admin/connections/scrapin",
            json!({"api_key": format!("{canary}s")}),
        ),
        (
            "/api/admin/connections/productive",
            json!({"api_token": format!("{canary}-invalid")}),
        ),
    ];
    let mut seen = String::new();
    for (path, body) in bodies {
        let a = exec_call(&t, "PUT", path, Some(body)).await;
        seen.push_str(&a.text);
    }
    for path in [
        "/api/admin/connections",
        "/api/admin/connections/remote/status",
        "/api/admin/connections/scrapin/alerts-config",
        "/api/admin/audit",
    ] {
        seen.push_str(&exec_call(&t, "GET", path, None).await.text);
    }
    assert!(seen.contains("connection.create"), "the audit log was read");
    assert!(!seen.contains(canary), "a secret leaked: {seen}");
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("request"), "logs were captured: {logged}");
    assert!(!logged.contains(canary), "a secret was logged: {logged}");
}

/// Connects every provider in acme, as an executive would.
async fn connect_everything(t: &TestApp) {
    for (path, body) in [
        (
            "/api/admin/connections/productive",
            productive_body(t, "good-token"),
        ),
        (
            "/api/admin/connections/slack",
            json!({"bot_token": "xoxb-good", "channel_id": slack_channel(t)}),
        ),
        ("/api/admin/connections/google-workspace", google_body(t)),
        (
            "/api/admin/connections/remote",
            json!({"api_token": remote_token(t, "live")}),
        ),
        (
            "/api/admin/connections/scrapin",
            json!({"api_key": "scrapinkey1"}),
        ),
    ] {
        let a = exec_call(t, "PUT", path, Some(body)).await;
        assert_eq!(a.status, 200, "{path}: {}", a.text);
    }
    assert_eq!(connect_xero(t).await.status, 200);
}

#[tokio::test]
async fn the_other_organization_never_sees_or_removes_acmes_connections() {
    let t = spawn().await;
    connect_everything(&t).await;
    assert_eq!(connections(&t, t.world.at(EXEC)).await.len(), 6);
    let globex = &t.world.globex_exec;
    assert!(connections(&t, globex).await.is_empty());
    for (path, unconfigured) in [
        (
            "/api/admin/connections/google-workspace/status",
            json!({"configured": false}),
        ),
        (
            "/api/admin/connections/google-calendar/status",
            json!({"configured": false}),
        ),
        (
            "/api/admin/connections/remote/status",
            json!({"configured": false}),
        ),
        (
            "/api/admin/connections/scrapin/alerts-config",
            json!({"configured": false, "webhook_url": null}),
        ),
    ] {
        let a = t.get(path).as_user(globex).send().await;
        assert_eq!(a.body, unconfigured, "{path}");
    }
    for provider in [
        "xero",
        "productive",
        "slack",
        "google-workspace",
        "remote",
        "scrapin",
    ] {
        let a = t
            .delete(&format!("/api/admin/connections/{provider}"))
            .as_user(globex)
            .send()
            .await;
        a.assert_problem(404, "not_found");
    }
    assert_eq!(
        connections(&t, t.world.at(EXEC)).await.len(),
        6,
        "acme's are all still there"
    );
}

#[tokio::test]
async fn every_connection_can_be_removed_and_xero_is_revoked_first() {
    let t = spawn().await;
    connect_everything(&t).await;
    let revocations = t.fakes.xero.calls().count("xero.revocation");
    for provider in [
        "xero",
        "productive",
        "slack",
        "google-workspace",
        "remote",
        "scrapin",
    ] {
        let a = exec_call(
            &t,
            "DELETE",
            &format!("/api/admin/connections/{provider}"),
            None,
        )
        .await;
        assert_eq!(
            (a.status, &a.body),
            (200, &json!({"ok": true})),
            "{provider}: {}",
            a.text
        );
    }
    assert_eq!(
        t.fakes.xero.calls().count("xero.revocation") - revocations,
        1
    );
    assert!(connections(&t, t.world.at(EXEC)).await.is_empty());
    let audit = exec_call(&t, "GET", "/api/admin/audit?action=connection.delete", None).await;
    assert_eq!(
        audit.body["events"].as_array().unwrap().len(),
        6,
        "{}",
        audit.text
    );
}

#[tokio::test]
async fn a_secret_copied_to_another_providers_row_does_not_open() {
    let t = spawn().await;
    connect_everything(&t).await;
    let org = t.world.acme.id;
    let remote = t
        .store
        .read_connection(org, Provider::Remote)
        .await
        .unwrap()
        .unwrap();
    let mut scrapin = t
        .store
        .read_connection(org, Provider::Scrapin)
        .await
        .unwrap()
        .unwrap();
    scrapin.secret = remote.secret;
    let mut tx = t.store.begin().await.unwrap();
    tx.org(org).save_connection(&scrapin).await.unwrap();
    tx.commit().await.unwrap();
    // Saving without a key opens the stored one: it must fail, not be sent to Scrapin.
    let a = exec_call(&t, "PUT", "/api/admin/connections/scrapin", Some(json!({}))).await;
    a.assert_problem(500, "internal_error");
}

#[tokio::test]
async fn a_service_account_key_appears_in_no_answer_and_no_audit_detail() {
    let t = spawn().await;
    let key_json = t.fakes.google.service_account_key_json();
    let key: Value = serde_json::from_str(&key_json).unwrap();
    let pem = key["private_key"].as_str().unwrap();
    // A stretch from the middle of the private key: no answer may carry any of it.
    let fragment: String = pem.lines().nth(3).unwrap().chars().take(40).collect();
    let mut seen = String::new();
    seen.push_str(
        &exec_call(
            &t,
            "PUT",
            "/api/admin/connections/google-workspace",
            Some(google_body(&t)),
        )
        .await
        .text,
    );
    for path in [
        "/api/admin/connections",
        "/api/admin/connections/google-workspace/status",
        "/api/admin/audit",
    ] {
        seen.push_str(&exec_call(&t, "GET", path, None).await.text);
    }
    assert!(
        fragment.len() == 40 && !seen.contains(&fragment),
        "the key leaked: {seen}"
    );
}
