//! The read / guarded-update / archive functions every mutable resource needs,
//! generated per table so each stays concrete (no generic diesel bounds).
//!
//! A table qualifies when it has `id`, `version`, `updated_at` and
//! `archived_at`. Its row type must list the columns in schema order.

/// A stored record with an optimistic-concurrency version (its `ETag`).
pub trait Versioned {
    /// The version, starting at 1 and bumped by every change.
    fn version(&self) -> i32;
}

/// Generates, inside a resource module:
///
/// - `impl Versioned for Row` and `impl Audited for Row` (the resource name
///   and the row's office, for the audit log);
/// - `get(conn, scope, id)`: the row, archived or not, or `NotFound` — also
///   when it lies outside `scope`;
/// - `update_versioned(conn, scope, id, expected_version, &changes)`: applies
///   `changes` and bumps the version, only if the row is active and still at
///   `expected_version` (one statement: no lost update in between); a unique
///   violation is reported on the field named by `unique`;
/// - `mark_archived(conn, scope, id, expected_version)`: the same guard,
///   setting `archived_at`; the module's `archive` first checks its own rules.
///
/// When the guarded statement matches nothing, the row is read once more
/// (within the scope) to say why: `NotFound`, `Archived` or `VersionMismatch`.
///
/// `scope: (office: column)` names the column data scopes cut the table by
/// (R-ORG-1): the row's management office, or `id` for the offices table
/// itself. `scope: (company_level)` marks a table of company-wide records
/// (roles): only a company-wide scope reaches them through these functions.
#[macro_export]
macro_rules! versioned_repo {
    (
        table: $table:ident,
        row: $row:ty,
        changes: $changes:ty,
        unique: $unique:literal,
        resource: $resource:literal,
        scope: $scope_by:tt
    ) => {
        impl $crate::Versioned for $row {
            fn version(&self) -> i32 {
                self.version
            }
        }

        impl $crate::audit::Audited for $row {
            fn audit_target(&self) -> $crate::audit::AuditTarget {
                $crate::audit::AuditTarget {
                    resource_type: $resource,
                    resource_id: Some(self.id),
                    office_id: $crate::__office_of!(self, $scope_by),
                }
            }
        }

        /// Loads one row by id, archived or not, if it is within `scope`.
        pub fn get(
            conn: &mut $crate::DbConn,
            scope: &wuye_domain::access::DataScope,
            id: i64,
        ) -> Result<$row, $crate::StoreError> {
            use diesel::{QueryDsl, RunQueryDsl};
            use $crate::schema::$table::dsl;
            if scope.is_company() {
                // The static statement stays in diesel's prepared-statement
                // cache; a filtered (boxed) one is prepared on every call.
                return Ok(dsl::$table
                    .find(id)
                    .select($crate::schema::$table::all_columns)
                    .first::<$row>(conn)?);
            }
            let query = dsl::$table
                .find(id)
                .select($crate::schema::$table::all_columns)
                .into_boxed();
            Ok(query
                .filter($crate::__scope_where!(scope, dsl, $scope_by))
                .first::<$row>(conn)?)
        }

        /// Applies `changes` if the row is active and at `expected_version`.
        #[allow(dead_code)]
        fn update_versioned(
            conn: &mut $crate::DbConn,
            scope: &wuye_domain::access::DataScope,
            id: i64,
            expected_version: i32,
            changes: &$changes,
        ) -> Result<$row, $crate::StoreError> {
            use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, RunQueryDsl};
            use $crate::schema::$table::dsl;
            let updated = diesel::update(
                dsl::$table
                    .filter(dsl::id.eq(id))
                    .filter(dsl::version.eq(expected_version))
                    .filter(dsl::archived_at.is_null())
                    .filter($crate::__scope_where!(scope, dsl, $scope_by)),
            )
            .set((
                // Owned: changesets with `serialize_as` fields have no
                // borrowed form.
                changes.clone(),
                dsl::version.eq(dsl::version + 1),
                dsl::updated_at.eq($crate::clock::now()),
            ))
            .returning($crate::schema::$table::all_columns)
            .get_result::<$row>(conn)
            .optional()
            .map_err($crate::StoreError::unique_on($unique))?;
            match updated {
                Some(row) => Ok(row),
                None => Err(explain_miss(conn, scope, id)?),
            }
        }

        /// Archives the row if it is active and at `expected_version`.
        fn mark_archived(
            conn: &mut $crate::DbConn,
            scope: &wuye_domain::access::DataScope,
            id: i64,
            expected_version: i32,
        ) -> Result<$row, $crate::StoreError> {
            use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, RunQueryDsl};
            use $crate::schema::$table::dsl;
            let now = $crate::clock::now();
            let archived = diesel::update(
                dsl::$table
                    .filter(dsl::id.eq(id))
                    .filter(dsl::version.eq(expected_version))
                    .filter(dsl::archived_at.is_null())
                    .filter($crate::__scope_where!(scope, dsl, $scope_by)),
            )
            .set((
                dsl::archived_at.eq(Some(now)),
                dsl::version.eq(dsl::version + 1),
                dsl::updated_at.eq(now),
            ))
            .returning($crate::schema::$table::all_columns)
            .get_result::<$row>(conn)
            .optional()?;
            match archived {
                Some(row) => Ok(row),
                None => Err(explain_miss(conn, scope, id)?),
            }
        }

        /// Says why a guarded statement on `id` matched no row.
        fn explain_miss(
            conn: &mut $crate::DbConn,
            scope: &wuye_domain::access::DataScope,
            id: i64,
        ) -> Result<$crate::StoreError, $crate::StoreError> {
            use diesel::{QueryDsl, RunQueryDsl};
            use $crate::schema::$table::dsl;
            let query = dsl::$table
                .find(id)
                .select((dsl::version, dsl::archived_at))
                .into_boxed();
            let (version, archived_at) = query
                .filter($crate::__scope_where!(scope, dsl, $scope_by))
                .first::<(i32, Option<chrono::NaiveDateTime>)>(conn)?;
            Ok(if archived_at.is_some() {
                $crate::StoreError::Archived
            } else {
                $crate::StoreError::VersionMismatch { current: version }
            })
        }
    };
}

/// Looks up a parent row that a new record will hang below and returns the
/// selected columns, or says which request field names an unusable parent.
/// A parent outside the caller's `scope` (cut by its `office` column) is
/// reported as missing, exactly like one that does not exist.
#[macro_export]
macro_rules! parent {
    ($conn:expr, $scope:expr, $table:ident, office: $office:ident, $id:expr, $field:literal, $columns:expr) => {{
        use diesel::{OptionalExtension, QueryDsl, RunQueryDsl};
        use $crate::schema::$table::dsl;
        let query = dsl::$table
            .find($id)
            .filter($crate::scope_condition!($scope, office: dsl::$office))
            .select(($columns, dsl::archived_at));
        // The parent row stays share-locked until the new child commits, so
        // archiving the parent (which updates that row first, then counts
        // active children) either waits and sees the child, or wins and the
        // child sees it archived. SQLite needs no lock: `Db::write` takes
        // the database's single write lock up front.
        let found = match $conn {
            $crate::DbConn::Pg(pg) => query
                .for_share()
                .first::<(_, Option<chrono::NaiveDateTime>)>(pg)
                .optional()?,
            $crate::DbConn::Sqlite(sqlite) => query
                .first::<(_, Option<chrono::NaiveDateTime>)>(sqlite)
                .optional()?,
        };
        match found {
            None => Err($crate::StoreError::InvalidReference {
                field: $field,
                problem: $crate::ReferenceProblem::Missing,
            }),
            Some((_, Some(_))) => Err($crate::StoreError::InvalidReference {
                field: $field,
                problem: $crate::ReferenceProblem::Archived,
            }),
            Some((columns, None)) => Ok(columns),
        }
    }};
}

/// Counts the active rows of `$table` whose `$column` equals `$id`, and
/// refuses to archive their parent while there are any. Call it *after*
/// `mark_archived` in the same transaction: the parent's row lock then
/// orders it against concurrent creates of children (see `parent!`).
#[macro_export]
macro_rules! ensure_no_active {
    ($conn:expr, $table:ident, $column:ident, $id:expr, $children:literal) => {{
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        use $crate::schema::$table::dsl;
        let active: i64 = dsl::$table
            .filter(dsl::$column.eq($id))
            .filter(dsl::archived_at.is_null())
            .count()
            .get_result($conn)?;
        wuye_domain::org::ensure_archivable(active).map_err(|blocked| {
            $crate::StoreError::HasActiveChildren {
                children: $children,
                active_children: blocked.active_children,
            }
        })
    }};
}

/// The SQL condition "this row is within `scope`", for `.filter(...)`:
/// always true for a company-wide scope; otherwise the row's office is one
/// of the scope's offices or, where the table has an owner column, the row
/// is the caller's own. Use it on every query of a scoped table; `get`,
/// updates and archives generated by [`versioned_repo!`] already do.
#[macro_export]
macro_rules! scope_condition {
    ($scope:expr, office: $office:expr) => {{
        use diesel::{BoolExpressionMethods, ExpressionMethods};
        let scope: &wuye_domain::access::DataScope = $scope;
        // The company case is a literal `1 = 1` rather than no condition so
        // the expression has one type whichever scope it is built for.
        $office
            .eq_any(scope.offices())
            .or(diesel::dsl::sql::<diesel::sql_types::Bool>(if scope.is_company() {
                "1 = 1"
            } else {
                "1 = 0"
            }))
    }};
    ($scope:expr, office: $office:expr, owner: $owner:expr) => {{
        use diesel::{BoolExpressionMethods, ExpressionMethods};
        let scope: &wuye_domain::access::DataScope = $scope;
        $crate::scope_condition!(scope, office: $office)
            .or($owner.nullable().eq(scope.owner().unwrap_or(0)).and(diesel::dsl::sql::<diesel::sql_types::Bool>(
                if scope.owner().is_some() { "1 = 1" } else { "1 = 0" },
            )))
    }};
}

/// Filters a boxed query to the rows within `scope` (see [`scope_condition!`]);
/// a company-wide scope adds no condition at all, so its plans stay simple.
#[macro_export]
macro_rules! filter_scope {
    ($query:expr, $scope:expr, office: $office:expr $(, owner: $owner:expr)?) => {{
        use diesel::QueryDsl;
        let scope: &wuye_domain::access::DataScope = $scope;
        if scope.is_company() {
            $query
        } else {
            $query.filter($crate::scope_condition!(scope, office: $office $(, owner: $owner)?))
        }
    }};
}

/// [`versioned_repo!`]'s scope condition for `(office: column)` or
/// `(company_level)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __scope_where {
    ($scope:expr, $dsl:ident, (office: $column:ident)) => {
        $crate::scope_condition!($scope, office: $dsl::$column)
    };
    ($scope:expr, $dsl:ident, (company_level)) => {
        diesel::dsl::sql::<diesel::sql_types::Bool>(if $scope.is_company() {
            "1 = 1"
        } else {
            "1 = 0"
        })
    };
}

/// [`versioned_repo!`]'s office of a row, for the audit log.
#[doc(hidden)]
#[macro_export]
macro_rules! __office_of {
    ($row:expr, (office: $column:ident)) => {
        ::core::convert::Into::<Option<i64>>::into($row.$column)
    };
    ($row:expr, (company_level)) => {
        None
    };
}
