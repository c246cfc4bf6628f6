//! The API conventions every module shares (architecture.md, "API conventions"):
//! problem+json errors in two languages, request ids, cursor pages, versions
//! and `If-Match`, `Idempotency-Key`, method override, ids, and the
//! operational endpoints — exercised on offices and houses through the real app.

use std::collections::BTreeSet;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::{Value, json};
use wuye_api::ApiConfig;
use wuye_persistence::StoreError;
use wuye_persistence::idempotency::{self, Claim, KeyRef};
use wuye_persistence::schema::idempotency_keys::dsl as keys;

use crate::db_test;
use crate::support::{As, Reply, TestApp, house_body};
use wuye_domain::access::{AssignmentScope, Permission};

mod errors;
mod idempotency_keys;
mod ids;
mod method_override;
mod ops;
mod pagination;
mod request_ids;
mod versions;

const OFFICES: &str = "/api/v1/offices";
const HOUSES: &str = "/api/v1/houses";
const CHINESE_DETAIL_404: &str = "资源不存在，或不在您的数据范围内";

/// Asserts a complete problem+json answer: the harness checks (status,
/// code, content type, request id) plus `type` and non-empty texts.
#[track_caller]
fn problem(reply: Reply, status: u16, code: &str) -> Reply {
    let reply = reply.expect_problem(status, code);
    assert_eq!(
        reply.body["type"],
        format!("urn:wuye:problem:{code}"),
        "{}",
        reply.raw
    );
    for field in ["title", "detail", "request_id"] {
        assert!(
            reply.body[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field} must be a non-empty string: {}",
            reply.raw
        );
    }
    reply
}

/// Whether `text` contains Chinese characters.
fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Whether `text` reads as English: ASCII letters, no Chinese.
fn is_english(text: &str) -> bool {
    !has_chinese(text) && text.chars().any(|c| c.is_ascii_alphabetic())
}

/// The shape of a generated request id (a UUID v4 in text form).
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Sends `body` as is, with `content_type` if given, plus `headers`.
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {}", app.admin_token)))
        .set_payload(body.to_owned());
    if let Some(content_type) = content_type {
        request = request.insert_header(("content-type", content_type));
    }
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    app.send(request).await
}

/// `GET path` with extra headers.
async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    app.call(Method::GET, path, None, headers).await
}

/// `POST /api/v1/offices` with an `Idempotency-Key`.
async fn create_office_with_key(app: &TestApp, key: &str, body: Value) -> Reply {
    app.call(
        Method::POST,
        OFFICES,
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

/// `POST /api/v1/offices/{id}` with `X-HTTP-Method-Override` and, if
/// given, `If-Match`.
async fn override_post(
    app: &TestApp,
    id: i64,
    method: &str,
    if_match: Option<&str>,
    body: Value,
) -> Reply {
    let mut headers = vec![("X-HTTP-Method-Override", method)];
    if let Some(tag) = if_match {
        headers.push(("If-Match", tag));
    }
    app.call(
        Method::POST,
        &format!("{OFFICES}/{id}"),
        Some(body),
        &headers,
    )
    .await
}

/// Every office, archived or not, in id order.
async fn all_offices(app: &TestApp) -> Vec<Value> {
    let reply = app
        .get(&format!("{OFFICES}?archived=include&limit=200"))
        .await
        .expect(200);
    assert!(reply.body["next_cursor"].is_null(), "{}", reply.raw);
    reply.body["items"].as_array().cloned().unwrap_or_default()
}

/// The ids of a list reply's items.
fn ids(reply: &Reply) -> Vec<i64> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.raw))
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// One page of `base` (which already has a `?`): `(ids, next_cursor)`.
async fn page(
    app: &TestApp,
    base: &str,
    limit: i64,
    cursor: Option<&str>,
) -> (Vec<i64>, Option<String>) {
    let mut path = format!("{base}&limit={limit}");
    if let Some(cursor) = cursor {
        path.push_str(&format!("&cursor={cursor}"));
    }
    let reply = app.get(&path).await.expect(200);
    let next = match &reply.body["next_cursor"] {
        Value::Null => None,
        Value::String(cursor) => Some(cursor.clone()),
        other => panic!("next_cursor must be a string or null, got {other}"),
    };
    (ids(&reply), next)
}

/// Walks every page of `base`; returns all ids in order and the page sizes.
async fn walk(app: &TestApp, base: &str, limit: i64) -> (Vec<i64>, Vec<usize>) {
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (items, next) = page(app, base, limit, cursor.as_deref()).await;
        sizes.push(items.len());
        all.extend(items);
        match next {
            Some(next) => cursor = Some(next),
            None => return (all, sizes),
        }
        assert!(sizes.len() <= 1000, "pagination does not end");
    }
}

/// Creates `count` offices named `{prefix}{nn}`; returns their ids.
async fn create_offices(app: &TestApp, prefix: &str, count: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        ids.push(app.create_office(&format!("{prefix}{n:02}")).await);
    }
    ids
}

/// The fingerprint the server stored for the administrator's `key`.
async fn stored_fingerprint(app: &TestApp, key: &str) -> String {
    let key = key.to_owned();
    app.db
        .read(move |conn| {
            Ok::<_, StoreError>(
                keys::idempotency_keys
                    .filter(keys::principal.eq(ADMIN_PRINCIPAL))
                    .filter(keys::idempotency_key.eq(&key))
                    .select(keys::fingerprint)
                    .first::<String>(conn)?,
            )
        })
        .await
        .expect("stored idempotency key")
}

/// How many rows the server keeps for `key`.
async fn stored_key_rows(app: &TestApp, key: &str) -> i64 {
    let key = key.to_owned();
    app.db
        .read(move |conn| {
            Ok::<_, StoreError>(
                keys::idempotency_keys
                    .filter(keys::idempotency_key.eq(&key))
                    .count()
                    .get_result::<i64>(conn)?,
            )
        })
        .await
        .expect("count idempotency keys")
}

/// Idempotency keys belong to their sender: the test app's administrator is
/// the first account of its database.
const ADMIN_PRINCIPAL: &str = "staff:1";

/// Claims `key` with `fingerprint` as an in-flight first request would.
async fn claim_key(app: &TestApp, key: &str, fingerprint: &str) -> Claim {
    let key_ref = KeyRef {
        principal: ADMIN_PRINCIPAL.to_owned(),
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
    };
    app.db
        .write(move |conn| idempotency::claim(conn, &key_ref))
        .await
        .expect("claim idempotency key")
}

/// Moves `key`'s lock and expiry to `offset` from now (negative = past).
async fn shift_key_times(
    app: &TestApp,
    key: &str,
    lock: Option<chrono::Duration>,
    expiry: Option<chrono::Duration>,
) {
    let key = key.to_owned();
    app.db
        .write(move |conn| {
            let now = wuye_persistence::clock::now();
            let row = || keys::idempotency_keys.filter(keys::idempotency_key.eq(&key));
            if let Some(lock) = lock {
                diesel::update(row())
                    .set(keys::locked_until.eq(now + lock))
                    .execute(conn)?;
            }
            if let Some(expiry) = expiry {
                diesel::update(row())
                    .set(keys::expires_at.eq(now + expiry))
                    .execute(conn)?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .expect("update idempotency key");
}
