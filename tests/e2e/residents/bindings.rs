//! Binding requests: who may see and review which, the review state
//! machine, and the audited reveal of a phone.

use super::*;

// A resident sees their own requests and houses only: another resident's
// request is a 404 and another household's house never appears.
db_test!(residents_see_only_their_own_requests_and_houses, |app| {
    let (office, house) = house_in(&app, "阳光").await;
    let alice = resident(&app, "o-alice").await;
    let bob = resident(&app, "o-bob").await;
    let alices = file(&app, &alice, request_body(house, "owner", "13812345678"))
        .await
        .expect(201)
        .id();
    let staff = reviewer(&app, office).await;
    review(&app, &staff, alices, "approve", None)
        .await
        .expect(200);

    get_as(&app, &bob, &at(MY_REQUESTS, alices))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        get_as(&app, &bob, MY_REQUESTS).await.expect(200).body["items"],
        json!([])
    );
    assert_eq!(
        get_as(&app, &bob, MY_HOUSES).await.expect(200).body["items"],
        json!([])
    );

    // Bob asks for the same house as a tenant: his own request, pending,
    // and still none of Alice's.
    let bobs = file(&app, &bob, request_body(house, "tenant", "13900001111"))
        .await
        .expect(201)
        .id();
    assert_eq!(
        ids(&get_as(&app, &bob, MY_REQUESTS).await.expect(200), "id"),
        [bobs]
    );
    assert_eq!(
        ids(&get_as(&app, &alice, MY_REQUESTS).await.expect(200), "id"),
        [alices]
    );
    assert_eq!(
        ids(
            &get_as(&app, &alice, MY_HOUSES).await.expect(200),
            "house_id"
        ),
        [house]
    );
    assert_eq!(
        get_as(&app, &bob, MY_HOUSES).await.expect(200).body["items"],
        json!([])
    );
});

// Resident tokens carry no staff permission, and staff tokens are not
// residents.
db_test!(residents_and_staff_keep_to_their_own_routes, |app| {
    let (office, house) = house_in(&app, "阳光").await;
    let token = resident(&app, "o-lilei").await;
    let id = file(&app, &token, request_body(house, "owner", "13812345678"))
        .await
        .expect(201)
        .id();

    for path in [
        "/api/v1/houses".to_owned(),
        REQUESTS.to_owned(),
        at(REQUESTS, id),
        format!("{}/contact", at(REQUESTS, id)),
    ] {
        get_as(&app, &token, &path)
            .await
            .expect_problem(403, "auth.forbidden");
    }
    app.call_as(
        As::Token(&token),
        Method::POST,
        &format!("{}/approve", at(REQUESTS, id)),
        None,
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect_problem(403, "auth.forbidden");

    let staff = reviewer(&app, office).await;
    for (who, prefix) in [(As::Token(&staff), "明月"), (As::Admin, "星河")] {
        for path in [
            MY_REQUESTS.to_owned(),
            at(MY_REQUESTS, id),
            MY_HOUSES.to_owned(),
        ] {
            app.call_as(who, Method::GET, &path, None, &[])
                .await
                .expect_problem(403, "auth.residents_only");
        }
        // Refused before the phone code is spent.
        let body = request_body(house, "owner", "13812345678");
        app.call_as(who, Method::POST, MY_REQUESTS, Some(body.clone()), &[])
            .await
            .expect_problem(403, "auth.residents_only");
        let mut other_house = body;
        other_house["house_id"] = json!(house_in(&app, prefix).await.1);
        file(&app, &token, other_house).await.expect(201);
    }
    for path in [MY_REQUESTS, MY_HOUSES] {
        app.call_as(As::Nobody, Method::GET, path, None, &[])
            .await
            .expect_problem(401, "auth.unauthenticated");
    }
});

// Staff reach the requests of their offices only: office B's request is
// absent from office A's lists and a 404 to every operation.
db_test!(staff_reach_only_their_offices_requests, |app| {
    let (office_a, house_a) = house_in(&app, "甲").await;
    let (_, house_b) = house_in(&app, "乙").await;
    let token = resident(&app, "o-lilei").await;
    let in_a = file(&app, &token, request_body(house_a, "owner", "13812345678"))
        .await
        .expect(201)
        .id();
    let in_b = file(&app, &token, request_body(house_b, "owner", "13812345678"))
        .await
        .expect(201)
        .id();

    let staff_a = reviewer(&app, office_a).await;
    let listed = get_as(&app, &staff_a, REQUESTS).await.expect(200);
    assert_eq!(ids(&listed, "id"), [in_a]);
    let filtered = get_as(&app, &staff_a, &format!("{REQUESTS}?house_id={house_b}"))
        .await
        .expect(200);
    assert_eq!(filtered.body["items"], json!([]));

    for path in [
        at(REQUESTS, in_b),
        format!("{}/contact", at(REQUESTS, in_b)),
    ] {
        get_as(&app, &staff_a, &path)
            .await
            .expect_problem(404, "not_found");
    }
    for verdict in ["approve", "reject"] {
        for if_match in ["\"1\"", "*"] {
            app.call_as(
                As::Token(&staff_a),
                Method::POST,
                &format!("{}/{verdict}", at(REQUESTS, in_b)),
                None,
                &[("If-Match", if_match)],
            )
            .await
            .expect_problem(404, "not_found");
        }
    }
    // Untouched: still pending for office B's staff.
    let all = get_as(
        &app,
        &app.admin_token,
        &format!("{REQUESTS}?status=pending"),
    )
    .await
    .expect(200);
    assert_eq!(ids(&all, "id"), [in_a, in_b]);
    assert!(audited(&app, "binding_request", "reveal").await.is_empty());
});

// pending → approved | rejected, once: a second review is 409 whatever
// the version, a stale version on a pending request is 412, none is 428.
db_test!(a_request_is_reviewed_once, |app| {
    let (office, house) = house_in(&app, "阳光").await;
    let token = resident(&app, "o-lilei").await;
    let id = file(&app, &token, request_body(house, "owner", "13812345678"))
        .await
        .expect(201)
        .id();
    let staff = reviewer(&app, office).await;
    let approve = format!("{}/approve", at(REQUESTS, id));

    app.call_as(As::Token(&staff), Method::POST, &approve, None, &[])
        .await
        .expect_problem(428, "precondition.required");
    app.call_as(
        As::Token(&staff),
        Method::POST,
        &approve,
        None,
        &[("If-Match", "\"7\"")],
    )
    .await
    .expect_problem(412, "precondition.failed");

    review(&app, &staff, id, "approve", None).await.expect(200);
    for verdict in ["approve", "reject"] {
        review(&app, &staff, id, verdict, None)
            .await
            .expect_problem(409, "conflict.not_pending");
        // The ETag the first approval was made with is stale too, and
        // still the answer is that the decision was made.
        app.call_as(
            As::Token(&staff),
            Method::POST,
            &format!("{}/{verdict}", at(REQUESTS, id)),
            None,
            &[("If-Match", "\"1\"")],
        )
        .await
        .expect_problem(409, "conflict.not_pending");
    }
    let stored = get_as(&app, &staff, &at(REQUESTS, id)).await.expect(200);
    assert_eq!(stored.body["status"], "approved");
    assert_eq!(stored.etag(), "\"2\"");
    assert_eq!(audited(&app, "binding_request", "approve").await.len(), 1);
    assert!(audited(&app, "binding_request", "reject").await.is_empty());
    assert_eq!(
        items(&get_as(&app, &token, MY_HOUSES).await.expect(200)).len(),
        1
    );
});

// One pending request per house; after a rejection the resident may ask
// again, after an approval there is nothing left to ask.
db_test!(a_house_is_asked_for_once_at_a_time, |app| {
    let (office, house) = house_in(&app, "阳光").await;
    let token = resident(&app, "o-lilei").await;
    let staff = reviewer(&app, office).await;

    let first = file(&app, &token, request_body(house, "tenant", "13812345678"))
        .await
        .expect(201)
        .id();
    file(&app, &token, request_body(house, "owner", "13812345678"))
        .await
        .expect_problem(409, "conflict.already_pending");

    let rejected = review(
        &app,
        &staff,
        first,
        "reject",
        Some(json!({"note": "请上传租赁合同后重新申请"})),
    )
    .await
    .expect(200);
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(rejected.body["review_note"], "请上传租赁合同后重新申请");
    let seen = get_as(&app, &token, &at(MY_REQUESTS, first))
        .await
        .expect(200);
    assert_eq!(seen.body["status"], "rejected");
    assert_eq!(seen.body["review_note"], "请上传租赁合同后重新申请");
    assert_eq!(
        get_as(&app, &token, MY_HOUSES).await.expect(200).body["items"],
        json!([])
    );

    let second = file(&app, &token, request_body(house, "tenant", "13812345678"))
        .await
        .expect(201)
        .id();
    // `null` is a body left out.
    review(&app, &staff, second, "approve", Some(Value::Null))
        .await
        .expect(200);
    file(&app, &token, request_body(house, "family", "13812345678"))
        .await
        .expect_problem(409, "conflict.already_bound");

    let mine = get_as(&app, &token, &format!("{MY_REQUESTS}?sort=id"))
        .await
        .expect(200);
    assert_eq!(ids(&mine, "id"), [first, second]);
    let newest_first = get_as(&app, &token, MY_REQUESTS).await.expect(200);
    assert_eq!(ids(&newest_first, "id"), [second, first]);
    let approved = get_as(&app, &token, &format!("{MY_REQUESTS}?status=approved"))
        .await
        .expect(200);
    assert_eq!(ids(&approved, "id"), [second]);
});

// The house must exist and be active; a refused house does not spend the
// phone code.
db_test!(only_active_houses_can_be_asked_for, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let archived = app.create_house(chain.unit, "101", 1).await;
    app.archive(&format!("/api/v1/houses/{archived}"), "\"1\"")
        .await
        .expect(200);
    let active = app.create_house(chain.unit, "102", 1).await;
    let token = resident(&app, "o-lilei").await;

    let mut body = request_body(archived, "owner", "13812345678");
    let reply = file(&app, &token, body.clone())
        .await
        .expect_problem(422, "validation.failed");
    assert_eq!(reply.body["errors"][0]["field"], "house_id");
    assert_eq!(reply.body["errors"][0]["code"], "reference.archived");
    body["house_id"] = json!(999_999);
    let reply = file(&app, &token, body.clone())
        .await
        .expect_problem(422, "validation.failed");
    assert_eq!(reply.body["errors"][0]["code"], "reference.not_found");

    body["house_id"] = json!(active);
    body["name"] = json!("  ");
    let reply = file(&app, &token, body.clone())
        .await
        .expect_problem(422, "validation.failed");
    assert_eq!(reply.body["errors"][0]["field"], "name");
    body["name"] = json!("李雷");
    body["relation"] = json!("landlord");
    file(&app, &token, body.clone())
        .await
        .expect_problem(422, "request.invalid_body");

    body["relation"] = json!("family");
    let filed = file(&app, &token, body).await.expect(201);
    assert_eq!(filed.body["relation"], "family");
});

// A house archived while its request waited can no longer be bound to;
// the request can still be rejected.
db_test!(an_archived_house_cannot_be_bound, |app| {
    let (office, house) = house_in(&app, "阳光").await;
    let token = resident(&app, "o-lilei").await;
    let id = file(&app, &token, request_body(house, "owner", "13812345678"))
        .await
        .expect(201)
        .id();
    app.archive(&format!("/api/v1/houses/{house}"), "\"1\"")
        .await
        .expect(200);
    let staff = reviewer(&app, office).await;
    review(&app, &staff, id, "approve", None)
        .await
        .expect_problem(409, "conflict.house_archived");
    let stored = get_as(&app, &staff, &at(REQUESTS, id)).await.expect(200);
    assert_eq!(stored.body["status"], "pending", "nothing was half-written");
    assert_eq!(stored.etag(), "\"1\"");
    review(
        &app,
        &staff,
        id,
        "reject",
        Some(json!({"note": "房屋已撤销"})),
    )
    .await
    .expect(200);
});

// Phones are masked everywhere; the contact reveals one to holders of
// personal_data.reveal in scope, and each reveal is audited.
db_test!(the_contact_reveals_the_phone_and_is_audited, |app| {
    let (office, house) = house_in(&app, "阳光").await;
    let token = resident(&app, "o-lilei").await;
    let id = file(&app, &token, request_body(house, "owner", "13812345678"))
        .await
        .expect(201)
        .id();
    let contact = format!("{}/contact", at(REQUESTS, id));

    let reader = app
        .staff_token(
            &[Permission::ResidentsRead],
            AssignmentScope::Offices([office].into()),
        )
        .await;
    let read = get_as(&app, &reader, &at(REQUESTS, id)).await.expect(200);
    assert_eq!(read.body["phone"], "138****5678");
    assert!(!read.raw.contains("13812345678"));
    get_as(&app, &reader, &contact)
        .await
        .expect_problem(403, "auth.forbidden");

    let staff = reviewer(&app, office).await;
    let revealed = get_as(&app, &staff, &contact).await.expect(200);
    assert_eq!(
        revealed.body,
        json!({"id": id, "name": "李雷", "phone": "13812345678"})
    );
    assert_eq!(revealed.header("cache-control"), Some("no-store"));
    let reveals = audited(&app, "binding_request", "reveal").await;
    assert_eq!(reveals.len(), 1);
    assert_eq!(reveals[0].0, "staff");
    assert_eq!(reveals[0].2, Some(id));
});

// The review queue filters by status, house and office, and pages by
// cursor.
db_test!(staff_filter_and_page_the_queue, |app| {
    let (office, house) = house_in(&app, "阳光").await;
    let other_house = app
        .create_house(app.create_unit_chain("明月").await.unit, "201", 2)
        .await;
    let mut filed = Vec::new();
    for n in 0..3 {
        let token = resident(&app, &format!("o-{n}")).await;
        filed.push(
            file(&app, &token, request_body(house, "owner", "13812345678"))
                .await
                .expect(201)
                .id(),
        );
    }
    let elsewhere = file(
        &app,
        &resident(&app, "o-elsewhere").await,
        request_body(other_house, "tenant", "13812345678"),
    )
    .await
    .expect(201)
    .id();
    let staff = reviewer(&app, office).await;
    review(&app, &staff, filed[1], "reject", None)
        .await
        .expect(200);

    let admin = app.admin_token.clone();
    let pending = get_as(
        &app,
        &admin,
        &format!("{REQUESTS}?status=pending&office_id={office}"),
    )
    .await
    .expect(200);
    assert_eq!(ids(&pending, "id"), [filed[0], filed[2]]);
    let by_house = get_as(&app, &admin, &format!("{REQUESTS}?house_id={other_house}"))
        .await
        .expect(200);
    assert_eq!(ids(&by_house, "id"), [elsewhere]);

    let mut seen = Vec::new();
    let mut url = format!("{REQUESTS}?limit=1&sort=-id");
    loop {
        let page = get_as(&app, &admin, &url).await.expect(200);
        seen.extend(ids(&page, "id"));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => url = format!("{REQUESTS}?limit=1&sort=-id&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [elsewhere, filed[2], filed[1], filed[0]]);
    get_as(&app, &admin, &format!("{REQUESTS}?cursor=garbage"))
        .await
        .expect_problem(422, "pagination.invalid_cursor");
});

// A retried filing with the same Idempotency-Key answers the first
// request again without asking WeChat for the (spent) code twice.
db_test!(a_retried_filing_is_replayed, |app| {
    let (_, house) = house_in(&app, "阳光").await;
    let token = resident(&app, "o-lilei").await;
    let body = request_body(house, "owner", "13812345678");
    let send = || {
        app.call_as(
            As::Token(&token),
            Method::POST,
            MY_REQUESTS,
            Some(body.clone()),
            &[("Idempotency-Key", "filing-1")],
        )
    };
    let first = send().await.expect(201);
    let again = send().await.expect(201);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(
        ids(&get_as(&app, &token, MY_REQUESTS).await.expect(200), "id"),
        [first.id()]
    );

    // The same key from another resident is theirs, not a replay.
    let other = resident(&app, "o-hanmeimei").await;
    let theirs = app
        .call_as(
            As::Token(&other),
            Method::POST,
            MY_REQUESTS,
            Some(request_body(house, "family", "13900001111")),
            &[("Idempotency-Key", "filing-1")],
        )
        .await
        .expect(201);
    assert!(theirs.header("idempotency-replayed").is_none());
    assert_ne!(theirs.id(), first.id());
});
