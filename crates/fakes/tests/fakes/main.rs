//! Integration tests: each fake served on a loopback port and called over real HTTP.

mod support;
mod google;
mod productive;
mod slack;
mod xero;
