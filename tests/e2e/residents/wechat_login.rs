//! Signing in with WeChat and filing a first request, end to end through
//! HTTP against the stand-in WeChat.

use super::*;

// The whole mini-program journey: wx.login → resident token → who am I →
// a binding request with the phone button's code → staff of the house's
// office approve it → the house is the resident's.
db_test!(wechat_sign_in_then_an_approved_binding, |app| {
    let (office, house) = house_in(&app, "阳光").await;

    let signed_in = wechat_sign_in(&app, "o-lilei", Some("u-lilei"))
        .await
        .expect(200);
    assert_eq!(signed_in.body["token_type"], "Bearer");
    assert!(signed_in.body["refresh_token"].is_string());
    assert!(
        !signed_in.raw.contains("o-lilei") && !signed_in.raw.contains("session_key"),
        "neither the openid nor the session key leaves the server: {}",
        signed_in.raw
    );
    let token = signed_in.body["access_token"].as_str().unwrap().to_owned();

    let me = get_as(&app, &token, ME).await.expect(200);
    assert_eq!(me.body["kind"], "resident");
    assert_eq!(me.body["permissions"], json!([]));
    let resident_id = me.body["id"].as_i64().unwrap();

    let filed = file(&app, &token, request_body(house, "owner", "13812345678"))
        .await
        .expect(201);
    let id = filed.id();
    assert_eq!(filed.header("location"), Some(at(MY_REQUESTS, id).as_str()));
    assert_eq!(filed.etag(), "\"1\"");
    assert_eq!(filed.body["house_id"], house);
    assert_eq!(filed.body["relation"], "owner");
    assert_eq!(filed.body["name"], "李雷");
    assert_eq!(filed.body["phone"], "138****5678", "phones are masked");
    assert_eq!(filed.body["status"], "pending");
    assert_eq!(
        filed.body["house"],
        json!({"estate": "阳光小区", "building": "1号楼", "unit": "1单元", "number": "1502"})
    );
    assert_eq!(
        get_as(&app, &token, MY_HOUSES).await.expect(200).body["items"],
        json!([]),
        "not bound before the review"
    );

    let staff = reviewer(&app, office).await;
    let queue = get_as(&app, &staff, &format!("{REQUESTS}?status=pending"))
        .await
        .expect(200);
    assert_eq!(ids(&queue, "id"), [id]);
    assert_eq!(items(&queue)[0]["resident_id"], resident_id);
    assert_eq!(items(&queue)[0]["office_id"], office);
    assert_eq!(items(&queue)[0]["phone"], "138****5678");

    let approved = review(
        &app,
        &staff,
        id,
        "approve",
        Some(json!({"note": "已核对购房合同"})),
    )
    .await
    .expect(200);
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(approved.body["review_note"], "已核对购房合同");
    assert!(approved.body["reviewed_by"].is_i64());
    assert_eq!(approved.body["review_rule"], Value::Null);
    assert!(approved.body["reviewed_at"].is_string());
    assert_eq!(approved.etag(), "\"2\"");

    let houses = get_as(&app, &token, MY_HOUSES).await.expect(200);
    assert_eq!(items(&houses).len(), 1, "{}", houses.raw);
    assert_eq!(items(&houses)[0]["house_id"], house);
    assert_eq!(items(&houses)[0]["office_id"], office);
    assert_eq!(items(&houses)[0]["relation"], "owner");
    assert_eq!(items(&houses)[0]["house"]["number"], "1502");
    let mine = get_as(&app, &token, &at(MY_REQUESTS, id)).await.expect(200);
    assert_eq!(mine.body["status"], "approved");
    assert_eq!(mine.body["review_note"], "已核对购房合同");

    // Both writes are in the audit log, by who made them, phones masked.
    let created = audited(&app, "binding_request", "create").await;
    assert_eq!(created.len(), 1);
    assert_eq!(
        (created[0].0.as_str(), created[0].1, created[0].2),
        ("resident", Some(resident_id), Some(id))
    );
    assert!(!created[0].3.contains("13812345678"), "{}", created[0].3);
    assert!(
        created[0].3.contains("[redacted]"),
        "the phone code is a secret: {}",
        created[0].3
    );
    let approvals = audited(&app, "binding_request", "approve").await;
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].0, "staff");
    assert_eq!(approvals[0].1, approved.body["reviewed_by"].as_i64());
});

// The same WeChat user is the same resident at every sign-in, and the
// unionid WeChat sent once is kept when a later answer lacks it.
db_test!(the_same_openid_signs_in_as_the_same_resident, |app| {
    let first = resident(&app, "o-same").await;
    let first_id = get_as(&app, &first, ME).await.expect(200).body["id"].clone();
    let with_unionid = wechat_sign_in(&app, "o-same", Some("u-same"))
        .await
        .expect(200);
    let again = wechat_sign_in(&app, "o-same", None).await.expect(200);
    for reply in [&with_unionid, &again] {
        let token = reply.body["access_token"].as_str().unwrap();
        assert_eq!(
            get_as(&app, token, ME).await.expect(200).body["id"],
            first_id
        );
    }
    let other = resident(&app, "o-other").await;
    assert_ne!(
        get_as(&app, &other, ME).await.expect(200).body["id"],
        first_id
    );

    let stored = stored_residents(&app).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].1, "o-same");
    assert_eq!(stored[0].2.as_deref(), Some("u-same"));
    assert_eq!(stored[1].2, None);
});

// A code WeChat does not know (used, expired or invented) is refused like
// a wrong password: 401.
db_test!(an_invalid_login_code_is_401, |app| {
    let code = shared_wechat().login_code("o-once", None);
    app.call_as(
        As::Nobody,
        Method::POST,
        WECHAT_LOGIN,
        Some(json!({"code": code})),
        &[],
    )
    .await
    .expect(200);
    for code in [code.as_str(), "never-issued"] {
        app.call_as(
            As::Nobody,
            Method::POST,
            WECHAT_LOGIN,
            Some(json!({"code": code})),
            &[],
        )
        .await
        .expect_problem(401, "wechat.invalid_code");
    }
    assert_eq!(stored_residents(&app).await.len(), 1);
});

// Each failure WeChat reports becomes its own answer; none signs anyone in.
db_test!(wechat_login_errors_have_their_own_answers, |app| {
    let stub = WechatStub::start();
    let app = app_with_stub(&app, &stub, None).await;
    let code = stub.login_code("o-unlucky", None);
    let login = || {
        app.call_as(
            As::Nobody,
            Method::POST,
            WECHAT_LOGIN,
            Some(json!({"code": code.clone()})),
            &[],
        )
    };

    stub.fail_next_login(40029);
    login().await.expect_problem(401, "wechat.invalid_code");
    stub.fail_next_login(45011);
    let limited = login().await.expect_problem(429, "wechat.rate_limited");
    assert!(limited.header("retry-after").is_some());
    stub.fail_next_login(40226);
    login().await.expect_problem(403, "wechat.risky_user");
    stub.fail_next_login(-1);
    let busy = login().await.expect_problem(503, "wechat.unavailable");
    assert!(busy.header("retry-after").is_some());
    assert!(stored_residents(&app).await.is_empty());

    // The failures did not spend the code.
    login().await.expect(200);
    assert_eq!(stored_residents(&app).await.len(), 1);
});

// WeChat answering too late is a 504, well before the stand-in would answer.
db_test!(a_slow_wechat_is_a_gateway_timeout, |app| {
    let stub = WechatStub::start();
    let app = app_with_stub(&app, &stub, Some(Duration::from_millis(300))).await;
    let code = stub.login_code("o-patient", None);
    stub.delay_next(Duration::from_secs(3));
    let started = std::time::Instant::now();
    app.call_as(
        As::Nobody,
        Method::POST,
        WECHAT_LOGIN,
        Some(json!({"code": code})),
        &[],
    )
    .await
    .expect_problem(504, "wechat.timeout");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(stored_residents(&app).await.is_empty());
});

// WeChat out of reach is a 503 the client may retry.
db_test!(an_unreachable_wechat_is_unavailable, |app| {
    let app = app_with_wechat(
        &app,
        WechatConfig {
            base_url: "http://127.0.0.1:9".to_owned(),
            ..shared_wechat().config()
        },
    )
    .await;
    let reply = app
        .call_as(
            As::Nobody,
            Method::POST,
            WECHAT_LOGIN,
            Some(json!({"code": "any"})),
            &[],
        )
        .await
        .expect_problem(503, "wechat.unavailable");
    assert!(reply.header("retry-after").is_some());
});

// The openid only ever comes from WeChat: a body naming one is refused,
// and signing in with it never yields that user's identity.
db_test!(a_client_cannot_choose_its_openid, |app| {
    let (_, house) = house_in(&app, "阳光").await;
    let victim = resident(&app, "o-victim").await;
    let victims_request = file(&app, &victim, request_body(house, "owner", "13812345678"))
        .await
        .expect(201)
        .id();

    let code = shared_wechat().login_code("o-attacker", None);
    for body in [
        json!({"openid": "o-victim"}),
        json!({"code": code, "openid": "o-victim"}),
        json!({"code": code, "unionid": "u-victim"}),
    ] {
        let reply = app
            .call_as(As::Nobody, Method::POST, WECHAT_LOGIN, Some(body), &[])
            .await;
        assert!(
            matches!(reply.status.as_u16(), 400 | 422),
            "{} {}",
            reply.status,
            reply.raw
        );
        assert!(reply.body.get("access_token").is_none());
    }
    // The attacker's own code still signs in — as the attacker.
    let attacker = app
        .call_as(
            As::Nobody,
            Method::POST,
            WECHAT_LOGIN,
            Some(json!({"code": code})),
            &[],
        )
        .await
        .expect(200);
    let attacker = attacker.body["access_token"].as_str().unwrap();
    get_as(&app, attacker, &at(MY_REQUESTS, victims_request))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        get_as(&app, attacker, MY_REQUESTS).await.expect(200).body["items"],
        json!([])
    );
    let openids: Vec<String> = stored_residents(&app)
        .await
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(openids, ["o-victim", "o-attacker"]);
});

// The phone number comes from the phone button's code only: a typed phone
// is refused, and every way the code can fail files nothing.
db_test!(phone_code_failures_file_nothing, |app| {
    let (_, house) = house_in(&app, "阳光").await;
    let token = resident(&app, "o-lilei").await;

    let mut typed = request_body(house, "owner", "13812345678");
    typed["phone"] = json!("13900000000");
    file(&app, &token, typed)
        .await
        .expect_problem(422, "request.invalid_body");
    let mut no_code = request_body(house, "owner", "13812345678");
    no_code.as_object_mut().unwrap().remove("phone_code");
    file(&app, &token, no_code)
        .await
        .expect_problem(422, "request.invalid_body");

    let mut invented = request_body(house, "owner", "13812345678");
    invented["phone_code"] = json!("never-issued");
    file(&app, &token, invented)
        .await
        .expect_problem(422, "wechat.invalid_phone_code");

    // A code works once.
    let body = request_body(house, "owner", "13812345678");
    let first = file(&app, &token, body.clone()).await.expect(201);
    let mut reused = body;
    reused["house_id"] = json!(house_in(&app, "明月").await.1);
    file(&app, &token, reused)
        .await
        .expect_problem(422, "wechat.invalid_phone_code");

    // A number that is not a mainland mobile cannot be stored as one.
    let (_, other_house) = house_in(&app, "星河").await;
    let reply = file(
        &app,
        &token,
        request_body(other_house, "tenant", "91234567"),
    )
    .await
    .expect_problem(422, "validation.failed");
    assert_eq!(reply.body["errors"][0]["field"], "phone_code");
    assert_eq!(reply.body["errors"][0]["code"], "invalid_mobile_phone");

    let listed = get_as(&app, &token, MY_REQUESTS).await.expect(200);
    assert_eq!(ids(&listed, "id"), [first.id()]);
});

// WeChat's failures on the phone code, with a stand-in of the test's own.
db_test!(phone_code_wechat_failures_are_answered, |app| {
    let stub = WechatStub::start();
    let app = app_with_stub(&app, &stub, Some(Duration::from_millis(300))).await;
    let (_, house) = house_in(&app, "阳光").await;
    let login = stub.login_code("o-lilei", None);
    let token = app
        .call_as(
            As::Nobody,
            Method::POST,
            WECHAT_LOGIN,
            Some(json!({"code": login})),
            &[],
        )
        .await
        .expect(200)
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = |phone: &str| json!({"house_id": house, "relation": "owner", "name": "李雷", "phone_code": stub.phone_code(phone)});

    // Another app's watermark: the number is not ours to trust.
    stub.wrong_watermark_next();
    file(&app, &token, body("13812345678"))
        .await
        .expect_problem(502, "wechat.bad_gateway");
    stub.delay_next(Duration::from_secs(3));
    file(&app, &token, body("13812345678"))
        .await
        .expect_problem(504, "wechat.timeout");
    assert_eq!(
        get_as(&app, &token, MY_REQUESTS).await.expect(200).body["items"],
        json!([])
    );

    file(&app, &token, body("13812345678")).await.expect(201);
});
