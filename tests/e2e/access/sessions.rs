//! Signing in and what a session is: the token pair's shape, answers that
//! never tell whether a username exists, accounts that may not sign in,
//! throttling per account and per client address, password change and the
//! caller's own profile.

use std::collections::BTreeSet;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use wuye_api::ApiConfig;
use wuye_api::auth::AuthConfig;
use wuye_api::auth::throttle::ThrottlePolicy;
use wuye_domain::access::{AssignmentScope, DataScope, Permission, Username};
use wuye_persistence::access::users::{self, NewUser, UserChanges};

use super::{STAFF_PASSWORD, expect_unauthorized, refresh, resident_token, sign_in, username_of};
use crate::db_test;
use crate::support::{ADMIN_PASSWORD, ADMIN_USERNAME, As, Backend, Reply, TestApp, passwords};

async fn login(app: &TestApp, username: &str, password: &str) -> Reply {
    app.call_as(
        As::Nobody,
        Method::POST,
        "/api/v1/auth/login",
        Some(json!({ "username": username, "password": password })),
        &[],
    )
    .await
}

/// A sign-in from `address`, as a client there would send it.
async fn login_from(app: &TestApp, address: &str, username: &str, password: &str) -> Reply {
    let request = TestRequest::post()
        .uri("/api/v1/auth/login")
        .peer_addr(format!("{address}:40000").parse().expect("socket address"))
        .set_json(json!({ "username": username, "password": password }));
    app.send(request).await
}

async fn me(app: &TestApp, token: &str) -> Reply {
    app.call_as(As::Token(token), Method::GET, "/api/v1/auth/me", None, &[])
        .await
}

/// The parts of a problem a client could tell two answers apart by.
fn visible(reply: &Reply) -> Value {
    json!({
        "status": reply.status.as_u16(),
        "type": reply.body["type"],
        "title": reply.body["title"],
        "detail": reply.body["detail"],
        "code": reply.body["code"],
        "errors": reply.body["errors"],
        "www-authenticate": reply.header("www-authenticate"),
        "retry-after": reply.header("retry-after"),
    })
}

/// The `Retry-After` of a 429, in seconds.
#[track_caller]
fn retry_after(reply: &Reply) -> u64 {
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    reply
        .header("retry-after")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no numeric Retry-After: {:?}", reply.headers))
}

/// An account arranged in storage, `active` or not; returns its id.
async fn arrange_user(app: &TestApp, username: &str, active: bool) -> i64 {
    let hash = passwords().hash(STAFF_PASSWORD).expect("hash");
    let username = Username::parse(username).expect("username");
    app.db
        .write(move |conn| {
            users::create(
                conn,
                &DataScope::system(),
                &NewUser {
                    office_id: None,
                    username: username.clone(),
                    display_name: "测试".to_owned(),
                    mobile: None,
                    password_hash: hash.clone(),
                    active,
                },
            )
        })
        .await
        .expect("arrange an account")
        .id
}

db_test!(sign_in_answers_the_documented_token_pair, |app| {
    let reply = login(&app, ADMIN_USERNAME, ADMIN_PASSWORD)
        .await
        .expect(200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let fields: BTreeSet<&str> = reply
        .body
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["access_token", "token_type", "expires_in", "refresh_token"])
    );
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    let access = reply.body["access_token"].as_str().expect("access token");
    assert_eq!(access.split('.').count(), 3, "a JWT");
    let refresh_token = reply.body["refresh_token"].as_str().expect("refresh token");
    assert!(refresh_token.len() >= 40, "256 random bits");
    assert!(!refresh_token.contains('.'), "the refresh token is no JWT");
    me(&app, access).await.expect(200);
});

db_test!(wrong_password_and_unknown_username_answer_alike, |app| {
    for language in ["zh-CN", "en"] {
        let headers = [("Accept-Language", language)];
        let mut answers = Vec::new();
        for (username, password) in [
            (ADMIN_USERNAME, "not the password 1"),
            ("nobody.here", "not the password 1"),
            ("nobody.here", ADMIN_PASSWORD),
        ] {
            let reply = app
                .call_as(
                    As::Nobody,
                    Method::POST,
                    "/api/v1/auth/login",
                    Some(json!({ "username": username, "password": password })),
                    &headers,
                )
                .await
                .expect_problem(401, "auth.invalid_credentials");
            answers.push(visible(&reply));
        }
        assert_eq!(answers[0], answers[1], "{language}");
        assert_eq!(answers[0], answers[2], "{language}");
    }
});

db_test!(usernames_are_case_insensitive, |app| {
    for typed in ["ADMIN", "Admin", " admin "] {
        login(&app, typed, ADMIN_PASSWORD).await.expect(200);
    }
    // The password is not.
    login(&app, ADMIN_USERNAME, &ADMIN_PASSWORD.to_uppercase())
        .await
        .expect_problem(401, "auth.invalid_credentials");
});

db_test!(inactive_and_archived_accounts_cannot_sign_in, |app| {
    let refused = visible(&login(&app, "nobody.here", STAFF_PASSWORD).await);

    arrange_user(&app, "inactive.user", false).await;
    let reply = login(&app, "inactive.user", STAFF_PASSWORD).await;
    assert_eq!(
        visible(&reply),
        refused,
        "an inactive account looks like none"
    );

    // Archived, and deactivated while signed in: the session ends at once.
    let archived = arrange_user(&app, "archived.user", true).await;
    let deactivated = arrange_user(&app, "deactivated.user", true).await;
    let archived_session = sign_in(&app, "archived.user", STAFF_PASSWORD).await;
    let deactivated_session = sign_in(&app, "deactivated.user", STAFF_PASSWORD).await;
    app.db
        .write(move |conn| {
            let system = DataScope::system();
            users::archive(conn, &system, archived, 1)?;
            let changes = UserChanges {
                active: Some(false),
                ..UserChanges::default()
            };
            users::update(conn, &system, deactivated, 1, &changes)
        })
        .await
        .expect("archive and deactivate");
    for username in ["archived.user", "deactivated.user"] {
        let reply = login(&app, username, STAFF_PASSWORD).await;
        assert_eq!(visible(&reply), refused, "{username}");
    }
    for session in [&archived_session, &deactivated_session] {
        expect_unauthorized(me(&app, &session.access).await, "auth.session_ended");
        refresh(&app, &session.refresh)
            .await
            .expect_problem(401, "auth.invalid_refresh_token");
    }
});

db_test!(failed_sign_ins_are_throttled_per_account, |app| {
    for _ in 0..5 {
        login(&app, ADMIN_USERNAME, "not the password 1")
            .await
            .expect_problem(401, "auth.invalid_credentials");
    }
    // The sixth attempt is refused before the password is looked at, so
    // even the right one gets a 429 — however the name is typed.
    for typed in [ADMIN_USERNAME, "ADMIN"] {
        let reply = login(&app, typed, ADMIN_PASSWORD)
            .await
            .expect_problem(429, "auth.too_many_attempts");
        let wait = retry_after(&reply);
        assert!((1..=15 * 60).contains(&wait), "Retry-After {wait}");
    }
    // Unknown usernames are counted alike, and other accounts are not
    // affected.
    for _ in 0..5 {
        login(&app, "nobody.here", "whatever 1")
            .await
            .expect_problem(401, "auth.invalid_credentials");
    }
    login(&app, "nobody.here", "whatever 1")
        .await
        .expect_problem(429, "auth.too_many_attempts");
    let other = app.staff_token(&[], AssignmentScope::Company).await;
    me(&app, &other).await.expect(200);
    // Sessions already open go on.
    me(&app, &app.admin_token).await.expect(200);
});

/// Limits small enough to reach in a few requests.
fn tight_throttle() -> ApiConfig {
    ApiConfig {
        auth: AuthConfig {
            throttle: ThrottlePolicy {
                per_account: 3,
                per_address: 4,
                window: Duration::from_secs(60),
            },
            ..AuthConfig::default()
        },
        ..ApiConfig::default()
    }
}

mod failed_sign_ins_are_throttled_per_address {
    use super::*;

    async fn run(backend: Backend) {
        let Some(app) = TestApp::with_config(backend, tight_throttle()).await else {
            return;
        };
        let attacker = "203.0.113.7";
        // One failure each for four usernames: no account reaches its
        // limit, the address does.
        for n in 0..4 {
            login_from(&app, attacker, &format!("guess{n}"), "wrong password 1")
                .await
                .expect_problem(401, "auth.invalid_credentials");
        }
        let reply = login_from(&app, attacker, ADMIN_USERNAME, ADMIN_PASSWORD)
            .await
            .expect_problem(429, "auth.too_many_attempts");
        assert!((1..=60).contains(&retry_after(&reply)));
        // The same account from elsewhere is not held up.
        login_from(&app, "198.51.100.9", ADMIN_USERNAME, ADMIN_PASSWORD)
            .await
            .expect(200);
    }

    #[actix_web::test]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}

db_test!(a_password_change_ends_the_other_sessions, |app| {
    let token = app
        .staff_token(&[Permission::OrgRead], AssignmentScope::Company)
        .await;
    let username = username_of(&app, &token).await;
    let other = sign_in(&app, &username, STAFF_PASSWORD).await;
    let change = |current: &str, new: &str| {
        app.call_as(
            As::Token(&token),
            Method::POST,
            "/api/v1/auth/password",
            Some(json!({ "current_password": current, "new_password": new })),
            &[],
        )
    };

    change("not my password 1", "a new password 2")
        .await
        .expect_problem(401, "auth.wrong_password");
    for weak in ["short 1", "onlyletterswithoutdigits", "12345678901234"] {
        let reply = change(STAFF_PASSWORD, weak)
            .await
            .expect_problem(422, "validation.failed");
        assert_eq!(
            reply.body["errors"][0]["field"], "new_password",
            "{}",
            reply.raw
        );
    }
    // Nothing changed so far.
    me(&app, &other.access).await.expect(200);

    change(STAFF_PASSWORD, "a new password 2").await.expect(204);
    login(&app, &username, STAFF_PASSWORD)
        .await
        .expect_problem(401, "auth.invalid_credentials");
    login(&app, &username, "a new password 2").await.expect(200);
    // This session stays; the other one has ended, refresh token and all.
    me(&app, &token).await.expect(200);
    expect_unauthorized(me(&app, &other.access).await, "auth.session_ended");
    refresh(&app, &other.refresh)
        .await
        .expect_problem(401, "auth.invalid_refresh_token");
});

db_test!(residents_have_no_password_to_change, |app| {
    let resident = resident_token(&app, "sessions-resident").await;
    app.call_as(
        As::Token(&resident),
        Method::POST,
        "/api/v1/auth/password",
        Some(json!({"current_password": "x", "new_password": "a new password 2"})),
        &[],
    )
    .await
    .expect_problem(403, "auth.staff_only");
});

db_test!(me_describes_the_caller, |app| {
    let chain = app.create_unit_chain("甲").await;
    let token = app
        .staff_token(
            &[Permission::OrgRead, Permission::AuditRead],
            AssignmentScope::Offices([chain.office].into()),
        )
        .await;
    let reply = me(&app, &token).await.expect(200);
    assert_eq!(reply.body["kind"], "staff");
    assert_eq!(reply.body["office_id"], chain.office);
    assert_eq!(
        reply.body["mobile"], "13812345678",
        "their own phone, unmasked"
    );
    let held: BTreeSet<&str> = reply.body["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(held, BTreeSet::from(["org.read", "audit.read"]));

    let admin = me(&app, &app.admin_token).await.expect(200);
    assert_eq!(admin.body["username"], ADMIN_USERNAME);
    assert_eq!(
        admin.body["permissions"].as_array().map(Vec::len),
        Some(Permission::ALL.len())
    );

    let resident = resident_token(&app, "me-resident").await;
    let reply = me(&app, &resident).await.expect(200);
    assert_eq!(reply.body["kind"], "resident");
    assert_eq!(reply.body["permissions"], json!([]));
    assert_eq!(reply.body["username"], Value::Null);
});

// A burst of parallel guesses cannot all pass the throttle before any of
// them has failed: each attempt is counted when it starts.
db_test!(parallel_guesses_are_throttled_too, |app| {
    let guesses = (0..12).map(|n| {
        app.call_as(
            As::Nobody,
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"username": ADMIN_USERNAME, "password": format!("guess number {n}")})),
            &[],
        )
    });
    let replies = futures_util::future::join_all(guesses).await;
    let wrong = replies.iter().filter(|r| r.status.as_u16() == 401).count();
    let throttled = replies.iter().filter(|r| r.status.as_u16() == 429).count();
    assert_eq!(
        (wrong, throttled),
        (5, 7),
        "five attempts per account, then 429"
    );
});

// A resident whose session has ended is asked to sign in again (401), not
// told they are not staff.
db_test!(an_ended_resident_session_is_401_on_me, |app| {
    let resident = resident_token(&app, "ended-resident").await;
    app.call_as(
        As::Token(&resident),
        Method::POST,
        "/api/v1/auth/logout",
        None,
        &[],
    )
    .await
    .expect(204);
    expect_unauthorized(me(&app, &resident).await, "auth.session_ended");
});

// Signing out and a replayed refresh token are in the audit log.
db_test!(sign_out_and_refresh_reuse_are_audited, |app| {
    let tokens = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    refresh(&app, &tokens.refresh).await.expect(200);
    refresh(&app, &tokens.refresh).await.expect(401);
    let second = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    app.call_as(
        As::Token(&second.access),
        Method::POST,
        "/api/v1/auth/logout",
        None,
        &[],
    )
    .await
    .expect(204);
    let events = app
        .get("/api/v1/audit-events?resource_type=session")
        .await
        .expect(200);
    let actions: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"sign_out"), "{actions:?}");
    assert!(actions.contains(&"refresh_token_reused"), "{actions:?}");
});

// Sessions that ended more than a day ago are purged with their refresh
// tokens; live ones keep every token (a replay must still be recognised).
db_test!(ended_sessions_are_purged_after_a_day, |app| {
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use wuye_persistence::access::sessions;
    use wuye_persistence::schema::{refresh_tokens, sessions as table};

    let ended = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    app.call_as(
        As::Token(&ended.access),
        Method::POST,
        "/api/v1/auth/logout",
        None,
        &[],
    )
    .await
    .expect(204);
    let live = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    refresh(&app, &live.refresh).await.expect(200);

    // Only a session revoked longer ago than the retention goes.
    let purged = app.db.write(sessions::purge_ended).await.unwrap();
    assert_eq!(purged, 0, "a session revoked just now is kept");
    let two_days_ago = wuye_persistence::clock::now() - chrono::Duration::days(2);
    let counts = app
        .db
        .write(move |conn| {
            diesel::update(table::table.filter(table::revoked_at.is_not_null()))
                .set(table::revoked_at.eq(Some(two_days_ago)))
                .execute(conn)?;
            let purged = sessions::purge_ended(conn)?;
            let sessions_left: i64 = table::table.count().get_result(conn)?;
            let tokens_left: i64 = refresh_tokens::table.count().get_result(conn)?;
            Ok::<_, wuye_persistence::StoreError>((purged, sessions_left, tokens_left))
        })
        .await
        .unwrap();
    // The test app's own sign-in session and `live` remain, with their
    // tokens: one each, plus the rotated one of `live`.
    assert_eq!(counts, (1, 2, 3));
    me(&app, &live.access).await.expect(200);
});
