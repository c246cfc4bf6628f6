//! `Idempotency-Key` on creates.

use super::*;

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

// Keys belong to their sender: another caller using the same key and body
// gets a create of their own, never the first caller's stored answer.
db_test!(keys_of_different_callers_never_meet, |app| {
    let body = json!({ "name": "甲管理处" });
    let first = create_office_with_key(&app, "shared-key", body.clone())
        .await
        .expect(201);
    app.archive(&format!("{OFFICES}/{}", first.id()), "\"1\"")
        .await
        .expect(200);
    let other = app
        .staff_token(
            &[Permission::OrgRead, Permission::OrgWrite],
            AssignmentScope::Company,
        )
        .await;
    let second = app
        .call_as(
            As::Token(&other),
            Method::POST,
            OFFICES,
            Some(body),
            &[("Idempotency-Key", "shared-key")],
        )
        .await
        .expect(201);
    assert!(second.header("idempotency-replayed").is_none());
    assert_ne!(second.id(), first.id());
});
