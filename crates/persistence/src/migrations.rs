//! Migrations, embedded per backend (`migrations/sqlite`, `migrations/postgres`,
//! same names) and picked by the connection's variant.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::db::DbConn;
use crate::error::StoreError;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Applies pending migrations; returns the names of those applied.
pub(crate) fn run(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConn::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE),
        DbConn::Pg(pg) => pg.run_pending_migrations(POSTGRES),
    }
    .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))?;
    let applied: Vec<String> = applied.iter().map(ToString::to_string).collect();
    // Built-in roles follow the domain's definition of this version.
    diesel::Connection::transaction(conn, crate::access::roles::sync_builtin)?;
    Ok(applied)
}
