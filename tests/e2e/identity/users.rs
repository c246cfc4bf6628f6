//! Staff accounts, contact reveal, password resets and role assignments.

use super::*;

// An account answers with its mobile masked and never with a password or hash.
db_test!(
    user_create_masks_mobile_and_never_answers_the_password,
    |app| {
        let office = app.create_office("阳光管理处").await;
        let reply = app
            .post(
                USERS,
                json!({
                    "username": "Li.Lei",
                    "display_name": "李雷",
                    "mobile": "+86 138-1234-5678",
                    "office_id": office,
                    "password": PASSWORD,
                }),
            )
            .await
            .expect(201);
        let id = reply.id();
        assert_eq!(reply.header("location"), Some(at(USERS, id).as_str()));
        assert_eq!(reply.etag(), "\"1\"");
        assert_eq!(reply.body["username"], "li.lei");
        assert_eq!(reply.body["display_name"], "李雷");
        assert_eq!(reply.body["office_id"], office);
        assert_eq!(reply.body["mobile"], "138****5678");
        assert_eq!(reply.body["active"], true);
        assert_eq!(reply.body["archived_at"], Value::Null);

        let read = app.get(&at(USERS, id)).await.expect(200);
        assert_eq!(read.body, reply.body);
        let list = app.get(USERS).await.expect(200);
        for raw in [&reply.raw, &read.raw, &list.raw] {
            assert!(!raw.contains("password"), "{raw}");
            assert!(!raw.contains("argon2"), "{raw}");
            assert!(!raw.contains("13812345678"), "{raw}");
        }

        // The audit event names the account, masks the mobile, keeps no password.
        let created = events(&app, "create").await;
        let event = created
            .iter()
            .find(|e| e.resource_type == "user" && e.resource_id == Some(id))
            .expect("create event");
        assert_eq!(event.changes["username"], "li.lei");
        assert_eq!(event.changes["mobile"], "138****5678");
        let audit = all_audit_text(&app).await;
        assert!(
            !audit.contains(PASSWORD) && !audit.contains("13812345678"),
            "{audit}"
        );

        // The new account signs in with its initial password.
        app.login("li.lei", PASSWORD).await;
    }
);

// Every invalid field of a new account is reported at once, and nothing is stored.
db_test!(user_create_reports_every_invalid_field, |app| {
    let reply = app
        .post(
            USERS,
            json!({
                "username": "-x",
                "display_name": " ",
                "mobile": "12345",
                "password": "short1",
            }),
        )
        .await;
    assert_invalid(
        reply,
        &[
            ("username", "invalid_username"),
            ("display_name", "blank"),
            ("mobile", "invalid_mobile_phone"),
            ("password", "password_length"),
        ],
    );
    let reply = app
        .post(
            USERS,
            json!({ "username": "wang", "display_name": "王", "password": "onlyletterspassword" }),
        )
        .await;
    assert_invalid(reply, &[("password", "password_too_simple")]);
    let reply = app.post(USERS, user_body("wang", Some(424_242))).await;
    assert_invalid(reply, &[("office_id", "reference.not_found")]);
    let reply = app
        .post(USERS, json!({ "username": "wang", "display_name": "王", "password": PASSWORD, "password_hash": "x" }))
        .await;
    reply.expect_problem(422, "request.invalid_body");
    // Only the administrator exists.
    assert_eq!(ids(&app.get(USERS).await.expect(200)).len(), 1);
});

// Usernames are unique whatever their case.
db_test!(usernames_are_unique_case_insensitively, |app| {
    create_user(&app, "han.meimei", None).await;
    let reply = app.post(USERS, user_body("Han.MeiMei", None)).await;
    let reply = reply.expect_problem(409, "conflict.duplicate");
    assert_eq!(reply.body["errors"][0]["field"], "username");
});

// A retried create with the same Idempotency-Key answers the first account again.
db_test!(user_create_is_idempotent, |app| {
    let headers = [("Idempotency-Key", "user-create-1")];
    let first = app
        .call(Method::POST, USERS, Some(user_body("zhao", None)), &headers)
        .await
        .expect(201);
    let again = app
        .call(Method::POST, USERS, Some(user_body("zhao", None)), &headers)
        .await
        .expect(201);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    let mut other = user_body("zhao", None);
    other["display_name"] = json!("另一个");
    app.call(Method::POST, USERS, Some(other), &headers)
        .await
        .expect_problem(422, "idempotency.key_reused");
});

// Lists filter by office, active state and text, sort by username, and page.
db_test!(user_list_filters_sorts_and_pages, |app| {
    let a = app.create_office("甲管理处").await;
    let b = app.create_office("乙管理处").await;
    let zhang = create_user(&app, "zhang.san", Some(a)).await;
    let li = create_user(&app, "li.si", Some(a)).await;
    let wang = create_user(&app, "wang.wu", Some(b)).await;
    let path = at(USERS, wang);
    app.patch(&path, "\"1\"", json!({ "active": false }))
        .await
        .expect(200);

    let by_office = app.get(&format!("{USERS}?office_id={a}")).await.expect(200);
    assert_eq!(ids(&by_office), [zhang, li]);
    let inactive = app.get(&format!("{USERS}?active=false")).await.expect(200);
    assert_eq!(ids(&inactive), [wang]);
    let found = app.get(&format!("{USERS}?q=SAN")).await.expect(200);
    assert_eq!(ids(&found), [zhang]);
    let found = app.get(&format!("{USERS}?q=%E7%9A%84")).await.expect(200); // q=的
    assert_eq!(ids(&found).len(), 3);

    let sorted = app
        .get(&format!("{USERS}?sort=-username&office_id={a}"))
        .await
        .expect(200);
    assert_eq!(ids(&sorted), [zhang, li]);

    let first = app.get(&format!("{USERS}?limit=2")).await.expect(200);
    assert_eq!(ids(&first).len(), 2);
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = app
        .get(&format!("{USERS}?limit=2&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(ids(&second), [li, wang]);
    assert_eq!(second.body["next_cursor"], Value::Null);

    archive_at_current(&app, &at(USERS, li)).await;
    assert_eq!(
        ids(&app.get(&format!("{USERS}?office_id={a}")).await.expect(200)),
        [zhang]
    );
    assert_eq!(
        ids(&app
            .get(&format!("{USERS}?office_id={a}&archived=only"))
            .await
            .expect(200)),
        [li]
    );
});

async fn archive_at_current(app: &TestApp, path: &str) -> Reply {
    let etag = app.get(path).await.expect(200).etag();
    app.archive(path, &etag).await.expect(200)
}

// PATCH changes the fields given, clears the mobile with null, and needs If-Match.
db_test!(user_update_changes_fields_under_if_match, |app| {
    let a = app.create_office("甲管理处").await;
    let id = create_user(&app, "zhang.san", None).await;
    let path = at(USERS, id);
    app.call(
        Method::PATCH,
        &path,
        Some(json!({ "display_name": "张三" })),
        &[],
    )
    .await
    .expect_problem(428, "precondition.required");
    assert_invalid(
        app.patch(&path, "\"1\"", json!({ "mobile": "0101234" }))
            .await,
        &[("mobile", "invalid_mobile_phone")],
    );
    assert_invalid(
        app.patch(&path, "\"1\"", json!({ "office_id": 424_242 }))
            .await,
        &[("office_id", "reference.not_found")],
    );
    let reply = app
        .patch(
            &path,
            "\"1\"",
            json!({ "display_name": "张三", "mobile": null, "office_id": a }),
        )
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"2\"");
    assert_eq!(reply.body["display_name"], "张三");
    assert_eq!(reply.body["mobile"], Value::Null);
    assert_eq!(reply.body["office_id"], a);
    app.patch(&path, "\"1\"", json!({ "display_name": "张三丰" }))
        .await
        .expect_problem(412, "precondition.failed");
    let reply = app
        .patch(&path, "\"2\"", json!({ "mobile": "13987654321" }))
        .await
        .expect(200);
    assert_eq!(reply.body["mobile"], "139****4321");
    let updates = events(&app, "update").await;
    assert!(updates.iter().all(|e| e.changes["mobile"] != "13987654321"));
});

// Deactivating an account ends its sessions at once; it cannot sign in again.
db_test!(deactivating_an_account_ends_its_sessions, |app| {
    let a = app.create_office("甲管理处").await;
    let id = create_user(&app, "zhang.san", Some(a)).await;
    let reader = create_role(&app, "只读", &["org.read"]).await;
    assign(&app, As::Admin, id, reader, offices(&[a]))
        .await
        .expect(201);
    let token = app.login("zhang.san", PASSWORD).await;
    get_as(&app, &token, HOUSES).await.expect(200);

    app.patch(&at(USERS, id), "\"1\"", json!({ "active": false }))
        .await
        .expect(200);
    get_as(&app, &token, HOUSES)
        .await
        .expect_problem(401, "auth.session_ended");
    app.call_as(
        As::Nobody,
        Method::POST,
        "/api/v1/auth/login",
        Some(json!({ "username": "zhang.san", "password": PASSWORD })),
        &[],
    )
    .await
    .expect_problem(401, "auth.invalid_credentials");
});

// An archived account cannot sign in, its sessions end, and it cannot be archived twice.
db_test!(archiving_an_account_ends_it, |app| {
    let id = create_user(&app, "zhang.san", None).await;
    let token = app.login("zhang.san", PASSWORD).await;
    let archived = app.archive(&at(USERS, id), "\"1\"").await.expect(200);
    assert!(archived.body["archived_at"].is_string());
    app.call_as(As::Token(&token), Method::GET, "/api/v1/auth/me", None, &[])
        .await
        .expect(401);
    app.archive(&at(USERS, id), "\"2\"")
        .await
        .expect_problem(409, "conflict.archived");
    assert!(!ids(&app.get(USERS).await.expect(200)).contains(&id));
});

// An administrator's reset sets a new password, ends the account's sessions and is audited.
db_test!(password_reset_ends_sessions_and_is_audited, |app| {
    let id = create_user(&app, "zhang.san", None).await;
    let token = app.login("zhang.san", PASSWORD).await;
    let path = format!("{USERS}/{id}/password");
    assert_invalid(
        app.post(&path, json!({ "new_password": "short" })).await,
        &[("new_password", "password_length")],
    );
    app.post(&path, json!({ "new_password": "brand new pass 2" }))
        .await
        .expect(204);
    app.call_as(As::Token(&token), Method::GET, "/api/v1/auth/me", None, &[])
        .await
        .expect_problem(401, "auth.session_ended");
    app.call_as(
        As::Nobody,
        Method::POST,
        "/api/v1/auth/login",
        Some(json!({ "username": "zhang.san", "password": PASSWORD })),
        &[],
    )
    .await
    .expect(401);
    app.login("zhang.san", "brand new pass 2").await;

    let resets = events(&app, "reset_password").await;
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0].resource_type, "user");
    assert_eq!(resets[0].resource_id, Some(id));
    assert_eq!(resets[0].actor_kind, "staff");
    assert!(!all_audit_text(&app).await.contains("brand new pass 2"));

    app.post(
        &format!("{USERS}/424242/password"),
        json!({ "new_password": "brand new pass 3" }),
    )
    .await
    .expect_problem(404, "not_found");
    app.archive(&at(USERS, id), "\"2\"").await.expect(200);
    app.post(&path, json!({ "new_password": "brand new pass 3" }))
        .await
        .expect_problem(409, "conflict.archived");
});

// The full mobile needs personal_data.reveal, within scope, and every reveal is audited.
db_test!(contact_reveal_needs_the_permission_and_is_audited, |app| {
    let a = app.create_office("甲管理处").await;
    let b = app.create_office("乙管理处").await;
    let in_a = create_user(&app, "zhang.san", Some(a)).await;
    let in_b = create_user(&app, "li.si", Some(b)).await;

    let reply = app
        .get(&format!("{USERS}/{in_a}/contact"))
        .await
        .expect(200);
    assert_eq!(reply.body["mobile"], "13812345678");
    assert_eq!(reply.body["username"], "zhang.san");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let reveals = events(&app, "reveal").await;
    assert_eq!(reveals.len(), 1);
    assert_eq!(reveals[0].resource_type, "user");
    assert_eq!(reveals[0].resource_id, Some(in_a));
    assert_eq!(reveals[0].changes["field"], "mobile");

    // access.read alone never shows it.
    let reader = app
        .staff_token(&[Permission::AccessRead], AssignmentScope::Company)
        .await;
    get_as(&app, &reader, &format!("{USERS}/{in_a}/contact"))
        .await
        .expect_problem(403, "auth.forbidden");
    let shown = get_as(&app, &reader, &at(USERS, in_a)).await.expect(200);
    assert_eq!(shown.body["mobile"], "138****5678");

    // A revealer of office A reveals A's staff only.
    let revealer = app
        .staff_token(
            &[Permission::PersonalDataReveal],
            AssignmentScope::Offices([a].into()),
        )
        .await;
    get_as(&app, &revealer, &format!("{USERS}/{in_a}/contact"))
        .await
        .expect(200);
    get_as(&app, &revealer, &format!("{USERS}/{in_b}/contact"))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(events(&app, "reveal").await.len(), 2);
});

// Reading accounts needs access.read, changing them access.write, and a credential at all.
db_test!(account_routes_need_their_permissions, |app| {
    let id = create_user(&app, "zhang.san", None).await;
    app.call_as(As::Nobody, Method::GET, USERS, None, &[])
        .await
        .expect_problem(401, "auth.unauthenticated");
    let org_reader = app
        .staff_token(&[Permission::OrgRead], AssignmentScope::Company)
        .await;
    get_as(&app, &org_reader, USERS)
        .await
        .expect_problem(403, "auth.forbidden");
    let reader = app
        .staff_token(&[Permission::AccessRead], AssignmentScope::Company)
        .await;
    get_as(&app, &reader, &at(USERS, id)).await.expect(200);
    post_as(&app, &reader, USERS, user_body("li.si", None))
        .await
        .expect_problem(403, "auth.forbidden");
    post_as(
        &app,
        &reader,
        &format!("{USERS}/{id}/password"),
        json!({ "new_password": "brand new pass 2" }),
    )
    .await
    .expect_problem(403, "auth.forbidden");
    app.call_as(
        As::Token(&reader),
        Method::PATCH,
        &at(USERS, id),
        Some(json!({ "active": false })),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect_problem(403, "auth.forbidden");
});

// An office's administrator neither sees nor changes another office's staff (404).
db_test!(office_admin_reaches_only_their_office_staff, |app| {
    let a = app.create_office("甲管理处").await;
    let b = app.create_office("乙管理处").await;
    let in_a = create_user(&app, "zhang.san", Some(a)).await;
    let in_b = create_user(&app, "li.si", Some(b)).await;
    let company_level = create_user(&app, "wang.wu", None).await;
    let admin_a = office_admin(&app, a).await;
    let self_id = me(&app, &admin_a).await;

    let listed = get_as(&app, &admin_a, USERS).await.expect(200);
    assert_eq!(ids(&listed), [in_a, self_id]);
    let listed = get_as(&app, &admin_a, &format!("{USERS}?office_id={b}"))
        .await
        .expect(200);
    assert!(ids(&listed).is_empty());
    get_as(&app, &admin_a, &at(USERS, in_a)).await.expect(200);
    for other in [in_b, company_level] {
        get_as(&app, &admin_a, &at(USERS, other))
            .await
            .expect_problem(404, "not_found");
        get_as(&app, &admin_a, &format!("{USERS}/{other}/role-assignments"))
            .await
            .expect_problem(404, "not_found");
        app.call_as(
            As::Token(&admin_a),
            Method::PATCH,
            &at(USERS, other),
            Some(json!({ "display_name": "改名" })),
            &[("If-Match", "\"1\"")],
        )
        .await
        .expect_problem(404, "not_found");
        app.call_as(
            As::Token(&admin_a),
            Method::POST,
            &format!("{USERS}/{other}/archive"),
            None,
            &[("If-Match", "\"1\"")],
        )
        .await
        .expect_problem(404, "not_found");
        post_as(
            &app,
            &admin_a,
            &format!("{USERS}/{other}/password"),
            json!({ "new_password": "brand new pass 2" }),
        )
        .await
        .expect_problem(404, "not_found");
    }
    // Nothing changed over there.
    assert_eq!(app.get(&at(USERS, in_b)).await.expect(200).etag(), "\"1\"");

    // New accounts and moves stay within office A.
    assert_invalid(
        post_as(&app, &admin_a, USERS, user_body("zhao.liu", Some(b))).await,
        &[("office_id", "reference.not_found")],
    );
    assert_invalid(
        post_as(&app, &admin_a, USERS, user_body("zhao.liu", None)).await,
        &[("office_id", "reference.not_found")],
    );
    post_as(&app, &admin_a, USERS, user_body("zhao.liu", Some(a)))
        .await
        .expect(201);
    let moved = app
        .call_as(
            As::Token(&admin_a),
            Method::PATCH,
            &at(USERS, in_a),
            Some(json!({ "office_id": b })),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_invalid(moved, &[("office_id", "reference.not_found")]);
    app.call_as(
        As::Token(&admin_a),
        Method::PATCH,
        &at(USERS, in_a),
        Some(json!({ "display_name": "张三" })),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect(200);
});

// A role assignment takes effect at once, is listed, and its withdrawal too; both are audited.
db_test!(role_assignments_take_effect_at_once, |app| {
    let a = app.create_office("甲管理处").await;
    let id = create_user(&app, "zhang.san", Some(a)).await;
    let reader = create_role(&app, "只读", &["org.read"]).await;
    let token = app.login("zhang.san", PASSWORD).await;
    get_as(&app, &token, HOUSES)
        .await
        .expect_problem(403, "auth.forbidden");

    let granted = assign(&app, As::Admin, id, reader, offices(&[a]))
        .await
        .expect(201);
    let assignment = granted.id();
    assert_eq!(granted.body["user_id"], id);
    assert_eq!(granted.body["role_id"], reader);
    assert_eq!(granted.body["role_name"], "只读");
    assert_eq!(granted.body["scope"], offices(&[a]));
    get_as(&app, &token, HOUSES).await.expect(200);

    let listed = app
        .get(&format!("{USERS}/{id}/role-assignments"))
        .await
        .expect(200);
    assert_eq!(ids(&listed), [assignment]);
    assert_eq!(listed.body["items"][0], granted.body);

    let path = format!("{USERS}/{id}/role-assignments/{assignment}");
    app.call(Method::DELETE, &path, None, &[]).await.expect(204);
    get_as(&app, &token, HOUSES)
        .await
        .expect_problem(403, "auth.forbidden");
    app.call(Method::DELETE, &path, None, &[])
        .await
        .expect_problem(404, "not_found");
    assert!(
        ids(&app
            .get(&format!("{USERS}/{id}/role-assignments"))
            .await
            .expect(200))
        .is_empty()
    );

    let assigned = events(&app, "assign_role").await;
    let withdrawn = events(&app, "unassign_role").await;
    for log in [&assigned, &withdrawn] {
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].resource_type, "user");
        assert_eq!(log[0].resource_id, Some(id));
        assert_eq!(log[0].changes["assignment_id"], assignment);
        assert_eq!(log[0].changes["role_id"], reader);
        assert_eq!(log[0].changes["scope"]["kind"], "offices");
    }
});

// Assignments name an active role and a well-formed scope of existing offices.
db_test!(role_assignment_validation, |app| {
    let a = app.create_office("甲管理处").await;
    let id = create_user(&app, "zhang.san", Some(a)).await;
    let reader = create_role(&app, "只读", &["org.read"]).await;
    assert_invalid(
        assign(&app, As::Admin, id, 424_242, offices(&[a])).await,
        &[("role_id", "reference.not_found")],
    );
    assert_invalid(
        assign(&app, As::Admin, id, reader, json!({ "kind": "offices" })).await,
        &[("scope.office_ids", "scope_needs_offices")],
    );
    assert_invalid(
        assign(
            &app,
            As::Admin,
            id,
            reader,
            json!({ "kind": "company", "office_ids": [a] }),
        )
        .await,
        &[("scope.office_ids", "scope_takes_no_offices")],
    );
    assert_invalid(
        assign(&app, As::Admin, id, reader, offices(&[a, 424_242])).await,
        &[("scope.office_ids", "reference.not_found")],
    );
    assign(&app, As::Admin, id, reader, json!({ "kind": "everywhere" }))
        .await
        .expect_problem(422, "request.invalid_body");
    assign(&app, As::Admin, 424_242, reader, offices(&[a]))
        .await
        .expect_problem(404, "not_found");

    let unused = create_role(&app, "停用的角色", &["org.read"]).await;
    app.archive(&at(ROLES, unused), "\"1\"").await.expect(200);
    assert_invalid(
        assign(&app, As::Admin, id, unused, offices(&[a])).await,
        &[("role_id", "reference.archived")],
    );
    app.archive(&at(USERS, id), "\"1\"").await.expect(200);
    assign(&app, As::Admin, id, reader, offices(&[a]))
        .await
        .expect_problem(409, "conflict.archived");
    assert!(events(&app, "assign_role").await.is_empty());
});

// An office administrator grants only offices within their scope, never company.
db_test!(office_admin_cannot_grant_a_wider_scope, |app| {
    let a = app.create_office("甲管理处").await;
    let b = app.create_office("乙管理处").await;
    let id = create_user(&app, "zhang.san", Some(a)).await;
    let reader = create_role(&app, "只读", &["org.read"]).await;
    let admin_a = office_admin(&app, a).await;
    for scope in [company(), offices(&[b]), offices(&[a, b])] {
        assign(&app, As::Token(&admin_a), id, reader, scope)
            .await
            .expect_problem(403, "auth.scope_exceeds_own");
    }
    assert!(events(&app, "assign_role").await.is_empty());
    assign(&app, As::Token(&admin_a), id, reader, offices(&[a]))
        .await
        .expect(201);
    let own = assign(
        &app,
        As::Token(&admin_a),
        id,
        reader,
        json!({ "kind": "own" }),
    )
    .await
    .expect(201);
    assert_eq!(
        own.body["scope"],
        json!({ "kind": "own", "office_ids": [] })
    );
});

// Nobody grants a permission they do not hold — not even to themselves.
db_test!(nobody_grants_a_permission_they_do_not_hold, |app| {
    let a = app.create_office("甲管理处").await;
    let id = create_user(&app, "zhang.san", Some(a)).await;
    let writer = create_role(&app, "维护", &["org.read", "org.write"]).await;
    let admin_a = office_admin(&app, a).await;
    let self_id = me(&app, &admin_a).await;
    let reply = assign(&app, As::Token(&admin_a), id, writer, offices(&[a]))
        .await
        .expect_problem(403, "auth.permission_exceeds_own");
    assert!(reply.body["detail"].as_str().unwrap().contains("org.write"));
    let administrator = builtin_role(&app, "company_admin").await;
    assign(
        &app,
        As::Token(&admin_a),
        self_id,
        administrator,
        offices(&[a]),
    )
    .await
    .expect_problem(403, "auth.permission_exceeds_own");
    assert!(events(&app, "assign_role").await.is_empty());
});

// Holding a permission in one office does not let an administrator of two grant it in both.
db_test!(each_permission_must_cover_the_granted_scope, |app| {
    let a = app.create_office("甲管理处").await;
    let b = app.create_office("乙管理处").await;
    let id = create_user(&app, "zhang.san", Some(a)).await;
    let writer = create_role(&app, "维护", &["org.write"]).await;
    // access.write over A and B, org.write over A only.
    let token = app
        .staff_token(
            &[Permission::AccessRead, Permission::AccessWrite],
            AssignmentScope::Offices([a, b].into()),
        )
        .await;
    let holder = me(&app, &token).await;
    let org_writer = create_role(&app, "甲维护", &["org.write"]).await;
    assign(&app, As::Admin, holder, org_writer, offices(&[a]))
        .await
        .expect(201);
    assign(&app, As::Token(&token), id, writer, offices(&[a, b]))
        .await
        .expect_problem(403, "auth.scope_exceeds_own");
    assign(&app, As::Token(&token), id, writer, offices(&[a]))
        .await
        .expect(201);
});

// An office administrator cannot take over, change, archive or strip an account holding more than they do.
db_test!(
    office_admin_cannot_reset_or_strip_a_more_powerful_account,
    |app| {
        let a = app.create_office("甲管理处").await;
        let manager = create_user(&app, "general.manager", Some(a)).await;
        let administrator = builtin_role(&app, "general_manager").await;
        let grant = assign(&app, As::Admin, manager, administrator, company())
            .await
            .expect(201)
            .id();
        let clerk = create_user(&app, "clerk", Some(a)).await;
        let admin_a = office_admin(&app, a).await;

        let body = json!({ "new_password": "taken over pass 9" });
        post_as(
            &app,
            &admin_a,
            &format!("{USERS}/{manager}/password"),
            body.clone(),
        )
        .await
        .expect_problem(403, "auth.scope_exceeds_own");
        app.login("general.manager", PASSWORD).await;
        app.call_as(
            As::Token(&admin_a),
            Method::DELETE,
            &format!("{USERS}/{manager}/role-assignments/{grant}"),
            None,
            &[],
        )
        .await
        .expect_problem(403, "auth.scope_exceeds_own");
        assert_eq!(
            ids(&app
                .get(&format!("{USERS}/{manager}/role-assignments"))
                .await
                .expect(200)),
            [grant]
        );

        for (method, path, body) in [
            (
                Method::PATCH,
                at(USERS, manager),
                Some(json!({ "mobile": "13900000000" })),
            ),
            (Method::POST, format!("{USERS}/{manager}/archive"), None),
        ] {
            app.call_as(
                As::Token(&admin_a),
                method,
                &path,
                body,
                &[("If-Match", "*")],
            )
            .await
            .expect_problem(403, "auth.scope_exceeds_own");
        }
        let unchanged = app.get(&at(USERS, manager)).await.expect(200);
        assert_eq!(unchanged.body["mobile"], "138****5678");
        assert_eq!(unchanged.body["archived_at"], Value::Null);

        post_as(&app, &admin_a, &format!("{USERS}/{clerk}/password"), body)
            .await
            .expect(204);
        app.login("clerk", "taken over pass 9").await;
    }
);

// Nobody locks themselves out: their own account cannot be deactivated,
// archived, password-reset through the administrator route or stripped of
// its roles by themselves — another administrator can.
db_test!(staff_cannot_lock_themselves_out, |app| {
    let me = app.get("/api/v1/auth/me").await.expect(200).body["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/users/{me}");
    let etag = app.get(&path).await.expect(200).etag();
    app.patch(&path, &etag, json!({ "active": false }))
        .await
        .expect_problem(409, "access.self_lockout");
    app.archive(&path, &etag)
        .await
        .expect_problem(409, "access.self_lockout");
    app.post(
        &format!("{path}/password"),
        json!({ "new_password": "another pass 42" }),
    )
    .await
    .expect_problem(409, "access.self_lockout");
    let assignments = app
        .get(&format!("{path}/role-assignments"))
        .await
        .expect(200);
    let assignment = assignments.body["items"][0]["id"].as_i64().unwrap();
    app.call(
        Method::DELETE,
        &format!("{path}/role-assignments/{assignment}"),
        None,
        &[],
    )
    .await
    .expect_problem(409, "access.self_lockout");
    app.get("/api/v1/auth/me").await.expect(200);
});
