//! What can go wrong in storage, in terms the API can answer precisely
//! without ever seeing SQL.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Why a referenced parent record cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceProblem {
    /// No such record (or none the caller may see).
    Missing,
    /// The record exists but is archived: nothing new may hang below it.
    Archived,
}

/// A storage outcome other than success.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist, or is outside the caller's data scope.
    #[error("not found")]
    NotFound,
    /// The change concerns company-level records (offices, roles, company
    /// settings), which only a company-wide scope may change.
    #[error("needs a company-wide scope")]
    CompanyScopeRequired,
    /// The record changed since the caller read it (`If-Match` is stale).
    #[error("version mismatch: the record is at version {current}")]
    VersionMismatch {
        /// The version now stored.
        current: i32,
    },
    /// The record is archived and can no longer change.
    #[error("archived")]
    Archived,
    /// A page cursor that does not belong to this list or sort order.
    #[error("invalid cursor")]
    InvalidCursor,
    /// A field names a parent record that cannot be used.
    #[error("{field} refers to a record that is {problem:?}")]
    InvalidReference {
        /// The request field holding the id, e.g. `unit_id`.
        field: &'static str,
        /// What is wrong with it.
        problem: ReferenceProblem,
    },
    /// A business rule that needs stored data refused the change.
    #[error("{field}: {code}")]
    Invalid {
        /// The request field at fault.
        field: &'static str,
        /// The rule's stable code, e.g. `usable_area_exceeds_building_area`.
        code: &'static str,
    },
    /// Another active record already uses this value.
    #[error("{field} is already used")]
    Duplicate {
        /// The request field that must be unique, e.g. `number`.
        field: &'static str,
    },
    /// The record cannot be archived while active records depend on it.
    #[error("{active_children} active {children} depend on it")]
    HasActiveChildren {
        /// What depends on it, plural resource name (`houses`).
        children: &'static str,
        /// How many.
        active_children: i64,
    },
    /// The database cannot be reached, or no connection was free in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The configuration cannot work (bad URL, folder not creatable).
    #[error("database configuration: {0}")]
    Config(String),
    /// Stored data that cannot be read back, or a task that failed.
    #[error("internal storage error: {0}")]
    Internal(String),
    /// Any other database error; logged, never shown to clients.
    #[error("database error: {0}")]
    Database(DieselError),
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            // SQLite's write lock stayed taken longer than the busy timeout.
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if info.message().contains("database is locked") =>
            {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Database(other),
        }
    }
}

impl StoreError {
    /// `CompanyScopeRequired` unless `scope` is company-wide: company-level
    /// records (offices themselves, company settings, roles, keys) change
    /// only with a company-wide scope.
    pub fn require_company(scope: &wuye_domain::access::DataScope) -> Result<(), Self> {
        if scope.is_company() {
            Ok(())
        } else {
            Err(Self::CompanyScopeRequired)
        }
    }

    /// Maps a unique violation to [`StoreError::Duplicate`] on `field`.
    pub fn unique_on(field: &'static str) -> impl Fn(DieselError) -> Self {
        move |error| match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Duplicate { field }
            }
            other => Self::from(other),
        }
    }
}
