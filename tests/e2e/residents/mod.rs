//! Residents of the WeChat mini-program, through the HTTP API: signing in
//! with a `wx.login` code against the stand-in WeChat, filing house-binding
//! requests with a phone-number code, staff review, and what each side may
//! see.

use std::time::Duration;

use actix_web::http::Method;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::{Value, json};
use wuye_api::ApiConfig;
use wuye_api::wechat::WechatConfig;
use wuye_domain::access::{AssignmentScope, Permission};
use wuye_persistence::StoreError;
use wuye_persistence::schema::{audit_events, residents};

#[allow(unused_imports)]
use crate::db_test;
use crate::support::{As, Reply, TestApp, shared_wechat};
use crate::wechat_stub::WechatStub;

mod bindings;
mod wechat_login;

const WECHAT_LOGIN: &str = "/api/v1/auth/wechat";
const ME: &str = "/api/v1/auth/me";
const MY_REQUESTS: &str = "/api/v1/me/binding-requests";
const MY_HOUSES: &str = "/api/v1/me/houses";
const REQUESTS: &str = "/api/v1/binding-requests";

/// The record at `id` of a collection.
fn at(collection: &str, id: i64) -> String {
    format!("{collection}/{id}")
}

/// The `items` of a list answer.
#[track_caller]
fn items(reply: &Reply) -> &Vec<Value> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.raw))
}

/// The ids of a list answer's items.
fn ids(reply: &Reply, field: &str) -> Vec<i64> {
    items(reply)
        .iter()
        .map(|item| item[field].as_i64().expect("an id"))
        .collect()
}

/// What the mini-program does: `wx.login` (here: a code the stand-in
/// registers for `openid`), then `POST /api/v1/auth/wechat`.
async fn wechat_sign_in(app: &TestApp, openid: &str, unionid: Option<&str>) -> Reply {
    let code = shared_wechat().login_code(openid, unionid);
    app.call_as(
        As::Nobody,
        Method::POST,
        WECHAT_LOGIN,
        Some(json!({ "code": code })),
        &[],
    )
    .await
}

/// A signed-in resident's access token.
async fn resident(app: &TestApp, openid: &str) -> String {
    wechat_sign_in(app, openid, None).await.expect(200).body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// A new office with one active house; returns (office, house).
async fn house_in(app: &TestApp, prefix: &str) -> (i64, i64) {
    let chain = app.create_unit_chain(prefix).await;
    let house = app.create_house(chain.unit, "1502", 15).await;
    (chain.office, house)
}

/// A staff member who reviews the requests of `office` and may reveal
/// their phones.
async fn reviewer(app: &TestApp, office: i64) -> String {
    app.staff_token(
        &[
            Permission::ResidentsRead,
            Permission::ResidentsWrite,
            Permission::PersonalDataReveal,
        ],
        AssignmentScope::Offices([office].into()),
    )
    .await
}

/// The request body a resident sends, with a fresh phone code for `phone`.
fn request_body(house: i64, relation: &str, phone: &str) -> Value {
    json!({
        "house_id": house,
        "relation": relation,
        "name": "李雷",
        "phone_code": shared_wechat().phone_code(phone),
    })
}

/// Files a request as the resident holding `token`.
async fn file(app: &TestApp, token: &str, body: Value) -> Reply {
    app.call_as(As::Token(token), Method::POST, MY_REQUESTS, Some(body), &[])
        .await
}

/// `GET path` as `token`.
async fn get_as(app: &TestApp, token: &str, path: &str) -> Reply {
    app.call_as(As::Token(token), Method::GET, path, None, &[])
        .await
}

/// Reviews request `id` (`approve` or `reject`) as `token`, reading its
/// ETag first.
async fn review(app: &TestApp, token: &str, id: i64, verdict: &str, body: Option<Value>) -> Reply {
    let etag = get_as(app, token, &at(REQUESTS, id))
        .await
        .expect(200)
        .etag();
    app.call_as(
        As::Token(token),
        Method::POST,
        &format!("{}/{verdict}", at(REQUESTS, id)),
        body,
        &[("If-Match", &etag)],
    )
    .await
}

/// The audit events with `action` on `resource_type`: (actor kind, actor
/// id, resource id, changes).
async fn audited(
    app: &TestApp,
    resource_type: &str,
    action: &str,
) -> Vec<(String, Option<i64>, Option<i64>, String)> {
    let (resource_type, action) = (resource_type.to_owned(), action.to_owned());
    app.db
        .read(move |conn| {
            Ok::<_, StoreError>(
                audit_events::table
                    .filter(audit_events::resource_type.eq(&resource_type))
                    .filter(audit_events::action.eq(&action))
                    .order(audit_events::id)
                    .select((
                        audit_events::actor_kind,
                        audit_events::actor_id,
                        audit_events::resource_id,
                        audit_events::changes,
                    ))
                    .load(conn)?,
            )
        })
        .await
        .expect("read the audit log")
}

/// The stored (openid, unionid) of every resident, by id.
async fn stored_residents(app: &TestApp) -> Vec<(i64, String, Option<String>)> {
    app.db
        .read(|conn| {
            Ok::<_, StoreError>(
                residents::table
                    .order(residents::id)
                    .select((residents::id, residents::openid, residents::unionid))
                    .load(conn)?,
            )
        })
        .await
        .expect("read residents")
}

/// An app of its own on `app`'s backend, talking to `stub` with `timeout`:
/// for tests that make WeChat fail, which must not disturb the stand-in
/// other tests share.
async fn app_with_stub(app: &TestApp, stub: &WechatStub, timeout: Option<Duration>) -> TestApp {
    app_with_wechat(
        app,
        WechatConfig {
            timeout: timeout.unwrap_or(wuye_api::wechat::DEFAULT_TIMEOUT),
            ..stub.config()
        },
    )
    .await
}

/// An app of its own on `app`'s backend with this WeChat configuration.
async fn app_with_wechat(app: &TestApp, wechat: WechatConfig) -> TestApp {
    TestApp::with_config(
        app.backend,
        ApiConfig {
            wechat,
            ..ApiConfig::default()
        },
    )
    .await
    .expect("the backend is configured, since this test runs on it")
}
