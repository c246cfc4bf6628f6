//! Integration keys (集成密钥) — `/api/v1/api-keys` — for the company's
//! scripts (billing, access control, BI). A key is sent as
//! `Authorization: Bearer wuye_sk_…` and obeys its permissions and data
//! scope exactly like a staff member's role assignment.
//!
//! The secret is shown once, in the create answer, and never again: only
//! its SHA-256 is stored (it is 256 random bits, so a slow hash adds
//! nothing), plus its first characters so people can tell keys apart. Keys
//! are company-level records: managing them needs a company-wide scope.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::{AssignmentScope, Permission, ScopeKind};
use wuye_domain::org::NAME_MAX_CHARS;
use wuye_persistence::access::api_keys::{self as store, ApiKeyRow, NewApiKey};
use wuye_persistence::audit::Audited;
use wuye_persistence::{Db, StoreError};

use super::roles::{Scope, ensure_may_grant};
use crate::auth::{Caller, tokens};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Id, Json};
use crate::i18n::Text;
use crate::pagination::{PageParams, into_parts};
use crate::resource;
use crate::time::utc;
use crate::validate::label;
use crate::{page_type, parse_fields, sort_param};

/// Characters of a key kept in clear to tell keys apart: `wuye_sk_` and
/// four random characters, far too few to help guess the rest.
pub const PREFIX_CHARS: usize = 12;

/// An integration key (集成密钥), without its secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 2, "name": "收费系统同步", "prefix": "wuye_sk_Xb3q",
    "permissions": ["org.read"], "scope": {"kind": "offices", "office_ids": [1]},
    "created_by": 1, "created_at": "2026-12-04T08:00:00Z",
    "last_used_at": "2026-12-05T02:00:00Z", "revoked_at": null
})))]
pub struct ApiKey {
    /// Id.
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// Its first characters (`wuye_sk_` + 4), to tell keys apart.
    pub prefix: String,
    /// What it may do.
    pub permissions: Vec<Permission>,
    /// Where.
    pub scope: Scope,
    /// The staff account that created it (`null` when another key did).
    pub created_by: Option<i64>,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last used (UTC, to the minute), or `null` if never.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked (UTC), or `null` while it works.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            permissions: row.permissions.into_iter().collect(),
            scope: Scope::from(&row.scope),
            created_by: row.created_by,
            created_at: utc(row.created_at),
            last_used_at: row.last_used_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        }
    }
}

/// A key just created: the key and, this once, its secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 2, "name": "收费系统同步", "prefix": "wuye_sk_Xb3q",
    "permissions": ["org.read"], "scope": {"kind": "offices", "office_ids": [1]},
    "created_by": 1, "created_at": "2026-12-04T08:00:00Z",
    "last_used_at": null, "revoked_at": null,
    "secret": "wuye_sk_Xb3qL0v9m2kT8sYwq1Zr5eH7uJcA4nD6fG0pB3xV9iE"
})))]
pub struct ApiKeyWithSecret {
    /// The key.
    #[serde(flatten)]
    pub key: ApiKey,
    /// The secret, `wuye_sk_…`: send it as `Authorization: Bearer <secret>`.
    /// Shown only this once — it is not stored and cannot be shown again;
    /// a lost secret means revoking the key and creating another.
    pub secret: String,
}

/// A new integration key.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "name": "收费系统同步", "permissions": ["org.read"],
    "scope": {"kind": "offices", "office_ids": [1]}
})))]
pub struct ApiKeyCreate {
    /// What it is for (who runs it, where).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// What it may do: one or more permissions, each held by the caller in
    /// a scope covering `scope`.
    #[schema(min_items = 1)]
    pub permissions: Vec<Permission>,
    /// Where: `company` or `offices` (a key owns no records, so `own`
    /// would reach nothing and is refused).
    pub scope: Scope,
}

impl ApiKeyCreate {
    fn parse(&self) -> ApiResult<(String, Vec<Permission>, AssignmentScope)> {
        parse_fields! {
            name = label("name", &self.name, NAME_MAX_CHARS);
            permissions = if self.permissions.is_empty() {
                Err(FieldError::new(
                    "permissions",
                    "no_permissions",
                    Text::new("至少选择一项权限", "choose at least one permission"),
                ))
            } else {
                Ok(self.permissions.clone())
            };
            scope = match self.scope.kind {
                ScopeKind::Own => Err(FieldError::new(
                    "scope.kind",
                    "key_scope_cannot_be_own",
                    Text::new(
                        "集成密钥不拥有记录，数据范围只能是全公司或指定管理处",
                        "a key owns no records: its scope is company or offices",
                    ),
                )),
                _ => self.scope.parse(),
            };
        }
        Ok((name.into_inner(), permissions, scope))
    }
}

sort_param! {
    /// The order of a key list.
    ApiKeySortParam => (), default IdAsc {
        IdAsc = "id" => ((), Asc),
        IdDesc = "-id" => ((), Desc),
    }
}

/// Filters and order of a key list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiKeyListParams {
    /// Include revoked keys too (default `false`: working keys only).
    #[serde(default)]
    pub include_revoked: bool,
    /// Order; default `id` (creation order).
    #[serde(default)]
    #[param(inline)]
    pub sort: ApiKeySortParam,
}

page_type!(ApiKeyPage, ApiKey, "A page of integration keys.");

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_api_key)
        .service(list_api_keys)
        .service(get_api_key)
        .service(revoke_api_key);
}

/// Creates an integration key.
#[utoipa::path(
    tag = "api_keys",
    operation_id = "create_api_key",
    summary = "新建集成密钥 / Create an integration key",
    description = "为集成脚本新建密钥，需全公司范围的 access.write。应答中的 secret 只出现这一次，服务器只保存其哈希，之后无法再查看。\
密钥的每项权限调用者自己都须拥有且范围覆盖密钥的范围（否则 403 auth.permission_exceeds_own 或 auth.scope_exceeds_own）。\
不支持 Idempotency-Key：重放需要保存含 secret 的应答，而 secret 不落盘；重复创建的密钥可吊销。\n\n\
Creates a key for an integration script; needs `access.write` company-wide. The `secret` in the answer is \
shown this once: only its hash is stored, and it cannot be shown again. The caller must hold every \
permission of the key in a scope covering the key's (else 403 `auth.permission_exceeds_own` or \
`auth.scope_exceeds_own`). No Idempotency-Key: a replay would need the answer, secret included, kept \
on disk; revoke a key created twice.",
    request_body = ApiKeyCreate,
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 201, description = "已创建，含仅此一次显示的 secret / Created, with the secret shown once", body = ApiKeyWithSecret,
            headers(("Location" = String, description = "新密钥的地址 / URL of the new key"))),
        (status = 403, description = "缺少权限、不是全公司范围，或超出自己的权限或范围 / Permission missing, not company-wide, or beyond the caller's own", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效或管理处不存在 / Invalid field or unknown office", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api-keys")]
pub async fn create_api_key(
    db: web::Data<Db>,
    caller: Caller,
    Json(body): Json<ApiKeyCreate>,
) -> ApiResult<HttpResponse> {
    let (name, permissions, scope) = body.parse()?;
    let secret = tokens::new_api_key().map_err(|e| ApiError::internal(&e))?;
    let actor = caller.actor();
    let new = NewApiKey {
        name,
        prefix: secret.chars().take(PREFIX_CHARS).collect(),
        key_hash: tokens::digest(&secret),
        permissions: permissions.into_iter().collect(),
        scope,
        // Keys may create keys; only a staff creator is an account id.
        created_by: actor.id.filter(|_| actor.kind == "staff"),
    };
    let row = db
        .write(move |conn| {
            let write_scope = caller.authorize(conn, Permission::AccessWrite)?;
            if !write_scope.is_company() {
                return Err(StoreError::CompanyScopeRequired.into());
            }
            ensure_may_grant(
                &caller,
                conn,
                &write_scope,
                &new.permissions,
                &new.scope,
                None,
            )?;
            let row = store::create(conn, &write_scope, &new)?;
            crate::audit::record(conn, caller.actor(), "create", row.audit_target(), &body)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/api-keys/{}", row.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(ApiKeyWithSecret {
            key: ApiKey::from(row),
            secret,
        }))
}

/// Lists integration keys.
#[utoipa::path(
    tag = "api_keys",
    operation_id = "list_api_keys",
    summary = "集成密钥列表 / List integration keys",
    description = "有效的集成密钥（include_revoked=true 时含已吊销的），不含 secret；游标分页。密钥是公司级记录：非全公司范围的调用者得到空列表。\n\n\
Working keys (revoked ones too with `include_revoked=true`), never with their secret; cursor pages. \
Keys are company-level records: a caller without company-wide scope gets an empty list.",
    params(PageParams, ApiKeyListParams),
    security(("bearer" = ["access.read"]), ("api_key" = ["access.read"])),
    responses(
        (status = 200, description = "一页密钥 / A page of keys", body = ApiKeyPage),
        (status = 422, description = "cursor 无效 / Invalid cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<ApiKeyListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let include_revoked = params.include_revoked;
    let rows = resource::query(&db, caller, Permission::AccessRead, move |conn, scope| {
        store::list(conn, scope, include_revoked, &request)
    })
    .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), ApiKey::from);
    Ok(HttpResponse::Ok().json(ApiKeyPage { items, next_cursor }))
}

/// Gets one integration key.
#[utoipa::path(
    tag = "api_keys",
    operation_id = "get_api_key",
    summary = "查看集成密钥 / Get an integration key",
    description = "按 id 读取密钥（含已吊销的），不含 secret：前缀、权限、范围、创建人、创建和最近使用时间。\n\n\
Reads a key by id, revoked or not, never with its secret: prefix, permissions, scope, creator, \
creation and last use.",
    params(("id" = i64, Path, description = "密钥 id / Key id", minimum = 1)),
    security(("bearer" = ["access.read"]), ("api_key" = ["access.read"])),
    responses(
        (status = 200, description = "密钥 / The key", body = ApiKey),
        (status = 404, description = "不存在或不在范围内 / Not found or out of scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api-keys/{id}")]
pub async fn get_api_key(db: web::Data<Db>, caller: Caller, Id(id): Id) -> ApiResult<HttpResponse> {
    let row = resource::query(&db, caller, Permission::AccessRead, move |conn, scope| {
        store::get(conn, scope, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ApiKey::from(row)))
}

/// Revokes an integration key.
#[utoipa::path(
    tag = "api_keys",
    operation_id = "revoke_api_key",
    summary = "吊销集成密钥 / Revoke an integration key",
    description = "立即且永久停用密钥：之后用它的请求得到 401。写入审计日志（revoke）。\n\n\
Stops the key at once and for good: requests with it are then 401. Audited (`revoke`).",
    params(("id" = i64, Path, description = "密钥 id / Key id", minimum = 1)),
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 200, description = "已吊销 / Revoked", body = ApiKey),
        (status = 404, description = "不存在或不在范围内 / Not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "已吊销 / Already revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api-keys/{id}/revoke")]
pub async fn revoke_api_key(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<HttpResponse> {
    let row = db
        .write(move |conn| {
            let scope = caller.authorize(conn, Permission::AccessWrite)?;
            let row = store::revoke(conn, &scope, id).map_err(|error| match error {
                StoreError::Archived => already_revoked(),
                other => other.into(),
            })?;
            crate::audit::record(
                conn,
                caller.actor(),
                "revoke",
                row.audit_target(),
                &serde_json::Map::new(),
            )?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ApiKey::from(row)))
}

fn already_revoked() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "conflict.revoked",
        Text::new("密钥已被吊销", "The key is already revoked"),
    )
}
