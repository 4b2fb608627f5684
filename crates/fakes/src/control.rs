//! The demo's control API: a small HTTP router, on its own loopback port beside the fakes,
//! that changes what they serve while they run, so anyone can watch a sync meet a leaver, a
//! new manager or an outage:
//!
//! - `POST /people/{email}/leave`, `POST /people/{email}/return`;
//! - `PUT /people/{email}/manager` with `{"manager_email": "…"}` (a cycle is allowed);
//! - `POST /faults` with `{"provider","operation","page"?,"status","times"?}`, `DELETE /faults`.
//!
//! Answers `{"ok": true}`; an unknown email is a 404 and a malformed body a 400, both as
//! `{"ok": false, "error": "…"}`. Owns only the translation from HTTP to [`LiveCompany`]
//! changes and [`Fault`]s: it must never render a provider's wire format, and it is never
//! part of `roster serve` (only the fakes, in tests and `roster demo`, start it).

use std::str::FromStr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use roster_domain::Clock;
use serde::Deserialize;
use serde_json::json;

use crate::faults::{Dialect, Fault};
use crate::live::{ChangeError, LiveCompany};

/// A provider the fakes stand in for, as the control API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Xero,
    Productive,
    Google,
    Slack,
    /// Both Remote hosts, production and sandbox.
    Remote,
    Scrapin,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Self::Xero => "xero",
            Self::Productive => "productive",
            Self::Google => "google",
            Self::Slack => "slack",
            Self::Remote => "remote",
            Self::Scrapin => "scrapin",
        }
    }
}

impl FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "xero" => Self::Xero,
            "productive" => Self::Productive,
            "google" => Self::Google,
            "slack" => Self::Slack,
            "remote" => Self::Remote,
            "scrapin" => Self::Scrapin,
            other => return Err(format!("unknown provider {other:?}")),
        })
    }
}

/// Arms and disarms one fake's faults, whatever its state type.
pub(crate) trait Armable: Send + Sync {
    fn arm(&self, fault: Fault);
    fn disarm(&self);
}

impl<D: Dialect> Armable for D {
    fn arm(&self, fault: Fault) {
        self.probe().inject(fault);
    }

    fn disarm(&self) {
        self.probe().clear();
    }
}

/// What the control router changes: the shared company, and each provider's fakes.
pub(crate) struct Control {
    pub(crate) company: LiveCompany,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) fakes: Vec<(Provider, Arc<dyn Armable>)>,
}

impl Control {
    pub(crate) fn inject(&self, provider: Provider, fault: &Fault) {
        for (_, fake) in self.fakes.iter().filter(|(p, _)| *p == provider) {
            fake.arm(fault.clone());
        }
    }

    pub(crate) fn clear_faults(&self) {
        for (_, fake) in &self.fakes {
            fake.disarm();
        }
    }

    pub(crate) fn leave(&self, email: &str) -> Result<(), ChangeError> {
        self.company.leave(email, self.clock.now().date_naive())
    }
}

pub(crate) fn router(control: Arc<Control>) -> Router {
    Router::new()
        .route("/people/{email}/leave", post(leave))
        .route("/people/{email}/return", post(return_))
        .route("/people/{email}/manager", put(manager))
        .route("/faults", post(inject).delete(clear))
        .with_state(control)
}

fn ok() -> Response {
    (StatusCode::OK, axum::Json(json!({ "ok": true }))).into_response()
}

fn refuse(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "ok": false, "error": error }))).into_response()
}

fn changed(result: Result<(), ChangeError>) -> Response {
    match result {
        Ok(()) => ok(),
        Err(ChangeError::UnknownEmail(email)) => refuse(
            StatusCode::NOT_FOUND,
            &format!("no one has the email {email}"),
        ),
        Err(ChangeError::OwnManager) => {
            refuse(StatusCode::BAD_REQUEST, "a person cannot manage themselves")
        }
    }
}

async fn leave(State(c): State<Arc<Control>>, Path(email): Path<String>) -> Response {
    changed(c.leave(&email))
}

async fn return_(State(c): State<Arc<Control>>, Path(email): Path<String>) -> Response {
    changed(c.company.return_(&email))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetManager {
    manager_email: String,
}

async fn manager(
    State(c): State<Arc<Control>>,
    Path(email): Path<String>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<SetManager>(&body) {
        Ok(body) => changed(c.company.set_manager(&email, &body.manager_email)),
        Err(e) => refuse(StatusCode::BAD_REQUEST, &format!("malformed body: {e}")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InjectBody {
    provider: String,
    operation: String,
    page: Option<u32>,
    status: u16,
    times: Option<u32>,
}

/// The body as a provider and a fault, or why not.
fn parse_fault(body: &[u8]) -> Result<(Provider, Fault), String> {
    let body: InjectBody =
        serde_json::from_slice(body).map_err(|e| format!("malformed body: {e}"))?;
    let provider: Provider = body.provider.parse()?;
    let operation = body.operation.trim();
    let well_formed = !operation.is_empty()
        && operation.len() <= 64
        && operation
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._*".contains(&b));
    if !well_formed {
        return Err(format!("operation {operation:?} is not an operation name"));
    }
    // `people` means `productive.people`; the fakes' full names are accepted as they are.
    let operation = if operation == "*" || operation.starts_with(&format!("{}.", provider.name())) {
        operation.to_owned()
    } else {
        format!("{}.{operation}", provider.name())
    };
    if !(400..=599).contains(&body.status) {
        return Err(format!("status {} is not an error status", body.status));
    }
    if body.page == Some(0) {
        return Err("page counts from 1".to_owned());
    }
    if body.times == Some(0) {
        return Err("times must be at least 1 (leave it out for until cleared)".to_owned());
    }
    Ok((
        provider,
        Fault::FailPages {
            operation,
            page: body.page,
            status: body.status,
            times: body.times,
        },
    ))
}

async fn inject(State(c): State<Arc<Control>>, body: Bytes) -> Response {
    match parse_fault(&body) {
        Ok((provider, fault)) => {
            c.inject(provider, &fault);
            ok()
        }
        Err(why) => refuse(StatusCode::BAD_REQUEST, &why),
    }
}

async fn clear(State(c): State<Arc<Control>>) -> Response {
    c.clear_faults();
    ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_bodies_parse_or_say_why_not() {
        let parsed = parse_fault(
            br#"{"provider":"productive","operation":"people","page":2,"status":500,"times":1}"#,
        );
        assert_eq!(
            parsed,
            Ok((
                Provider::Productive,
                Fault::FailPages {
                    operation: "productive.people".into(),
                    page: Some(2),
                    status: 500,
                    times: Some(1),
                }
            ))
        );
        for (body, why) in [
            (
                &br#"{"provider":"productive","operation":"people","status":200}"#[..],
                "status 200",
            ),
            (
                br#"{"provider":"jira","operation":"people","status":500}"#,
                "unknown provider",
            ),
            (
                br#"{"provider":"xero","operation":"Emp loyees","status":500}"#,
                "not an operation",
            ),
            (
                br#"{"provider":"xero","operation":"employees","status":500,"page":0}"#,
                "page",
            ),
            (
                br#"{"provider":"xero","operation":"employees","status":500,"times":0}"#,
                "times",
            ),
            (
                br#"{"provider":"xero","operation":"employees","status":500,"x":1}"#,
                "malformed",
            ),
            (br#"{"provider":"xero","status":500}"#, "malformed"),
            (b"not json", "malformed"),
        ] {
            let err = parse_fault(body).expect_err(why);
            assert!(err.contains(why), "{why}: {err}");
        }
    }
}
