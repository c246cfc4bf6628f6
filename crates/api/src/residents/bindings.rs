//! Binding requests for staff — `/api/v1/binding-requests`: the review
//! queue of the offices a staff member's data scope covers, approval and
//! rejection, and the audited reveal of a request's phone number.
//!
//! A request belongs to its house's management office, so a request of
//! office B never appears to staff scoped to office A, and is a 404 to
//! them. Phones are masked (`138****5678`); `GET …/{id}/contact` shows one
//! in full to holders of `personal_data.reveal`, and writes a `reveal`
//! audit event (R-CRM-2).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::Permission;
use wuye_domain::personal::mask_phone;
use wuye_domain::residents::{BindingStatus, NOTE_MAX_CHARS, Relation};
use wuye_persistence::audit::Audited;
use wuye_persistence::residents::bindings::{
    self as store, BindingRequestFilter, BindingRequestRow, Reviewer, Viewer,
};
use wuye_persistence::{Db, DbConn};

use super::{HouseAddress, with_addresses};
use crate::auth::Caller;
use crate::concurrency::{IfMatch, IfMatchHeader, ok_versioned};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Id, Json};
use crate::pagination::{PageParams, into_parts};
use crate::time::utc;
use crate::validate::optional_label;
use crate::{page_type, sort_param};

/// A resident's request to be bound to a house (住户绑定申请), as staff see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 7, "resident_id": 3, "house_id": 42, "office_id": 1,
    "house": {"estate": "阳光小区", "building": "1号楼", "unit": "1单元", "number": "1502"},
    "relation": "owner", "name": "李雷", "phone": "138****5678", "status": "pending",
    "reviewed_by": null, "review_rule": null, "reviewed_at": null, "review_note": null,
    "version": 1, "created_at": "2026-12-04T08:00:00Z", "updated_at": "2026-12-04T08:00:00Z"
})))]
pub struct BindingRequest {
    /// Id.
    pub id: i64,
    /// The resident (住户) who filed it.
    pub resident_id: i64,
    /// The house asked for.
    pub house_id: i64,
    /// The house's management office (管理处), whose staff review it.
    pub office_id: i64,
    /// Where the house is.
    pub house: HouseAddress,
    /// The relation claimed.
    pub relation: Relation,
    /// The name the resident gave.
    pub name: String,
    /// The phone number WeChat verified, masked (`138****5678`); see
    /// `GET /api/v1/binding-requests/{id}/contact`.
    pub phone: String,
    /// `pending` (待审核), `approved` (已通过) or `rejected` (已驳回).
    pub status: BindingStatus,
    /// The staff account that reviewed it.
    pub reviewed_by: Option<i64>,
    /// The automatic rule that reviewed it, when no person did.
    pub review_rule: Option<String>,
    /// When it was reviewed (UTC).
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The reviewer's note (shown to the resident).
    pub review_note: Option<String>,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i32,
    /// Filed (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<(BindingRequestRow, HouseAddress)> for BindingRequest {
    fn from((row, house): (BindingRequestRow, HouseAddress)) -> Self {
        Self {
            id: row.id,
            resident_id: row.resident_id,
            house_id: row.house_id,
            office_id: row.office_id,
            house,
            relation: row.relation,
            name: row.name,
            phone: mask_phone(&row.phone),
            status: row.status,
            reviewed_by: row.reviewed_by,
            review_rule: row.review_rule,
            reviewed_at: row.reviewed_at.map(utc),
            review_note: row.review_note,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// A review's note; the body may be left out entirely.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"note": "已核对购房合同"})))]
pub struct ReviewNote {
    /// Why, in a line (1–500 characters): shown to the resident, so a
    /// rejection should say what to do instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub note: Option<String>,
}

/// A request's contact details, unmasked.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"id": 7, "name": "李雷", "phone": "13812345678"})))]
pub struct BindingRequestContact {
    /// The request.
    pub id: i64,
    /// The name the resident gave.
    pub name: String,
    /// The phone number WeChat verified, in full.
    pub phone: String,
}

sort_param! {
    /// The order of the review queue: by id, oldest first by default.
    BindingRequestSortParam => (), default IdAsc {
        IdAsc = "id" => ((), Asc),
        IdDesc = "-id" => ((), Desc),
    }
}

/// Filters and order of the review queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BindingRequestListParams {
    /// Only in this status (`pending` for the queue still to review).
    #[param(inline)]
    pub status: Option<BindingStatus>,
    /// Only for this house.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub house_id: Option<i64>,
    /// Only of this management office.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub office_id: Option<i64>,
    /// Order; default `id` (oldest first).
    #[serde(default)]
    #[param(inline)]
    pub sort: BindingRequestSortParam,
}

page_type!(
    BindingRequestPage,
    BindingRequest,
    "A page of binding requests."
);

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_binding_requests)
        .service(get_binding_request)
        .service(approve_binding_request)
        .service(reject_binding_request)
        .service(get_binding_request_contact);
}

/// A JSON body that may be left out: an empty body or `null` is `None`;
/// anything else must be JSON as [`Json`] reads it.
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body
                .await
                .map_err(|error| ApiError::from_status(error.as_response_error().status_code()))?;
            // The contract allows leaving the body out or sending `null`.
            let text = body.trim_ascii();
            if text.is_empty() || text == b"null" {
                return Ok(Self(None));
            }
            let mut payload = Payload::from(body);
            let Json(value) = Json::<T>::from_request(&req, &mut payload).await?;
            Ok(Self(Some(value)))
        })
    }
}

fn respond(conn: &mut DbConn, row: BindingRequestRow) -> ApiResult<(BindingRequest, i32)> {
    let version = row.version;
    let request = with_addresses(conn, vec![row], |r| r.house_id)?
        .pop()
        .map(BindingRequest::from)
        .ok_or_else(ApiError::not_found)?;
    Ok((request, version))
}

/// Lists binding requests.
#[utoipa::path(
    tag = "binding_requests",
    operation_id = "list_binding_requests",
    summary = "住户绑定申请列表 / List binding requests",
    description = "数据范围内各管理处的住户绑定申请，按状态、房屋和管理处筛选（status=pending 即待审核队列）；手机号脱敏；游标分页。\n\n\
Residents' binding requests of the offices in the caller's data scope, filtered by status, house and office (status=pending is the review queue); phones masked; cursor pages.",
    params(PageParams, BindingRequestListParams),
    security(("bearer" = ["residents.read"]), ("api_key" = ["residents.read"])),
    responses(
        (status = 200, description = "一页申请 / A page of requests", body = BindingRequestPage),
        (status = 422, description = "cursor 无效 / Invalid cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/binding-requests")]
pub async fn list_binding_requests(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<BindingRequestListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let filter = BindingRequestFilter {
        status: params.status,
        house_id: params.house_id,
        office_id: params.office_id,
    };
    let rows = db
        .read(move |conn| {
            let scope = caller.authorize(conn, Permission::ResidentsRead)?;
            let page = store::list(conn, Viewer::Staff(&scope), &filter, &request)?;
            let next = page.next.clone();
            let items = with_addresses(conn, page.items, |r| r.house_id)?;
            Ok::<_, ApiError>(wuye_persistence::page::Page { items, next })
        })
        .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), BindingRequest::from);
    Ok(HttpResponse::Ok().json(BindingRequestPage { items, next_cursor }))
}

/// Gets one binding request.
#[utoipa::path(
    tag = "binding_requests",
    operation_id = "get_binding_request",
    summary = "查看住户绑定申请 / Get a binding request",
    description = "按 id 读取申请（手机号脱敏）；不在数据范围内的返回 404。\n\nReads a request by id (phone masked); one outside the caller's data scope is 404.",
    params(("id" = i64, Path, description = "申请 id / Request id", minimum = 1)),
    security(("bearer" = ["residents.read"]), ("api_key" = ["residents.read"])),
    responses(
        (status = 200, description = "申请 / The request", body = BindingRequest,
            headers(("ETag" = String, description = "版本 / Version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/binding-requests/{id}")]
pub async fn get_binding_request(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<HttpResponse> {
    let (request, version) = db
        .read(move |conn| {
            let scope = caller.authorize(conn, Permission::ResidentsRead)?;
            let row = store::get(conn, &scope, id)?;
            respond(conn, row)
        })
        .await?;
    Ok(ok_versioned(&request, version))
}

/// Whether a review approves or rejects.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    Approve,
    Reject,
}

/// Reviews under `If-Match` in one transaction: the status change, the
/// binding an approval creates, and the audit event commit together.
async fn review(
    db: &Db,
    caller: Caller,
    id: i64,
    if_match: IfMatch,
    body: ReviewNote,
    verdict: Verdict,
) -> ApiResult<HttpResponse> {
    let note = optional_label("note", body.note.as_deref(), NOTE_MAX_CHARS)
        .map_err(|e| ApiError::validation(vec![e]))?
        .map(|note| note.into_inner());
    let (request, version) = db
        .write(move |conn| {
            let scope = caller.authorize(conn, Permission::ResidentsWrite)?;
            // A review names the person who made it (the session was just
            // checked by `authorize`).
            let (user_id, _) = caller.staff_ids()?;
            let expected =
                if_match.expected_version(|| store::get(conn, &scope, id).map(|r| r.version))?;
            let reviewer = Reviewer::Staff(user_id);
            let (row, action, changes) = match verdict {
                Verdict::Approve => {
                    let (row, binding) =
                        store::approve(conn, &scope, id, expected, reviewer, note.as_deref())?;
                    let changes = serde_json::json!({
                        "status": row.status,
                        "review_note": row.review_note,
                        "binding_id": binding.id,
                    });
                    (row, "approve", changes)
                }
                Verdict::Reject => {
                    let row = store::reject(conn, &scope, id, expected, reviewer, note.as_deref())?;
                    let changes = serde_json::json!({
                        "status": row.status,
                        "review_note": row.review_note,
                    });
                    (row, "reject", changes)
                }
            };
            crate::audit::record(conn, caller.actor(), action, row.audit_target(), &changes)?;
            respond(conn, row)
        })
        .await?;
    Ok(ok_versioned(&request, version))
}

/// Approves a binding request.
#[utoipa::path(
    tag = "binding_requests",
    operation_id = "approve_binding_request",
    summary = "通过住户绑定申请 / Approve a binding request",
    description = "通过待审核的申请，并在同一事务中把住户绑定到房屋；须带 If-Match，可附说明。只能审核待审核的申请（否则 409），审核须由员工本人完成。\n\n\
Approves a pending request and, in the same transaction, binds the resident to the house; needs If-Match, a note is optional. Only pending requests can be reviewed (409 otherwise), and only by a staff member.",
    params(("id" = i64, Path, description = "申请 id / Request id", minimum = 1), IfMatchHeader),
    request_body(content = Option<ReviewNote>, description = "可选的说明；可不带请求体 / Optional note; the body may be left out"),
    security(("bearer" = ["residents.write"])),
    responses(
        (status = 200, description = "已通过 / Approved", body = BindingRequest,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "申请已审核过，或房屋已归档 / Already reviewed, or the house is archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "说明无效 / Invalid note", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/binding-requests/{id}/approve")]
pub async fn approve_binding_request(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
    OptionalJson(body): OptionalJson<ReviewNote>,
) -> ApiResult<HttpResponse> {
    review(
        &db,
        caller,
        id,
        if_match,
        body.unwrap_or_default(),
        Verdict::Approve,
    )
    .await
}

/// Rejects a binding request.
#[utoipa::path(
    tag = "binding_requests",
    operation_id = "reject_binding_request",
    summary = "驳回住户绑定申请 / Reject a binding request",
    description = "驳回待审核的申请；须带 If-Match，说明会展示给住户。只能审核待审核的申请（否则 409），审核须由员工本人完成。住户之后可以重新申请。\n\n\
Rejects a pending request; needs If-Match, and the note is shown to the resident. Only pending requests can be reviewed (409 otherwise), and only by a staff member. The resident may file a new request afterwards.",
    params(("id" = i64, Path, description = "申请 id / Request id", minimum = 1), IfMatchHeader),
    request_body(content = Option<ReviewNote>, description = "可选的说明；可不带请求体 / Optional note; the body may be left out"),
    security(("bearer" = ["residents.write"])),
    responses(
        (status = 200, description = "已驳回 / Rejected", body = BindingRequest,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "申请已审核过 / Already reviewed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "说明无效 / Invalid note", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/binding-requests/{id}/reject")]
pub async fn reject_binding_request(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
    if_match: IfMatch,
    OptionalJson(body): OptionalJson<ReviewNote>,
) -> ApiResult<HttpResponse> {
    review(
        &db,
        caller,
        id,
        if_match,
        body.unwrap_or_default(),
        Verdict::Reject,
    )
    .await
}

/// Reveals a request's contact details.
#[utoipa::path(
    tag = "binding_requests",
    operation_id = "get_binding_request_contact",
    summary = "查看申请人联系方式 / Reveal a request's contact",
    description = "返回未脱敏的手机号，以便联系住户核实；每次查看都记入审计日志（reveal）。\n\n\
Returns the unmasked phone number, to call the resident back; every reveal is written to the audit log (reveal).",
    params(("id" = i64, Path, description = "申请 id / Request id", minimum = 1)),
    security(("bearer" = ["personal_data.reveal"]), ("api_key" = ["personal_data.reveal"])),
    responses(
        (status = 200, description = "联系方式 / Contact details", body = BindingRequestContact),
        (status = 404, description = "不存在 / Not found", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/binding-requests/{id}/contact")]
pub async fn get_binding_request_contact(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<HttpResponse> {
    let contact = db
        .write(move |conn| {
            let scope = caller.authorize(conn, Permission::PersonalDataReveal)?;
            let row = store::get(conn, &scope, id)?;
            crate::audit::record(
                conn,
                caller.actor(),
                "reveal",
                row.audit_target(),
                &serde_json::json!({ "fields": ["phone"] }),
            )?;
            Ok::<_, ApiError>(BindingRequestContact {
                id: row.id,
                name: row.name,
                phone: row.phone,
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(contact))
}
