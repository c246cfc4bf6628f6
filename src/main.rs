//! `wuye`: the property-management API server.
//!
//! `wuye serve` (the default) runs the API, `wuye migrate` applies the
//! database migrations, `wuye openapi` prints the contract.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use wuye_api::{ApiConfig, AppState};
use wuye_persistence::{Db, DbConfig, SqliteSynchronous};

/// Wuye (物业): the property-management API server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document and exit.
    Openapi,
}

#[derive(Debug, clap::Args)]
struct DatabaseArgs {
    /// `postgres://user@host/db`, `sqlite://path` or a SQLite file path.
    #[arg(long, env = "WUYE_DATABASE_URL", default_value = wuye_persistence::DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// Pooled connections (default: 2 for SQLite, 8 for PostgreSQL).
    #[arg(long, env = "WUYE_DB_POOL_SIZE", global = true)]
    db_pool_size: Option<u32>,
    /// Milliseconds a request waits for a free connection before a 503.
    #[arg(
        long,
        env = "WUYE_DB_POOL_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    db_pool_timeout_ms: u64,
    /// SQLite: milliseconds a writer waits for the write lock.
    #[arg(
        long,
        env = "WUYE_SQLITE_BUSY_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    sqlite_busy_timeout_ms: u64,
    /// SQLite `synchronous`: off, normal, full or extra.
    #[arg(
        long,
        env = "WUYE_SQLITE_SYNCHRONOUS",
        default_value = "normal",
        global = true
    )]
    sqlite_synchronous: SqliteSynchronous,
}

#[derive(Debug, Default, clap::Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "WUYE_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WUYE_WORKERS")]
    workers: Option<usize>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "WUYE_BODY_LIMIT_BYTES", default_value_t = 1024 * 1024)]
    body_limit_bytes: usize,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, env = "WUYE_SHUTDOWN_TIMEOUT_S", default_value_t = 30)]
    shutdown_timeout_s: u64,
}

impl DatabaseArgs {
    fn config(&self) -> DbConfig {
        DbConfig {
            url: self.database_url.clone(),
            pool_size: self.db_pool_size,
            pool_timeout: Duration::from_millis(self.db_pool_timeout_ms),
            sqlite_busy_timeout: Duration::from_millis(self.sqlite_busy_timeout_ms),
            sqlite_synchronous: self.sqlite_synchronous,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Some(Command::Openapi) => {
            print!("{}", wuye_api::openapi::document_json());
            Ok(())
        }
        Some(Command::Migrate) => migrate(&cli.database),
        Some(Command::Serve(args)) => serve(&cli.database, &args),
        None => serve(&cli.database, &ServeArgs::default_from_env()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("wuye: {message}");
            ExitCode::FAILURE
        }
    }
}

impl ServeArgs {
    /// `wuye` with no subcommand serves with the environment's settings.
    fn default_from_env() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::parse_from(["wuye"]).serve
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WUYE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let production = std::env::var("WUYE_ENV").is_ok_and(|env| env == "production");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if production {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn open(database: &DatabaseArgs) -> Result<Db, String> {
    let config = database.config();
    let db = Db::connect(&config).map_err(|e| format!("cannot open the database: {e}"))?;
    let applied = db.migrate().map_err(|e| e.to_string())?;
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(db)
}

fn migrate(database: &DatabaseArgs) -> Result<(), String> {
    open(database).map(|_| ())
}

fn serve(database: &DatabaseArgs, args: &ServeArgs) -> Result<(), String> {
    let db = open(database)?;
    tracing::info!(backend = ?db.backend(), "database ready");
    let state = AppState::new(
        db,
        ApiConfig {
            body_limit: args.body_limit_bytes,
        },
    );
    let runtime = actix_web::rt::System::new();
    runtime
        .block_on(run_server(state, args))
        .map_err(|e| format!("server failed: {e}"))
}

async fn run_server(state: AppState, args: &ServeArgs) -> std::io::Result<()> {
    let purge_db = state.db().clone();
    actix_web::rt::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            match purge_db
                .write(wuye_persistence::idempotency::purge_expired)
                .await
            {
                Ok(purged) if purged > 0 => {
                    tracing::info!(purged, "expired idempotency keys purged")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not purge idempotency keys"),
            }
        }
    });
    let mut server = actix_web::HttpServer::new(move || wuye_api::app(state.clone()))
        .shutdown_timeout(args.shutdown_timeout_s)
        .bind(&args.bind)?;
    if let Some(workers) = args.workers {
        server = server.workers(workers);
    }
    for address in server.addrs() {
        tracing::info!(
            "Wuye is listening on http://{address} — API docs at http://{address}/docs/"
        );
        println!("Wuye API: http://{address}/api/v1  docs: http://{address}/docs/");
    }
    // actix-web stops gracefully on SIGTERM and SIGINT: it stops accepting,
    // lets in-flight requests finish (up to the shutdown timeout), then exits.
    server.run().await
}
