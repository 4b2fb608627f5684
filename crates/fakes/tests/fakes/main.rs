//! Integration tests: each fake served on a loopback port and called over real HTTP.

mod google;
mod productive;
mod providers;
mod remote;
mod scrapin;
mod slack;
mod support;
mod xero;
