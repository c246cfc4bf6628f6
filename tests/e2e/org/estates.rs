//! Estates, through the HTTP API.

use super::*;

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
