//! Cursor pagination.

use super::*;

// Without `limit` a page has 20 rows; 200 is allowed; the answer shape
// is `{items, next_cursor}`.
db_test!(default_limit_is_20_and_max_is_200, |app| {
    let created = create_offices(&app, "office", 25).await;
    let reply = app.get(OFFICES).await.expect(200);
    assert_eq!(ids(&reply), created[..20]);
    assert!(reply.body["next_cursor"].is_string(), "{}", reply.raw);
    let object = reply.body.as_object().unwrap();
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["items", "next_cursor"],
        "{}",
        reply.raw
    );

    let reply = app.get(&format!("{OFFICES}?limit=200")).await.expect(200);
    assert_eq!(ids(&reply), created);
    assert!(reply.body["next_cursor"].is_null());
});

// `limit` outside 1–200 is 400 `pagination.invalid_limit`.
db_test!(limit_out_of_range_is_400, |app| {
    app.create_office("甲管理处").await;
    for limit in ["201", "0", "-1", "100000"] {
        let reply = app.get(&format!("{OFFICES}?limit={limit}")).await;
        let reply = problem(reply, 400, "pagination.invalid_limit");
        assert!(
            reply.body["detail"].as_str().unwrap().contains("200"),
            "{limit}"
        );
    }
    let reply = app.get(&format!("{HOUSES}?limit=201")).await;
    problem(reply, 400, "pagination.invalid_limit");
});

// Walking with `next_cursor` visits every row exactly once; the last page
// (even when full) has `next_cursor: null`.
db_test!(walking_pages_returns_every_row_once, |app| {
    let created = create_offices(&app, "office", 21).await;
    let (seen, sizes) = walk(&app, &format!("{OFFICES}?sort=id"), 7).await;
    assert_eq!(seen, created);
    assert_eq!(
        sizes,
        [7, 7, 7],
        "a full last page must not be followed by an empty one"
    );

    let (seen, sizes) = walk(&app, &format!("{OFFICES}?sort=id"), 5).await;
    assert_eq!(seen, created);
    assert_eq!(sizes, [5, 5, 5, 5, 1]);

    let (seen, _) = walk(&app, &format!("{OFFICES}?sort=-id"), 4).await;
    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(seen, reversed);

    let (seen, _) = walk(&app, &format!("{OFFICES}?sort=name"), 6).await;
    assert_eq!(seen, created, "names office00… sort like ids");
});

/// Walks every page of `base` five rows at a time, creating two offices
/// after each page; returns the ids seen and the ids created meanwhile.
async fn walk_while_inserting(app: &TestApp, base: &str) -> (Vec<i64>, Vec<i64>) {
    let mut seen = Vec::new();
    let mut inserted = Vec::new();
    let mut cursor = None;
    let mut round = 0;
    loop {
        let (items, next) = page(app, base, 5, cursor.as_deref()).await;
        seen.extend(items);
        if next.is_none() {
            return (seen, inserted);
        }
        cursor = next;
        for _ in 0..2 {
            inserted.push(app.create_office(&format!("new{round:02}")).await);
            round += 1;
        }
    }
}

// Rows created while a client pages by `id` show up once, at the end;
// nothing is repeated or skipped.
db_test!(pages_by_id_stay_stable_while_rows_are_inserted, |app| {
    let original = create_offices(&app, "office", 12).await;
    let base = format!("{OFFICES}?sort=id");
    let (seen, inserted) = walk_while_inserting(&app, &base).await;
    let expected: Vec<i64> = original.iter().chain(&inserted).copied().collect();
    assert_eq!(seen, expected);
    assert!(inserted.iter().all(|id| id > original.last().unwrap()));
});

// Rows created while a client pages by `-id` never appear (they sort
// before the cursor), and every original row is seen once.
db_test!(
    pages_by_descending_id_stay_stable_while_rows_are_inserted,
    |app| {
        let original = create_offices(&app, "office", 12).await;
        let base = format!("{OFFICES}?sort=-id");
        let (seen, inserted) = walk_while_inserting(&app, &base).await;
        let mut expected = original.clone();
        expected.reverse();
        assert_eq!(seen, expected);
        assert!(!inserted.is_empty());
        assert!(seen.iter().all(|id| !inserted.contains(id)));
    }
);

// A cursor is bound to its sort: reusing it with another sort is 400.
db_test!(cursor_from_another_sort_is_422, |app| {
    create_offices(&app, "office", 5).await;
    let (_, by_id) = page(&app, &format!("{OFFICES}?sort=id"), 2, None).await;
    let by_id = by_id.expect("a next page");
    let (_, by_name) = page(&app, &format!("{OFFICES}?sort=name"), 2, None).await;
    let by_name = by_name.expect("a next page");
    for (sort, cursor) in [
        ("-id", &by_id),
        ("name", &by_id),
        ("id", &by_name),
        ("-name", &by_name),
    ] {
        let reply = app
            .get(&format!("{OFFICES}?sort={sort}&limit=2&cursor={cursor}"))
            .await;
        problem(reply, 422, "pagination.invalid_cursor");
    }
    // The same cursor with its own sort still works.
    let reply = app
        .get(&format!("{OFFICES}?sort=id&limit=2&cursor={by_id}"))
        .await
        .expect(200);
    assert_eq!(ids(&reply).len(), 2);
});

// A cursor the server did not make is 422 `pagination.invalid_cursor`: it is
// a well-formed string that means nothing here.
db_test!(garbage_cursor_is_422, |app| {
    create_offices(&app, "office", 3).await;
    // "eyJ4IjoxfQ" is base64 of {"x":1}: decodable, but not a cursor.
    for cursor in ["garbage", "!!!", "eyJ4IjoxfQ", "bm90IGpzb24"] {
        let reply = app.get(&format!("{OFFICES}?cursor={cursor}")).await;
        let reply = problem(reply, 422, "pagination.invalid_cursor");
        assert!(
            has_chinese(reply.body["detail"].as_str().unwrap()),
            "{cursor}"
        );
    }
    let reply = app.get(&format!("{HOUSES}?cursor=garbage")).await;
    problem(reply, 422, "pagination.invalid_cursor");
});

// A cursor in our format but with a value of the wrong type for its sort
// (hand-made, or from an older server) is 422, never a 500.
db_test!(forged_cursor_with_wrong_value_is_422, |app| {
    let chain = app.create_unit_chain("甲").await;
    app.create_house(chain.unit, "101", 1).await;
    for (path, cursor) in [
        // {"s":"name","v":5,"i":1}
        (
            format!("{OFFICES}?sort=name"),
            "eyJzIjoibmFtZSIsInYiOjUsImkiOjF9",
        ),
        // {"s":"floor","v":"abc","i":1}
        (
            format!("{HOUSES}?sort=floor"),
            "eyJzIjoiZmxvb3IiLCJ2IjoiYWJjIiwiaSI6MX0",
        ),
        // {"s":"floor","v":99999999999,"i":1}: beyond a floor's i32
        (
            format!("{HOUSES}?sort=floor"),
            "eyJzIjoiZmxvb3IiLCJ2Ijo5OTk5OTk5OTk5OSwiaSI6MX0",
        ),
        // {"s":"id","v":1}: no id
        (format!("{OFFICES}?sort=id"), "eyJzIjoiaWQiLCJ2IjoxfQ"),
    ] {
        let reply = app.get(&format!("{path}&cursor={cursor}")).await;
        problem(reply, 422, "pagination.invalid_cursor");
    }
});

// Equal names are ordered by id (ascending for `name`, descending for
// `-name`), and pages split inside a run of equal names lose nothing.
db_test!(sort_by_name_breaks_ties_by_id, |app| {
    // Names are unique among active offices only: archive to repeat one.
    let mut created: Vec<(String, i64)> = Vec::new();
    for name in ["bravo", "alpha", "bravo", "alpha", "bravo", "charlie"] {
        let id = app.create_office(name).await;
        created.push((name.to_owned(), id));
        if name != "charlie" {
            app.archive(&format!("{OFFICES}/{id}"), "\"1\"")
                .await
                .expect(200);
        }
    }
    // One more active "alpha" and "bravo" after the archived ones.
    for name in ["alpha", "bravo"] {
        let id = app.create_office(name).await;
        created.push((name.to_owned(), id));
    }
    let mut ascending = created.clone();
    ascending.sort();
    let ascending: Vec<i64> = ascending.into_iter().map(|(_, id)| id).collect();
    let mut descending = created.clone();
    descending.sort_by(|a, b| b.cmp(a));
    let descending: Vec<i64> = descending.into_iter().map(|(_, id)| id).collect();

    for limit in [1, 2, 3, 200] {
        let (seen, _) = walk(
            &app,
            &format!("{OFFICES}?archived=include&sort=name"),
            limit,
        )
        .await;
        assert_eq!(seen, ascending, "sort=name, limit={limit}");
        let (seen, _) = walk(
            &app,
            &format!("{OFFICES}?archived=include&sort=-name"),
            limit,
        )
        .await;
        assert_eq!(seen, descending, "sort=-name, limit={limit}");
    }
});

// Integer sort columns with ties (house floors) page by (floor, id) too.
db_test!(sort_by_floor_breaks_ties_by_id, |app| {
    let chain = app.create_unit_chain("甲").await;
    let mut created = Vec::new();
    for (n, floor) in [3, 1, 3, 2, 3, 1, -1].into_iter().enumerate() {
        let id = app
            .create_house(chain.unit, &format!("{n}0{n}"), floor)
            .await;
        created.push((floor, id));
    }
    let mut ascending = created.clone();
    ascending.sort();
    let ascending: Vec<i64> = ascending.into_iter().map(|(_, id)| id).collect();
    let mut descending = created.clone();
    descending.sort_by(|a, b| b.cmp(a));
    let descending: Vec<i64> = descending.into_iter().map(|(_, id)| id).collect();
    for limit in [1, 2, 4] {
        let (seen, _) = walk(&app, &format!("{HOUSES}?sort=floor"), limit).await;
        assert_eq!(seen, ascending, "sort=floor, limit={limit}");
        let (seen, _) = walk(&app, &format!("{HOUSES}?sort=-floor"), limit).await;
        assert_eq!(seen, descending, "sort=-floor, limit={limit}");
    }
});
