//! Identity and access end to end: who may call what (the matrix, built
//! from the contract), attacks on tokens, sessions and sign-in, data-scope
//! isolation between management offices, and the audit log.

mod audit;
mod isolation;
mod matrix;
mod sessions;
mod tokens;

use actix_web::http::Method;
use serde_json::json;

use crate::support::{As, Reply, TestApp, shared_wechat};

/// The password of every account [`TestApp::staff_token`] arranges.
pub const STAFF_PASSWORD: &str = "staff password 1";

/// Asserts a 401 that asks for a credential again: problem+json with
/// `code` and a `WWW-Authenticate: Bearer` challenge (RFC 9110 §11.6.1).
#[track_caller]
pub fn expect_unauthorized(reply: Reply, code: &str) -> Reply {
    let reply = reply.expect_problem(401, code);
    assert!(
        reply
            .header("www-authenticate")
            .is_some_and(|challenge| challenge.starts_with("Bearer")),
        "401 without a Bearer challenge: {:?}",
        reply.headers
    );
    reply
}

/// A sign-in's tokens.
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

/// Signs in through the API and returns both tokens.
pub async fn sign_in(app: &TestApp, username: &str, password: &str) -> Tokens {
    let reply = app
        .call_as(
            As::Nobody,
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({ "username": username, "password": password })),
            &[],
        )
        .await
        .expect(200);
    tokens_of(&reply)
}

/// The tokens of a sign-in or refresh answer.
pub fn tokens_of(reply: &Reply) -> Tokens {
    Tokens {
        access: reply.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
        refresh: reply.body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned(),
    }
}

/// Exchanges a refresh token.
pub async fn refresh(app: &TestApp, refresh_token: &str) -> Reply {
    app.call_as(
        As::Nobody,
        Method::POST,
        "/api/v1/auth/refresh",
        Some(json!({ "refresh_token": refresh_token })),
        &[],
    )
    .await
}

/// A resident signed in through the stand-in WeChat; returns the access
/// token.
pub async fn resident_token(app: &TestApp, openid: &str) -> String {
    let code = shared_wechat().login_code(openid, None);
    let reply = app
        .call_as(
            As::Nobody,
            Method::POST,
            "/api/v1/auth/wechat",
            Some(json!({ "code": code })),
            &[],
        )
        .await
        .expect(200);
    tokens_of(&reply).access
}

/// The username behind a staff token (from `/auth/me`).
pub async fn username_of(app: &TestApp, token: &str) -> String {
    app.call_as(As::Token(token), Method::GET, "/api/v1/auth/me", None, &[])
        .await
        .expect(200)
        .body["username"]
        .as_str()
        .expect("username")
        .to_owned()
}
