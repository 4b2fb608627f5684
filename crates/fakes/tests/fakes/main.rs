//! Integration tests: each fake served on a loopback port and called over real HTTP.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup or request should panic"
)]

mod control;
mod google;
mod productive;
mod providers;
mod remote;
mod scrapin;
mod slack;
mod support;
mod xero;
