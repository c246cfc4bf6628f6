//! The access administration API, through HTTP: staff accounts, their
//! contact details and passwords, roles and role assignments, integration
//! keys — including the delegation guards (nobody grants more than they
//! hold) and office isolation between administrators.

use actix_web::http::Method;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::{Value, json};
use wuye_domain::access::{AssignmentScope, Permission};
use wuye_persistence::StoreError;

#[allow(unused_imports)]
use crate::db_test;
use crate::support::{As, Reply, TestApp};

mod api_keys;
mod roles;
mod users;

const USERS: &str = "/api/v1/users";
const ROLES: &str = "/api/v1/roles";
const API_KEYS: &str = "/api/v1/api-keys";
const PERMISSIONS: &str = "/api/v1/permissions";
const HOUSES: &str = "/api/v1/houses";

/// The initial password of accounts the tests create.
const PASSWORD: &str = "initial pass 1";

/// The record at `id` of a collection.
fn at(collection: &str, id: i64) -> String {
    format!("{collection}/{id}")
}

/// The `items` of a list answer.
#[track_caller]
fn items(reply: &Reply) -> &Vec<Value> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.raw))
}

/// The ids of a list answer, in order.
#[track_caller]
fn ids(reply: &Reply) -> Vec<i64> {
    items(reply)
        .iter()
        .map(|item| item["id"].as_i64().expect("item id"))
        .collect()
}

/// Asserts a 422 `validation.failed` listing exactly these field errors
/// (in any order), each with a message.
#[track_caller]
fn assert_invalid(reply: Reply, expected: &[(&str, &str)]) -> Reply {
    let reply = reply.expect_problem(422, "validation.failed");
    let mut found: Vec<(String, String)> = reply.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            assert!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "field error without a message: {}",
                reply.raw
            );
            (
                e["field"].as_str().unwrap_or_default().to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected, "{}", reply.raw);
    reply
}

/// A valid account body.
fn user_body(username: &str, office_id: Option<i64>) -> Value {
    json!({
        "username": username,
        "display_name": format!("{username} 的名字"),
        "mobile": "13812345678",
        "office_id": office_id,
        "password": PASSWORD,
    })
}

/// Creates an account as the administrator; returns its id.
async fn create_user(app: &TestApp, username: &str, office_id: Option<i64>) -> i64 {
    app.post(USERS, user_body(username, office_id))
        .await
        .expect(201)
        .id()
}

/// A custom role holding `permissions`, created by the administrator.
async fn create_role(app: &TestApp, name: &str, permissions: &[&str]) -> i64 {
    app.post(ROLES, json!({ "name": name, "permissions": permissions }))
        .await
        .expect(201)
        .id()
}

/// The id of a built-in role.
async fn builtin_role(app: &TestApp, code: &str) -> i64 {
    let page = app.get(&format!("{ROLES}?limit=200")).await.expect(200);
    items(&page)
        .iter()
        .find(|role| role["code"] == code)
        .and_then(|role| role["id"].as_i64())
        .unwrap_or_else(|| panic!("no built-in role {code}"))
}

/// `POST /users/{id}/role-assignments` as `who`.
async fn assign(app: &TestApp, who: As<'_>, user: i64, role: i64, scope: Value) -> Reply {
    app.call_as(
        who,
        Method::POST,
        &format!("{USERS}/{user}/role-assignments"),
        Some(json!({ "role_id": role, "scope": scope })),
        &[],
    )
    .await
}

/// An office scope body.
fn offices(ids: &[i64]) -> Value {
    json!({ "kind": "offices", "office_ids": ids })
}

/// The company scope body.
fn company() -> Value {
    json!({ "kind": "company" })
}

/// A staff member of `office` administering accounts there
/// (`access.read` + `access.write` + `org.read`, scoped to that office);
/// returns their token.
async fn office_admin(app: &TestApp, office: i64) -> String {
    app.staff_token(
        &[
            Permission::AccessRead,
            Permission::AccessWrite,
            Permission::OrgRead,
        ],
        AssignmentScope::Offices([office].into()),
    )
    .await
}

/// The account id behind a staff token.
async fn me(app: &TestApp, token: &str) -> i64 {
    app.call_as(As::Token(token), Method::GET, "/api/v1/auth/me", None, &[])
        .await
        .expect(200)
        .id()
}

/// `GET path` as `token`.
async fn get_as(app: &TestApp, token: &str, path: &str) -> Reply {
    app.call_as(As::Token(token), Method::GET, path, None, &[])
        .await
}

/// `POST path` with `body` as `token`.
async fn post_as(app: &TestApp, token: &str, path: &str, body: Value) -> Reply {
    app.call_as(As::Token(token), Method::POST, path, Some(body), &[])
        .await
}

/// One stored audit event.
#[derive(Debug, Clone)]
struct Event {
    actor_kind: String,
    actor_id: Option<i64>,
    resource_type: String,
    resource_id: Option<i64>,
    changes: Value,
}

/// An audit row as loaded: actor kind and id, resource type and id, changes.
type EventColumns = (String, Option<i64>, String, Option<i64>, String);

/// The audit events of `action`, oldest first, read straight from storage.
async fn events(app: &TestApp, action: &'static str) -> Vec<Event> {
    use wuye_persistence::schema::audit_events::dsl;
    app.db
        .read(move |conn| -> Result<Vec<Event>, StoreError> {
            let rows: Vec<EventColumns> = dsl::audit_events
                .filter(dsl::action.eq(action))
                .order(dsl::id.asc())
                .select((
                    dsl::actor_kind,
                    dsl::actor_id,
                    dsl::resource_type,
                    dsl::resource_id,
                    dsl::changes,
                ))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(
                    |(actor_kind, actor_id, resource_type, resource_id, changes)| Event {
                        actor_kind,
                        actor_id,
                        resource_type,
                        resource_id,
                        changes: serde_json::from_str(&changes).expect("changes are JSON"),
                    },
                )
                .collect())
        })
        .await
        .expect("read audit events")
}

/// Every audit event's `changes`, as stored text, for "never logged" checks.
async fn all_audit_text(app: &TestApp) -> String {
    use wuye_persistence::schema::audit_events::dsl;
    app.db
        .read(|conn| -> Result<Vec<String>, StoreError> {
            Ok(dsl::audit_events.select(dsl::changes).load(conn)?)
        })
        .await
        .expect("read audit events")
        .join("\n")
}
