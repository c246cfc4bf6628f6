//! Offices, through the HTTP API.

use super::*;

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
