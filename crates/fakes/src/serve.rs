//! What every fake needs to be a real HTTP server: binding a random loopback port, serving
//! until dropped, the handle methods all fakes share ([`fake_handle!`]), reading requests the
//! way providers read them, and counting rate windows.
//!
//! Owns no provider behaviour. Windows take the time as an argument and never read a clock
//! themselves, so every fake drives them from its injected `Clock`.

use std::collections::{HashSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::faults::{CallLog, Dialect, Fault};

/// The state behind one fake, as its handle and server share it.
pub(crate) trait Fake: Dialect + Sized {
    /// The fake's `Limits`: the provider's published figures by default.
    type Limits;

    /// Every route of the fake, with the `observe` layer that counts calls and applies faults.
    fn router(state: Arc<Self>) -> Router;

    /// Applies new limits. Each fake says whether its open windows start afresh.
    fn set_limits(&self, limits: Self::Limits);
}

/// A fake's server and the state its handlers share; dropping it stops the server.
pub(crate) struct Running<S> {
    serving: Serving,
    pub(crate) state: Arc<S>,
}

impl<S: Fake> Running<S> {
    /// Binds a loopback port, builds the state for that base URL (links and discovery
    /// documents need it), and serves the fake's router until dropped.
    pub(crate) async fn start(
        state: impl FnOnce(&str) -> std::io::Result<S>,
    ) -> std::io::Result<Self> {
        let bound = Bound::loopback().await?;
        let state = Arc::new(state(&bound.base_url())?);
        let serving = bound.serve(S::router(state.clone()));
        Ok(Self { serving, state })
    }

    pub(crate) fn base_url(&self) -> String {
        self.serving.base_url()
    }

    pub(crate) fn calls(&self) -> &CallLog {
        &self.state.probe().calls
    }

    pub(crate) fn inject(&self, fault: Fault) {
        self.state.probe().inject(fault);
    }

    pub(crate) fn clear_faults(&self) {
        self.state.probe().clear();
    }

    pub(crate) fn set_limits(&self, limits: S::Limits) {
        self.state.set_limits(limits);
    }
}

/// Stamps a fake's public handle: the struct (a [`Running`] of `$state`) and the methods every
/// fake has with the same meaning, so they read and behave alike everywhere. A macro rather
/// than a trait so that callers need no import and the methods stay inherent.
///
/// The full form also stamps `Debug` and `start` / `start_with(company, clock, limits)`,
/// which build the state with `$state::new(base_url, company, clock, limits)`. The `@shared`
/// form leaves those to a fake whose start differs (Remote picks an environment).
macro_rules! fake_handle {
    ($(#[$attr:meta])* $name:ident($state:ty, $limits:ty)) => {
        $crate::serve::fake_handle!(@shared $(#[$attr])* $name($state, $limits));

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("base_url", &self.base_url())
                    .finish_non_exhaustive()
            }
        }

        impl $name {
            /// Starts the fake with the provider's published limits.
            pub async fn start(
                company: impl Into<$crate::live::LiveCompany>,
                clock: ::std::sync::Arc<dyn ::roster_domain::Clock>,
            ) -> ::std::io::Result<Self> {
                Self::start_with(company, clock, <$limits>::default()).await
            }

            /// Starts the fake with `limits` (tests lower them to reach a limit quickly).
            pub async fn start_with(
                company: impl Into<$crate::live::LiveCompany>,
                clock: ::std::sync::Arc<dyn ::roster_domain::Clock>,
                limits: $limits,
            ) -> ::std::io::Result<Self> {
                let company = company.into();
                let running = $crate::serve::Running::start(|base_url| {
                    <$state>::new(base_url, company, clock, limits)
                })
                .await?;
                Ok(Self { running })
            }
        }
    };
    (@shared $(#[$attr:meta])* $name:ident($state:ty, $limits:ty)) => {
        $(#[$attr])*
        pub struct $name {
            running: $crate::serve::Running<$state>,
        }

        impl $name {
            /// Where the fake serves, `http://127.0.0.1:<port>`; the module docs give the
            /// paths under it.
            pub fn base_url(&self) -> String {
                self.running.base_url()
            }

            /// Calls served so far, per operation (names in `ops`).
            pub fn calls(&self) -> &$crate::faults::CallLog {
                self.running.calls()
            }

            /// Arms `fault` for the calls it names.
            pub fn inject(&self, fault: $crate::faults::Fault) {
                self.running.inject(fault);
            }

            /// Disarms every fault, `FailPage` included.
            pub fn clear_faults(&self) {
                self.running.clear_faults();
            }

            /// Replaces the limits from now on.
            pub fn set_limits(&self, limits: $limits) {
                self.running.set_limits(limits);
            }

            /// The fake's faults, for the control API.
            pub(crate) fn armable(&self) -> ::std::sync::Arc<dyn $crate::control::Armable> {
                self.running.state.clone()
            }
        }
    };
}
pub(crate) use fake_handle;

/// Locks `m`, carrying on after a panic elsewhere: a fake's state stays usable for the tests
/// that follow, and a poisoned lock would only hide the first failure behind others.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Credentials revoked through a fake's `revoke`: refused from then on.
#[derive(Debug, Default)]
pub(crate) struct Revoked(Mutex<HashSet<String>>);

impl Revoked {
    pub(crate) fn insert(&self, credential: &str) {
        lock(&self.0).insert(credential.to_owned());
    }

    pub(crate) fn contains(&self, credential: &str) -> bool {
        lock(&self.0).contains(credential)
    }
}

/// A bound listener whose address is known before the router is built (links and discovery
/// documents need the base URL).
struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Bound {
    async fn loopback() -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        Ok(Self { listener, addr })
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `router` in a background task until the returned handle is dropped.
    fn serve(self, router: Router) -> Serving {
        let (stop, stopped) = oneshot::channel::<()>();
        let Self { listener, addr } = self;
        tokio::spawn(async move {
            let shutdown = async {
                // Either a send or the sender's drop ends the server.
                let _ = stopped.await;
            };
            if let Err(error) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!(%error, %addr, "fake server stopped with an error");
            }
        });
        Serving { addr, _stop: stop }
    }
}

/// Serves `router` on a random loopback port until the returned handle is dropped (the
/// control API, which is no fake and so has no [`Running`]).
pub(crate) async fn serve_loopback(router: Router) -> std::io::Result<Serving> {
    Ok(Bound::loopback().await?.serve(router))
}

/// A running server; dropping it shuts the server down.
#[derive(Debug)]
pub(crate) struct Serving {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Serving {
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235 §2.1).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// `Authorization: Basic base64(id:secret)` (RFC 7617).
pub(crate) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Query or form pairs in order, repeated keys kept.
pub(crate) fn pairs(raw: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

/// The first value of `key` in `pairs`.
pub(crate) fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The page number `key` names in a raw query, for fault matching: 1 when absent or unreadable
/// (the handler refuses a bad one itself).
pub(crate) fn page_number(query: &str, key: &str) -> u32 {
    first(&pairs(query), key)
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
}

/// SHA-256 of `text` in lowercase hex: stable, opaque-looking ids and etags.
pub(crate) fn digest_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// A stable UUID derived from `text` (its SHA-256, shaped as a version-4 UUID).
pub(crate) fn derived_uuid(text: &str) -> Uuid {
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The demo rule: a credential naming itself invalid is rejected like a bad one.
pub(crate) fn says_invalid(credential: &str) -> bool {
    credential.to_ascii_lowercase().contains("invalid")
}

/// A rolling window: at most `limit` hits in any `period`.
#[derive(Debug, Clone)]
pub(crate) struct SlidingWindow {
    limit: u32,
    period: TimeDelta,
    hits: VecDeque<DateTime<Utc>>,
}

impl SlidingWindow {
    pub(crate) fn new(limit: u32, period: TimeDelta) -> Self {
        Self {
            limit,
            period,
            hits: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        while self.hits.front().is_some_and(|&t| t + self.period <= now) {
            self.hits.pop_front();
        }
    }

    /// Records a hit, returning what is left; over the limit, returns how long until the
    /// oldest hit leaves the window instead (and records nothing).
    pub(crate) fn hit(&mut self, now: DateTime<Utc>) -> Result<u32, TimeDelta> {
        self.expire(now);
        if self.hits.len() >= self.limit as usize {
            let oldest = self.hits.front().copied().unwrap_or(now);
            return Err(oldest + self.period - now);
        }
        self.hits.push_back(now);
        Ok(self.limit - self.hits.len() as u32)
    }

    pub(crate) fn remaining(&mut self, now: DateTime<Utc>) -> u32 {
        self.expire(now);
        self.limit.saturating_sub(self.hits.len() as u32)
    }
}

/// A fixed window that opens at the first hit and lasts `period` (Remote's rule).
#[derive(Debug, Clone)]
pub(crate) struct FixedWindow {
    limit: u32,
    period: TimeDelta,
    opened: Option<DateTime<Utc>>,
    count: u32,
}

/// Where a fixed window stands after a hit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedState {
    pub(crate) count: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_in: TimeDelta,
    pub(crate) allowed: bool,
}

impl FixedWindow {
    pub(crate) fn new(limit: u32, period: TimeDelta) -> Self {
        Self {
            limit,
            period,
            opened: None,
            count: 0,
        }
    }

    pub(crate) fn hit(&mut self, now: DateTime<Utc>) -> FixedState {
        let opened = match self.opened {
            Some(at) if now < at + self.period => at,
            _ => {
                self.count = 0;
                self.opened = Some(now);
                now
            }
        };
        let allowed = self.count < self.limit;
        if allowed {
            self.count += 1;
        }
        FixedState {
            count: self.count,
            remaining: self.limit - self.count,
            reset_in: opened + self.period - now,
            allowed,
        }
    }
}

/// Whole seconds, rounded up, at least one: what a `Retry-After` header should say.
pub(crate) fn retry_after_secs(wait: TimeDelta) -> u64 {
    let ms = wait.num_milliseconds().max(1);
    (ms as u64).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_refuses_past_the_limit_until_the_oldest_hit_leaves() {
        let t0 = DateTime::from_timestamp(1_000_000, 0).unwrap_or_default();
        let mut w = SlidingWindow::new(2, TimeDelta::seconds(10));
        assert_eq!(w.hit(t0), Ok(1));
        assert_eq!(w.hit(t0 + TimeDelta::seconds(4)), Ok(0));
        assert_eq!(
            w.hit(t0 + TimeDelta::seconds(5)),
            Err(TimeDelta::seconds(5))
        );
        assert_eq!(
            w.hit(t0 + TimeDelta::seconds(10)),
            Ok(0),
            "the first hit left the window"
        );
    }

    #[test]
    fn fixed_window_opens_at_the_first_hit_and_resets_after_its_period() {
        let t0 = DateTime::from_timestamp(1_000_000, 0).unwrap_or_default();
        let mut w = FixedWindow::new(2, TimeDelta::seconds(60));
        assert!(w.hit(t0).allowed);
        let second = w.hit(t0 + TimeDelta::seconds(30));
        assert_eq!(
            (second.count, second.remaining, second.reset_in),
            (2, 0, TimeDelta::seconds(30))
        );
        assert!(!w.hit(t0 + TimeDelta::seconds(59)).allowed);
        assert!(w.hit(t0 + TimeDelta::seconds(60)).allowed);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        for (ms, secs) in [(0, 1), (1, 1), (1000, 1), (1001, 2), (59_500, 60)] {
            assert_eq!(
                retry_after_secs(TimeDelta::milliseconds(ms)),
                secs,
                "{ms} ms"
            );
        }
    }
}
