//! Company settings (公司设置) — `/api/v1/company`.

use actix_web::{HttpResponse, get, patch, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::Permission;
use wuye_domain::org::{CompanyTimeZone, NAME_MAX_CHARS, VipCardPrefix};
use wuye_persistence::Db;
use wuye_persistence::audit::AuditTarget;
use wuye_persistence::org::company::{self as store, CompanyChanges, CompanyRow};

use crate::auth::Caller;
use crate::concurrency::{IfMatch, IfMatchHeader, ok_versioned};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use crate::parse_fields;
use crate::resource;
use crate::time::utc;
use crate::validate::{label, rule};

/// The company's settings: one record for the whole company.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "name": "北京阳光物业管理有限公司", "vip_card_prefix": "JK", "time_zone": "Asia/Shanghai",
    "version": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-12-04T08:00:00Z"
})))]
pub struct Company {
    /// Company name.
    pub name: String,
    /// Two capital letters every VIP card number starts with (R-VIP-4).
    pub vip_card_prefix: String,
    /// IANA time zone for deadlines and day boundaries (R-X-3).
    pub time_zone: String,
    /// Version for `If-Match`; also the `ETag`.
    pub version: i32,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<CompanyRow> for Company {
    fn from(row: CompanyRow) -> Self {
        Self {
            name: row.name,
            vip_card_prefix: row.vip_card_prefix,
            time_zone: row.time_zone,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// Changes to the settings; absent fields stay.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "北京阳光物业管理有限公司", "vip_card_prefix": "YG"})))]
pub struct CompanyUpdate {
    /// New company name.
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
    /// New VIP card prefix: two capital letters. Cards already issued keep
    /// their numbers.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(pattern = "^[A-Z]{2}$", nullable = false)]
    pub vip_card_prefix: Option<String>,
    /// New IANA time zone, e.g. `Asia/Shanghai`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::validate::non_null"
    )]
    #[schema(
        min_length = 1,
        max_length = 64,
        nullable = false,
        examples("Asia/Shanghai")
    )]
    pub time_zone: Option<String>,
}

impl CompanyUpdate {
    fn parse(&self) -> ApiResult<CompanyChanges> {
        parse_fields! {
            name = self.name.as_deref().map(|n| label("name", n, NAME_MAX_CHARS)).transpose();
            vip_card_prefix = self
                .vip_card_prefix
                .as_deref()
                .map(VipCardPrefix::parse)
                .transpose()
                .map_err(|e| rule("vip_card_prefix", e));
            time_zone = self
                .time_zone
                .as_deref()
                .map(CompanyTimeZone::parse)
                .transpose()
                .map_err(|e| rule("time_zone", e));
        }
        Ok(CompanyChanges {
            name: name.map(|n| n.into_inner()),
            vip_card_prefix: vip_card_prefix.map(String::from),
            time_zone: time_zone.map(|tz| tz.name().to_owned()),
        })
    }
}

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_company).service(update_company);
}

/// Gets the company settings.
#[utoipa::path(
    tag = "company",
    operation_id = "get_company",
    summary = "查看公司设置 / Get company settings",
    description = "公司名称、VIP 卡号前缀（默认 JK）和时区（默认 Asia/Shanghai）。\n\n\
Company name, VIP card prefix (default JK) and time zone (default Asia/Shanghai).",
    security(("bearer" = ["org.read"]), ("api_key" = ["org.read"])),
    responses(
        (status = 200, description = "公司设置 / The settings", body = Company,
            headers(("ETag" = String, description = "版本 / Version"))),
    )
)]
#[get("/company")]
pub async fn get_company(db: web::Data<Db>, caller: Caller) -> ApiResult<HttpResponse> {
    let row = resource::query(&db, caller, Permission::OrgRead, move |conn, scope| {
        store::get(conn, scope)
    })
    .await?;
    let version = row.version;
    Ok(ok_versioned(&Company::from(row), version))
}

/// Changes the company settings.
#[utoipa::path(
    tag = "company",
    operation_id = "update_company",
    summary = "修改公司设置 / Update company settings",
    description = "只改请求中给出的字段；须带 If-Match。可用 POST 加 X-HTTP-Method-Override: PATCH。\n\n\
Changes only the fields given; needs If-Match. POST with X-HTTP-Method-Override: PATCH also works.",
    params(IfMatchHeader),
    request_body = CompanyUpdate,
    security(("bearer" = ["org.write"]), ("api_key" = ["org.write"])),
    responses(
        (status = 200, description = "已修改 / Updated", body = Company,
            headers(("ETag" = String, description = "新版本 / New version"))),
        (status = 412, description = "版本已过期 / Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段无效（如未知时区）/ Invalid field (e.g. unknown time zone)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "缺少 If-Match / If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/company")]
pub async fn update_company(
    db: web::Data<Db>,
    caller: Caller,
    if_match: IfMatch,
    Json(body): Json<CompanyUpdate>,
) -> ApiResult<HttpResponse> {
    let changes = body.parse()?;
    let row = db
        .write(move |conn| {
            let scope = caller.authorize(conn, Permission::OrgWrite)?;
            let expected =
                if_match.expected_version(|| store::get(conn, &scope).map(|row| row.version))?;
            let row = store::update(conn, &scope, expected, &changes)?;
            let target = AuditTarget {
                resource_type: "company",
                resource_id: Some(row.id),
                office_id: None,
            };
            crate::audit::record(conn, caller.actor(), "update", target, &body)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    Ok(ok_versioned(&Company::from(row), version))
}
