#![doc = include_str!("../README.md")]

pub mod config;
pub mod error;
pub mod google;
pub mod http;
pub mod oauth;
pub mod outbound;
mod paging;
pub mod productive;
pub mod redact;
pub mod remote;
pub mod scrapin;
pub mod slack;
pub mod sleep;
mod wire;
pub mod xero;

pub use config::ProviderUrls;
pub use error::{Error, ErrorKind};
pub use google::oidc::{GOOGLE_ISSUER, IdClaims, IdTokenChecks, OidcApp, OidcClient, OidcMetadata};
pub use google::{
    CALENDAR_SCOPE, DIRECTORY_SCOPE, GoogleCalendar, GoogleUser, GoogleWorkspaceClient,
    ServiceAccountKey,
};
pub use http::{BudgetHeaders, BuildError, Http, HttpConfig, RatePolicy};
pub use oauth::{OAuthTokens, Pkce, random_token};
pub use outbound::{CheckedUrl, Resolve, SystemResolver, check_outbound_url};
pub use productive::{
    ProductiveClient, ProductiveCredentials, ProductiveOrganization, ProductivePerson,
    ProductiveSquad, ProductiveTeam, ProductiveTeamMembership,
};
pub use redact::redact_url;
pub use remote::{Environment, RemoteClient, RemoteCompany, RemoteEmployment, RemoteIdentity};
pub use scrapin::{ScrapinClient, ScrapinProfile};
pub use slack::{PostedMessage, SlackChannel, SlackClient, SlackIdentity};
pub use sleep::{ManualSleeper, Sleeper, TokioSleeper};
pub use xero::{
    SuperFund, SuperFundMembership, SuperFundType, XeroAddress, XeroApp, XeroBankAccount,
    XeroClient, XeroEmployee, XeroSuperMembership, XeroTenant, XeroTenantAccess, join_super_funds,
};
