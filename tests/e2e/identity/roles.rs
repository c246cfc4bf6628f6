//! Roles and the permission catalogue.

use super::*;

// The built-in roles are listed with their code, permissions and `builtin: true`.
db_test!(builtin_roles_are_listed_with_their_permissions, |app| {
    let page = app.get(&format!("{ROLES}?limit=200")).await.expect(200);
    let roles = items(&page);
    assert!(roles.len() >= 18, "{}", page.raw);
    let admin = roles
        .iter()
        .find(|r| r["code"] == "company_admin")
        .expect("administrator role");
    assert_eq!(admin["builtin"], true);
    assert_eq!(admin["name"], "系统管理员");
    assert_eq!(
        admin["permissions"].as_array().unwrap().len(),
        Permission::ALL.len()
    );
    let guard = roles
        .iter()
        .find(|r| r["code"] == "security_guard")
        .expect("security guard role");
    assert_eq!(guard["permissions"], json!(["org.read"]));

    let id = admin["id"].as_i64().unwrap();
    let read = app.get(&at(ROLES, id)).await.expect(200);
    assert_eq!(&read.body, admin);
    assert_eq!(read.etag(), format!("\"{}\"", admin["version"]));
    app.get(&at(ROLES, 424_242))
        .await
        .expect_problem(404, "not_found");
});

// The catalogue lists every permission with a bilingual description.
db_test!(permission_catalogue_lists_every_permission, |app| {
    let reply = app.get(PERMISSIONS).await.expect(200);
    let listed: Vec<&str> = items(&reply)
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    let all: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(listed, all);
    for item in items(&reply) {
        let description = item["description"].as_str().unwrap();
        assert!(description.contains("/ "), "{description}");
    }
    let org_reader = app
        .staff_token(&[Permission::OrgRead], AssignmentScope::Company)
        .await;
    get_as(&app, &org_reader, PERMISSIONS)
        .await
        .expect_problem(403, "auth.forbidden");
    app.call_as(As::Nobody, Method::GET, PERMISSIONS, None, &[])
        .await
        .expect(401);
    let office = app.create_office("甲管理处").await;
    let office_reader = app
        .staff_token(
            &[Permission::AccessRead],
            AssignmentScope::Offices([office].into()),
        )
        .await;
    get_as(&app, &office_reader, PERMISSIONS).await.expect(200);
});

// A company role is created, changed and archived like any versioned record.
db_test!(custom_role_lifecycle, |app| {
    let reply = app
        .post(
            ROLES,
            json!({
                "name": "收费员",
                "description": "管理处前台收费",
                "permissions": ["residents.read", "org.read", "org.read"]
            }),
        )
        .await
        .expect(201);
    let id = reply.id();
    assert_eq!(reply.header("location"), Some(at(ROLES, id).as_str()));
    assert_eq!(reply.etag(), "\"1\"");
    assert_eq!(reply.body["builtin"], false);
    assert_eq!(reply.body["code"], Value::Null);
    assert_eq!(
        reply.body["permissions"],
        json!(["org.read", "residents.read"])
    );
    assert_eq!(app.get(&at(ROLES, id)).await.expect(200).body, reply.body);

    let path = at(ROLES, id);
    let changed = app
        .patch(
            &path,
            "\"1\"",
            json!({ "name": "前台收费员", "description": null, "permissions": ["org.read"] }),
        )
        .await
        .expect(200);
    assert_eq!(changed.etag(), "\"2\"");
    assert_eq!(changed.body["name"], "前台收费员");
    assert_eq!(changed.body["description"], Value::Null);
    assert_eq!(changed.body["permissions"], json!(["org.read"]));
    app.patch(&path, "\"1\"", json!({ "name": "x" }))
        .await
        .expect_problem(412, "precondition.failed");

    app.post(
        ROLES,
        json!({ "name": "前台收费员", "permissions": ["org.read"] }),
    )
    .await
    .expect_problem(409, "conflict.duplicate");

    let archived = app.archive(&path, "\"2\"").await.expect(200);
    assert!(archived.body["archived_at"].is_string());
    assert!(!ids(&app.get(ROLES).await.expect(200)).contains(&id));
    assert_eq!(
        ids(&app.get(&format!("{ROLES}?archived=only")).await.expect(200)),
        [id]
    );
    // An archived role's name can be used again.
    app.post(
        ROLES,
        json!({ "name": "前台收费员", "permissions": ["org.read"] }),
    )
    .await
    .expect(201);
    assert_eq!(
        events(&app, "create")
            .await
            .iter()
            .filter(|e| e.resource_type == "role")
            .count(),
        2
    );
    assert_eq!(events(&app, "update").await.len(), 1);
});

// Role fields are validated together; unknown permissions are refused.
db_test!(role_validation, |app| {
    assert_invalid(
        app.post(ROLES, json!({ "name": " ", "permissions": [] }))
            .await,
        &[("name", "blank"), ("permissions", "no_permissions")],
    );
    assert_invalid(
        app.post(
            ROLES,
            json!({ "name": "x".repeat(101), "description": "d".repeat(501), "permissions": ["org.read"] }),
        )
        .await,
        &[("name", "too_long"), ("description", "too_long")],
    );
    app.post(ROLES, json!({ "name": "超级", "permissions": ["root"] }))
        .await
        .expect_problem(422, "request.invalid_body");
    let id = create_role(&app, "只读", &["org.read"]).await;
    assert_invalid(
        app.patch(&at(ROLES, id), "\"1\"", json!({ "permissions": [] }))
            .await,
        &[("permissions", "no_permissions")],
    );
    app.patch(&at(ROLES, id), "\"1\"", json!({ "permissions": null }))
        .await
        .expect_problem(422, "request.invalid_body");
});

// Built-in roles cannot be changed or archived.
db_test!(builtin_roles_are_fixed, |app| {
    let id = builtin_role(&app, "security_guard").await;
    let etag = app.get(&at(ROLES, id)).await.expect(200).etag();
    assert_invalid(
        app.patch(&at(ROLES, id), &etag, json!({ "name": "门卫" }))
            .await,
        &[("id", "builtin_role_is_fixed")],
    );
    assert_invalid(
        app.archive(&at(ROLES, id), &etag).await,
        &[("id", "builtin_role_is_fixed")],
    );
    let read = app.get(&at(ROLES, id)).await.expect(200);
    assert_eq!(read.body["name"], "保安");
    assert_eq!(read.etag(), etag);
});

// A role still held by someone cannot be archived; withdrawn, it can.
db_test!(assigned_role_cannot_be_archived, |app| {
    let user = create_user(&app, "zhang.san", None).await;
    let role = create_role(&app, "只读", &["org.read"]).await;
    let grant = assign(&app, As::Admin, user, role, company())
        .await
        .expect(201)
        .id();
    app.archive(&at(ROLES, role), "\"1\"")
        .await
        .expect_problem(409, "conflict.has_active_children");
    app.call(
        Method::DELETE,
        &format!("{USERS}/{user}/role-assignments/{grant}"),
        None,
        &[],
    )
    .await
    .expect(204);
    app.archive(&at(ROLES, role), "\"1\"").await.expect(200);
});

// Roles are company-wide definitions: office administrators read them but change none.
db_test!(office_admin_reads_roles_but_cannot_define_them, |app| {
    let a = app.create_office("甲管理处").await;
    let role = create_role(&app, "只读", &["org.read"]).await;
    let admin_a = office_admin(&app, a).await;
    get_as(&app, &admin_a, &at(ROLES, role)).await.expect(200);
    let page = get_as(&app, &admin_a, &format!("{ROLES}?limit=5"))
        .await
        .expect(200);
    assert_eq!(ids(&page).len(), 5);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = get_as(&app, &admin_a, &format!("{ROLES}?limit=5&cursor={cursor}"))
        .await
        .expect(200);
    assert!(ids(&next)[0] > ids(&page)[4]);

    post_as(
        &app,
        &admin_a,
        ROLES,
        json!({ "name": "新角色", "permissions": ["org.read"] }),
    )
    .await
    .expect_problem(403, "auth.company_scope_required");
    app.call_as(
        As::Token(&admin_a),
        Method::PATCH,
        &at(ROLES, role),
        Some(json!({ "name": "改名" })),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect_problem(403, "auth.company_scope_required");
    app.call_as(
        As::Token(&admin_a),
        Method::POST,
        &format!("{ROLES}/{role}/archive"),
        None,
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect_problem(403, "auth.company_scope_required");
});

// A role holds only permissions its author holds company-wide: no escalation by editing a role.
db_test!(roles_hold_only_permissions_their_author_holds, |app| {
    let token = app
        .staff_token(
            &[Permission::AccessRead, Permission::AccessWrite],
            AssignmentScope::Company,
        )
        .await;
    post_as(
        &app,
        &token,
        ROLES,
        json!({ "name": "维护", "permissions": ["org.write"] }),
    )
    .await
    .expect_problem(403, "auth.permission_exceeds_own");
    let mine = post_as(
        &app,
        &token,
        ROLES,
        json!({ "name": "账号管理", "permissions": ["access.read"] }),
    )
    .await
    .expect(201)
    .id();
    // Adding a permission the author lacks would reach every holder at once.
    app.call_as(
        As::Token(&token),
        Method::PATCH,
        &at(ROLES, mine),
        Some(json!({ "permissions": ["access.read", "org.write"] })),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect_problem(403, "auth.permission_exceeds_own");
    // Nor may they edit a role granting what they lack: renaming it or
    // stripping its permissions would silence the people who hold it.
    let theirs = create_role(&app, "维护", &["org.read", "org.write"]).await;
    app.call_as(
        As::Token(&token),
        Method::PATCH,
        &at(ROLES, theirs),
        Some(json!({ "name": "楼宇维护", "permissions": ["org.read"] })),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect_problem(403, "auth.permission_exceeds_own");
    assert_eq!(
        app.get(&at(ROLES, theirs)).await.expect(200).etag(),
        "\"1\""
    );
    // Their own role, within what they hold, they may edit.
    app.call_as(
        As::Token(&token),
        Method::PATCH,
        &at(ROLES, mine),
        Some(json!({ "name": "账号查看" })),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect(200);
    assert_eq!(app.get(&at(ROLES, mine)).await.expect(200).etag(), "\"2\"");
});
