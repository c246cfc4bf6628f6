//! Organisation and estate behaviour (domain.md §1), through the HTTP API:
//! company settings, management offices, estates, buildings, units, houses.

use actix_web::http::Method;
use diesel::{QueryDsl, RunQueryDsl};
use serde_json::{Value, json};
use wuye_persistence::StoreError;

#[allow(unused_imports)]
use crate::db_test;
use crate::support::{Reply, TestApp, house_body};

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

// ---------------------------------------------------------------------------
// Company settings

// domain.md §1, R-VIP-4, R-X-3: the company starts with prefix JK and Asia/Shanghai.
db_test!(company_settings_start_with_the_defaults, |app| {
    let reply = app.get(COMPANY).await.expect(200);
    assert_eq!(reply.etag(), "\"1\"");
    assert_eq!(reply.body["vip_card_prefix"], "JK");
    assert_eq!(reply.body["time_zone"], "Asia/Shanghai");
    assert_eq!(reply.body["version"], 1);
    assert!(reply.body["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(reply.body["created_at"].as_str().is_some_and(is_utc));
    assert!(reply.body["updated_at"].as_str().is_some_and(is_utc));
});

// R-VIP-4, R-X-3: the prefix and time zone are configurable; each change bumps the version.
db_test!(
    company_patch_changes_settings_and_bumps_the_version,
    |app| {
        let reply = app
            .patch(
                COMPANY,
                "\"1\"",
                json!({
                    "name": "北京阳光物业管理有限公司",
                    "vip_card_prefix": "YG",
                    "time_zone": "Asia/Urumqi"
                }),
            )
            .await
            .expect(200);
        assert_eq!(reply.etag(), "\"2\"");
        assert_eq!(reply.body["version"], 2);
        assert_eq!(reply.body["name"], "北京阳光物业管理有限公司");
        assert_eq!(reply.body["vip_card_prefix"], "YG");
        assert_eq!(reply.body["time_zone"], "Asia/Urumqi");

        // Absent fields stay.
        let reply = app
            .patch(COMPANY, "\"2\"", json!({ "time_zone": "Asia/Shanghai" }))
            .await
            .expect(200);
        assert_eq!(reply.etag(), "\"3\"");
        assert_eq!(reply.body["name"], "北京阳光物业管理有限公司");
        assert_eq!(reply.body["vip_card_prefix"], "YG");
        assert_eq!(reply.body["time_zone"], "Asia/Shanghai");

        let read = app.get(COMPANY).await.expect(200);
        assert_eq!(read.etag(), "\"3\"");
        assert_eq!(read.body, reply.body);

        // The old version is stale now.
        app.patch(COMPANY, "\"2\"", json!({ "vip_card_prefix": "AB" }))
            .await
            .expect_problem(412, "precondition.failed");
    }
);

// R-VIP-4: the card prefix is exactly two capital letters.
db_test!(company_rejects_an_invalid_vip_card_prefix, |app| {
    for prefix in ["jk", "J", "JKL", "J1", "京K", ""] {
        let reply = app
            .patch(COMPANY, "\"1\"", json!({ "vip_card_prefix": prefix }))
            .await;
        assert_invalid(reply, &[("vip_card_prefix", "invalid_vip_card_prefix")]);
    }
    let read = app.get(COMPANY).await.expect(200);
    assert_eq!(read.body["vip_card_prefix"], "JK");
    assert_eq!(read.etag(), "\"1\"");
});

// R-X-3: the company time zone must be an IANA name.
db_test!(company_rejects_an_unknown_time_zone, |app| {
    for zone in ["Mars/Olympus_Mons", "Beijing", "UTC+8"] {
        let reply = app
            .patch(COMPANY, "\"1\"", json!({ "time_zone": zone }))
            .await;
        assert_invalid(reply, &[("time_zone", "unknown_time_zone")]);
    }
    let read = app.get(COMPANY).await.expect(200);
    assert_eq!(read.body["time_zone"], "Asia/Shanghai");
    assert_eq!(read.etag(), "\"1\"");
});

// Validation reports every invalid field of the company settings at once.
db_test!(company_reports_every_invalid_field_at_once, |app| {
    let reply = app
        .patch(
            COMPANY,
            "\"1\"",
            json!({ "name": "  ", "vip_card_prefix": "jk", "time_zone": "Nowhere/City" }),
        )
        .await;
    let reply = assert_invalid(
        reply,
        &[
            ("name", "blank"),
            ("vip_card_prefix", "invalid_vip_card_prefix"),
            ("time_zone", "unknown_time_zone"),
        ],
    );
    assert!(reply.body["detail"].as_str().unwrap().contains('3'));
    let read = app.get(COMPANY).await.expect(200);
    assert_eq!(read.body["vip_card_prefix"], "JK");
    assert_eq!(read.body["version"], 1);
});

// ---------------------------------------------------------------------------
// Any resource

// Every organisation resource answers 404 `not_found` for an id it does not hold.
db_test!(unknown_ids_are_404_not_found, |app| {
    for collection in [OFFICES, ESTATES, BUILDINGS, UNITS, HOUSES] {
        let reply = app
            .get(&at(collection, 987_654))
            .await
            .expect_problem(404, "not_found");
        assert!(reply.header("etag").is_none(), "{collection}");
        app.patch(&at(collection, 987_654), "\"1\"", json!({}))
            .await
            .expect_problem(404, "not_found");
        app.archive(&at(collection, 987_654), "\"1\"")
            .await
            .expect_problem(404, "not_found");
    }
});

// domain.md §1: Chinese names and numbers are stored and listed exactly as sent.
db_test!(chinese_text_round_trips, |app| {
    let office = app
        .post(
            OFFICES,
            json!({ "name": "阳光花园管理处", "address": "北京市朝阳区阳光路1号" }),
        )
        .await;
    let office = assert_created(office, OFFICES).id();
    let estate = app.create_estate(office, "阳光花园").await;
    let building = app.create_building(estate, "阳光花园3号楼").await;
    let unit = app.create_unit(building, "二单元").await;
    let house = app.create_house(unit, "甲-1502", 15).await;

    let read = app.get(&at(OFFICES, office)).await.expect(200);
    assert_eq!(read.body["name"], "阳光花园管理处");
    assert_eq!(read.body["address"], "北京市朝阳区阳光路1号");
    assert_eq!(
        app.get(&at(ESTATES, estate)).await.expect(200).body["name"],
        "阳光花园"
    );
    assert_eq!(
        app.get(&at(BUILDINGS, building)).await.expect(200).body["name"],
        "阳光花园3号楼"
    );
    assert_eq!(
        app.get(&at(UNITS, unit)).await.expect(200).body["name"],
        "二单元"
    );
    assert_eq!(
        app.get(&at(HOUSES, house)).await.expect(200).body["number"],
        "甲-1502"
    );

    let found = list(&app, &format!("{BUILDINGS}?q=3%E5%8F%B7%E6%A5%BC")).await; // q=3号楼
    assert_eq!(texts(&found, "name"), ["阳光花园3号楼"]);
    let found = list(&app, &format!("{HOUSES}?q=%E7%94%B2")).await; // q=甲
    assert_eq!(ids(&found), [house]);
});

// ---------------------------------------------------------------------------
// Offices

// domain.md §1: a management office is created with its contact details.
db_test!(office_create_answers_201_with_location_and_etag, |app| {
    let reply = app
        .post(
            OFFICES,
            json!({
                "name": "  阳光花园管理处 ",
                "code": "GL-01",
                "phone": "010-88886666",
                "address": "北京市朝阳区阳光路 1 号"
            }),
        )
        .await;
    let reply = assert_created(reply, OFFICES);
    assert_eq!(reply.body["name"], "阳光花园管理处", "names are trimmed");
    assert_eq!(reply.body["code"], "GL-01");
    assert_eq!(reply.body["phone"], "010-88886666");
    assert_eq!(reply.body["address"], "北京市朝阳区阳光路 1 号");

    let read = app.get(&at(OFFICES, reply.id())).await.expect(200);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body, reply.body);

    let bare = app.post(OFFICES, json!({ "name": "东区管理处" })).await;
    let bare = assert_created(bare, OFFICES);
    assert_eq!(bare.body["code"], Value::Null);
    assert_eq!(bare.body["phone"], Value::Null);
    assert_eq!(bare.body["address"], Value::Null);
    assert_eq!(stored(&app, Table::Offices).await, 2);
});

// PATCH changes the given fields, `null` clears code/phone/address, absent fields stay.
db_test!(office_patch_sets_clears_and_keeps_fields, |app| {
    let id = app
        .post(
            OFFICES,
            json!({ "name": "西区管理处", "code": "W-1", "phone": "010-1", "address": "西路 1 号" }),
        )
        .await
        .expect(201)
        .id();
    let path = at(OFFICES, id);

    let reply = app
        .patch(&path, "\"1\"", json!({ "phone": "010-2", "code": null }))
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"2\"");
    assert_eq!(reply.body["version"], 2);
    assert_eq!(reply.body["phone"], "010-2");
    assert_eq!(reply.body["code"], Value::Null);
    assert_eq!(reply.body["name"], "西区管理处");
    assert_eq!(reply.body["address"], "西路 1 号");
    assert!(reply.body["updated_at"].as_str().is_some_and(is_utc));

    let reply = app
        .patch(
            &path,
            "\"2\"",
            json!({ "name": "西区第一管理处", "address": null, "phone": null }),
        )
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"3\"");
    assert_eq!(reply.body["name"], "西区第一管理处");
    assert_eq!(reply.body["address"], Value::Null);
    assert_eq!(reply.body["phone"], Value::Null);
    assert_eq!(reply.body["code"], Value::Null);

    let read = app.get(&path).await.expect(200);
    assert_eq!(read.body, reply.body);

    // The name is required: it cannot be cleared or blanked.
    app.patch(&path, "\"3\"", json!({ "name": null }))
        .await
        .expect_problem(422, "request.invalid_body");
    assert_invalid(
        app.patch(&path, "\"3\"", json!({ "name": " ", "code": "" }))
            .await,
        &[("name", "blank"), ("code", "blank")],
    );
    assert_eq!(etag_of(&app, &path).await, "\"3\"");
});

// domain.md §1: office names are unique among active offices; archived names can be reused.
db_test!(office_names_are_unique_among_active_offices, |app| {
    let first = app.create_office("阳光花园管理处").await;
    let reply = app
        .post(OFFICES, json!({ "name": " 阳光花园管理处  " }))
        .await;
    assert_duplicate(reply, "name");
    assert_eq!(stored(&app, Table::Offices).await, 1);

    archive_now(&app, &at(OFFICES, first)).await;
    let again = app.post(OFFICES, json!({ "name": "阳光花园管理处" })).await;
    let again = assert_created(again, OFFICES);
    assert_ne!(again.id(), first);
});

// Renaming an office into an active sibling's name is a 409 and changes nothing.
db_test!(office_rename_into_a_duplicate_is_409, |app| {
    app.create_office("东区管理处").await;
    let west = app.create_office("西区管理处").await;
    let reply = app
        .patch(&at(OFFICES, west), "\"1\"", json!({ "name": "东区管理处" }))
        .await;
    assert_duplicate(reply, "name");
    let read = app.get(&at(OFFICES, west)).await.expect(200);
    assert_eq!(read.body["name"], "西区管理处");
    assert_eq!(read.etag(), "\"1\"");
});

// R-X-2: offices filter by name text (`%` and `_` literal, A–Z case-insensitive) and sort.
db_test!(office_list_filters_by_text_and_sorts, |app| {
    let a = app.create_office("b-Green 50% Park").await;
    let b = app.create_office("A-Green 50x Park").await;
    let c = app.create_office("a_b").await;
    let d = app.create_office("axb").await;
    let e = app.create_office("阳光").await;

    let all = list(&app, OFFICES).await;
    assert_eq!(ids(&all), [a, b, c, d, e]);
    assert_eq!(all.body["next_cursor"], Value::Null);

    let found = list(&app, &format!("{OFFICES}?q=50%25")).await;
    assert_eq!(ids(&found), [a], "% is literal");
    let found = list(&app, &format!("{OFFICES}?q=_")).await;
    assert_eq!(ids(&found), [c], "_ is literal");
    let found = list(&app, &format!("{OFFICES}?q=GREEN")).await;
    assert_eq!(ids(&found), [a, b], "case-insensitive for A–Z");
    let found = list(&app, &format!("{OFFICES}?q=nothing-like-it")).await;
    assert!(items(&found).is_empty());
    let slash = app.create_office("C\\D").await;
    let found = list(&app, &format!("{OFFICES}?q=%5C")).await;
    assert_eq!(ids(&found), [slash], "\\ is literal");
    archive_now(&app, &at(OFFICES, slash)).await;

    let sorted = list(&app, &format!("{OFFICES}?sort=-id")).await;
    assert_eq!(ids(&sorted), [e, d, c, b, a]);
    let sorted = list(&app, &format!("{OFFICES}?sort=name")).await;
    assert_eq!(
        texts(&sorted, "name"),
        ["A-Green 50x Park", "a_b", "axb", "b-Green 50% Park", "阳光"]
    );
    let sorted = list(&app, &format!("{OFFICES}?sort=-name")).await;
    assert_eq!(ids(&sorted), [e, a, d, c, b]);
});

// Name-sorted pages continue after the last name and id, so equal names
// (an archived office and its active successor) are neither skipped nor repeated.
db_test!(office_pages_sorted_by_name_break_ties_by_id, |app| {
    let old = app.create_office("B管理处").await;
    archive_now(&app, &at(OFFICES, old)).await;
    let new = app.create_office("B管理处").await;
    let a = app.create_office("A管理处").await;
    let c = app.create_office("C管理处").await;

    for (sort, expected) in [("name", [a, old, new, c]), ("-name", [c, new, old, a])] {
        let mut seen = Vec::new();
        let mut url = format!("{OFFICES}?archived=include&sort={sort}&limit=1");
        for _ in 0..10 {
            let page = list(&app, &url).await;
            assert_eq!(items(&page).len(), 1, "{}", page.raw);
            seen.extend(ids(&page));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => {
                    url = format!("{OFFICES}?archived=include&sort={sort}&limit=1&cursor={cursor}")
                }
                None => break,
            }
        }
        assert_eq!(seen, expected, "sort={sort}");
    }
});

// domain.md §1: archiving hides an office from the default list and freezes it.
db_test!(office_archive_hides_and_freezes_it, |app| {
    let kept = app.create_office("东区管理处").await;
    let gone = app.create_office("西区管理处").await;
    let path = at(OFFICES, gone);

    app.call(Method::POST, &format!("{path}/archive"), None, &[])
        .await
        .expect_problem(428, "precondition.required");
    let archived = app.archive(&path, "\"1\"").await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert_eq!(archived.body["version"], 2);
    assert!(archived.body["archived_at"].as_str().is_some_and(is_utc));
    assert_eq!(archived.body["name"], "西区管理处");

    assert_eq!(ids(&list(&app, OFFICES).await), [kept]);
    assert_eq!(
        ids(&list(&app, &format!("{OFFICES}?archived=exclude")).await),
        [kept]
    );
    assert_eq!(
        ids(&list(&app, &format!("{OFFICES}?archived=only")).await),
        [gone]
    );
    assert_eq!(
        ids(&list(&app, &format!("{OFFICES}?archived=include")).await),
        [kept, gone]
    );
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.body, archived.body);

    app.archive(&path, "\"2\"")
        .await
        .expect_problem(409, "conflict.archived");
    app.patch(&path, "\"2\"", json!({ "phone": "010-1" }))
        .await
        .expect_problem(409, "conflict.archived");
    assert_eq!(app.get(&path).await.expect(200).body, archived.body);
});

// domain.md §1: an office with active estates cannot be archived.
db_test!(office_with_active_estates_cannot_be_archived, |app| {
    let office = app.create_office("阳光花园管理处").await;
    let estate = app.create_estate(office, "阳光花园").await;
    let path = at(OFFICES, office);

    let reply = app
        .call(
            Method::POST,
            &format!("{path}/archive"),
            None,
            &[("If-Match", "\"1\""), ("Accept-Language", "zh-CN")],
        )
        .await
        .expect_problem(409, "conflict.has_active_children");
    assert!(reply.body["detail"].as_str().unwrap().contains("小区"));
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.body["archived_at"], Value::Null);
    assert_eq!(read.etag(), "\"1\"");

    archive_now(&app, &at(ESTATES, estate)).await;
    let archived = app.archive(&path, "\"1\"").await.expect(200);
    assert!(archived.body["archived_at"].is_string());
});

// ---------------------------------------------------------------------------
// Estates

// domain.md §1: an estate is created under an active management office.
db_test!(estate_create_answers_201_under_its_office, |app| {
    let office = app.create_office("阳光花园管理处").await;
    let reply = app
        .post(
            ESTATES,
            json!({ "office_id": office, "name": "阳光花园", "address": "北京市朝阳区阳光路 1 号" }),
        )
        .await;
    let reply = assert_created(reply, ESTATES);
    assert_eq!(reply.body["office_id"], office);
    assert_eq!(reply.body["name"], "阳光花园");
    assert_eq!(reply.body["address"], "北京市朝阳区阳光路 1 号");
    let read = app.get(&at(ESTATES, reply.id())).await.expect(200);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body, reply.body);
});

// An estate under an office that does not exist is refused and nothing is written.
db_test!(
    estate_with_unknown_office_is_422_and_writes_nothing,
    |app| {
        let reply = app
            .post(ESTATES, json!({ "office_id": 424_242, "name": "阳光花园" }))
            .await;
        assert_invalid(reply, &[("office_id", "reference.not_found")]);
        assert_eq!(stored(&app, Table::Estates).await, 0);
    }
);

// Nothing new can be added below an archived office.
db_test!(estate_under_archived_office_is_422, |app| {
    let office = app.create_office("旧管理处").await;
    archive_now(&app, &at(OFFICES, office)).await;
    let reply = app
        .post(ESTATES, json!({ "office_id": office, "name": "阳光花园" }))
        .await;
    assert_invalid(reply, &[("office_id", "reference.archived")]);
    assert_eq!(stored(&app, Table::Estates).await, 0);
});

// domain.md §1: estate names are unique within one office, not across offices.
db_test!(estate_names_are_unique_within_one_office, |app| {
    let east = app.create_office("东区管理处").await;
    let west = app.create_office("西区管理处").await;
    let first = app.create_estate(east, "阳光花园").await;
    let reply = app
        .post(ESTATES, json!({ "office_id": east, "name": "阳光花园" }))
        .await;
    assert_duplicate(reply, "name");
    assert_eq!(stored(&app, Table::Estates).await, 1);

    let other = app
        .post(ESTATES, json!({ "office_id": west, "name": "阳光花园" }))
        .await;
    assert_created(other, ESTATES);

    let second = app.create_estate(east, "月亮湾").await;
    let reply = app
        .patch(&at(ESTATES, second), "\"1\"", json!({ "name": "阳光花园" }))
        .await;
    assert_duplicate(reply, "name");
    assert_eq!(
        app.get(&at(ESTATES, second)).await.expect(200).body["name"],
        "月亮湾"
    );

    archive_now(&app, &at(ESTATES, first)).await;
    let renamed = app
        .patch(&at(ESTATES, second), "\"1\"", json!({ "name": "阳光花园" }))
        .await
        .expect(200);
    assert_eq!(renamed.body["name"], "阳光花园");
});

// PATCH on an estate: `null` clears the address, absent fields stay.
db_test!(estate_patch_clears_address_and_keeps_name, |app| {
    let office = app.create_office("阳光花园管理处").await;
    let id = app
        .post(
            ESTATES,
            json!({ "office_id": office, "name": "阳光花园", "address": "阳光路 1 号" }),
        )
        .await
        .expect(201)
        .id();
    let path = at(ESTATES, id);
    let reply = app
        .patch(&path, "\"1\"", json!({ "address": null }))
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"2\"");
    assert_eq!(reply.body["address"], Value::Null);
    assert_eq!(reply.body["name"], "阳光花园");
    assert_eq!(reply.body["office_id"], office);

    let reply = app
        .patch(&path, "\"2\"", json!({ "name": "阳光花园（一期）" }))
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"3\"");
    assert_eq!(reply.body["name"], "阳光花园（一期）");
    assert_eq!(reply.body["address"], Value::Null);

    let reply = app
        .patch(&path, "\"3\"", json!({ "address": "阳光路 2 号" }))
        .await
        .expect(200);
    assert_eq!(reply.body["address"], "阳光路 2 号");
    assert_eq!(reply.body["name"], "阳光花园（一期）");
    assert_eq!(app.get(&path).await.expect(200).body, reply.body);

    // An estate cannot move to another office by PATCH.
    app.patch(&path, "\"4\"", json!({ "office_id": office }))
        .await
        .expect_problem(422, "request.invalid_body");
});

// R-X-2: estates filter by office and name text, and sort.
db_test!(estate_list_filters_by_office_and_text_and_sorts, |app| {
    let east = app.create_office("东区管理处").await;
    let west = app.create_office("西区管理处").await;
    let e1 = app.create_estate(east, "阳光花园").await;
    let e2 = app.create_estate(east, "Moon 100% Bay").await;
    let w1 = app.create_estate(west, "阳光新城").await;
    let w2 = app.create_estate(west, "moon_bay").await;

    assert_eq!(ids(&list(&app, ESTATES).await), [e1, e2, w1, w2]);
    assert_eq!(
        ids(&list(&app, &format!("{ESTATES}?office_id={east}")).await),
        [e1, e2]
    );
    assert_eq!(
        ids(&list(&app, &format!("{ESTATES}?office_id={west}&sort=-id")).await),
        [w2, w1]
    );
    assert_eq!(
        ids(&list(&app, &format!("{ESTATES}?q=MOON")).await),
        [e2, w2]
    );
    assert_eq!(
        ids(&list(&app, &format!("{ESTATES}?q=%25")).await),
        [e2],
        "% is literal"
    );
    assert_eq!(
        ids(&list(&app, &format!("{ESTATES}?q=n_b")).await),
        [w2],
        "_ is literal"
    );
    assert_eq!(
        ids(&list(
            &app,
            &format!("{ESTATES}?q=%E9%98%B3%E5%85%89&office_id={west}")
        )
        .await), // 阳光
        [w1]
    );
    assert_eq!(
        texts(&list(&app, &format!("{ESTATES}?sort=name")).await, "name"),
        ["Moon 100% Bay", "moon_bay", "阳光新城", "阳光花园"]
    );
    assert_eq!(
        ids(&list(&app, &format!("{ESTATES}?sort=-name")).await),
        [e1, w1, w2, e2]
    );

    archive_now(&app, &at(ESTATES, e2)).await;
    assert_eq!(
        ids(&list(&app, &format!("{ESTATES}?office_id={east}")).await),
        [e1]
    );
    assert_eq!(
        ids(&list(&app, &format!("{ESTATES}?archived=only")).await),
        [e2]
    );
    assert_eq!(
        ids(&list(
            &app,
            &format!("{ESTATES}?office_id={east}&archived=include")
        )
        .await),
        [e1, e2]
    );
});

// domain.md §1: archiving an estate hides it; an archived estate cannot change.
db_test!(estate_archive_hides_and_freezes_it, |app| {
    let office = app.create_office("东区管理处").await;
    let estate = app.create_estate(office, "阳光花园").await;
    let path = at(ESTATES, estate);
    let archived = app.archive(&path, "\"1\"").await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert!(archived.body["archived_at"].as_str().is_some_and(is_utc));
    assert!(items(&list(&app, ESTATES).await).is_empty());
    assert_eq!(
        ids(&list(&app, &format!("{ESTATES}?archived=only")).await),
        [estate]
    );
    app.archive(&path, "\"2\"")
        .await
        .expect_problem(409, "conflict.archived");
    app.patch(&path, "\"2\"", json!({ "name": "新名字" }))
        .await
        .expect_problem(409, "conflict.archived");
    assert_eq!(app.get(&path).await.expect(200).body, archived.body);
});

// domain.md §1: an estate with active buildings cannot be archived.
db_test!(estate_with_active_buildings_cannot_be_archived, |app| {
    let office = app.create_office("东区管理处").await;
    let estate = app.create_estate(office, "阳光花园").await;
    let building = app.create_building(estate, "1号楼").await;
    let path = at(ESTATES, estate);
    let reply = app
        .archive(&path, "\"1\"")
        .await
        .expect_problem(409, "conflict.has_active_children");
    assert!(reply.body["detail"].as_str().unwrap().contains("楼栋"));
    assert_eq!(
        app.get(&path).await.expect(200).body["archived_at"],
        Value::Null
    );

    archive_now(&app, &at(BUILDINGS, building)).await;
    app.archive(&path, "\"1\"").await.expect(200);
});

// ---------------------------------------------------------------------------
// Buildings

// domain.md §1: a building hangs below an estate and carries its office.
db_test!(building_create_copies_the_office_from_its_estate, |app| {
    let office = app.create_office("东区管理处").await;
    let estate = app.create_estate(office, "阳光花园").await;
    let reply = app
        .post(
            BUILDINGS,
            json!({ "estate_id": estate, "name": "3号楼", "floors_above": 18, "floors_below": 2 }),
        )
        .await;
    let reply = assert_created(reply, BUILDINGS);
    assert_eq!(reply.body["office_id"], office);
    assert_eq!(reply.body["estate_id"], estate);
    assert_eq!(reply.body["name"], "3号楼");
    assert_eq!(reply.body["floors_above"], 18);
    assert_eq!(reply.body["floors_below"], 2);
    let read = app.get(&at(BUILDINGS, reply.id())).await.expect(200);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body, reply.body);

    let bare = app
        .post(BUILDINGS, json!({ "estate_id": estate, "name": "4号楼" }))
        .await;
    let bare = assert_created(bare, BUILDINGS);
    assert_eq!(bare.body["floors_above"], Value::Null);
    assert_eq!(bare.body["floors_below"], Value::Null);
});

// A building needs an existing, active estate; otherwise nothing is written.
db_test!(building_needs_an_active_estate, |app| {
    let reply = app
        .post(BUILDINGS, json!({ "estate_id": 424_242, "name": "1号楼" }))
        .await;
    assert_invalid(reply, &[("estate_id", "reference.not_found")]);

    let office = app.create_office("东区管理处").await;
    let estate = app.create_estate(office, "阳光花园").await;
    archive_now(&app, &at(ESTATES, estate)).await;
    let reply = app
        .post(BUILDINGS, json!({ "estate_id": estate, "name": "1号楼" }))
        .await;
    assert_invalid(reply, &[("estate_id", "reference.archived")]);
    assert_eq!(stored(&app, Table::Buildings).await, 0);
});

// Floor counts are bounded: 0–300 above ground, 0–20 below.
db_test!(building_floor_counts_are_bounded, |app| {
    let office = app.create_office("东区管理处").await;
    let estate = app.create_estate(office, "阳光花园").await;
    let reply = app
        .post(
            BUILDINGS,
            json!({ "estate_id": estate, "name": "1号楼", "floors_above": 301, "floors_below": -1 }),
        )
        .await;
    assert_invalid(
        reply,
        &[
            ("floors_above", "out_of_range"),
            ("floors_below", "out_of_range"),
        ],
    );
    assert_eq!(stored(&app, Table::Buildings).await, 0);
    let edge = app
        .post(
            BUILDINGS,
            json!({ "estate_id": estate, "name": "1号楼", "floors_above": 300, "floors_below": 20 }),
        )
        .await
        .expect(201);
    let reply = app
        .patch(
            &at(BUILDINGS, edge.id()),
            "\"1\"",
            json!({ "floors_below": 21 }),
        )
        .await;
    assert_invalid(reply, &[("floors_below", "out_of_range")]);
});

// domain.md §1: building names are unique within one estate, not across estates.
db_test!(building_names_are_unique_within_one_estate, |app| {
    let chain = app.create_unit_chain("阳光").await; // building "1号楼"
    let other_estate = app.create_estate(chain.office, "月亮湾").await;
    let reply = app
        .post(
            BUILDINGS,
            json!({ "estate_id": chain.estate, "name": "1号楼" }),
        )
        .await;
    assert_duplicate(reply, "name");
    assert_eq!(stored(&app, Table::Buildings).await, 1);

    let other = app
        .post(
            BUILDINGS,
            json!({ "estate_id": other_estate, "name": "1号楼" }),
        )
        .await;
    assert_created(other, BUILDINGS);

    let second = app.create_building(chain.estate, "2号楼").await;
    let reply = app
        .patch(&at(BUILDINGS, second), "\"1\"", json!({ "name": "1号楼" }))
        .await;
    assert_duplicate(reply, "name");
    assert_eq!(
        app.get(&at(BUILDINGS, second)).await.expect(200).body["name"],
        "2号楼"
    );
});

// PATCH on a building: `null` clears floor counts, absent fields stay.
db_test!(
    building_patch_clears_floor_counts_and_keeps_the_rest,
    |app| {
        let office = app.create_office("东区管理处").await;
        let estate = app.create_estate(office, "阳光花园").await;
        let id = app
        .post(
            BUILDINGS,
            json!({ "estate_id": estate, "name": "3号楼", "floors_above": 18, "floors_below": 2 }),
        )
        .await
        .expect(201)
        .id();
        let path = at(BUILDINGS, id);
        let reply = app
            .patch(&path, "\"1\"", json!({ "floors_above": null }))
            .await
            .expect(200);
        assert_eq!(reply.etag(), "\"2\"");
        assert_eq!(reply.body["floors_above"], Value::Null);
        assert_eq!(reply.body["floors_below"], 2);
        assert_eq!(reply.body["name"], "3号楼");

        let reply = app
            .patch(
                &path,
                "\"2\"",
                json!({ "floors_below": null, "floors_above": 20, "name": "3号楼A座" }),
            )
            .await
            .expect(200);
        assert_eq!(reply.etag(), "\"3\"");
        assert_eq!(reply.body["floors_above"], 20);
        assert_eq!(reply.body["floors_below"], Value::Null);
        assert_eq!(reply.body["name"], "3号楼A座");
        assert_eq!(reply.body["estate_id"], estate);
        assert_eq!(reply.body["office_id"], office);
        assert_eq!(app.get(&path).await.expect(200).body, reply.body);
    }
);

// R-X-2: buildings filter by office, estate and name text, and sort.
db_test!(building_list_filters_and_sorts, |app| {
    let east = app.create_office("东区管理处").await;
    let west = app.create_office("西区管理处").await;
    let sun = app.create_estate(east, "阳光花园").await;
    let moon = app.create_estate(east, "月亮湾").await;
    let star = app.create_estate(west, "星河湾").await;
    let b1 = app.create_building(sun, "3号楼").await;
    let b2 = app.create_building(sun, "10号楼").await;
    let b3 = app.create_building(moon, "A_1").await;
    let b4 = app.create_building(star, "AB1").await;

    assert_eq!(ids(&list(&app, BUILDINGS).await), [b1, b2, b3, b4]);
    assert_eq!(
        ids(&list(&app, &format!("{BUILDINGS}?estate_id={sun}")).await),
        [b1, b2]
    );
    assert_eq!(
        ids(&list(&app, &format!("{BUILDINGS}?office_id={east}")).await),
        [b1, b2, b3]
    );
    assert_eq!(
        ids(&list(&app, &format!("{BUILDINGS}?office_id={west}")).await),
        [b4]
    );
    assert_eq!(
        ids(&list(&app, &format!("{BUILDINGS}?q=a_")).await),
        [b3],
        "_ is literal, a matches A"
    );
    assert_eq!(
        ids(&list(&app, &format!("{BUILDINGS}?q=0%E5%8F%B7")).await), // 0号
        [b2]
    );
    assert_eq!(
        texts(&list(&app, &format!("{BUILDINGS}?sort=name")).await, "name"),
        ["10号楼", "3号楼", "AB1", "A_1"]
    );
    assert_eq!(
        ids(&list(&app, &format!("{BUILDINGS}?sort=-name")).await),
        [b3, b4, b1, b2]
    );
    assert_eq!(
        ids(&list(&app, &format!("{BUILDINGS}?sort=-id&office_id={east}")).await),
        [b3, b2, b1]
    );
});

// domain.md §1: a building with active houses or units cannot be archived.
db_test!(
    building_with_active_houses_or_units_cannot_be_archived,
    |app| {
        let chain = app.create_unit_chain("阳光").await;
        let house = app.create_house(chain.unit, "101", 1).await;
        let path = at(BUILDINGS, chain.building);

        let reply = try_archive(&app, &path)
            .await
            .expect_problem(409, "conflict.has_active_children");
        assert!(reply.body["detail"].as_str().unwrap().contains("房屋"));

        archive_now(&app, &at(HOUSES, house)).await;
        let reply = try_archive(&app, &path)
            .await
            .expect_problem(409, "conflict.has_active_children");
        assert!(reply.body["detail"].as_str().unwrap().contains("单元"));
        let read = app.get(&path).await.expect(200);
        assert_eq!(read.body["archived_at"], Value::Null);
        assert_eq!(read.etag(), "\"1\"");

        archive_now(&app, &at(UNITS, chain.unit)).await;
        let archived = app.archive(&path, "\"1\"").await.expect(200);
        assert!(archived.body["archived_at"].as_str().is_some_and(is_utc));
        assert_eq!(archived.etag(), "\"2\"");
    }
);

// domain.md §1: archiving a building hides it; an archived building cannot change.
db_test!(building_archive_hides_and_freezes_it, |app| {
    let office = app.create_office("东区管理处").await;
    let estate = app.create_estate(office, "阳光花园").await;
    let kept = app.create_building(estate, "1号楼").await;
    let gone = app.create_building(estate, "2号楼").await;
    let path = at(BUILDINGS, gone);
    let archived = app.archive(&path, "\"1\"").await.expect(200);
    assert!(archived.body["archived_at"].as_str().is_some_and(is_utc));
    assert_eq!(archived.etag(), "\"2\"");
    assert_eq!(ids(&list(&app, BUILDINGS).await), [kept]);
    assert_eq!(
        ids(&list(
            &app,
            &format!("{BUILDINGS}?archived=only&estate_id={estate}")
        )
        .await),
        [gone]
    );
    app.archive(&path, "\"2\"")
        .await
        .expect_problem(409, "conflict.archived");
    app.patch(&path, "\"2\"", json!({ "floors_above": 9 }))
        .await
        .expect_problem(409, "conflict.archived");
    assert_eq!(app.get(&path).await.expect(200).body, archived.body);
});

// ---------------------------------------------------------------------------
// Units

// domain.md §1: a unit hangs below a building and carries its office and estate.
db_test!(
    unit_create_copies_office_and_estate_from_its_building,
    |app| {
        let office = app.create_office("东区管理处").await;
        let estate = app.create_estate(office, "阳光花园").await;
        let building = app.create_building(estate, "3号楼").await;
        let reply = app
            .post(UNITS, json!({ "building_id": building, "name": "2单元" }))
            .await;
        let reply = assert_created(reply, UNITS);
        assert_eq!(reply.body["office_id"], office);
        assert_eq!(reply.body["estate_id"], estate);
        assert_eq!(reply.body["building_id"], building);
        assert_eq!(reply.body["name"], "2单元");
        let read = app.get(&at(UNITS, reply.id())).await.expect(200);
        assert_eq!(read.etag(), "\"1\"");
        assert_eq!(read.body, reply.body);
    }
);

// A unit needs an existing, active building; otherwise nothing is written.
db_test!(unit_needs_an_active_building, |app| {
    let reply = app
        .post(UNITS, json!({ "building_id": 424_242, "name": "1单元" }))
        .await;
    assert_invalid(reply, &[("building_id", "reference.not_found")]);

    let office = app.create_office("东区管理处").await;
    let estate = app.create_estate(office, "阳光花园").await;
    let building = app.create_building(estate, "1号楼").await;
    archive_now(&app, &at(BUILDINGS, building)).await;
    let reply = app
        .post(UNITS, json!({ "building_id": building, "name": "1单元" }))
        .await;
    assert_invalid(reply, &[("building_id", "reference.archived")]);
    assert_eq!(stored(&app, Table::Units).await, 0);
});

// domain.md §1: unit names are unique within one building, not across buildings.
db_test!(unit_names_are_unique_within_one_building, |app| {
    let chain = app.create_unit_chain("阳光").await; // unit "1单元"
    let other_building = app.create_building(chain.estate, "2号楼").await;
    let reply = app
        .post(
            UNITS,
            json!({ "building_id": chain.building, "name": "1单元" }),
        )
        .await;
    assert_duplicate(reply, "name");
    assert_eq!(stored(&app, Table::Units).await, 1);

    let other = app
        .post(
            UNITS,
            json!({ "building_id": other_building, "name": "1单元" }),
        )
        .await;
    assert_created(other, UNITS);

    let second = app.create_unit(chain.building, "2单元").await;
    let reply = app
        .patch(&at(UNITS, second), "\"1\"", json!({ "name": "1单元" }))
        .await;
    assert_duplicate(reply, "name");
    let read = app.get(&at(UNITS, second)).await.expect(200);
    assert_eq!(read.body["name"], "2单元");
    assert_eq!(read.etag(), "\"1\"");

    let renamed = app
        .patch(&at(UNITS, second), "\"1\"", json!({ "name": "二单元" }))
        .await
        .expect(200);
    assert_eq!(renamed.etag(), "\"2\"");
    assert_eq!(renamed.body["name"], "二单元");
    assert_eq!(renamed.body["building_id"], chain.building);
});

// R-X-2: units filter by office, estate, building and name text, and sort.
db_test!(unit_list_filters_and_sorts, |app| {
    let a = app.create_unit_chain("东").await;
    let b = app.create_unit_chain("西").await;
    let a2 = app.create_unit(a.building, "2单元").await;
    let a_other_building = app.create_building(a.estate, "2号楼").await;
    let a3 = app.create_unit(a_other_building, "East_1").await;

    assert_eq!(ids(&list(&app, UNITS).await), [a.unit, b.unit, a2, a3]);
    assert_eq!(
        ids(&list(&app, &format!("{UNITS}?building_id={}", a.building)).await),
        [a.unit, a2]
    );
    assert_eq!(
        ids(&list(&app, &format!("{UNITS}?estate_id={}", a.estate)).await),
        [a.unit, a2, a3]
    );
    assert_eq!(
        ids(&list(&app, &format!("{UNITS}?office_id={}", b.office)).await),
        [b.unit]
    );
    assert_eq!(
        ids(&list(&app, &format!("{UNITS}?q=t_1")).await),
        [a3],
        "_ is literal"
    );
    assert_eq!(
        ids(&list(&app, &format!("{UNITS}?q=2&estate_id={}", a.estate)).await),
        [a2]
    );
    assert_eq!(
        texts(
            &list(&app, &format!("{UNITS}?sort=name&office_id={}", a.office)).await,
            "name"
        ),
        ["1单元", "2单元", "East_1"]
    );
    assert_eq!(
        ids(&list(&app, &format!("{UNITS}?sort=-name&office_id={}", a.office)).await),
        [a3, a2, a.unit]
    );
    assert_eq!(
        ids(&list(&app, &format!("{UNITS}?sort=-id")).await),
        [a3, a2, b.unit, a.unit]
    );
});

// domain.md §1: a unit with active houses cannot be archived; once archived it is frozen.
db_test!(unit_with_active_houses_cannot_be_archived, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let house = app.create_house(chain.unit, "101", 1).await;
    let path = at(UNITS, chain.unit);
    let reply = app
        .archive(&path, "\"1\"")
        .await
        .expect_problem(409, "conflict.has_active_children");
    assert!(reply.body["detail"].as_str().unwrap().contains("房屋"));
    assert_eq!(
        app.get(&path).await.expect(200).body["archived_at"],
        Value::Null
    );

    archive_now(&app, &at(HOUSES, house)).await;
    let archived = app.archive(&path, "\"1\"").await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert!(archived.body["archived_at"].as_str().is_some_and(is_utc));
    assert!(items(&list(&app, UNITS).await).is_empty());
    assert_eq!(
        ids(&list(&app, &format!("{UNITS}?archived=only")).await),
        [chain.unit]
    );
    app.archive(&path, "\"2\"")
        .await
        .expect_problem(409, "conflict.archived");
    app.patch(&path, "\"2\"", json!({ "name": "9单元" }))
        .await
        .expect_problem(409, "conflict.archived");
    assert_eq!(app.get(&path).await.expect(200).body, archived.body);
});

// ---------------------------------------------------------------------------
// Houses

// domain.md §1: a house (e.g. 3-2-1502) takes office, estate and building from its unit.
db_test!(house_create_copies_the_tree_from_its_unit, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let reply = app
        .post(
            HOUSES,
            json!({
                "unit_id": chain.unit,
                "number": "1502",
                "floor": 15,
                "building_area": 89.53,
                "usable_area": 72.1,
                "house_type": "residential",
                "state": "occupied"
            }),
        )
        .await;
    let reply = assert_created(reply, HOUSES);
    assert_eq!(reply.body["office_id"], chain.office);
    assert_eq!(reply.body["estate_id"], chain.estate);
    assert_eq!(reply.body["building_id"], chain.building);
    assert_eq!(reply.body["unit_id"], chain.unit);
    assert_eq!(reply.body["number"], "1502");
    assert_eq!(reply.body["floor"], 15);
    assert_eq!(reply.body["building_area"], 89.53);
    assert_eq!(reply.body["usable_area"], 72.1);
    assert_eq!(reply.body["house_type"], "residential");
    assert_eq!(reply.body["state"], "occupied");

    let read = app.get(&at(HOUSES, reply.id())).await.expect(200);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body, reply.body);

    // The tree cannot be set by the client.
    let mut body = house_body(chain.unit, "1503", 15);
    body["office_id"] = json!(chain.office);
    app.post(HOUSES, body)
        .await
        .expect_problem(422, "request.invalid_body");
    assert_eq!(stored(&app, Table::Houses).await, 1);
});

// A house's state is `vacant` unless the request says otherwise.
db_test!(house_state_defaults_to_vacant, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let reply = app
        .post(HOUSES, house_body(chain.unit, "101", 1))
        .await
        .expect(201);
    assert_eq!(reply.body["state"], "vacant");
    let read = app.get(&at(HOUSES, reply.id())).await.expect(200);
    assert_eq!(read.body["state"], "vacant");
});

// A house under a unit that does not exist is refused and nothing is written.
db_test!(house_with_unknown_unit_is_422_and_writes_nothing, |app| {
    let reply = app.post(HOUSES, house_body(424_242, "1502", 15)).await;
    let reply = assert_invalid(reply, &[("unit_id", "reference.not_found")]);
    assert_eq!(reply.body["errors"].as_array().unwrap().len(), 1);
    assert_eq!(stored(&app, Table::Houses).await, 0);
    assert!(items(&list(&app, &format!("{HOUSES}?archived=include")).await).is_empty());
});

// Nothing new can be added below an archived unit.
db_test!(house_under_archived_unit_is_422, |app| {
    let chain = app.create_unit_chain("阳光").await;
    archive_now(&app, &at(UNITS, chain.unit)).await;
    let reply = app.post(HOUSES, house_body(chain.unit, "1502", 15)).await;
    assert_invalid(reply, &[("unit_id", "reference.archived")]);
    assert_eq!(stored(&app, Table::Houses).await, 0);
});

// domain.md §1: a house number is unique among its unit's active houses.
db_test!(house_number_is_unique_within_its_unit, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let first = app.create_house(chain.unit, "1502", 15).await;
    let reply = app.post(HOUSES, house_body(chain.unit, "1502", 15)).await;
    assert_duplicate(reply, "number");
    let reply = app.post(HOUSES, house_body(chain.unit, " 1502 ", 15)).await;
    assert_duplicate(reply, "number");
    assert_eq!(stored(&app, Table::Houses).await, 1);
    assert_eq!(
        ids(&list(&app, &format!("{HOUSES}?unit_id={}", chain.unit)).await),
        [first]
    );
});

// The same house number in another unit is a different house.
db_test!(same_house_number_in_another_unit_is_fine, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let other_unit = app.create_unit(chain.building, "2单元").await;
    let first = app.create_house(chain.unit, "1502", 15).await;
    let reply = app.post(HOUSES, house_body(other_unit, "1502", 15)).await;
    let reply = assert_created(reply, HOUSES);
    assert_eq!(reply.body["unit_id"], other_unit);
    assert_ne!(reply.id(), first);
    assert_eq!(stored(&app, Table::Houses).await, 2);
});

// After a house is archived, its number can be used again in the unit.
db_test!(archived_house_number_can_be_reused, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let first = app.create_house(chain.unit, "1502", 15).await;
    archive_now(&app, &at(HOUSES, first)).await;
    let reply = app.post(HOUSES, house_body(chain.unit, "1502", 15)).await;
    let second = assert_created(reply, HOUSES).id();
    assert_ne!(second, first);
    assert_eq!(
        ids(&list(
            &app,
            &format!("{HOUSES}?unit_id={}&archived=include", chain.unit)
        )
        .await),
        [first, second]
    );
});

// Renumbering a house into an active neighbour's number is a 409 and changes nothing.
db_test!(house_renumbering_into_a_duplicate_is_409, |app| {
    let chain = app.create_unit_chain("阳光").await;
    app.create_house(chain.unit, "1501", 15).await;
    let second = app.create_house(chain.unit, "1502", 15).await;
    let path = at(HOUSES, second);
    let reply = app.patch(&path, "\"1\"", json!({ "number": "1501" })).await;
    assert_duplicate(reply, "number");
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.body["number"], "1502");
    assert_eq!(read.etag(), "\"1\"");
});

// Floors run from -20 (basements) to 300.
db_test!(house_floor_must_be_between_minus_20_and_300, |app| {
    let chain = app.create_unit_chain("阳光").await;
    for floor in [-21, 301, i32::MIN] {
        let reply = app.post(HOUSES, house_body(chain.unit, "B1", floor)).await;
        assert_invalid(reply, &[("floor", "floor_out_of_range")]);
    }
    assert_eq!(stored(&app, Table::Houses).await, 0);

    let low = app
        .post(HOUSES, house_body(chain.unit, "B20", -20))
        .await
        .expect(201);
    assert_eq!(low.body["floor"], -20);
    let high = app
        .post(HOUSES, house_body(chain.unit, "30001", 300))
        .await
        .expect(201);
    assert_eq!(high.body["floor"], 300);

    let reply = app
        .patch(&at(HOUSES, high.id()), "\"1\"", json!({ "floor": 301 }))
        .await;
    assert_invalid(reply, &[("floor", "floor_out_of_range")]);
    assert_eq!(
        app.get(&at(HOUSES, high.id())).await.expect(200).body["floor"],
        300
    );
});

// Areas are between 0 and 100000 m²; a negative area is refused.
db_test!(house_area_must_not_be_negative, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let mut body = house_body(chain.unit, "101", 1);
    body["building_area"] = json!(-1.0);
    assert_invalid(
        app.post(HOUSES, body).await,
        &[("building_area", "area_out_of_range")],
    );
    let mut body = house_body(chain.unit, "101", 1);
    body["usable_area"] = json!(-0.5);
    assert_invalid(
        app.post(HOUSES, body).await,
        &[("usable_area", "area_out_of_range")],
    );
    let mut body = house_body(chain.unit, "101", 1);
    body["building_area"] = json!(100_000.01);
    assert_invalid(
        app.post(HOUSES, body).await,
        &[("building_area", "area_out_of_range")],
    );
    assert_eq!(stored(&app, Table::Houses).await, 0);

    let id = app.create_house(chain.unit, "101", 1).await;
    let reply = app
        .patch(&at(HOUSES, id), "\"1\"", json!({ "usable_area": -3 }))
        .await;
    assert_invalid(reply, &[("usable_area", "area_out_of_range")]);
    assert_eq!(etag_of(&app, &at(HOUSES, id)).await, "\"1\"");
});

// 套内面积 never exceeds 建筑面积, on create and on PATCH of either area alone.
db_test!(house_usable_area_cannot_exceed_building_area, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let mut body = house_body(chain.unit, "101", 1);
    body["building_area"] = json!(80.0);
    body["usable_area"] = json!(80.01);
    assert_invalid(
        app.post(HOUSES, body).await,
        &[("usable_area", "usable_area_exceeds_building_area")],
    );
    assert_eq!(stored(&app, Table::Houses).await, 0);

    // Equal areas are fine.
    let mut body = house_body(chain.unit, "101", 1);
    body["building_area"] = json!(80.0);
    body["usable_area"] = json!(80.0);
    let house = app.post(HOUSES, body).await.expect(201);
    let path = at(HOUSES, house.id());

    // Only the usable area changes, beyond the stored building area.
    let reply = app
        .patch(&path, "\"1\"", json!({ "usable_area": 90.5 }))
        .await;
    assert_invalid(
        reply,
        &[("usable_area", "usable_area_exceeds_building_area")],
    );
    // Only the building area changes, below the stored usable area.
    let reply = app
        .patch(&path, "\"1\"", json!({ "building_area": 70.0 }))
        .await;
    assert_invalid(
        reply,
        &[("usable_area", "usable_area_exceeds_building_area")],
    );
    // Both change together and fit.
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body["building_area"], 80.0);
    assert_eq!(read.body["usable_area"], 80.0);
    let reply = app
        .patch(
            &path,
            "\"1\"",
            json!({ "building_area": 100.0, "usable_area": 90.5 }),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["building_area"], 100.0);
    assert_eq!(reply.body["usable_area"], 90.5);
    // A larger building area alone is fine.
    let reply = app
        .patch(&path, "\"2\"", json!({ "building_area": 120.25 }))
        .await
        .expect(200);
    assert_eq!(reply.body["building_area"], 120.25);
    assert_eq!(reply.body["usable_area"], 90.5);
});

// Areas are kept to 0.01 m²: 89.534 is stored and answered as 89.53.
db_test!(house_areas_are_rounded_to_hundredths, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let mut body = house_body(chain.unit, "101", 1);
    body["building_area"] = json!(89.534);
    body["usable_area"] = json!(72.106);
    let reply = app.post(HOUSES, body).await.expect(201);
    assert_eq!(reply.body["building_area"], 89.53);
    assert_eq!(reply.body["usable_area"], 72.11);
    let id = reply.id();
    let row = app
        .db
        .read(move |conn| wuye_persistence::org::houses::get(conn, id))
        .await
        .unwrap();
    assert_eq!((row.building_area, row.usable_area), (8953, 7211));

    // Both round to 89.53, so they are equal, not "usable > building".
    let mut body = house_body(chain.unit, "102", 1);
    body["building_area"] = json!(89.53);
    body["usable_area"] = json!(89.534);
    let reply = app.post(HOUSES, body).await.expect(201);
    assert_eq!(reply.body["usable_area"], 89.53);

    let reply = app
        .patch(
            &at(HOUSES, id),
            "\"1\"",
            json!({ "building_area": 95.555_1 }),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["building_area"], 95.56);
});

// Areas are rounded by their decimal value, as written in the request:
// 1.005 and 0.145 are ties that round up like 0.125 and 72.105 do, not down
// because their nearest binary double lies just below the tie.
db_test!(house_area_rounding_follows_the_decimal_value, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let cases = [
        (0.125, 0.13),
        (72.105, 72.11),
        (2.675, 2.68),
        (1.005, 1.01),
        (0.145, 0.15),
        (1.015, 1.02),
    ];
    let mut wrong = Vec::new();
    for (n, (sent, expected)) in cases.into_iter().enumerate() {
        let mut body = house_body(chain.unit, &format!("R{n}"), 1);
        body["building_area"] = json!(sent);
        body["usable_area"] = json!(0);
        let reply = app.post(HOUSES, body).await.expect(201);
        if reply.body["building_area"] != json!(expected) {
            wrong.push(format!("{sent} -> {}", reply.body["building_area"]));
        }
    }
    assert!(
        wrong.is_empty(),
        "areas not rounded half-up to 0.01: {wrong:?}"
    );
});

// House numbers are trimmed, must not be blank and hold at most 20 characters.
db_test!(house_number_must_not_be_blank_or_too_long, |app| {
    let chain = app.create_unit_chain("阳光").await;
    assert_invalid(
        app.post(HOUSES, house_body(chain.unit, "  ", 1)).await,
        &[("number", "blank")],
    );
    assert_invalid(
        app.post(HOUSES, house_body(chain.unit, &"1".repeat(21), 1))
            .await,
        &[("number", "too_long")],
    );
    assert_invalid(
        app.post(HOUSES, house_body(chain.unit, "15\n02", 1)).await,
        &[("number", "control_character")],
    );
    assert_eq!(stored(&app, Table::Houses).await, 0);

    // The limit counts the text as sent (the contract's maxLength), and the
    // stored number is trimmed.
    let nineteen = "一".repeat(19);
    let reply = app
        .post(HOUSES, house_body(chain.unit, &format!(" {nineteen}"), 1))
        .await
        .expect(201);
    assert_eq!(reply.body["number"], nineteen.as_str());
    assert_invalid(
        app.post(
            HOUSES,
            house_body(chain.unit, &format!(" {} ", "二".repeat(19)), 1),
        )
        .await,
        &[("number", "too_long")],
    );
    assert_invalid(
        app.patch(&at(HOUSES, reply.id()), "\"1\"", json!({ "number": "\t " }))
            .await,
        &[("number", "blank")],
    );
});

// Every invalid house field is reported in one answer.
db_test!(house_reports_every_invalid_field_at_once, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let body = json!({
        "unit_id": chain.unit,
        "number": " ",
        "floor": 301,
        "building_area": -1,
        "usable_area": 100_001,
        "house_type": "residential"
    });
    let reply = assert_invalid(
        app.post(HOUSES, body).await,
        &[
            ("number", "blank"),
            ("floor", "floor_out_of_range"),
            ("building_area", "area_out_of_range"),
            ("usable_area", "area_out_of_range"),
        ],
    );
    assert!(reply.body["detail"].as_str().unwrap().contains('4'));
    assert_eq!(stored(&app, Table::Houses).await, 0);
});

// Unknown fields are refused, on create and on PATCH.
db_test!(house_body_with_unknown_fields_is_invalid, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let mut body = house_body(chain.unit, "101", 1);
    body["colour"] = json!("red");
    app.post(HOUSES, body)
        .await
        .expect_problem(422, "request.invalid_body");
    assert_eq!(stored(&app, Table::Houses).await, 0);

    let id = app.create_house(chain.unit, "101", 1).await;
    let path = at(HOUSES, id);
    app.patch(&path, "\"1\"", json!({ "floor": 2, "colour": "red" }))
        .await
        .expect_problem(422, "request.invalid_body");
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.body["floor"], 1);
    assert_eq!(read.etag(), "\"1\"");

    // Unknown enum values too.
    let mut body = house_body(chain.unit, "102", 1);
    body["house_type"] = json!("castle");
    app.post(HOUSES, body)
        .await
        .expect_problem(422, "request.invalid_body");
    let mut body = house_body(chain.unit, "102", 1);
    body["state"] = json!("haunted");
    app.post(HOUSES, body)
        .await
        .expect_problem(422, "request.invalid_body");
    assert_eq!(stored(&app, Table::Houses).await, 1);
});

// An explicit `null` for a field that may be omitted but never null is refused.
db_test!(house_null_for_a_non_nullable_field_is_invalid, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let mut body = house_body(chain.unit, "101", 1);
    body["state"] = Value::Null;
    app.post(HOUSES, body)
        .await
        .expect_problem(422, "request.invalid_body");
    assert_eq!(stored(&app, Table::Houses).await, 0);

    let id = app.create_house(chain.unit, "101", 1).await;
    let path = at(HOUSES, id);
    for field in [
        "floor",
        "number",
        "building_area",
        "usable_area",
        "house_type",
        "state",
    ] {
        let mut body = json!({});
        body[field] = Value::Null;
        app.patch(&path, "\"1\"", body)
            .await
            .expect_problem(422, "request.invalid_body");
    }
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.body["floor"], 1);
    assert_eq!(read.body["state"], "vacant");
    assert_eq!(read.etag(), "\"1\"");
});

// An integral float such as `3.0` is an integer (as JSON Schema says); `3.5` is not.
db_test!(house_accepts_an_integral_float_floor, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let mut body = house_body(chain.unit, "301", 3);
    body["floor"] = json!(3.0);
    let reply = app.post(HOUSES, body).await.expect(201);
    assert_eq!(reply.body["floor"], 3);
    assert!(reply.body["floor"].is_i64());
    let path = at(HOUSES, reply.id());

    let reply = app
        .patch(&path, "\"1\"", json!({ "floor": 5.0 }))
        .await
        .expect(200);
    assert_eq!(reply.body["floor"], 5);

    app.patch(&path, "\"2\"", json!({ "floor": 5.5 }))
        .await
        .expect_problem(422, "request.invalid_body");
    let mut body = house_body(chain.unit, "302", 3);
    body["unit_id"] = json!(chain.unit as f64);
    let reply = app.post(HOUSES, body).await.expect(201);
    assert_eq!(reply.body["unit_id"], chain.unit);
});

// PATCH on a house changes the given fields and keeps the others.
db_test!(house_patch_changes_given_fields_and_keeps_the_rest, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let created = app
        .post(HOUSES, house_body(chain.unit, "1502", 15))
        .await
        .expect(201);
    let path = at(HOUSES, created.id());
    let reply = app
        .patch(
            &path,
            "\"1\"",
            json!({ "state": "rented", "house_type": "office" }),
        )
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"2\"");
    assert_eq!(reply.body["version"], 2);
    assert_eq!(reply.body["state"], "rented");
    assert_eq!(reply.body["house_type"], "office");
    for kept in [
        "number",
        "floor",
        "building_area",
        "usable_area",
        "unit_id",
        "building_id",
        "estate_id",
        "office_id",
        "created_at",
    ] {
        assert_eq!(reply.body[kept], created.body[kept], "{kept}");
    }
    assert_eq!(reply.body["archived_at"], Value::Null);

    let reply = app
        .patch(&path, "\"2\"", json!({ "number": "1502A", "floor": -1 }))
        .await
        .expect(200);
    assert_eq!(reply.etag(), "\"3\"");
    assert_eq!(reply.body["number"], "1502A");
    assert_eq!(reply.body["floor"], -1);
    assert_eq!(reply.body["state"], "rented");
    assert_eq!(app.get(&path).await.expect(200).body, reply.body);

    // An empty PATCH changes nothing but is still a new version.
    let reply = app.patch(&path, "\"3\"", json!({})).await.expect(200);
    assert_eq!(reply.body["number"], "1502A");
    // A house cannot move to another unit by PATCH.
    app.patch(&path, &reply.etag(), json!({ "unit_id": chain.unit }))
        .await
        .expect_problem(422, "request.invalid_body");
});

// R-X-2: houses filter by office, estate, building, unit, state, type and number text.
db_test!(house_list_filters, |app| {
    let a = app.create_unit_chain("东").await;
    let b = app.create_unit_chain("西").await;
    let a_unit2 = app.create_unit(a.building, "2单元").await;
    let a_building2 = app.create_building(a.estate, "2号楼").await;
    let a_b2_unit = app.create_unit(a_building2, "1单元").await;

    let h1 = app
        .post(
            HOUSES,
            house_with(a.unit, "101", 1, "residential", "occupied"),
        )
        .await
        .expect(201)
        .id();
    let h2 = app
        .post(HOUSES, house_with(a_unit2, "50%", 1, "shop", "vacant"))
        .await
        .expect(201)
        .id();
    let h3 = app
        .post(
            HOUSES,
            house_with(a_b2_unit, "5_0", 2, "residential", "rented"),
        )
        .await
        .expect(201)
        .id();
    let h4 = app
        .post(HOUSES, house_with(b.unit, "B-501", -1, "parking", "vacant"))
        .await
        .expect(201)
        .id();

    let cases: Vec<(String, Vec<i64>)> = vec![
        (String::new(), vec![h1, h2, h3, h4]),
        (format!("unit_id={}", a.unit), vec![h1]),
        (format!("building_id={}", a.building), vec![h1, h2]),
        (format!("estate_id={}", a.estate), vec![h1, h2, h3]),
        (format!("office_id={}", b.office), vec![h4]),
        ("state=vacant".into(), vec![h2, h4]),
        ("state=rented".into(), vec![h3]),
        ("state=unsold".into(), vec![]),
        ("house_type=residential".into(), vec![h1, h3]),
        ("house_type=parking".into(), vec![h4]),
        (
            format!("house_type=residential&estate_id={}&state=rented", a.estate),
            vec![h3],
        ),
        ("q=50%25".into(), vec![h2]),
        ("q=5_".into(), vec![h3]),
        ("q=b-5".into(), vec![h4]),
        ("q=01".into(), vec![h1, h4]),
    ];
    for (query, expected) in cases {
        let reply = list(&app, &format!("{HOUSES}?{query}")).await;
        assert_eq!(ids(&reply), expected, "?{query}");
    }

    archive_now(&app, &at(HOUSES, h2)).await;
    assert_eq!(
        ids(&list(&app, &format!("{HOUSES}?estate_id={}", a.estate)).await),
        [h1, h3]
    );
    assert_eq!(
        ids(&list(&app, &format!("{HOUSES}?archived=only")).await),
        [h2]
    );
    assert_eq!(
        ids(&list(&app, &format!("{HOUSES}?archived=include&state=vacant")).await),
        [h2, h4]
    );
    assert!(items(&list(&app, &format!("{HOUSES}?archived=only&state=rented")).await).is_empty());
});

// R-X-2: houses sort by id, number (byte order) and floor, ties by id.
db_test!(house_list_sorts_by_number_and_floor, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let h902 = app.create_house(chain.unit, "902", 9).await;
    let h1002 = app.create_house(chain.unit, "1002", 10).await;
    let hb1 = app.create_house(chain.unit, "B1-01", -1).await;
    let h1501 = app.create_house(chain.unit, "1501", 15).await;
    let h1001 = app.create_house(chain.unit, "1001", 10).await;

    let order = |query: &str| format!("{HOUSES}?sort={query}");
    assert_eq!(
        ids(&list(&app, &order("id")).await),
        [h902, h1002, hb1, h1501, h1001]
    );
    assert_eq!(
        ids(&list(&app, &order("-id")).await),
        [h1001, h1501, hb1, h1002, h902]
    );
    assert_eq!(
        texts(&list(&app, &order("number")).await, "number"),
        ["1001", "1002", "1501", "902", "B1-01"]
    );
    assert_eq!(
        texts(&list(&app, &order("-number")).await, "number"),
        ["B1-01", "902", "1501", "1002", "1001"]
    );
    assert_eq!(
        ids(&list(&app, &order("floor")).await),
        [hb1, h902, h1002, h1001, h1501]
    );
    assert_eq!(
        ids(&list(&app, &order("-floor")).await),
        [h1501, h1001, h1002, h902, hb1]
    );
});

// Pages of a sorted house list follow one another without gaps or repeats.
db_test!(house_pages_follow_the_sort_order, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let mut expected = Vec::new();
    for (number, floor) in [("301", 3), ("101", 1), ("302", 3), ("B101", -1), ("201", 2)] {
        expected.push((floor, app.create_house(chain.unit, number, floor).await));
    }
    // -floor: floor descending, then id descending.
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();

    let mut seen = Vec::new();
    let mut url = format!("{HOUSES}?sort=-floor&limit=2");
    for _ in 0..10 {
        let page = list(&app, &url).await;
        assert!(items(&page).len() <= 2);
        seen.extend(ids(&page));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => url = format!("{HOUSES}?sort=-floor&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
});

// domain.md §1: an archived house leaves the default list, stays readable, and is frozen.
db_test!(house_archive_hides_and_freezes_it, |app| {
    let chain = app.create_unit_chain("阳光").await;
    let kept = app.create_house(chain.unit, "101", 1).await;
    let gone = app.create_house(chain.unit, "102", 1).await;
    let path = at(HOUSES, gone);

    app.archive(&path, "\"7\"")
        .await
        .expect_problem(412, "precondition.failed");
    let archived = app.archive(&path, "\"1\"").await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert_eq!(archived.body["version"], 2);
    assert!(archived.body["archived_at"].as_str().is_some_and(is_utc));
    assert_eq!(archived.body["number"], "102");

    assert_eq!(ids(&list(&app, HOUSES).await), [kept]);
    assert_eq!(
        ids(&list(&app, &format!("{HOUSES}?archived=only")).await),
        [gone]
    );
    assert_eq!(
        ids(&list(&app, &format!("{HOUSES}?archived=include")).await),
        [kept, gone]
    );
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.etag(), "\"2\"");
    assert_eq!(read.body, archived.body);

    app.archive(&path, "\"2\"")
        .await
        .expect_problem(409, "conflict.archived");
    app.patch(&path, "\"2\"", json!({ "state": "rented" }))
        .await
        .expect_problem(409, "conflict.archived");
    assert_eq!(app.get(&path).await.expect(200).body, archived.body);
});

// domain.md §1: a parent with active children cannot be archived — also when
// the child is created at the same moment as the parent is archived. Of the
// two racing requests at most one may succeed; both succeeding leaves an
// active unit (house) below an archived building (unit).
db_test!(archiving_a_parent_never_races_a_new_child_below_it, |app| {
    let office = app.create_office("东区管理处").await;
    let estate = app.create_estate(office, "阳光花园").await;
    let mut broken = Vec::new();
    for round in 0..15 {
        let building = app.create_building(estate, &format!("{round}号楼")).await;
        let (archived, unit) = futures_util::future::join(
            app.archive(&at(BUILDINGS, building), "\"1\""),
            app.post(UNITS, json!({ "building_id": building, "name": "1单元" })),
        )
        .await;
        if archived.status == 200 && unit.status == 201 {
            broken.push(format!(
                "building {building} archived with unit {}",
                unit.id()
            ));
        }

        let other = app
            .create_building(estate, &format!("{round}号楼B座"))
            .await;
        let unit = app.create_unit(other, "1单元").await;
        let (archived, house) = futures_util::future::join(
            app.archive(&at(UNITS, unit), "\"1\""),
            app.post(HOUSES, house_body(unit, "101", 1)),
        )
        .await;
        if archived.status == 200 && house.status == 201 {
            broken.push(format!("unit {unit} archived with house {}", house.id()));
        }
    }
    assert!(
        broken.is_empty(),
        "{:?}: {} of 30 races left an active child below an archived parent: {broken:?}",
        app.backend,
        broken.len()
    );
});
