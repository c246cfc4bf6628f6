//! Estates (小区): residential compounds, each run by one management office.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::Label;
use wuye_domain::access::DataScope;

use crate::page::{After, ArchivedFilter, Page, PageRequest, SortValue};
use crate::schema::estates::{self, dsl};
use crate::{
    DbConn, StoreError, clock, ensure_no_active, filter_archived, filter_contains, filter_scope,
    keyset, keyset_by_id, parent, versioned_repo,
};

/// A stored estate; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct EstateRow {
    /// Id.
    pub id: i64,
    /// The management office running it.
    pub office_id: i64,
    /// Name, unique among the office's active estates.
    pub name: String,
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

/// An estate to create.
#[derive(Debug, Clone)]
pub struct NewEstate {
    /// The office running it.
    pub office_id: i64,
    /// Name.
    pub name: Label,
    /// Address.
    pub address: Option<Label>,
}

/// Changes to an estate; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = estates)]
pub struct EstateChanges {
    /// New name.
    pub name: Option<String>,
    /// New or cleared address.
    pub address: Option<Option<String>>,
}

/// Which estates a list shows.
#[derive(Debug, Clone, Default)]
pub struct EstateFilter {
    /// Only this office's.
    pub office_id: Option<i64>,
    /// Only those whose name contains this text.
    pub name_contains: Option<String>,
    /// Active, archived or both.
    pub archived: ArchivedFilter,
}

/// The orders an estate list can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstateSort {
    /// Creation order.
    Id,
    /// Name (byte order).
    Name,
}

versioned_repo!(
    table: estates,
    row: EstateRow,
    changes: EstateChanges,
    unique: "name",
    resource: "estate",
    scope: (office: office_id)
);

/// Creates an estate under an active office.
pub fn create(
    conn: &mut DbConn,
    scope: &DataScope,
    new: &NewEstate,
) -> Result<EstateRow, StoreError> {
    use crate::schema::offices;
    let _office: i64 = parent!(
        conn,
        scope,
        offices,
        office: id, new.office_id, "office_id", offices::id)?;
    let now = clock::now();
    diesel::insert_into(dsl::estates)
        .values((
            dsl::office_id.eq(new.office_id),
            dsl::name.eq(new.name.as_str()),
            dsl::address.eq(new.address.as_ref().map(Label::as_str)),
            dsl::version.eq(1),
            dsl::created_at.eq(now),
            dsl::updated_at.eq(now),
        ))
        .returning(estates::all_columns)
        .get_result(conn)
        .map_err(StoreError::unique_on("name"))
}

/// One page of estates.
pub fn list(
    conn: &mut DbConn,
    scope: &DataScope,
    filter: &EstateFilter,
    page: &PageRequest<EstateSort>,
) -> Result<Page<EstateRow>, StoreError> {
    let mut query = dsl::estates.select(estates::all_columns).into_boxed();
    query = filter_scope!(query, scope, office: dsl::office_id);
    if let Some(id) = filter.office_id {
        query = query.filter(dsl::office_id.eq(id));
    }
    if let Some(text) = &filter.name_contains {
        query = filter_contains!(query, dsl::name, text);
    }
    query = filter_archived!(query, dsl::archived_at, filter.archived);
    let after = page.after.as_ref();
    query = match page.sort {
        EstateSort::Id => keyset_by_id!(query, dsl::id, page.direction, after.map(|a| a.id)),
        EstateSort::Name => {
            let after = after.map(After::text).transpose()?;
            keyset!(query, dsl::name, dsl::id, page.direction, after)
        }
    };
    let rows = query.limit(page.limit + 1).load::<EstateRow>(conn)?;
    let sort = page.sort;
    Ok(Page::from_rows(rows, page.limit, |row| After {
        value: match sort {
            EstateSort::Id => SortValue::Int(row.id),
            EstateSort::Name => SortValue::Text(row.name.clone()),
        },
        id: row.id,
    }))
}

/// Applies changes if the estate is active and at `expected_version`.
pub fn update(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    changes: &EstateChanges,
) -> Result<EstateRow, StoreError> {
    update_versioned(conn, scope, id, expected_version, changes)
}

/// Archives an estate that has no active building.
pub fn archive(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
) -> Result<EstateRow, StoreError> {
    let archived = mark_archived(conn, scope, id, expected_version)?;
    ensure_no_active!(conn, buildings, estate_id, id, "buildings")?;
    Ok(archived)
}
