//! Buildings (楼栋) of an estate.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::Label;
use wuye_domain::access::DataScope;

use crate::page::{After, ArchivedFilter, Page, PageRequest, SortValue};
use crate::schema::buildings::{self, dsl};
use crate::{
    DbConn, StoreError, clock, ensure_no_active, filter_archived, filter_contains, filter_scope,
    keyset, keyset_by_id, parent, versioned_repo,
};

/// A stored building; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct BuildingRow {
    /// Id.
    pub id: i64,
    /// Management office, copied from the estate.
    pub office_id: i64,
    /// Estate.
    pub estate_id: i64,
    /// Name, e.g. `3号楼`, unique among the estate's active buildings.
    pub name: String,
    /// Floors above ground.
    pub floors_above: Option<i32>,
    /// Floors below ground.
    pub floors_below: Option<i32>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When created (UTC).
    pub created_at: NaiveDateTime,
    /// When last changed (UTC).
    pub updated_at: NaiveDateTime,
    /// When archived (UTC), if it is.
    pub archived_at: Option<NaiveDateTime>,
}

/// A building to create.
#[derive(Debug, Clone)]
pub struct NewBuilding {
    /// Estate.
    pub estate_id: i64,
    /// Name.
    pub name: Label,
    /// Floors above ground.
    pub floors_above: Option<i32>,
    /// Floors below ground.
    pub floors_below: Option<i32>,
}

/// Changes to a building; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = buildings)]
pub struct BuildingChanges {
    /// New name.
    pub name: Option<String>,
    /// New or cleared floors above ground.
    pub floors_above: Option<Option<i32>>,
    /// New or cleared floors below ground.
    pub floors_below: Option<Option<i32>>,
}

/// Which buildings a list shows.
#[derive(Debug, Clone, Default)]
pub struct BuildingFilter {
    /// Only this office's.
    pub office_id: Option<i64>,
    /// Only this estate's.
    pub estate_id: Option<i64>,
    /// Only those whose name contains this text.
    pub name_contains: Option<String>,
    /// Active, archived or both.
    pub archived: ArchivedFilter,
}

/// The orders a building list can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildingSort {
    /// Creation order.
    Id,
    /// Name (byte order).
    Name,
}

versioned_repo!(
    table: buildings,
    row: BuildingRow,
    changes: BuildingChanges,
    unique: "name",
    resource: "building",
    scope: (office: office_id)
);

/// Creates a building in an active estate.
pub fn create(
    conn: &mut DbConn,
    scope: &DataScope,
    new: &NewBuilding,
) -> Result<BuildingRow, StoreError> {
    use crate::schema::estates;
    let office_id: i64 = parent!(
        conn,
        scope,
        estates,
        office: office_id,
        new.estate_id,
        "estate_id",
        estates::office_id
    )?;
    let now = clock::now();
    diesel::insert_into(dsl::buildings)
        .values((
            dsl::office_id.eq(office_id),
            dsl::estate_id.eq(new.estate_id),
            dsl::name.eq(new.name.as_str()),
            dsl::floors_above.eq(new.floors_above),
            dsl::floors_below.eq(new.floors_below),
            dsl::version.eq(1),
            dsl::created_at.eq(now),
            dsl::updated_at.eq(now),
        ))
        .returning(buildings::all_columns)
        .get_result(conn)
        .map_err(StoreError::unique_on("name"))
}

/// One page of buildings.
pub fn list(
    conn: &mut DbConn,
    scope: &DataScope,
    filter: &BuildingFilter,
    page: &PageRequest<BuildingSort>,
) -> Result<Page<BuildingRow>, StoreError> {
    let mut query = dsl::buildings.select(buildings::all_columns).into_boxed();
    query = filter_scope!(query, scope, office: dsl::office_id);
    if let Some(id) = filter.office_id {
        query = query.filter(dsl::office_id.eq(id));
    }
    if let Some(id) = filter.estate_id {
        query = query.filter(dsl::estate_id.eq(id));
    }
    if let Some(text) = &filter.name_contains {
        query = filter_contains!(query, dsl::name, text);
    }
    query = filter_archived!(query, dsl::archived_at, filter.archived);
    let after = page.after.as_ref();
    query = match page.sort {
        BuildingSort::Id => keyset_by_id!(query, dsl::id, page.direction, after.map(|a| a.id)),
        BuildingSort::Name => {
            let after = after.map(After::text).transpose()?;
            keyset!(query, dsl::name, dsl::id, page.direction, after)
        }
    };
    let rows = query.limit(page.limit + 1).load::<BuildingRow>(conn)?;
    let sort = page.sort;
    Ok(Page::from_rows(rows, page.limit, |row| After {
        value: match sort {
            BuildingSort::Id => SortValue::Int(row.id),
            BuildingSort::Name => SortValue::Text(row.name.clone()),
        },
        id: row.id,
    }))
}

/// Applies changes if the building is active and at `expected_version`.
pub fn update(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    changes: &BuildingChanges,
) -> Result<BuildingRow, StoreError> {
    update_versioned(conn, scope, id, expected_version, changes)
}

/// Archives a building; refused while it has active houses (domain.md §1).
pub fn archive(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
) -> Result<BuildingRow, StoreError> {
    let archived = mark_archived(conn, scope, id, expected_version)?;
    ensure_no_active!(conn, houses, building_id, id, "houses")?;
    ensure_no_active!(conn, units, building_id, id, "units")?;
    Ok(archived)
}
