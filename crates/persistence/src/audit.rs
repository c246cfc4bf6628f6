//! The audit log (R-X-1): who did what to which record, from where. Events
//! are written in the same transaction as the change they describe, and the
//! table refuses updates and deletes (database triggers).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::access::DataScope;

use crate::page::{Page, PageRequest};
use crate::schema::audit_events::{self, dsl};
use crate::{DbConn, StoreError, clock, filter_scope, keyset_by_id};

/// What an event is about: a record, its type and its office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTarget {
    /// Resource type, singular snake case (`house`, `user`).
    pub resource_type: &'static str,
    /// The record's id, when it has one.
    pub resource_id: Option<i64>,
    /// The management office it belongs to; `None` at company level.
    pub office_id: Option<i64>,
}

/// A stored record that can be named in the audit log.
pub trait Audited {
    /// Its type, id and office.
    fn audit_target(&self) -> AuditTarget;
}

/// Who acted and from where: the same for every event of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `staff`, `resident`, `api_key`, `anonymous` (a request before
    /// sign-in) or `system`.
    pub kind: &'static str,
    /// The user, resident or key id (`None` for the system).
    pub id: Option<i64>,
    /// The request id.
    pub request_id: String,
    /// The client's address.
    pub client_addr: String,
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    /// Who.
    pub actor: &'a Actor,
    /// What was done: `create`, `update`, `archive`, `reveal`, `export`, …
    pub action: &'a str,
    /// To what.
    pub target: AuditTarget,
    /// The changed fields as a JSON object, sensitive values already masked.
    pub changes: String,
}

/// A stored event; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct AuditEventRow {
    /// Id (ascending in time of writing).
    pub id: i64,
    /// When (UTC).
    pub occurred_at: NaiveDateTime,
    /// `staff`, `resident`, `api_key`, `anonymous` or `system`.
    pub actor_kind: String,
    /// The actor's id.
    pub actor_id: Option<i64>,
    /// What was done.
    pub action: String,
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: Option<i64>,
    /// Management office.
    pub office_id: Option<i64>,
    /// Changed fields (JSON, masked).
    pub changes: String,
    /// Request id.
    pub request_id: String,
    /// Client address.
    pub client_addr: String,
}

/// Appends one event.
pub fn record(conn: &mut DbConn, event: &NewAuditEvent<'_>) -> Result<(), StoreError> {
    diesel::insert_into(dsl::audit_events)
        .values((
            dsl::occurred_at.eq(clock::now()),
            dsl::actor_kind.eq(event.actor.kind),
            dsl::actor_id.eq(event.actor.id),
            dsl::action.eq(event.action),
            dsl::resource_type.eq(event.target.resource_type),
            dsl::resource_id.eq(event.target.resource_id),
            dsl::office_id.eq(event.target.office_id),
            dsl::changes.eq(&event.changes),
            dsl::request_id.eq(&event.actor.request_id),
            dsl::client_addr.eq(&event.actor.client_addr),
        ))
        .execute(conn)?;
    Ok(())
}

/// Which events a list shows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this kind of actor.
    pub actor_kind: Option<String>,
    /// Only this actor id.
    pub actor_id: Option<i64>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this resource id.
    pub resource_id: Option<i64>,
    /// Only this office's.
    pub office_id: Option<i64>,
    /// Only at or after this time (UTC).
    pub from: Option<NaiveDateTime>,
    /// Only before this time (UTC).
    pub to: Option<NaiveDateTime>,
}

/// One page of events within `scope` (events of company-level records only
/// with a company-wide scope), newest or oldest first.
pub fn list(
    conn: &mut DbConn,
    scope: &DataScope,
    filter: &AuditFilter,
    page: &PageRequest<()>,
) -> Result<Page<AuditEventRow>, StoreError> {
    let mut query = dsl::audit_events
        .select(audit_events::all_columns)
        .into_boxed();
    query = filter_scope!(query, scope, office: dsl::office_id);
    if let Some(kind) = &filter.actor_kind {
        query = query.filter(dsl::actor_kind.eq(kind.clone()));
    }
    if let Some(id) = filter.actor_id {
        query = query.filter(dsl::actor_id.eq(id));
    }
    if let Some(kind) = &filter.resource_type {
        query = query.filter(dsl::resource_type.eq(kind.clone()));
    }
    if let Some(id) = filter.resource_id {
        query = query.filter(dsl::resource_id.eq(id));
    }
    if let Some(id) = filter.office_id {
        query = query.filter(dsl::office_id.eq(id));
    }
    if let Some(from) = filter.from {
        query = query.filter(dsl::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(dsl::occurred_at.lt(to));
    }
    let after = page.after.as_ref().map(|a| a.id);
    query = keyset_by_id!(query, dsl::id, page.direction, after);
    let rows = query.limit(page.limit + 1).load::<AuditEventRow>(conn)?;
    Ok(Page::from_rows(rows, page.limit, |row| {
        crate::page::After::id(row.id)
    }))
}
