//! A resident's own routes — `/api/v1/me/*`: filing house-binding requests
//! (住户绑定申请), following them, and the houses they are bound to.
//!
//! Only a resident's token reaches these routes (staff tokens and keys get
//! 403 `auth.residents_only`), and every query is cut by the resident's id
//! from that token: another resident's request is a 404, another
//! household's house never appears.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::DataScope;
use wuye_domain::personal::{MobilePhone, mask_phone};
use wuye_domain::residents::{
    self as rules, BindingStatus, Evidence, InitialOutcome, NAME_MAX_CHARS, Relation,
};
use wuye_persistence::audit::{Actor, Audited};
use wuye_persistence::residents::bindings::{
    self as store, BindingRequestFilter, BindingRequestRow, HouseBindingRow, NewBindingRequest,
    Reviewer, Viewer,
};
use wuye_persistence::{Db, DbConn};

use super::{HouseAddress, with_addresses};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Id, Json};
use crate::i18n::Text;
use crate::idempotency::{Created, IdempotencyHeader, IdempotencyKey};
use crate::pagination::{PageParams, into_parts};
use crate::time::utc;
use crate::validate::{label, rule_code};
use crate::wechat::{WechatClient, WechatError};
use crate::{page_type, parse_fields, sort_param};

/// One of the resident's own binding requests.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 7, "house_id": 42,
    "house": {"estate": "阳光小区", "building": "1号楼", "unit": "1单元", "number": "1502"},
    "relation": "owner", "name": "李雷", "phone": "138****5678", "status": "pending",
    "review_note": null, "reviewed_at": null,
    "created_at": "2026-12-04T08:00:00Z", "updated_at": "2026-12-04T08:00:00Z"
})))]
pub struct MyBindingRequest {
    /// Id.
    pub id: i64,
    /// The house asked for.
    pub house_id: i64,
    /// Where the house is.
    pub house: HouseAddress,
    /// The relation claimed.
    pub relation: Relation,
    /// The name given.
    pub name: String,
    /// The phone number WeChat gave, masked (`138****5678`).
    pub phone: String,
    /// `pending` (待审核), `approved` (已通过) or `rejected` (已驳回).
    pub status: BindingStatus,
    /// The reviewer's note, e.g. why it was rejected.
    pub review_note: Option<String>,
    /// When it was reviewed (UTC).
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Filed (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<(BindingRequestRow, HouseAddress)> for MyBindingRequest {
    fn from((row, house): (BindingRequestRow, HouseAddress)) -> Self {
        Self {
            id: row.id,
            house_id: row.house_id,
            house,
            relation: row.relation,
            name: row.name,
            phone: mask_phone(&row.phone),
            status: row.status,
            review_note: row.review_note,
            reviewed_at: row.reviewed_at.map(utc),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// A new binding request. The phone number is never sent: the server
/// exchanges `phone_code` with WeChat for the number WeChat has verified.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "house_id": 42, "relation": "owner", "name": "李雷", "phone_code": "e31968a7f94cc5ee25fafc2aef2773f0"
})))]
pub struct BindingRequestCreate {
    /// The house (房屋); must exist and be active.
    #[schema(minimum = 1)]
    pub house_id: i64,
    /// How the resident is related to the house: `owner` 业主, `tenant`
    /// 租户, `family` 家庭成员, `other` 其他.
    pub relation: Relation,
    /// The resident's name, as staff will know them (1–50 characters).
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// The code from the mini-program's phone-number button
    /// (`getPhoneNumber`), single use; the server exchanges it with WeChat.
    #[schema(min_length = 1, max_length = 256)]
    pub phone_code: String,
}

/// A house the resident is bound to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "house_id": 42, "office_id": 1,
    "house": {"estate": "阳光小区", "building": "1号楼", "unit": "1单元", "number": "1502"},
    "relation": "owner", "bound_at": "2026-12-04T09:00:00Z"
})))]
pub struct MyHouse {
    /// The house.
    pub house_id: i64,
    /// Its management office (管理处).
    pub office_id: i64,
    /// Where it is.
    pub house: HouseAddress,
    /// The resident's relation to it.
    pub relation: Relation,
    /// When the binding was approved (UTC).
    pub bound_at: DateTime<Utc>,
}

impl From<(HouseBindingRow, HouseAddress)> for MyHouse {
    fn from((row, house): (HouseBindingRow, HouseAddress)) -> Self {
        Self {
            house_id: row.house_id,
            office_id: row.office_id,
            house,
            relation: row.relation,
            bound_at: utc(row.created_at),
        }
    }
}

sort_param! {
    /// The order of a resident's list: by id, newest first by default.
    MySortParam => (), default IdDesc {
        IdDesc = "-id" => ((), Desc),
        IdAsc = "id" => ((), Asc),
    }
}

/// Filters and order of the resident's requests.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyBindingRequestListParams {
    /// Only in this status.
    #[param(inline)]
    pub status: Option<BindingStatus>,
    /// Order; default `-id` (newest first).
    #[serde(default)]
    #[param(inline)]
    pub sort: MySortParam,
}

/// Order of the resident's houses.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyHouseListParams {
    /// Order; default `-id` (latest bound first).
    #[serde(default)]
    #[param(inline)]
    pub sort: MySortParam,
}

page_type!(
    MyBindingRequestPage,
    MyBindingRequest,
    "A page of the resident's binding requests."
);
page_type!(MyHousePage, MyHouse, "A page of the resident's houses.");

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_my_binding_request)
        .service(list_my_binding_requests)
        .service(get_my_binding_request)
        .service(list_my_houses);
}

/// The phone-number code's failures, worded for the phone button rather
/// than for `wx.login`; the others are as WeChat's login failures.
fn phone_code_error(error: WechatError) -> ApiError {
    match error {
        // The request is well formed; what it carries is refused: 422.
        WechatError::InvalidCode => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wechat.invalid_phone_code",
            Text::new(
                "手机号授权凭证无效或已使用，请重新点击获取手机号",
                "The phone-number code is invalid or was already used; ask for the number again",
            ),
        ),
        other => other.into(),
    }
}

/// Files the request inside the creating transaction, and applies an
/// automatic rule's approval there too (none exists today; see
/// `wuye_domain::residents`).
fn file(conn: &mut DbConn, caller: &Caller, new: &NewBindingRequest) -> ApiResult<Created> {
    let resident_id = caller.resident(conn)?;
    let new = NewBindingRequest {
        resident_id,
        ..new.clone()
    };
    let mut row = store::create(conn, &new)?;
    let evidence = Evidence {
        relation: new.relation,
        phone: new.phone.clone(),
    };
    if let InitialOutcome::AutoApproved { rule } = rules::initial_outcome(&evidence) {
        // The rule acts for the company on the request it was just filed
        // with, so it needs no staff member's scope.
        let (approved, binding) = store::approve(
            conn,
            &DataScope::system(),
            row.id,
            row.version,
            Reviewer::Rule(rule),
            None,
        )?;
        let system = Actor {
            kind: "system",
            id: None,
            ..caller.actor().clone()
        };
        crate::audit::record(
            conn,
            &system,
            "approve",
            approved.audit_target(),
            &serde_json::json!({ "rule": rule, "binding_id": binding.id }),
        )?;
        row = approved;
    }
    let version = row.version;
    let target = row.audit_target();
    let body = with_addresses(conn, vec![row], |r| r.house_id)?
        .pop()
        .map(MyBindingRequest::from)
        .ok_or_else(|| ApiError::internal(&"filed request has no answer"))?;
    Ok(Created::new(
        format!("/api/v1/me/binding-requests/{}", body.id),
        version,
        target,
        &body,
    )?)
}

/// Files a binding request.
#[utoipa::path(
    tag = "me",
    operation_id = "create_my_binding_request",
    summary = "申请绑定房屋 / Ask to be bound to a house",
    description = "住户申请绑定房屋，由房屋所属管理处的员工审核。手机号不由客户端填写：小程序把“获取手机号”按钮返回的 code 作为 phone_code 发来，服务器向微信换取已验证的手机号。同一房屋同时只能有一个待审核的申请。\n\n\
A resident asks to be bound to a house; staff of the house's management office review it. The phone number is never typed by the client: the mini-program sends the code of its phone-number button as phone_code, and the server exchanges it with WeChat for the verified number. One pending request per house at a time.",
    params(IdempotencyHeader),
    request_body = BindingRequestCreate,
    security(("bearer" = ["resident"])),
    responses(
        (status = 201, description = "已提交 / Filed", body = MyBindingRequest,
            headers(("ETag" = String, description = "版本 / Version"), ("Location" = String, description = "申请的地址 / URL of the request"))),
        (status = 409, description = "已绑定该房屋、已有待审核的申请，或同一 Idempotency-Key 的请求仍在处理 / Already bound, a request is pending, or the same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效、房屋不存在或已归档、phone_code 无效或已使用、手机号不是大陆手机号 / Invalid field, unknown or archived house, invalid or used phone_code, not a mainland mobile number", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "微信调用过于频繁 / WeChat rate limited", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "微信返回了无法使用的应答 / Unusable WeChat answer", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "微信超时 / WeChat timed out", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/binding-requests")]
pub async fn create_my_binding_request(
    db: web::Data<Db>,
    wechat: web::Data<WechatClient>,
    caller: Caller,
    key: IdempotencyKey,
    Json(body): Json<BindingRequestCreate>,
) -> ApiResult<HttpResponse> {
    parse_fields! {
        name = label("name", &body.name, NAME_MAX_CHARS);
    }
    let house_id = body.house_id;
    let relation = body.relation;
    let phone_code = body.phone_code.clone();
    // Refused callers and unusable houses are told so before the
    // single-use phone code is spent.
    let who = caller.clone();
    let resident_id = db.read(move |conn| who.resident(conn)).await?;
    let checks = db.clone();
    let prepare = || async move {
        checks
            .read(move |conn| {
                store::check_fileable(conn, resident_id, house_id).map_err(ApiError::from)
            })
            .await?;
        let phone = wechat
            .phone_number(&phone_code)
            .await
            .map_err(phone_code_error)?;
        let phone = MobilePhone::parse(&phone)
            .map_err(|e| ApiError::validation(vec![rule_code("phone_code", e.code())]))?;
        Ok(NewBindingRequest {
            resident_id,
            house_id,
            relation,
            name: name.clone(),
            phone,
        })
    };
    key.create_with(&db, caller, &body, prepare, file).await
}

/// Lists the resident's own requests.
#[utoipa::path(
    tag = "me",
    operation_id = "list_my_binding_requests",
    summary = "我的绑定申请 / My binding requests",
    description = "当前住户自己的绑定申请，默认最新的在前；游标分页。\n\nThe signed-in resident's own binding requests, newest first by default; cursor pages.",
    params(PageParams, MyBindingRequestListParams),
    security(("bearer" = ["resident"])),
    responses(
        (status = 200, description = "一页申请 / A page of requests", body = MyBindingRequestPage),
        (status = 422, description = "cursor 无效 / Invalid cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/binding-requests")]
pub async fn list_my_binding_requests(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<MyBindingRequestListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let filter = BindingRequestFilter {
        status: params.status,
        ..BindingRequestFilter::default()
    };
    let rows = db
        .read(move |conn| {
            let resident_id = caller.resident(conn)?;
            let page = store::list(conn, Viewer::Resident(resident_id), &filter, &request)?;
            let next = page.next.clone();
            let items = with_addresses(conn, page.items, |r| r.house_id)?;
            Ok::<_, ApiError>(wuye_persistence::page::Page { items, next })
        })
        .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), MyBindingRequest::from);
    Ok(HttpResponse::Ok().json(MyBindingRequestPage { items, next_cursor }))
}

/// Gets one of the resident's own requests.
#[utoipa::path(
    tag = "me",
    operation_id = "get_my_binding_request",
    summary = "查看我的绑定申请 / Get my binding request",
    description = "当前住户自己的一条申请；别人的申请返回 404。\n\nOne of the signed-in resident's own requests; anyone else's is 404.",
    params(("id" = i64, Path, description = "申请 id / Request id", minimum = 1)),
    security(("bearer" = ["resident"])),
    responses(
        (status = 200, description = "申请 / The request", body = MyBindingRequest),
        (status = 404, description = "不存在或不是自己的 / Not found or not yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/binding-requests/{id}")]
pub async fn get_my_binding_request(
    db: web::Data<Db>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<HttpResponse> {
    let request = db
        .read(move |conn| {
            let resident_id = caller.resident(conn)?;
            let row = store::find(conn, Viewer::Resident(resident_id), id)?;
            let mut rows = with_addresses(conn, vec![row], |r| r.house_id)?;
            rows.pop().ok_or_else(ApiError::not_found)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MyBindingRequest::from(request)))
}

/// Lists the houses the resident is bound to.
#[utoipa::path(
    tag = "me",
    operation_id = "list_my_houses",
    summary = "我的房屋 / My houses",
    description = "当前住户已绑定（申请已通过）的房屋及关系；已归档的房屋不再列出。\n\n\
The houses the signed-in resident is bound to (approved requests), with the relation; houses archived since are left out.",
    params(PageParams, MyHouseListParams),
    security(("bearer" = ["resident"])),
    responses(
        (status = 200, description = "一页房屋 / A page of houses", body = MyHousePage),
        (status = 422, description = "cursor 无效 / Invalid cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/houses")]
pub async fn list_my_houses(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<MyHouseListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let rows = db
        .read(move |conn| {
            let resident_id = caller.resident(conn)?;
            let page = store::bindings_of(conn, resident_id, &request)?;
            let next = page.next.clone();
            let items = with_addresses(conn, page.items, |r| r.house_id)?;
            Ok::<_, ApiError>(wuye_persistence::page::Page { items, next })
        })
        .await?;
    let (items, next_cursor) = into_parts(rows, params.sort.wire(), MyHouse::from);
    Ok(HttpResponse::Ok().json(MyHousePage { items, next_cursor }))
}
