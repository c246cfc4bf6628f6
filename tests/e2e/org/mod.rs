//! Organisation and estate behaviour (domain.md §1), through the HTTP API:
//! company settings, management offices, estates, buildings, units, houses.

use actix_web::http::Method;
use diesel::{QueryDsl, RunQueryDsl};
use serde_json::{Value, json};
use wuye_persistence::StoreError;

#[allow(unused_imports)]
use crate::db_test;
use crate::support::{Reply, TestApp, house_body};

mod buildings;
mod company;
mod estates;
mod houses;
mod offices;
mod shared;
mod units;

const COMPANY: &str = "/api/v1/company";
const OFFICES: &str = "/api/v1/offices";
const ESTATES: &str = "/api/v1/estates";
const BUILDINGS: &str = "/api/v1/buildings";
const UNITS: &str = "/api/v1/units";
const HOUSES: &str = "/api/v1/houses";

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

/// One text field of every item of a list answer, in order.
#[track_caller]
fn texts(reply: &Reply, field: &str) -> Vec<String> {
    items(reply)
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .unwrap_or_else(|| panic!("no {field} in {item}"))
                .to_owned()
        })
        .collect()
}

/// `(field, code)` of every field error of a problem.
fn field_errors(reply: &Reply) -> Vec<(String, String)> {
    reply.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or_default().to_owned(),
                        e["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a 422 `validation.failed` listing exactly these field errors,
/// each with a message.
#[track_caller]
fn assert_invalid(reply: Reply, expected: &[(&str, &str)]) -> Reply {
    let reply = reply.expect_problem(422, "validation.failed");
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(field_errors(&reply), expected, "{}", reply.raw);
    for error in reply.body["errors"].as_array().into_iter().flatten() {
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "field error without a message: {}",
            reply.raw
        );
    }
    reply
}

/// Asserts a 409 `conflict.duplicate` on `field`.
#[track_caller]
fn assert_duplicate(reply: Reply, field: &str) -> Reply {
    let reply = reply.expect_problem(409, "conflict.duplicate");
    assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.raw);
    assert_eq!(
        reply.body["errors"][0]["code"], "duplicate",
        "{}",
        reply.raw
    );
    reply
}

/// Asserts a 201 with `Location` at the new record and `ETag` `"1"`.
#[track_caller]
fn assert_created(reply: Reply, collection: &str) -> Reply {
    let reply = reply.expect(201);
    let id = reply.id();
    let location = at(collection, id);
    assert_eq!(reply.header("location"), Some(location.as_str()));
    assert_eq!(reply.etag(), "\"1\"");
    assert_eq!(reply.body["version"], 1);
    assert_eq!(reply.body["archived_at"], Value::Null);
    assert!(reply.body["created_at"].as_str().is_some_and(is_utc));
    assert_eq!(reply.body["created_at"], reply.body["updated_at"]);
    reply
}

/// RFC 3339 in UTC.
fn is_utc(text: &str) -> bool {
    text.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// A list that must succeed.
async fn list(app: &TestApp, url: &str) -> Reply {
    let reply = app.get(url).await.expect(200);
    assert!(reply.body["items"].is_array(), "{}", reply.raw);
    reply
}

/// The current `ETag` of a record.
async fn etag_of(app: &TestApp, path: &str) -> String {
    app.get(path).await.expect(200).etag()
}

/// Archives a record at its current version; must succeed.
async fn archive_now(app: &TestApp, path: &str) -> Reply {
    let etag = etag_of(app, path).await;
    app.archive(path, &etag).await.expect(200)
}

/// Tries to archive a record at its current version.
async fn try_archive(app: &TestApp, path: &str) -> Reply {
    let etag = etag_of(app, path).await;
    app.archive(path, &etag).await
}

/// A house with its own areas and type.
fn house_with(unit_id: i64, number: &str, floor: i32, house_type: &str, state: &str) -> Value {
    let mut body = house_body(unit_id, number, floor);
    body["house_type"] = json!(house_type);
    body["state"] = json!(state);
    body
}

/// The stored tables, for "nothing was written" checks.
#[derive(Debug, Clone, Copy)]
enum Table {
    Offices,
    Estates,
    Buildings,
    Units,
    Houses,
}

/// How many rows a table holds, archived or not, read straight from storage.
async fn stored(app: &TestApp, table: Table) -> i64 {
    app.db
        .read(move |conn| -> Result<i64, StoreError> {
            use wuye_persistence::schema::{buildings, estates, houses, offices, units};
            Ok(match table {
                Table::Offices => offices::table.count().get_result(conn)?,
                Table::Estates => estates::table.count().get_result(conn)?,
                Table::Buildings => buildings::table.count().get_result(conn)?,
                Table::Units => units::table.count().get_result(conn)?,
                Table::Houses => houses::table.count().get_result(conn)?,
            })
        })
        .await
        .expect("count rows")
}
