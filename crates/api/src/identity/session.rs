//! Signing in and out — `/api/v1/auth/*`: staff by username and password,
//! residents by the WeChat mini-program's login code; token refresh with
//! rotation; the caller's own profile; password change.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Duration as ChronoDuration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::{self as rules, Permission};
use wuye_persistence::Db;
use wuye_persistence::access::sessions::{self, Rotation};
use wuye_persistence::access::users;
use wuye_persistence::audit::{Actor, AuditTarget};
use wuye_persistence::residents::accounts;

use crate::auth::tokens::{self, Subject};
use crate::auth::{Auth, Caller, anonymous_actor, client_address, unauthenticated};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use crate::i18n::Text;
use crate::validate::rule_code;
use crate::wechat::WechatClient;

/// Tokens issued at sign-in and refresh.
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.…",
    "token_type": "Bearer", "expires_in": 900,
    "refresh_token": "3q2-7wAAAAB9…"
})))]
pub struct TokenPair {
    /// The access token: send it as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single-use token for `POST /api/v1/auth/refresh`; keep it secret.
    pub refresh_token: String,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Longest username a sign-in may carry (the contract's `maxLength`).
const LOGIN_FIELD_MAX_CHARS: usize = 64;
/// Longest password a sign-in may carry (the contract's `maxLength`).
const PASSWORD_FIELD_MAX_CHARS: usize = 1024;

/// Staff sign-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"username": "li.lei", "password": "correct horse 9"})))]
pub struct LoginRequest {
    /// Username (case-insensitive).
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    /// Password.
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A refresh token to exchange.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last sign-in or refresh.
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest")
    }
}

/// A WeChat mini-program sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"code": "0a3Xb3000abc1234"})))]
pub struct WechatLoginRequest {
    /// The code `wx.login` returned (valid 5 minutes, usable once).
    #[schema(min_length = 1, max_length = 256)]
    pub code: String,
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// The new one: 10–128 characters, letters mixed with digits or symbols.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange")
    }
}

/// The signed-in caller.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "kind": "staff", "id": 1, "username": "admin", "display_name": "admin",
    "office_id": null, "mobile": null,
    "permissions": ["org.read", "org.write"]
})))]
pub struct Me {
    /// `staff` or `resident`.
    pub kind: &'static str,
    /// The staff account or resident id.
    pub id: i64,
    /// Staff: username.
    pub username: Option<String>,
    /// Staff: display name.
    pub display_name: Option<String>,
    /// Staff: home office (`null`: company level).
    pub office_id: Option<i64>,
    /// Staff: own mobile phone (shown in full to its owner).
    pub mobile: Option<String>,
    /// Permissions held in any scope (residents hold none).
    pub permissions: Vec<Permission>,
}

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(change_password)
        .service(wechat_login);
}

fn invalid_credentials() -> ApiError {
    unauthenticated(
        "auth.invalid_credentials",
        Text::new("用户名或密码错误", "Wrong username or password"),
    )
}

fn too_many_attempts(wait: std::time::Duration) -> ApiError {
    let seconds = wait.as_secs().max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "auth.too_many_attempts",
        Text::owned(
            format!("登录失败次数过多，请 {seconds} 秒后再试"),
            format!("Too many failed sign-ins; try again in {seconds} s"),
        ),
    )
    .with_header(
        RETRY_AFTER,
        HeaderValue::from_str(&seconds.to_string()).unwrap_or(HeaderValue::from_static("60")),
    )
}

fn chrono(duration: std::time::Duration) -> ChronoDuration {
    // Lifetimes come from configuration, which `main` keeps to sane ranges;
    // anything beyond chrono's range still must not panic.
    ChronoDuration::from_std(duration).unwrap_or(ChronoDuration::days(3650))
}

/// Starts a session for `subject` and answers with its first tokens; the
/// sign-in is audited in the same transaction.
async fn start_session(
    db: &Db,
    auth: &Auth,
    subject: Subject,
    actor: Actor,
    target: AuditTarget,
) -> ApiResult<HttpResponse> {
    let refresh_token = tokens::new_refresh_token().map_err(|e| ApiError::internal(&e))?;
    let hash = tokens::digest(&refresh_token);
    let lifetime = chrono(auth.config.session_lifetime);
    let session_id = db
        .write(move |conn| {
            let session_id = sessions::start(conn, subject, &hash, lifetime)?;
            crate::audit::record(
                conn,
                &actor,
                "sign_in",
                target.clone(),
                &serde_json::Map::new(),
            )?;
            Ok::<_, ApiError>(session_id)
        })
        .await?;
    token_response(auth, subject, session_id, refresh_token)
}

fn token_response(
    auth: &Auth,
    subject: Subject,
    session_id: i64,
    refresh_token: String,
) -> ApiResult<HttpResponse> {
    let access_token = auth
        .keys
        .issue(subject, session_id)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in: auth.keys.access_ttl().as_secs(),
            refresh_token,
        }))
}

/// Staff sign-in.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    summary = "员工登录 / Staff sign-in",
    description = "用户名和密码换取访问令牌（15 分钟）和刷新令牌。同一账号或同一客户端地址连续失败过多时返回 429 和 Retry-After；错误信息不会透露用户名是否存在。\n\n\
Exchanges username and password for an access token (15 min) and a refresh token. Too many failures for one account or from one address answer 429 with Retry-After; answers never reveal whether a username exists.",
    request_body = LoginRequest,
    security(()),
    responses(
        (status = 200, description = "已登录 / Signed in", body = TokenPair),
        (status = 401, description = "用户名或密码错误 / Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "失败次数过多 / Too many failures", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "秒数 / Seconds to wait"))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    db: web::Data<Db>,
    auth: web::Data<Auth>,
    Json(body): Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    // Nothing longer than the contract allows can be an account or a
    // password; refusing it up front keeps it out of the throttle's memory.
    if body.username.chars().count() > LOGIN_FIELD_MAX_CHARS
        || body.password.chars().count() > PASSWORD_FIELD_MAX_CHARS
    {
        return Err(invalid_credentials());
    }
    let account = body.username.trim().to_lowercase();
    let address = client_address(&req, auth.config.trust_forwarded_for);
    auth.throttle
        .begin(&account, &address)
        .map_err(too_many_attempts)?;
    let lookup = account.clone();
    let user = db.read(move |conn| users::for_login(conn, &lookup)).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = body.password;
    let verifier = auth.clone();
    let matches = web::block(move || verifier.passwords.verify(&password, hash.as_deref()))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let user = match user {
        Some(user) if matches && user.active => user,
        _ => return Err(invalid_credentials()),
    };
    auth.throttle.succeeded(&account, &address);
    let mut actor = anonymous_actor(&req);
    actor.kind = "staff";
    actor.id = Some(user.id);
    let target = AuditTarget {
        resource_type: "user",
        resource_id: Some(user.id),
        office_id: user.office_id,
    };
    start_session(&db, &auth, Subject::Staff(user.id), actor, target).await
}

/// Resident sign-in through the WeChat mini-program.
#[utoipa::path(
    tag = "auth",
    operation_id = "wechat_login",
    summary = "住户微信登录 / Resident sign-in with WeChat",
    description = "小程序调用 wx.login 得到 code，服务器向微信换取 openid（不接受客户端提供的 openid），返回住户的访问令牌和刷新令牌。\n\n\
The mini-program sends the code from wx.login; the server exchanges it with WeChat for the openid (an openid sent by a client is never trusted) and returns the resident's tokens.",
    request_body = WechatLoginRequest,
    security(()),
    responses(
        (status = 200, description = "已登录 / Signed in", body = TokenPair),
        (status = 401, description = "code 无效或已使用（40029）/ Invalid or used code (40029)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "微信判定为高风险用户（40226）/ Risky user (40226)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "调用过于频繁（45011）/ Rate limited (45011)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "微信返回了无法使用的应答 / Unusable WeChat answer", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "微信繁忙或未配置 / WeChat busy or not configured", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "微信超时 / WeChat timed out", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/wechat")]
pub async fn wechat_login(
    req: HttpRequest,
    db: web::Data<Db>,
    auth: web::Data<Auth>,
    wechat: web::Data<WechatClient>,
    Json(body): Json<WechatLoginRequest>,
) -> ApiResult<HttpResponse> {
    let session = wechat.code_to_session(&body.code).await?;
    let resident_id = db
        .write(move |conn| accounts::sign_in(conn, &session.openid, session.unionid.as_deref()))
        .await
        .map_err(ApiError::from)?;
    let mut actor = anonymous_actor(&req);
    actor.kind = "resident";
    actor.id = Some(resident_id);
    let target = AuditTarget {
        resource_type: "resident",
        resource_id: Some(resident_id),
        office_id: None,
    };
    start_session(&db, &auth, Subject::Resident(resident_id), actor, target).await
}

/// Exchanges a refresh token for new tokens.
#[utoipa::path(
    tag = "auth",
    operation_id = "refresh_token",
    summary = "刷新令牌 / Refresh tokens",
    description = "每个刷新令牌只能使用一次，换取新的访问令牌和刷新令牌。再次使用已用过的刷新令牌（可能被盗用）会吊销整个登录会话。\n\n\
Each refresh token works once, for a new access and refresh token. Presenting a used one again (a sign of theft) revokes the whole session.",
    request_body = RefreshRequest,
    security(()),
    responses(
        (status = 200, description = "新令牌 / New tokens", body = TokenPair),
        (status = 401, description = "刷新令牌无效、过期或已被使用（会话已吊销）/ Invalid, expired or reused refresh token (session revoked)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    req: HttpRequest,
    db: web::Data<Db>,
    auth: web::Data<Auth>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let presented = tokens::digest(&body.refresh_token);
    let next = tokens::new_refresh_token().map_err(|e| ApiError::internal(&e))?;
    let next_hash = tokens::digest(&next);
    let idle = chrono(auth.config.refresh_ttl);
    let actor = anonymous_actor(&req);
    // A reuse revokes the session in this transaction, which must commit
    // even though the request is refused; it is a sign of a stolen token,
    // so it is audited there too.
    let rotation = db
        .write(move |conn| {
            let rotation = sessions::rotate(conn, &presented, &next_hash, idle)?;
            if let Rotation::Reused { session_id } = rotation {
                let target = AuditTarget {
                    resource_type: "session",
                    resource_id: Some(session_id),
                    office_id: None,
                };
                crate::audit::record(
                    conn,
                    &actor,
                    "refresh_token_reused",
                    target,
                    &serde_json::json!({"session_revoked": true}),
                )?;
            }
            Ok::<_, ApiError>(rotation)
        })
        .await?;
    match rotation {
        Rotation::Rotated {
            session_id,
            subject,
        } => token_response(&auth, subject, session_id, next),
        Rotation::Reused { .. } => Err(unauthenticated(
            "auth.refresh_token_reused",
            Text::new(
                "刷新令牌已被使用过，为安全起见本次登录已全部失效，请重新登录",
                "This refresh token was already used; the session is revoked for safety. Sign in again",
            ),
        )),
        Rotation::Invalid => Err(unauthenticated(
            "auth.invalid_refresh_token",
            Text::new(
                "刷新令牌无效或已过期，请重新登录",
                "The refresh token is invalid or expired; sign in again",
            ),
        )),
    }
}

/// Signs out.
#[utoipa::path(
    tag = "auth",
    operation_id = "logout",
    summary = "退出登录 / Sign out",
    description = "结束当前会话：其刷新令牌和访问令牌立即失效。\n\nEnds the current session: its refresh and access tokens stop working at once.",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "已退出 / Signed out"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(db: web::Data<Db>, caller: Caller) -> ApiResult<HttpResponse> {
    let Some(session_id) = caller.session_id() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.no_session",
            Text::new(
                "集成密钥没有会话可退出；请由管理员吊销密钥",
                "Integration keys have no session; an administrator revokes keys instead",
            ),
        ));
    };
    db.write(move |conn| {
        sessions::revoke(conn, session_id)?;
        let target = AuditTarget {
            resource_type: "session",
            resource_id: Some(session_id),
            office_id: None,
        };
        crate::audit::record(
            conn,
            caller.actor(),
            "sign_out",
            target,
            &serde_json::Map::new(),
        )?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in caller.
#[utoipa::path(
    tag = "auth",
    operation_id = "get_me",
    summary = "当前用户 / Who am I",
    description = "当前登录的员工或住户，以及其拥有的权限。\n\nThe signed-in staff member or resident, and the permissions they hold.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "当前用户 / The caller", body = Me),
    )
)]
#[get("/auth/me")]
pub async fn me(db: web::Data<Db>, caller: Caller) -> ApiResult<HttpResponse> {
    let me = db
        .read(move |conn| {
            if caller.is_resident() {
                let resident_id = caller.resident(conn)?;
                return Ok(Me {
                    kind: "resident",
                    id: resident_id,
                    username: None,
                    display_name: None,
                    office_id: None,
                    mobile: None,
                    permissions: Vec::new(),
                });
            }
            let (user_id, _) = caller.staff_ids()?;
            let permissions = caller.grants(conn)?.permissions().into_iter().collect();
            let user = users::own(conn, user_id)?;
            Ok::<_, ApiError>(Me {
                kind: "staff",
                id: user.id,
                username: Some(user.username),
                display_name: Some(user.display_name),
                office_id: user.office_id,
                mobile: user.mobile,
                permissions,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(me))
}

/// Changes the caller's own password.
#[utoipa::path(
    tag = "auth",
    operation_id = "change_password",
    summary = "修改密码 / Change password",
    description = "须提供当前密码。修改后本账号的其他会话全部失效，当前会话保留。\n\n\
Needs the current password. Every other session of the account ends; this one stays.",
    request_body = PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "已修改 / Changed"),
        (status = 401, description = "当前密码错误 / Wrong current password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "不是员工账号 / Not a staff account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "新密码不符合要求 / New password too weak", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "失败次数过多 / Too many failures", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password")]
pub async fn change_password(
    req: HttpRequest,
    db: web::Data<Db>,
    auth: web::Data<Auth>,
    caller: Caller,
    Json(body): Json<PasswordChange>,
) -> ApiResult<HttpResponse> {
    let who = caller.clone();
    let (user_id, session_id, user) = db
        .read(move |conn| {
            let (user_id, session_id) = who.staff(conn)?;
            Ok::<_, ApiError>((user_id, session_id, users::own(conn, user_id)?))
        })
        .await?;
    rules::check_new_password(&body.new_password)
        .map_err(|e| ApiError::validation(vec![rule_code("new_password", e.code())]))?;
    let address = client_address(&req, auth.config.trust_forwarded_for);
    auth.throttle
        .begin(&user.username, &address)
        .map_err(too_many_attempts)?;
    let hasher = auth.clone();
    let current = body.current_password;
    let new = body.new_password;
    let stored = user.password_hash.clone();
    let (matches, new_hash) = web::block(move || {
        let matches = hasher.passwords.verify(&current, Some(&stored));
        let new_hash = matches.then(|| hasher.passwords.hash(&new)).transpose();
        (matches, new_hash)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    if !matches {
        return Err(unauthenticated(
            "auth.wrong_password",
            Text::new("当前密码错误", "The current password is wrong"),
        ));
    }
    auth.throttle.succeeded(&user.username, &address);
    let new_hash = new_hash
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::internal(&"no new hash"))?;
    let target = AuditTarget {
        resource_type: "user",
        resource_id: Some(user_id),
        office_id: user.office_id,
    };
    db.write(move |conn| {
        users::set_password(conn, user_id, &new_hash)?;
        sessions::revoke_all_of_user(conn, user_id, Some(session_id))?;
        crate::audit::record(
            conn,
            caller.actor(),
            "change_password",
            target.clone(),
            &serde_json::json!({"password": "changed"}),
        )?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
