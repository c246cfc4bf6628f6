//! The role × route matrix, generated from the route table: every operation
//! of the contract (which is built from the same registration the server
//! uses) is called without a credential, with a garbage one, with every
//! permission but its own, and with only its own. A route added tomorrow
//! is in the matrix without anyone remembering to add it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::Method;
use serde_json::{Map, Value, json};
use wuye_domain::access::{AssignmentScope, Permission};

use super::{expect_unauthorized, resident_token, sign_in};
use crate::db_test;
use crate::support::{ADMIN_PASSWORD, ADMIN_USERNAME, As, Reply, TestApp, shared_wechat};

/// Operations in the contract when this was written (6 public, the rest
/// protected): the document may grow, but an empty or truncated one must
/// not pass.
const KNOWN_OPERATIONS: usize = 66;
/// Protected ones among them.
const KNOWN_PROTECTED: usize = 60;

/// Who an operation is for, from its security requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Audience {
    /// `security(())`: callable without credentials.
    Public,
    /// Any signed-in staff member or resident.
    SignedIn,
    /// Residents' own routes.
    Resident,
    /// Holders of this permission.
    Permission(Permission),
}

/// One operation of the contract, ready to be sent.
#[derive(Debug)]
struct Case {
    operation_id: String,
    method: Method,
    template: String,
    path: String,
    audience: Audience,
    body: Option<Value>,
    headers: Vec<(String, String)>,
}

impl Case {
    fn name(&self) -> String {
        format!("{} {} ({})", self.method, self.template, self.operation_id)
    }

    async fn send(&self, app: &TestApp, who: As<'_>) -> Reply {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let reply = app
            .call_as(
                who,
                self.method.clone(),
                &self.path,
                self.body.clone(),
                &headers,
            )
            .await;
        assert!(
            reply.status.as_u16() < 500,
            "{}: {} {}",
            self.name(),
            reply.status,
            reply.raw
        );
        reply
    }
}

/// Every operation of the contract, in path order.
fn cases() -> Vec<Case> {
    let document = wuye_api::openapi::document();
    let json = serde_json::to_value(&document).expect("contract as JSON");
    let mut cases = Vec::new();
    for (template, item) in &document.paths.paths {
        let operations = [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let permission = wuye_api::openapi::required_permission(operation);
            let spec = &json["paths"][template][method.as_str().to_lowercase()];
            let operation_id = spec["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {template} has no operationId"))
                .to_owned();
            let audience = match permission.as_deref() {
                None => Audience::Public,
                Some("") => Audience::SignedIn,
                Some("resident") => Audience::Resident,
                Some(code) => Audience::Permission(
                    code.parse()
                        .unwrap_or_else(|_| panic!("{operation_id}: unknown permission {code}")),
                ),
            };
            assert_eq!(
                spec.get("x-permission").and_then(Value::as_str),
                permission.as_deref(),
                "{operation_id}: x-permission disagrees with the security requirement"
            );
            if audience != Audience::Public {
                for status in ["401", "403"] {
                    assert!(
                        spec["responses"].get(status).is_some(),
                        "{operation_id} does not document {status}"
                    );
                }
            }
            cases.push(Case {
                path: fill_path(&json, template, spec),
                body: request_body(&json, spec),
                headers: header_params(&json, spec),
                operation_id,
                method,
                template: template.clone(),
                audience,
            });
        }
    }
    cases
}

/// The path with every parameter filled in (ids as 1, which looks like a
/// record that may exist), plus the required query parameters.
fn fill_path(doc: &Value, template: &str, spec: &Value) -> String {
    let mut path = concrete(template);
    let query: Vec<String> = parameters(spec, "query")
        .filter(|p| p["required"] == true)
        .map(|p| {
            let value = sample(doc, &p["schema"]);
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            format!("{}={}", p["name"].as_str().unwrap_or_default(), text)
        })
        .collect();
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

/// `template` with every path parameter as 1.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn parameters<'a>(spec: &'a Value, location: &'a str) -> impl Iterator<Item = &'a Value> {
    spec["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |p| p["in"] == location)
}

/// `If-Match` (so a change reaches its authorisation instead of stopping
/// at 428) and every other required header.
fn header_params(doc: &Value, spec: &Value) -> Vec<(String, String)> {
    parameters(spec, "header")
        .filter_map(|p| {
            let name = p["name"].as_str()?.to_owned();
            if name.eq_ignore_ascii_case("if-match") {
                return Some((name, "\"1\"".to_owned()));
            }
            if p["required"] != true {
                return None;
            }
            let value = sample(doc, &p["schema"]);
            Some((
                name,
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned),
            ))
        })
        .collect()
}

static CODES: AtomicU64 = AtomicU64::new(0);

/// A request body that passes the operation's own checks where the
/// contract gives an example (every create and update does), so that what
/// the matrix sees is the authorisation, not a 422.
fn request_body(doc: &Value, spec: &Value) -> Option<Value> {
    let operation_id = spec["operationId"].as_str().unwrap_or_default();
    // Operations whose example could not succeed, or would succeed too
    // well: a sign-in with the example's made-up account is a 401 that has
    // nothing to do with this matrix.
    match operation_id {
        "login" => return Some(json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
        "wechat_login" => {
            let n = CODES.fetch_add(1, Ordering::Relaxed);
            let code = shared_wechat().login_code(&format!("matrix-openid-{n}"), None);
            return Some(json!({ "code": code }));
        }
        // A wrong current password is a legitimate 401 of its own; a new
        // password too weak to accept stops the change (422) without
        // touching the account.
        "change_password" => {
            return Some(json!({"current_password": "not it", "new_password": "weak"}));
        }
        _ => {}
    }
    let media = spec["requestBody"]["content"].as_object()?;
    let json_media = media
        .get("application/json")
        .unwrap_or_else(|| panic!("{operation_id}: only JSON bodies are sampled so far"));
    if let Some(example) = json_media.get("example") {
        return Some(example.clone());
    }
    Some(sample(doc, &json_media["schema"]))
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A value of `schema`: its example when it has one, else the smallest
/// value its constraints allow (required properties only).
fn sample(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    if let Some(example) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|examples| examples.first())
        .or_else(|| schema.get("example"))
    {
        return example.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return first.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|variants| variants.iter().find(|v| v["type"] != "null"))
        {
            return sample(doc, first);
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(fields) = sample(doc, part) {
                merged.extend(fields);
            }
        }
        return Value::Object(merged);
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.as_str(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "null",
    };
    let minimum = schema.get("minimum").and_then(Value::as_f64);
    match kind {
        "object" => {
            let required: BTreeSet<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields = schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(name, _)| required.contains(name.as_str()))
                .map(|(name, property)| (name.clone(), sample(doc, property)))
                .collect();
            Value::Object(fields)
        }
        "array" => {
            let count = schema["minItems"].as_u64().unwrap_or(0);
            Value::Array((0..count).map(|_| sample(doc, &schema["items"])).collect())
        }
        "string" => match schema["format"].as_str() {
            Some("date") => json!("2026-12-04"),
            Some("date-time") => json!("2026-12-04T08:00:00Z"),
            _ => {
                let length = schema["minLength"].as_u64().unwrap_or(1).max(1);
                json!("a".repeat(usize::try_from(length).unwrap_or(1)))
            }
        },
        "integer" => json!(minimum.map_or(1, |m| (m as i64).max(1))),
        "number" => json!(minimum.unwrap_or(1.0)),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

/// The tokens the matrix calls with, made once per app.
struct Callers {
    /// Every permission, company-wide.
    everything: String,
    /// Only this permission, company-wide.
    only: Vec<(Permission, String)>,
    /// Every permission but this one, company-wide.
    all_but: Vec<(Permission, String)>,
}

impl Callers {
    async fn new(app: &TestApp) -> Self {
        let mut only = Vec::new();
        let mut all_but = Vec::new();
        for &permission in Permission::ALL {
            only.push((
                permission,
                app.staff_token(&[permission], AssignmentScope::Company)
                    .await,
            ));
            let others: Vec<Permission> = Permission::ALL
                .iter()
                .copied()
                .filter(|p| *p != permission)
                .collect();
            all_but.push((
                permission,
                app.staff_token(&others, AssignmentScope::Company).await,
            ));
        }
        Self {
            everything: app
                .staff_token(Permission::ALL, AssignmentScope::Company)
                .await,
            only,
            all_but,
        }
    }

    fn only(&self, permission: Permission) -> &str {
        &self
            .only
            .iter()
            .find(|(p, _)| *p == permission)
            .expect("token")
            .1
    }

    fn all_but(&self, permission: Permission) -> &str {
        &self
            .all_but
            .iter()
            .find(|(p, _)| *p == permission)
            .expect("token")
            .1
    }
}

const GARBAGE_JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdGFmZjoxIn0.bm90IGEgc2lnbmF0dXJl";
const GARBAGE_KEY: &str = "wuye_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

db_test!(every_operation_is_guarded_by_its_permission, |app| {
    let cases = cases();
    assert!(
        cases.len() >= KNOWN_OPERATIONS,
        "the contract lists {} operations, fewer than the {KNOWN_OPERATIONS} known",
        cases.len()
    );
    let protected = cases
        .iter()
        .filter(|c| c.audience != Audience::Public)
        .count();
    assert!(
        protected >= KNOWN_PROTECTED,
        "only {protected} protected operations"
    );
    let callers = Callers::new(&app).await;

    // Refusals first: they change nothing, so every one of them sees the
    // same database.
    for case in cases.iter().filter(|c| c.audience != Audience::Public) {
        let name = case.name();
        let reply = case.send(&app, As::Nobody).await;
        assert_eq!(
            reply.status, 401,
            "{name} without a credential: {}",
            reply.raw
        );
        expect_unauthorized(reply, "auth.unauthenticated");
        for garbage in [GARBAGE_JWT, GARBAGE_KEY] {
            let reply = case.send(&app, As::Token(garbage)).await;
            assert_eq!(reply.status, 401, "{name} with {garbage}: {}", reply.raw);
            expect_unauthorized(reply, "auth.invalid_token");
        }
        match &case.audience {
            Audience::Permission(permission) => {
                let reply = case
                    .send(&app, As::Token(callers.all_but(*permission)))
                    .await;
                assert_eq!(
                    reply.status, 403,
                    "{name} with every permission but {permission}: {}",
                    reply.raw
                );
                reply.expect_problem(403, "auth.forbidden");
            }
            Audience::Resident => {
                let reply = case.send(&app, As::Token(&callers.everything)).await;
                assert_eq!(reply.status, 403, "{name} as staff: {}", reply.raw);
            }
            // Any signed-in caller may: nothing to withhold.
            Audience::SignedIn | Audience::Public => {}
        }
    }

    // Then the callers who may: whatever the answer, it is not a refusal
    // of their credential or of the permission the contract names.
    let mut residents = 0;
    for case in cases.iter().filter(|c| c.audience != Audience::Public) {
        let name = case.name();
        let fresh;
        let who = match &case.audience {
            Audience::Public => unreachable!("public operations have a test of their own"),
            Audience::Permission(permission) => As::Token(callers.only(*permission)),
            // A fresh session each, since one of them is logout.
            Audience::SignedIn => {
                fresh = app.staff_token(&[], AssignmentScope::Company).await;
                As::Token(&fresh)
            }
            Audience::Resident => {
                residents += 1;
                fresh = resident_token(&app, &format!("matrix-resident-{residents}")).await;
                As::Token(&fresh)
            }
        };
        let reply = case.send(&app, who).await;
        // A 403 of the operation's own rules (granting more than one
        // holds, a company-level record with an office scope) may follow;
        // the refusal of the caller's permission may not.
        assert!(
            reply.status != 401 && reply.body["code"] != "auth.forbidden",
            "{name} as {:?}: {} {}",
            case.audience,
            reply.status,
            reply.raw
        );
        assert!(
            reply.header("www-authenticate").is_none(),
            "{name}: an authorised call must not be challenged"
        );
    }
});

db_test!(public_operations_answer_without_a_token, |app| {
    let cases = cases();
    let public: Vec<&str> = cases
        .iter()
        .filter(|c| c.audience == Audience::Public)
        .map(|c| c.operation_id.as_str())
        .collect();
    for expected in [
        "login",
        "refresh_token",
        "wechat_login",
        "get_healthz",
        "get_readyz",
        "get_metrics",
    ] {
        assert!(
            public.contains(&expected),
            "{expected} is not public: {public:?}"
        );
    }
    for case in cases.iter().filter(|c| c.audience == Audience::Public) {
        let mut case_body = case.body.clone();
        if case.operation_id == "refresh_token" {
            let tokens = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
            case_body = Some(json!({ "refresh_token": tokens.refresh }));
        }
        let reply = app
            .call_as(As::Nobody, case.method.clone(), &case.path, case_body, &[])
            .await;
        assert!(
            reply.status.is_success(),
            "{} without a token: {} {}",
            case.name(),
            reply.status,
            reply.raw
        );
    }
});

db_test!(undocumented_methods_are_405_even_without_a_token, |app| {
    let document = wuye_api::openapi::document();
    let mut checked = 0;
    for (template, item) in &document.paths.paths {
        let documented = [
            (Method::PUT, item.put.is_some()),
            (Method::PATCH, item.patch.is_some()),
            (Method::DELETE, item.delete.is_some()),
        ];
        let path = concrete(template);
        for (method, present) in documented {
            if present {
                continue;
            }
            let reply = app
                .call_as(As::Nobody, method.clone(), &path, None, &[])
                .await
                .expect_problem(405, "method.not_allowed");
            assert!(reply.header("allow").is_some(), "{method} {path}");
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} method checks");
    // The audit log in particular can be neither edited nor deleted.
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let reply = app
            .call(method, "/api/v1/audit-events", Some(json!({})), &[])
            .await
            .expect_problem(405, "method.not_allowed");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
});
