//! One connection type over SQLite and PostgreSQL, its pool, and the only two
//! ways the rest of the code touches it: [`Db::read`] and [`Db::write`], which
//! run diesel on blocking threads so the async workers never wait on a query.

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::error::StoreError;

/// A live connection to whichever database is configured. Repository
/// functions take `&mut DbConn` so they compose inside one transaction.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL, for companies with many offices and several API nodes.
    Pg(PgConnection),
    /// Embedded SQLite, the zero-configuration default.
    Sqlite(SqliteConnection),
}

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// SQLite's `synchronous` pragma: how hard it flushes to disk. `Normal` is
/// safe from corruption in WAL mode and may lose the last commits on power
/// loss; `Full` loses nothing and costs an fsync per commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// `synchronous=OFF`
    Off,
    /// `synchronous=NORMAL`
    Normal,
    /// `synchronous=FULL`
    Full,
    /// `synchronous=EXTRA`
    Extra,
}

impl std::str::FromStr for SqliteSynchronous {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "normal" => Ok(Self::Normal),
            "full" => Ok(Self::Full),
            "extra" => Ok(Self::Extra),
            _ => Err(format!("expected off, normal, full or extra, got {text:?}")),
        }
    }
}

impl SqliteSynchronous {
    fn pragma_value(self) -> &'static str {
        match self {
            Self::Off => "OFF",
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
            Self::Extra => "EXTRA",
        }
    }
}

/// Where the database is and how to pool it.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `postgres://…`, `sqlite://path`, or a plain file path.
    pub url: String,
    /// Pooled connections; `None` picks the measured default for the
    /// backend (2 for SQLite, which has one writer; 8 for PostgreSQL).
    pub pool_size: Option<u32>,
    /// How long a request waits for a free connection before a 503.
    pub pool_timeout: Duration,
    /// SQLite only: how long a writer waits for the write lock.
    pub sqlite_busy_timeout: Duration,
    /// SQLite only: durability of commits.
    pub sqlite_synchronous: SqliteSynchronous,
}

/// The file `wuye serve` uses when nothing is configured.
pub const DEFAULT_DATABASE_URL: &str = "./data/wuye.db";

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_DATABASE_URL.to_owned(),
            pool_size: None,
            pool_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
            sqlite_synchronous: SqliteSynchronous::Normal,
        }
    }
}

#[derive(Debug, Clone)]
enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbConfig {
    fn target(&self) -> Result<Target, StoreError> {
        let url = self.url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains(":memory:") || path.starts_with("file:") {
            // A pooled in-memory database would give every connection its
            // own empty database.
            return Err(StoreError::Config(format!(
                "unsupported database URL {url:?}: use postgres://… or a SQLite file path"
            )));
        }
        Ok(Target::Sqlite(PathBuf::from(path)))
    }

    /// The backend this configuration points at.
    pub fn backend(&self) -> Result<Backend, StoreError> {
        Ok(match self.target()? {
            Target::Sqlite(_) => Backend::Sqlite,
            Target::Postgres(_) => Backend::Postgres,
        })
    }
}

/// Opens connections for the pool. Connections are established by their own
/// type, chosen by URL scheme, so a refused PostgreSQL connection reports
/// libpq's real reason rather than the enum's generic one.
#[derive(Debug)]
struct Manager {
    target: Target,
    sqlite_pragmas: String,
}

/// Why a connection could not be opened or set up.
#[derive(Debug, thiserror::Error)]
enum ConnectError {
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConn, ConnectError> {
        match &self.target {
            Target::Postgres(url) => Ok(DbConn::Pg(PgConnection::establish(url)?)),
            Target::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                conn.batch_execute(&self.sqlite_pragmas)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectError> {
        Ok(conn.ping()?)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

type Pool = r2d2::Pool<Manager>;

/// The database handle shared by every request: a pool plus the backend it
/// talks to. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Opens the pool and checks that the database answers; SQLite's folder
    /// is created when missing.
    pub fn connect(config: &DbConfig) -> Result<Self, StoreError> {
        let (builder, manager, backend) = Self::prepare(config)?;
        let pool = builder
            .build(manager)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { pool, backend })
    }

    /// Builds the pool without connecting: the first query connects. Lets a
    /// server start (and say "not ready") while its database is down.
    pub fn connect_lazily(config: &DbConfig) -> Result<Self, StoreError> {
        let (builder, manager, backend) = Self::prepare(config)?;
        Ok(Self {
            pool: builder.min_idle(Some(0)).build_unchecked(manager),
            backend,
        })
    }

    fn prepare(
        config: &DbConfig,
    ) -> Result<(r2d2::Builder<Manager>, Manager, Backend), StoreError> {
        let target = config.target()?;
        let backend = config.backend()?;
        if let Target::Sqlite(path) = &target {
            create_parent_folder(path)?;
        }
        let default_size = match backend {
            Backend::Sqlite => 2,
            Backend::Postgres => 8,
        };
        // busy_timeout first: the pool opens its connections in parallel,
        // and switching a new file to WAL needs a lock the others may hold.
        let sqlite_pragmas = format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
             PRAGMA foreign_keys = ON; PRAGMA synchronous = {};",
            config.sqlite_busy_timeout.as_millis(),
            config.sqlite_synchronous.pragma_value()
        );
        let builder = r2d2::Pool::builder()
            .max_size(config.pool_size.unwrap_or(default_size).max(1))
            .connection_timeout(config.pool_timeout)
            // A `SELECT 1` before every checkout is one more round trip per
            // request; a broken connection is dropped on return instead and
            // the query that met it is retried once (see `with_conn`).
            .test_on_check_out(false);
        Ok((
            builder,
            Manager {
                target,
                sqlite_pragmas,
            },
            backend,
        ))
    }

    /// The backend behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs read-only work on a blocking thread with a pooled connection.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: Fn(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.blocking(move |db| db.with_conn(&work)).await
    }

    /// Runs `work` in one write transaction on a blocking thread: all of it
    /// commits or none of it does. On SQLite the transaction takes the write
    /// lock first (`BEGIN IMMEDIATE`), so a read followed by a write can
    /// never fail half-way with "database is locked".
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: Fn(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.blocking(move |db| db.with_conn(&|conn| write_transaction(conn, &work)))
            .await
    }

    /// Checks the database answers within `timeout` (for `/readyz`).
    pub async fn ping(&self, timeout: Duration) -> Result<(), StoreError> {
        self.blocking(move |db| {
            let mut conn = db
                .pool
                .get_timeout(timeout)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            conn.ping().map_err(StoreError::from)
        })
        .await
    }

    /// Applies the embedded migrations of this backend; returns the names of
    /// those it applied. Blocking: call it before serving.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        crate::migrations::run(&mut conn)
    }

    async fn blocking<T, E, F>(&self, job: F) -> Result<T, E>
    where
        F: FnOnce(&Self) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || job(&db))
            .await
            .map_err(|e| E::from(StoreError::Internal(format!("database task failed: {e}"))))?
    }

    /// Checks out a connection and runs `work`; when the connection turns out
    /// to be broken (the server restarted, a proxy cut it), the pool drops it
    /// and the work runs once more on a fresh one.
    fn with_conn<T, E>(&self, work: &dyn Fn(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| E::from(StoreError::Unavailable(e.to_string())))?;
        let first = work(&mut conn);
        if first.is_ok() || !conn.is_broken() {
            return first;
        }
        drop(conn);
        tracing::warn!("database connection was broken; retrying once on a new one");
        let mut conn = self
            .pool
            .get()
            .map_err(|e| E::from(StoreError::Unavailable(e.to_string())))?;
        work(&mut conn)
    }
}

fn write_transaction<T, E>(
    conn: &mut DbConn,
    work: &dyn Fn(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    let begun = match conn {
        DbConn::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        DbConn::Pg(_) => <DbConn as Connection>::TransactionManager::begin_transaction(conn),
    };
    begun.map_err(StoreError::from)?;
    match work(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)
                .map_err(StoreError::from)?;
            Ok(value)
        }
        Err(error) => {
            <DbConn as Connection>::TransactionManager::rollback_transaction(conn)
                .map_err(StoreError::from)?;
            Err(error)
        }
    }
}

fn create_parent_folder(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Config(format!("cannot create folder {}: {e}", parent.display()))
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;
    use diesel::sql_types::Text;

    use super::*;

    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text)]
        value: String,
    }

    fn pragma(conn: &mut DbConn, sql: &str) -> Vec<String> {
        diesel::sql_query(sql)
            .load::<Line>(conn)
            .unwrap()
            .into_iter()
            .map(|line| line.value)
            .collect()
    }

    fn scratch_config(name: &str) -> (DbConfig, PathBuf) {
        let dir = std::env::temp_dir().join(format!("wuye-db-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = DbConfig {
            url: format!("sqlite://{}", dir.join("nested/wuye.db").display()),
            sqlite_synchronous: SqliteSynchronous::Full,
            ..DbConfig::default()
        };
        (config, dir)
    }

    #[test]
    fn sqlite_connections_get_wal_foreign_keys_and_settings() {
        let (config, dir) = scratch_config("pragmas");
        let db = Db::connect(&config).unwrap();
        assert_eq!(db.backend(), Backend::Sqlite);
        assert!(
            dir.join("nested/wuye.db").exists(),
            "folder and file created"
        );
        let mut conn = db.pool.get().unwrap();
        let one = |conn: &mut DbConn, sql: &str| pragma(conn, sql).remove(0);
        assert_eq!(
            one(
                &mut conn,
                "SELECT journal_mode AS value FROM pragma_journal_mode"
            ),
            "wal"
        );
        assert_eq!(
            one(
                &mut conn,
                "SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys"
            ),
            "1"
        );
        assert_eq!(
            one(
                &mut conn,
                "SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout"
            ),
            "5000"
        );
        // FULL = 2
        assert_eq!(
            one(
                &mut conn,
                "SELECT CAST(synchronous AS TEXT) AS value FROM pragma_synchronous"
            ),
            "2"
        );
        let options = pragma(
            &mut conn,
            "SELECT compile_options AS value FROM pragma_compile_options",
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "SQLite must be built without the global memory-statistics lock: {options:?}"
        );
        assert!(
            options.iter().any(|o| o == "ENABLE_QPSG"),
            "SQLite must keep its plans (no re-prepare on every bound LIMIT): {options:?}"
        );
        drop(conn);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn migrations_apply_once() {
        let (config, dir) = scratch_config("migrate");
        let db = Db::connect(&config).unwrap();
        assert!(!db.migrate().unwrap().is_empty());
        assert!(db.migrate().unwrap().is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn urls_pick_the_backend_and_refuse_memory_databases() {
        let config = |url: &str| DbConfig {
            url: url.to_owned(),
            ..DbConfig::default()
        };
        assert_eq!(
            config("postgres://u@h/db").backend().unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            config("postgresql://u@h/db").backend().unwrap(),
            Backend::Postgres
        );
        assert_eq!(config("sqlite://x.db").backend().unwrap(), Backend::Sqlite);
        assert_eq!(config("./data/wuye.db").backend().unwrap(), Backend::Sqlite);
        for bad in [":memory:", "sqlite://:memory:", "", "file:x.db?mode=memory"] {
            assert!(
                matches!(config(bad).backend(), Err(StoreError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn synchronous_setting_parses() {
        assert_eq!(
            "NORMAL".parse::<SqliteSynchronous>(),
            Ok(SqliteSynchronous::Normal)
        );
        assert!("sometimes".parse::<SqliteSynchronous>().is_err());
    }
}
