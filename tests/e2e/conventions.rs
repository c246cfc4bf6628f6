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
use crate::support::{Reply, TestApp, house_body};

const OFFICES: &str = "/api/v1/offices";
const HOUSES: &str = "/api/v1/houses";
const CHINESE_DETAIL_404: &str = "资源不存在，或不在您的数据范围内";

// ---------------------------------------------------------------- helpers

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

/// The fingerprint the server stored for `key` (principal "").
async fn stored_fingerprint(app: &TestApp, key: &str) -> String {
    let key = key.to_owned();
    app.db
        .read(move |conn| {
            Ok::<_, StoreError>(
                keys::idempotency_keys
                    .filter(keys::principal.eq(""))
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

/// Claims `key` with `fingerprint` as an in-flight first request would.
async fn claim_key(app: &TestApp, key: &str, fingerprint: &str) -> Claim {
    let key_ref = KeyRef {
        principal: String::new(),
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

// ------------------------------------------------------- problem+json, i18n

// Errors are problem+json, in Chinese when no language is asked for.
db_test!(errors_are_problem_json_in_chinese_by_default, |app| {
    let reply = problem(
        app.get(&format!("{OFFICES}/999999")).await,
        404,
        "not_found",
    );
    assert_eq!(reply.body["title"], "未找到");
    assert_eq!(reply.body["detail"], CHINESE_DETAIL_404);
    assert_eq!(reply.header("content-language"), Some("zh-CN"));
    assert!(reply.body.get("errors").is_none(), "{}", reply.raw);
});

// `Accept-Language: en` switches title, detail and field messages to
// English; the code, type and status stay the same.
db_test!(errors_are_english_with_accept_language_en, |app| {
    let path = format!("{OFFICES}/999999");
    let zh = problem(app.get(&path).await, 404, "not_found");
    let en = problem(
        get_with(&app, &path, &[("Accept-Language", "en")]).await,
        404,
        "not_found",
    );
    assert_eq!(en.header("content-language"), Some("en"));
    assert_eq!(en.body["title"], "Not found");
    assert!(
        is_english(en.body["detail"].as_str().unwrap()),
        "{}",
        en.raw
    );
    assert_ne!(zh.body["detail"], en.body["detail"]);
    assert_ne!(zh.body["title"], en.body["title"]);
    assert_eq!(zh.body["type"], en.body["type"]);

    // Validation: field messages follow the language too.
    let body = json!({ "name": "   " });
    let zh = problem(
        app.post(OFFICES, body.clone()).await,
        422,
        "validation.failed",
    );
    let en = problem(
        app.call(
            Method::POST,
            OFFICES,
            Some(body),
            &[("Accept-Language", "en-US")],
        )
        .await,
        422,
        "validation.failed",
    );
    assert_eq!(zh.body["errors"][0]["field"], "name");
    assert_eq!(en.body["errors"][0]["field"], "name");
    assert_eq!(zh.body["errors"][0]["code"], en.body["errors"][0]["code"]);
    let zh_message = zh.body["errors"][0]["message"].as_str().unwrap();
    let en_message = en.body["errors"][0]["message"].as_str().unwrap();
    assert!(has_chinese(zh_message), "{}", zh.raw);
    assert!(is_english(en_message), "{}", en.raw);
    assert!(has_chinese(zh.body["detail"].as_str().unwrap()));
    assert!(is_english(en.body["detail"].as_str().unwrap()));
    assert_eq!(en.body["title"], "Unprocessable content");
});

// Chinese ranked first stays Chinese even when English is acceptable.
db_test!(chinese_preferred_over_english_stays_chinese, |app| {
    let path = format!("{OFFICES}/999999");
    for value in ["zh-CN,en;q=0.5", "en;q=0.2, zh;q=0.8", "de"] {
        let reply = problem(
            get_with(&app, &path, &[("Accept-Language", value)]).await,
            404,
            "not_found",
        );
        assert_eq!(reply.body["detail"], CHINESE_DETAIL_404, "{value}");
        assert_eq!(reply.header("content-language"), Some("zh-CN"), "{value}");
    }
    let reply = get_with(&app, &path, &[("Accept-Language", "fr, en;q=0.5")]).await;
    let reply = problem(reply, 404, "not_found");
    assert_eq!(reply.header("content-language"), Some("en"));
});

// Successful answers carry Content-Language too.
db_test!(content_language_on_success, |app| {
    let zh = app.get(OFFICES).await.expect(200);
    assert_eq!(zh.header("content-language"), Some("zh-CN"));
    assert_eq!(zh.header("content-type"), Some("application/json"));
    let en = get_with(&app, OFFICES, &[("Accept-Language", "en")])
        .await
        .expect(200);
    assert_eq!(en.header("content-language"), Some("en"));
});

// A body that is not JSON at all is 400 `request.malformed_json`.
db_test!(malformed_json_is_400, |app| {
    let reply = send_raw(
        &app,
        Method::POST,
        OFFICES,
        Some("application/json"),
        "{\"name\": ",
        &[],
    )
    .await;
    let reply = problem(reply, 400, "request.malformed_json");
    assert_eq!(reply.body["title"], "请求格式错误");
    assert!(all_offices(&app).await.is_empty());

    let en = send_raw(
        &app,
        Method::POST,
        OFFICES,
        Some("application/json"),
        "not json",
        &[("Accept-Language", "en")],
    )
    .await;
    let en = problem(en, 400, "request.malformed_json");
    assert_eq!(en.body["title"], "Bad request");
    assert!(is_english(en.body["detail"].as_str().unwrap()));
});

// Well-formed JSON of the wrong shape (a number for a string, an
// unknown field) is 422 `request.invalid_body`.
db_test!(wrong_json_type_is_422_invalid_body, |app| {
    problem(
        app.post(OFFICES, json!({ "name": 5 })).await,
        422,
        "request.invalid_body",
    );
    problem(
        app.post(OFFICES, json!({ "name": "甲", "colour": "red" }))
            .await,
        422,
        "request.invalid_body",
    );
    problem(
        app.post(OFFICES, json!([1, 2])).await,
        422,
        "request.invalid_body",
    );
    assert!(all_offices(&app).await.is_empty());
});

// A body that is not declared as JSON is 415, even when it would parse.
db_test!(non_json_content_type_is_415, |app| {
    let body = "{\"name\": \"甲管理处\"}";
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let reply = send_raw(&app, Method::POST, OFFICES, content_type, body, &[]).await;
        let reply = problem(reply, 415, "request.unsupported_media_type");
        assert_eq!(reply.body["title"], "不支持的内容类型", "{content_type:?}");
    }
    // `application/json; charset=utf-8` and `+json` types are JSON.
    send_raw(
        &app,
        Method::POST,
        OFFICES,
        Some("application/json; charset=utf-8"),
        body,
        &[],
    )
    .await
    .expect(201);
    assert_eq!(all_offices(&app).await.len(), 1);
});

// A path parameter of the wrong type is 400 `request.invalid_path`.
db_test!(invalid_path_parameter_is_400, |app| {
    for path in [
        format!("{HOUSES}/abc"),
        format!("{HOUSES}/1.5"),
        format!("{HOUSES}/99999999999999999999"),
        format!("{OFFICES}/abc"),
    ] {
        let reply = problem(app.get(&path).await, 400, "request.invalid_path");
        assert!(
            has_chinese(reply.body["detail"].as_str().unwrap()),
            "{path}"
        );
    }
});

// A query parameter of the wrong type is 400 `request.invalid_query`.
db_test!(invalid_query_parameter_is_400, |app| {
    for path in [
        format!("{OFFICES}?limit=abc"),
        format!("{OFFICES}?sort=colour"),
        format!("{OFFICES}?archived=maybe"),
        format!("{HOUSES}?unit_id=x"),
    ] {
        problem(app.get(&path).await, 400, "request.invalid_query");
    }
});

// A route that does not exist is 404 `route.not_found`.
db_test!(unknown_route_is_404_route_not_found, |app| {
    for path in [
        "/api/v1/nothing-here",
        "/api/v2/offices",
        "/api/v1/offices/1/nope",
    ] {
        let reply = problem(app.get(path).await, 404, "route.not_found");
        assert_eq!(reply.body["title"], "未找到", "{path}");
    }
    let reply = problem(
        app.post("/api/v1/nothing-here", json!({})).await,
        404,
        "route.not_found",
    );
    assert!(reply.header("allow").is_none());
});

// A known route with a method it does not serve is 405 with `Allow`.
db_test!(wrong_method_is_405_with_allow, |app| {
    let reply = app.call(Method::DELETE, OFFICES, None, &[]).await;
    let reply = problem(reply, 405, "method.not_allowed");
    let allow: BTreeSet<String> = reply
        .header("allow")
        .expect("Allow header")
        .split(',')
        .map(|m| m.trim().to_owned())
        .collect();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow:?}");
    assert!(
        !allow.contains("DELETE") && !allow.contains("PATCH"),
        "{allow:?}"
    );
    assert!(reply.body["detail"].as_str().unwrap().contains("DELETE"));

    let id = app.create_office("甲管理处").await;
    let reply = app
        .call(
            Method::PUT,
            &format!("{OFFICES}/{id}"),
            Some(json!({})),
            &[],
        )
        .await;
    let reply = problem(reply, 405, "method.not_allowed");
    let allow = reply.header("allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("PATCH"), "{allow}");
    assert!(!allow.contains("POST"), "{allow}");
});

// `OPTIONS` on a known route answers 204 with `Allow` and no body.
db_test!(options_on_known_route_is_204_with_allow, |app| {
    let reply = app
        .call(Method::OPTIONS, OFFICES, None, &[])
        .await
        .expect(204);
    let allow = reply.header("allow").expect("Allow header");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert!(reply.raw.is_empty(), "{}", reply.raw);
    assert!(reply.header("x-request-id").is_some());

    let reply = app
        .call(Method::OPTIONS, &format!("{OFFICES}/1/archive"), None, &[])
        .await
        .expect(204);
    let allow = reply.header("allow").expect("Allow header");
    assert!(allow.contains("POST") && !allow.contains("GET"), "{allow}");

    problem(
        app.call(Method::OPTIONS, "/api/v1/nothing-here", None, &[])
            .await,
        404,
        "route.not_found",
    );
});

/// The 413 check, on an app built with `body_limit: 64`.
async fn body_over_the_limit_is_413(app: TestApp) {
    // A small body still goes through.
    app.post(OFFICES, json!({ "name": "小" })).await.expect(201);
    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(100));
    let reply = send_raw(
        &app,
        Method::POST,
        OFFICES,
        Some("application/json"),
        &big,
        &[],
    )
    .await;
    let reply = problem(reply, 413, "request.too_large");
    assert_eq!(reply.body["title"], "请求体过大");
    let en = send_raw(
        &app,
        Method::POST,
        OFFICES,
        Some("application/json"),
        &big,
        &[("Accept-Language", "en")],
    )
    .await;
    let en = problem(en, 413, "request.too_large");
    assert_eq!(en.body["title"], "Payload too large");
    assert_eq!(all_offices(&app).await.len(), 1);
}

/// A body over `body_limit` is 413 `request.too_large` (SQLite).
#[actix_web::test]
async fn payload_too_large_is_413_sqlite() {
    body_over_the_limit_is_413(TestApp::sqlite_with(ApiConfig { body_limit: 64 }).await).await;
}

/// A body over `body_limit` is 413 `request.too_large` (PostgreSQL).
#[actix_web::test]
async fn payload_too_large_is_413_postgres() {
    if let Some(app) = TestApp::postgres_with(ApiConfig { body_limit: 64 }).await {
        body_over_the_limit_is_413(app).await;
    }
}

// A database failure is a 500 that names the request and nothing else:
// no SQL, no table, no driver message.
db_test!(
    internal_error_carries_request_id_and_nothing_internal,
    |app| {
        app.db
            .write(|conn| {
                diesel::sql_query("DROP TABLE houses").execute(conn)?;
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        let reply = get_with(&app, HOUSES, &[("X-Request-Id", "support-ticket-42")]).await;
        let reply = problem(reply, 500, "internal");
        assert_eq!(reply.body["request_id"], "support-ticket-42");
        assert_eq!(
            reply.body["detail"],
            "服务器内部错误，请凭请求编号联系管理员"
        );
        let lower = reply.raw.to_lowercase();
        for leak in [
            "houses", "table", "select", "relation", "database", "sql", "diesel",
        ] {
            assert!(
                !lower.contains(leak),
                "500 body leaks {leak:?}: {}",
                reply.raw
            );
        }
    }
);

// ------------------------------------------------------------ request ids

// Every answer — success, error, framework error, ops — has an id, and
// generated ids are unique UUIDs.
db_test!(every_response_has_a_request_id, |app| {
    let id = app.create_office("甲管理处").await;
    let replies = [
        app.get(OFFICES).await,
        app.get(&format!("{OFFICES}/{id}")).await,
        app.get(&format!("{OFFICES}/999999")).await,
        app.get(&format!("{HOUSES}/abc")).await,
        app.get("/nowhere").await,
        app.call(Method::DELETE, OFFICES, None, &[]).await,
        app.call(Method::OPTIONS, OFFICES, None, &[]).await,
        app.post(OFFICES, json!({ "name": 1 })).await,
        app.post(OFFICES, json!({ "name": "乙管理处" })).await,
        app.get("/healthz").await,
        app.get("/readyz").await,
        app.get("/metrics").await,
    ];
    let mut seen = BTreeSet::new();
    for reply in &replies {
        let id = reply
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-Id on {} {}", reply.status, reply.raw));
        assert!(is_uuid(id), "{id}");
        assert!(seen.insert(id.to_owned()), "request id {id} repeated");
    }
});

// A sane incoming id is echoed, in the header and in a problem body.
db_test!(sane_incoming_request_id_is_echoed, |app| {
    let long_but_fine = "a".repeat(64);
    for incoming in ["req-123_abc.XYZ", "0f1e2d3c", long_but_fine.as_str()] {
        let reply = get_with(&app, OFFICES, &[("X-Request-Id", incoming)])
            .await
            .expect(200);
        assert_eq!(reply.header("x-request-id"), Some(incoming));
        let reply = get_with(
            &app,
            &format!("{OFFICES}/999999"),
            &[("X-Request-Id", incoming)],
        )
        .await;
        let reply = problem(reply, 404, "not_found");
        assert_eq!(reply.body["request_id"], incoming);
    }
});

// An incoming id that is too long or has unsafe characters is replaced.
db_test!(insane_incoming_request_id_is_replaced, |app| {
    let too_long = "a".repeat(65);
    for incoming in [
        too_long.as_str(),
        "has spaces in it",
        "a/b",
        "<script>",
        "ünïcode",
        "",
    ] {
        let reply = get_with(&app, OFFICES, &[("X-Request-Id", incoming)])
            .await
            .expect(200);
        let id = reply.header("x-request-id").expect("X-Request-Id");
        assert_ne!(id, incoming);
        assert!(is_uuid(id), "{incoming:?} → {id}");
        let reply = get_with(
            &app,
            &format!("{OFFICES}/999999"),
            &[("X-Request-Id", incoming)],
        )
        .await;
        let reply = problem(reply, 404, "not_found");
        assert_ne!(reply.body["request_id"], incoming);
    }
});

// -------------------------------------------------------------- pagination

// Without `limit` a page has 20 rows; 200 is allowed; the answer shape
// is `{items, next_cursor}`.
db_test!(default_limit_is_20_and_max_is_200, |app| {
    let created = create_offices(&app, "office", 25).await;
    let reply = app.get(OFFICES).await.expect(200);
    assert_eq!(ids(&reply), created[..20]);
    assert!(reply.body["next_cursor"].is_string(), "{}", reply.raw);
    let object = reply.body.as_object().unwrap();
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["items", "next_cursor"],
        "{}",
        reply.raw
    );

    let reply = app.get(&format!("{OFFICES}?limit=200")).await.expect(200);
    assert_eq!(ids(&reply), created);
    assert!(reply.body["next_cursor"].is_null());
});

// `limit` outside 1–200 is 400 `pagination.invalid_limit`.
db_test!(limit_out_of_range_is_400, |app| {
    app.create_office("甲管理处").await;
    for limit in ["201", "0", "-1", "100000"] {
        let reply = app.get(&format!("{OFFICES}?limit={limit}")).await;
        let reply = problem(reply, 400, "pagination.invalid_limit");
        assert!(
            reply.body["detail"].as_str().unwrap().contains("200"),
            "{limit}"
        );
    }
    let reply = app.get(&format!("{HOUSES}?limit=201")).await;
    problem(reply, 400, "pagination.invalid_limit");
});

// Walking with `next_cursor` visits every row exactly once; the last page
// (even when full) has `next_cursor: null`.
db_test!(walking_pages_returns_every_row_once, |app| {
    let created = create_offices(&app, "office", 21).await;
    let (seen, sizes) = walk(&app, &format!("{OFFICES}?sort=id"), 7).await;
    assert_eq!(seen, created);
    assert_eq!(
        sizes,
        [7, 7, 7],
        "a full last page must not be followed by an empty one"
    );

    let (seen, sizes) = walk(&app, &format!("{OFFICES}?sort=id"), 5).await;
    assert_eq!(seen, created);
    assert_eq!(sizes, [5, 5, 5, 5, 1]);

    let (seen, _) = walk(&app, &format!("{OFFICES}?sort=-id"), 4).await;
    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(seen, reversed);

    let (seen, _) = walk(&app, &format!("{OFFICES}?sort=name"), 6).await;
    assert_eq!(seen, created, "names office00… sort like ids");
});

// Rows created while a client pages by `id` show up once, at the end;
// nothing is repeated or skipped.
db_test!(pages_by_id_stay_stable_while_rows_are_inserted, |app| {
    let original = create_offices(&app, "office", 12).await;
    let base = format!("{OFFICES}?sort=id");
    let mut seen = Vec::new();
    let mut inserted = Vec::new();
    let mut cursor = None;
    let mut round = 0;
    loop {
        let (items, next) = page(&app, &base, 5, cursor.as_deref()).await;
        seen.extend(items);
        if next.is_none() {
            break;
        }
        cursor = next;
        for _ in 0..2 {
            inserted.push(app.create_office(&format!("new{round:02}")).await);
            round += 1;
        }
    }
    let expected: Vec<i64> = original.iter().chain(&inserted).copied().collect();
    assert_eq!(seen, expected);
    assert!(inserted.iter().all(|id| id > original.last().unwrap()));
});

// Rows created while a client pages by `-id` never appear (they sort
// before the cursor), and every original row is seen once.
db_test!(
    pages_by_descending_id_stay_stable_while_rows_are_inserted,
    |app| {
        let original = create_offices(&app, "office", 12).await;
        let base = format!("{OFFICES}?sort=-id");
        let mut seen = Vec::new();
        let mut inserted = Vec::new();
        let mut cursor = None;
        let mut round = 0;
        loop {
            let (items, next) = page(&app, &base, 5, cursor.as_deref()).await;
            seen.extend(items);
            if next.is_none() {
                break;
            }
            cursor = next;
            for _ in 0..2 {
                inserted.push(app.create_office(&format!("new{round:02}")).await);
                round += 1;
            }
        }
        let mut expected = original.clone();
        expected.reverse();
        assert_eq!(seen, expected);
        assert!(!inserted.is_empty());
        assert!(seen.iter().all(|id| !inserted.contains(id)));
    }
);

// A cursor is bound to its sort: reusing it with another sort is 400.
db_test!(cursor_from_another_sort_is_422, |app| {
    create_offices(&app, "office", 5).await;
    let (_, by_id) = page(&app, &format!("{OFFICES}?sort=id"), 2, None).await;
    let by_id = by_id.expect("a next page");
    let (_, by_name) = page(&app, &format!("{OFFICES}?sort=name"), 2, None).await;
    let by_name = by_name.expect("a next page");
    for (sort, cursor) in [
        ("-id", &by_id),
        ("name", &by_id),
        ("id", &by_name),
        ("-name", &by_name),
    ] {
        let reply = app
            .get(&format!("{OFFICES}?sort={sort}&limit=2&cursor={cursor}"))
            .await;
        problem(reply, 422, "pagination.invalid_cursor");
    }
    // The same cursor with its own sort still works.
    let reply = app
        .get(&format!("{OFFICES}?sort=id&limit=2&cursor={by_id}"))
        .await
        .expect(200);
    assert_eq!(ids(&reply).len(), 2);
});

// A cursor the server did not make is 422 `pagination.invalid_cursor`: it is
// a well-formed string that means nothing here.
db_test!(garbage_cursor_is_422, |app| {
    create_offices(&app, "office", 3).await;
    // "eyJ4IjoxfQ" is base64 of {"x":1}: decodable, but not a cursor.
    for cursor in ["garbage", "!!!", "eyJ4IjoxfQ", "bm90IGpzb24"] {
        let reply = app.get(&format!("{OFFICES}?cursor={cursor}")).await;
        let reply = problem(reply, 422, "pagination.invalid_cursor");
        assert!(
            has_chinese(reply.body["detail"].as_str().unwrap()),
            "{cursor}"
        );
    }
    let reply = app.get(&format!("{HOUSES}?cursor=garbage")).await;
    problem(reply, 422, "pagination.invalid_cursor");
});

// A cursor in our format but with a value of the wrong type for its sort
// (hand-made, or from an older server) is 422, never a 500.
db_test!(forged_cursor_with_wrong_value_is_422, |app| {
    let chain = app.create_unit_chain("甲").await;
    app.create_house(chain.unit, "101", 1).await;
    for (path, cursor) in [
        // {"s":"name","v":5,"i":1}
        (
            format!("{OFFICES}?sort=name"),
            "eyJzIjoibmFtZSIsInYiOjUsImkiOjF9",
        ),
        // {"s":"floor","v":"abc","i":1}
        (
            format!("{HOUSES}?sort=floor"),
            "eyJzIjoiZmxvb3IiLCJ2IjoiYWJjIiwiaSI6MX0",
        ),
        // {"s":"floor","v":99999999999,"i":1}: beyond a floor's i32
        (
            format!("{HOUSES}?sort=floor"),
            "eyJzIjoiZmxvb3IiLCJ2Ijo5OTk5OTk5OTk5OSwiaSI6MX0",
        ),
        // {"s":"id","v":1}: no id
        (format!("{OFFICES}?sort=id"), "eyJzIjoiaWQiLCJ2IjoxfQ"),
    ] {
        let reply = app.get(&format!("{path}&cursor={cursor}")).await;
        problem(reply, 422, "pagination.invalid_cursor");
    }
});

// Equal names are ordered by id (ascending for `name`, descending for
// `-name`), and pages split inside a run of equal names lose nothing.
db_test!(sort_by_name_breaks_ties_by_id, |app| {
    // Names are unique among active offices only: archive to repeat one.
    let mut created: Vec<(String, i64)> = Vec::new();
    for name in ["bravo", "alpha", "bravo", "alpha", "bravo", "charlie"] {
        let id = app.create_office(name).await;
        created.push((name.to_owned(), id));
        if name != "charlie" {
            app.archive(&format!("{OFFICES}/{id}"), "\"1\"")
                .await
                .expect(200);
        }
    }
    // One more active "alpha" and "bravo" after the archived ones.
    for name in ["alpha", "bravo"] {
        let id = app.create_office(name).await;
        created.push((name.to_owned(), id));
    }
    let mut ascending = created.clone();
    ascending.sort();
    let ascending: Vec<i64> = ascending.into_iter().map(|(_, id)| id).collect();
    let mut descending = created.clone();
    descending.sort_by(|a, b| b.cmp(a));
    let descending: Vec<i64> = descending.into_iter().map(|(_, id)| id).collect();

    for limit in [1, 2, 3, 200] {
        let (seen, _) = walk(
            &app,
            &format!("{OFFICES}?archived=include&sort=name"),
            limit,
        )
        .await;
        assert_eq!(seen, ascending, "sort=name, limit={limit}");
        let (seen, _) = walk(
            &app,
            &format!("{OFFICES}?archived=include&sort=-name"),
            limit,
        )
        .await;
        assert_eq!(seen, descending, "sort=-name, limit={limit}");
    }
});

// Integer sort columns with ties (house floors) page by (floor, id) too.
db_test!(sort_by_floor_breaks_ties_by_id, |app| {
    let chain = app.create_unit_chain("甲").await;
    let mut created = Vec::new();
    for (n, floor) in [3, 1, 3, 2, 3, 1, -1].into_iter().enumerate() {
        let id = app
            .create_house(chain.unit, &format!("{n}0{n}"), floor)
            .await;
        created.push((floor, id));
    }
    let mut ascending = created.clone();
    ascending.sort();
    let ascending: Vec<i64> = ascending.into_iter().map(|(_, id)| id).collect();
    let mut descending = created.clone();
    descending.sort_by(|a, b| b.cmp(a));
    let descending: Vec<i64> = descending.into_iter().map(|(_, id)| id).collect();
    for limit in [1, 2, 4] {
        let (seen, _) = walk(&app, &format!("{HOUSES}?sort=floor"), limit).await;
        assert_eq!(seen, ascending, "sort=floor, limit={limit}");
        let (seen, _) = walk(&app, &format!("{HOUSES}?sort=-floor"), limit).await;
        assert_eq!(seen, descending, "sort=-floor, limit={limit}");
    }
});

// ------------------------------------------------------- versions and ETag

// A create answers 201 with `ETag: "1"`, `Location`, and version 1; a GET
// returns the same ETag.
db_test!(create_and_get_carry_the_version_as_etag, |app| {
    let reply = app
        .post(OFFICES, json!({ "name": "甲管理处" }))
        .await
        .expect(201);
    assert_eq!(reply.etag(), "\"1\"");
    assert_eq!(reply.body["version"], 1);
    let id = reply.id();
    assert_eq!(
        reply.header("location"),
        Some(format!("{OFFICES}/{id}").as_str())
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let got = app.get(&format!("{OFFICES}/{id}")).await.expect(200);
    assert_eq!(got.etag(), "\"1\"");
    assert_eq!(got.body, reply.body);

    let chain = app.create_unit_chain("乙").await;
    let reply = app
        .post(HOUSES, house_body(chain.unit, "101", 1))
        .await
        .expect(201);
    assert_eq!(reply.etag(), "\"1\"");
    let got = app
        .get(&format!("{HOUSES}/{}", reply.id()))
        .await
        .expect(200);
    assert_eq!(got.etag(), "\"1\"");
});

// PATCH without If-Match is 428 and changes nothing.
db_test!(patch_without_if_match_is_428, |app| {
    let id = app.create_office("甲管理处").await;
    let path = format!("{OFFICES}/{id}");
    let reply = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "name": "乙管理处" })),
            &[],
        )
        .await;
    let reply = problem(reply, 428, "precondition.required");
    assert_eq!(reply.body["title"], "缺少 If-Match");
    let got = app.get(&path).await.expect(200);
    assert_eq!(got.body["name"], "甲管理处");
    assert_eq!(got.body["version"], 1);
    assert_eq!(got.etag(), "\"1\"");
});

// A stale If-Match is 412 naming the current version, and changes nothing.
db_test!(stale_if_match_is_412, |app| {
    let id = app.create_office("甲管理处").await;
    let path = format!("{OFFICES}/{id}");
    app.patch(&path, "\"1\"", json!({ "phone": "010-1" }))
        .await
        .expect(200);
    let reply = app
        .patch(&path, "\"1\"", json!({ "name": "乙管理处" }))
        .await;
    let reply = problem(reply, 412, "precondition.failed");
    assert!(
        reply.body["detail"].as_str().unwrap().contains('2'),
        "{}",
        reply.raw
    );
    for tag in ["\"7\"", "\"abc\"", "1", "W/\"1\""] {
        problem(
            app.patch(&path, tag, json!({ "name": "乙管理处" })).await,
            412,
            "precondition.failed",
        );
    }
    let got = app.get(&path).await.expect(200);
    assert_eq!(got.body["name"], "甲管理处");
    assert_eq!(got.body["phone"], "010-1");
    assert_eq!(got.body["version"], 2);
});

// The current If-Match changes the record: 200, ETag "2", version 2.
db_test!(current_if_match_updates_and_bumps_the_version, |app| {
    let id = app.create_office("甲管理处").await;
    let path = format!("{OFFICES}/{id}");
    let reply = app
        .patch(
            &path,
            "\"1\"",
            json!({ "name": "乙管理处", "phone": "010-2" }),
        )
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"2\"");
    assert_eq!(reply.body["version"], 2);
    assert_eq!(reply.body["name"], "乙管理处");
    let got = app.get(&path).await.expect(200);
    assert_eq!(got.etag(), "\"2\"");
    assert_eq!(got.body, reply.body);
});

// `If-Match: *` matches whatever version is current; a list matches
// when it contains the current version.
db_test!(if_match_star_and_lists_match_the_current_version, |app| {
    let id = app.create_office("甲管理处").await;
    let path = format!("{OFFICES}/{id}");
    let reply = app
        .patch(&path, "*", json!({ "phone": "1" }))
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"2\"");
    let reply = app
        .patch(&path, "*", json!({ "phone": "2" }))
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"3\"");
    let reply = app
        .patch(&path, "\"1\", \"3\"", json!({ "phone": "3" }))
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"4\"");
    problem(
        app.patch(&path, "\"1\", \"2\"", json!({ "phone": "4" }))
            .await,
        412,
        "precondition.failed",
    );
    assert_eq!(app.get(&path).await.expect(200).body["phone"], "3");
});

// Concurrent changes from the same version: exactly one wins, the others
// get 412 — no lost update, no 500.
db_test!(concurrent_patches_from_one_version_have_one_winner, |app| {
    let id = app.create_office("甲管理处").await;
    let path = format!("{OFFICES}/{id}");
    let replies = futures_util::future::join_all((0..6).map(|n| {
        let path = path.clone();
        let app = &app;
        async move {
            app.patch(&path, "\"1\"", json!({ "phone": format!("phone-{n}") }))
                .await
        }
    }))
    .await;
    let mut winners = Vec::new();
    for reply in replies {
        if reply.status.as_u16() == 200 {
            winners.push(reply.body["phone"].clone());
        } else {
            problem(reply, 412, "precondition.failed");
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let got = app.get(&path).await.expect(200);
    assert_eq!(got.body["version"], 2);
    assert_eq!(got.body["phone"], winners[0]);
});

// A weak tag `W/"2"` (added by some proxies) counts as version 2.
db_test!(weak_if_match_is_accepted, |app| {
    let id = app.create_office("甲管理处").await;
    let path = format!("{OFFICES}/{id}");
    app.patch(&path, "\"1\"", json!({ "phone": "1" }))
        .await
        .expect(200);
    let reply = app
        .patch(&path, "W/\"2\"", json!({ "phone": "2" }))
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"3\"");
    assert_eq!(reply.body["phone"], "2");
});

// Archive needs If-Match like any change: 428 without, 412 stale.
db_test!(archive_without_if_match_is_428, |app| {
    let id = app.create_office("甲管理处").await;
    let path = format!("{OFFICES}/{id}");
    let reply = app
        .call(Method::POST, &format!("{path}/archive"), None, &[])
        .await;
    problem(reply, 428, "precondition.required");
    problem(
        app.archive(&path, "\"5\"").await,
        412,
        "precondition.failed",
    );
    let got = app.get(&path).await.expect(200);
    assert!(got.body["archived_at"].is_null(), "{}", got.raw);
    assert_eq!(got.body["version"], 1);
    let reply = app.archive(&path, "\"1\"").await.expect(200);
    assert_eq!(reply.etag(), "\"2\"");
    assert!(reply.body["archived_at"].is_string());
});

// ---------------------------------------------------------- idempotency

// A retry with the same key and body replays the first answer — status,
// body, Location, ETag — marked `Idempotency-Replayed: true`, and creates
// nothing; a differently formatted but equal body is the same request.
db_test!(retry_with_same_key_replays_the_first_response, |app| {
    let body = json!({ "name": "甲管理处", "phone": "010-1" });
    let first = create_office_with_key(&app, "key-1", body.clone())
        .await
        .expect(201);
    assert!(first.header("idempotency-replayed").is_none());
    let retry = create_office_with_key(&app, "key-1", body)
        .await
        .expect(201);
    assert_eq!(retry.header("idempotency-replayed"), Some("true"));
    assert_eq!(retry.raw, first.raw);
    assert_eq!(retry.id(), first.id());
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.etag(), first.etag());
    assert_eq!(retry.header("content-type"), Some("application/json"));
    assert_ne!(retry.header("x-request-id"), first.header("x-request-id"));

    let reformatted = send_raw(
        &app,
        Method::POST,
        OFFICES,
        Some("application/json"),
        "{ \"phone\" : \"010-1\", \"name\" : \"甲管理处\", \"code\": null }",
        &[("Idempotency-Key", "key-1")],
    )
    .await
    .expect(201);
    assert_eq!(reformatted.header("idempotency-replayed"), Some("true"));
    assert_eq!(reformatted.raw, first.raw);

    assert_eq!(all_offices(&app).await.len(), 1);
});

// Replays work for houses as well, and a later change does not alter
// what is replayed (the first response, not the current record).
db_test!(house_create_replays_the_first_response, |app| {
    let chain = app.create_unit_chain("甲").await;
    let body = house_body(chain.unit, "101", 1);
    let headers = [("Idempotency-Key", "house-1")];
    let first = app
        .call(Method::POST, HOUSES, Some(body.clone()), &headers)
        .await
        .expect(201);
    let path = format!("{HOUSES}/{}", first.id());
    app.patch(&path, "\"1\"", json!({ "state": "rented" }))
        .await
        .expect(200);
    let retry = app
        .call(Method::POST, HOUSES, Some(body), &headers)
        .await
        .expect(201);
    assert_eq!(retry.header("idempotency-replayed"), Some("true"));
    assert_eq!(retry.raw, first.raw);
    assert_eq!(retry.etag(), "\"1\"");
    let list = app
        .get(&format!("{HOUSES}?unit_id={}", chain.unit))
        .await
        .expect(200);
    assert_eq!(ids(&list), [first.id()]);
});

// The same key with a different body is 422 `idempotency.key_reused`.
db_test!(same_key_with_different_body_is_422, |app| {
    create_office_with_key(&app, "key-1", json!({ "name": "甲管理处" }))
        .await
        .expect(201);
    let reply = create_office_with_key(&app, "key-1", json!({ "name": "乙管理处" })).await;
    let reply = problem(reply, 422, "idempotency.key_reused");
    assert!(reply.header("idempotency-replayed").is_none());
    let names: Vec<Value> = all_offices(&app)
        .await
        .into_iter()
        .map(|o| o["name"].clone())
        .collect();
    assert_eq!(names, [json!("甲管理处")]);
});

// The same key on another path is 422 too, and creates nothing there.
db_test!(same_key_on_different_path_is_422, |app| {
    let office = create_office_with_key(&app, "shared-key", json!({ "name": "甲管理处" }))
        .await
        .expect(201)
        .id();
    let reply = app
        .call(
            Method::POST,
            "/api/v1/estates",
            Some(json!({ "office_id": office, "name": "甲小区" })),
            &[("Idempotency-Key", "shared-key")],
        )
        .await;
    problem(reply, 422, "idempotency.key_reused");
    let estates = app
        .get("/api/v1/estates?archived=include")
        .await
        .expect(200);
    assert_eq!(ids(&estates), Vec::<i64>::new());
});

// While the first request with a key is still running, a duplicate is
// 409 `idempotency.in_progress` and creates nothing. (The in-flight
// request is a claim made directly in storage, with the fingerprint the
// server stored for the very same request under another key.)
db_test!(concurrent_duplicate_is_409_in_progress, |app| {
    let body = json!({ "name": "甲管理处" });
    let first = create_office_with_key(&app, "done", body.clone())
        .await
        .expect(201);
    // Archive it so the same name may be created again later.
    app.archive(&format!("{OFFICES}/{}", first.id()), "\"1\"")
        .await
        .expect(200);
    let fingerprint = stored_fingerprint(&app, "done").await;
    assert_eq!(
        claim_key(&app, "in-flight", &fingerprint).await,
        Claim::Claimed
    );

    let reply = create_office_with_key(&app, "in-flight", body.clone()).await;
    let reply = problem(reply, 409, "idempotency.in_progress");
    assert_eq!(reply.body["title"], "状态冲突");
    assert_eq!(all_offices(&app).await.len(), 1);

    // A different body under the in-flight key is still a reused key.
    let reply = create_office_with_key(&app, "in-flight", json!({ "name": "乙管理处" })).await;
    problem(reply, 422, "idempotency.key_reused");

    // A claim whose holder died (lock expired) is taken over by a retry.
    shift_key_times(&app, "in-flight", Some(chrono::Duration::seconds(-1)), None).await;
    let taken = create_office_with_key(&app, "in-flight", body.clone())
        .await
        .expect(201);
    assert!(taken.header("idempotency-replayed").is_none());
    assert_ne!(taken.id(), first.id());
    let replay = create_office_with_key(&app, "in-flight", body)
        .await
        .expect(201);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.raw, taken.raw);
    assert_eq!(all_offices(&app).await.len(), 2);
});

// Truly concurrent duplicates with one key (a client retrying before the
// first answer arrived) create one record; every other answer is a replay
// or 409 `idempotency.in_progress` — never a 500.
db_test!(
    concurrent_duplicates_with_one_key_create_one_record,
    |app| {
        let body = json!({ "name": "甲管理处" });
        let replies = futures_util::future::join_all(
            (0..8).map(|_| create_office_with_key(&app, "race", body.clone())),
        )
        .await;
        let mut fresh = Vec::new();
        for reply in replies {
            match (reply.status.as_u16(), reply.header("idempotency-replayed")) {
                (201, None) => fresh.push(reply.id()),
                (201, Some("true")) => {}
                (409, _) => {
                    problem(reply, 409, "idempotency.in_progress");
                }
                (status, _) => panic!("unexpected {status}: {}", reply.raw),
            }
        }
        assert_eq!(fresh.len(), 1, "exactly one request creates: {fresh:?}");
        assert_eq!(all_offices(&app).await.len(), 1);
        let replay = create_office_with_key(&app, "race", body).await.expect(201);
        assert_eq!(replay.id(), fresh[0]);
    }
);

// A claim with another request's fingerprint makes the key a mismatch.
db_test!(claimed_key_with_other_fingerprint_is_422, |app| {
    assert_eq!(
        claim_key(&app, "foreign", "not-this-request").await,
        Claim::Claimed
    );
    let reply = create_office_with_key(&app, "foreign", json!({ "name": "甲管理处" })).await;
    problem(reply, 422, "idempotency.key_reused");
    assert!(all_offices(&app).await.is_empty());
});

// A create that fails releases its key, so a corrected retry with the
// same key succeeds.
db_test!(failed_create_releases_the_key, |app| {
    let office = app.create_office("甲管理处").await;
    let headers = [("Idempotency-Key", "estate-1")];
    let reply = app
        .call(
            Method::POST,
            "/api/v1/estates",
            Some(json!({ "office_id": 999_999, "name": "甲小区" })),
            &headers,
        )
        .await;
    let reply = problem(reply, 422, "validation.failed");
    assert_eq!(reply.body["errors"][0]["field"], "office_id");
    assert_eq!(stored_key_rows(&app, "estate-1").await, 0);
    // The failure is not replayed either: the same bad request fails anew.
    let reply = app
        .call(
            Method::POST,
            "/api/v1/estates",
            Some(json!({ "office_id": 999_999, "name": "甲小区" })),
            &headers,
        )
        .await;
    problem(reply, 422, "validation.failed");

    let created = app
        .call(
            Method::POST,
            "/api/v1/estates",
            Some(json!({ "office_id": office, "name": "甲小区" })),
            &headers,
        )
        .await
        .expect(201);
    assert!(created.header("idempotency-replayed").is_none());
    assert_eq!(created.body["office_id"], office);
    assert_eq!(stored_key_rows(&app, "estate-1").await, 1);
});

// Keys must be 1–255 printable ASCII characters; others are 400
// `idempotency.invalid_key` and create nothing.
db_test!(invalid_idempotency_key_is_400, |app| {
    let too_long = "k".repeat(256);
    for key in ["", too_long.as_str(), "键", "with space", "tab\there"] {
        let reply = create_office_with_key(&app, key, json!({ "name": "甲管理处" })).await;
        problem(reply, 400, "idempotency.invalid_key");
    }
    assert!(all_offices(&app).await.is_empty());
    let longest = "k".repeat(255);
    create_office_with_key(&app, &longest, json!({ "name": "甲管理处" }))
        .await
        .expect(201);
});

// Keys are kept 24 h; after that the same key and body create anew.
db_test!(idempotency_keys_expire_after_24_hours, |app| {
    let body = json!({ "name": "甲管理处" });
    let first = create_office_with_key(&app, "daily", body.clone())
        .await
        .expect(201);
    let key = "daily".to_owned();
    let (created_at, expires_at) = app
        .db
        .read(move |conn| {
            Ok::<_, StoreError>(
                keys::idempotency_keys
                    .filter(keys::idempotency_key.eq(&key))
                    .select((keys::created_at, keys::expires_at))
                    .first::<(chrono::NaiveDateTime, chrono::NaiveDateTime)>(conn)?,
            )
        })
        .await
        .unwrap();
    assert_eq!(expires_at - created_at, chrono::Duration::hours(24));

    // Still within the 24 h: replayed.
    let replay = create_office_with_key(&app, "daily", body.clone())
        .await
        .expect(201);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    // Archive the office so its name is free, then let the key expire.
    app.archive(&format!("{OFFICES}/{}", first.id()), "\"1\"")
        .await
        .expect(200);
    shift_key_times(&app, "daily", None, Some(chrono::Duration::seconds(-1))).await;
    let again = create_office_with_key(&app, "daily", body)
        .await
        .expect(201);
    assert!(again.header("idempotency-replayed").is_none());
    assert_ne!(again.id(), first.id());
    assert_eq!(all_offices(&app).await.len(), 2);
    assert_eq!(stored_key_rows(&app, "daily").await, 1);
});

// ----------------------------------------------------------- method override

// `POST` + `X-HTTP-Method-Override: PATCH` is a PATCH: If-Match honoured,
// version bumped, the same answer a PATCH gives.
db_test!(method_override_patch_behaves_like_patch, |app| {
    let id = app.create_office("甲管理处").await;
    let path = format!("{OFFICES}/{id}");
    problem(
        override_post(&app, id, "PATCH", None, json!({ "name": "乙管理处" })).await,
        428,
        "precondition.required",
    );
    problem(
        override_post(
            &app,
            id,
            "PATCH",
            Some("\"9\""),
            json!({ "name": "乙管理处" }),
        )
        .await,
        412,
        "precondition.failed",
    );
    assert_eq!(app.get(&path).await.expect(200).body["version"], 1);

    let reply = override_post(
        &app,
        id,
        "PATCH",
        Some("\"1\""),
        json!({ "name": "乙管理处" }),
    )
    .await
    .expect(200);
    assert_eq!(reply.etag(), "\"2\"");
    assert_eq!(reply.body["version"], 2);
    assert_eq!(reply.body["name"], "乙管理处");
    let got = app.get(&path).await.expect(200);
    assert_eq!(got.body, reply.body);

    // The same change through a real PATCH gives the same shape.
    let patched = app
        .patch(&path, "\"2\"", json!({ "phone": "1" }))
        .await
        .expect(200);
    assert_eq!(patched.etag(), "\"3\"");
    let overridden = override_post(&app, id, "PATCH", Some("\"3\""), json!({ "phone": "2" }))
        .await
        .expect(200);
    assert_eq!(overridden.etag(), "\"4\"");
    let keys_of = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys_of(&patched.body), keys_of(&overridden.body));

    // Validation goes through the PATCH handler too.
    let reply = override_post(&app, id, "PATCH", Some("\"4\""), json!({ "name": "" })).await;
    problem(reply, 422, "validation.failed");
});

// The override value is case-insensitive.
db_test!(method_override_is_case_insensitive, |app| {
    let id = app.create_office("甲管理处").await;
    let reply = override_post(&app, id, "patch", Some("\"1\""), json!({ "phone": "1" }))
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"2\"");
    let reply = override_post(&app, id, "Patch", Some("\"2\""), json!({ "phone": "2" }))
        .await
        .expect(200);
    assert_eq!(reply.body["phone"], "2");
});

// Only PATCH, PUT and DELETE may be asked for; anything else is 400
// `request.invalid_method_override` and changes nothing.
db_test!(method_override_to_other_methods_is_400, |app| {
    let id = app.create_office("甲管理处").await;
    for method in ["GET", "POST", "HEAD", "garbage", ""] {
        let reply = override_post(&app, id, method, Some("\"1\""), json!({ "phone": "1" })).await;
        let reply = problem(reply, 400, "request.invalid_method_override");
        assert!(
            reply.body["detail"].as_str().unwrap().contains("PATCH"),
            "{method}"
        );
    }
    let got = app.get(&format!("{OFFICES}/{id}")).await.expect(200);
    assert_eq!(got.body["version"], 1);
    assert!(got.body["phone"].is_null());
});

// The header only turns a POST into something else: on GET it is ignored.
db_test!(method_override_on_get_is_ignored, |app| {
    let id = app.create_office("甲管理处").await;
    let path = format!("{OFFICES}/{id}");
    for method in ["PATCH", "DELETE", "garbage"] {
        let reply = get_with(
            &app,
            &path,
            &[("X-HTTP-Method-Override", method), ("If-Match", "\"1\"")],
        )
        .await
        .expect(200);
        assert_eq!(reply.body["name"], "甲管理处");
        assert_eq!(reply.etag(), "\"1\"");
    }
});

// Overriding to a method the route does not serve is 405 with `Allow`.
db_test!(method_override_to_unserved_method_is_405, |app| {
    let id = app.create_office("甲管理处").await;
    let reply = override_post(&app, id, "DELETE", Some("\"1\""), json!({})).await;
    let reply = problem(reply, 405, "method.not_allowed");
    let allow = reply.header("allow").expect("Allow header");
    assert!(allow.contains("GET") && allow.contains("PATCH"), "{allow}");
    assert!(reply.body["detail"].as_str().unwrap().contains("DELETE"));
    let reply = app
        .call(
            Method::POST,
            OFFICES,
            Some(json!({ "name": "乙管理处" })),
            &[("X-HTTP-Method-Override", "PUT")],
        )
        .await;
    problem(reply, 405, "method.not_allowed");
    assert_eq!(all_offices(&app).await.len(), 1);
    assert!(app.get(&format!("{OFFICES}/{id}")).await.expect(200).body["archived_at"].is_null());
});

// -------------------------------------------------------------------- ids

// Ids are JSON integers from the database's sequence: consecutive,
// positive, far below 2^53.
db_test!(ids_are_sequential_integers_below_2_pow_53, |app| {
    const MAX_SAFE: i64 = (1 << 53) - 1;
    let mut office_ids = Vec::new();
    for n in 0..5 {
        let reply = app
            .post(OFFICES, json!({ "name": format!("office{n}") }))
            .await
            .expect(201);
        assert!(
            reply.body["id"].is_i64(),
            "id must be a JSON integer: {}",
            reply.raw
        );
        office_ids.push(reply.id());
    }
    for pair in office_ids.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "{office_ids:?}");
    }
    let chain = app.create_unit_chain("甲").await;
    let houses = [
        app.create_house(chain.unit, "101", 1).await,
        app.create_house(chain.unit, "102", 1).await,
    ];
    assert_eq!(houses[1], houses[0] + 1);
    let all = app
        .get(&format!("{HOUSES}?unit_id={}", chain.unit))
        .await
        .expect(200);
    for item in all.body["items"].as_array().unwrap() {
        for field in ["id", "office_id", "estate_id", "building_id", "unit_id"] {
            let value = item[field]
                .as_i64()
                .unwrap_or_else(|| panic!("{field}: {item}"));
            assert!((1..=MAX_SAFE).contains(&value), "{field} = {value}");
        }
    }
    for id in office_ids.iter().chain(&houses) {
        assert!((1..1_000_000).contains(id), "{id}");
    }
});

// ------------------------------------------------------------ ops endpoints

// Liveness: /healthz is 200 {"status":"ok"}.
db_test!(healthz_answers_ok, |app| {
    let reply = app.get("/healthz").await.expect(200);
    assert_eq!(reply.body, json!({ "status": "ok" }));
    assert_eq!(reply.header("content-type"), Some("application/json"));
});

// Readiness: /readyz is 200 while the database answers.
db_test!(readyz_answers_ok_on_a_working_database, |app| {
    let reply = app.get("/readyz").await.expect(200);
    assert_eq!(reply.body, json!({ "status": "ok" }));
    assert!(reply.header("x-request-id").is_some());
});

/// With the database unreachable, /readyz and API routes answer 503
/// problem+json with Retry-After — never 500 — and /healthz still 200.
#[actix_web::test]
async fn readyz_and_api_answer_503_when_the_database_is_down() {
    use actix_web::test;

    let db = wuye_persistence::Db::connect_lazily(&wuye_persistence::DbConfig {
        url: "postgres://postgres@127.0.0.1:1/nowhere".into(),
        pool_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .expect("lazy pool");
    let service = test::init_service(wuye_api::app(wuye_api::AppState::new(
        db,
        ApiConfig::default(),
    )))
    .await;
    let read = |response: actix_web::dev::ServiceResponse| async move {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body: Value =
            serde_json::from_slice(&test::read_body(response).await).unwrap_or(Value::Null);
        (status, headers, body)
    };

    let request = test::TestRequest::get().uri("/healthz").to_request();
    let (status, _, body) = read(test::call_service(&service, request).await).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "status": "ok" }));

    for (method, uri, payload) in [
        (Method::GET, "/readyz", None),
        (Method::GET, OFFICES, None),
        (Method::GET, "/api/v1/offices/1", None),
        (Method::POST, OFFICES, Some(json!({ "name": "甲管理处" }))),
    ] {
        let mut request = test::TestRequest::default().method(method.clone()).uri(uri);
        if let Some(payload) = payload {
            request = request.set_json(payload);
        }
        let (status, headers, body) =
            read(test::call_service(&service, request.to_request()).await).await;
        assert_eq!(status, 503, "{method} {uri}: {body}");
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("content-type"), Some("application/problem+json"));
        assert_eq!(body["code"], "service.unavailable", "{uri}");
        assert_eq!(body["type"], "urn:wuye:problem:service.unavailable");
        assert_eq!(body["status"], 503);
        assert_eq!(body["title"], "服务不可用");
        let retry_after = header("retry-after").expect("Retry-After");
        assert!(
            retry_after.parse::<u32>().is_ok_and(|s| s > 0),
            "{retry_after}"
        );
        assert_eq!(body["request_id"].as_str(), header("x-request-id"));
        let text = body.to_string().to_lowercase();
        assert!(
            !text.contains("127.0.0.1") && !text.contains("connection"),
            "{text}"
        );
    }
}

// /metrics is Prometheus text counting requests by route pattern, never
// by concrete path.
db_test!(metrics_count_requests_by_route_pattern, |app| {
    let id = app.create_office("甲管理处").await;
    app.get(&format!("{OFFICES}/{id}")).await.expect(200);
    app.get(&format!("{OFFICES}/{id}")).await.expect(200);
    app.get(&format!("{OFFICES}/999999")).await.expect(404);
    app.get("/api/v1/no-such-thing-7f3a").await.expect(404);
    let reply = app.get("/metrics").await.expect(200);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        reply.header("content-type")
    );
    let text = &reply.raw;
    assert!(
        text.contains("# TYPE wuye_http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains(
            "wuye_http_requests_total{method=\"GET\",route=\"/api/v1/offices/{id}\",status=\"200\"} 2"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "wuye_http_requests_total{method=\"GET\",route=\"/api/v1/offices/{id}\",status=\"404\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "wuye_http_requests_total{method=\"POST\",route=\"/api/v1/offices\",status=\"201\"} 1"
        ),
        "{text}"
    );
    assert!(!text.contains(&format!("/api/v1/offices/{id}\"")), "{text}");
    assert!(!text.contains("/api/v1/offices/999999"), "{text}");
    // Unknown paths share one label, so clients cannot grow the series.
    assert!(!text.contains("no-such-thing-7f3a"), "{text}");
    assert!(
        text.contains(
            "wuye_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("wuye_http_request_duration_seconds_bucket"),
        "{text}"
    );
});

// HEAD is answered like GET (RFC 9110), so load-balancer probes and clients
// checking an ETag work; `Allow` lists it wherever GET is served.
db_test!(head_is_answered_like_get, |app| {
    let id = app.create_office("头请求管理处").await;
    let health = app
        .call(Method::HEAD, "/healthz", None, &[])
        .await
        .expect(200);
    assert!(health.header("x-request-id").is_some());
    let office = app
        .call(Method::HEAD, &format!("/api/v1/offices/{id}"), None, &[])
        .await
        .expect(200);
    assert_eq!(office.etag(), "\"1\"");
    let missing = app
        .call(Method::HEAD, "/api/v1/offices/999999", None, &[])
        .await;
    assert_eq!(missing.status.as_u16(), 404);
    let options = app
        .call(Method::OPTIONS, "/api/v1/offices", None, &[])
        .await
        .expect(204);
    let allow = options.header("allow").unwrap_or_default().to_owned();
    assert!(allow.contains("HEAD") && allow.contains("GET"), "{allow}");
});

// A text filter with a control character (a NUL byte PostgreSQL would refuse
// as text) is 400, never a 500.
db_test!(search_text_with_control_characters_is_400, |app| {
    app.create_office("控制字符管理处").await;
    for q in ["a%00b", "%1B", "x%7F"] {
        let reply = app.get(&format!("{OFFICES}?q={q}")).await;
        problem(reply, 400, "request.invalid_query");
        let reply = app.get(&format!("{HOUSES}?q={q}")).await;
        problem(reply, 400, "request.invalid_query");
    }
    let reply = app
        .get(&format!("{OFFICES}?q=%E6%8E%A7%E5%88%B6"))
        .await
        .expect(200);
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 1);
});

// A body must be a JSON object: serde would read a struct from an array of
// its fields, which no client means.
db_test!(array_bodies_are_422, |app| {
    let chain = app.create_unit_chain("数组").await;
    let reply = app
        .post(HOUSES, json!([chain.unit, "102", 1, 80, 70, "residential"]))
        .await;
    problem(reply, 422, "request.invalid_body");
    let reply = app.post(OFFICES, json!(["名称"])).await;
    problem(reply, 422, "request.invalid_body");
    let etag = app.get(&format!("{OFFICES}/{}", chain.office)).await.etag();
    let reply = app
        .patch(&format!("{OFFICES}/{}", chain.office), &etag, json!([]))
        .await;
    problem(reply, 422, "request.invalid_body");
});

// Integer query parameters accept integral floats (`3.0`), as JSON Schema
// integers do; a fraction is still 400.
db_test!(integer_query_parameters_accept_integral_floats, |app| {
    let chain = app.create_unit_chain("浮点").await;
    app.create_house(chain.unit, "101", 1).await;
    app.create_house(chain.unit, "102", 1).await;
    let reply = app
        .get(&format!("{HOUSES}?unit_id={}.0&limit=1.0", chain.unit))
        .await
        .expect(200);
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 1);
    assert!(reply.body["next_cursor"].is_string());
    let reply = app.get(&format!("{HOUSES}?unit_id={}.5", chain.unit)).await;
    problem(reply, 400, "request.invalid_query");
});
