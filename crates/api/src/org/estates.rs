//! Estates (小区) — `/api/v1/estates`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::Permission;
use wuye_domain::org::NAME_MAX_CHARS;
use wuye_persistence::Db;
use wuye_persistence::audit::Audited;
use wuye_persistence::org::estates::{
    self as store, EstateChanges, EstateFilter, EstateRow, EstateSort, NewEstate,
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

/// An estate (小区): a residential compound run by one management office.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 2, "office_id": 1, "name": "阳光花园", "address": "北京市朝阳区阳光路 1 号", "version": 1,
    "created_at": "2026-12-04T08:00:00Z", "updated_at": "2026-12-04T08:00:00Z", "archived_at": null
})))]
pub struct Estate {
    /// Id.
    pub id: i64,
    /// The management office (管理处) running it.
    pub office_id: i64,
    /// Name, unique among the office's active estates.
    pub name: String,
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

impl From<EstateRow> for Estate {
    fn from(row: EstateRow) -> Self {
        Self {
            id: row.id,
            office_id: row.office_id,
            name: row.name,
            address: row.address,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            archived_at: row.archived_at.map(utc),
        }
    }
}

/// A new estate.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"office_id": 1, "name": "阳光花园", "address": "北京市朝阳区阳光路 1 号"})))]
pub struct EstateCreate {
    /// The management office (管理处) running it; must exist and be active.
    #[schema(minimum = 1)]
    pub office_id: i64,
    /// Name, unique among the office's active estates.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// Postal address.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub address: Option<String>,
}

impl EstateCreate {
    fn parse(&self) -> ApiResult<NewEstate> {
        parse_fields! {
            name = label("name", &self.name, NAME_MAX_CHARS);
            address = optional_label("address", self.address.as_deref(), NAME_MAX_CHARS);
        }
        Ok(NewEstate {
            office_id: self.office_id,
            name,
            address,
        })
    }
}

/// Changes to an estate; absent fields stay, `null` clears the address.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "阳光花园（一期）"})))]
pub struct EstateUpdate {
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

impl EstateUpdate {
    fn parse(&self) -> ApiResult<EstateChanges> {
        parse_fields! {
            name = self.name.as_deref().map(|n| label("name", n, NAME_MAX_CHARS)).transpose();
            address = patch_label("address", self.address.as_ref().map(Option::as_deref), NAME_MAX_CHARS);
        }
        Ok(EstateChanges {
            name: name.map(|n| n.into_inner()),
            address,
        })
    }
}

sort_param! {
    /// The order of an estate list: a field, `-` first for descending.
    EstateSortParam => EstateSort, default IdAsc {
        IdAsc = "id" => (EstateSort::Id, Asc),
        IdDesc = "-id" => (EstateSort::Id, Desc),
        NameAsc = "name" => (EstateSort::Name, Asc),
        NameDesc = "-name" => (EstateSort::Name, Desc),
    }
}

/// Filters and order of an estate list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EstateListParams {
    /// Only this management office's estates.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub office_id: Option<i64>,
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
    pub sort: EstateSortParam,
}

page_type!(EstatePage, Estate, "A page of estates.");

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_estate)
        .service(list_estates)
        .service(get_estate)
        .service(update_estate)
        .service(archive_estate);
}

/// Creates an estate.
#[utoipa::path(
    tag = "estates",
    operation_id = "create_estate",
    summary = "新建小区 / Create an estate",
    description = "在有效的管理处下新建小区；名称在该管理处的有效小区中唯一。\n\nCreates an estate under an active office; the name is unique among the office's active estates.",
    params(IdempotencyHeader),
    request_body = EstateCreate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 201, description = "已创建 / Created", body = Estate,
            headers(("ETag" = String, description = "版本 / Version, e.g. \"1\""), ("Location" = String, description = "新记录的地址 / URL of the new record"))),
        (status = 409, description = "名称已被使用，或同一 Idempotency-Key 的请求仍在处理 / Name taken, or the same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效、管理处不存在或已归档、Idempotency-Key 用于不同请求 / Invalid field, unknown or archived office, key reused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/estates")]
pub async fn create_estate(
    db: web::Data<Db>,
    caller: Caller,
    key: IdempotencyKey,
    Json(body): Json<EstateCreate>,
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
                format!("/api/v1/estates/{}", row.id),
                row.version,
                row.audit_target(),
                &Estate::from(row),
            )
        },
    )
    .await
}

/// Lists estates.
#[utoipa::path(
    tag = "estates",
    operation_id = "list_estates",
    summary = "小区列表 / List estates",
    description = "按管理处和名称筛选；游标分页。\n\nFilter by office and name; cursor pages.",
    params(PageParams, EstateListParams),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "一页小区 / A page of estates", body = EstatePage),
        (status = 422, description = "cursor 无效（不是上一页返回的，或换了 sort）/ Invalid cursor (not from the previous page, or another sort)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/estates")]
pub async fn list_estates(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<EstateListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let filter = EstateFilter {
        office_id: params.office_id,
        name_contains: search_text(params.q.as_deref())?,
        archived: params.archived.into(),
    };
    let rows = resource::query(&db, caller, Permission::OrgRead, move |conn, scope| {
        store::list(conn, scope, &filter, &request)
    })
    .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), Estate::from);
    Ok(HttpResponse::Ok().json(EstatePage { items, next_cursor }))
}

/// Gets one estate.
#[utoipa::path(
    tag = "estates",
    operation_id = "get_estate",
    summary = "查看小区 / Get an estate",
    description = "按 id 读取（含已归档的）。\n\nReads one by id, archived or not.",
    params(("id" = i64, Path, description = "小区 id / Estate id", minimum = 1)),
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "小区 / The estate", body = Estate,
            headers(("ETag" = String, description = "版本 / Version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/estates/{id}")]
pub async fn get_estate(db: web::Data<Db>, caller: Caller, Id(id): Id) -> ApiResult<HttpResponse> {
    resource::read::<_, Estate>(&db, caller, Permission::OrgRead, id, store::get).await
}

/// Changes an estate.
#[utoipa::path(
    tag = "estates",
    operation_id = "update_estate",
    summary = "修改小区 / Update an estate",
    description = "只改请求中给出的字段，null 清空可选字段；须带 If-Match。可用 POST 加 X-HTTP-Method-Override: PATCH。\n\n\
Changes only the fields given, null clears an optional one; needs If-Match. POST with X-HTTP-Method-Override: PATCH also works.",
    params(("id" = i64, Path, description = "小区 id / Estate id", minimum = 1), IfMatchHeader),
    request_body = EstateUpdate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已修改 / Updated", body = Estate,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "名称已被使用或已归档 / Name taken or archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效 / Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/estates/{id}")]
pub async fn update_estate(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
    Json(body): Json<EstateUpdate>,
) -> ApiResult<HttpResponse> {
    let changes = body.parse()?;
    resource::change::<_, Estate, _, _>(
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

/// Archives an estate.
#[utoipa::path(
    tag = "estates",
    operation_id = "archive_estate",
    summary = "归档小区 / Archive an estate",
    description = "仍有有效楼栋时不能归档；须带 If-Match。\n\nRefused while the estate has active buildings; needs If-Match.",
    params(("id" = i64, Path, description = "小区 id / Estate id", minimum = 1), IfMatchHeader),
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已归档 / Archived", body = Estate,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "仍有有效楼栋或已归档 / Active buildings remain, or already archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/estates/{id}/archive")]
pub async fn archive_estate(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    resource::archive::<_, Estate>(
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
