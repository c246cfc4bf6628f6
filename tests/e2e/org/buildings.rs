//! Buildings, through the HTTP API.

use super::*;

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
