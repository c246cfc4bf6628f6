//! Ids from database sequences.

use super::*;

// Ids are JSON integers from the database's sequence: consecutive,
// positive, far below 2^53.
db_test!(ids_are_sequential_integers_below_2_pow_53, |app| {
    const MAX_SAFE: i64 = (1 << 53) - 1;
    let mut office_ids = Vec::new();
    for n in 0..5 {
        let reply = app
            .post(OFFICES, json!({ "name": format!("office{n}") }))
            .await
            .expect(201);
        assert!(
            reply.body["id"].is_i64(),
            "id must be a JSON integer: {}",
            reply.raw
        );
        office_ids.push(reply.id());
    }
    for pair in office_ids.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "{office_ids:?}");
    }
    let chain = app.create_unit_chain("甲").await;
    let houses = [
        app.create_house(chain.unit, "101", 1).await,
        app.create_house(chain.unit, "102", 1).await,
    ];
    assert_eq!(houses[1], houses[0] + 1);
    let all = app
        .get(&format!("{HOUSES}?unit_id={}", chain.unit))
        .await
        .expect(200);
    for item in all.body["items"].as_array().unwrap() {
        for field in ["id", "office_id", "estate_id", "building_id", "unit_id"] {
            let value = item[field]
                .as_i64()
                .unwrap_or_else(|| panic!("{field}: {item}"));
            assert!((1..=MAX_SAFE).contains(&value), "{field} = {value}");
        }
    }
    for id in office_ids.iter().chain(&houses) {
        assert!((1..1_000_000).contains(id), "{id}");
    }
});
