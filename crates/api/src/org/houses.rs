//! Houses (房屋) — `/api/v1/houses`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::Permission;
use wuye_domain::org::{
    self as rules, Area, HOUSE_NUMBER_MAX_CHARS, HouseAreas, HouseState, HouseType,
};
use wuye_persistence::Db;
use wuye_persistence::audit::Audited;
use wuye_persistence::org::houses::{
    self as store, HouseChanges, HouseFilter, HouseRow, HouseSort, NewHouse,
};

use crate::auth::Caller;
use crate::concurrency::{IfMatch, IfMatchHeader};
use crate::error::{ApiResult, FieldError, Problem};
use crate::extract::{Id, Json};
use crate::idempotency::{Created, IdempotencyHeader, IdempotencyKey};
use crate::pagination::{ArchivedParam, PageParams, into_parts, search_text};
use crate::time::utc;
use crate::validate::{self, label, rule};
use crate::{page_type, parse_fields, resource, sort_param};

/// A house (房屋): the leaf of company → office → estate → building → unit.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 42, "office_id": 1, "estate_id": 2, "building_id": 3, "unit_id": 4,
    "number": "1502", "floor": 15, "building_area": 89.53, "usable_area": 72.1,
    "house_type": "residential", "state": "occupied", "version": 1,
    "created_at": "2026-12-04T08:00:00Z", "updated_at": "2026-12-04T08:00:00Z", "archived_at": null
})))]
pub struct House {
    /// Id.
    pub id: i64,
    /// Management office (管理处), from the unit.
    pub office_id: i64,
    /// Estate (小区), from the unit.
    pub estate_id: i64,
    /// Building (楼栋), from the unit.
    pub building_id: i64,
    /// Unit (单元).
    pub unit_id: i64,
    /// House number (房号), unique among the unit's active houses.
    pub number: String,
    /// Floor; negative for basements.
    pub floor: i32,
    /// 建筑面积 in m² (two decimals).
    pub building_area: f64,
    /// 套内面积 in m² (two decimals), at most the building area.
    pub usable_area: f64,
    /// Use (房屋类型).
    pub house_type: HouseType,
    /// Occupancy (房屋状态).
    pub state: HouseState,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i32,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Archived (UTC), or `null` while active.
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<HouseRow> for House {
    fn from(row: HouseRow) -> Self {
        Self {
            id: row.id,
            office_id: row.office_id,
            estate_id: row.estate_id,
            building_id: row.building_id,
            unit_id: row.unit_id,
            number: row.number,
            floor: row.floor,
            building_area: Area::from_hundredths(row.building_area).sqm(),
            usable_area: Area::from_hundredths(row.usable_area).sqm(),
            house_type: row.house_type,
            state: row.state,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            archived_at: row.archived_at.map(utc),
        }
    }
}

/// A new house.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "unit_id": 4, "number": "1502", "floor": 15, "building_area": 89.53,
    "usable_area": 72.1, "house_type": "residential", "state": "vacant"
})))]
pub struct HouseCreate {
    /// The unit (单元) it is in; must exist and be active.
    #[schema(minimum = 1)]
    pub unit_id: i64,
    /// House number (房号), e.g. `1502`; unique among the unit's active houses.
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub number: String,
    /// Floor, −20 to 300 (negative for basements).
    #[schema(minimum = -20, maximum = 300)]
    pub floor: i32,
    /// 建筑面积 in m², 0–100000, rounded to 0.01.
    #[schema(minimum = 0, maximum = 100000)]
    pub building_area: f64,
    /// 套内面积 in m², 0–100000, rounded to 0.01; at most `building_area`.
    #[schema(minimum = 0, maximum = 100000)]
    pub usable_area: f64,
    /// Use.
    pub house_type: HouseType,
    /// Occupancy; `vacant` when omitted.
    #[serde(default, deserialize_with = "crate::validate::non_null")]
    #[schema(nullable = false)]
    pub state: Option<HouseState>,
}

impl HouseCreate {
    fn parse(&self) -> ApiResult<NewHouse> {
        parse_fields! {
            number = label("number", &self.number, HOUSE_NUMBER_MAX_CHARS);
            floor = rules::check_floor(self.floor).map_err(|e| rule("floor", e));
            building_area = Area::from_sqm(self.building_area).map_err(|e| rule("building_area", e));
            usable_area = Area::from_sqm(self.usable_area).map_err(|e| rule("usable_area", e));
        }
        parse_fields! {
            areas = HouseAreas::new(building_area, usable_area).map_err(|e| rule("usable_area", e));
        }
        Ok(NewHouse {
            unit_id: self.unit_id,
            number,
            floor,
            building_area: areas.building,
            usable_area: areas.usable,
            house_type: self.house_type,
            state: self.state.unwrap_or(HouseState::Vacant),
        })
    }
}

/// Changes to a house; absent fields stay as they are.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"state": "rented"})))]
pub struct HouseUpdate {
    /// New house number.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        nullable = false
    )]
    pub number: Option<String>,
    /// New floor.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(minimum = -20, maximum = 300, nullable = false)]
    pub floor: Option<i32>,
    /// New 建筑面积 in m².
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(minimum = 0, maximum = 100000, nullable = false)]
    pub building_area: Option<f64>,
    /// New 套内面积 in m²; must stay at most the building area.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(minimum = 0, maximum = 100000, nullable = false)]
    pub usable_area: Option<f64>,
    /// New use.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(nullable = false)]
    pub house_type: Option<HouseType>,
    /// New occupancy.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(nullable = false)]
    pub state: Option<HouseState>,
}

impl HouseUpdate {
    fn parse(&self) -> ApiResult<HouseChanges> {
        parse_fields! {
            number = self.number.as_deref().map(|n| label("number", n, HOUSE_NUMBER_MAX_CHARS)).transpose();
            floor = self.floor.map(rules::check_floor).transpose().map_err(|e| rule("floor", e));
            building_area = area("building_area", self.building_area);
            usable_area = area("usable_area", self.usable_area);
        }
        Ok(HouseChanges {
            number: number.map(|n| n.into_inner()),
            floor,
            building_area,
            usable_area,
            house_type: self.house_type,
            state: self.state,
        })
    }
}

fn area(field: &'static str, sqm: Option<f64>) -> Result<Option<i64>, FieldError> {
    sqm.map(|sqm| {
        Area::from_sqm(sqm)
            .map(Area::hundredths)
            .map_err(|e| validate::rule(field, e))
    })
    .transpose()
}

sort_param! {
    /// The order of a house list: a field, `-` first for descending.
    HouseSortParam => HouseSort, default IdAsc {
        IdAsc = "id" => (HouseSort::Id, Asc),
        IdDesc = "-id" => (HouseSort::Id, Desc),
        NumberAsc = "number" => (HouseSort::Number, Asc),
        NumberDesc = "-number" => (HouseSort::Number, Desc),
        FloorAsc = "floor" => (HouseSort::Floor, Asc),
        FloorDesc = "-floor" => (HouseSort::Floor, Desc),
    }
}

/// Filters and order of a house list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HouseListParams {
    /// Only this management office's houses.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub office_id: Option<i64>,
    /// Only this estate's.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub estate_id: Option<i64>,
    /// Only this building's.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub building_id: Option<i64>,
    /// Only this unit's.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub unit_id: Option<i64>,
    /// Only in this occupancy state.
    #[param(inline)]
    pub state: Option<HouseState>,
    /// Only of this use.
    #[param(inline)]
    pub house_type: Option<HouseType>,
    /// Only numbers containing this text (case-insensitive for A–Z).
    #[param(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub q: Option<String>,
    /// Active (`exclude`, default), `include` archived too, or `only` archived.
    #[serde(default)]
    #[param(inline)]
    pub archived: ArchivedParam,
    /// Order; default `id` (creation order).
    #[serde(default)]
    #[param(inline)]
    pub sort: HouseSortParam,
}

page_type!(HousePage, House, "A page of houses.");

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_house)
        .service(list_houses)
        .service(get_house)
        .service(update_house)
        .service(archive_house);
}

/// Creates a house.
#[utoipa::path(
    tag = "houses",
    operation_id = "create_house",
    summary = "新建房屋 / Create a house",
    description = "在有效的单元下新建房屋；管理处、小区、楼栋取自单元。房号在单元内唯一（已归档的除外）。\n\n\
Creates a house in an active unit; office, estate and building come from the unit. The number is unique among the unit's active houses.",
    params(IdempotencyHeader),
    request_body = HouseCreate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 201, description = "已创建 / Created", body = House,
            headers(("ETag" = String, description = "版本 / Version, e.g. \"1\""), ("Location" = String, description = "新房屋的地址 / URL of the new house"))),
        (status = 409, description = "房号已被使用，或同一 Idempotency-Key 的请求仍在处理 / Number taken, or the same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效、单元不存在或已归档、Idempotency-Key 用于不同请求 / Invalid field, unknown or archived unit, key reused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/houses")]
pub async fn create_house(
    db: web::Data<Db>,
    caller: Caller,
    key: IdempotencyKey,
    Json(body): Json<HouseCreate>,
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
                format!("/api/v1/houses/{}", row.id),
                row.version,
                row.audit_target(),
                &House::from(row),
            )
        },
    )
    .await
}

/// Lists houses.
#[utoipa::path(
    tag = "houses",
    operation_id = "list_houses",
    summary = "房屋列表 / List houses",
    description = "按管理处、小区、楼栋、单元、状态、类型和房号筛选；游标分页，插入新记录时翻页稳定。\n\n\
Filter by office, estate, building, unit, state, type and number; cursor pages stay stable while rows are inserted.",
    params(PageParams, HouseListParams),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "一页房屋 / A page of houses", body = HousePage),
        (status = 422, description = "cursor 无效（不是上一页返回的，或换了 sort）/ Invalid cursor (not from the previous page, or another sort)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/houses")]
pub async fn list_houses(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<HouseListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let filter = HouseFilter {
        office_id: params.office_id,
        estate_id: params.estate_id,
        building_id: params.building_id,
        unit_id: params.unit_id,
        state: params.state,
        house_type: params.house_type,
        number_contains: search_text(params.q.as_deref())?,
        archived: params.archived.into(),
    };
    let rows = resource::query(&db, caller, Permission::OrgRead, move |conn, scope| {
        store::list(conn, scope, &filter, &request)
    })
    .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), House::from);
    Ok(HttpResponse::Ok().json(HousePage { items, next_cursor }))
}

/// Gets one house.
#[utoipa::path(
    tag = "houses",
    operation_id = "get_house",
    summary = "查看房屋 / Get a house",
    description = "按 id 读取房屋（含已归档的）。\n\nReads a house by id, archived or not.",
    params(("id" = i64, Path, description = "房屋 id / House id", minimum = 1)),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "房屋 / The house", body = House,
            headers(("ETag" = String, description = "版本 / Version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/houses/{id}")]
pub async fn get_house(db: web::Data<Db>, caller: Caller, Id(id): Id) -> ApiResult<HttpResponse> {
    resource::read::<_, House>(&db, caller, Permission::OrgRead, id, store::get).await
}

/// Changes a house.
#[utoipa::path(
    tag = "houses",
    operation_id = "update_house",
    summary = "修改房屋 / Update a house",
    description = "只改请求中给出的字段；须带 If-Match（上次读取的 ETag）。微信小程序可用 POST 加 X-HTTP-Method-Override: PATCH。\n\n\
Changes only the fields given; needs If-Match (the ETag last read). WeChat mini-programs may send POST with X-HTTP-Method-Override: PATCH.",
    params(("id" = i64, Path, description = "房屋 id / House id", minimum = 1), IfMatchHeader),
    request_body = HouseUpdate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已修改 / Updated", body = House,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "房号已被使用或房屋已归档 / Number taken or house archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效 / Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/houses/{id}")]
pub async fn update_house(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
    Json(body): Json<HouseUpdate>,
) -> ApiResult<HttpResponse> {
    let changes = body.parse()?;
    resource::change::<_, House, _, _>(
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

/// Archives a house.
#[utoipa::path(
    tag = "houses",
    operation_id = "archive_house",
    summary = "归档房屋 / Archive a house",
    description = "归档后不再出现在默认列表中，历史记录仍可查；须带 If-Match。\n\n\
An archived house leaves the default lists but keeps its history; needs If-Match.",
    params(("id" = i64, Path, description = "房屋 id / House id", minimum = 1), IfMatchHeader),
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已归档 / Archived", body = House,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "已归档 / Already archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/houses/{id}/archive")]
pub async fn archive_house(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    resource::archive::<_, House>(
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
