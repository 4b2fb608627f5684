use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::StatusCode;
use roster_domain::Clock as _;
use roster_fakes::Fault;
use roster_fakes::google::{
    GoogleFake, Limits, SCOPE_CALENDAR_READONLY, SCOPE_DIRECTORY_USER_READONLY, ServiceAccount, ops,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{clock, company, fetch_json, http, redirect_param};

/// Signs a JWT-bearer assertion with the key file the fake hands out, as a client library would.
fn assertion(fake: &GoogleFake, now: i64, claims: &Value) -> String {
    let key: Value = serde_json::from_str(&fake.service_account_key_json()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = key["private_key_id"].as_str().map(str::to_owned);
    let mut full = json!({
        "iss": key["client_email"],
        "scope": SCOPE_DIRECTORY_USER_READONLY,
        "aud": key["token_uri"],
        "iat": now,
        "exp": now + 3600,
        "sub": fake_admin(),
    });
    for (k, v) in claims.as_object().unwrap() {
        if v.is_null() {
            full.as_object_mut().unwrap().remove(k);
        } else {
            full[k] = v.clone();
        }
    }
    let encoding =
        EncodingKey::from_rsa_pem(key["private_key"].as_str().unwrap().as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &full, &encoding).unwrap()
}

fn fake_admin() -> String {
    company().google_admin().email.clone().unwrap()
}

async fn exchange(fake: &GoogleFake, jwt: &str) -> reqwest::Response {
    http()
        .post(fake.token_url())
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jwt),
        ])
        .send()
        .await
        .unwrap()
}

async fn users(fake: &GoogleFake, token: &str, query: &str) -> reqwest::Response {
    http()
        .get(format!("{}/users?{query}", fake.directory_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn service_account_jwt_buys_a_token_that_lists_every_user_page_by_page() {
    let (manual, clock) = clock();
    let company = company();
    let fake = GoogleFake::start(company.clone(), clock).await.unwrap();
    let response = exchange(
        &fake,
        &assertion(&fake, manual.now().timestamp(), &json!({})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().unwrap();

    let mut page_token: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let query = match &page_token {
            Some(t) => format!("customer=my_customer&maxResults=100&pageToken={t}"),
            None => "customer=my_customer&maxResults=100".to_owned(),
        };
        let body: Value = users(&fake, token, &query).await.json().await.unwrap();
        assert_eq!(body["kind"], "admin#directory#users");
        pages += 1;
        seen.extend(body["users"].as_array().unwrap().iter().cloned());
        match body.get("nextPageToken") {
            Some(t) => page_token = Some(t.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    let expected = company
        .people
        .iter()
        .filter(|p| p.google_id.is_some())
        .count()
        + 1;
    assert_eq!(
        seen.len(),
        expected,
        "every account once, the kiosk included"
    );
    assert_eq!(pages, expected.div_ceil(100));

    let leaver = company
        .people
        .iter()
        .find(|p| p.is_leaver && p.google_id.is_some())
        .unwrap();
    let row = seen
        .iter()
        .find(|u| u["primaryEmail"] == leaver.email.as_deref().unwrap())
        .unwrap();
    assert_eq!(row["suspended"], true);
    let report = company
        .people
        .iter()
        .find(|p| p.google_id.is_some() && p.level == roster_company::Level::Staff)
        .unwrap();
    let row = seen
        .iter()
        .find(|u| u["primaryEmail"] == report.email.as_deref().unwrap())
        .unwrap();
    let manager_email = company.people[report.manager.unwrap()]
        .email
        .as_deref()
        .unwrap();
    assert_eq!(
        row["relations"],
        json!([{ "value": manager_email, "type": "manager" }])
    );
    assert_eq!(row["organizations"][0]["title"], report.title.as_str());
}

#[tokio::test]
async fn bad_assertions_get_googles_token_errors() {
    let (manual, clock) = clock();
    let fake = GoogleFake::start(company(), clock).await.unwrap();
    let now = manual.now().timestamp();
    let timeframe = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
    for (claims, status, error, description) in [
        (
            json!({ "exp": now + 3601 }),
            400,
            "invalid_grant",
            timeframe,
        ),
        (
            json!({ "iat": now - 7200, "exp": now - 3600 }),
            400,
            "invalid_grant",
            timeframe,
        ),
        (
            json!({ "iat": now + 900, "exp": now + 1800 }),
            400,
            "invalid_grant",
            timeframe,
        ),
        (
            json!({ "aud": "https://example.test/token" }),
            400,
            "invalid_grant",
            "Invalid JWT: Failed audience check.",
        ),
        (
            json!({ "sub": "nobody@elsewhere.test" }),
            400,
            "invalid_grant",
            "Invalid email or User ID",
        ),
        (
            json!({ "scope": "https://www.googleapis.com/auth/admin.directory.group" }),
            401,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        ),
    ] {
        let response = exchange(&fake, &assertion(&fake, now, &claims)).await;
        assert_eq!(response.status().as_u16(), status, "{claims}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (body["error"].as_str(), body["error_description"].as_str()),
            (Some(error), Some(description)),
            "{claims}"
        );
    }

    let jwt = assertion(&fake, now, &json!({}));
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["scope"] = json!(format!(
        "{SCOPE_DIRECTORY_USER_READONLY} {SCOPE_CALENDAR_READONLY}"
    ));
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let tampered = exchange(&fake, &parts.join(".")).await;
    assert_eq!(
        tampered.json::<Value>().await.unwrap()["error_description"],
        "Invalid JWT Signature."
    );
}

#[tokio::test]
async fn registered_service_accounts_are_verified_with_their_own_key() {
    let (manual, clock) = clock();
    let fake = GoogleFake::start(company(), clock).await.unwrap();
    fake.require_known_service_accounts(true);
    let other = "directory-sync@customer-project.iam.gserviceaccount.com";
    let now = manual.now().timestamp();
    let jwt = assertion(&fake, now, &json!({ "iss": other }));
    assert_eq!(
        exchange(&fake, &jwt).await.status(),
        StatusCode::BAD_REQUEST,
        "not registered yet"
    );
    // Same throwaway key pair as the built-in account, under another name.
    let public = shipped_public_key();
    let mut account = ServiceAccount::new(other, public);
    account.delegated_scopes = vec![SCOPE_DIRECTORY_USER_READONLY.to_owned()];
    fake.register_service_account(account);
    assert_eq!(exchange(&fake, &jwt).await.status(), StatusCode::OK);
    let calendar = assertion(
        &fake,
        now,
        &json!({ "iss": other, "scope": SCOPE_CALENDAR_READONLY }),
    );
    assert_eq!(
        exchange(&fake, &calendar).await.status(),
        StatusCode::UNAUTHORIZED,
        "scope not delegated to this account"
    );
}

/// The public half of the throwaway key in `keys/`.
fn shipped_public_key() -> String {
    std::fs::read_to_string(format!(
        "{}/keys/service_account.pub.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test]
async fn unknown_service_accounts_follow_the_demo_rule_unless_strict() {
    let (manual, clock) = clock();
    let fake = GoogleFake::start(company(), clock).await.unwrap();
    let now = manual.now().timestamp();
    let stranger = assertion(
        &fake,
        now,
        &json!({ "iss": "someone@their-project.iam.gserviceaccount.com" }),
    );
    assert_eq!(exchange(&fake, &stranger).await.status(), StatusCode::OK);
    let named_invalid = assertion(
        &fake,
        now,
        &json!({ "iss": "invalid@their-project.iam.gserviceaccount.com" }),
    );
    assert_eq!(
        exchange(&fake, &named_invalid)
            .await
            .json::<Value>()
            .await
            .unwrap()["error"],
        "invalid_grant"
    );
    fake.require_known_service_accounts(true);
    assert_eq!(
        exchange(&fake, &stranger).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn directory_needs_an_admin_subject_and_customer_or_domain() {
    let (_, clock) = clock();
    let company = company();
    let fake = GoogleFake::start(company.clone(), clock).await.unwrap();
    let admin = fake.issue_access_token(Some(&fake_admin()), &[SCOPE_DIRECTORY_USER_READONLY]);
    let missing = users(&fake, &admin, "maxResults=10").await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["errors"][0],
        json!({ "message": "Invalid Input", "domain": "global", "reason": "invalid" })
    );
    assert_eq!(
        users(&fake, &admin, &format!("domain={}", company.domain))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        users(&fake, &admin, "customer=my_customer&maxResults=501")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    let staff = company
        .people
        .iter()
        .find(|p| p.google_id.is_some() && !p.is_google_admin && p.is_active)
        .unwrap();
    let not_admin =
        fake.issue_access_token(staff.email.as_deref(), &[SCOPE_DIRECTORY_USER_READONLY]);
    let refused = users(&fake, &not_admin, "customer=my_customer").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"]["errors"][0]["reason"],
        "forbidden"
    );
    let no_sub = fake.issue_access_token(None, &[SCOPE_DIRECTORY_USER_READONLY]);
    assert_eq!(
        users(&fake, &no_sub, "customer=my_customer").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn expired_tokens_get_the_auth_error_envelope() {
    let (manual, clock) = clock();
    let fake = GoogleFake::start(company(), clock).await.unwrap();
    let token = fake.issue_access_token(Some(&fake_admin()), &[SCOPE_DIRECTORY_USER_READONLY]);
    assert_eq!(
        users(&fake, &token, "customer=my_customer").await.status(),
        StatusCode::OK
    );
    manual.advance(chrono::Duration::seconds(3600));
    let expired = users(&fake, &token, "customer=my_customer").await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let body: Value = expired.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(
        body["error"]["errors"][0],
        json!({"message": "Invalid Credentials", "domain": "global", "reason": "authError", "location": "Authorization", "locationType": "header"})
    );
    let anonymous = http()
        .get(format!(
            "{}/users?customer=my_customer",
            fake.directory_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["error"]["errors"][0]["reason"],
        "required"
    );
}

#[tokio::test]
async fn quota_is_a_403_user_rate_limit_until_the_minute_passes() {
    let (manual, clock) = clock();
    let fake = GoogleFake::start_with(
        company(),
        clock,
        Limits {
            per_user_per_minute: 3,
        },
    )
    .await
    .unwrap();
    let token = fake.issue_access_token(Some(&fake_admin()), &[SCOPE_DIRECTORY_USER_READONLY]);
    for _ in 0..3 {
        assert_eq!(
            users(&fake, &token, "customer=my_customer").await.status(),
            StatusCode::OK
        );
    }
    let limited = users(&fake, &token, "customer=my_customer").await;
    assert_eq!(
        limited.status(),
        StatusCode::FORBIDDEN,
        "Google answers quota with 403, not 429"
    );
    let body: Value = limited.json().await.unwrap();
    assert_eq!(
        body["error"]["errors"][0]["reason"],
        "userRateLimitExceeded"
    );
    manual.advance(chrono::Duration::seconds(60));
    assert_eq!(
        users(&fake, &token, "customer=my_customer").await.status(),
        StatusCode::OK
    );

    fake.inject(Fault::RateLimitBurst {
        operation: ops::USERS.into(),
        times: 1,
        retry_after_secs: 1,
    });
    assert_eq!(
        users(&fake, &token, "customer=my_customer").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn calendar_check_finds_shared_and_primary_calendars_only() {
    let (_, clock) = clock();
    let fake = GoogleFake::start(company(), clock).await.unwrap();
    let token = fake.issue_access_token(Some(&fake_admin()), &[SCOPE_CALENDAR_READONLY]);
    let get = |id: String| {
        let request = http()
            .get(format!("{}/calendars/{id}", fake.calendar_url()))
            .bearer_auth(&token);
        async move { request.send().await.unwrap() }
    };
    let leave = get(fake.leave_calendar_id()).await;
    assert_eq!(leave.status(), StatusCode::OK);
    assert_eq!(
        leave.json::<Value>().await.unwrap()["kind"],
        "calendar#calendar"
    );
    assert_eq!(get("primary".to_owned()).await.status(), StatusCode::OK);
    let missing = get("nope@group.calendar.google.com".to_owned()).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["errors"][0]["reason"],
        "notFound"
    );
    let directory_only =
        fake.issue_access_token(Some(&fake_admin()), &[SCOPE_DIRECTORY_USER_READONLY]);
    let refused = http()
        .get(format!("{}/calendars/primary", fake.calendar_url()))
        .bearer_auth(directory_only)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn oidc_sign_in_returns_a_verifiable_id_token_for_the_hinted_person() {
    let (_, clock) = clock();
    let company = company();
    let fake = GoogleFake::start(company.clone(), clock).await.unwrap();
    let discovery: Value = fetch_json(http().get(format!(
        "{}/.well-known/openid-configuration",
        fake.oidc_issuer()
    )))
    .await;
    assert_eq!(discovery["issuer"], fake.oidc_issuer());
    let person = company
        .people
        .iter()
        .find(|p| p.google_id.is_some() && p.is_active && p.index > 5)
        .unwrap();
    let verifier = "correct-horse-battery-staple-and-then-some-more-characters";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect = http()
        .get(discovery["authorization_endpoint"].as_str().unwrap())
        .query(&[
            ("client_id", "1234-roster.apps.googleusercontent.com"),
            ("redirect_uri", "http://localhost:3000/auth/callback"),
            ("response_type", "code"),
            ("scope", "openid email profile"),
            ("state", "st"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", person.email.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let code = redirect_param(&redirect, "code");
    let tokens: Value = fetch_json(
        http()
            .post(discovery["token_endpoint"].as_str().unwrap())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("client_id", "1234-roster.apps.googleusercontent.com"),
                ("client_secret", "demo-secret"),
                ("redirect_uri", "http://localhost:3000/auth/callback"),
                ("code_verifier", verifier),
            ]),
    )
    .await;
    let jwks: Value = fetch_json(http().get(discovery["jwks_uri"].as_str().unwrap())).await;
    let key = DecodingKey::from_rsa_components(
        jwks["keys"][0]["n"].as_str().unwrap(),
        jwks["keys"][0]["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["1234-roster.apps.googleusercontent.com"]);
    validation.set_issuer(&[fake.oidc_issuer()]);
    validation.validate_exp = false;
    let claims =
        jsonwebtoken::decode::<Value>(tokens["id_token"].as_str().unwrap(), &key, &validation)
            .unwrap()
            .claims;
    assert_eq!(claims["email"], person.email.as_deref().unwrap());
    assert_eq!(claims["hd"], company.domain.as_str());
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["sub"], person.google_id.as_deref().unwrap());
    let header = jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), jwks["keys"][0]["kid"].as_str());
}

#[tokio::test]
async fn oidc_refuses_invalid_clients_and_uses_the_signed_in_person() {
    let (_, clock) = clock();
    let company = company();
    let fake = GoogleFake::start(company.clone(), clock).await.unwrap();
    let authorize = |client: &str| {
        let request = http()
            .get(format!("{}/o/oauth2/v2/auth", fake.oidc_issuer()))
            .query(&[
                ("client_id", client),
                ("redirect_uri", "https://roster.test/cb"),
                ("response_type", "code"),
                ("scope", "openid email"),
            ]);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(
        authorize("invalid-client").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let person = company
        .people
        .iter()
        .rev()
        .find(|p| p.google_id.is_some() && p.is_active)
        .unwrap();
    fake.set_signed_in(person.email.as_deref().unwrap());
    let redirect = authorize("roster").await;
    let code = redirect_param(&redirect, "code");
    let no_secret = http()
        .post(fake.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", "roster"),
            ("redirect_uri", "https://roster.test/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_secret.status(),
        StatusCode::BAD_REQUEST,
        "without PKCE the client secret is required"
    );
}
