//! OpenID Connect sign-in: discovery, JWKS, the authorize URL (PKCE + nonce), the code
//! exchange and ID-token verification.
//!
//! Written for Google (docs/providers.md, Google "OIDC sign-in") and standard enough for
//! any issuer. Owns the checks that make an ID token trustworthy: RS256 signature by a key
//! of the issuer's JWKS, `iss`, `aud`, `exp` against our [`roster_domain::Clock`], `nonce`,
//! `email_verified`, and `hd` read from the token (never from the email's suffix —
//! <https://github.com/oauth2-proxy/oauth2-proxy/issues/2363>). It never decides who may sign
//! in (a user must exist; the app checks) and never logs a token.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::header::ACCEPT;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use roster_domain::{Email, Provider};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use tokio::sync::Mutex;
use url::Url;

use crate::config::endpoint;
use crate::error::Error;
use crate::http::{Http, Request, Response, Retry, Verdict, classify_common, now};
use crate::oauth::{OAuthTokens, Pkce, TokenWire, classify_token_endpoint, token_error_detail};

/// Sign-in errors are reported as Google's, the default issuer.
const P: Provider = Provider::GoogleWorkspace;

/// Google's issuer, and the legacy spelling it also puts in `iss`.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const GOOGLE_LEGACY_ISSUER: &str = "accounts.google.com";

/// Clock skew allowed on `exp` between us and the issuer: Roster's own tokens have no
/// leeway (one clock), but the issuer's clock is not ours.
const LEEWAY_SECS: i64 = 60;

/// The relying party's registration at the issuer.
#[derive(Debug, Clone)]
pub struct OidcApp {
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub redirect_uri: Url,
}

/// What the discovery document says (OpenID Connect Discovery 1.0 §3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OidcMetadata {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    #[serde(default)]
    pub userinfo_endpoint: Option<Url>,
}

/// What the caller expects of an ID token.
#[derive(Debug, Clone)]
pub struct IdTokenChecks<'a> {
    /// The nonce put in the authorize URL.
    pub nonce: &'a str,
    /// The Workspace domain that must appear in `hd`, when sign-in is limited to one.
    pub hosted_domain: Option<&'a str>,
}

/// A verified identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdClaims {
    pub subject: String,
    pub email: Email,
    pub hosted_domain: Option<String>,
    pub name: Option<String>,
    pub picture: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// A discovered OIDC provider.
#[derive(Debug)]
pub struct OidcClient {
    http: Arc<Http>,
    app: OidcApp,
    metadata: OidcMetadata,
    jwks: Mutex<Option<JwkSet>>,
}

impl OidcClient {
    /// Fetches `<issuer>/.well-known/openid-configuration` and checks that it names the same
    /// issuer (Discovery §4.3: a mismatch means the document is not that issuer's).
    pub async fn discover(http: Arc<Http>, issuer: &Url, app: OidcApp) -> Result<Self, Error> {
        let url = endpoint(issuer, "/.well-known/openid-configuration");
        let req = Request::get(P, "oidc.discovery", url)
            .budget_key("oidc")
            .header(ACCEPT, "application/json");
        let metadata: OidcMetadata = http.send_json(&req, classify).await?;
        if metadata.issuer.trim_end_matches('/') != issuer.as_str().trim_end_matches('/') {
            return Err(Error::malformed(
                P,
                "oidc.discovery",
                "issuer",
                "does not match the configured issuer",
            ));
        }
        Ok(Self {
            http,
            app,
            metadata,
            jwks: Mutex::default(),
        })
    }

    pub fn metadata(&self) -> &OidcMetadata {
        &self.metadata
    }

    /// The authorize URL: code flow, `openid email profile`, `state`, `nonce`, PKCE S256,
    /// and `hd` as a hint when sign-in is limited to one Workspace domain (a hint only: the
    /// token's `hd` is what gets checked).
    pub fn authorize_url(
        &self,
        state: &str,
        nonce: &str,
        pkce: &Pkce,
        hosted_domain: Option<&str>,
    ) -> Url {
        let mut url = self.metadata.authorization_endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.app.client_id)
                .append_pair("redirect_uri", self.app.redirect_uri.as_str())
                .append_pair("scope", "openid email profile")
                .append_pair("state", state)
                .append_pair("nonce", nonce)
                .append_pair("code_challenge", pkce.challenge())
                .append_pair("code_challenge_method", "S256");
            if let Some(hd) = hosted_domain {
                q.append_pair("hd", hd);
            }
        }
        url
    }

    /// Exchanges the callback's code (single use: not repeated once it may have arrived).
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &SecretString,
    ) -> Result<OAuthTokens, Error> {
        let code = SecretString::from(code.to_owned());
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.expose_secret()),
            ("redirect_uri", self.app.redirect_uri.as_str()),
            ("client_id", self.app.client_id.as_str()),
            ("code_verifier", verifier.expose_secret()),
        ];
        if let Some(secret) = &self.app.client_secret {
            form.push(("client_secret", secret.expose_secret()));
        }
        let mut req = Request::post(P, "oidc.token", self.metadata.token_endpoint.clone())
            .budget_key("oidc")
            .header(ACCEPT, "application/json")
            .form(&form)
            .scrubbing(&code)
            .scrubbing(verifier)
            .retry(Retry::OnlyIfNotProcessed);
        if let Some(secret) = &self.app.client_secret {
            req = req.scrubbing(secret);
        }
        let wire: TokenWire = self.http.send_json(&req, classify_token_endpoint).await?;
        Ok(wire.into_tokens(now(&self.http)))
    }

    /// Verifies an ID token and returns who signed in. Every refusal is `Invalid` naming
    /// the claim (`id_token.nonce`) and never containing the token.
    pub async fn verify_id_token(
        &self,
        id_token: &SecretString,
        checks: &IdTokenChecks<'_>,
    ) -> Result<IdClaims, Error> {
        let token = id_token.expose_secret();
        let refuse = |claim: &str, message: &str| {
            Error::invalid(P, "oidc.id_token", format!("id_token.{claim}"), message)
        };
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| refuse("header", "is not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(refuse("alg", "must be RS256"));
        }
        let kid = header.kid.ok_or_else(|| refuse("kid", "is missing"))?;
        let key = self
            .key_for(&kid)
            .await?
            .ok_or_else(|| refuse("kid", "is not in the issuer's key set"))?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.app.client_id]);
        let mut issuers = vec![self.metadata.issuer.clone()];
        if self.metadata.issuer == GOOGLE_ISSUER {
            issuers.push(GOOGLE_LEGACY_ISSUER.to_owned());
        }
        validation.set_issuer(&issuers);
        // `exp` is checked below against our Clock, not the system time jsonwebtoken reads.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<IdTokenWire>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidSignature => refuse("signature", "does not verify"),
                K::InvalidAudience => refuse("aud", "is not this client"),
                K::InvalidIssuer => refuse("iss", "is not the configured issuer"),
                K::MissingRequiredClaim(c) => refuse(c, "is missing"),
                _ => refuse("claims", "do not parse"),
            }
        })?;
        let claims = data.claims;

        let now = now(&self.http).timestamp();
        if claims.exp + LEEWAY_SECS <= now {
            return Err(refuse("exp", "has passed"));
        }
        if claims.nonce.as_deref() != Some(checks.nonce) {
            return Err(refuse("nonce", "does not match the sign-in request"));
        }
        if !claims.email_verified {
            return Err(refuse("email_verified", "must be true"));
        }
        if let Some(domain) = checks.hosted_domain {
            if !claims
                .hd
                .as_deref()
                .is_some_and(|hd| hd.eq_ignore_ascii_case(domain))
            {
                return Err(refuse("hd", "is not the organization's Workspace domain"));
            }
        }
        let email = claims
            .email
            .as_deref()
            .and_then(|e| Email::parse(e).ok())
            .ok_or_else(|| refuse("email", "is missing or not an email address"))?;
        Ok(IdClaims {
            subject: claims.sub,
            email,
            hosted_domain: claims.hd,
            name: claims.name,
            picture: claims.picture,
            expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
        })
    }

    /// The JWKS key for `kid`, fetching the set when it is not cached or does not have the
    /// key (the issuer rotated its keys).
    async fn key_for(&self, kid: &str) -> Result<Option<DecodingKey>, Error> {
        let mut cached = self.jwks.lock().await;
        let found = |set: &JwkSet| {
            set.find(kid)
                .and_then(|jwk| DecodingKey::from_jwk(jwk).ok())
        };
        if let Some(key) = cached.as_ref().and_then(found) {
            return Ok(Some(key));
        }
        let req = Request::get(P, "oidc.jwks", self.metadata.jwks_uri.clone())
            .budget_key("oidc")
            .header(ACCEPT, "application/json");
        let set: JwkSet = self.http.send_json(&req, classify).await?;
        let key = found(&set);
        *cached = Some(set);
        Ok(key)
    }
}

fn classify(resp: &Response) -> Verdict {
    classify_common(resp, token_error_detail)
}

#[derive(Deserialize)]
struct IdTokenWire {
    sub: String,
    exp: i64,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, deserialize_with = "bool_or_string")]
    email_verified: bool,
    #[serde(default)]
    hd: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    picture: Option<String>,
}

/// Some issuers send `"email_verified": "true"` as a string; only a true value counts.
fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Bool(b)) => b,
        Some(Raw::Text(s)) => s.eq_ignore_ascii_case("true"),
        None => false,
    })
}
