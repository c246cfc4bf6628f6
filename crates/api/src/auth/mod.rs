//! Who is calling, and what they may do.
//!
//! Every protected handler takes a [`Caller`] (the extractor answers 401 when
//! the request carries no valid credential) and, inside its database
//! closure, asks it for the [`DataScope`] of the permission the operation
//! needs: [`Caller::authorize`] answers 403 when no grant includes it.
//! Repository functions take that scope and filter their SQL by it, so a
//! handler cannot read or change a record without having resolved one, and
//! a record outside it is a 404.
//!
//! Credentials, all as `Authorization: Bearer …`:
//! - an access JWT of a staff member or a resident ([`tokens`]); the grants
//!   behind it are read on every request, so logout, deactivation and
//!   withdrawn roles take effect at once;
//! - an integration key `wuye_sk_…`, looked up by its hash.

pub mod password;
pub mod throttle;
pub mod tokens;

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use wuye_domain::access::{DataScope, Grants, Permission};
use wuye_persistence::access::grants;
use wuye_persistence::audit::Actor;
use wuye_persistence::{Db, DbConn};

use crate::error::ApiError;
use crate::i18n::Text;
use crate::middleware::RequestContext;
use password::{PasswordCost, Passwords};
use throttle::{LoginThrottle, ThrottlePolicy};
use tokens::{Subject, TokenKeys};

/// Settings of sign-in and tokens.
#[derive(Clone)]
pub struct AuthConfig {
    /// The HS256 signing secret (at least 32 random bytes in production).
    pub secret: Vec<u8>,
    /// `iss` of issued tokens.
    pub issuer: String,
    /// `aud` of issued tokens, and the only audience accepted.
    pub audience: String,
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of an unused refresh token.
    pub refresh_ttl: Duration,
    /// Longest a session lasts however often it is refreshed.
    pub session_lifetime: Duration,
    /// Password hashing cost.
    pub password_cost: PasswordCost,
    /// Failed sign-in limits.
    pub throttle: ThrottlePolicy,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy
    /// that sets it); otherwise the peer address.
    pub trust_forwarded_for: bool,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

impl Default for AuthConfig {
    /// Everything but the secret, which the caller must provide.
    fn default() -> Self {
        Self {
            secret: Vec::new(),
            issuer: "wuye".to_owned(),
            audience: "wuye-api".to_owned(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(14 * 24 * 3600),
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
            password_cost: PasswordCost::default(),
            throttle: ThrottlePolicy::default(),
            trust_forwarded_for: false,
        }
    }
}

/// Why the authentication state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// No secret configured.
    #[error("no JWT signing secret is configured")]
    NoSecret,
    /// The secret cannot make keys.
    #[error(transparent)]
    Keys(#[from] tokens::KeyError),
    /// Password hashing cannot be set up.
    #[error(transparent)]
    Passwords(#[from] password::HashError),
}

/// Sign-in state shared by every worker.
#[derive(Debug)]
pub struct Auth {
    /// Token signing and verification.
    pub keys: TokenKeys,
    /// Password hashing.
    pub passwords: Passwords,
    /// Failed sign-in counters.
    pub throttle: LoginThrottle,
    /// The configuration.
    pub config: AuthConfig,
}

impl Auth {
    /// Builds keys and hasher from the configuration.
    pub fn new(config: AuthConfig) -> Result<Self, AuthSetupError> {
        if config.secret.is_empty() {
            return Err(AuthSetupError::NoSecret);
        }
        Ok(Self {
            keys: TokenKeys::new(
                &config.secret,
                &config.issuer,
                &config.audience,
                config.access_ttl,
            )?,
            passwords: Passwords::new(config.password_cost)?,
            throttle: LoginThrottle::new(config.throttle),
            config,
        })
    }
}

/// The credential a request carried, verified as far as possible without
/// the database.
#[derive(Debug, Clone)]
enum Credential {
    Staff { user_id: i64, session_id: i64 },
    Resident { resident_id: i64, session_id: i64 },
    ApiKey { grants: Grants },
}

/// An authenticated caller: a staff member, a resident or an integration
/// key, with the request's id and client address for the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    credential: Credential,
    actor: Actor,
}

impl Caller {
    /// Who this is, for the audit log and idempotency keys.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// A stable name of the caller (`staff:3`), so two callers' idempotency
    /// keys never meet.
    pub fn principal(&self) -> String {
        format!("{}:{}", self.actor.kind, self.actor.id.unwrap_or(0))
    }

    /// Everything this caller holds, read fresh: 401 when the session has
    /// ended since the token was issued (residents and keys hold what they
    /// hold; residents no staff permission at all).
    pub fn grants(&self, conn: &mut DbConn) -> Result<Grants, ApiError> {
        match &self.credential {
            Credential::Staff {
                user_id,
                session_id,
            } => grants::for_staff(conn, *user_id, *session_id)?.ok_or_else(session_ended),
            Credential::Resident {
                resident_id,
                session_id,
            } => {
                if grants::resident_session_live(conn, *resident_id, *session_id)? {
                    Ok(Grants::default())
                } else {
                    Err(session_ended())
                }
            }
            Credential::ApiKey { grants } => Ok(grants.clone()),
        }
    }

    /// Where `permission` reaches for this caller: the scope every query of
    /// the operation filters by. 403 when no grant includes the permission
    /// (residents hold none); 401 when the session has ended.
    pub fn authorize(
        &self,
        conn: &mut DbConn,
        permission: Permission,
    ) -> Result<DataScope, ApiError> {
        self.grants(conn)?
            .scope_for(permission)
            .ok_or_else(|| forbidden(permission))
    }

    /// The signed-in staff member and session, for their own account's
    /// routes (`/auth/me`, password change); 403 for anyone else, 401 once
    /// the session has ended.
    pub fn staff(&self, conn: &mut DbConn) -> Result<(i64, i64), ApiError> {
        let ids = self.staff_ids()?;
        self.grants(conn)?;
        Ok(ids)
    }

    /// The staff member and session the token names, without reading the
    /// database: for a handler that has already authorised the caller (so
    /// the session is known to be live), or reads the grants itself.
    pub fn staff_ids(&self) -> Result<(i64, i64), ApiError> {
        match &self.credential {
            Credential::Staff {
                user_id,
                session_id,
            } => Ok((*user_id, *session_id)),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "auth.staff_only",
                Text::new("仅限员工账号", "Only staff accounts may do this"),
            )),
        }
    }

    /// The signed-in resident, for residents' own routes; 403 for anyone
    /// else.
    pub fn resident(&self, conn: &mut DbConn) -> Result<i64, ApiError> {
        match &self.credential {
            Credential::Resident {
                resident_id,
                session_id,
            } => {
                if !grants::resident_session_live(conn, *resident_id, *session_id)? {
                    return Err(session_ended());
                }
                Ok(*resident_id)
            }
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "auth.residents_only",
                Text::new(
                    "仅限通过微信小程序登录的住户",
                    "Only residents signed in through the WeChat mini-program may do this",
                ),
            )),
        }
    }

    /// Whether this is a resident of the mini-program (not yet checked
    /// against the database: [`Caller::resident`] does that).
    pub fn is_resident(&self) -> bool {
        matches!(self.credential, Credential::Resident { .. })
    }

    /// The session of a staff member or resident (for logout).
    pub fn session_id(&self) -> Option<i64> {
        match &self.credential {
            Credential::Staff { session_id, .. } | Credential::Resident { session_id, .. } => {
                Some(*session_id)
            }
            Credential::ApiKey { .. } => None,
        }
    }
}

/// The request's id and client address, for audit events of requests that
/// have no signed-in caller yet (sign-in itself).
pub fn anonymous_actor(req: &HttpRequest) -> Actor {
    let trust = req
        .app_data::<web::Data<Auth>>()
        .is_some_and(|auth| auth.config.trust_forwarded_for);
    Actor {
        kind: "anonymous",
        id: None,
        request_id: RequestContext::of(req).request_id,
        client_addr: client_address(req, trust),
    }
}

/// The client's address: the peer, or — when configured to trust a proxy —
/// the last `X-Forwarded-For` hop, the one that proxy appended. Earlier hops
/// are whatever the client chose to send, so they are never used.
pub fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(hop) = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .last()
    {
        return hop.chars().take(64).collect();
    }
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string())
}

/// A 401 with the `WWW-Authenticate` challenge every 401 carries (RFC 9110).
pub fn unauthenticated(code: &'static str, detail: Text) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, detail).with_header(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"wuye\""),
    )
}

fn missing_credential() -> ApiError {
    unauthenticated(
        "auth.unauthenticated",
        Text::new(
            "请先登录：请求需要 Authorization: Bearer <访问令牌或集成密钥>",
            "Sign in first: send Authorization: Bearer <access token or integration key>",
        ),
    )
}

/// 401 for a credential that is not (or no longer) valid.
pub fn invalid_credential() -> ApiError {
    unauthenticated(
        "auth.invalid_token",
        Text::new(
            "访问令牌或集成密钥无效、已过期或已吊销，请重新登录",
            "The access token or key is invalid, expired or revoked; sign in again",
        ),
    )
}

fn session_ended() -> ApiError {
    unauthenticated(
        "auth.session_ended",
        Text::new(
            "登录已失效（已退出、账号已停用或令牌已吊销），请重新登录",
            "The session has ended (signed out, account deactivated or revoked); sign in again",
        ),
    )
}

/// 403 naming the permission that is missing.
pub fn forbidden(permission: Permission) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "auth.forbidden",
        Text::owned(
            format!("您没有执行此操作所需的权限 {permission}"),
            format!("You lack the permission {permission} this operation needs"),
        ),
    )
}

/// Seconds between recordings of an integration key's last use: enough to
/// see which keys are alive without a write on every request.
const KEY_USE_RESOLUTION_SECS: i64 = 60;

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<Auth>>().cloned();
        let db = req.app_data::<web::Data<Db>>().cloned();
        let mut actor = anonymous_actor(req);
        let bearer = req.headers().get(AUTHORIZATION).map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|v| {
                    let (scheme, token) = v.split_once(' ')?;
                    scheme
                        .eq_ignore_ascii_case("bearer")
                        .then(|| token.trim().to_owned())
                })
                .filter(|t| !t.is_empty())
        });
        Box::pin(async move {
            let (Some(auth), Some(db)) = (auth, db) else {
                return Err(ApiError::internal(&"authentication is not configured"));
            };
            let token = match bearer {
                None => return Err(missing_credential()),
                Some(None) => return Err(invalid_credential()),
                Some(Some(token)) => token,
            };
            if token.starts_with(tokens::API_KEY_PREFIX) {
                let hash = tokens::digest(&token);
                let found = db
                    .read(move |conn| grants::for_api_key(conn, &hash))
                    .await?
                    .ok_or_else(invalid_credential)?;
                let stale = found.last_used_at.is_none_or(|at| {
                    (wuye_persistence::clock::now() - at).num_seconds() >= KEY_USE_RESOLUTION_SECS
                });
                if stale {
                    let key_id = found.key_id;
                    // Recording use is bookkeeping: a failure must not fail
                    // the request it was made for.
                    if let Err(error) = db
                        .write(move |conn| grants::touch_api_key(conn, key_id))
                        .await
                    {
                        tracing::warn!(%error, "could not record integration key use");
                    }
                }
                actor.kind = "api_key";
                actor.id = Some(found.key_id);
                return Ok(Caller {
                    credential: Credential::ApiKey {
                        grants: found.grants,
                    },
                    actor,
                });
            }
            let (subject, session_id) = auth.keys.verify(&token).ok_or_else(invalid_credential)?;
            let credential = match subject {
                Subject::Staff(user_id) => {
                    actor.kind = "staff";
                    actor.id = Some(user_id);
                    Credential::Staff {
                        user_id,
                        session_id,
                    }
                }
                Subject::Resident(resident_id) => {
                    actor.kind = "resident";
                    actor.id = Some(resident_id);
                    Credential::Resident {
                        resident_id,
                        session_id,
                    }
                }
            };
            Ok(Caller { credential, actor })
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::client_address;

    #[test]
    fn client_address_is_the_peer_or_the_proxys_own_hop() {
        let peer = "10.0.0.9:5000".parse().unwrap();
        let request = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("X-Forwarded-For", "6.6.6.6, 203.0.113.7"))
            .to_http_request();
        assert_eq!(client_address(&request, false), "10.0.0.9");
        // What the client wrote first is not trusted; the hop the proxy
        // appended is.
        assert_eq!(client_address(&request, true), "203.0.113.7");
        let direct = TestRequest::default().peer_addr(peer).to_http_request();
        assert_eq!(client_address(&direct, true), "10.0.0.9");
    }
}
