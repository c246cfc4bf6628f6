//! `wuye`: the property-management API server.
//!
//! `wuye serve` (the default) runs the API, `wuye migrate` applies the
//! database migrations, `wuye openapi` prints the contract, and
//! `wuye admin create` creates the first administrator.

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
    /// Manage staff accounts from the command line.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a company administrator (all permissions, company-wide):
    /// the first account of a new installation.
    Create {
        /// Login name (3–32 of a-z, 0-9, '.', '_', '-').
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input (so it
        /// never appears in the shell history or the process list).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
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
    /// HS256 signing secret of access tokens (32+ random bytes). Required
    /// when WUYE_ENV=production; in development a random one is generated
    /// and kept in WUYE_JWT_SECRET_FILE.
    #[arg(long, env = "WUYE_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Where development keeps its generated signing secret.
    #[arg(long, env = "WUYE_JWT_SECRET_FILE", default_value = "data/jwt-secret")]
    jwt_secret_file: std::path::PathBuf,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "WUYE_ACCESS_TOKEN_TTL_S", default_value_t = 900)]
    access_token_ttl_s: u64,
    /// Lifetime of an unused refresh token, in seconds.
    #[arg(long, env = "WUYE_REFRESH_TOKEN_TTL_S", default_value_t = 14 * 24 * 3600)]
    refresh_token_ttl_s: u64,
    /// Take client addresses from X-Forwarded-For (only behind a proxy that
    /// sets it).
    #[arg(long, env = "WUYE_TRUST_FORWARDED_FOR", default_value_t = false)]
    trust_forwarded_for: bool,
    /// WeChat server API base URL.
    #[arg(long, env = "WUYE_WECHAT_BASE_URL", default_value = wuye_api::wechat::DEFAULT_BASE_URL)]
    wechat_base_url: String,
    /// The mini-program's AppID.
    #[arg(long, env = "WUYE_WECHAT_APP_ID", default_value = "")]
    wechat_app_id: String,
    /// The mini-program's AppSecret.
    #[arg(
        long,
        env = "WUYE_WECHAT_APP_SECRET",
        default_value = "",
        hide_env_values = true,
        hide_default_value = true
    )]
    wechat_app_secret: String,
    /// Milliseconds to wait for WeChat.
    #[arg(long, env = "WUYE_WECHAT_TIMEOUT_MS", default_value_t = 5000)]
    wechat_timeout_ms: u64,
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
        Some(Command::Admin(AdminCommand::Create { username, .. })) => {
            create_admin(&cli.database, &username)
        }
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

fn create_admin(database: &DatabaseArgs, username: &str) -> Result<(), String> {
    let username =
        wuye_domain::access::Username::parse(username).map_err(|e| format!("--username: {e}"))?;
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']);
    wuye_domain::access::check_new_password(password).map_err(|e| format!("password: {e}"))?;
    let hash = wuye_api::auth::password::Passwords::new(Default::default())
        .and_then(|p| p.hash(password))
        .map_err(|e| e.to_string())?;
    let db = open(database)?;
    let runtime = actix_web::rt::System::new();
    let user = runtime
        .block_on(db.write(move |conn| {
            use wuye_persistence::audit::Audited;
            let user = wuye_persistence::access::users::bootstrap_admin(conn, &username, &hash)?;
            let actor = wuye_persistence::audit::Actor {
                kind: "system",
                id: None,
                request_id: "wuye admin create".to_owned(),
                client_addr: "command line".to_owned(),
            };
            wuye_api::audit::record(
                conn,
                &actor,
                "create",
                user.audit_target(),
                &serde_json::json!({
                    "username": user.username,
                    "role": wuye_domain::access::ADMIN_ROLE,
                    "scope": "company",
                }),
            )?;
            Ok(user)
        }))
        .map_err(|e| match e {
            wuye_persistence::StoreError::Duplicate { .. } => {
                "an account with this username already exists".to_owned()
            }
            other => format!("cannot create the administrator: {other}"),
        })?;
    println!(
        "created administrator {} (id {}); sign in with POST /api/v1/auth/login",
        user.username, user.id
    );
    Ok(())
}

/// The signing secret: configured, or in development generated once and
/// kept in a file so tokens survive restarts. Production refuses to start
/// without a strong one.
fn jwt_secret(args: &ServeArgs) -> Result<Vec<u8>, String> {
    use wuye_api::auth::tokens;
    let production = std::env::var("WUYE_ENV").is_ok_and(|env| env == "production");
    if let Some(secret) = &args.jwt_secret {
        let bytes = secret.as_bytes().to_vec();
        match tokens::check_secret(&bytes) {
            Ok(()) => {}
            Err(e) if production => return Err(format!("WUYE_JWT_SECRET: {e}")),
            Err(e) => tracing::warn!("WUYE_JWT_SECRET: {e} (refused in production)"),
        }
        return Ok(bytes);
    }
    if production {
        return Err(
            "WUYE_JWT_SECRET must be set in production (32 or more random bytes, e.g. `openssl rand -hex 32`)"
                .to_owned(),
        );
    }
    let path = &args.jwt_secret_file;
    if let Ok(kept) = std::fs::read_to_string(path) {
        let kept = kept.trim().as_bytes().to_vec();
        if tokens::check_secret(&kept).is_ok() {
            return Ok(kept);
        }
    }
    let secret: String = tokens::random_bytes::<32>()
        .map_err(|e| format!("no randomness for a JWT secret: {e}"))?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    write_private(path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a development JWT secret");
    Ok(secret.into_bytes())
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

fn serve(database: &DatabaseArgs, args: &ServeArgs) -> Result<(), String> {
    let db = open(database)?;
    tracing::info!(backend = ?db.backend(), "database ready");
    let auth = wuye_api::auth::AuthConfig {
        secret: jwt_secret(args)?,
        // Access tokens at most a day, refresh tokens at most a year: longer
        // ones defeat the point of expiry.
        access_ttl: Duration::from_secs(args.access_token_ttl_s.clamp(1, 24 * 3600)),
        refresh_ttl: Duration::from_secs(args.refresh_token_ttl_s.clamp(1, 365 * 24 * 3600)),
        trust_forwarded_for: args.trust_forwarded_for,
        ..Default::default()
    };
    let wechat = wuye_api::wechat::WechatConfig {
        base_url: args.wechat_base_url.clone(),
        app_id: args.wechat_app_id.clone(),
        app_secret: args.wechat_app_secret.clone(),
        timeout: Duration::from_millis(args.wechat_timeout_ms),
    };
    let state = AppState::new(
        db,
        ApiConfig {
            body_limit: args.body_limit_bytes,
            auth,
            wechat,
        },
    )
    .map_err(|e| e.to_string())?;
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
            match purge_db
                .write(wuye_persistence::access::sessions::purge_ended)
                .await
            {
                Ok(purged) if purged > 0 => tracing::info!(purged, "ended sessions purged"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not purge ended sessions"),
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
