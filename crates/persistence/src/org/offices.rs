//! Management offices (管理处): one per estate or a few estates; the unit of
//! data scope (R-ORG-1).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::Label;
use wuye_domain::access::DataScope;

use crate::page::{After, ArchivedFilter, Page, PageRequest, SortValue};
use crate::schema::offices::{self, dsl};
use crate::{
    DbConn, StoreError, clock, ensure_no_active, filter_archived, filter_contains, filter_scope,
    keyset, keyset_by_id, versioned_repo,
};

/// A stored office; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct OfficeRow {
    /// Id.
    pub id: i64,
    /// Name, unique among active offices.
    pub name: String,
    /// The company's own code for it.
    pub code: Option<String>,
    /// Front-desk telephone.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When created (UTC).
    pub created_at: NaiveDateTime,
    /// When last changed (UTC).
    pub updated_at: NaiveDateTime,
    /// When archived (UTC), if it is.
    pub archived_at: Option<NaiveDateTime>,
}

/// An office to create.
#[derive(Debug, Clone)]
pub struct NewOffice {
    /// Name.
    pub name: Label,
    /// Company code.
    pub code: Option<Label>,
    /// Telephone.
    pub phone: Option<Label>,
    /// Address.
    pub address: Option<Label>,
}

/// Changes to an office; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = offices)]
pub struct OfficeChanges {
    /// New name.
    pub name: Option<String>,
    /// New or cleared code.
    pub code: Option<Option<String>>,
    /// New or cleared telephone.
    pub phone: Option<Option<String>>,
    /// New or cleared address.
    pub address: Option<Option<String>>,
}

/// Which offices a list shows.
#[derive(Debug, Clone, Default)]
pub struct OfficeFilter {
    /// Only those whose name contains this text.
    pub name_contains: Option<String>,
    /// Active, archived or both.
    pub archived: ArchivedFilter,
}

/// The orders an office list can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeSort {
    /// Creation order.
    Id,
    /// Name (byte order).
    Name,
}

versioned_repo!(
    table: offices,
    row: OfficeRow,
    changes: OfficeChanges,
    unique: "name",
    resource: "office",
    scope: (office: id)
);

/// Creates an office.
pub fn create(
    conn: &mut DbConn,
    scope: &DataScope,
    new: &NewOffice,
) -> Result<OfficeRow, StoreError> {
    // A new office is outside every office list, so only a company-wide
    // scope can create one.
    StoreError::require_company(scope)?;
    let now = clock::now();
    diesel::insert_into(dsl::offices)
        .values((
            dsl::name.eq(new.name.as_str()),
            dsl::code.eq(new.code.as_ref().map(Label::as_str)),
            dsl::phone.eq(new.phone.as_ref().map(Label::as_str)),
            dsl::address.eq(new.address.as_ref().map(Label::as_str)),
            dsl::version.eq(1),
            dsl::created_at.eq(now),
            dsl::updated_at.eq(now),
        ))
        .returning(offices::all_columns)
        .get_result(conn)
        .map_err(StoreError::unique_on("name"))
}

/// One page of offices.
pub fn list(
    conn: &mut DbConn,
    scope: &DataScope,
    filter: &OfficeFilter,
    page: &PageRequest<OfficeSort>,
) -> Result<Page<OfficeRow>, StoreError> {
    let mut query = dsl::offices.select(offices::all_columns).into_boxed();
    query = filter_scope!(query, scope, office: dsl::id);
    if let Some(text) = &filter.name_contains {
        query = filter_contains!(query, dsl::name, text);
    }
    query = filter_archived!(query, dsl::archived_at, filter.archived);
    let after = page.after.as_ref();
    query = match page.sort {
        OfficeSort::Id => keyset_by_id!(query, dsl::id, page.direction, after.map(|a| a.id)),
        OfficeSort::Name => {
            let after = after.map(After::text).transpose()?;
            keyset!(query, dsl::name, dsl::id, page.direction, after)
        }
    };
    let rows = query.limit(page.limit + 1).load::<OfficeRow>(conn)?;
    let sort = page.sort;
    Ok(Page::from_rows(rows, page.limit, |row| After {
        value: match sort {
            OfficeSort::Id => SortValue::Int(row.id),
            OfficeSort::Name => SortValue::Text(row.name.clone()),
        },
        id: row.id,
    }))
}

/// Applies changes if the office is active and at `expected_version`.
pub fn update(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    changes: &OfficeChanges,
) -> Result<OfficeRow, StoreError> {
    update_versioned(conn, scope, id, expected_version, changes)
}

/// Archives an office that has no active estate.
pub fn archive(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
) -> Result<OfficeRow, StoreError> {
    let archived = mark_archived(conn, scope, id, expected_version)?;
    ensure_no_active!(conn, estates, office_id, id, "estates")?;
    Ok(archived)
}
