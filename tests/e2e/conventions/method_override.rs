//! Method override for clients without `PATCH`, and `HEAD`.

use super::*;

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
