//! Units (单元) — `/api/v1/units`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::Permission;
use wuye_domain::org::NAME_MAX_CHARS;
use wuye_persistence::Db;
use wuye_persistence::audit::Audited;
use wuye_persistence::org::units::{
    self as store, NewUnit, UnitChanges, UnitFilter, UnitRow, UnitSort,
};

use crate::auth::Caller;
use crate::concurrency::{IfMatch, IfMatchHeader};
use crate::error::{ApiResult, Problem};
use crate::extract::{Id, Json};
use crate::idempotency::{Created, IdempotencyHeader, IdempotencyKey};
use crate::pagination::{ArchivedParam, PageParams, into_parts, search_text};
use crate::time::utc;
use crate::validate::label;
use crate::{page_type, parse_fields, resource, sort_param};

/// A unit (单元): a stairwell of a building; house numbers count within it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 4, "office_id": 1, "estate_id": 2, "building_id": 3, "name": "2单元", "version": 1,
    "created_at": "2026-12-04T08:00:00Z", "updated_at": "2026-12-04T08:00:00Z", "archived_at": null
})))]
pub struct Unit {
    /// Id.
    pub id: i64,
    /// The management office (管理处), from the building.
    pub office_id: i64,
    /// The estate (小区), from the building.
    pub estate_id: i64,
    /// The building (楼栋).
    pub building_id: i64,
    /// Name, e.g. `2单元`, unique among the building's active units.
    pub name: String,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i32,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Archived (UTC), or `null` while active.
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<UnitRow> for Unit {
    fn from(row: UnitRow) -> Self {
        Self {
            id: row.id,
            office_id: row.office_id,
            estate_id: row.estate_id,
            building_id: row.building_id,
            name: row.name,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            archived_at: row.archived_at.map(utc),
        }
    }
}

/// A new unit.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"building_id": 3, "name": "2单元"})))]
pub struct UnitCreate {
    /// The building (楼栋) it is in; must exist and be active.
    #[schema(minimum = 1)]
    pub building_id: i64,
    /// Name, e.g. `2单元`, unique among the building's active units.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
}

impl UnitCreate {
    fn parse(&self) -> ApiResult<NewUnit> {
        parse_fields! {
            name = label("name", &self.name, NAME_MAX_CHARS);
        }
        Ok(NewUnit {
            building_id: self.building_id,
            name,
        })
    }
}

/// Changes to a unit; absent fields stay.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "二单元"})))]
pub struct UnitUpdate {
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
}

impl UnitUpdate {
    fn parse(&self) -> ApiResult<UnitChanges> {
        parse_fields! {
            name = self.name.as_deref().map(|n| label("name", n, NAME_MAX_CHARS)).transpose();
        }
        Ok(UnitChanges {
            name: name.map(|n| n.into_inner()),
        })
    }
}

sort_param! {
    /// The order of a unit list: a field, `-` first for descending.
    UnitSortParam => UnitSort, default IdAsc {
        IdAsc = "id" => (UnitSort::Id, Asc),
        IdDesc = "-id" => (UnitSort::Id, Desc),
        NameAsc = "name" => (UnitSort::Name, Asc),
        NameDesc = "-name" => (UnitSort::Name, Desc),
    }
}

/// Filters and order of a unit list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitListParams {
    /// Only this management office's units.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub office_id: Option<i64>,
    /// Only this estate's.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub estate_id: Option<i64>,
    /// Only this building's.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub building_id: Option<i64>,
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
    pub sort: UnitSortParam,
}

page_type!(UnitPage, Unit, "A page of units.");

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_unit)
        .service(list_units)
        .service(get_unit)
        .service(update_unit)
        .service(archive_unit);
}

/// Creates a unit.
#[utoipa::path(
    tag = "units",
    operation_id = "create_unit",
    summary = "新建单元 / Create a unit",
    description = "在有效的楼栋下新建单元；名称在该楼栋的有效单元中唯一。\n\nCreates a unit in an active building; the name is unique among the building's active units.",
    params(IdempotencyHeader),
    request_body = UnitCreate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 201, description = "已创建 / Created", body = Unit,
            headers(("ETag" = String, description = "版本 / Version, e.g. \"1\""), ("Location" = String, description = "新记录的地址 / URL of the new record"))),
        (status = 409, description = "名称已被使用，或同一 Idempotency-Key 的请求仍在处理 / Name taken, or the same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效、楼栋不存在或已归档、Idempotency-Key 用于不同请求 / Invalid field, unknown or archived building, key reused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/units")]
pub async fn create_unit(
    db: web::Data<Db>,
    caller: Caller,
    key: IdempotencyKey,
    Json(body): Json<UnitCreate>,
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
                format!("/api/v1/units/{}", row.id),
                row.version,
                row.audit_target(),
                &Unit::from(row),
            )
        },
    )
    .await
}

/// Lists units.
#[utoipa::path(
    tag = "units",
    operation_id = "list_units",
    summary = "单元列表 / List units",
    description = "按管理处、小区、楼栋和名称筛选；游标分页。\n\nFilter by office, estate, building and name; cursor pages.",
    params(PageParams, UnitListParams),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "一页单元 / A page of units", body = UnitPage),
        (status = 422, description = "cursor 无效（不是上一页返回的，或换了 sort）/ Invalid cursor (not from the previous page, or another sort)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/units")]
pub async fn list_units(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<UnitListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let filter = UnitFilter {
        office_id: params.office_id,
        estate_id: params.estate_id,
        building_id: params.building_id,
        name_contains: search_text(params.q.as_deref())?,
        archived: params.archived.into(),
    };
    let rows = resource::query(&db, caller, Permission::OrgRead, move |conn, scope| {
        store::list(conn, scope, &filter, &request)
    })
    .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), Unit::from);
    Ok(HttpResponse::Ok().json(UnitPage { items, next_cursor }))
}

/// Gets one unit.
#[utoipa::path(
    tag = "units",
    operation_id = "get_unit",
    summary = "查看单元 / Get a unit",
    description = "按 id 读取（含已归档的）。\n\nReads one by id, archived or not.",
    params(("id" = i64, Path, description = "单元 id / Unit id", minimum = 1)),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "单元 / The unit", body = Unit,
            headers(("ETag" = String, description = "版本 / Version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/units/{id}")]
pub async fn get_unit(db: web::Data<Db>, caller: Caller, Id(id): Id) -> ApiResult<HttpResponse> {
    resource::read::<_, Unit>(&db, caller, Permission::OrgRead, id, store::get).await
}

/// Changes a unit.
#[utoipa::path(
    tag = "units",
    operation_id = "update_unit",
    summary = "修改单元 / Update a unit",
    description = "只改请求中给出的字段，null 清空可选字段；须带 If-Match。可用 POST 加 X-HTTP-Method-Override: PATCH。\n\n\
Changes only the fields given, null clears an optional one; needs If-Match. POST with X-HTTP-Method-Override: PATCH also works.",
    params(("id" = i64, Path, description = "单元 id / Unit id", minimum = 1), IfMatchHeader),
    request_body = UnitUpdate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已修改 / Updated", body = Unit,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "名称已被使用或已归档 / Name taken or archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效 / Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/units/{id}")]
pub async fn update_unit(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
    Json(body): Json<UnitUpdate>,
) -> ApiResult<HttpResponse> {
    let changes = body.parse()?;
    resource::change::<_, Unit, _, _>(
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

/// Archives a unit.
#[utoipa::path(
    tag = "units",
    operation_id = "archive_unit",
    summary = "归档单元 / Archive a unit",
    description = "仍有有效房屋时不能归档；须带 If-Match。\n\nRefused while the unit has active houses; needs If-Match.",
    params(("id" = i64, Path, description = "单元 id / Unit id", minimum = 1), IfMatchHeader),
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已归档 / Archived", body = Unit,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "仍有有效房屋或已归档 / Active houses remain, or already archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/units/{id}/archive")]
pub async fn archive_unit(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    resource::archive::<_, Unit>(
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
