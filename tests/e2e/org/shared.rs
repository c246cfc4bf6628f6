//! Any resource, through the HTTP API.

use super::*;

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
