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
/// - `impl Versioned for Row`;
/// - `get(conn, id)`: the row, archived or not, or `NotFound`;
/// - `update_versioned(conn, id, expected_version, &changes)`: applies
///   `changes` and bumps the version, only if the row is active and still at
///   `expected_version` (one statement: no lost update in between); a unique
///   violation is reported on the field named by `unique`;
/// - `mark_archived(conn, id, expected_version)`: the same guard, setting
///   `archived_at`; the module's `archive` first checks its own rules.
///
/// When the guarded statement matches nothing, the row is read once more to
/// say why: `NotFound`, `Archived` or `VersionMismatch`.
#[macro_export]
macro_rules! versioned_repo {
    (table: $table:ident, row: $row:ty, changes: $changes:ty, unique: $unique:literal) => {
        impl $crate::Versioned for $row {
            fn version(&self) -> i32 {
                self.version
            }
        }

        /// Loads one row by id, archived or not.
        pub fn get(conn: &mut $crate::DbConn, id: i64) -> Result<$row, $crate::StoreError> {
            use diesel::{QueryDsl, RunQueryDsl};
            Ok($crate::schema::$table::table
                .find(id)
                .select($crate::schema::$table::all_columns)
                .first::<$row>(conn)?)
        }

        /// Applies `changes` if the row is active and at `expected_version`.
        #[allow(dead_code)]
        fn update_versioned(
            conn: &mut $crate::DbConn,
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
                    .filter(dsl::archived_at.is_null()),
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
                None => Err(explain_miss(conn, id)?),
            }
        }

        /// Archives the row if it is active and at `expected_version`.
        fn mark_archived(
            conn: &mut $crate::DbConn,
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
                    .filter(dsl::archived_at.is_null()),
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
                None => Err(explain_miss(conn, id)?),
            }
        }

        /// Says why a guarded statement on `id` matched no row.
        fn explain_miss(
            conn: &mut $crate::DbConn,
            id: i64,
        ) -> Result<$crate::StoreError, $crate::StoreError> {
            use diesel::{QueryDsl, RunQueryDsl};
            use $crate::schema::$table::dsl;
            let (version, archived_at) = dsl::$table
                .find(id)
                .select((dsl::version, dsl::archived_at))
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
#[macro_export]
macro_rules! parent {
    ($conn:expr, $table:ident, $id:expr, $field:literal, $columns:expr) => {{
        use diesel::{OptionalExtension, QueryDsl, RunQueryDsl};
        use $crate::schema::$table::dsl;
        let query = dsl::$table.find($id).select(($columns, dsl::archived_at));
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
