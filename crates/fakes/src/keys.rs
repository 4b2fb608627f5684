//! The throwaway RSA keys the fakes sign and verify with (see `keys/README.md`).
//!
//! Owns loading them and signing tokens. These keys are published test fixtures: nothing
//! outside tests and the demo may ever trust them.

use std::io;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::Rng as _;
use serde::Serialize;

/// The private key of the test service account; it belongs to the *client* side.
pub(crate) const SERVICE_ACCOUNT_PRIVATE_PEM: &str =
    include_str!("../keys/service_account.key.pem");
pub(crate) const SERVICE_ACCOUNT_PUBLIC_PEM: &str = include_str!("../keys/service_account.pub.pem");
/// The fakes' own signing key (Google id_tokens, Xero access and id tokens).
const PROVIDER_PRIVATE_PEM: &str = include_str!("../keys/provider_signing.key.pem");
/// The modulus of the provider key, base64url, for the JWKS document. `e` is 65537.
pub(crate) const PROVIDER_JWK_N: &str = include_str!("../keys/provider_signing.jwk-n.txt");
pub(crate) const PROVIDER_JWK_E: &str = "AQAB";
pub(crate) const PROVIDER_KID: &str = "roster-fake-provider-2026";

/// Signs provider-issued tokens with the fake provider key.
#[derive(Clone)]
pub(crate) struct Signer {
    key: EncodingKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer([redacted])")
    }
}

impl Signer {
    pub(crate) fn provider() -> io::Result<Self> {
        let key =
            EncodingKey::from_rsa_pem(PROVIDER_PRIVATE_PEM.as_bytes()).map_err(io::Error::other)?;
        Ok(Self { key })
    }

    /// An RS256 JWT with the provider `kid`. Claims whose value is `null` are left out:
    /// providers omit a claim they have no value for (an id_token without a requested
    /// `nonce` has no `nonce` at all).
    pub(crate) fn sign(&self, claims: &impl Serialize) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(PROVIDER_KID.to_owned());
        let mut claims = serde_json::to_value(claims).unwrap_or_default();
        if let Some(map) = claims.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        // Signing with a valid embedded key cannot fail; an empty token would be refused.
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap_or_default()
    }
}

/// An opaque random token: `prefix` then `bytes` random bytes in lowercase hex.
pub(crate) fn random_token(prefix: &str, bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill(raw.as_mut_slice());
    format!("{prefix}{}", crate::serve::hex(&raw))
}
