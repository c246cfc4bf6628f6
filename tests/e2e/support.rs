//! The test harness: a fresh database per test (a SQLite file in its own
//! folder, or a PostgreSQL database created for the test and dropped after),
//! the real app in-process, and one-line helpers for the arrange step.

use std::sync::atomic::{AtomicU64, Ordering};

use actix_http::Request;
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::test;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{Value, json};
use wuye_api::auth::password::{PasswordCost, Passwords};
use wuye_api::{ApiConfig, AppState};
use wuye_domain::access::{AssignmentScope, DataScope, Permission, Username};
use wuye_persistence::access::{roles, users};
use wuye_persistence::{Db, DbConfig};

use crate::wechat_stub::WechatStub;

/// The administrator every test app starts with (`wuye admin create`'s
/// account), signed in for [`TestApp::call`] and friends.
pub const ADMIN_USERNAME: &str = "admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin password 1";
/// The signing secret of test apps.
pub const TEST_JWT_SECRET: &[u8] = b"test-only secret, 0123456789 abcdefghijklmnop";

/// The stand-in WeChat most tests share; a test that switches its failures
/// builds its app with its own (see [`TestApp::with_config`]).
pub fn shared_wechat() -> &'static WechatStub {
    static STUB: std::sync::OnceLock<WechatStub> = std::sync::OnceLock::new();
    STUB.get_or_init(WechatStub::start)
}

/// Hashes passwords as cheaply as argon2id allows: tests create many
/// accounts and nothing is at stake.
pub fn passwords() -> &'static Passwords {
    static PASSWORDS: std::sync::OnceLock<Passwords> = std::sync::OnceLock::new();
    PASSWORDS.get_or_init(|| Passwords::new(PasswordCost::insecure_fast()).expect("argon2 params"))
}

/// Who a request is sent as.
#[derive(Debug, Clone, Copy)]
pub enum As<'a> {
    /// The test app's administrator.
    Admin,
    /// This bearer token (or integration key).
    Token(&'a str),
    /// No `Authorization` header at all.
    Nobody,
}

/// The backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares one test per backend: `name::sqlite` always, and
/// `name::postgres` which runs when `WUYE_TEST_POSTGRES_URL` is set.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::support::TestApp) $body

            #[actix_web::test]
            async fn sqlite() {
                run($crate::support::TestApp::new($crate::support::Backend::Sqlite).await).await;
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::postgres().await {
                    run(app).await;
                }
            }
        }
    };
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    format!(
        "wuye_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    )
}

/// Owns a test database and removes it when the test ends.
enum Scratch {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Drop for Scratch {
    fn drop(&mut self) {
        match self {
            Scratch::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Scratch::Postgres { admin_url, name } => {
                if let Ok(mut conn) = PgConnection::establish(admin_url) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
        }
    }
}

/// A response, read fully.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `ETag`, which every versioned answer must carry.
    pub fn etag(&self) -> String {
        self.header("etag")
            .unwrap_or_else(|| panic!("no ETag in {} {}", self.status, self.raw))
            .to_owned()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.raw
        );
        self
    }

    /// Asserts a problem+json error with this status and code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        let reply = self.expect(status);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{}",
            reply.raw
        );
        assert_eq!(reply.body["code"], code, "{}", reply.raw);
        assert_eq!(reply.body["status"], status, "{}", reply.raw);
        assert!(reply.body["title"].is_string() && reply.body["detail"].is_string());
        assert_eq!(
            reply.body["request_id"].as_str(),
            reply.header("x-request-id"),
            "problem must carry the request id"
        );
        reply
    }

    pub fn id(&self) -> i64 {
        self.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {}", self.raw))
    }
}

type AppService =
    actix_service::boxed::BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// The real app over a fresh database, with a signed-in administrator.
pub struct TestApp {
    pub backend: Backend,
    pub db: Db,
    /// The administrator's access token.
    pub admin_token: String,
    service: AppService,
    _scratch: Scratch,
}

impl TestApp {
    /// A fresh app on `backend`; panics when PostgreSQL is asked for but
    /// not configured (use [`TestApp::postgres`] to skip instead).
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(unique_name());
                let url = dir.join("wuye.db").to_string_lossy().into_owned();
                Self::start(backend, &url, Scratch::Sqlite(dir), ApiConfig::default()).await
            }
            Backend::Postgres => Self::postgres()
                .await
                .expect("WUYE_TEST_POSTGRES_URL is not set"),
        }
    }

    /// A fresh app on PostgreSQL, or `None` when `WUYE_TEST_POSTGRES_URL`
    /// is not set.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_with(ApiConfig::default()).await
    }

    /// Like [`TestApp::postgres`] with a specific HTTP configuration.
    pub async fn postgres_with(config: ApiConfig) -> Option<Self> {
        let admin_url = std::env::var("WUYE_TEST_POSTGRES_URL").ok()?;
        let name = unique_name();
        let mut admin =
            PgConnection::establish(&admin_url).expect("connect to WUYE_TEST_POSTGRES_URL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("WUYE_TEST_POSTGRES_URL must name a database"),
        };
        let scratch = Scratch::Postgres { admin_url, name };
        Some(Self::start(Backend::Postgres, &url, scratch, config).await)
    }

    /// A fresh SQLite app with a specific HTTP configuration.
    pub async fn sqlite_with(config: ApiConfig) -> Self {
        let dir = std::env::temp_dir().join(unique_name());
        let url = dir.join("wuye.db").to_string_lossy().into_owned();
        Self::start(Backend::Sqlite, &url, Scratch::Sqlite(dir), config).await
    }

    /// A fresh app on `backend` with a specific configuration (its own
    /// stand-in WeChat, say); PostgreSQL is skipped (`None`) when not
    /// configured.
    pub async fn with_config(backend: Backend, config: ApiConfig) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite_with(config).await),
            Backend::Postgres => Self::postgres_with(config).await,
        }
    }

    async fn start(backend: Backend, url: &str, scratch: Scratch, mut config: ApiConfig) -> Self {
        if config.auth.secret.is_empty() {
            config.auth.secret = TEST_JWT_SECRET.to_vec();
            config.auth.password_cost = PasswordCost::insecure_fast();
        }
        if !config.wechat.is_configured() {
            config.wechat = shared_wechat().config();
        }
        let db = Db::connect(&DbConfig {
            url: url.to_owned(),
            ..DbConfig::default()
        })
        .expect("open test database");
        db.migrate().expect("migrate test database");
        let hash = passwords().hash(ADMIN_PASSWORD).expect("hash");
        db.write(move |conn| {
            let username = Username::parse(ADMIN_USERNAME).expect("username");
            users::bootstrap_admin(conn, &username, &hash)
        })
        .await
        .expect("create the administrator");
        let state = AppState::new(db.clone(), config).expect("app state");
        let service = test::init_service(wuye_api::app(state)).await;
        let mut app = Self {
            backend,
            db,
            admin_token: String::new(),
            service: actix_service::boxed::service(service),
            _scratch: scratch,
        };
        app.admin_token = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
        app
    }

    /// Signs in through the API and returns the access token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        self.call_as(
            As::Nobody,
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({ "username": username, "password": password })),
            &[],
        )
        .await
        .expect(200)
        .body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// A new staff member holding a new role with `permissions` in `scope`,
    /// signed in; returns the access token. (Arranged in storage directly:
    /// the accounts API has tests of its own.)
    pub async fn staff_token(&self, permissions: &[Permission], scope: AssignmentScope) -> String {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let username = format!("staff{n}");
        let hash = passwords().hash("staff password 1").expect("hash");
        let permissions: std::collections::BTreeSet<Permission> =
            permissions.iter().copied().collect();
        let office_id = scope.offices().first().copied();
        let name = username.clone();
        self.db
            .write(move |conn| {
                let system = DataScope::system();
                let role = roles::create(
                    conn,
                    &system,
                    &roles::NewRole {
                        name: format!("role of {name}"),
                        description: None,
                        permissions: permissions.clone(),
                    },
                )?;
                let user = users::create(
                    conn,
                    &system,
                    &users::NewUser {
                        office_id,
                        username: Username::parse(&name).expect("username"),
                        display_name: name.clone(),
                        mobile: Some("13812345678".to_owned()),
                        password_hash: hash.clone(),
                        active: true,
                    },
                )?;
                users::assign(conn, &system, user.id, role.id, &scope)?;
                Ok::<_, wuye_persistence::StoreError>(())
            })
            .await
            .expect("arrange a staff member");
        self.login(&username, "staff password 1").await
    }

    /// Sends a request built by the caller.
    pub async fn send(&self, request: test::TestRequest) -> Reply {
        let response = test::call_service(&self.service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    /// `method path` as the administrator, with an optional JSON body and
    /// extra headers.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.call_as(As::Admin, method, path, body, headers).await
    }

    /// `method path` as `who`.
    pub async fn call_as(
        &self,
        who: As<'_>,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = test::TestRequest::default().method(method).uri(path);
        let token = match who {
            As::Admin => Some(self.admin_token.as_str()),
            As::Token(token) => Some(token),
            As::Nobody => None,
        };
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        if let Some(body) = body {
            request = request.set_json(body);
        }
        for (name, value) in headers {
            request = request.insert_header((
                HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            ));
        }
        self.send(request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body), &[]).await
    }

    /// `PATCH` with `If-Match`.
    pub async fn patch(&self, path: &str, etag: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body), &[("If-Match", etag)])
            .await
    }

    /// `POST …/archive` with `If-Match`.
    pub async fn archive(&self, path: &str, etag: &str) -> Reply {
        self.call(
            Method::POST,
            &format!("{path}/archive"),
            None,
            &[("If-Match", etag)],
        )
        .await
    }

    pub async fn create_office(&self, name: &str) -> i64 {
        self.post("/api/v1/offices", json!({ "name": name }))
            .await
            .expect(201)
            .id()
    }

    pub async fn create_estate(&self, office_id: i64, name: &str) -> i64 {
        self.post(
            "/api/v1/estates",
            json!({ "office_id": office_id, "name": name }),
        )
        .await
        .expect(201)
        .id()
    }

    pub async fn create_building(&self, estate_id: i64, name: &str) -> i64 {
        self.post(
            "/api/v1/buildings",
            json!({ "estate_id": estate_id, "name": name }),
        )
        .await
        .expect(201)
        .id()
    }

    pub async fn create_unit(&self, building_id: i64, name: &str) -> i64 {
        self.post(
            "/api/v1/units",
            json!({ "building_id": building_id, "name": name }),
        )
        .await
        .expect(201)
        .id()
    }

    pub async fn create_house(&self, unit_id: i64, number: &str, floor: i32) -> i64 {
        self.post("/api/v1/houses", house_body(unit_id, number, floor))
            .await
            .expect(201)
            .id()
    }

    /// An office → estate → building → unit chain; returns the unit id.
    pub async fn create_unit_chain(&self, prefix: &str) -> Chain {
        let office = self.create_office(&format!("{prefix}管理处")).await;
        let estate = self.create_estate(office, &format!("{prefix}小区")).await;
        let building = self.create_building(estate, "1号楼").await;
        let unit = self.create_unit(building, "1单元").await;
        Chain {
            office,
            estate,
            building,
            unit,
        }
    }
}

/// Ids of one branch of the estate tree.
#[derive(Debug, Clone, Copy)]
pub struct Chain {
    pub office: i64,
    pub estate: i64,
    pub building: i64,
    pub unit: i64,
}

/// A valid house body.
pub fn house_body(unit_id: i64, number: &str, floor: i32) -> Value {
    json!({
        "unit_id": unit_id,
        "number": number,
        "floor": floor,
        "building_area": 89.53,
        "usable_area": 72.1,
        "house_type": "residential",
    })
}
