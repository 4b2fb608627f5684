#![doc = include_str!("../README.md")]

pub mod config;
pub mod error;
pub mod http;
pub mod redact;
pub mod sleep;

pub use config::ProviderUrls;
pub use error::{Error, ErrorKind};
pub use http::{BudgetHeaders, BuildError, Http, HttpConfig, RatePolicy};
pub use redact::redact_url;
pub use sleep::{ManualSleeper, Sleeper, TokioSleeper};
pub mod oauth;
mod wire;
pub mod xero;

pub use oauth::{OAuthTokens, Pkce, random_token};
