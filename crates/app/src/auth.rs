//! Who is calling, in which organization, with which rights.
//!
//! Bearer tokens are HS256 JWTs signed with a key derived from the vault's key ring (one
//! per ring key, named by `kid`, so rotating `ROSTER_SECRET_KEY` keeps old tokens valid
//! until the old key is removed). Expiry is checked against the application's `Clock` with
//! no leeway: the issuer and the verifier share one clock. Every request reloads the user,
//! so a deleted user's token stops working at once.

use std::marker::PhantomData;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use roster_domain::model::{Organization, User};
use roster_domain::permissions::{Matrix, Permission};
use roster_domain::{AccessLevel, OrgId, UserId};
use roster_vault::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::{App, Error, Result};

const ISSUER: &str = "roster";
/// HKDF `info` for the token-signing keys; changing it invalidates every token.
const TOKEN_KEY_INFO: &[u8] = b"roster/session-jwt/hs256/v1";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// A signed bearer token and when it stops working.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl App {
    /// Signs a token for `user`, valid for `ttl` from now.
    pub fn issue_token(&self, user: UserId, ttl: Duration) -> Result<IssuedToken> {
        if ttl <= Duration::zero() || ttl > self.settings.max_token_ttl {
            return Err(Error::Invalid(vec![roster_domain::FieldError::new(
                "ttl",
                format!(
                    "must be between 1s and {}d",
                    self.settings.max_token_ttl.num_days()
                ),
            )]));
        }
        let now = self.clock.now();
        let expires_at = now + ttl;
        let keys = self.keys.derive(TOKEN_KEY_INFO);
        let (kid, key) = keys.first().ok_or(Error::Unauthenticated)?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_string());
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: user.to_string(),
            iat: now.timestamp(),
            // `exp` is whole seconds; round up so a token lives at least its `ttl` (a `1s`
            // token issued at x.9 must not die a tenth of a second later).
            exp: expires_at.timestamp() + i64::from(expires_at.timestamp_subsec_nanos() > 0),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let token = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(key.expose_secret()),
        )
        .map_err(|e| {
            Error::Store(roster_store::Error::Internal(format!(
                "signing a token: {e}"
            )))
        })?;
        Ok(IssuedToken { token, expires_at })
    }

    /// The user a bearer token names, if it is ours, unexpired, and the user still exists.
    pub async fn verify_token(&self, token: &str) -> Result<User> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Error::Unauthenticated)?;
        if header.alg != Algorithm::HS256 {
            return Err(Error::Unauthenticated);
        }
        let kid = header.kid.ok_or(Error::Unauthenticated)?;
        let keys = self.keys.derive(TOKEN_KEY_INFO);
        let (_, key) = keys
            .iter()
            .find(|(id, _)| id.to_string() == kid)
            .ok_or(Error::Unauthenticated)?;
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against our clock, with no leeway.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[ISSUER]);
        let data = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(key.expose_secret()),
            &validation,
        )
        .map_err(|_| Error::Unauthenticated)?;
        if self.clock.now().timestamp() >= data.claims.exp {
            return Err(Error::Unauthenticated);
        }
        let user_id: UserId = data
            .claims
            .sub
            .parse()
            .map_err(|_| Error::Unauthenticated)?;
        let mut tx = self.store.read().await?;
        let user = tx.find_user(user_id).await?.ok_or(Error::Unauthenticated)?;
        tx.rollback().await?;
        Ok(user)
    }

    /// Resolves the organization a request acts in: the one `x-active-org` names (by id
    /// or slug) when the user is a member of it (403 otherwise), else the user's default
    /// organization, else their oldest membership.
    pub async fn authenticate(&self, token: &str, active_org: Option<&str>) -> Result<Caller> {
        let user = self.verify_token(token).await?;
        let mut tx = self.store.read().await?;
        let memberships = tx.memberships_of(user.id).await?;
        let chosen = match active_org.map(str::trim) {
            Some(wanted) => memberships
                .iter()
                .find(|(org, _)| {
                    org.slug == wanted || org.id.to_string() == wanted.to_ascii_lowercase()
                })
                .ok_or(Error::Forbidden(
                    "you are not a member of that organization",
                ))?,
            None => memberships
                .iter()
                .find(|(org, _)| Some(org.id) == user.default_org)
                .or_else(|| memberships.first())
                .ok_or(Error::Forbidden("you are not a member of any organization"))?,
        };
        let (org, level) = chosen.clone();
        let matrix = Matrix::with_overrides(tx.org(org.id).stored_grants().await?);
        tx.rollback().await?;
        Ok(Caller {
            user,
            org,
            level,
            matrix,
            request_id: None,
        })
    }
}

/// An authenticated user acting in one organization.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub org: Organization,
    pub level: AccessLevel,
    pub matrix: Matrix,
    /// The id of the request that carries this call, recorded with its audit events.
    pub request_id: Option<String>,
}

impl Caller {
    pub const fn org_id(&self) -> OrgId {
        self.org.id
    }

    /// The caller as the audit log records them.
    pub fn actor(&self) -> crate::audit::Actor<'_> {
        crate::audit::Actor {
            user: Some(self.user.id),
            request_id: self.request_id.as_deref(),
        }
    }

    pub fn permissions(&self) -> Vec<Permission> {
        self.matrix.permissions_of(self.level)
    }

    /// Proof that the caller holds `R`, or 403. The only way to make a [`Can`].
    pub fn can<R: Requirement>(&self) -> Result<Can<R>> {
        if R::is_met(self) {
            Ok(Can(PhantomData))
        } else {
            Err(Error::Forbidden(R::DENIED))
        }
    }
}

/// Something a caller must hold for an operation.
pub trait Requirement {
    const DENIED: &'static str;
    fn is_met(caller: &Caller) -> bool;
}

/// A proof that the caller met `R`; operations that need `R` take one as an argument.
#[derive(Debug)]
pub struct Can<R>(PhantomData<R>);

/// Executive access level (the Admin and Connections APIs).
#[derive(Debug)]
pub struct Executive;
impl Requirement for Executive {
    const DENIED: &'static str = "this endpoint is for executives only";
    fn is_met(caller: &Caller) -> bool {
        caller.level == AccessLevel::Executive
    }
}

macro_rules! permission_requirement {
    ($name:ident, $perm:expr, $denied:literal) => {
        #[derive(Debug)]
        pub struct $name;
        impl Requirement for $name {
            const DENIED: &'static str = $denied;
            fn is_met(caller: &Caller) -> bool {
                caller.matrix.allows(caller.level, $perm)
            }
        }
    };
}

permission_requirement!(ViewPeople, Permission::VIEW_PEOPLE, "you need view:people");
permission_requirement!(
    UpdatePeople,
    Permission::UPDATE_PEOPLE,
    "you need update:people"
);
permission_requirement!(
    ManagePeople,
    Permission::MANAGE_PEOPLE,
    "you need manage:people"
);
