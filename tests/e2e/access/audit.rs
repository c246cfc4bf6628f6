//! The audit log (R-X-1): every write and sign-in leaves an event naming
//! who, what, which record, which office and which request; secrets never
//! reach it; filters and data scope apply to reading it; and the database
//! itself refuses to change or delete an event.

use actix_web::http::Method;
use diesel::{ExpressionMethods, RunQueryDsl};
use serde_json::{Value, json};
use wuye_domain::access::{AssignmentScope, Permission};
use wuye_persistence::StoreError;
use wuye_persistence::schema::audit_events;

use super::STAFF_PASSWORD;
use crate::db_test;
use crate::support::{ADMIN_PASSWORD, ADMIN_USERNAME, As, Reply, TestApp, house_body};

/// The events a query finds, as `caller`.
async fn events_as(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = app
        .call_as(
            As::Token(token),
            Method::GET,
            &format!("/api/v1/audit-events{query}"),
            None,
            &[],
        )
        .await
        .expect(200);
    reply.body["items"].as_array().expect("items").clone()
}

/// The events a query finds, as the administrator.
async fn events(app: &TestApp, query: &str) -> Vec<Value> {
    events_as(app, &app.admin_token, query).await
}

fn ids(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect()
}

fn request_id(reply: &Reply) -> String {
    reply
        .header("x-request-id")
        .expect("X-Request-Id")
        .to_owned()
}

async fn staff_id(app: &TestApp, token: &str) -> i64 {
    app.call_as(As::Token(token), Method::GET, "/api/v1/auth/me", None, &[])
        .await
        .expect(200)
        .id()
}

db_test!(every_write_leaves_an_event, |app| {
    let chain = app.create_unit_chain("甲").await;
    let token = app
        .staff_token(
            &[Permission::OrgRead, Permission::OrgWrite],
            AssignmentScope::Offices([chain.office].into()),
        )
        .await;
    let actor = staff_id(&app, &token).await;
    let send = |method: Method,
                path: String,
                body: Option<Value>,
                headers: Vec<(&'static str, String)>| {
        let app = &app;
        let token = token.clone();
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            app.call_as(As::Token(&token), method, &path, body, &headers)
                .await
        }
    };

    let created = send(
        Method::POST,
        "/api/v1/houses".to_owned(),
        Some(house_body(chain.unit, "1502", 15)),
        vec![],
    )
    .await
    .expect(201);
    let house = created.id();
    let path = format!("/api/v1/houses/{house}");
    let updated = send(
        Method::PATCH,
        path.clone(),
        Some(json!({"state": "rented"})),
        vec![("If-Match", created.etag())],
    )
    .await
    .expect(200);
    // A refused write (a stale version) leaves no event.
    send(
        Method::PATCH,
        path.clone(),
        Some(json!({"state": "vacant"})),
        vec![("If-Match", created.etag())],
    )
    .await
    .expect(412);
    let archived = send(
        Method::POST,
        format!("{path}/archive"),
        None,
        vec![("If-Match", updated.etag())],
    )
    .await
    .expect(200);

    let found = events(&app, &format!("?resource_type=house&resource_id={house}")).await;
    let summary: Vec<(&str, String)> = found
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action"),
                e["request_id"].as_str().expect("id").to_owned(),
            )
        })
        .collect();
    // Newest first.
    assert_eq!(
        summary,
        vec![
            ("archive", request_id(&archived)),
            ("update", request_id(&updated)),
            ("create", request_id(&created)),
        ]
    );
    for event in &found {
        assert_eq!(
            event["actor"],
            json!({"kind": "staff", "id": actor}),
            "{event}"
        );
        assert_eq!(event["resource_type"], "house");
        assert_eq!(event["resource_id"], house);
        assert_eq!(event["office_id"], chain.office);
        assert!(event["client_addr"].is_string());
        let at: chrono::DateTime<chrono::Utc> = event["occurred_at"]
            .as_str()
            .expect("occurred_at")
            .parse()
            .expect("RFC 3339");
        assert!((chrono::Utc::now() - at).num_minutes() < 5);
    }
    assert_eq!(found[0]["changes"], json!({}));
    assert_eq!(found[1]["changes"], json!({"state": "rented"}));
    assert_eq!(found[2]["changes"]["number"], "1502");
    assert_eq!(found[2]["changes"]["unit_id"], chain.unit);

    // The refused write in between left nothing.
    assert_eq!(
        events(&app, &format!("?resource_type=house&resource_id={house}"))
            .await
            .len(),
        3
    );
});

db_test!(signing_in_is_recorded, |app| {
    let reply = app
        .call_as(
            As::Nobody,
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
            &[],
        )
        .await
        .expect(200);
    let access = reply.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let refresh = reply.body["refresh_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let found = events(&app, "?actor_kind=staff&actor_id=1").await;
    let event = &found[0];
    assert_eq!(event["action"], "sign_in");
    assert_eq!(event["request_id"], request_id(&reply));
    assert_eq!(event["resource_type"], "user");
    assert_eq!(event["resource_id"], 1);
    assert_eq!(event["office_id"], Value::Null);
    assert_eq!(event["changes"], json!({}));
    // Two sign-ins: the test app's own and this one.
    let sign_ins = found.iter().filter(|e| e["action"] == "sign_in").count();
    assert_eq!(sign_ins, 2);

    // A failed sign-in is throttled, not logged as an account's event.
    app.call_as(
        As::Nobody,
        Method::POST,
        "/api/v1/auth/login",
        Some(json!({"username": ADMIN_USERNAME, "password": "wrong password 1"})),
        &[],
    )
    .await
    .expect(401);
    assert_eq!(
        ids(&events(&app, "?actor_kind=staff&actor_id=1").await),
        ids(&found)
    );

    let raw = app
        .get("/api/v1/audit-events?limit=200")
        .await
        .expect(200)
        .raw;
    for secret in [
        &access,
        &refresh,
        &app.admin_token,
        &ADMIN_PASSWORD.to_owned(),
    ] {
        assert!(!raw.contains(secret.as_str()), "a secret is in the log");
    }
});

db_test!(secrets_never_reach_the_log, |app| {
    let token = app.staff_token(&[], AssignmentScope::Company).await;
    let user = staff_id(&app, &token).await;
    app.call_as(
        As::Token(&token),
        Method::POST,
        "/api/v1/auth/password",
        Some(json!({"current_password": STAFF_PASSWORD, "new_password": "brand new secret 9"})),
        &[],
    )
    .await
    .expect(204);
    let found = events(&app, &format!("?resource_type=user&resource_id={user}")).await;
    let change = found
        .iter()
        .find(|e| e["action"] == "change_password")
        .expect("a change_password event");
    assert_eq!(change["actor"], json!({"kind": "staff", "id": user}));
    assert_eq!(change["changes"], json!({"password": "[redacted]"}));

    // An account created through the API: its initial password is not
    // kept, its mobile phone is masked.
    let document = wuye_api::openapi::document();
    let has_users = document
        .paths
        .paths
        .get("/api/v1/users")
        .is_some_and(|item| item.post.is_some());
    let mut secrets = vec![STAFF_PASSWORD, "brand new secret 9"];
    if has_users {
        let created = app
            .post(
                "/api/v1/users",
                json!({
                    "username": "li.lei", "display_name": "李雷", "mobile": "13912345678",
                    "password": "initial secret 7"
                }),
            )
            .await
            .expect(201);
        let found = events(
            &app,
            &format!("?resource_type=user&resource_id={}", created.id()),
        )
        .await;
        let create = found
            .iter()
            .find(|e| e["action"] == "create")
            .expect("a create event");
        assert_eq!(create["changes"]["username"], "li.lei");
        assert_ne!(create["changes"]["mobile"], "13912345678");
        secrets.extend(["initial secret 7", "13912345678"]);
    }
    let raw = app
        .get("/api/v1/audit-events?limit=200")
        .await
        .expect(200)
        .raw;
    for secret in secrets {
        assert!(!raw.contains(secret), "{secret} is in the log");
    }
});

db_test!(filters_narrow_the_log, |app| {
    let a = app.create_unit_chain("甲").await;
    let b = app.create_unit_chain("乙").await;
    let house_a = app.create_house(a.unit, "101", 1).await;
    let house_b = app.create_house(b.unit, "101", 1).await;
    let all = events(&app, "?limit=200").await;
    // 1 sign-in, 2 × 4 chain records, 2 houses.
    assert_eq!(all.len(), 11, "{all:?}");
    let newest_first = ids(&all);
    let mut sorted = newest_first.clone();
    sorted.sort_unstable_by(|x, y| y.cmp(x));
    assert_eq!(newest_first, sorted);
    let mut oldest_first = newest_first.clone();
    oldest_first.reverse();
    assert_eq!(ids(&events(&app, "?limit=200&sort=id").await), oldest_first);

    let only_b = events(&app, &format!("?office_id={}", b.office)).await;
    // B's office (an office is its own), estate, building, unit and house.
    assert_eq!(only_b.len(), 5, "{only_b:?}");
    assert!(only_b.iter().all(|e| e["office_id"] == b.office));
    let houses = events(&app, "?resource_type=house").await;
    assert_eq!(
        houses
            .iter()
            .map(|e| e["resource_id"].as_i64().expect("id"))
            .collect::<Vec<_>>(),
        vec![house_b, house_a]
    );
    assert_eq!(
        events(&app, &format!("?resource_type=house&resource_id={house_a}"))
            .await
            .len(),
        1
    );
    assert_eq!(events(&app, "?actor_kind=staff&actor_id=1").await.len(), 11);
    assert_eq!(events(&app, "?actor_kind=api_key").await.len(), 0);
    assert_eq!(events(&app, "?actor_kind=staff&actor_id=2").await.len(), 0);

    // Time: `from` inclusive, `to` exclusive, in any offset.
    let middle = &all[5];
    let at: chrono::DateTime<chrono::Utc> = middle["occurred_at"]
        .as_str()
        .expect("at")
        .parse()
        .expect("time");
    let utc = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let beijing = at
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
        .replace('+', "%2B");
    for stamp in [&utc, &beijing] {
        let from = ids(&events(&app, &format!("?limit=200&from={stamp}")).await);
        let to = ids(&events(&app, &format!("?limit=200&to={stamp}")).await);
        assert!(
            from.contains(&middle["id"].as_i64().expect("id")),
            "{stamp}"
        );
        assert!(!to.contains(&middle["id"].as_i64().expect("id")), "{stamp}");
        let mut both = from.clone();
        both.extend(&to);
        both.sort_unstable_by(|x, y| y.cmp(x));
        assert_eq!(both, newest_first, "from and to split the log at {stamp}");
        let window = events(&app, &format!("?limit=200&from={stamp}&to={stamp}")).await;
        assert!(window.is_empty());
    }

    // Pages: newest first, continuing where the last one ended.
    let mut paged = Vec::new();
    let mut query = "?limit=4".to_owned();
    loop {
        let reply = app
            .get(&format!("/api/v1/audit-events{query}"))
            .await
            .expect(200);
        paged.extend(ids(reply.body["items"].as_array().expect("items")));
        match reply.body["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=4&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, newest_first);

    // Malformed filters are the client's mistake, as on every list.
    for query in [
        "from=yesterday",
        "to=2026-13-01T00:00:00Z",
        "from=2026-12-04",
        "actor_kind=root",
        "actor_id=one",
        "resource_type=House",
        "resource_type=",
        "sort=occurred_at",
        "limit=0",
    ] {
        app.get(&format!("/api/v1/audit-events?{query}"))
            .await
            .expect(400);
    }
    app.get("/api/v1/audit-events?cursor=bm90LWEtY3Vyc29y")
        .await
        .expect_problem(422, "pagination.invalid_cursor");
});

db_test!(auditors_see_only_their_offices_events, |app| {
    let a = app.create_unit_chain("甲").await;
    let b = app.create_unit_chain("乙").await;
    app.create_house(a.unit, "101", 1).await;
    app.create_house(b.unit, "101", 1).await;
    let office_a = app
        .staff_token(
            &[Permission::AuditRead],
            AssignmentScope::Offices([a.office].into()),
        )
        .await;
    let seen = events_as(&app, &office_a, "?limit=200").await;
    // A's office, estate, building, unit and house, and the auditor's own
    // sign-in (their account is A's); not B's, not the company's (sign-ins
    // of company-level staff).
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert_eq!(seen[0]["action"], "sign_in");
    assert!(seen.iter().all(|e| e["office_id"] == a.office), "{seen:?}");
    assert!(
        events_as(&app, &office_a, &format!("?office_id={}", b.office))
            .await
            .is_empty()
    );
    // Of the sign-ins, only the auditor's own: the administrator is
    // company-level.
    let users = events_as(&app, &office_a, "?resource_type=user").await;
    assert_eq!(users.len(), 1, "{users:?}");

    let company = app
        .staff_token(&[Permission::AuditRead], AssignmentScope::Company)
        .await;
    let everything = events_as(&app, &company, "?limit=200").await;
    assert!(everything.len() > seen.len());
    assert!(everything.iter().any(|e| e["office_id"].is_null()));

    let own = app
        .staff_token(&[Permission::AuditRead], AssignmentScope::Own)
        .await;
    assert!(events_as(&app, &own, "?limit=200").await.is_empty());

    // Without audit.read, however much else: 403.
    let others: Vec<Permission> = Permission::ALL
        .iter()
        .copied()
        .filter(|p| *p != Permission::AuditRead)
        .collect();
    let token = app.staff_token(&others, AssignmentScope::Company).await;
    app.call_as(
        As::Token(&token),
        Method::GET,
        "/api/v1/audit-events",
        None,
        &[],
    )
    .await
    .expect_problem(403, "auth.forbidden");
});

db_test!(the_database_refuses_to_change_events, |app| {
    let before = events(&app, "?limit=200").await;
    assert!(!before.is_empty(), "the test app's sign-in is an event");
    let update = app
        .db
        .write(|conn| {
            diesel::update(audit_events::table)
                .set(audit_events::action.eq("nothing happened"))
                .execute(conn)
                .map_err(StoreError::from)
        })
        .await;
    let refused = |outcome: &Result<usize, StoreError>| {
        matches!(outcome, Err(error) if error.to_string().contains("append-only")
            || format!("{error:?}").contains("append-only"))
    };
    assert!(
        refused(&update),
        "UPDATE was not refused by the trigger: {update:?}"
    );
    let delete = app
        .db
        .write(|conn| {
            diesel::delete(audit_events::table)
                .execute(conn)
                .map_err(StoreError::from)
        })
        .await;
    assert!(
        refused(&delete),
        "DELETE was not refused by the trigger: {delete:?}"
    );
    assert_eq!(events(&app, "?limit=200").await, before);
});
