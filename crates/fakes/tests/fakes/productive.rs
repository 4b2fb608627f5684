use reqwest::StatusCode;
use roster_fakes::Fault;
use roster_fakes::productive::{Limits, ProductiveFake, ops};
use serde_json::Value;

use crate::support::{clock, company, http};

const TOKEN: &str = "pk-demo-token";

async fn get(fake: &ProductiveFake, path_and_query: &str) -> reqwest::Response {
    http()
        .get(format!("{}/{path_and_query}", fake.api_url()))
        .header("x-auth-token", TOKEN)
        .header("x-organization-id", fake.organization_id())
        .send()
        .await
        .unwrap()
}

async fn status(fake: &ProductiveFake, path_and_query: &str) -> StatusCode {
    get(fake, path_and_query).await.status()
}

async fn get_json(fake: &ProductiveFake, path_and_query: &str) -> Value {
    get(fake, path_and_query).await.json().await.unwrap()
}

#[tokio::test]
async fn people_page_by_thirty_with_meta_and_links() {
    let (_, clock) = clock();
    let company = company();
    let fake = ProductiveFake::start(company.clone(), clock).await.unwrap();
    let response = get(&fake, "people").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.api+json"
    );
    let body: Value = response.json().await.unwrap();
    let total = company
        .people
        .iter()
        .filter(|p| p.productive_id.is_some())
        .count()
        + 3;
    assert_eq!(body["data"].as_array().unwrap().len(), 30);
    assert_eq!(body["meta"]["total_count"], total);
    assert_eq!(body["meta"]["page_size"], 30);
    assert_eq!(body["meta"]["max_page_size"], 200);
    assert_eq!(body["meta"]["total_pages"], total.div_ceil(30));
    assert!(
        body["links"]["next"]
            .as_str()
            .unwrap()
            .contains("page%5Bnumber%5D=2")
    );
    assert!(body["links"].get("prev").is_none());
    assert!(
        body["data"][0]["id"].is_string(),
        "JSON:API ids are strings"
    );

    let mut seen = 0;
    let mut page = 1;
    loop {
        let body: Value =
            get_json(&fake, &format!("people?page[number]={page}&page[size]=200")).await;
        seen += body["data"].as_array().unwrap().len();
        if body["meta"]["current_page"] == body["meta"]["total_pages"] {
            break;
        }
        page += 1;
    }
    assert_eq!((seen, page), (total, 2));
    let capped: Value = get_json(&fake, "people?page[size]=500").await;
    assert_eq!(capped["meta"]["page_size"], 200);
}

#[tokio::test]
async fn staff_filter_excludes_leavers_contacts_and_placeholders() {
    let (_, clock) = clock();
    let company = company();
    let fake = ProductiveFake::start(company.clone(), clock).await.unwrap();
    let body: Value = get_json(
        &fake,
        "people?filter[status]=1&filter[person_type]=1&page[size]=200",
    )
    .await;
    let expected = company
        .people
        .iter()
        .filter(|p| p.productive_id.is_some() && !p.is_leaver)
        .count();
    assert_eq!(body["meta"]["total_count"], expected);
    let deactivated: Value = get_json(&fake, "people?filter[status]=2").await;
    assert!(
        deactivated["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["attributes"]["deactivated_at"].is_string())
    );
    let placeholders: Value = get_json(&fake, "people?filter[person_type]=3").await;
    assert_eq!(placeholders["meta"]["total_count"], 2);
}

#[tokio::test]
async fn unsupported_filter_is_a_400_with_productives_body() {
    let (_, clock) = clock();
    let fake = ProductiveFake::start(company(), clock).await.unwrap();
    let response = get(&fake, "people?filter[undefined]=1").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"errors":[{"detail":"Filter 'undefined' is not supported on this endpoint","status":400,"title":"Unsupported Filter"}]}"#
    );
}

#[tokio::test]
async fn manager_is_only_visible_with_include() {
    let (_, clock) = clock();
    let company = company();
    let fake = ProductiveFake::start(company.clone(), clock).await.unwrap();
    let report = company
        .people
        .iter()
        .find(|p| p.level == roster_company::Level::Staff && !p.is_leaver)
        .unwrap();
    let manager = &company.people[report.manager.unwrap()];
    let id = report.productive_id.as_deref().unwrap();

    let plain: Value = get_json(&fake, &format!("people?filter[id]={id}")).await;
    assert_eq!(
        plain["data"][0]["relationships"]["manager"],
        serde_json::json!({"meta": {"included": false}})
    );
    assert!(plain.get("included").is_none());
    let with: Value = get_json(&fake, &format!("people?filter[id]={id}&include=manager")).await;
    assert_eq!(
        with["data"][0]["relationships"]["manager"]["data"]["id"],
        manager.productive_id.as_deref().unwrap()
    );
    assert_eq!(
        with["included"][0]["id"],
        manager.productive_id.as_deref().unwrap()
    );

    let reports: Value = get_json(
        &fake,
        &format!(
            "people?filter[manager_id]={}",
            manager.productive_id.as_deref().unwrap()
        ),
    )
    .await;
    assert!(
        reports["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id)
    );
    assert_eq!(
        status(&fake, "people?include=company").await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn teams_and_memberships_are_the_squads() {
    let (_, clock) = clock();
    let company = company();
    let fake = ProductiveFake::start(company.clone(), clock).await.unwrap();
    let teams: Value = get_json(&fake, "teams?page[size]=200").await;
    assert_eq!(teams["meta"]["total_count"], company.squads.len());
    let squad = &company.squads[0];
    let members: Value = get_json(
        &fake,
        &format!(
            "team_memberships?filter[team_id]={}",
            squad.productive_team_id
        ),
    )
    .await;
    let ids: Vec<&str> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["relationships"]["person"]["data"]["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = squad
        .members
        .iter()
        .filter_map(|m| company.people[*m].productive_id.as_deref())
        .collect();
    assert_eq!(ids, expected);
    let by_team: Value = get_json(
        &fake,
        &format!("people?filter[team]={}", squad.productive_team_id),
    )
    .await;
    assert_eq!(by_team["meta"]["total_count"], expected.len());
    let orgs: Value = get_json(&fake, "organizations").await;
    assert_eq!(orgs["data"][0]["attributes"]["name"], company.name.as_str());
}

#[tokio::test]
async fn token_and_organization_headers_are_checked() {
    let (_, clock) = clock();
    let fake = ProductiveFake::start(company(), clock).await.unwrap();
    let url = format!("{}/organizations", fake.api_url());
    let missing = http()
        .get(&url)
        .header("x-organization-id", fake.organization_id())
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let invalid = http()
        .get(&url)
        .header("x-auth-token", "invalid-token")
        .header("x-organization-id", fake.organization_id())
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        invalid.json::<Value>().await.unwrap()["errors"][0]["status"],
        401
    );
    let wrong_org = http()
        .get(&url)
        .header("x-auth-token", TOKEN)
        .header("x-organization-id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_org.status(), StatusCode::FORBIDDEN);
    fake.revoke(TOKEN);
    assert_eq!(
        status(&fake, "organizations").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn more_than_one_hundred_calls_in_ten_seconds_are_429() {
    let (manual, clock) = clock();
    let fake = ProductiveFake::start(company(), clock).await.unwrap();
    for i in 0..100 {
        assert_eq!(
            status(&fake, "organizations").await,
            StatusCode::OK,
            "call {i}"
        );
    }
    let limited = get(&fake, "organizations").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "10");
    manual.advance(chrono::Duration::seconds(10));
    assert_eq!(status(&fake, "organizations").await, StatusCode::OK);
    assert_eq!(fake.calls().count(ops::ORGANIZATIONS), 102);
    assert_eq!(fake.calls().rejected(ops::ORGANIZATIONS), 1);
}

#[tokio::test]
async fn limits_can_be_lowered_and_faults_fail_a_page() {
    let (_, clock) = clock();
    let fake = ProductiveFake::start_with(
        company(),
        clock,
        Limits {
            per_10_seconds: 2,
            per_30_minutes: 4_000,
        },
    )
    .await
    .unwrap();
    fake.inject(Fault::FailPage {
        operation: ops::PEOPLE.into(),
        page: 2,
        status: 502,
    });
    assert_eq!(status(&fake, "people?page[number]=1").await, StatusCode::OK);
    assert_eq!(
        status(&fake, "people?page[number]=2").await,
        StatusCode::BAD_GATEWAY
    );
    // Injected answers come before the gate, so they spend none of the budget.
    assert_eq!(status(&fake, "people?page[number]=3").await, StatusCode::OK);
    assert_eq!(
        status(&fake, "people?page[number]=4").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn query_filter_searches_names_and_emails() {
    let (_, clock) = clock();
    let company = company();
    let fake = ProductiveFake::start(company.clone(), clock).await.unwrap();
    let person = company
        .people
        .iter()
        .find(|p| p.productive_id.is_some())
        .unwrap();
    let local = person.email.as_deref().unwrap().split('@').next().unwrap();
    let body: Value = get_json(
        &fake,
        &format!("people?filter[query]={local}&filter[person_type]=1"),
    )
    .await;
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&person.productive_id.as_deref().unwrap()),
        "{ids:?}"
    );
}

#[tokio::test]
async fn a_compound_document_lists_each_person_once_and_names_every_manager() {
    let (_, clock) = clock();
    let fake = ProductiveFake::start(company(), clock).await.unwrap();
    let mut managers_on_their_reports_page = 0;
    for page in 1..=3 {
        let body = get_json(
            &fake,
            &format!("people?include=manager&page[size]=100&page[number]={page}"),
        )
        .await;
        let data = body["data"].as_array().unwrap();
        let included = body["included"].as_array().unwrap();
        let mut seen = std::collections::HashSet::new();
        for resource in data.iter().chain(included) {
            let key = (
                resource["type"].as_str().unwrap().to_owned(),
                resource["id"].as_str().unwrap().to_owned(),
            );
            // JSON:API 1.0, Compound Documents: one resource object per type and id.
            assert!(seen.insert(key.clone()), "{key:?} twice on page {page}");
        }
        for person in data {
            let Some(manager) = person["relationships"]["manager"]["data"]["id"].as_str() else {
                continue;
            };
            assert!(
                seen.contains(&("people".to_owned(), manager.to_owned())),
                "manager {manager} of {} is in neither data nor included",
                person["id"]
            );
            managers_on_their_reports_page +=
                usize::from(data.iter().any(|p| p["id"].as_str() == Some(manager)));
        }
    }
    assert!(
        managers_on_their_reports_page > 0,
        "the company puts some managers on their reports' page, the case the rule is about"
    );
}
