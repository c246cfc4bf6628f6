//! Versions, `ETag` and `If-Match`.

use super::*;

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
