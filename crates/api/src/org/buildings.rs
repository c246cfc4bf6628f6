//! Buildings (楼栋) — `/api/v1/buildings`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::Permission;
use wuye_domain::org::NAME_MAX_CHARS;
use wuye_persistence::Db;
use wuye_persistence::audit::Audited;
use wuye_persistence::org::buildings::{
    self as store, BuildingChanges, BuildingFilter, BuildingRow, BuildingSort, NewBuilding,
};

use crate::auth::Caller;
use crate::concurrency::{IfMatch, IfMatchHeader};
use crate::error::{ApiResult, FieldError, Problem};
use crate::extract::{Id, Json};
use crate::i18n::Text;
use crate::idempotency::{Created, IdempotencyHeader, IdempotencyKey};
use crate::pagination::{ArchivedParam, PageParams, into_parts, search_text};
use crate::time::utc;
use crate::validate::{double_option, label};
use crate::{page_type, parse_fields, resource, sort_param};

/// A building (楼栋) of an estate.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 3, "office_id": 1, "estate_id": 2, "name": "3号楼", "floors_above": 18, "floors_below": 2, "version": 1,
    "created_at": "2026-12-04T08:00:00Z", "updated_at": "2026-12-04T08:00:00Z", "archived_at": null
})))]
pub struct Building {
    /// Id.
    pub id: i64,
    /// The management office (管理处), from the estate.
    pub office_id: i64,
    /// The estate (小区).
    pub estate_id: i64,
    /// Name, e.g. `3号楼`, unique among the estate's active buildings.
    pub name: String,
    /// Floors above ground.
    pub floors_above: Option<i32>,
    /// Floors below ground.
    pub floors_below: Option<i32>,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i32,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Archived (UTC), or `null` while active.
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<BuildingRow> for Building {
    fn from(row: BuildingRow) -> Self {
        Self {
            id: row.id,
            office_id: row.office_id,
            estate_id: row.estate_id,
            name: row.name,
            floors_above: row.floors_above,
            floors_below: row.floors_below,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            archived_at: row.archived_at.map(utc),
        }
    }
}

/// A new building.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"estate_id": 2, "name": "3号楼", "floors_above": 18, "floors_below": 2})))]
pub struct BuildingCreate {
    /// The estate (小区) it stands in; must exist and be active.
    #[schema(minimum = 1)]
    pub estate_id: i64,
    /// Name, e.g. `3号楼`, unique among the estate's active buildings.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// Floors above ground, 0–300.
    #[schema(minimum = 0, maximum = 300)]
    pub floors_above: Option<i32>,
    /// Floors below ground, 0–20.
    #[schema(minimum = 0, maximum = 20)]
    pub floors_below: Option<i32>,
}

impl BuildingCreate {
    fn parse(&self) -> ApiResult<NewBuilding> {
        parse_fields! {
            name = label("name", &self.name, NAME_MAX_CHARS);
            floors_above = floors("floors_above", self.floors_above, 300);
            floors_below = floors("floors_below", self.floors_below, 20);
        }
        Ok(NewBuilding {
            estate_id: self.estate_id,
            name,
            floors_above,
            floors_below,
        })
    }
}

/// Changes to a building; absent fields stay, `null` clears a floor count.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"floors_above": 20})))]
pub struct BuildingUpdate {
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
    /// New floors above ground, or `null` to clear.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[schema(minimum = 0, maximum = 300)]
    pub floors_above: Option<Option<i32>>,
    /// New floors below ground, or `null` to clear.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[schema(minimum = 0, maximum = 20)]
    pub floors_below: Option<Option<i32>>,
}

impl BuildingUpdate {
    fn parse(&self) -> ApiResult<BuildingChanges> {
        parse_fields! {
            name = self.name.as_deref().map(|n| label("name", n, NAME_MAX_CHARS)).transpose();
            floors_above = self.floors_above.map(|f| floors("floors_above", f, 300)).transpose();
            floors_below = self.floors_below.map(|f| floors("floors_below", f, 20)).transpose();
        }
        Ok(BuildingChanges {
            name: name.map(|n| n.into_inner()),
            floors_above,
            floors_below,
        })
    }
}

fn floors(field: &'static str, count: Option<i32>, max: i32) -> Result<Option<i32>, FieldError> {
    match count {
        Some(n) if !(0..=max).contains(&n) => Err(FieldError::new(
            field,
            "out_of_range",
            Text::owned(
                format!("须在 0 到 {max} 之间"),
                format!("must be between 0 and {max}"),
            ),
        )),
        other => Ok(other),
    }
}

sort_param! {
    /// The order of a building list: a field, `-` first for descending.
    BuildingSortParam => BuildingSort, default IdAsc {
        IdAsc = "id" => (BuildingSort::Id, Asc),
        IdDesc = "-id" => (BuildingSort::Id, Desc),
        NameAsc = "name" => (BuildingSort::Name, Asc),
        NameDesc = "-name" => (BuildingSort::Name, Desc),
    }
}

/// Filters and order of a building list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BuildingListParams {
    /// Only this management office's buildings.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub office_id: Option<i64>,
    /// Only this estate's.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub estate_id: Option<i64>,
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
    pub sort: BuildingSortParam,
}

page_type!(BuildingPage, Building, "A page of buildings.");

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_building)
        .service(list_buildings)
        .service(get_building)
        .service(update_building)
        .service(archive_building);
}

/// Creates a building.
#[utoipa::path(
    tag = "buildings",
    operation_id = "create_building",
    summary = "新建楼栋 / Create a building",
    description = "在有效的小区下新建楼栋；名称在该小区的有效楼栋中唯一。\n\nCreates a building in an active estate; the name is unique among the estate's active buildings.",
    params(IdempotencyHeader),
    request_body = BuildingCreate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 201, description = "已创建 / Created", body = Building,
            headers(("ETag" = String, description = "版本 / Version, e.g. \"1\""), ("Location" = String, description = "新记录的地址 / URL of the new record"))),
        (status = 409, description = "名称已被使用，或同一 Idempotency-Key 的请求仍在处理 / Name taken, or the same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效、小区不存在或已归档、Idempotency-Key 用于不同请求 / Invalid field, unknown or archived estate, key reused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/buildings")]
pub async fn create_building(
    db: web::Data<Db>,
    caller: Caller,
    key: IdempotencyKey,
    Json(body): Json<BuildingCreate>,
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
                format!("/api/v1/buildings/{}", row.id),
                row.version,
                row.audit_target(),
                &Building::from(row),
            )
        },
    )
    .await
}

/// Lists buildings.
#[utoipa::path(
    tag = "buildings",
    operation_id = "list_buildings",
    summary = "楼栋列表 / List buildings",
    description = "按管理处、小区和名称筛选；游标分页。\n\nFilter by office, estate and name; cursor pages.",
    params(PageParams, BuildingListParams),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "一页楼栋 / A page of buildings", body = BuildingPage),
        (status = 422, description = "cursor 无效（不是上一页返回的，或换了 sort）/ Invalid cursor (not from the previous page, or another sort)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/buildings")]
pub async fn list_buildings(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<BuildingListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let filter = BuildingFilter {
        office_id: params.office_id,
        estate_id: params.estate_id,
        name_contains: search_text(params.q.as_deref())?,
        archived: params.archived.into(),
    };
    let rows = resource::query(&db, caller, Permission::OrgRead, move |conn, scope| {
        store::list(conn, scope, &filter, &request)
    })
    .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), Building::from);
    Ok(HttpResponse::Ok().json(BuildingPage { items, next_cursor }))
}

/// Gets one building.
#[utoipa::path(
    tag = "buildings",
    operation_id = "get_building",
    summary = "查看楼栋 / Get a building",
    description = "按 id 读取（含已归档的）。\n\nReads one by id, archived or not.",
    params(("id" = i64, Path, description = "楼栋 id / Building id", minimum = 1)),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "楼栋 / The building", body = Building,
            headers(("ETag" = String, description = "版本 / Version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/buildings/{id}")]
pub async fn get_building(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<HttpResponse> {
    resource::read::<_, Building>(&db, caller, Permission::OrgRead, id, store::get).await
}

/// Changes a building.
#[utoipa::path(
    tag = "buildings",
    operation_id = "update_building",
    summary = "修改楼栋 / Update a building",
    description = "只改请求中给出的字段，null 清空可选字段；须带 If-Match。可用 POST 加 X-HTTP-Method-Override: PATCH。\n\n\
Changes only the fields given, null clears an optional one; needs If-Match. POST with X-HTTP-Method-Override: PATCH also works.",
    params(("id" = i64, Path, description = "楼栋 id / Building id", minimum = 1), IfMatchHeader),
    request_body = BuildingUpdate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已修改 / Updated", body = Building,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "名称已被使用或已归档 / Name taken or archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效 / Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/buildings/{id}")]
pub async fn update_building(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
    Json(body): Json<BuildingUpdate>,
) -> ApiResult<HttpResponse> {
    let changes = body.parse()?;
    resource::change::<_, Building, _, _>(
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

/// Archives a building.
#[utoipa::path(
    tag = "buildings",
    operation_id = "archive_building",
    summary = "归档楼栋 / Archive a building",
    description = "仍有有效房屋或单元时不能归档；须带 If-Match。\n\nRefused while the building has active houses or units; needs If-Match.",
    params(("id" = i64, Path, description = "楼栋 id / Building id", minimum = 1), IfMatchHeader),
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已归档 / Archived", body = Building,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "仍有有效房屋或单元，或已归档 / Active houses or units remain, or already archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/buildings/{id}/archive")]
pub async fn archive_building(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    resource::archive::<_, Building>(
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
