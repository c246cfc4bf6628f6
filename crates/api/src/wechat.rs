//! The server side of WeChat mini-program login: exchanging a `wx.login`
//! code for the user's openid, and a phone-number button code for the
//! user's phone number.
//!
//! WeChat answers HTTP 200 with a JSON body whether or not the call worked;
//! an `errcode` other than 0 is the failure. Every failure becomes a
//! [`WechatError`], which turns into a problem+json answer with a stable
//! `wechat.*` code. What reaches the logs is the endpoint and the errcode or
//! transport kind only: the URLs carry the app secret or the access token,
//! and the answers carry the openid, the session key and the phone number.
//!
//! ureq is blocking, so each call runs on tokio's blocking threads.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use serde::Deserialize;

use crate::error::ApiError;
use crate::i18n::Text;

/// WeChat's production API host.
pub const DEFAULT_BASE_URL: &str = "https://api.weixin.qq.com";

/// How long a WeChat call may take in all, unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A cached access token is replaced this long before WeChat says it
/// expires, so a token never expires between our check and WeChat's.
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Answers are a few hundred bytes; anything far larger is not WeChat.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// errcodes meaning the access token we sent is no longer valid: WeChat
/// invalidates tokens when another server fetches a new one, or on expiry.
const TOKEN_INVALID: [i64; 2] = [40001, 42001];

/// How to reach WeChat and who we are to it.
#[derive(Clone)]
pub struct WechatConfig {
    /// Scheme and host of the WeChat API, without a trailing path; tests
    /// point it at a local stand-in.
    pub base_url: String,
    /// The mini-program's AppID (`wx…`).
    pub app_id: String,
    /// The mini-program's AppSecret. Never logged, never printed.
    pub app_secret: String,
    /// The most one WeChat call may take, connection to last byte.
    pub timeout: Duration,
}

impl Default for WechatConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            app_id: String::new(),
            app_secret: String::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for WechatConfig {
    // By hand so that logging the configuration cannot leak the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatConfig")
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .field("app_secret", &"***")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl WechatConfig {
    /// Whether an AppID and AppSecret are set; without them every call
    /// answers [`WechatError::NotConfigured`].
    pub fn is_configured(&self) -> bool {
        !self.app_id.is_empty() && !self.app_secret.is_empty()
    }
}

/// Who a `wx.login` code belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatSession {
    /// The user's id within this mini-program.
    pub openid: String,
    /// The user's id across the company's WeChat apps, when the
    /// mini-program is bound to an Open Platform account.
    pub unionid: Option<String>,
}

/// Why a WeChat call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WechatError {
    /// The code is invalid, expired or already used (errcode 40029).
    #[error("wechat: invalid code")]
    InvalidCode,
    /// WeChat limits this app's or this user's calls (errcode 45011).
    #[error("wechat: rate limited")]
    RateLimited,
    /// WeChat flags the user as high-risk and refuses them (errcode 40226).
    #[error("wechat: risky user")]
    RiskyUser,
    /// WeChat is busy (errcode -1); retrying shortly may work.
    #[error("wechat: busy")]
    Busy,
    /// Any other errcode, most often a configuration problem
    /// (40013 bad AppID, 40125 bad AppSecret, 40164 IP not allow-listed).
    #[error("wechat: rejected with errcode {errcode}")]
    Rejected {
        /// WeChat's errcode.
        errcode: i64,
    },
    /// A success answer that lacks what it must carry, or carries another
    /// app's watermark.
    #[error("wechat: unusable answer")]
    BadResponse,
    /// WeChat could not be reached, answered a non-200 status or a body
    /// that is not JSON.
    #[error("wechat: unavailable")]
    Unavailable,
    /// WeChat did not answer within the configured timeout.
    #[error("wechat: timeout")]
    Timeout,
    /// No AppID or AppSecret is configured.
    #[error("wechat: not configured")]
    NotConfigured,
}

impl WechatError {
    /// The error for a non-zero errcode.
    pub fn from_errcode(errcode: i64) -> Self {
        match errcode {
            40029 => Self::InvalidCode,
            45011 => Self::RateLimited,
            40226 => Self::RiskyUser,
            -1 => Self::Busy,
            errcode => Self::Rejected { errcode },
        }
    }
}

impl From<WechatError> for ApiError {
    fn from(error: WechatError) -> Self {
        match error {
            // A refused sign-in credential, like a wrong password: 401.
            WechatError::InvalidCode => crate::auth::unauthenticated(
                "wechat.invalid_code",
                Text::new(
                    "登录凭证无效或已使用，请重新调用 wx.login",
                    "The login code is invalid or was already used; call wx.login again",
                ),
            ),
            WechatError::RateLimited => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "wechat.rate_limited",
                Text::new(
                    "微信接口调用过于频繁，请稍后重试",
                    "WeChat is limiting calls right now; please retry in a minute",
                ),
            )
            .with_header(RETRY_AFTER, HeaderValue::from_static("60")),
            WechatError::RiskyUser => ApiError::new(
                StatusCode::FORBIDDEN,
                "wechat.risky_user",
                Text::new(
                    "微信判定该用户存在风险，暂时无法登录",
                    "WeChat flags this user as high-risk; signing in is refused for now",
                ),
            ),
            WechatError::Busy | WechatError::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "wechat.unavailable",
                Text::new(
                    "微信服务暂时不可用，请稍后重试",
                    "WeChat is temporarily unavailable; please retry shortly",
                ),
            )
            .with_header(RETRY_AFTER, HeaderValue::from_static("5")),
            WechatError::Timeout => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "wechat.timeout",
                Text::new(
                    "微信服务响应超时，请稍后重试",
                    "WeChat did not answer in time; please retry",
                ),
            ),
            WechatError::BadResponse | WechatError::Rejected { .. } => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "wechat.bad_gateway",
                Text::new(
                    "微信服务返回了无法处理的结果，请联系管理员",
                    "WeChat gave an answer we cannot use; contact support",
                ),
            ),
            WechatError::NotConfigured => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "wechat.not_configured",
                Text::new(
                    "服务器未配置微信小程序，暂不支持微信登录",
                    "WeChat sign-in is not configured on this server",
                ),
            ),
        }
    }
}

/// The client of WeChat's server API. Cloning is cheap and shares the
/// cached access token, so build one per process.
#[derive(Clone)]
pub struct WechatClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: WechatConfig,
    agent: ureq::Agent,
    // A std mutex, held across the blocking token fetch on purpose: calls
    // that find no valid token wait for one fetch instead of each spending
    // WeChat's daily token quota (and invalidating each other's tokens).
    token: Mutex<Option<CachedToken>>,
}

struct CachedToken {
    value: String,
    refresh_at: Instant,
}

impl fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Which WeChat call failed, for the logs.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Jscode2session,
    Token,
    PhoneNumber,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Self::Jscode2session => "/sns/jscode2session",
            Self::Token => "/cgi-bin/token",
            Self::PhoneNumber => "/wxa/business/getuserphonenumber",
        }
    }
}

impl WechatClient {
    /// A client for `config`; it makes no call until asked.
    pub fn new(config: WechatConfig) -> Self {
        let agent_config = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            // WeChat reports failures in the body; a non-200 is handled as
            // "unavailable" below rather than as a ureq error.
            .http_status_as_error(false)
            // ureq 3 defaults to rustls, which this build does not include:
            // left at the default, an https call panics.
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .build(),
            )
            .build();
        Self {
            inner: Arc::new(Inner {
                agent: ureq::Agent::new_with_config(agent_config),
                config,
                token: Mutex::new(None),
            }),
        }
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &WechatConfig {
        &self.inner.config
    }

    /// Exchanges a `wx.login` code (valid 5 minutes, usable once) for the
    /// user's openid and unionid.
    pub async fn code_to_session(&self, code: &str) -> Result<WechatSession, WechatError> {
        let client = self.clone();
        let code = code.to_owned();
        run_blocking(move || client.code_to_session_blocking(&code)).await
    }

    /// Exchanges a phone-number button code for the user's phone number
    /// without country code (`13812345678`).
    pub async fn phone_number(&self, code: &str) -> Result<String, WechatError> {
        let client = self.clone();
        let code = code.to_owned();
        run_blocking(move || client.phone_number_blocking(&code)).await
    }

    fn code_to_session_blocking(&self, code: &str) -> Result<WechatSession, WechatError> {
        let config = self.configured()?;
        if code.is_empty() {
            return Err(logged(Endpoint::Jscode2session, WechatError::InvalidCode));
        }
        let request = self
            .inner
            .agent
            .get(self.url(Endpoint::Jscode2session))
            .query("appid", &config.app_id)
            .query("secret", &config.app_secret)
            .query("js_code", code)
            .query("grant_type", "authorization_code");
        let body = receive(Endpoint::Jscode2session, request.call())?;
        parse_session(&body).map_err(|e| logged(Endpoint::Jscode2session, e))
    }

    fn phone_number_blocking(&self, code: &str) -> Result<String, WechatError> {
        let config = self.configured()?;
        if code.is_empty() {
            return Err(logged(Endpoint::PhoneNumber, WechatError::InvalidCode));
        }
        let body = serde_json::json!({ "code": code }).to_string();
        let mut retried = false;
        loop {
            let token = self.access_token()?;
            let request = self
                .inner
                .agent
                .post(self.url(Endpoint::PhoneNumber))
                .query("access_token", &token)
                .header("Content-Type", "application/json");
            let answer = receive(Endpoint::PhoneNumber, request.send(body.as_str()))?;
            match parse_phone(&answer, &config.app_id) {
                Err(WechatError::Rejected { errcode })
                    if TOKEN_INVALID.contains(&errcode) && !retried =>
                {
                    tracing::warn!(
                        endpoint = Endpoint::PhoneNumber.path(),
                        errcode,
                        "wechat access token rejected; fetching a new one"
                    );
                    self.forget_token(&token);
                    retried = true;
                }
                result => return result.map_err(|e| logged(Endpoint::PhoneNumber, e)),
            }
        }
    }

    /// The cached access token, fetched anew when missing or near expiry.
    fn access_token(&self) -> Result<String, WechatError> {
        // The cache holds nothing a panic could leave half-written.
        let mut cached = self
            .inner
            .token
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        let config = &self.inner.config;
        let request = self
            .inner
            .agent
            .get(self.url(Endpoint::Token))
            .query("grant_type", "client_credential")
            .query("appid", &config.app_id)
            .query("secret", &config.app_secret);
        let body = receive(Endpoint::Token, request.call())?;
        let (value, lifetime) = parse_token(&body).map_err(|e| logged(Endpoint::Token, e))?;
        *cached = Some(CachedToken {
            value: value.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(TOKEN_REFRESH_MARGIN),
        });
        Ok(value)
    }

    /// Drops the cached token if it is still the one WeChat rejected; a
    /// concurrent call may already have replaced it with a good one.
    fn forget_token(&self, rejected: &str) {
        let mut cached = self
            .inner
            .token
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cached.as_ref().is_some_and(|t| t.value == rejected) {
            *cached = None;
        }
    }

    fn configured(&self) -> Result<&WechatConfig, WechatError> {
        let config = &self.inner.config;
        if config.is_configured() {
            Ok(config)
        } else {
            tracing::warn!("wechat call without AppID/AppSecret configured");
            Err(WechatError::NotConfigured)
        }
    }

    fn url(&self, endpoint: Endpoint) -> String {
        format!(
            "{}{}",
            self.inner.config.base_url.trim_end_matches('/'),
            endpoint.path()
        )
    }
}

/// Runs a blocking WeChat call off the async workers.
async fn run_blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, WechatError> + Send + 'static,
) -> Result<T, WechatError> {
    match tokio::task::spawn_blocking(call).await {
        Ok(result) => result,
        Err(join) => {
            // A panic here is our bug, not WeChat's; the request still gets
            // an answer instead of taking the worker down.
            tracing::error!(panic = join.is_panic(), "wechat call did not complete");
            Err(WechatError::Unavailable)
        }
    }
}

/// The body of a 200 answer, or the transport failure as a [`WechatError`].
fn receive(
    endpoint: Endpoint,
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<String, WechatError> {
    let mut response = sent.map_err(|e| transport_error(endpoint, &e))?;
    let status = response.status().as_u16();
    if status != 200 {
        tracing::warn!(
            endpoint = endpoint.path(),
            status,
            "wechat answered a non-200 status"
        );
        return Err(WechatError::Unavailable);
    }
    response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string()
        .map_err(|e| transport_error(endpoint, &e))
}

/// Maps and logs a ureq error. Only the kind is logged: ureq's own message
/// may quote the URL, which carries the secret or the access token.
fn transport_error(endpoint: Endpoint, error: &ureq::Error) -> WechatError {
    let (kind, mapped) = match error {
        ureq::Error::Timeout(_) => ("timeout", WechatError::Timeout),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            ("timeout", WechatError::Timeout)
        }
        ureq::Error::Io(_) => ("io", WechatError::Unavailable),
        ureq::Error::HostNotFound => ("host_not_found", WechatError::Unavailable),
        ureq::Error::ConnectionFailed => ("connection_failed", WechatError::Unavailable),
        ureq::Error::Tls(_) => ("tls", WechatError::Unavailable),
        ureq::Error::Protocol(_) => ("protocol", WechatError::Unavailable),
        ureq::Error::BodyExceedsLimit(_) => ("body_too_large", WechatError::Unavailable),
        ureq::Error::BadUri(_) => ("bad_uri", WechatError::Unavailable),
        _ => ("other", WechatError::Unavailable),
    };
    match error {
        ureq::Error::Io(io) => tracing::warn!(
            endpoint = endpoint.path(),
            kind,
            io_kind = ?io.kind(),
            "wechat call failed"
        ),
        _ => tracing::warn!(endpoint = endpoint.path(), kind, "wechat call failed"),
    }
    mapped
}

/// Logs a failure WeChat reported (or a success we cannot use).
fn logged(endpoint: Endpoint, error: WechatError) -> WechatError {
    match &error {
        WechatError::Rejected { errcode } => {
            tracing::warn!(
                endpoint = endpoint.path(),
                errcode,
                "wechat rejected the call"
            );
        }
        other => tracing::warn!(endpoint = endpoint.path(), error = %other, "wechat call failed"),
    }
    error
}

/// `Ok` for an absent or zero errcode.
fn check_errcode(errcode: Option<i64>) -> Result<(), WechatError> {
    match errcode {
        None | Some(0) => Ok(()),
        Some(code) => Err(WechatError::from_errcode(code)),
    }
}

/// A body that is not the JSON we expect means something other than
/// WeChat answered (a proxy's error page, say): unavailable, not rejected.
fn parse_json<'a, T: Deserialize<'a>>(body: &'a str) -> Result<T, WechatError> {
    serde_json::from_str(body).map_err(|_| WechatError::Unavailable)
}

#[derive(Deserialize)]
struct SessionAnswer {
    errcode: Option<i64>,
    #[serde(default)]
    openid: String,
    unionid: Option<String>,
    // `session_key` is deliberately not deserialised: it never leaves the
    // server, and nothing here needs it (phone numbers come from their own
    // code), so it is dropped with the raw body.
}

fn parse_session(body: &str) -> Result<WechatSession, WechatError> {
    let answer: SessionAnswer = parse_json(body)?;
    check_errcode(answer.errcode)?;
    if answer.openid.is_empty() {
        return Err(WechatError::BadResponse);
    }
    Ok(WechatSession {
        openid: answer.openid,
        unionid: answer.unionid.filter(|u| !u.is_empty()),
    })
}

#[derive(Deserialize)]
struct TokenAnswer {
    errcode: Option<i64>,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: u64,
}

/// The token and how long it lives.
fn parse_token(body: &str) -> Result<(String, Duration), WechatError> {
    let answer: TokenAnswer = parse_json(body)?;
    check_errcode(answer.errcode)?;
    if answer.access_token.is_empty() {
        return Err(WechatError::BadResponse);
    }
    Ok((answer.access_token, Duration::from_secs(answer.expires_in)))
}

#[derive(Deserialize)]
struct PhoneAnswer {
    errcode: Option<i64>,
    phone_info: Option<PhoneInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneInfo {
    #[serde(default)]
    pure_phone_number: String,
    watermark: Option<Watermark>,
}

#[derive(Deserialize)]
struct Watermark {
    #[serde(default)]
    appid: String,
}

/// The pure phone number, if the answer is for our app.
fn parse_phone(body: &str, app_id: &str) -> Result<String, WechatError> {
    let answer: PhoneAnswer = parse_json(body)?;
    check_errcode(answer.errcode)?;
    let info = answer.phone_info.ok_or(WechatError::BadResponse)?;
    // The watermark proves the number was issued to our mini-program, not
    // replayed from another app's answer.
    let ours = info.watermark.is_some_and(|w| w.appid == app_id);
    if !ours || info.pure_phone_number.is_empty() {
        return Err(WechatError::BadResponse);
    }
    Ok(info.pure_phone_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcodes_map_to_errors() {
        assert_eq!(WechatError::from_errcode(40029), WechatError::InvalidCode);
        assert_eq!(WechatError::from_errcode(45011), WechatError::RateLimited);
        assert_eq!(WechatError::from_errcode(40226), WechatError::RiskyUser);
        assert_eq!(WechatError::from_errcode(-1), WechatError::Busy);
        assert_eq!(
            WechatError::from_errcode(40125),
            WechatError::Rejected { errcode: 40125 }
        );
        assert_eq!(check_errcode(None), Ok(()));
        assert_eq!(check_errcode(Some(0)), Ok(()));
    }

    #[test]
    fn errors_become_stable_problems() {
        let cases = [
            (WechatError::InvalidCode, 401, "wechat.invalid_code", None),
            (
                WechatError::RateLimited,
                429,
                "wechat.rate_limited",
                Some("60"),
            ),
            (WechatError::RiskyUser, 403, "wechat.risky_user", None),
            (WechatError::Busy, 503, "wechat.unavailable", Some("5")),
            (
                WechatError::Unavailable,
                503,
                "wechat.unavailable",
                Some("5"),
            ),
            (WechatError::Timeout, 504, "wechat.timeout", None),
            (WechatError::BadResponse, 502, "wechat.bad_gateway", None),
            (
                WechatError::Rejected { errcode: 40013 },
                502,
                "wechat.bad_gateway",
                None,
            ),
            (
                WechatError::NotConfigured,
                503,
                "wechat.not_configured",
                None,
            ),
        ];
        for (wechat, status, code, retry_after) in cases {
            let error = ApiError::from(wechat.clone());
            assert_eq!(error.status().as_u16(), status, "{wechat:?}");
            assert_eq!(error.code(), code, "{wechat:?}");
            let response = error.render(crate::i18n::Lang::En, "req");
            let header = response
                .headers()
                .get(RETRY_AFTER)
                .map(|v| v.to_str().unwrap());
            assert_eq!(header, retry_after, "{wechat:?}");
        }
    }

    #[test]
    fn the_errcode_is_not_in_the_problem_body() {
        let error = ApiError::from(WechatError::Rejected { errcode: 40125 });
        let body = serde_json::to_string(&error.problem(crate::i18n::Lang::En, "r")).unwrap();
        assert!(!body.contains("40125"), "{body}");
    }

    #[test]
    fn a_session_answer_gives_openid_and_unionid_but_not_the_session_key() {
        let session =
            parse_session(r#"{"openid":"o-1","session_key":"sk==","unionid":"u-1"}"#).unwrap();
        assert_eq!(
            session,
            WechatSession {
                openid: "o-1".into(),
                unionid: Some("u-1".into())
            }
        );
        assert!(!format!("{session:?}").contains("sk=="));

        let without_union = parse_session(r#"{"openid":"o-2","session_key":"sk"}"#).unwrap();
        assert_eq!(without_union.unionid, None);
        let zero = parse_session(r#"{"errcode":0,"openid":"o-3","unionid":""}"#).unwrap();
        assert_eq!(zero.unionid, None);
    }

    #[test]
    fn a_session_answer_with_an_errcode_or_without_openid_fails() {
        assert_eq!(
            parse_session(r#"{"errcode":40029,"errmsg":"invalid code, rid: 1"}"#),
            Err(WechatError::InvalidCode)
        );
        assert_eq!(
            parse_session(r#"{"errcode":40163,"errmsg":"code been used"}"#),
            Err(WechatError::Rejected { errcode: 40163 })
        );
        assert_eq!(
            parse_session(r#"{"session_key":"sk"}"#),
            Err(WechatError::BadResponse)
        );
        assert_eq!(
            parse_session(r#"{"openid":""}"#),
            Err(WechatError::BadResponse)
        );
        assert_eq!(
            parse_session("<html>502 Bad Gateway</html>"),
            Err(WechatError::Unavailable)
        );
    }

    #[test]
    fn a_token_answer_gives_token_and_lifetime() {
        assert_eq!(
            parse_token(r#"{"access_token":"AT","expires_in":7200}"#),
            Ok(("AT".to_owned(), Duration::from_secs(7200)))
        );
        assert_eq!(
            parse_token(r#"{"errcode":40125,"errmsg":"invalid appsecret"}"#),
            Err(WechatError::Rejected { errcode: 40125 })
        );
        assert_eq!(
            parse_token(r#"{"expires_in":7200}"#),
            Err(WechatError::BadResponse)
        );
    }

    const PHONE: &str = r#"{"errcode":0,"errmsg":"ok","phone_info":{
        "phoneNumber":"+86 13812345678","purePhoneNumber":"13812345678","countryCode":"86",
        "watermark":{"timestamp":1714036504,"appid":"wx_ours"}}}"#;

    #[test]
    fn a_phone_answer_gives_the_pure_number_for_our_app_only() {
        assert_eq!(parse_phone(PHONE, "wx_ours"), Ok("13812345678".to_owned()));
        assert_eq!(
            parse_phone(PHONE, "wx_other"),
            Err(WechatError::BadResponse)
        );
        assert_eq!(
            parse_phone(
                r#"{"errcode":0,"phone_info":{"purePhoneNumber":"13812345678"}}"#,
                "wx_ours"
            ),
            Err(WechatError::BadResponse)
        );
        assert_eq!(
            parse_phone(r#"{"errcode":0,"errmsg":"ok"}"#, "wx_ours"),
            Err(WechatError::BadResponse)
        );
        assert_eq!(
            parse_phone(r#"{"errcode":40029,"errmsg":"invalid code"}"#, "wx_ours"),
            Err(WechatError::InvalidCode)
        );
        assert_eq!(
            parse_phone(
                r#"{"errcode":40001,"errmsg":"invalid credential"}"#,
                "wx_ours"
            ),
            Err(WechatError::Rejected { errcode: 40001 })
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let config = WechatConfig {
            app_id: "wx_ours".into(),
            app_secret: "s3cr3t-value".into(),
            ..WechatConfig::default()
        };
        let config_text = format!("{config:?}");
        assert!(config_text.contains("wx_ours"), "{config_text}");
        assert!(config_text.contains("***"), "{config_text}");
        assert!(!config_text.contains("s3cr3t"), "{config_text}");
        let client_text = format!("{:?}", WechatClient::new(config));
        assert!(!client_text.contains("s3cr3t"), "{client_text}");
    }

    #[test]
    fn configured_needs_both_appid_and_secret() {
        let default = WechatConfig::default();
        assert!(!default.is_configured());
        assert_eq!(default.base_url, "https://api.weixin.qq.com");
        assert_eq!(default.timeout, Duration::from_secs(5));
        let id_only = WechatConfig {
            app_id: "wx".into(),
            ..WechatConfig::default()
        };
        assert!(!id_only.is_configured());
        let both = WechatConfig {
            app_secret: "s".into(),
            ..id_only
        };
        assert!(both.is_configured());
    }

    #[test]
    fn an_unconfigured_client_calls_nobody() {
        let client = WechatClient::new(WechatConfig {
            base_url: "http://127.0.0.1:9".into(),
            ..WechatConfig::default()
        });
        assert_eq!(
            client.code_to_session_blocking("code"),
            Err(WechatError::NotConfigured)
        );
        assert_eq!(
            client.phone_number_blocking("code"),
            Err(WechatError::NotConfigured)
        );
    }

    /// ureq 3 picks rustls unless told otherwise and panics on https when
    /// rustls is not compiled in; this build has native-tls only.
    #[test]
    fn https_uses_the_compiled_in_tls() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accept and hang up at once, so the TLS handshake fails quickly.
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1) {
                drop(stream);
            }
        });
        let client = WechatClient::new(WechatConfig {
            base_url: format!("https://127.0.0.1:{port}"),
            app_id: "wx".into(),
            app_secret: "s".into(),
            timeout: Duration::from_secs(5),
        });
        assert_eq!(
            client.code_to_session_blocking("code"),
            Err(WechatError::Unavailable)
        );
    }
}
