//! Houses, through the HTTP API.

use super::*;

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
        .read(move |conn| {
            wuye_persistence::org::houses::get(conn, &wuye_domain::access::DataScope::system(), id)
        })
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
