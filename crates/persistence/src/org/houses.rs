//! Houses (房屋): the leaves of the estate tree, the unit every customer,
//! fee and service request will hang on.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::Label;
use wuye_domain::access::DataScope;
use wuye_domain::org::{Area, HouseAreas, HouseState, HouseType};

use crate::page::{ArchivedFilter, Page, PageRequest, SortValue};
use crate::schema::houses::{self, dsl};
use crate::{
    DbConn, StoreError, clock, filter_archived, filter_contains, filter_scope, keyset,
    keyset_by_id, parent, versioned_repo,
};

/// A stored house; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct HouseRow {
    /// Id.
    pub id: i64,
    /// Management office (管理处), copied from the estate.
    pub office_id: i64,
    /// Estate (小区).
    pub estate_id: i64,
    /// Building (楼栋).
    pub building_id: i64,
    /// Unit (单元).
    pub unit_id: i64,
    /// House number (房号), unique among the unit's active houses.
    pub number: String,
    /// Floor; negative for basements.
    pub floor: i32,
    /// 建筑面积 in hundredths of m².
    pub building_area: i64,
    /// 套内面积 in hundredths of m².
    pub usable_area: i64,
    /// Use of the house.
    #[diesel(deserialize_as = String)]
    pub house_type: HouseType,
    /// Occupancy state.
    #[diesel(deserialize_as = String)]
    pub state: HouseState,
    /// Optimistic-concurrency version, starts at 1.
    pub version: i32,
    /// When created (UTC).
    pub created_at: NaiveDateTime,
    /// When last changed (UTC).
    pub updated_at: NaiveDateTime,
    /// When archived (UTC), if it is.
    pub archived_at: Option<NaiveDateTime>,
}

/// A house to create, already validated by the domain.
#[derive(Debug, Clone)]
pub struct NewHouse {
    /// The unit it belongs to.
    pub unit_id: i64,
    /// House number.
    pub number: Label,
    /// Floor.
    pub floor: i32,
    /// 建筑面积
    pub building_area: Area,
    /// 套内面积
    pub usable_area: Area,
    /// Use.
    pub house_type: HouseType,
    /// Occupancy state.
    pub state: HouseState,
}

/// Changes to a house; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = houses)]
pub struct HouseChanges {
    /// New number.
    pub number: Option<String>,
    /// New floor.
    pub floor: Option<i32>,
    /// New 建筑面积, hundredths of m².
    pub building_area: Option<i64>,
    /// New 套内面积, hundredths of m².
    pub usable_area: Option<i64>,
    /// New use.
    #[diesel(serialize_as = String)]
    pub house_type: Option<HouseType>,
    /// New state.
    #[diesel(serialize_as = String)]
    pub state: Option<HouseState>,
}

/// Which houses a list shows.
#[derive(Debug, Clone, Default)]
pub struct HouseFilter {
    /// Only this office's.
    pub office_id: Option<i64>,
    /// Only this estate's.
    pub estate_id: Option<i64>,
    /// Only this building's.
    pub building_id: Option<i64>,
    /// Only this unit's.
    pub unit_id: Option<i64>,
    /// Only in this state.
    pub state: Option<HouseState>,
    /// Only of this type.
    pub house_type: Option<HouseType>,
    /// Only those whose number contains this text.
    pub number_contains: Option<String>,
    /// Active, archived or both.
    pub archived: ArchivedFilter,
}

/// The orders a house list can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseSort {
    /// Creation order.
    Id,
    /// House number (byte order).
    Number,
    /// Floor.
    Floor,
}

versioned_repo!(
    table: houses,
    row: HouseRow,
    changes: HouseChanges,
    unique: "number",
    resource: "house",
    scope: (office: office_id)
);

/// Creates a house below an active unit; the office, estate and building
/// are taken from the unit, never from the client.
pub fn create(
    conn: &mut DbConn,
    scope: &DataScope,
    new: &NewHouse,
) -> Result<HouseRow, StoreError> {
    use crate::schema::units;
    let (office_id, estate_id, building_id): (i64, i64, i64) = parent!(
        conn,
        scope,
        units,
        office: office_id,
        new.unit_id,
        "unit_id",
        (units::office_id, units::estate_id, units::building_id)
    )?;
    let now = clock::now();
    diesel::insert_into(dsl::houses)
        .values((
            dsl::office_id.eq(office_id),
            dsl::estate_id.eq(estate_id),
            dsl::building_id.eq(building_id),
            dsl::unit_id.eq(new.unit_id),
            dsl::number.eq(new.number.as_str()),
            dsl::floor.eq(new.floor),
            dsl::building_area.eq(new.building_area.hundredths()),
            dsl::usable_area.eq(new.usable_area.hundredths()),
            dsl::house_type.eq(new.house_type.as_str()),
            dsl::state.eq(new.state.as_str()),
            dsl::version.eq(1),
            dsl::created_at.eq(now),
            dsl::updated_at.eq(now),
        ))
        .returning(houses::all_columns)
        .get_result(conn)
        .map_err(StoreError::unique_on("number"))
}

/// One page of houses.
pub fn list(
    conn: &mut DbConn,
    scope: &DataScope,
    filter: &HouseFilter,
    page: &PageRequest<HouseSort>,
) -> Result<Page<HouseRow>, StoreError> {
    let mut query = dsl::houses.select(houses::all_columns).into_boxed();
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
    if let Some(id) = filter.unit_id {
        query = query.filter(dsl::unit_id.eq(id));
    }
    if let Some(state) = filter.state {
        query = query.filter(dsl::state.eq(state.as_str()));
    }
    if let Some(house_type) = filter.house_type {
        query = query.filter(dsl::house_type.eq(house_type.as_str()));
    }
    if let Some(text) = &filter.number_contains {
        query = filter_contains!(query, dsl::number, text);
    }
    query = filter_archived!(query, dsl::archived_at, filter.archived);
    let after = page.after.as_ref();
    query = match page.sort {
        HouseSort::Id => keyset_by_id!(query, dsl::id, page.direction, after.map(|a| a.id)),
        HouseSort::Number => {
            let after = after.map(|a| a.text()).transpose()?;
            keyset!(query, dsl::number, dsl::id, page.direction, after)
        }
        HouseSort::Floor => {
            let after = after.map(|a| a.int::<i32>()).transpose()?;
            keyset!(query, dsl::floor, dsl::id, page.direction, after)
        }
    };
    let rows = query.limit(page.limit + 1).load::<HouseRow>(conn)?;
    let sort = page.sort;
    Ok(Page::from_rows(rows, page.limit, |row| {
        crate::page::After {
            value: match sort {
                HouseSort::Id => SortValue::Int(row.id),
                HouseSort::Number => SortValue::Text(row.number.clone()),
                HouseSort::Floor => SortValue::Int(i64::from(row.floor)),
            },
            id: row.id,
        }
    }))
}

/// Archives a house (nothing hangs below a house yet).
pub fn archive(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
) -> Result<HouseRow, StoreError> {
    mark_archived(conn, scope, id, expected_version)
}

/// Applies changes if the house is active and at `expected_version`, and
/// keeps its usable area within its building area.
pub fn update(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    changes: &HouseChanges,
) -> Result<HouseRow, StoreError> {
    if changes.building_area.is_some() || changes.usable_area.is_some() {
        let current = get(conn, scope, id)?;
        let building = changes.building_area.unwrap_or(current.building_area);
        let usable = changes.usable_area.unwrap_or(current.usable_area);
        HouseAreas::new(
            Area::from_hundredths(building),
            Area::from_hundredths(usable),
        )
        .map_err(|rule| StoreError::Invalid {
            field: "usable_area",
            code: rule.code(),
        })?;
    }
    update_versioned(conn, scope, id, expected_version, changes)
}
