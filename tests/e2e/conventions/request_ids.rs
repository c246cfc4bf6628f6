//! `X-Request-Id` on every answer.

use super::*;

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
