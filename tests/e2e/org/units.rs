//! Units, through the HTTP API.

use super::*;

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
