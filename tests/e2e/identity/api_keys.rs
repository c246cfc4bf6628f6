//! Integration keys: created with a secret shown once, obeying their
//! permissions and scope exactly like a staff member, revocable.

use super::*;

/// Creates a key as the administrator; returns (id, secret).
async fn create_key(app: &TestApp, permissions: &[&str], scope: Value) -> (i64, String) {
    let reply = app
        .post(
            API_KEYS,
            json!({ "name": "收费系统同步", "permissions": permissions, "scope": scope }),
        )
        .await
        .expect(201);
    let secret = reply.body["secret"].as_str().expect("secret").to_owned();
    (reply.id(), secret)
}

// The secret is answered once, stored only as a hash, and never shown again.
db_test!(api_key_secret_is_shown_once, |app| {
    let office = app.create_office("甲管理处").await;
    let reply = app
        .post(
            API_KEYS,
            json!({ "name": "收费系统同步", "permissions": ["org.read"], "scope": offices(&[office]) }),
        )
        .await
        .expect(201);
    let id = reply.id();
    let secret = reply.body["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("wuye_sk_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(reply.body["prefix"], secret[..12]);
    assert_eq!(reply.header("location"), Some(at(API_KEYS, id).as_str()));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.body["name"], "收费系统同步");
    assert_eq!(reply.body["permissions"], json!(["org.read"]));
    assert_eq!(reply.body["scope"], offices(&[office]));
    assert_eq!(reply.body["created_by"], 1);
    assert_eq!(reply.body["last_used_at"], Value::Null);
    assert_eq!(reply.body["revoked_at"], Value::Null);

    let read = app.get(&at(API_KEYS, id)).await.expect(200);
    let list = app.get(API_KEYS).await.expect(200);
    assert_eq!(ids(&list), [id]);
    for raw in [&read.raw, &list.raw] {
        assert!(!raw.contains(&secret), "{raw}");
        assert!(!raw.contains("\"secret\""), "{raw}");
        assert!(!raw.contains("key_hash"), "{raw}");
    }
    assert_eq!(read.body["prefix"], secret[..12]);

    // Storage holds the hash, never the key; nor does the audit log.
    let stored = app
        .db
        .read(move |conn| -> Result<Vec<(String, String)>, StoreError> {
            use wuye_persistence::schema::api_keys::dsl;
            Ok(dsl::api_keys
                .filter(dsl::id.eq(id))
                .select((dsl::prefix, dsl::key_hash))
                .load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1, wuye_api::auth::tokens::digest(&secret));
    assert_ne!(stored[0].1, secret);
    assert!(!all_audit_text(&app).await.contains(&secret[12..]));
    let created = events(&app, "create").await;
    assert!(
        created
            .iter()
            .any(|e| e.resource_type == "api_key" && e.resource_id == Some(id))
    );
});

// A key with org.read over office A sees A's houses only, writes nothing, and records its use.
db_test!(api_key_obeys_its_permissions_and_scope, |app| {
    let a = app.create_unit_chain("甲").await;
    let b = app.create_unit_chain("乙").await;
    let house_a = app.create_house(a.unit, "101", 1).await;
    let house_b = app.create_house(b.unit, "101", 1).await;
    let (id, secret) = create_key(&app, &["org.read"], offices(&[a.office])).await;

    let listed = get_as(&app, &secret, HOUSES).await.expect(200);
    assert_eq!(ids(&listed), [house_a]);
    get_as(&app, &secret, &at(HOUSES, house_a))
        .await
        .expect(200);
    get_as(&app, &secret, &at(HOUSES, house_b))
        .await
        .expect_problem(404, "not_found");
    post_as(
        &app,
        &secret,
        HOUSES,
        crate::support::house_body(a.unit, "102", 1),
    )
    .await
    .expect_problem(403, "auth.forbidden");
    get_as(&app, &secret, USERS)
        .await
        .expect_problem(403, "auth.forbidden");

    let read = app.get(&at(API_KEYS, id)).await.expect(200);
    assert!(read.body["last_used_at"].is_string(), "{}", read.raw);

    let revoked = app
        .call(Method::POST, &format!("{API_KEYS}/{id}/revoke"), None, &[])
        .await
        .expect(200);
    assert!(revoked.body["revoked_at"].is_string());
    get_as(&app, &secret, HOUSES)
        .await
        .expect_problem(401, "auth.invalid_token");
    app.call(Method::POST, &format!("{API_KEYS}/{id}/revoke"), None, &[])
        .await
        .expect_problem(409, "conflict.revoked");
    let revocations = events(&app, "revoke").await;
    assert_eq!(revocations.len(), 1);
    assert_eq!(revocations[0].resource_type, "api_key");
    assert_eq!(revocations[0].resource_id, Some(id));
});

// A key that may manage access acts as itself in the audit log, and is listed as creator of nothing.
db_test!(api_key_actions_are_audited_as_the_key, |app| {
    let (id, secret) = create_key(&app, &["access.read", "access.write"], company()).await;
    let user = post_as(&app, &secret, USERS, user_body("script.user", None))
        .await
        .expect(201)
        .id();
    let created = events(&app, "create").await;
    let event = created
        .iter()
        .find(|e| e.resource_type == "user" && e.resource_id == Some(user))
        .unwrap();
    assert_eq!(event.actor_kind, "api_key");
    assert_eq!(event.actor_id, Some(id));
    // It may hand on only what it holds itself.
    post_as(
        &app,
        &secret,
        API_KEYS,
        json!({ "name": "x", "permissions": ["org.read"], "scope": company() }),
    )
    .await
    .expect_problem(403, "auth.permission_exceeds_own");
    let child = post_as(
        &app,
        &secret,
        API_KEYS,
        json!({ "name": "x", "permissions": ["access.read"], "scope": company() }),
    )
    .await
    .expect(201);
    assert_eq!(child.body["created_by"], Value::Null);
});

// Keys are validated: a name, one or more permissions, and a company or office scope.
db_test!(api_key_validation, |app| {
    let reply = app
        .post(
            API_KEYS,
            json!({ "name": " ", "permissions": [], "scope": { "kind": "own" } }),
        )
        .await;
    assert_invalid(
        reply,
        &[
            ("name", "blank"),
            ("permissions", "no_permissions"),
            ("scope.kind", "key_scope_cannot_be_own"),
        ],
    );
    assert_invalid(
        app.post(
            API_KEYS,
            json!({ "name": "x", "permissions": ["org.read"], "scope": { "kind": "offices", "office_ids": [] } }),
        )
        .await,
        &[("scope.office_ids", "scope_needs_offices")],
    );
    assert_invalid(
        app.post(
            API_KEYS,
            json!({ "name": "x", "permissions": ["org.read"], "scope": offices(&[424_242]) }),
        )
        .await,
        &[("scope.office_ids", "reference.not_found")],
    );
    app.post(
        API_KEYS,
        json!({ "name": "x", "permissions": ["org.read"], "scope": company(), "secret": "mine" }),
    )
    .await
    .expect_problem(422, "request.invalid_body");
    assert!(
        ids(&app
            .get(&format!("{API_KEYS}?include_revoked=true"))
            .await
            .expect(200))
        .is_empty()
    );
});

// Managing keys needs a company-wide scope and only permissions the caller holds.
db_test!(api_keys_need_company_scope_and_held_permissions, |app| {
    let a = app.create_office("甲管理处").await;
    let (id, _) = create_key(&app, &["org.read"], company()).await;
    let admin_a = office_admin(&app, a).await;
    post_as(
        &app,
        &admin_a,
        API_KEYS,
        json!({ "name": "x", "permissions": ["org.read"], "scope": offices(&[a]) }),
    )
    .await
    .expect_problem(403, "auth.company_scope_required");
    assert!(ids(&get_as(&app, &admin_a, API_KEYS).await.expect(200)).is_empty());
    get_as(&app, &admin_a, &at(API_KEYS, id))
        .await
        .expect_problem(404, "not_found");
    post_as(
        &app,
        &admin_a,
        &format!("{API_KEYS}/{id}/revoke"),
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");

    let access_admin = app
        .staff_token(
            &[Permission::AccessRead, Permission::AccessWrite],
            AssignmentScope::Company,
        )
        .await;
    post_as(
        &app,
        &access_admin,
        API_KEYS,
        json!({ "name": "x", "permissions": ["org.write"], "scope": company() }),
    )
    .await
    .expect_problem(403, "auth.permission_exceeds_own");
    let reader = app
        .staff_token(&[Permission::AccessRead], AssignmentScope::Company)
        .await;
    get_as(&app, &reader, API_KEYS).await.expect(200);
    post_as(
        &app,
        &reader,
        API_KEYS,
        json!({ "name": "x", "permissions": ["access.read"], "scope": company() }),
    )
    .await
    .expect_problem(403, "auth.forbidden");
});

// Revoked keys leave the default list; include_revoked shows them; pages continue by cursor.
db_test!(api_key_list_filters_revoked_and_pages, |app| {
    let (first, _) = create_key(&app, &["org.read"], company()).await;
    let (second, _) = create_key(&app, &["org.read"], company()).await;
    let (third, _) = create_key(&app, &["org.read"], company()).await;
    app.call(
        Method::POST,
        &format!("{API_KEYS}/{second}/revoke"),
        None,
        &[],
    )
    .await
    .expect(200);
    assert_eq!(ids(&app.get(API_KEYS).await.expect(200)), [first, third]);
    let page = app
        .get(&format!("{API_KEYS}?include_revoked=true&limit=2&sort=-id"))
        .await
        .expect(200);
    assert_eq!(ids(&page), [third, second]);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!(
            "{API_KEYS}?include_revoked=true&limit=2&sort=-id&cursor={cursor}"
        ))
        .await
        .expect(200);
    assert_eq!(ids(&rest), [first]);
});

// A key does not outlive its creator's access: once the account that made
// it is deactivated, the key is refused.
db_test!(a_key_dies_with_its_creators_account, |app| {
    let office = app.create_office("甲管理处").await;
    let creator = app
        .staff_token(
            &[
                Permission::AccessRead,
                Permission::AccessWrite,
                Permission::OrgRead,
            ],
            AssignmentScope::Company,
        )
        .await;
    let reply = app
        .call_as(
            As::Token(&creator),
            Method::POST,
            API_KEYS,
            Some(
                json!({ "name": "脚本", "permissions": ["org.read"], "scope": offices(&[office]) }),
            ),
            &[],
        )
        .await
        .expect(201);
    let secret = reply.body["secret"].as_str().unwrap().to_owned();
    app.call_as(
        As::Token(&secret),
        Method::GET,
        "/api/v1/offices",
        None,
        &[],
    )
    .await
    .expect(200);

    let creator_id = app
        .call_as(
            As::Token(&creator),
            Method::GET,
            "/api/v1/auth/me",
            None,
            &[],
        )
        .await
        .expect(200)
        .body["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/users/{creator_id}");
    let etag = app.get(&path).await.expect(200).etag();
    app.patch(&path, &etag, json!({ "active": false }))
        .await
        .expect(200);
    app.call_as(
        As::Token(&secret),
        Method::GET,
        "/api/v1/offices",
        None,
        &[],
    )
    .await
    .expect_problem(401, "auth.invalid_token");
});
