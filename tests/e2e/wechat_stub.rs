//! A stand-in for WeChat's server API: a real HTTP server on a free local
//! port, answering `jscode2session`, `cgi-bin/token` and
//! `getuserphonenumber` the way WeChat does (HTTP 200, failures as
//! `errcode`), with single-use codes the test registers and switches to
//! make the next answer fail.
//!
//! It runs on its own thread with its own actix system: the client under
//! test is blocking and answers nothing until the stub does, so the stub
//! must not depend on the test's runtime being free. The server lives until
//! the test process ends.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use wuye_api::wechat::{WechatClient, WechatConfig, WechatError, WechatSession};

/// The stand-in WeChat: tests keep the handle to register codes and switch
/// failures, and hand `base_url`/`app_id`/`app_secret` (or
/// [`WechatStub::config`]) to the client under test.
pub struct WechatStub {
    /// `http://127.0.0.1:<port>`, for `WechatConfig::base_url`.
    pub base_url: String,
    /// The AppID the stub accepts: `wx_test_app`.
    pub app_id: String,
    /// The AppSecret the stub accepts: `stub-secret`.
    pub app_secret: String,
    state: Arc<Mutex<StubState>>,
}

#[derive(Default)]
struct StubState {
    next_id: u64,
    /// Unused login codes → (openid, unionid).
    login_codes: HashMap<String, (String, Option<String>)>,
    /// Unused phone codes → pure phone number.
    phone_codes: HashMap<String, String>,
    /// Access tokens issued and not revoked.
    tokens: HashSet<String>,
    fail_next_login: Option<i64>,
    delay_next: Option<Duration>,
    wrong_watermark_next: bool,
    requests: Vec<String>,
}

/// What the handlers share.
struct Shared {
    app_id: String,
    app_secret: String,
    state: Arc<Mutex<StubState>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, StubState> {
        lock(&self.state)
    }

    /// Records the request and serves a pending delay, before any answer
    /// is decided.
    async fn begin(&self, request: &HttpRequest) {
        let delay = {
            let mut state = self.lock();
            state.requests.push(request.path().to_owned());
            state.delay_next.take()
        };
        if let Some(delay) = delay {
            actix_web::rt::time::sleep(delay).await;
        }
    }
}

// A failed assertion in one test must not poison the stub for the rest of
// that test's assertions.
fn lock(state: &Mutex<StubState>) -> MutexGuard<'_, StubState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl WechatStub {
    /// Starts a stub accepting AppID `wx_test_app` and AppSecret
    /// `stub-secret`.
    pub fn start() -> Self {
        let app_id = "wx_test_app".to_owned();
        let app_secret = "stub-secret".to_owned();
        let state = Arc::new(Mutex::new(StubState::default()));
        let shared = web::Data::new(Shared {
            app_id: app_id.clone(),
            app_secret: app_secret.clone(),
            state: Arc::clone(&state),
        });
        let (started, addr) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("wechat-stub".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(shared.clone())
                            .route("/sns/jscode2session", web::get().to(jscode2session))
                            .route("/cgi-bin/token", web::get().to(token))
                            .route(
                                "/wxa/business/getuserphonenumber",
                                web::post().to(phone_number),
                            )
                            .default_service(web::to(not_found))
                    })
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(0)
                    .bind(("127.0.0.1", 0))
                    .expect("bind the WeChat stub");
                    started
                        .send(server.addrs()[0])
                        .expect("report the stub's address");
                    server.run().await
                })
            })
            .expect("start the WeChat stub thread");
        let addr = addr.recv().expect("the WeChat stub failed to start");
        Self {
            base_url: format!("http://{addr}"),
            app_id,
            app_secret,
            state,
        }
    }

    /// A client configuration pointing at this stub with its credentials.
    pub fn config(&self) -> WechatConfig {
        WechatConfig {
            base_url: self.base_url.clone(),
            app_id: self.app_id.clone(),
            app_secret: self.app_secret.clone(),
            ..WechatConfig::default()
        }
    }

    fn fresh_code(state: &mut StubState, kind: &str) -> String {
        state.next_id += 1;
        format!("{kind}-{}", state.next_id)
    }

    /// Registers a fresh single-use `wx.login` code for `openid`.
    pub fn login_code(&self, openid: &str, unionid: Option<&str>) -> String {
        let mut state = lock(&self.state);
        let code = Self::fresh_code(&mut state, "login");
        state.login_codes.insert(
            code.clone(),
            (openid.to_owned(), unionid.map(str::to_owned)),
        );
        code
    }

    /// Registers a fresh single-use phone-number code for `phone`
    /// (the pure number, e.g. `13812345678`).
    pub fn phone_code(&self, phone: &str) -> String {
        let mut state = lock(&self.state);
        let code = Self::fresh_code(&mut state, "phone");
        state.phone_codes.insert(code.clone(), phone.to_owned());
        code
    }

    /// The next `jscode2session` answers `errcode` (the code stays unused).
    pub fn fail_next_login(&self, errcode: i64) {
        lock(&self.state).fail_next_login = Some(errcode);
    }

    /// The next request, whatever it is, waits `delay` before answering.
    pub fn delay_next(&self, delay: Duration) {
        lock(&self.state).delay_next = Some(delay);
    }

    /// The next phone-number answer carries another app's watermark.
    pub fn wrong_watermark_next(&self) {
        lock(&self.state).wrong_watermark_next = true;
    }

    /// Invalidates every access token issued so far, as WeChat does when
    /// another server fetches a new one: the next phone call gets 40001.
    pub fn revoke_tokens(&self) {
        lock(&self.state).tokens.clear();
    }

    /// The paths (without query) of every request so far, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }
}

fn error(errcode: i64, errmsg: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "errcode": errcode, "errmsg": errmsg }))
}

async fn jscode2session(
    request: HttpRequest,
    stub: web::Data<Shared>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    stub.begin(&request).await;
    let mut state = stub.lock();
    if let Some(errcode) = state.fail_next_login.take() {
        return error(errcode, "failure requested by the test");
    }
    if query.get("appid") != Some(&stub.app_id) {
        return error(40013, "invalid appid");
    }
    if query.get("secret") != Some(&stub.app_secret) {
        return error(40125, "invalid appsecret");
    }
    if query.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return error(40002, "invalid grant_type");
    }
    let user = query
        .get("js_code")
        .and_then(|code| state.login_codes.remove(code));
    match user {
        // WeChat sends the session key along; the client must drop it.
        Some((openid, unionid)) => {
            let mut answer = json!({ "openid": openid, "session_key": "c3R1Yi1zZXNzaW9uLWtleQ==" });
            if let Some(unionid) = unionid {
                answer["unionid"] = Value::String(unionid);
            }
            HttpResponse::Ok().json(answer)
        }
        None => error(40029, "invalid code"),
    }
}

async fn token(
    request: HttpRequest,
    stub: web::Data<Shared>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    stub.begin(&request).await;
    let mut state = stub.lock();
    if query.get("grant_type").map(String::as_str) != Some("client_credential") {
        return error(40002, "invalid grant_type");
    }
    if query.get("appid") != Some(&stub.app_id) {
        return error(40013, "invalid appid");
    }
    if query.get("secret") != Some(&stub.app_secret) {
        return error(40125, "invalid appsecret");
    }
    let token = WechatStub::fresh_code(&mut state, "token");
    state.tokens.insert(token.clone());
    HttpResponse::Ok().json(json!({ "access_token": token, "expires_in": 7200 }))
}

async fn phone_number(
    request: HttpRequest,
    stub: web::Data<Shared>,
    query: web::Query<HashMap<String, String>>,
    body: web::Bytes,
) -> HttpResponse {
    stub.begin(&request).await;
    let mut state = stub.lock();
    let token_ok = query
        .get("access_token")
        .is_some_and(|token| state.tokens.contains(token));
    if !token_ok {
        return error(
            40001,
            "invalid credential, access_token is invalid or not latest",
        );
    }
    let Some(code) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned))
    else {
        return error(47001, "data format error");
    };
    let Some(phone) = state.phone_codes.remove(&code) else {
        return error(40029, "invalid code");
    };
    let appid = if std::mem::take(&mut state.wrong_watermark_next) {
        "wx_someone_else".to_owned()
    } else {
        stub.app_id.clone()
    };
    HttpResponse::Ok().json(json!({
        "errcode": 0,
        "errmsg": "ok",
        "phone_info": {
            "phoneNumber": format!("+86 {phone}"),
            "purePhoneNumber": phone,
            "countryCode": "86",
            "watermark": { "timestamp": chrono::Utc::now().timestamp(), "appid": appid }
        }
    }))
}

async fn not_found(request: HttpRequest, stub: web::Data<Shared>) -> HttpResponse {
    stub.begin(&request).await;
    HttpResponse::NotFound().body("no such WeChat endpoint in the stub")
}

// The client under test, against the stub.

const JSCODE2SESSION: &str = "/sns/jscode2session";
const TOKEN: &str = "/cgi-bin/token";
const PHONE: &str = "/wxa/business/getuserphonenumber";

fn count(stub: &WechatStub, path: &str) -> usize {
    stub.requests().iter().filter(|p| *p == path).count()
}

#[actix_web::test]
async fn a_login_code_gives_openid_and_unionid() {
    let stub = WechatStub::start();
    let client = WechatClient::new(stub.config());

    let code = stub.login_code("o-alice", Some("u-alice"));
    assert_eq!(
        client.code_to_session(&code).await,
        Ok(WechatSession {
            openid: "o-alice".into(),
            unionid: Some("u-alice".into()),
        })
    );
    let code = stub.login_code("o-bob", None);
    let bob = client.code_to_session(&code).await.unwrap();
    assert_eq!((bob.openid.as_str(), bob.unionid), ("o-bob", None));
    assert_eq!(stub.requests(), [JSCODE2SESSION, JSCODE2SESSION]);
}

#[actix_web::test]
async fn a_used_or_unknown_login_code_is_invalid() {
    let stub = WechatStub::start();
    let client = WechatClient::new(stub.config());

    let code = stub.login_code("o-alice", None);
    client.code_to_session(&code).await.unwrap();
    assert_eq!(
        client.code_to_session(&code).await,
        Err(WechatError::InvalidCode)
    );
    assert_eq!(
        client.code_to_session("never-issued").await,
        Err(WechatError::InvalidCode)
    );
    // A blank code is refused without spending a call.
    assert_eq!(
        client.code_to_session("").await,
        Err(WechatError::InvalidCode)
    );
    assert_eq!(count(&stub, JSCODE2SESSION), 3);
}

#[actix_web::test]
async fn login_errcodes_become_their_errors() {
    let stub = WechatStub::start();
    let client = WechatClient::new(stub.config());
    let code = stub.login_code("o-alice", None);

    for (errcode, expected) in [
        (45011, WechatError::RateLimited),
        (40226, WechatError::RiskyUser),
        (-1, WechatError::Busy),
        (40163, WechatError::Rejected { errcode: 40163 }),
    ] {
        stub.fail_next_login(errcode);
        assert_eq!(client.code_to_session(&code).await, Err(expected));
    }
    // The failures did not use the code up.
    assert_eq!(
        client.code_to_session(&code).await.unwrap().openid,
        "o-alice"
    );
}

#[actix_web::test]
async fn wrong_credentials_are_rejected_with_wechats_errcode() {
    let stub = WechatStub::start();
    let wrong_secret = WechatClient::new(WechatConfig {
        app_secret: "not-the-secret".into(),
        ..stub.config()
    });
    let code = stub.login_code("o-alice", None);
    assert_eq!(
        wrong_secret.code_to_session(&code).await,
        Err(WechatError::Rejected { errcode: 40125 })
    );
    let phone = stub.phone_code("13812345678");
    assert_eq!(
        wrong_secret.phone_number(&phone).await,
        Err(WechatError::Rejected { errcode: 40125 })
    );

    let wrong_app = WechatClient::new(WechatConfig {
        app_id: "wx_not_ours".into(),
        ..stub.config()
    });
    assert_eq!(
        wrong_app.code_to_session(&code).await,
        Err(WechatError::Rejected { errcode: 40013 })
    );
    // The token was never issued, so no phone call was made.
    assert_eq!(count(&stub, PHONE), 0);
}

#[actix_web::test]
async fn a_slow_wechat_times_out() {
    let stub = WechatStub::start();
    let client = WechatClient::new(WechatConfig {
        timeout: Duration::from_millis(300),
        ..stub.config()
    });
    let code = stub.login_code("o-alice", None);

    stub.delay_next(Duration::from_secs(3));
    let started = Instant::now();
    assert_eq!(
        client.code_to_session(&code).await,
        Err(WechatError::Timeout)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Only that one request was delayed.
    let code = stub.login_code("o-bob", None);
    assert_eq!(client.code_to_session(&code).await.unwrap().openid, "o-bob");
}

#[actix_web::test]
async fn a_phone_code_gives_the_pure_number_and_the_token_is_reused() {
    let stub = WechatStub::start();
    let client = WechatClient::new(stub.config());

    let code = stub.phone_code("13812345678");
    assert_eq!(
        client.phone_number(&code).await,
        Ok("13812345678".to_owned())
    );
    assert_eq!(
        client.phone_number(&code).await,
        Err(WechatError::InvalidCode)
    );
    // Clones share the cache.
    let code = stub.phone_code("13900001111");
    assert_eq!(
        client.clone().phone_number(&code).await,
        Ok("13900001111".to_owned())
    );
    assert_eq!(stub.requests(), [TOKEN, PHONE, PHONE, PHONE]);
}

#[actix_web::test]
async fn a_rejected_token_is_replaced_once() {
    let stub = WechatStub::start();
    let client = WechatClient::new(stub.config());
    let code = stub.phone_code("13812345678");
    client.phone_number(&code).await.unwrap();

    stub.revoke_tokens();
    let code = stub.phone_code("13900001111");
    assert_eq!(
        client.phone_number(&code).await,
        Ok("13900001111".to_owned())
    );
    assert_eq!(stub.requests(), [TOKEN, PHONE, PHONE, TOKEN, PHONE]);
}

#[actix_web::test]
async fn another_apps_watermark_is_a_bad_response() {
    let stub = WechatStub::start();
    let client = WechatClient::new(stub.config());

    stub.wrong_watermark_next();
    let code = stub.phone_code("13812345678");
    assert_eq!(
        client.phone_number(&code).await,
        Err(WechatError::BadResponse)
    );
    let code = stub.phone_code("13812345678");
    assert_eq!(
        client.phone_number(&code).await,
        Ok("13812345678".to_owned())
    );
}

#[actix_web::test]
async fn an_unreachable_or_wrong_endpoint_is_unavailable() {
    let refused = WechatClient::new(WechatConfig {
        base_url: "http://127.0.0.1:9".into(),
        app_id: "wx_test_app".into(),
        app_secret: "stub-secret".into(),
        ..WechatConfig::default()
    });
    assert_eq!(
        refused.code_to_session("code").await,
        Err(WechatError::Unavailable)
    );
    assert_eq!(
        refused.phone_number("code").await,
        Err(WechatError::Unavailable)
    );

    // A 404 from something that is not WeChat.
    let stub = WechatStub::start();
    let misrouted = WechatClient::new(WechatConfig {
        base_url: format!("{}/not-wechat", stub.base_url),
        ..stub.config()
    });
    let code = stub.login_code("o-alice", None);
    assert_eq!(
        misrouted.code_to_session(&code).await,
        Err(WechatError::Unavailable)
    );
    assert_eq!(stub.requests(), ["/not-wechat/sns/jscode2session"]);
}

#[actix_web::test]
async fn an_unconfigured_client_is_not_configured() {
    let client = WechatClient::new(WechatConfig::default());
    assert_eq!(
        client.code_to_session("code").await,
        Err(WechatError::NotConfigured)
    );
    assert_eq!(
        client.phone_number("code").await,
        Err(WechatError::NotConfigured)
    );
}
