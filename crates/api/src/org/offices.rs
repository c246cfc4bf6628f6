//! Management offices (管理处) — `/api/v1/offices`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::Permission;
use wuye_domain::org::NAME_MAX_CHARS;
use wuye_persistence::Db;
use wuye_persistence::audit::Audited;
use wuye_persistence::org::offices::{
    self as store, NewOffice, OfficeChanges, OfficeFilter, OfficeRow, OfficeSort,
};

use crate::auth::Caller;
use crate::concurrency::{IfMatch, IfMatchHeader};
use crate::error::{ApiResult, Problem};
use crate::extract::{Id, Json};
use crate::idempotency::{Created, IdempotencyHeader, IdempotencyKey};
use crate::pagination::{ArchivedParam, PageParams, into_parts, search_text};
use crate::time::utc;
use crate::validate::{double_option, label, optional_label, patch_label};
use crate::{page_type, parse_fields, resource, sort_param};

/// A management office (管理处): runs one or a few estates; staff data
/// scopes are cut by office.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 1, "name": "阳光花园管理处", "code": "GL-01", "phone": "010-88886666",
    "address": "北京市朝阳区阳光路 1 号", "version": 1,
    "created_at": "2026-12-04T08:00:00Z", "updated_at": "2026-12-04T08:00:00Z", "archived_at": null
})))]
pub struct Office {
    /// Id.
    pub id: i64,
    /// Name, unique among active offices.
    pub name: String,
    /// The company's own code for it.
    pub code: Option<String>,
    /// Front-desk telephone.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i32,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Archived (UTC), or `null` while active.
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<OfficeRow> for Office {
    fn from(row: OfficeRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            code: row.code,
            phone: row.phone,
            address: row.address,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            archived_at: row.archived_at.map(utc),
        }
    }
}

/// A new management office.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "阳光花园管理处", "code": "GL-01", "phone": "010-88886666"})))]
pub struct OfficeCreate {
    /// Name, unique among active offices.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// The company's own code.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub code: Option<String>,
    /// Front-desk telephone.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub phone: Option<String>,
    /// Postal address.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub address: Option<String>,
}

impl OfficeCreate {
    fn parse(&self) -> ApiResult<NewOffice> {
        parse_fields! {
            name = label("name", &self.name, NAME_MAX_CHARS);
            code = optional_label("code", self.code.as_deref(), NAME_MAX_CHARS);
            phone = optional_label("phone", self.phone.as_deref(), NAME_MAX_CHARS);
            address = optional_label("address", self.address.as_deref(), NAME_MAX_CHARS);
        }
        Ok(NewOffice {
            name,
            code,
            phone,
            address,
        })
    }
}

/// Changes to an office; absent fields stay, `null` clears an optional one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"phone": "010-88887777", "code": null})))]
pub struct OfficeUpdate {
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
    /// New code, or `null` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub code: Option<Option<String>>,
    /// New telephone, or `null` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub phone: Option<Option<String>>,
    /// New address, or `null` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub address: Option<Option<String>>,
}

impl OfficeUpdate {
    fn parse(&self) -> ApiResult<OfficeChanges> {
        parse_fields! {
            name = self.name.as_deref().map(|n| label("name", n, NAME_MAX_CHARS)).transpose();
            code = patch_label("code", self.code.as_ref().map(Option::as_deref), NAME_MAX_CHARS);
            phone = patch_label("phone", self.phone.as_ref().map(Option::as_deref), NAME_MAX_CHARS);
            address = patch_label("address", self.address.as_ref().map(Option::as_deref), NAME_MAX_CHARS);
        }
        Ok(OfficeChanges {
            name: name.map(|n| n.into_inner()),
            code,
            phone,
            address,
        })
    }
}

sort_param! {
    /// The order of an office list: a field, `-` first for descending.
    OfficeSortParam => OfficeSort, default IdAsc {
        IdAsc = "id" => (OfficeSort::Id, Asc),
        IdDesc = "-id" => (OfficeSort::Id, Desc),
        NameAsc = "name" => (OfficeSort::Name, Asc),
        NameDesc = "-name" => (OfficeSort::Name, Desc),
    }
}

/// Filters and order of an office list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfficeListParams {
    /// Only names containing this text (case-insensitive for A–Z).
    #[param(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub q: Option<String>,
    /// Active (`exclude`, default), `include` archived too, or `only` archived.
    #[serde(default)]
    #[param(inline)]
    pub archived: ArchivedParam,
    /// Order; default `id` (creation order).
    #[serde(default)]
    #[param(inline)]
    pub sort: OfficeSortParam,
}

page_type!(OfficePage, Office, "A page of management offices.");

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_office)
        .service(list_offices)
        .service(get_office)
        .service(update_office)
        .service(archive_office);
}

/// Creates a management office.
#[utoipa::path(
    tag = "offices",
    operation_id = "create_office",
    summary = "新建管理处 / Create a management office",
    description = "名称在有效管理处中唯一。\n\nThe name is unique among active offices.",
    params(IdempotencyHeader),
    request_body = OfficeCreate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 201, description = "已创建 / Created", body = Office,
            headers(("ETag" = String, description = "版本 / Version, e.g. \"1\""), ("Location" = String, description = "新记录的地址 / URL of the new record"))),
        (status = 409, description = "名称已被使用，或同一 Idempotency-Key 的请求仍在处理 / Name taken, or the same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效或 Idempotency-Key 用于不同请求 / Invalid field or key reused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/offices")]
pub async fn create_office(
    db: web::Data<Db>,
    caller: Caller,
    key: IdempotencyKey,
    Json(body): Json<OfficeCreate>,
) -> ApiResult<HttpResponse> {
    let new = body.parse()?;
    key.create(
        &db,
        caller,
        Permission::OrgWrite,
        &body,
        move |conn, scope| {
            let row = store::create(conn, scope, &new)?;
            Created::new(
                format!("/api/v1/offices/{}", row.id),
                row.version,
                row.audit_target(),
                &Office::from(row),
            )
        },
    )
    .await
}

/// Lists management offices.
#[utoipa::path(
    tag = "offices",
    operation_id = "list_offices",
    summary = "管理处列表 / List management offices",
    description = "按名称筛选；游标分页。\n\nFilter by name; cursor pages.",
    params(PageParams, OfficeListParams),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "一页管理处 / A page of offices", body = OfficePage),
        (status = 422, description = "cursor 无效（不是上一页返回的，或换了 sort）/ Invalid cursor (not from the previous page, or another sort)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/offices")]
pub async fn list_offices(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<OfficeListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let filter = OfficeFilter {
        name_contains: search_text(params.q.as_deref())?,
        archived: params.archived.into(),
    };
    let rows = resource::query(&db, caller, Permission::OrgRead, move |conn, scope| {
        store::list(conn, scope, &filter, &request)
    })
    .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), Office::from);
    Ok(HttpResponse::Ok().json(OfficePage { items, next_cursor }))
}

/// Gets one management office.
#[utoipa::path(
    tag = "offices",
    operation_id = "get_office",
    summary = "查看管理处 / Get a management office",
    description = "按 id 读取（含已归档的）。\n\nReads one by id, archived or not.",
    params(("id" = i64, Path, description = "管理处 id / Office id", minimum = 1)),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "管理处 / The office", body = Office,
            headers(("ETag" = String, description = "版本 / Version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/offices/{id}")]
pub async fn get_office(db: web::Data<Db>, caller: Caller, Id(id): Id) -> ApiResult<HttpResponse> {
    resource::read::<_, Office>(&db, caller, Permission::OrgRead, id, store::get).await
}

/// Changes a management office.
#[utoipa::path(
    tag = "offices",
    operation_id = "update_office",
    summary = "修改管理处 / Update a management office",
    description = "只改请求中给出的字段，null 清空可选字段；须带 If-Match。可用 POST 加 X-HTTP-Method-Override: PATCH。\n\n\
Changes only the fields given, null clears an optional one; needs If-Match. POST with X-HTTP-Method-Override: PATCH also works.",
    params(("id" = i64, Path, description = "管理处 id / Office id", minimum = 1), IfMatchHeader),
    request_body = OfficeUpdate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已修改 / Updated", body = Office,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "名称已被使用或已归档 / Name taken or archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效 / Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/offices/{id}")]
pub async fn update_office(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
    Json(body): Json<OfficeUpdate>,
) -> ApiResult<HttpResponse> {
    let changes = body.parse()?;
    resource::change::<_, Office, _, _>(
        &db,
        caller,
        Permission::OrgWrite,
        id,
        if_match,
        body,
        changes,
        store::get,
        store::update,
    )
    .await
}

/// Archives a management office.
#[utoipa::path(
    tag = "offices",
    operation_id = "archive_office",
    summary = "归档管理处 / Archive a management office",
    description = "仍有有效小区时不能归档；须带 If-Match。\n\nRefused while the office has active estates; needs If-Match.",
    params(("id" = i64, Path, description = "管理处 id / Office id", minimum = 1), IfMatchHeader),
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已归档 / Archived", body = Office,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "仍有有效小区或已归档 / Active estates remain, or already archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/offices/{id}/archive")]
pub async fn archive_office(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    resource::archive::<_, Office>(
        &db,
        caller,
        Permission::OrgWrite,
        id,
        if_match,
        store::get,
        store::archive,
    )
    .await
}
