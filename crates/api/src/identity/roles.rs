//! Roles (角色) — `/api/v1/roles` — and the permission catalogue —
//! `/api/v1/permissions`; plus the rule every grant obeys: nobody hands on
//! more than they hold themselves (委派不越权).
//!
//! Built-in roles (one per position the regulations name) are fixed; the
//! company defines its own for anything else. Roles are company-level
//! definitions: every holder of `access.read` reads them (an office's
//! administrator assigns them too), only a company-wide `access.write`
//! changes them.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::{AssignmentScope, DataScope, Grants, Permission, ScopeKind};
use wuye_domain::org::NAME_MAX_CHARS;
use wuye_persistence::access::permissions_to_text;
use wuye_persistence::access::roles::{self as store, NewRole, RoleChanges, RoleRow};
use wuye_persistence::audit::Audited;
use wuye_persistence::{Db, DbConn, StoreError};

use crate::auth::Caller;
use crate::concurrency::{IfMatch, IfMatchHeader, ok_versioned};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Id, Json};
use crate::i18n::Text;
use crate::idempotency::{Created, IdempotencyHeader, IdempotencyKey};
use crate::pagination::{ArchivedParam, PageParams, into_parts};
use crate::time::utc;
use crate::validate::{double_option, label, optional_label, patch_label, rule_code};
use crate::{page_type, parse_fields, resource, sort_param};

/// Longest role description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 500;

/// A role (角色): a named set of permissions, granted to staff with a data
/// scope by a role assignment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 20, "code": null, "builtin": false, "name": "收费员",
    "description": "管理处前台收费", "permissions": ["org.read", "residents.read"],
    "version": 1, "created_at": "2026-12-04T08:00:00Z",
    "updated_at": "2026-12-04T08:00:00Z", "archived_at": null
})))]
pub struct Role {
    /// Id.
    pub id: i64,
    /// Stable code of a built-in role (`project_manager`); `null` for the
    /// company's own roles.
    pub code: Option<String>,
    /// Whether it ships with the product; built-in roles cannot be changed
    /// or archived.
    pub builtin: bool,
    /// Name, unique among active roles.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// What it allows, sorted.
    pub permissions: Vec<Permission>,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i32,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Archived (UTC), or `null` while active.
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<RoleRow> for Role {
    fn from(row: RoleRow) -> Self {
        Self {
            id: row.id,
            builtin: row.is_builtin(),
            permissions: row.permission_set().into_iter().collect(),
            code: row.code,
            name: row.name,
            description: row.description,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            archived_at: row.archived_at.map(utc),
        }
    }
}

/// A new company role.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "name": "收费员", "description": "管理处前台收费",
    "permissions": ["org.read", "residents.read"]
})))]
pub struct RoleCreate {
    /// Name, unique among active roles.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// What it is for.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub description: Option<String>,
    /// What it allows: one or more permissions, each held company-wide by
    /// the caller.
    #[schema(min_items = 1)]
    pub permissions: Vec<Permission>,
}

impl RoleCreate {
    fn parse(&self) -> ApiResult<NewRole> {
        parse_fields! {
            name = label("name", &self.name, NAME_MAX_CHARS);
            description = optional_label("description", self.description.as_deref(), DESCRIPTION_MAX_CHARS);
            permissions = permission_set(&self.permissions);
        }
        Ok(NewRole {
            name: name.into_inner(),
            description: description.map(|d| d.into_inner()),
            permissions,
        })
    }
}

/// Changes to a company role; absent fields stay, `null` clears the
/// description. Built-in roles refuse every change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"permissions": ["org.read", "org.write", "residents.read"]})))]
pub struct RoleUpdate {
    /// New name.
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
    pub name: Option<String>,
    /// New description, or `null` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub description: Option<Option<String>>,
    /// The complete new permission list (replaces the old one). The caller
    /// must hold every permission of the role, old and new, company-wide,
    /// since a change reaches every current holder at once.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(min_items = 1, nullable = false)]
    pub permissions: Option<Vec<Permission>>,
}

impl RoleUpdate {
    fn parse(&self) -> ApiResult<(RoleChanges, Option<BTreeSet<Permission>>)> {
        parse_fields! {
            name = self.name.as_deref().map(|n| label("name", n, NAME_MAX_CHARS)).transpose();
            description = patch_label("description", self.description.as_ref().map(Option::as_deref), DESCRIPTION_MAX_CHARS);
            permissions = self.permissions.as_deref().map(permission_set).transpose();
        }
        Ok((
            RoleChanges {
                name: name.map(|n| n.into_inner()),
                description,
                permissions: permissions.as_ref().map(permissions_to_text),
            },
            permissions,
        ))
    }
}

fn permission_set(permissions: &[Permission]) -> Result<BTreeSet<Permission>, FieldError> {
    if permissions.is_empty() {
        return Err(FieldError::new(
            "permissions",
            "no_permissions",
            Text::new("至少选择一项权限", "choose at least one permission"),
        ));
    }
    Ok(permissions.iter().copied().collect())
}

/// A data scope (数据范围) as sent and answered: how far a role assignment
/// or an integration key reaches.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"kind": "offices", "office_ids": [1, 2]})))]
pub struct Scope {
    /// `company` (全公司), `offices` (指定管理处) or `own` (本人: records the
    /// holder owns).
    pub kind: ScopeKind,
    /// The management offices of an `offices` scope (at least one); empty
    /// for the other kinds.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub office_ids: Vec<i64>,
}

impl Scope {
    /// The domain scope, or a field error on `scope.office_ids`.
    pub(crate) fn parse(&self) -> Result<AssignmentScope, FieldError> {
        AssignmentScope::new(self.kind, &self.office_ids)
            .map_err(|e| rule_code("scope.office_ids", e.code()))
    }
}

impl From<&AssignmentScope> for Scope {
    fn from(scope: &AssignmentScope) -> Self {
        Self {
            kind: scope.kind(),
            office_ids: scope.offices(),
        }
    }
}

// Delegation (委派): an administrator hands on only what they hold. Without
// this, `access.write` alone would be every permission: assign yourself the
// administrator role, or add `org.write` to a role you hold.

/// 403: the grant reaches further than the caller's own scope.
pub(crate) fn scope_exceeds_own() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "auth.scope_exceeds_own",
        Text::new(
            "不能授予超出您自己数据范围的范围（例如管理处管理员不能授予全公司范围）",
            "You cannot grant a scope wider than your own (an office administrator cannot grant company scope)",
        ),
    )
}

/// 403: the grant includes a permission the caller does not hold (widely
/// enough).
pub(crate) fn permission_exceeds_own(permission: Permission) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "auth.permission_exceeds_own",
        Text::owned(
            format!("不能授予您自己没有的权限 {permission}"),
            format!("You cannot grant the permission {permission}: you do not hold it yourself"),
        ),
    )
}

/// Refuses a grant of `permissions` in `scope` to a holder of
/// `holder_office` unless the caller could do all of it themselves: the
/// scope within their `access.write` scope (`write_scope`), and every
/// permission held by them in a scope that covers it too.
pub(crate) fn ensure_may_grant(
    caller: &Caller,
    conn: &mut DbConn,
    write_scope: &DataScope,
    permissions: &BTreeSet<Permission>,
    scope: &AssignmentScope,
    holder_office: Option<i64>,
) -> Result<(), ApiError> {
    let grants = caller.grants(conn)?;
    check_may_grant(&grants, write_scope, permissions, scope, holder_office)
}

/// [`ensure_may_grant`] over grants already read, for checking several
/// grants in one request without reading them again.
pub(crate) fn check_may_grant(
    grants: &Grants,
    write_scope: &DataScope,
    permissions: &BTreeSet<Permission>,
    scope: &AssignmentScope,
    holder_office: Option<i64>,
) -> Result<(), ApiError> {
    if !write_scope.covers(scope, holder_office) {
        return Err(scope_exceeds_own());
    }
    for &permission in permissions {
        let Some(held) = grants.scope_for(permission) else {
            return Err(permission_exceeds_own(permission));
        };
        if !held.covers(scope, holder_office) {
            return Err(scope_exceeds_own());
        }
    }
    Ok(())
}

/// Refuses to put `permissions` into a role unless the caller holds each
/// company-wide: a role reaches whoever holds it, in whatever scope, so
/// only a company-wide holder can vouch for all of them.
fn ensure_holds_company_wide(
    caller: &Caller,
    conn: &mut DbConn,
    permissions: &BTreeSet<Permission>,
) -> Result<(), ApiError> {
    let grants = caller.grants(conn)?;
    for &permission in permissions {
        if !grants.scope_for(permission).is_some_and(|s| s.is_company()) {
            return Err(permission_exceeds_own(permission));
        }
    }
    Ok(())
}

sort_param! {
    /// The order of a role list.
    RoleSortParam => (), default IdAsc {
        IdAsc = "id" => ((), Asc),
        IdDesc = "-id" => ((), Desc),
    }
}

/// Filters and order of a role list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleListParams {
    /// Active (`exclude`, default), `include` archived too, or `only` archived.
    #[serde(default)]
    #[param(inline)]
    pub archived: ArchivedParam,
    /// Order; default `id` (built-in roles first, then creation order).
    #[serde(default)]
    #[param(inline)]
    pub sort: RoleSortParam,
}

page_type!(RolePage, Role, "A page of roles.");

/// One permission of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"code": "org.read", "description": "查看公司、管理处、小区、楼栋、单元、房屋 / Read the estate tree"})))]
pub struct PermissionInfo {
    /// The permission, as roles and keys list it.
    pub code: Permission,
    /// What it allows, Chinese then English.
    pub description: &'static str,
}

/// Every permission there is.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionList {
    /// All permissions, in a stable order.
    pub items: Vec<PermissionInfo>,
}

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_permissions)
        .service(create_role)
        .service(list_roles)
        .service(get_role)
        .service(update_role)
        .service(archive_role);
}

/// Lists every permission.
#[utoipa::path(
    tag = "roles",
    operation_id = "list_permissions",
    summary = "权限清单 / List permissions",
    description = "系统中的全部权限及其说明，供角色编辑界面使用。\n\n\
Every permission there is, with its description, for role editors.",
    security(("bearer" = ["access.read"]), ("api_key" = ["access.read"])),
    responses(
        (status = 200, description = "全部权限 / Every permission", body = PermissionList),
    )
)]
#[get("/permissions")]
pub async fn list_permissions(db: web::Data<Db>, caller: Caller) -> ApiResult<HttpResponse> {
    db.read(move |conn| caller.authorize(conn, Permission::AccessRead).map(drop))
        .await?;
    let items = Permission::ALL
        .iter()
        .map(|&code| PermissionInfo {
            code,
            description: code.description(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(PermissionList { items }))
}

/// Creates a company role.
#[utoipa::path(
    tag = "roles",
    operation_id = "create_role",
    summary = "新建角色 / Create a role",
    description = "新建公司自定义角色。角色是公司级定义，须有全公司范围的 access.write；\
角色中的每项权限，调用者自己都须在全公司范围内拥有（否则 403 auth.permission_exceeds_own）。名称在有效角色中唯一。\n\n\
Creates a company role. Roles are company-level definitions: this needs `access.write` company-wide, \
and the caller must hold every listed permission company-wide themselves (else 403 \
`auth.permission_exceeds_own`). Names are unique among active roles.",
    params(IdempotencyHeader),
    request_body = RoleCreate,
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 201, description = "已创建 / Created", body = Role,
            headers(("ETag" = String, description = "版本 / Version, e.g. \"1\""), ("Location" = String, description = "新角色的地址 / URL of the new role"))),
        (status = 403, description = "缺少权限、不是全公司范围，或包含自己没有的权限 / Permission missing, not company-wide, or a permission the caller lacks", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "名称已被使用，或同一 Idempotency-Key 的请求仍在处理 / Name taken, or the same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效或 Idempotency-Key 用于不同请求 / Invalid field, or key reused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/roles")]
pub async fn create_role(
    db: web::Data<Db>,
    caller: Caller,
    key: IdempotencyKey,
    Json(body): Json<RoleCreate>,
) -> ApiResult<HttpResponse> {
    let new = body.parse()?;
    // Checked before the create rather than inside it: the create's work
    // can only fail with storage errors. The caller's own grants are all
    // that is read, and they change only by another administrator's hand.
    let permissions = new.permissions.clone();
    let guard = caller.clone();
    db.read(move |conn| {
        let scope = guard.authorize(conn, Permission::AccessWrite)?;
        if !scope.is_company() {
            return Err(StoreError::CompanyScopeRequired.into());
        }
        ensure_holds_company_wide(&guard, conn, &permissions)
    })
    .await?;
    key.create(
        &db,
        caller,
        Permission::AccessWrite,
        &body,
        move |conn, scope| {
            let row = store::create(conn, scope, &new)?;
            Created::new(
                format!("/api/v1/roles/{}", row.id),
                row.version,
                row.audit_target(),
                &Role::from(row),
            )
        },
    )
    .await
}

/// Lists roles.
#[utoipa::path(
    tag = "roles",
    operation_id = "list_roles",
    summary = "角色列表 / List roles",
    description = "内置角色和公司自定义角色；游标分页。任何有 access.read 的调用者都能看到全部角色（角色是公司级定义）。\n\n\
Built-in and company roles, in cursor pages. Every holder of `access.read` sees all of them (roles are company-level definitions).",
    params(PageParams, RoleListParams),
    security(("bearer" = ["access.read"]), ("api_key" = ["access.read"])),
    responses(
        (status = 200, description = "一页角色 / A page of roles", body = RolePage),
        (status = 422, description = "cursor 无效 / Invalid cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/roles")]
pub async fn list_roles(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<RoleListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let archived = params.archived.into();
    let rows = db
        .read(move |conn| {
            caller.authorize(conn, Permission::AccessRead)?;
            Ok::<_, ApiError>(store::list(conn, archived, &request)?)
        })
        .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), Role::from);
    Ok(HttpResponse::Ok().json(RolePage { items, next_cursor }))
}

/// Gets one role.
#[utoipa::path(
    tag = "roles",
    operation_id = "get_role",
    summary = "查看角色 / Get a role",
    description = "按 id 读取角色（含已归档的），包括是否内置、代码和权限。\n\n\
Reads a role by id, archived or not: whether it is built in, its code and its permissions.",
    params(("id" = i64, Path, description = "角色 id / Role id", minimum = 1)),
    security(("bearer" = ["access.read"]), ("api_key" = ["access.read"])),
    responses(
        (status = 200, description = "角色 / The role", body = Role,
            headers(("ETag" = String, description = "版本 / Version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/roles/{id}")]
pub async fn get_role(db: web::Data<Db>, caller: Caller, Id(id): Id) -> ApiResult<HttpResponse> {
    resource::read::<_, Role>(&db, caller, Permission::AccessRead, id, store::read).await
}

/// Changes a company role.
#[utoipa::path(
    tag = "roles",
    operation_id = "update_role",
    summary = "修改角色 / Update a role",
    description = "只改请求中给出的字段；须带 If-Match。内置角色不能修改（422 builtin_role_is_fixed）。\
修改会立即作用于该角色的所有持有人，所以调用者自己须在全公司范围内拥有该角色现有的和修改后的每项权限（否则 403 auth.permission_exceeds_own）。\n\n\
Changes only the fields given; needs If-Match. Built-in roles are fixed (422 `builtin_role_is_fixed`). \
A change reaches every holder of the role at once, so the caller must hold every permission the \
role grants, before and after, company-wide (else 403 `auth.permission_exceeds_own`).",
    params(("id" = i64, Path, description = "角色 id / Role id", minimum = 1), IfMatchHeader),
    request_body = RoleUpdate,
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 200, description = "已修改 / Updated", body = Role,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 403, description = "缺少权限、不是全公司范围，或角色含有自己没有的权限 / Permission missing, not company-wide, or the role grants a permission the caller lacks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "名称已被使用或角色已归档 / Name taken or role archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效或内置角色 / Invalid field or built-in role", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/roles/{id}")]
pub async fn update_role(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
    Json(body): Json<RoleUpdate>,
) -> ApiResult<HttpResponse> {
    let (changes, permissions) = body.parse()?;
    let row = db
        .write(move |conn| {
            let scope = caller.authorize(conn, Permission::AccessWrite)?;
            if !scope.is_company() {
                return Err(StoreError::CompanyScopeRequired.into());
            }
            // Editing a role changes what every holder may do, so the editor
            // must hold all of it — what it grants now and what it will
            // grant — company-wide: nobody silences or widens a role above
            // their own reach.
            let mut touched = store::read(conn, &scope, id)?.permission_set();
            if let Some(permissions) = &permissions {
                touched.extend(permissions.iter().copied());
            }
            ensure_holds_company_wide(&caller, conn, &touched)?;
            let expected = if_match
                .expected_version(|| store::get(conn, &scope, id).map(|row| row.version))?;
            let row = store::update(conn, &scope, id, expected, &changes)?;
            crate::audit::record(conn, caller.actor(), "update", row.audit_target(), &body)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    Ok(ok_versioned(&Role::from(row), version))
}

/// Archives a company role.
#[utoipa::path(
    tag = "roles",
    operation_id = "archive_role",
    summary = "归档角色 / Archive a role",
    description = "归档不再使用的公司自定义角色；须带 If-Match。仍有人持有该角色时拒绝（409，请先撤销授权）；内置角色不能归档（422）。\n\n\
Archives a company role nobody holds any more; needs If-Match. Refused while it is assigned \
(409: withdraw the assignments first); built-in roles cannot be archived (422).",
    params(("id" = i64, Path, description = "角色 id / Role id", minimum = 1), IfMatchHeader),
    security(("bearer" = ["access.write"]), ("api_key" = ["access.write"])),
    responses(
        (status = 200, description = "已归档 / Archived", body = Role,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 403, description = "缺少权限或不是全公司范围 / Permission missing or not company-wide", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "已归档或仍被授予 / Already archived or still assigned", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "内置角色 / Built-in role", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/roles/{id}/archive")]
pub async fn archive_role(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    resource::archive::<_, Role>(
        &db,
        caller,
        Permission::AccessWrite,
        id,
        if_match,
        store::get,
        store::archive,
    )
    .await
}
