//! The audit log (审计日志, R-X-1) — `/api/v1/audit-events`: read only.
//! Events are written by the operations themselves, in the transaction of
//! the change; no route edits or deletes one, and the database refuses it
//! too.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::access::Permission;
use wuye_persistence::Db;
use wuye_persistence::audit::{self as store, AuditEventRow, AuditFilter};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::i18n::Text;
use crate::pagination::{PageParams, into_parts};
use crate::resource;
use crate::time::utc;
use crate::{page_type, sort_param};

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A staff member (员工).
    Staff,
    /// A resident (住户), through the WeChat mini-program.
    Resident,
    /// An integration key (集成密钥).
    ApiKey,
    /// Nobody signed in yet.
    Anonymous,
    /// The server itself (`wuye admin`, background work).
    System,
}

impl ActorKind {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Resident => "resident",
            Self::ApiKey => "api_key",
            Self::Anonymous => "anonymous",
            Self::System => "system",
        }
    }

    fn from_stored(stored: &str) -> Option<Self> {
        [
            Self::Staff,
            Self::Resident,
            Self::ApiKey,
            Self::Anonymous,
            Self::System,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == stored)
    }
}

/// Who acted: the kind and the account, resident or key id.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    /// Kind of actor.
    pub kind: ActorKind,
    /// The staff account, resident or integration key id; `null` for
    /// anonymous and system actors.
    pub id: Option<i64>,
}

/// One audit event (审计事件): who did what to which record, when and from
/// where.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "id": 1024, "occurred_at": "2026-12-04T08:00:00.123456Z",
    "actor": {"kind": "staff", "id": 7},
    "action": "update", "resource_type": "house", "resource_id": 42, "office_id": 1,
    "changes": {"state": "rented"},
    "request_id": "0f8e4c2a-1b3d-4e5f-8a9b-0c1d2e3f4a5b", "client_addr": "10.0.0.8"
})))]
pub struct AuditEvent {
    /// Id; larger ids were written later.
    pub id: i64,
    /// When (UTC).
    pub occurred_at: DateTime<Utc>,
    /// Who.
    pub actor: AuditActor,
    /// What was done: `create`, `update`, `archive`, `sign_in`,
    /// `change_password`, `reveal`, …
    pub action: String,
    /// The record's type, singular snake case (`house`, `user`).
    pub resource_type: String,
    /// The record's id.
    pub resource_id: Option<i64>,
    /// The record's management office; `null` for company-level records.
    pub office_id: Option<i64>,
    /// The fields as sent; secrets are never stored and personal data is
    /// masked.
    #[schema(value_type = Object)]
    pub changes: Value,
    /// The request's `X-Request-Id`.
    pub request_id: String,
    /// The client's address.
    pub client_addr: String,
}

impl TryFrom<AuditEventRow> for AuditEvent {
    type Error = ApiError;

    fn try_from(row: AuditEventRow) -> Result<Self, ApiError> {
        // Only the server writes events, with its own constants: a kind it
        // does not know is a bug worth a 500, not something to guess.
        let kind = ActorKind::from_stored(&row.actor_kind).ok_or_else(|| {
            ApiError::internal(&format!(
                "audit event {} has unknown actor kind {:?}",
                row.id, row.actor_kind
            ))
        })?;
        let changes = serde_json::from_str(&row.changes).map_err(|e| {
            ApiError::internal(&format!(
                "audit event {} has unreadable changes: {e}",
                row.id
            ))
        })?;
        Ok(Self {
            id: row.id,
            occurred_at: utc(row.occurred_at),
            actor: AuditActor {
                kind,
                id: row.actor_id,
            },
            action: row.action,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            office_id: row.office_id,
            changes,
            request_id: row.request_id,
            client_addr: row.client_addr,
        })
    }
}

sort_param! {
    /// The order of the audit log: by id, which is the order of writing.
    AuditSortParam => (), default IdDesc {
        IdDesc = "-id" => ((), Desc),
        IdAsc = "id" => ((), Asc),
    }
}

/// Filters and order of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditEventListParams {
    /// Only events of this kind of actor.
    #[param(inline)]
    pub actor_kind: Option<ActorKind>,
    /// Only events of this staff account, resident or key (with
    /// `actor_kind`, since their ids overlap).
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub actor_id: Option<i64>,
    /// Only events about this type of record (`house`, `user`, …).
    #[param(min_length = 1, max_length = 64, pattern = r"^[a-z_]+$")]
    pub resource_type: Option<String>,
    /// Only events about this record id (with `resource_type`).
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub resource_id: Option<i64>,
    /// Only events of this management office's records.
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    pub office_id: Option<i64>,
    /// Only events at or after this time (RFC 3339, e.g.
    /// `2026-12-04T00:00:00+08:00`; encode `+` as `%2B`).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339; exclusive).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<Utc>>,
    /// Order; default `-id` (newest first).
    #[serde(default)]
    #[param(inline)]
    pub sort: AuditSortParam,
}

/// Stored times have microseconds: rounding a bound up to the next one
/// keeps `from` inclusive and `to` exclusive at any precision the client
/// sends (both backends would otherwise truncate, or compare text).
fn to_stored_bound(at: DateTime<Utc>) -> NaiveDateTime {
    let sub_micro = i64::from(at.timestamp_subsec_nanos() % 1_000);
    let naive = at.naive_utc();
    if sub_micro == 0 {
        naive
    } else {
        naive + TimeDelta::nanoseconds(1_000 - sub_micro)
    }
}

/// Longest `resource_type` filter, in characters.
const RESOURCE_TYPE_MAX_CHARS: usize = 64;

/// Checks a `resource_type` filter: resource types are snake case, so
/// anything else (control characters included, which PostgreSQL refuses
/// in text) is a malformed query rather than a search that finds nothing.
fn resource_type(filter: Option<&str>) -> ApiResult<Option<String>> {
    match filter {
        None => Ok(None),
        Some(text)
            if !text.is_empty()
                && text.len() <= RESOURCE_TYPE_MAX_CHARS
                && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            Ok(Some(text.to_owned()))
        }
        Some(_) => Err(ApiError::bad_request(
            "request.invalid_query",
            Text::new(
                "resource_type 须为 1 到 64 个小写字母或下划线",
                "resource_type must be 1 to 64 lower-case letters or underscores",
            ),
        )),
    }
}

page_type!(AuditEventPage, AuditEvent, "A page of audit events.");

/// Registers the routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_events);
}

/// Lists audit events.
#[utoipa::path(
    tag = "audit",
    operation_id = "list_audit_events",
    summary = "审计日志 / List audit events",
    description = "每次修改、登录、查看敏感信息都会留下一条事件（谁、何时、从哪里、改了什么；不含密码等机密，个人信息已脱敏）。\
按操作者、记录、管理处和时间（from 含、to 不含）筛选；默认最新的在前；游标分页。只能看到数据范围内管理处的事件，公司级事件需要全公司范围。审计日志不可修改或删除。\n\n\
Every change, sign-in and reveal of personal data leaves an event (who, when, from where, what changed; secrets never stored, personal data masked). \
Filter by actor, record, office and time (`from` inclusive, `to` exclusive); newest first by default; cursor pages. \
Only events of offices within the caller's data scope are listed; company-level events need a company-wide scope. Events can be neither changed nor deleted.",
    params(PageParams, AuditEventListParams),
    security(("bearer" = ["audit.read"]), ("api_key" = ["audit.read"])),
    responses(
        (status = 200, description = "一页审计事件 / A page of audit events", body = AuditEventPage),
        (status = 422, description = "cursor 无效（不是上一页返回的，或换了 sort）/ Invalid cursor (not from the previous page, or another sort)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    db: web::Data<Db>,
    caller: Caller,
    page: web::Query<PageParams>,
    params: web::Query<AuditEventListParams>,
) -> ApiResult<HttpResponse> {
    let (sort, direction) = params.sort.storage();
    let request = page.request(params.sort.wire(), sort, direction)?;
    let filter = AuditFilter {
        actor_kind: params.actor_kind.map(|kind| kind.as_str().to_owned()),
        actor_id: params.actor_id,
        resource_type: resource_type(params.resource_type.as_deref())?,
        resource_id: params.resource_id,
        office_id: params.office_id,
        from: params.from.map(to_stored_bound),
        to: params.to.map(to_stored_bound),
    };
    let rows = resource::query(&db, caller, Permission::AuditRead, move |conn, scope| {
        store::list(conn, scope, &filter, &request)
    })
    .await?;
    let (rows, next_cursor) = into_parts(rows, params.sort.wire(), |row| row);
    let items = rows
        .into_iter()
        .map(AuditEvent::try_from)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(AuditEventPage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_round_up_to_whole_microseconds() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            to_stored_bound(at("2026-12-04T08:00:00.1234561Z")),
            at("2026-12-04T08:00:00.123457Z").naive_utc()
        );
        assert_eq!(
            to_stored_bound(at("2026-12-04T08:00:00.123456Z")),
            at("2026-12-04T08:00:00.123456Z").naive_utc()
        );
        assert_eq!(
            to_stored_bound(at("2026-12-04T16:00:00+08:00")),
            at("2026-12-04T08:00:00Z").naive_utc()
        );
    }

    #[test]
    fn actor_kinds_round_trip() {
        for kind in ["staff", "resident", "api_key", "anonymous", "system"] {
            assert_eq!(
                ActorKind::from_stored(kind).map(ActorKind::as_str),
                Some(kind)
            );
        }
        assert_eq!(ActorKind::from_stored("root"), None);
    }
}
