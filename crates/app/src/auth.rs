//! Who is calling, in which organization, with which rights.
//!
//! Bearer tokens are HS256 JWTs signed with a key derived from the vault's key ring (one
//! per ring key, named by `kid`, so rotating `ROSTER_SECRET_KEY` keeps old tokens valid
//! until the old key is removed). The keys are derived once, when the `App` is built.
//! Expiry is checked against the application's `Clock` with no leeway: the issuer and the
//! verifier share one clock. A request reads the user, their memberships and the
//! organization's permission rows in one statement (`Store::load_caller`), or finds them in
//! the caller cache (`auth_cache.rs`), which serves an entry only while the store shows no
//! committed change since it was read (ADR 0022): a deleted user's token or a lowered level
//! takes effect on the next request.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use roster_domain::model::{Organization, User};
use roster_domain::permissions::{Matrix, Permission};
use roster_domain::{AccessLevel, OrgId, PersonId, UserId};
use roster_store::auth::{CallerRecord, MemberOf};
use roster_vault::{ExposeSecret, KeyRing};
use serde::{Deserialize, Serialize};

use crate::{App, Error, Result, auth_cache};

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

/// The token-signing keys, derived once from the key ring: newest first, by `kid`.
pub(crate) struct TokenKeys {
    /// The newest key's `kid` and signing key.
    signing: (String, EncodingKey),
    /// Every key of the ring, by `kid`: tokens signed before a rotation still verify.
    verifying: Vec<(String, DecodingKey)>,
    validation: Validation,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.verifying.iter().map(|(kid, _)| kid.as_str()).collect();
        f.debug_struct("TokenKeys")
            .field("kids", &kids)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub(crate) fn derive(ring: &KeyRing) -> Self {
        let (kid, key) = ring.derive_primary(TOKEN_KEY_INFO);
        let signing = (
            kid.to_string(),
            EncodingKey::from_secret(key.expose_secret()),
        );
        let verifying = ring
            .derive(TOKEN_KEY_INFO)
            .into_iter()
            .map(|(kid, key)| {
                (
                    kid.to_string(),
                    DecodingKey::from_secret(key.expose_secret()),
                )
            })
            .collect();
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against our clock, with no leeway.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[ISSUER]);
        Self {
            signing,
            verifying,
            validation,
        }
    }
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
        let (kid, key) = &self.token_keys.signing;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: user.to_string(),
            iat: now.timestamp(),
            // `exp` is whole seconds; round up so a token lives at least its `ttl` (a `1s`
            // token issued at x.9 must not die a tenth of a second later).
            exp: expires_at.timestamp() + i64::from(expires_at.timestamp_subsec_nanos() > 0),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let token = jsonwebtoken::encode(&header, &claims, key).map_err(Error::TokenSigning)?;
        Ok(IssuedToken { token, expires_at })
    }

    /// The user id a bearer token names and its expiry (whole seconds), if it is ours and
    /// unexpired. Reads nothing.
    fn token_subject(&self, token: &str) -> Result<(UserId, i64)> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Error::Unauthenticated)?;
        if header.alg != Algorithm::HS256 {
            return Err(Error::Unauthenticated);
        }
        let kid = header.kid.ok_or(Error::Unauthenticated)?;
        let (_, key) = self
            .token_keys
            .verifying
            .iter()
            .find(|(id, _)| *id == kid)
            .ok_or(Error::Unauthenticated)?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.token_keys.validation)
            .map_err(|_| Error::Unauthenticated)?;
        if self.clock.now().timestamp() >= data.claims.exp {
            return Err(Error::Unauthenticated);
        }
        let id = data
            .claims
            .sub
            .parse()
            .map_err(|_| Error::Unauthenticated)?;
        Ok((id, data.claims.exp))
    }

    /// The user a token names with every membership: 401 when the token is not ours, is
    /// expired, or its user is gone. Served from the caller cache while the store shows no
    /// change since it was read (ADR 0022), else one read of the database.
    async fn token_record(&self, token: &str) -> Result<Arc<CallerRecord>> {
        let stamp = self.store.auth_stamp();
        let key = auth_cache::token_key(token);
        if let Some(stamp) = &stamp {
            if let Some(hit) = self.callers.get(&key, stamp) {
                // The signature was checked when the entry was made; the expiry is checked
                // on every request against the application's clock.
                if self.clock.now().timestamp() >= hit.expires_at {
                    return Err(Error::Unauthenticated);
                }
                return Ok(hit.record);
            }
        }
        let (id, expires_at) = self.token_subject(token)?;
        let record = Arc::new(
            self.store
                .load_caller(id)
                .await?
                .ok_or(Error::Unauthenticated)?,
        );
        if let Some(stamp) = stamp {
            let cached = auth_cache::Cached {
                expires_at,
                record: record.clone(),
            };
            self.callers.put(key, stamp, cached);
        }
        Ok(record)
    }

    /// Checks a bearer token alone: 401 when it is not ours, expired, or its user is gone.
    pub async fn verify_token(&self, token: &str) -> Result<User> {
        Ok(self.token_record(token).await?.user.clone())
    }

    /// The caller a bearer token names, acting in the organization `active_org` names (by
    /// id or slug; see [`choose_membership`]). At most one read of the database.
    pub async fn authenticate(&self, token: &str, active_org: Option<&str>) -> Result<Caller> {
        let record = self.token_record(token).await?;
        let chosen = choose_membership(&record.user, &record.memberships, active_org)?;
        Ok(Caller {
            user: record.user.clone(),
            org: chosen.org.clone(),
            level: chosen.level,
            person: chosen.person,
            matrix: Matrix::with_overrides(chosen.grants.clone()),
            request_id: None,
        })
    }
}

/// The organization a request acts in: the one `wanted` names (by id or slug) when the user
/// is a member of it (403 otherwise), else the user's default organization, else their
/// oldest membership. `memberships` is oldest first.
pub fn choose_membership<'m>(
    user: &User,
    memberships: &'m [MemberOf],
    wanted: Option<&str>,
) -> Result<&'m MemberOf> {
    let index = match wanted.map(str::trim) {
        Some(wanted) => {
            let as_id = wanted.to_ascii_lowercase();
            memberships
                .iter()
                .position(|m| m.org.slug.as_str() == wanted || m.org.id.to_string() == as_id)
                .ok_or(Error::Forbidden(
                    "you are not a member of that organization",
                ))?
        }
        None => memberships
            .iter()
            .position(|m| Some(m.org.id) == user.default_org)
            .unwrap_or(0),
    };
    memberships
        .get(index)
        .ok_or(Error::Forbidden("you are not a member of any organization"))
}

/// An authenticated user acting in one organization.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub org: Organization,
    pub level: AccessLevel,
    /// The caller's own person in this organization, when linked.
    pub person: Option<PersonId>,
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

    /// Proof that the caller holds `R`, or 403. The only way to make a [`Can`]; the proof
    /// carries this caller, so it cannot be presented on behalf of anyone else.
    pub fn can<R: Requirement>(self) -> Result<Can<R>> {
        if R::is_met(&self) {
            Ok(Can {
                caller: self,
                requirement: PhantomData,
            })
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

/// A proof that one caller met `R`; operations that need `R` take one, and act as the
/// caller inside it.
#[derive(Debug)]
pub struct Can<R> {
    caller: Caller,
    requirement: PhantomData<fn() -> R>,
}

impl<R> Can<R> {
    /// The caller this proof was made for.
    pub const fn caller(&self) -> &Caller {
        &self.caller
    }
}

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
