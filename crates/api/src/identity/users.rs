//! Staff accounts (员工账号) — `/api/v1/users` — their contact details,
//! administrator password resets and role assignments (角色授权).
//!
//! An account belongs to a management office (管理处) or, with no office,
//! to the company; an administrator's data scope cuts accounts by that
//! office, so an office's administrator neither sees nor changes another
//! office's staff (404). The answer never contains the password hash, and
//! the mobile phone is personal data (R-CRM-2): always masked here, shown
//! in full only by `GET /users/{id}/contact`, which needs
//! `personal_data.reveal` and writes a `reveal` audit event.
//!
//! Changing, archiving or resetting the password of an account is allowed
//! only when the caller could have granted every role it holds (see
//! [`super::roles`]): otherwise an office's administrator could take over,
//! or silence, the general manager whose home office is theirs.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::{self as rules, AssignmentScope, DataScope, Permission, Username};
use wuye_domain::org::NAME_MAX_CHARS;
use wuye_domain::personal::{MobilePhone, mask_phone};
use wuye_persistence::access::roles;
use wuye_persistence::access::sessions;
use wuye_persistence::access::users::{
    self as store, AssignmentRow, NewUser, UserChanges, UserFilter, UserRow, UserSort,
};
use wuye_persistence::audit::Audited;
use wuye_persistence::{Db, DbConn, ReferenceProblem, StoreError};

use super::roles::{Scope, check_may_grant, ensure_may_grant};
use crate::auth::{Auth, Caller};
use crate::concurrency::{IfMatch, IfMatchHeader, ok_versioned};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Id, Json};
use crate::i18n::Text;
use crate::idempotency::{Created, IdempotencyHeader, IdempotencyKey};
use crate::pagination::{ArchivedParam, PageParams, into_parts, search_text};
use crate::time::utc;
use crate::validate::{double_option, label, rule_code};
use crate::{page_type, parse_fields, resource, sort_param};

/// A staff account (员工账号). Never carries the password or its hash.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 7, "office_id": 1, "username": "li.lei", "display_name": "李雷",
    "mobile": "138****5678", "active": true, "version": 1,
    "created_at": "2026-12-04T08:00:00Z", "updated_at": "2026-12-04T08:00:00Z", "archived_at": null
})))]
pub struct User {
    /// Id.
    pub id: i64,
    /// Home management office (管理处); `null` at company level.
    pub office_id: Option<i64>,
    /// Login name, lower-case, unique.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Mobile phone, always masked (`138****5678`); the full number is at
    /// `GET /api/v1/users/{id}/contact` (`personal_data.reveal`, audited).
    pub mobile: Option<String>,
    /// Whether the account may sign in.
    pub active: bool,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i32,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Archived (UTC), or `null` while active.
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            office_id: row.office_id,
            username: row.username,
            display_name: row.display_name,
            mobile: row.mobile.as_deref().map(mask_phone),
            active: row.active,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            archived_at: row.archived_at.map(utc),
        }
    }
}

/// A new staff account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "username": "li.lei", "display_name": "李雷", "mobile": "13812345678",
    "office_id": 1, "password": "correct horse 9"
})))]
pub struct UserCreate {
    /// Login name: 3–32 of `a-z 0-9 . _ -`, starting with a letter or
    /// digit; upper case is folded to lower case. Unique.
    #[schema(
        min_length = 3,
        max_length = 32,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    pub username: String,
    /// Name shown to people.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub display_name: String,
    /// Mainland mobile phone (手机号), 11 digits; `+86`, spaces and dashes
    /// are accepted and dropped.
    #[schema(
        min_length = 11,
        max_length = 20,
        pattern = r"^\+?[0-9][0-9 -]*[0-9]$",
        example = "13812345678"
    )]
    pub mobile: Option<String>,
    /// Home management office, within the caller's scope; `null` or absent
    /// for a company-level account (company-wide administrators only).
    #[schema(minimum = 1)]
    pub office_id: Option<i64>,
    /// Initial password: 10–128 characters, letters mixed with digits or
    /// symbols. Hand it over privately; the holder should change it.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// Whether it may sign in; `true` when omitted.
    #[serde(default, deserialize_with = "crate::validate::non_null")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// What identifies a create for `Idempotency-Key` and what its audit event
/// lists: the request without the password, so no fast hash of a password
/// is ever stored next to the answer.
#[derive(Debug, Serialize)]
struct UserCreateRecord {
    username: String,
    display_name: String,
    mobile: Option<String>,
    office_id: Option<i64>,
    active: bool,
}

impl UserCreate {
    fn parse(&self) -> ApiResult<(NewUser, UserCreateRecord)> {
        parse_fields! {
            username = Username::parse(&self.username).map_err(|e| rule_code("username", e.code()));
            display_name = label("display_name", &self.display_name, NAME_MAX_CHARS);
            mobile = parse_mobile(self.mobile.as_deref());
            _password = rules::check_new_password(&self.password).map_err(|e| rule_code("password", e.code()));
        }
        let active = self.active.unwrap_or(true);
        let record = UserCreateRecord {
            username: username.as_str().to_owned(),
            display_name: display_name.as_str().to_owned(),
            mobile: mobile.clone(),
            office_id: self.office_id,
            active,
        };
        Ok((
            NewUser {
                office_id: self.office_id,
                username,
                display_name: display_name.into_inner(),
                mobile,
                // Filled in once hashed, off the async workers.
                password_hash: String::new(),
                active,
            },
            record,
        ))
    }
}

fn parse_mobile(input: Option<&str>) -> Result<Option<String>, FieldError> {
    input
        .map(|text| {
            MobilePhone::parse(text)
                .map(|phone| phone.as_str().to_owned())
                .map_err(|e| rule_code("mobile", e.code()))
        })
        .transpose()
}

/// Changes to an account; absent fields stay, `null` clears the mobile or
/// moves the account to company level.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"display_name": "李雷（物管员）", "active": false})))]
pub struct UserUpdate {
    /// New display name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        nullable = false
    )]
    pub display_name: Option<String>,
    /// New mobile phone, or `null` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[schema(min_length = 11, max_length = 20, pattern = r"^\+?[0-9][0-9 -]*[0-9]$")]
    pub mobile: Option<Option<String>>,
    /// New home office within the caller's scope, or `null` for company
    /// level (company-wide administrators only).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[schema(minimum = 1)]
    pub office_id: Option<Option<i64>>,
    /// `false` deactivates the account: it can no longer sign in and every
    /// session it has ends at once.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

impl UserUpdate {
    fn parse(&self) -> ApiResult<UserChanges> {
        parse_fields! {
            display_name = self.display_name.as_deref().map(|n| label("display_name", n, NAME_MAX_CHARS)).transpose();
            mobile = match &self.mobile {
                None => Ok(None),
                Some(None) => Ok(Some(None)),
                Some(Some(text)) => parse_mobile(Some(text)).map(Some),
            };
        }
        Ok(UserChanges {
            display_name: display_name.map(|n| n.into_inner()),
            mobile,
            active: self.active,
            office_id: self.office_id,
        })
    }
}

/// An administrator's password reset.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"new_password": "another horse 7"})))]
pub struct PasswordReset {
    /// The new password: 10–128 characters, letters mixed with digits or
    /// symbols.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

// By hand, so a stray `?body` in a log line shows no password.
impl std::fmt::Debug for PasswordReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordReset")
    }
}

impl std::fmt::Debug for UserCreate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCreate")
            .field("username", &self.username)
            .field("office_id", &self.office_id)
            .finish_non_exhaustive()
    }
}

/// An account's contact details, unmasked (R-CRM-2: every read is audited).
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"id": 7, "username": "li.lei", "display_name": "李雷", "mobile": "13812345678"})))]
pub struct UserContact {
    /// The account.
    pub id: i64,
    /// Its login name.
    pub username: String,
    /// Its display name.
    pub display_name: String,
    /// The full mobile phone, or `null` when none is on file.
    pub mobile: Option<String>,
}

sort_param! {
    /// The order of an account list: a field, `-` first for descending.
    UserSortParam => UserSort, default IdAsc {
        IdAsc = "id" => (UserSort::Id, Asc),
        IdDesc = "-id" => (UserSort::Id, Desc),
        UsernameAsc = "username" => (UserSort::Username, Asc),
        UsernameDesc = "-username" => (UserSort::Username, Desc),
    }
}

/// Filters and order of an account list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// Only this management office's accounts.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub office_id: Option<i64>,
    /// Only active (`true`) or only deactivated (`false`) accounts.
    pub active: Option<bool>,
    /// Only usernames or display names containing this text
    /// (case-insensitive for A–Z).
    #[param(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub q: Option<String>,
    /// Active (`exclude`, default), `include` archived too, or `only` archived.
    #[serde(default)]
    #[param(inline)]
    pub archived: ArchivedParam,
    /// Order; default `id` (creation order).
    #[serde(default)]
    #[param(inline)]
    pub sort: UserSortParam,
}

page_type!(UserPage, User, "A page of staff accounts.");

/// A role held by an account, with where it applies (角色授权).
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 3, "user_id": 7, "role_id": 10, "role_code": "project_manager", "role_name": "项目经理",
    "scope": {"kind": "offices", "office_ids": [1]}, "created_at": "2026-12-04T08:00:00Z"
})))]
pub struct RoleAssignment {
    /// Id (for withdrawing it).
    pub id: i64,
    /// The account.
    pub user_id: i64,
    /// The role.
    pub role_id: i64,
    /// The role's code, for built-in roles.
    pub role_code: Option<String>,
    /// The role's name.
    pub role_name: String,
    /// Where the role's permissions apply.
    pub scope: Scope,
    /// When granted (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<AssignmentRow> for RoleAssignment {
    fn from(row: AssignmentRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            role_id: row.role_id,
            role_code: row.role_code,
            role_name: row.role_name,
            scope: Scope::from(&row.scope),
            created_at: utc(row.created_at),
        }
    }
}

/// Every role an account holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleAssignmentList {
    /// The assignments, oldest first (an account holds few).
    pub items: Vec<RoleAssignment>,
}

/// A role to grant.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"role_id": 10, "scope": {"kind": "offices", "office_ids": [1]}})))]
pub struct RoleAssignmentCreate {
    /// An active role; the caller must hold each of its permissions in a
    /// scope covering `scope`.
    #[schema(minimum = 1)]
    pub role_id: i64,
    /// Where it applies: within the caller's own `access.write` scope.
    pub scope: Scope,
}

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_user)
        .service(list_users)
        .service(get_user)
        .service(update_user)
        .service(archive_user)
        .service(reveal_user_contact)
        .service(reset_user_password)
        .service(list_role_assignments)
        .service(assign_role)
        .service(unassign_role);
}

async fn hash_password(auth: &web::Data<Auth>, password: String) -> ApiResult<String> {
    let hasher = auth.clone();
    web::block(move || hasher.passwords.hash(&password))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))
}

/// Checks the caller holds `permission` at all before slow work (password
/// hashing) is done on their behalf; the write checks again.
async fn precheck(db: &Db, caller: &Caller, permission: Permission) -> ApiResult<()> {
    let caller = caller.clone();
    db.read(move |conn| caller.authorize(conn, permission).map(drop))
        .await
}

/// Creates a staff account.
#[utoipa::path(
    tag = "users",
    operation_id = "create_user",
    summary = "新建员工账号 / Create a staff account",
    description = "在调用者数据范围内的管理处（或全公司管理员：公司级）新建员工账号，设置初始密码。新账号没有任何角色，\
需再授予角色。用户名唯一（不区分大小写）。同一 Idempotency-Key 的重试不比较密码（不保存密码的任何快速哈希）。\n\n\
Creates a staff account in an office within the caller's scope (or at company level, for company-wide \
administrators) with an initial password. It holds no role until one is assigned. Usernames are unique, \
case-insensitively. Retries with the same Idempotency-Key do not compare the password (no fast hash of it is kept).",
    params(IdempotencyHeader),
    request_body = UserCreate,
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 201, description = "已创建 / Created", body = User,
            headers(("ETag" = String, description = "版本 / Version, e.g. \"1\""), ("Location" = String, description = "新账号的地址 / URL of the new account"))),
        (status = 409, description = "用户名已被使用，或同一 Idempotency-Key 的请求仍在处理 / Username taken, or the same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效、管理处不存在或不在范围内、Idempotency-Key 用于不同请求 / Invalid field, office unknown or out of scope, key reused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    db: web::Data<Db>,
    auth: web::Data<Auth>,
    caller: Caller,
    key: IdempotencyKey,
    Json(body): Json<UserCreate>,
) -> ApiResult<HttpResponse> {
    let (mut new, record) = body.parse()?;
    precheck(&db, &caller, Permission::AccessWrite).await?;
    new.password_hash = hash_password(&auth, body.password).await?;
    key.create(
        &db,
        caller,
        Permission::AccessWrite,
        &record,
        move |conn, scope| {
            let row = store::create(conn, scope, &new)?;
            Created::new(
                format!("/api/v1/users/{}", row.id),
                row.version,
                row.audit_target(),
                &User::from(row),
            )
        },
    )
    .await
}

/// Lists staff accounts.
#[utoipa::path(
    tag = "users",
    operation_id = "list_users",
    summary = "员工账号列表 / List staff accounts",
    description = "调用者数据范围内的员工账号，可按管理处、是否启用、用户名或姓名筛选；游标分页。手机号脱敏。\n\n\
Staff accounts within the caller's scope, filtered by office, active state, username or display name; \
cursor pages. Mobile phones are masked.",
    params(PageParams, UserListParams),
    security(("bearer" = ["access.read"]), ("api_key" = ["access.read"])),
    responses(
        (status = 200, description = "一页账号 / A page of accounts", body = UserPage),
        (status = 422, description = "cursor 无效 / Invalid cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<UserListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let filter = UserFilter {
        office_id: params.office_id,
        active: params.active,
        text_contains: search_text(params.q.as_deref())?,
        archived: params.archived.into(),
    };
    let rows = resource::query(&db, caller, Permission::AccessRead, move |conn, scope| {
        store::list(conn, scope, &filter, &request)
    })
    .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), User::from);
    Ok(HttpResponse::Ok().json(UserPage { items, next_cursor }))
}

/// Gets one staff account.
#[utoipa::path(
    tag = "users",
    operation_id = "get_user",
    summary = "查看员工账号 / Get a staff account",
    description = "按 id 读取员工账号（含已归档的）；手机号脱敏。范围外的账号为 404。\n\n\
Reads an account by id, archived or not; the mobile phone is masked. Accounts outside the caller's scope are 404.",
    params(("id" = i64, Path, description = "账号 id / Account id", minimum = 1)),
    security(("bearer" = ["access.read"]), ("api_key" = ["access.read"])),
    responses(
        (status = 200, description = "账号 / The account", body = User,
            headers(("ETag" = String, description = "版本 / Version"))),
        (status = 404, description = "不存在或不在范围内 / Not found or out of scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(db: web::Data<Db>, caller: Caller, Id(id): Id) -> ApiResult<HttpResponse> {
    resource::read::<_, User>(&db, caller, Permission::AccessRead, id, store::get).await
}

/// Refuses to let staff members lock themselves out: deactivating or
/// archiving their own account, resetting their own password here (they
/// change it with the current one at `/auth/password`), or withdrawing
/// their own roles. One slip must not leave a company without its last
/// administrator; another administrator can do any of these.
fn ensure_not_self(caller: &Caller, user_id: i64) -> ApiResult<()> {
    let actor = caller.actor();
    if actor.kind == "staff" && actor.id == Some(user_id) {
        return Err(ApiError::conflict(
            "access.self_lockout",
            Text::new(
                "不能停用或归档自己的账号、在此重置自己的密码（请用修改密码）或撤销自己的角色；请由另一位管理员操作",
                "You cannot deactivate or archive your own account, reset your own password here (change it instead) or withdraw your own roles; ask another administrator",
            ),
        ));
    }
    Ok(())
}

/// Changes a staff account.
#[utoipa::path(
    tag = "users",
    operation_id = "update_user",
    summary = "修改员工账号 / Update a staff account",
    description = "只改请求中给出的字段；须带 If-Match。新管理处须在调用者范围内。停用账号（active=false）会立即结束它的所有登录会话。\
只能修改所持角色不超出调用者可授予范围的账号（否则 403 auth.scope_exceeds_own 或 auth.permission_exceeds_own）。\n\n\
Changes only the fields given; needs If-Match. A new office must be within the caller's scope. \
Deactivating (`active: false`) ends every session of the account at once. Only accounts whose roles the \
caller could have granted can be changed (else 403 `auth.scope_exceeds_own` or `auth.permission_exceeds_own`).",
    params(("id" = i64, Path, description = "账号 id / Account id", minimum = 1), IfMatchHeader),
    request_body = UserUpdate,
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 200, description = "已修改 / Updated", body = User,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 403, description = "缺少权限，或账号持有超出调用者可授予的角色 / Permission missing, or the account holds more than the caller could grant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或不在范围内 / Not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "账号已归档，或不能停用自己 / Account archived, or deactivating yourself", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效或管理处不可用 / Invalid field or unusable office", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
    Json(body): Json<UserUpdate>,
) -> ApiResult<HttpResponse> {
    let changes = body.parse()?;
    let row = db
        .write(move |conn| {
            let scope = caller.authorize(conn, Permission::AccessWrite)?;
            let user = store::get(conn, &scope, id)?;
            ensure_may_manage(&caller, conn, &scope, &user)?;
            if changes.active == Some(false) {
                ensure_not_self(&caller, id)?;
            }
            let expected = if_match.expected_version(|| Ok(user.version))?;
            let row = store::update(conn, &scope, id, expected, &changes)?;
            crate::audit::record(conn, caller.actor(), "update", row.audit_target(), &body)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    Ok(ok_versioned(&User::from(row), version))
}

/// Archives a staff account.
#[utoipa::path(
    tag = "users",
    operation_id = "archive_user",
    summary = "归档员工账号 / Archive a staff account",
    description = "员工离职时归档账号：不能再登录，所有会话立即结束，历史记录保留；须带 If-Match。\
只能归档所持角色不超出调用者可授予范围的账号（否则 403）。\n\n\
Archives the account of someone who left: it can no longer sign in, its sessions end at once, \
its history stays; needs If-Match. Only accounts whose roles the caller could have granted can be \
archived (else 403).",
    params(("id" = i64, Path, description = "账号 id / Account id", minimum = 1), IfMatchHeader),
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 200, description = "已归档 / Archived", body = User,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 403, description = "缺少权限，或账号持有超出调用者可授予的角色 / Permission missing, or the account holds more than the caller could grant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或不在范围内 / Not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "已归档，或不能归档自己的账号 / Already archived, or your own account", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/archive")]
pub async fn archive_user(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let row = db
        .write(move |conn| {
            let scope = caller.authorize(conn, Permission::AccessWrite)?;
            let user = store::get(conn, &scope, id)?;
            ensure_may_manage(&caller, conn, &scope, &user)?;
            ensure_not_self(&caller, id)?;
            let expected = if_match.expected_version(|| Ok(user.version))?;
            let row = store::archive(conn, &scope, id, expected)?;
            crate::audit::record(
                conn,
                caller.actor(),
                "archive",
                row.audit_target(),
                &serde_json::Map::new(),
            )?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    Ok(ok_versioned(&User::from(row), version))
}

/// Shows an account's contact details unmasked.
#[utoipa::path(
    tag = "users",
    operation_id = "reveal_user_contact",
    summary = "查看员工联系方式（不脱敏）/ Reveal a staff member's contact details",
    description = "返回完整手机号。每次查看都写入审计日志（action reveal，字段 mobile）；账号须在调用者 personal_data.reveal 的数据范围内。\n\n\
Answers the full mobile phone. Every call writes an audit event (action `reveal`, field `mobile`); \
the account must be within the caller's `personal_data.reveal` scope.",
    params(("id" = i64, Path, description = "账号 id / Account id", minimum = 1)),
    security(("bearer" = ["personal_data.reveal"]), ("api_key" = ["personal_data.reveal"])),
    responses(
        (status = 200, description = "联系方式 / Contact details", body = UserContact),
        (status = 404, description = "不存在或不在范围内 / Not found or out of scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}/contact")]
pub async fn reveal_user_contact(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<HttpResponse> {
    // A write: the reveal and its audit event commit together or not at all.
    let user = db
        .write(move |conn| {
            let scope = caller.authorize(conn, Permission::PersonalDataReveal)?;
            let user = store::get(conn, &scope, id)?;
            crate::audit::record(
                conn,
                caller.actor(),
                "reveal",
                user.audit_target(),
                &serde_json::json!({"field": "mobile"}),
            )?;
            Ok::<_, ApiError>(user)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(UserContact {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            mobile: user.mobile,
        }))
}

/// Refuses to act for an account that holds more than the caller could
/// grant: taking over such an account (by resetting its password) would
/// hand the caller its grants.
fn ensure_may_manage(
    caller: &Caller,
    conn: &mut DbConn,
    write_scope: &DataScope,
    user: &UserRow,
) -> Result<(), ApiError> {
    let grants = caller.grants(conn)?;
    // An archived role grants nothing (grants skip it).
    for assignment in store::own_assignments(conn, user.id)?
        .iter()
        .filter(|a| a.role_active)
    {
        check_may_grant(
            &grants,
            write_scope,
            &assignment.role_permissions,
            &assignment.scope,
            user.office_id,
        )?;
    }
    Ok(())
}

/// Resets a staff member's password.
#[utoipa::path(
    tag = "users",
    operation_id = "reset_user_password",
    summary = "重置员工密码 / Reset a staff member's password",
    description = "管理员为忘记密码的员工设置新密码；该账号的所有登录会话立即结束，并写入审计日志（reset_password）。\
不需要 If-Match。只能重置所持角色不超出调用者自己可授予范围的账号（否则 403 auth.scope_exceeds_own 或 auth.permission_exceeds_own），以免借此接管权限更高的账号。\n\n\
An administrator sets a new password for someone who forgot theirs; every session of the account ends \
at once, and the reset is audited (`reset_password`). No If-Match needed. Only accounts whose roles the \
caller could have granted themselves can be reset (else 403 `auth.scope_exceeds_own` or \
`auth.permission_exceeds_own`), so nobody takes over an account that holds more than they do.",
    params(("id" = i64, Path, description = "账号 id / Account id", minimum = 1)),
    request_body = PasswordReset,
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 204, description = "已重置 / Reset"),
        (status = 403, description = "缺少权限，或账号持有超出调用者可授予的角色 / Permission missing, or the account holds more than the caller could grant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或不在范围内 / Not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "账号已归档，或不能在此重置自己的密码 / Account archived, or your own password (change it instead)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "新密码不符合要求 / New password too weak", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/password")]
pub async fn reset_user_password(
    db: web::Data<Db>,
    auth: web::Data<Auth>,
    caller: Caller,
    Id(id): Id,
    Json(body): Json<PasswordReset>,
) -> ApiResult<HttpResponse> {
    rules::check_new_password(&body.new_password)
        .map_err(|e| ApiError::validation(vec![rule_code("new_password", e.code())]))?;
    // Refuse before hashing: a refused caller costs no argon2 run.
    let check = caller.clone();
    db.read(move |conn| {
        let scope = check.authorize(conn, Permission::AccessWrite)?;
        let user = store::get(conn, &scope, id)?;
        ensure_may_manage(&check, conn, &scope, &user)?;
        ensure_not_self(&check, id)
    })
    .await?;
    let hash = hash_password(&auth, body.new_password).await?;
    db.write(move |conn| {
        let scope = caller.authorize(conn, Permission::AccessWrite)?;
        let user = store::get(conn, &scope, id)?;
        if user.archived_at.is_some() {
            return Err(StoreError::Archived.into());
        }
        ensure_may_manage(&caller, conn, &scope, &user)?;
        store::set_password(conn, id, &hash)?;
        sessions::revoke_all_of_user(conn, id, None)?;
        crate::audit::record(
            conn,
            caller.actor(),
            "reset_password",
            user.audit_target(),
            &serde_json::json!({"sessions_ended": true}),
        )?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists the roles an account holds.
#[utoipa::path(
    tag = "users",
    operation_id = "list_role_assignments",
    summary = "账号的角色授权 / List an account's role assignments",
    description = "账号持有的全部角色及各自的数据范围（一次返回全部）。\n\n\
Every role the account holds, each with its data scope (all at once).",
    params(("id" = i64, Path, description = "账号 id / Account id", minimum = 1)),
    security(("bearer" = ["access.read"]), ("api_key" = ["access.read"])),
    responses(
        (status = 200, description = "角色授权 / Assignments", body = RoleAssignmentList),
        (status = 404, description = "不存在或不在范围内 / Not found or out of scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}/role-assignments")]
pub async fn list_role_assignments(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<HttpResponse> {
    let rows = resource::query(&db, caller, Permission::AccessRead, move |conn, scope| {
        store::assignments(conn, scope, id)
    })
    .await?;
    let items = rows.into_iter().map(RoleAssignment::from).collect();
    Ok(HttpResponse::Ok().json(RoleAssignmentList { items }))
}

/// The role of an assignment, as a request field refers to it.
fn role_for_grant(
    conn: &mut DbConn,
    scope: &DataScope,
    role_id: i64,
) -> Result<BTreeSet<Permission>, ApiError> {
    let problem = match roles::read(conn, scope, role_id) {
        Ok(role) if role.archived_at.is_none() => return Ok(role.permission_set()),
        Ok(_) => ReferenceProblem::Archived,
        Err(StoreError::NotFound) => ReferenceProblem::Missing,
        Err(other) => return Err(other.into()),
    };
    Err(StoreError::InvalidReference {
        field: "role_id",
        problem,
    }
    .into())
}

/// Grants a role to an account.
#[utoipa::path(
    tag = "users",
    operation_id = "assign_role",
    summary = "授予角色 / Assign a role",
    description = "给账号授予一个有效角色及其数据范围（全公司、指定管理处或本人），写入审计日志（assign_role）。\
委派不越权：范围不能超出调用者自己 access.write 的范围（管理处管理员只能授予本范围内的管理处，不能授予全公司），\
否则 403 auth.scope_exceeds_own；角色中的每项权限调用者自己都须拥有且范围覆盖所授范围，否则 403 auth.permission_exceeds_own（或 scope_exceeds_own）。\
“本人”范围只能授予调用者范围内管理处的账号。重复授予同一角色不会增加权限，可撤销多余的一条。\n\n\
Grants an active role to the account in a data scope (company, listed offices, or own records), audited \
(`assign_role`). Nobody hands on more than they hold: the scope must lie within the caller's own \
`access.write` scope (an office administrator grants only offices in their scope, never company), else 403 \
`auth.scope_exceeds_own`; and the caller must hold every permission of the role in a scope covering it, \
else 403 `auth.permission_exceeds_own` (or `auth.scope_exceeds_own`). An `own` scope needs the account's \
office within the caller's scope. Granting the same role twice adds nothing; withdraw the extra one.",
    params(("id" = i64, Path, description = "账号 id / Account id", minimum = 1)),
    request_body = RoleAssignmentCreate,
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 201, description = "已授予 / Assigned", body = RoleAssignment),
        (status = 403, description = "缺少权限，或超出自己的范围或权限 / Permission missing, or beyond the caller's own scope or permissions", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "账号不存在或不在范围内 / Account not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "账号已归档 / Account archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "角色或管理处不存在、角色已归档、范围无效 / Unknown or archived role, unknown office, invalid scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/role-assignments")]
pub async fn assign_role(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    Json(body): Json<RoleAssignmentCreate>,
) -> ApiResult<HttpResponse> {
    let assignment: AssignmentScope = body
        .scope
        .parse()
        .map_err(|e| ApiError::validation(vec![e]))?;
    let row = db
        .write(move |conn| {
            let scope = caller.authorize(conn, Permission::AccessWrite)?;
            let user = store::get(conn, &scope, id)?;
            if user.archived_at.is_some() {
                return Err(StoreError::Archived.into());
            }
            let permissions = role_for_grant(conn, &scope, body.role_id)?;
            ensure_may_grant(
                &caller,
                conn,
                &scope,
                &permissions,
                &assignment,
                user.office_id,
            )?;
            let row = store::assign(conn, &scope, id, body.role_id, &assignment)?;
            crate::audit::record(
                conn,
                caller.actor(),
                "assign_role",
                user.audit_target(),
                &serde_json::json!({
                    "assignment_id": row.id,
                    "role_id": row.role_id,
                    "scope": Scope::from(&row.scope),
                }),
            )?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(RoleAssignment::from(row)))
}

/// The `{assignment_id}` of a path, read like [`Id`].
fn assignment_id(req: &HttpRequest) -> ApiResult<i64> {
    let text = req.match_info().get("assignment_id").unwrap_or_default();
    let whole = text
        .split_once('.')
        .filter(|(_, fraction)| !fraction.is_empty() && fraction.bytes().all(|b| b == b'0'))
        .map_or(text, |(whole, _)| whole);
    whole.parse().map_err(|_| {
        ApiError::bad_request(
            "request.invalid_path",
            Text::owned(
                format!("路径中的 assignment_id 须为整数，收到 {text:?}"),
                format!("The assignment_id in the path must be an integer, got {text:?}"),
            ),
        )
    })
}

/// Withdraws a role from an account.
#[utoipa::path(
    tag = "users",
    operation_id = "unassign_role",
    summary = "撤销角色 / Withdraw a role",
    description = "撤销账号的一条角色授权，立即生效，写入审计日志（unassign_role）。只能撤销调用者自己可以授予的授权（规则同授予角色）。\n\n\
Withdraws one role assignment of the account, effective at once, audited (`unassign_role`). Only an \
assignment the caller could have granted can be withdrawn (same rules as assigning).",
    params(
        ("id" = i64, Path, description = "账号 id / Account id", minimum = 1),
        ("assignment_id" = i64, Path, description = "授权 id / Assignment id", minimum = 1),
    ),
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 204, description = "已撤销 / Withdrawn"),
        (status = 403, description = "缺少权限，或超出自己的范围或权限 / Permission missing, or beyond the caller's own scope or permissions", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "账号或授权不存在或不在范围内 / Account or assignment not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "不能撤销自己的角色 / Cannot withdraw your own roles", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/users/{id}/role-assignments/{assignment_id}")]
pub async fn unassign_role(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<HttpResponse> {
    let assignment_id = assignment_id(&req)?;
    db.write(move |conn| {
        let scope = caller.authorize(conn, Permission::AccessWrite)?;
        let user = store::get(conn, &scope, id)?;
        ensure_not_self(&caller, id)?;
        let assignment = store::assignments(conn, &scope, id)?
            .into_iter()
            .find(|a| a.id == assignment_id)
            .ok_or(StoreError::NotFound)?;
        ensure_may_grant(
            &caller,
            conn,
            &scope,
            &assignment.role_permissions,
            &assignment.scope,
            user.office_id,
        )?;
        let row = store::unassign(conn, &scope, id, assignment_id)?;
        crate::audit::record(
            conn,
            caller.actor(),
            "unassign_role",
            user.audit_target(),
            &serde_json::json!({
                "assignment_id": row.id,
                "role_id": row.role_id,
                "scope": Scope::from(&row.scope),
            }),
        )?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
