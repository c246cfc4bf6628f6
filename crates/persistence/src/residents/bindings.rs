//! House-binding requests (住户绑定申请) and approved bindings.
//!
//! A resident files a request for a house; staff of the house's office (the
//! request's `office_id`, copied from the house) approve or reject it. An
//! approval writes the binding in the same transaction, through [`approve`]
//! whoever the reviewer is — a staff member, or an automatic rule
//! ([`Reviewer::Rule`], see `wuye_domain::residents` for how rules are
//! added) — so every binding has one way in.
//!
//! Residents reach only their own requests and bindings ([`Viewer::Resident`]);
//! staff reach those of the offices their data scope covers
//! ([`Viewer::Staff`]). Requests are never archived: a decision is final
//! and stays as history.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::Label;
use wuye_domain::access::DataScope;
use wuye_domain::personal::MobilePhone;
use wuye_domain::residents::{BindingError, BindingStatus, Decision, Relation};

use crate::audit::{AuditTarget, Audited};
use crate::page::{After, Page, PageRequest};
use crate::schema::binding_requests::{self, dsl};
use crate::schema::house_bindings::{self, dsl as bound};
use crate::schema::{buildings, estates, houses, units};
use crate::{DbConn, StoreError, Versioned, clock, filter_scope, keyset_by_id, parent};

/// A stored binding request; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct BindingRequestRow {
    /// Id.
    pub id: i64,
    /// The resident who filed it.
    pub resident_id: i64,
    /// The house asked for.
    pub house_id: i64,
    /// The house's management office (管理处), whose staff review it.
    pub office_id: i64,
    /// The relation claimed.
    #[diesel(deserialize_as = String)]
    pub relation: Relation,
    /// The name the resident gave.
    pub name: String,
    /// The phone number WeChat vouched for, in full.
    pub phone: String,
    /// Where the review stands.
    #[diesel(deserialize_as = String)]
    pub status: BindingStatus,
    /// The staff member who reviewed it.
    pub reviewed_by: Option<i64>,
    /// The automatic rule that reviewed it.
    pub review_rule: Option<String>,
    /// When it was reviewed (UTC).
    pub reviewed_at: Option<NaiveDateTime>,
    /// The reviewer's note (a rejection's reason).
    pub review_note: Option<String>,
    /// Optimistic-concurrency version, starts at 1.
    pub version: i32,
    /// When filed (UTC).
    pub created_at: NaiveDateTime,
    /// When last changed (UTC).
    pub updated_at: NaiveDateTime,
}

impl Versioned for BindingRequestRow {
    fn version(&self) -> i32 {
        self.version
    }
}

impl Audited for BindingRequestRow {
    fn audit_target(&self) -> AuditTarget {
        AuditTarget {
            resource_type: "binding_request",
            resource_id: Some(self.id),
            office_id: Some(self.office_id),
        }
    }
}

/// A resident's binding to a house; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct HouseBindingRow {
    /// Id.
    pub id: i64,
    /// The resident.
    pub resident_id: i64,
    /// The house.
    pub house_id: i64,
    /// The house's management office.
    pub office_id: i64,
    /// The resident's relation to the house.
    #[diesel(deserialize_as = String)]
    pub relation: Relation,
    /// The request it came from.
    pub request_id: Option<i64>,
    /// When bound (UTC).
    pub created_at: NaiveDateTime,
}

impl Audited for HouseBindingRow {
    fn audit_target(&self) -> AuditTarget {
        AuditTarget {
            resource_type: "house_binding",
            resource_id: Some(self.id),
            office_id: Some(self.office_id),
        }
    }
}

/// A request to file, already validated; the phone is the one WeChat
/// returned.
#[derive(Debug, Clone)]
pub struct NewBindingRequest {
    /// The signed-in resident.
    pub resident_id: i64,
    /// The house.
    pub house_id: i64,
    /// The relation claimed.
    pub relation: Relation,
    /// The resident's name.
    pub name: Label,
    /// The phone from WeChat.
    pub phone: MobilePhone,
}

/// Whose requests a query reaches.
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    /// Staff (or a key): the offices of this data scope.
    Staff(&'a DataScope),
    /// A resident: their own requests only.
    Resident(i64),
}

/// Who reviewed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reviewer {
    /// A staff member (their user id).
    Staff(i64),
    /// An automatic rule (its stable name).
    Rule(&'static str),
}

/// Why a request was not filed or a review not stored.
#[derive(Debug, thiserror::Error)]
pub enum BindingFailure {
    /// Storage said no (not found, stale version, unavailable…).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The binding rules said no (already bound or pending, not pending,
    /// house archived).
    #[error(transparent)]
    Rule(#[from] BindingError),
}

impl From<diesel::result::Error> for BindingFailure {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(error.into())
    }
}

/// Which requests a list shows.
#[derive(Debug, Clone, Default)]
pub struct BindingRequestFilter {
    /// Only in this status.
    pub status: Option<BindingStatus>,
    /// Only for this house.
    pub house_id: Option<i64>,
    /// Only of this office.
    pub office_id: Option<i64>,
}

/// Checks that the resident may file a request for the house: the house
/// exists and is active (else [`StoreError::InvalidReference`] on
/// `house_id`), and the resident is neither bound to it nor waiting for a
/// review of it. Any house of the company may be asked for, so the house is
/// looked up company-wide. Returns the house's office.
pub fn check_fileable(
    conn: &mut DbConn,
    resident_id: i64,
    house_id: i64,
) -> Result<i64, BindingFailure> {
    let office_id: i64 = parent!(
        conn,
        &DataScope::system(),
        houses,
        office: office_id,
        house_id,
        "house_id",
        houses::office_id
    )?;
    if binding_of(conn, resident_id, house_id)?.is_some() {
        return Err(BindingError::AlreadyBound.into());
    }
    let pending: i64 = dsl::binding_requests
        .filter(dsl::resident_id.eq(resident_id))
        .filter(dsl::house_id.eq(house_id))
        .filter(dsl::status.eq(BindingStatus::Pending.as_str()))
        .count()
        .get_result(conn)?;
    if pending > 0 {
        return Err(BindingError::AlreadyPending.into());
    }
    Ok(office_id)
}

/// Files a pending request, after [`check_fileable`]; the office is the
/// house's. A concurrent second request for the same house meets the
/// one-pending index and is [`BindingError::AlreadyPending`] too.
pub fn create(
    conn: &mut DbConn,
    new: &NewBindingRequest,
) -> Result<BindingRequestRow, BindingFailure> {
    let office_id = check_fileable(conn, new.resident_id, new.house_id)?;
    let now = clock::now();
    let inserted = diesel::insert_into(dsl::binding_requests)
        .values((
            dsl::resident_id.eq(new.resident_id),
            dsl::house_id.eq(new.house_id),
            dsl::office_id.eq(office_id),
            dsl::relation.eq(new.relation.as_str()),
            dsl::name.eq(new.name.as_str()),
            dsl::phone.eq(new.phone.as_str()),
            dsl::status.eq(BindingStatus::Pending.as_str()),
            dsl::version.eq(1),
            dsl::created_at.eq(now),
            dsl::updated_at.eq(now),
        ))
        .returning(binding_requests::all_columns)
        .get_result(conn)
        .map_err(StoreError::unique_on("house_id"));
    match inserted {
        Ok(row) => Ok(row),
        Err(StoreError::Duplicate { .. }) => Err(BindingError::AlreadyPending.into()),
        Err(other) => Err(other.into()),
    }
}

/// Loads one request within the viewer's reach, or `NotFound`.
pub fn find(
    conn: &mut DbConn,
    viewer: Viewer<'_>,
    id: i64,
) -> Result<BindingRequestRow, StoreError> {
    let query = dsl::binding_requests
        .find(id)
        .select(binding_requests::all_columns)
        .into_boxed();
    let query = match viewer {
        Viewer::Staff(scope) => filter_scope!(query, scope, office: dsl::office_id),
        Viewer::Resident(resident_id) => query.filter(dsl::resident_id.eq(resident_id)),
    };
    Ok(query.first(conn)?)
}

/// Loads one request within a staff `scope` (the shape the API's generic
/// read takes).
pub fn get(conn: &mut DbConn, scope: &DataScope, id: i64) -> Result<BindingRequestRow, StoreError> {
    find(conn, Viewer::Staff(scope), id)
}

/// One page of requests within the viewer's reach, by id.
pub fn list(
    conn: &mut DbConn,
    viewer: Viewer<'_>,
    filter: &BindingRequestFilter,
    page: &PageRequest<()>,
) -> Result<Page<BindingRequestRow>, StoreError> {
    let mut query = dsl::binding_requests
        .select(binding_requests::all_columns)
        .into_boxed();
    query = match viewer {
        Viewer::Staff(scope) => filter_scope!(query, scope, office: dsl::office_id),
        Viewer::Resident(resident_id) => query.filter(dsl::resident_id.eq(resident_id)),
    };
    if let Some(status) = filter.status {
        query = query.filter(dsl::status.eq(status.as_str()));
    }
    if let Some(id) = filter.house_id {
        query = query.filter(dsl::house_id.eq(id));
    }
    if let Some(id) = filter.office_id {
        query = query.filter(dsl::office_id.eq(id));
    }
    let after = page.after.as_ref().map(|a| a.id);
    query = keyset_by_id!(query, dsl::id, page.direction, after);
    let rows = query
        .limit(page.limit + 1)
        .load::<BindingRequestRow>(conn)?;
    Ok(Page::from_rows(rows, page.limit, |row| After::id(row.id)))
}

/// The resident's binding to a house, if they have one.
pub fn binding_of(
    conn: &mut DbConn,
    resident_id: i64,
    house_id: i64,
) -> Result<Option<HouseBindingRow>, StoreError> {
    Ok(bound::house_bindings
        .filter(bound::resident_id.eq(resident_id))
        .filter(bound::house_id.eq(house_id))
        .select(house_bindings::all_columns)
        .first(conn)
        .optional()?)
}

/// One page of the resident's bindings, by id, leaving out houses archived
/// since (nothing can be done for them any more).
pub fn bindings_of(
    conn: &mut DbConn,
    resident_id: i64,
    page: &PageRequest<()>,
) -> Result<Page<HouseBindingRow>, StoreError> {
    let mut query = bound::house_bindings
        .inner_join(houses::table)
        .filter(bound::resident_id.eq(resident_id))
        .filter(houses::archived_at.is_null())
        .select(house_bindings::all_columns)
        .into_boxed();
    let after = page.after.as_ref().map(|a| a.id);
    query = keyset_by_id!(query, bound::id, page.direction, after);
    let rows = query.limit(page.limit + 1).load::<HouseBindingRow>(conn)?;
    Ok(Page::from_rows(rows, page.limit, |row| After::id(row.id)))
}

/// Approves a pending request at `expected_version` and binds the
/// resident to the house, in the caller's transaction. Staff reach the
/// request through `scope`; a rule acts for the company
/// ([`DataScope::system`]) on the request it was filed with.
pub fn approve(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    reviewer: Reviewer,
    note: Option<&str>,
) -> Result<(BindingRequestRow, HouseBindingRow), BindingFailure> {
    let request = review(
        conn,
        scope,
        id,
        expected_version,
        Decision::Approve,
        reviewer,
        note,
    )?;
    // Checked after the request is claimed, so a request that is no longer
    // pending says so whatever became of its house.
    let archived: Option<NaiveDateTime> = houses::table
        .find(request.house_id)
        .select(houses::archived_at)
        .first(conn)?;
    if archived.is_some() {
        return Err(BindingError::HouseArchived.into());
    }
    let binding: Result<HouseBindingRow, _> = diesel::insert_into(bound::house_bindings)
        .values((
            bound::resident_id.eq(request.resident_id),
            bound::house_id.eq(request.house_id),
            bound::office_id.eq(request.office_id),
            bound::relation.eq(request.relation.as_str()),
            bound::request_id.eq(Some(request.id)),
            bound::created_at.eq(clock::now()),
        ))
        .returning(house_bindings::all_columns)
        .get_result(conn);
    match binding {
        Ok(binding) => Ok((request, binding)),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(BindingError::AlreadyBound.into()),
        Err(other) => Err(other.into()),
    }
}

/// Rejects a pending request at `expected_version`.
pub fn reject(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    reviewer: Reviewer,
    note: Option<&str>,
) -> Result<BindingRequestRow, BindingFailure> {
    review(
        conn,
        scope,
        id,
        expected_version,
        Decision::Reject,
        reviewer,
        note,
    )
}

/// Records `decision` if the request is pending, within `scope` and at
/// `expected_version` — one guarded statement, so two reviewers can never
/// both decide — and otherwise says why not: not found, no longer pending
/// (whatever the version), or a stale version.
fn review(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    decision: Decision,
    reviewer: Reviewer,
    note: Option<&str>,
) -> Result<BindingRequestRow, BindingFailure> {
    let reviewable = BindingStatus::Pending;
    let target = reviewable.review(decision)?;
    let (staff, rule) = match reviewer {
        Reviewer::Staff(user_id) => (Some(user_id), None),
        Reviewer::Rule(name) => (None, Some(name)),
    };
    let now = clock::now();
    let updated = diesel::update(
        dsl::binding_requests
            .filter(dsl::id.eq(id))
            .filter(dsl::version.eq(expected_version))
            .filter(dsl::status.eq(reviewable.as_str()))
            .filter(crate::scope_condition!(scope, office: dsl::office_id)),
    )
    .set((
        dsl::status.eq(target.as_str()),
        dsl::reviewed_by.eq(staff),
        dsl::review_rule.eq(rule),
        dsl::reviewed_at.eq(Some(now)),
        dsl::review_note.eq(note),
        dsl::version.eq(dsl::version + 1),
        dsl::updated_at.eq(now),
    ))
    .returning(binding_requests::all_columns)
    .get_result::<BindingRequestRow>(conn)
    .optional()?;
    if let Some(row) = updated {
        return Ok(row);
    }
    let current = get(conn, scope, id)?;
    current.status.review(decision)?;
    Err(StoreError::VersionMismatch {
        current: current.version,
    }
    .into())
}

/// Where a house is, for people: its estate (小区), building (楼栋), unit
/// (单元) and number (房号).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseAddress {
    /// Estate name.
    pub estate: String,
    /// Building name.
    pub building: String,
    /// Unit name.
    pub unit: String,
    /// House number.
    pub number: String,
}

/// The addresses of `house_ids` (archived houses too), by house id: one
/// query for a whole page of requests or bindings.
pub fn addresses(
    conn: &mut DbConn,
    house_ids: &[i64],
) -> Result<HashMap<i64, HouseAddress>, StoreError> {
    if house_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String, String, String)> = houses::table
        .inner_join(units::table.inner_join(buildings::table.inner_join(estates::table)))
        .filter(houses::id.eq_any(house_ids))
        .select((
            houses::id,
            estates::name,
            buildings::name,
            units::name,
            houses::number,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, estate, building, unit, number)| {
            (
                id,
                HouseAddress {
                    estate,
                    building,
                    unit,
                    number,
                },
            )
        })
        .collect())
}
