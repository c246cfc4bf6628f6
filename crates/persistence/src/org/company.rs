//! Company settings (公司设置): the one row every office shares.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::access::DataScope;

use crate::schema::company_settings::{self, dsl};
use crate::{DbConn, StoreError, clock};

/// The company's settings; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct CompanyRow {
    /// Always 1.
    pub id: i64,
    /// Company name.
    pub name: String,
    /// Two-letter VIP card prefix (R-VIP-4).
    pub vip_card_prefix: String,
    /// IANA time zone for deadlines and day boundaries (R-X-3).
    pub time_zone: String,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When created (UTC).
    pub created_at: NaiveDateTime,
    /// When last changed (UTC).
    pub updated_at: NaiveDateTime,
}

impl crate::Versioned for CompanyRow {
    fn version(&self) -> i32 {
        self.version
    }
}

/// Changes to the settings; `None` keeps a field.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = company_settings)]
pub struct CompanyChanges {
    /// New name.
    pub name: Option<String>,
    /// New VIP card prefix (already checked by the domain).
    pub vip_card_prefix: Option<String>,
    /// New time zone (already checked by the domain).
    pub time_zone: Option<String>,
}

const SETTINGS_ID: i64 = 1;

/// The settings (the migration creates them with the defaults). Every
/// staff member with `org.read` may read them, whatever their scope.
pub fn get(conn: &mut DbConn, _scope: &DataScope) -> Result<CompanyRow, StoreError> {
    Ok(dsl::company_settings
        .find(SETTINGS_ID)
        .select(company_settings::all_columns)
        .first(conn)?)
}

/// Applies changes if the settings are still at `expected_version`; only a
/// company-wide scope may.
pub fn update(
    conn: &mut DbConn,
    scope: &DataScope,
    expected_version: i32,
    changes: &CompanyChanges,
) -> Result<CompanyRow, StoreError> {
    StoreError::require_company(scope)?;
    let updated = diesel::update(
        dsl::company_settings
            .filter(dsl::id.eq(SETTINGS_ID))
            .filter(dsl::version.eq(expected_version)),
    )
    .set((
        changes,
        dsl::version.eq(dsl::version + 1),
        dsl::updated_at.eq(clock::now()),
    ))
    .returning(company_settings::all_columns)
    .get_result(conn)
    .optional()?;
    match updated {
        Some(row) => Ok(row),
        None => Err(StoreError::VersionMismatch {
            current: get(conn, scope)?.version,
        }),
    }
}
