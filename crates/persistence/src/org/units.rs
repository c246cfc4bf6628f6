//! Units (单元): the stairwells of a building that house numbers count in.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::Label;
use wuye_domain::access::DataScope;

use crate::page::{After, ArchivedFilter, Page, PageRequest, SortValue};
use crate::schema::units::{self, dsl};
use crate::{
    DbConn, StoreError, clock, ensure_no_active, filter_archived, filter_contains, filter_scope,
    keyset, keyset_by_id, parent, versioned_repo,
};

/// A stored unit; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct UnitRow {
    /// Id.
    pub id: i64,
    /// Management office, copied from the building.
    pub office_id: i64,
    /// Estate, copied from the building.
    pub estate_id: i64,
    /// Building.
    pub building_id: i64,
    /// Name, e.g. `2单元`, unique among the building's active units.
    pub name: String,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When created (UTC).
    pub created_at: NaiveDateTime,
    /// When last changed (UTC).
    pub updated_at: NaiveDateTime,
    /// When archived (UTC), if it is.
    pub archived_at: Option<NaiveDateTime>,
}

/// A unit to create.
#[derive(Debug, Clone)]
pub struct NewUnit {
    /// Building.
    pub building_id: i64,
    /// Name.
    pub name: Label,
}

/// Changes to a unit; `None` keeps a field.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = units)]
pub struct UnitChanges {
    /// New name.
    pub name: Option<String>,
}

/// Which units a list shows.
#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    /// Only this office's.
    pub office_id: Option<i64>,
    /// Only this estate's.
    pub estate_id: Option<i64>,
    /// Only this building's.
    pub building_id: Option<i64>,
    /// Only those whose name contains this text.
    pub name_contains: Option<String>,
    /// Active, archived or both.
    pub archived: ArchivedFilter,
}

/// The orders a unit list can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitSort {
    /// Creation order.
    Id,
    /// Name (byte order).
    Name,
}

versioned_repo!(
    table: units,
    row: UnitRow,
    changes: UnitChanges,
    unique: "name",
    resource: "unit",
    scope: (office: office_id)
);

/// Creates a unit in an active building.
pub fn create(conn: &mut DbConn, scope: &DataScope, new: &NewUnit) -> Result<UnitRow, StoreError> {
    use crate::schema::buildings;
    let (office_id, estate_id): (i64, i64) = parent!(
        conn,
        scope,
        buildings,
        office: office_id,
        new.building_id,
        "building_id",
        (buildings::office_id, buildings::estate_id)
    )?;
    let now = clock::now();
    diesel::insert_into(dsl::units)
        .values((
            dsl::office_id.eq(office_id),
            dsl::estate_id.eq(estate_id),
            dsl::building_id.eq(new.building_id),
            dsl::name.eq(new.name.as_str()),
            dsl::version.eq(1),
            dsl::created_at.eq(now),
            dsl::updated_at.eq(now),
        ))
        .returning(units::all_columns)
        .get_result(conn)
        .map_err(StoreError::unique_on("name"))
}

/// One page of units.
pub fn list(
    conn: &mut DbConn,
    scope: &DataScope,
    filter: &UnitFilter,
    page: &PageRequest<UnitSort>,
) -> Result<Page<UnitRow>, StoreError> {
    let mut query = dsl::units.select(units::all_columns).into_boxed();
    query = filter_scope!(query, scope, office: dsl::office_id);
    if let Some(id) = filter.office_id {
        query = query.filter(dsl::office_id.eq(id));
    }
    if let Some(id) = filter.estate_id {
        query = query.filter(dsl::estate_id.eq(id));
    }
    if let Some(id) = filter.building_id {
        query = query.filter(dsl::building_id.eq(id));
    }
    if let Some(text) = &filter.name_contains {
        query = filter_contains!(query, dsl::name, text);
    }
    query = filter_archived!(query, dsl::archived_at, filter.archived);
    let after = page.after.as_ref();
    query = match page.sort {
        UnitSort::Id => keyset_by_id!(query, dsl::id, page.direction, after.map(|a| a.id)),
        UnitSort::Name => {
            let after = after.map(After::text).transpose()?;
            keyset!(query, dsl::name, dsl::id, page.direction, after)
        }
    };
    let rows = query.limit(page.limit + 1).load::<UnitRow>(conn)?;
    let sort = page.sort;
    Ok(Page::from_rows(rows, page.limit, |row| After {
        value: match sort {
            UnitSort::Id => SortValue::Int(row.id),
            UnitSort::Name => SortValue::Text(row.name.clone()),
        },
        id: row.id,
    }))
}

/// Applies changes if the unit is active and at `expected_version`.
pub fn update(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    changes: &UnitChanges,
) -> Result<UnitRow, StoreError> {
    update_versioned(conn, scope, id, expected_version, changes)
}

/// Archives a unit that has no active house.
pub fn archive(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
) -> Result<UnitRow, StoreError> {
    let archived = mark_archived(conn, scope, id, expected_version)?;
    ensure_no_active!(conn, houses, unit_id, id, "houses")?;
    Ok(archived)
}
