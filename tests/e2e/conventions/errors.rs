//! Errors as problem+json in both languages, and actix's own errors in the same shape.

use super::*;

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
    body_over_the_limit_is_413(
        TestApp::sqlite_with(ApiConfig {
            body_limit: 64,
            ..ApiConfig::default()
        })
        .await,
    )
    .await;
}

/// A body over `body_limit` is 413 `request.too_large` (PostgreSQL).
#[actix_web::test]
async fn payload_too_large_is_413_postgres() {
    if let Some(app) = TestApp::postgres_with(ApiConfig {
        body_limit: 64,
        ..ApiConfig::default()
    })
    .await
    {
        body_over_the_limit_is_413(app).await;
    }
}

// A database failure is a 500 that names the request and nothing else:
// no SQL, no table, no driver message.
db_test!(
    internal_error_carries_request_id_and_nothing_internal,
    |app| {
        // PostgreSQL refuses to drop a table others reference unless told to.
        let drop = match app.backend {
            crate::support::Backend::Sqlite => "DROP TABLE houses",
            crate::support::Backend::Postgres => "DROP TABLE houses CASCADE",
        };
        app.db
            .write(move |conn| {
                diesel::sql_query(drop).execute(conn)?;
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
