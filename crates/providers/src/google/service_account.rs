//! Google service-account keys: parsing, validation, and signing the JWT-bearer assertion.
//!
//! Owns the key JSON format (docs/providers.md, Google "Service-account token") and the
//! RFC 7523 assertion. The private key never leaves this module except as a signature: the
//! type has no `Display`, its `Debug` prints `[redacted]`, and errors name the field, never
//! its value.

use std::fmt;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use roster_domain::Provider;
use roster_domain::text::MAX_SERVICE_ACCOUNT_KEY_BYTES;
use serde::{Deserialize, Serialize};

use crate::error::Error;

const OP: &str = "google.service_account_key";

/// A parsed, usable service-account key.
#[derive(Clone)]
pub struct ServiceAccountKey {
    client_email: String,
    private_key_id: Option<String>,
    project_id: Option<String>,
    key: EncodingKey,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("project_id", &self.project_id)
            .field("key", &"[redacted]")
            .finish()
    }
}

#[derive(Deserialize)]
struct KeyWire {
    #[serde(rename = "type")]
    kind: Option<String>,
    project_id: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
    client_email: Option<String>,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
}

impl ServiceAccountKey {
    /// Parses the key JSON an admin pasted. Every failure is `Invalid` naming the field
    /// (`service_account_key.private_key`), so the contract's 422 can point at it; a key
    /// whose RSA private key does not parse is refused here, not at the first sync.
    pub fn parse(json: &str) -> Result<Self, Error> {
        let invalid = |field: &str, message: &str| {
            Error::invalid(
                Provider::GoogleWorkspace,
                OP,
                format!("service_account_key{field}"),
                message,
            )
        };
        if json.len() > MAX_SERVICE_ACCOUNT_KEY_BYTES {
            return Err(invalid("", "must be at most 64 KiB"));
        }
        let wire: KeyWire =
            serde_json::from_str(json).map_err(|_| invalid("", "is not a JSON object"))?;
        if wire.kind.as_deref() != Some("service_account") {
            return Err(invalid(".type", "must be \"service_account\""));
        }
        let client_email = wire
            .client_email
            .filter(|e| roster_domain::Email::parse(e).is_ok())
            .ok_or_else(|| {
                invalid(
                    ".client_email",
                    "must be the service account's email address",
                )
            })?;
        let pem = wire
            .private_key
            .ok_or_else(|| invalid(".private_key", "is missing"))?;
        let key = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|_| invalid(".private_key", "is not a PEM-encoded RSA private key"))?;
        let parsed = Self {
            client_email,
            private_key_id: wire.private_key_id,
            project_id: wire.project_id,
            key,
        };
        // `from_rsa_pem` only unwraps the PEM; signing once proves the key itself is usable.
        parsed
            .sign(
                "probe",
                "https://oauth2.googleapis.com/token",
                None,
                DateTime::UNIX_EPOCH,
            )
            .map_err(|_| invalid(".private_key", "is not a usable RSA private key"))?;
        Ok(parsed)
    }

    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// The signed assertion: `iss` = the service account, `sub` = the user to impersonate
    /// (domain-wide delegation), `aud` = the token endpoint, one hour of validity (Google's
    /// maximum — <https://developers.google.com/identity/protocols/oauth2/service-account>).
    pub(crate) fn sign(
        &self,
        scope: &str,
        audience: &str,
        subject: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&self.private_key_id);
        let iat = now.timestamp();
        let claims = AssertionClaims {
            iss: &self.client_email,
            scope,
            aud: audience,
            iat,
            exp: iat + 3_600,
            sub: subject,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ErrorKind;

    /// A 2048-bit test key made for this crate's tests (openssl genpkey), PKCS#8 like
    /// Google's downloads. It signs nothing outside tests.
    pub(crate) const TEST_KEY_PEM: &str = include_str!("test_key.pem");

    pub(crate) fn key_json(private_key: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "roster-test",
            "private_key_id": "kid-1",
            "private_key": private_key,
            "client_email": "sync@roster-test.iam.gserviceaccount.com",
            "client_id": "1234",
            "token_uri": "https://oauth2.googleapis.com/token",
        })
        .to_string()
    }

    #[test]
    fn a_good_key_parses_and_debug_hides_it() {
        let key = ServiceAccountKey::parse(&key_json(TEST_KEY_PEM)).unwrap();
        assert_eq!(
            key.client_email(),
            "sync@roster-test.iam.gserviceaccount.com"
        );
        let debug = format!("{key:?}");
        assert!(
            debug.contains("[redacted]") && !debug.contains("PRIVATE KEY"),
            "{debug}"
        );
    }

    #[test]
    fn bad_keys_name_the_field() {
        let broken_pem = TEST_KEY_PEM.replace("MII", "XXX");
        let no_type = key_json(TEST_KEY_PEM).replace("service_account", "user");
        for (json, field) in [
            ("not json".to_owned(), "service_account_key"),
            (no_type, "service_account_key.type"),
            (
                key_json("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
                "service_account_key.private_key",
            ),
            (key_json(&broken_pem), "service_account_key.private_key"),
            (key_json("hello"), "service_account_key.private_key"),
            (
                key_json(TEST_KEY_PEM)
                    .replace("sync@roster-test.iam.gserviceaccount.com", "nobody"),
                "service_account_key.client_email",
            ),
            ("x".repeat(70_000), "service_account_key"),
        ] {
            let err = ServiceAccountKey::parse(&json).unwrap_err();
            match &err.kind {
                ErrorKind::Invalid { field: got, .. } => {
                    assert_eq!(got, field, "{}", &json[..json.len().min(60)]);
                }
                other => panic!("{other:?}"),
            }
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains("PRIVATE KEY") && !shown.contains("MII"),
                "{shown}"
            );
        }
    }
}
