use std::collections::HashMap;
use std::time::Duration;

use roster_domain::Provider;
use roster_fakes::Fault;
use roster_fakes::productive::{Limits, ProductiveFake};
use roster_providers::{
    ErrorKind, HttpConfig, ProductiveClient, ProductiveCredentials, RatePolicy,
};
use secrecy::SecretString;
use url::Url;

use crate::support::{World, assert_no_secret, urls};

struct Productive {
    world: World,
    fake: ProductiveFake,
    client: ProductiveClient,
}

const TOKEN: &str = "pat-CANARY-productive-31c9";

impl Productive {
    async fn start(size: usize) -> Self {
        Self::start_with(World::new(size), TOKEN).await
    }

    async fn start_with(world: World, token: &str) -> Self {
        let fake = ProductiveFake::start(world.company.clone(), world.shared_clock())
            .await
            .unwrap();
        let client = client(&world, &fake, token);
        Self {
            world,
            fake,
            client,
        }
    }

    fn active_people(&self) -> usize {
        self.world
            .company
            .people
            .iter()
            .filter(|p| p.productive_id.is_some() && !p.is_leaver)
            .count()
    }
}

fn client(world: &World, fake: &ProductiveFake, token: &str) -> ProductiveClient {
    let mut u = urls(&fake.base_url());
    u.productive_api_url = Url::parse(&fake.api_url()).unwrap();
    let credentials = ProductiveCredentials {
        api_token: SecretString::from(token.to_owned()),
        organization_id: Some(fake.organization_id().to_owned()),
    };
    ProductiveClient::new(world.http.clone(), &u, credentials)
}

#[tokio::test]
async fn productive_lists_active_users_over_several_pages_with_managers() {
    let p = Productive::start(450).await;
    let people = p.client.people().await.unwrap();
    let expected = p.active_people();
    assert_eq!(
        people.len(),
        expected,
        "active users only: no leavers, placeholders or contacts"
    );
    assert!(expected > 400);
    assert_eq!(
        p.fake.calls().count("productive.people"),
        expected.div_ceil(200) as u64
    );

    let by_id: HashMap<&str, _> = p
        .world
        .company
        .people
        .iter()
        .filter_map(|s| Some((s.productive_id.as_deref()?, s)))
        .collect();
    let mut with_manager = 0;
    for person in &people {
        let sample = by_id[person.id.as_str()];
        let want = sample
            .manager
            .and_then(|m| p.world.company.people[m].productive_id.clone());
        assert_eq!(person.manager_id, want, "{}", person.id);
        with_manager += usize::from(want.is_some());
        // Named from `included[]` or from the listing, as Productive spells the name.
        let want_name = sample.manager.filter(|_| want.is_some()).map(|m| {
            let m = &p.world.company.people[m];
            format!("{} {}", m.productive_first_name, m.productive_last_name)
        });
        assert_eq!(person.manager_name, want_name, "{}", person.id);
        assert_eq!(
            person.email.as_ref().map(|e| e.as_str().to_owned()),
            sample.email.as_ref().map(|e| e.to_lowercase())
        );
    }
    assert!(with_manager > 0);
}

#[tokio::test]
async fn productive_squads_join_teams_and_memberships() {
    let p = Productive::start(80).await;
    let squads = p.client.squads().await.unwrap();
    assert_eq!(squads.len(), p.world.company.squads.len());
    for sample in &p.world.company.squads {
        let squad = squads
            .iter()
            .find(|s| s.id == sample.productive_team_id)
            .unwrap();
        assert_eq!(squad.name, sample.name);
        let mut want: Vec<String> = sample
            .members
            .iter()
            .filter_map(|m| p.world.company.people[*m].productive_id.clone())
            .collect();
        let mut got = squad.member_ids.clone();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{}", sample.name);
    }
}

#[tokio::test]
async fn productive_token_check_names_the_organization() {
    let p = Productive::start(10).await;
    let org = p.client.organization().await.unwrap();
    assert_eq!(org.id, p.fake.organization_id());
    assert!(!org.name.is_empty());
}

#[tokio::test]
async fn productive_revoked_token_needs_reauth() {
    let p = Productive::start(10).await;
    p.fake.revoke(TOKEN);
    let err = p.client.people().await.unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_eq!(err.status, Some(401));
    assert_no_secret(&err, &[TOKEN]);
    let err = p.client.organization().await.unwrap_err();
    assert_eq!(err.api_code(), "needs_reauth");
}

#[tokio::test]
async fn productive_429_retry_after_is_waited_on_the_manual_clock() {
    let p = Productive::start(10).await;
    p.fake.inject(Fault::RateLimitBurst {
        operation: "productive.people".into(),
        times: 2,
        retry_after_secs: 4,
    });
    assert!(p.client.people().await.is_ok());
    assert_eq!(p.world.sleeper.sleeps(), [Duration::from_secs(4); 2]);
}

#[tokio::test]
async fn productive_client_stays_under_100_calls_per_10_seconds() {
    // 2,500 people at 200 a page = 13 calls; the fake allows 10 per 10 s, so does the client.
    let mut config = HttpConfig::default();
    let mut policy = RatePolicy::for_provider(Provider::Productive);
    policy.windows = vec![(10, Duration::from_secs(10))];
    config.rate_policies.insert(Provider::Productive, policy);
    let p = Productive::start_with(World::with_config(2_500, config), TOKEN).await;
    p.fake.set_limits(Limits {
        per_10_seconds: 10,
        per_30_minutes: 4_000,
    });
    let people = p.client.people().await.unwrap();
    assert_eq!(people.len(), p.active_people());
    let _ = p.client.squads().await.unwrap();
    assert_eq!(p.fake.calls().rejected("productive.people"), 0);
    assert_eq!(p.fake.calls().rejected("productive.teams"), 0);
    assert_eq!(p.fake.calls().rejected("productive.team_memberships"), 0);
    assert!(
        !p.world.sleeper.sleeps().is_empty(),
        "the window made it wait"
    );
}

#[tokio::test]
async fn productive_5xx_retried_then_provider_error_and_failed_page_fails_all() {
    let p = Productive::start(450).await;
    p.fake.inject(Fault::Status {
        operation: "productive.people".into(),
        status: 502,
        times: 1,
    });
    assert!(p.client.people().await.is_ok());
    // 450 people at 200 a page: three pages, plus the one retry.
    assert_eq!(p.fake.calls().count("productive.people"), 4);
    p.fake.calls().reset();
    p.fake.inject(Fault::FailPage {
        operation: "productive.people".into(),
        page: 2,
        status: 503,
    });
    let err = p.client.people().await.unwrap_err();
    assert_eq!((err.status, err.api_code()), (Some(503), "provider_error"));
    assert_no_secret(&err, &[TOKEN]);
    // Page 1 once, then page 2 five times (every attempt), and never page 3.
    assert_eq!(p.fake.calls().count("productive.people"), 1 + 5);
}

#[tokio::test]
async fn productive_malformed_body_names_the_field() {
    let p = Productive::start(10).await;
    p.fake.inject(Fault::MalformedBody {
        operation: "productive.people".into(),
        times: 1,
    });
    let err = p.client.people().await.unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { field, .. } if field == "data[0].id"),
        "{err:?}"
    );
}
