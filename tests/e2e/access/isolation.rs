//! Data scope between management offices (R-ORG-1): staff of office A
//! cannot see, list, change, archive or build under office B's records —
//! each answer exactly what a record that does not exist gets — and can do
//! all of it in A. Company-level records need a company-wide scope, and an
//! "own records" scope reaches no estate record at all.

use actix_web::http::Method;
use serde_json::{Value, json};
use wuye_domain::access::{AssignmentScope, Permission};

use crate::db_test;
use crate::support::{As, Chain, Reply, TestApp, house_body};

/// One branch of the estate tree with a house at its end.
#[derive(Debug, Clone, Copy)]
struct Branch {
    chain: Chain,
    house: i64,
}

impl Branch {
    async fn new(app: &TestApp, prefix: &str) -> Self {
        let chain = app.create_unit_chain(prefix).await;
        let house = app.create_house(chain.unit, "101", 1).await;
        Self { chain, house }
    }

    /// This branch's record of `kind`.
    fn id(&self, kind: &str) -> i64 {
        match kind {
            "offices" => self.chain.office,
            "estates" => self.chain.estate,
            "buildings" => self.chain.building,
            "units" => self.chain.unit,
            "houses" => self.house,
            other => panic!("no {other}"),
        }
    }
}

/// Every org resource, leaves first (the order archives must go in).
const KINDS: [&str; 5] = ["houses", "units", "buildings", "estates", "offices"];

/// A valid change of each kind.
fn change(kind: &str) -> Value {
    match kind {
        "offices" => json!({"phone": "010-88887777"}),
        "estates" => json!({"address": "北京市朝阳区阳光路 2 号"}),
        "buildings" => json!({"floors_above": 20}),
        "units" => json!({"name": "二单元"}),
        "houses" => json!({"state": "rented"}),
        other => panic!("no {other}"),
    }
}

/// A new record below the branch's record of `kind`, as `(path, parent
/// field, body)`.
fn child_below(kind: &str, branch: &Branch, n: usize) -> (&'static str, &'static str, Value) {
    let c = branch.chain;
    match kind {
        "offices" => (
            "/api/v1/estates",
            "office_id",
            json!({"office_id": c.office, "name": format!("新小区{n}")}),
        ),
        "estates" => (
            "/api/v1/buildings",
            "estate_id",
            json!({"estate_id": c.estate, "name": format!("{n}号楼")}),
        ),
        "buildings" => (
            "/api/v1/units",
            "building_id",
            json!({"building_id": c.building, "name": format!("{n}单元")}),
        ),
        "units" => (
            "/api/v1/houses",
            "unit_id",
            house_body(c.unit, &format!("{n}01"), 1),
        ),
        other => panic!("nothing below {other}"),
    }
}

async fn send(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let headers: &[(&str, &str)] = if method == Method::GET {
        &[]
    } else {
        &[("If-Match", "*")]
    };
    app.call_as(As::Token(token), method, path, body, headers)
        .await
}

/// The ids of a list answer.
async fn listed(app: &TestApp, token: &str, path: &str) -> Vec<i64> {
    let reply = send(app, token, Method::GET, path, None).await.expect(200);
    assert_eq!(
        reply.body["next_cursor"],
        Value::Null,
        "one page holds them all"
    );
    reply.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_i64().expect("id"))
        .collect()
}

/// The parts of a refusal a client sees.
fn visible(reply: &Reply) -> Value {
    json!({
        "status": reply.status.as_u16(),
        "code": reply.body["code"],
        "errors": reply.body["errors"],
        "detail": reply.body["detail"],
    })
}

db_test!(staff_of_one_office_cannot_reach_another, |app| {
    let a = Branch::new(&app, "甲").await;
    let b = Branch::new(&app, "乙").await;
    let token = app
        .staff_token(
            &[Permission::OrgRead, Permission::OrgWrite],
            AssignmentScope::Offices([a.chain.office].into()),
        )
        .await;
    let missing = 9_999_999;

    for kind in KINDS {
        let base = format!("/api/v1/{kind}");
        let (mine, theirs) = (a.id(kind), b.id(kind));
        let nowhere = visible(
            &send(
                &app,
                &token,
                Method::GET,
                &format!("{base}/{missing}"),
                None,
            )
            .await,
        );

        // Read: B's record is answered like one that does not exist.
        let reply = send(&app, &token, Method::GET, &format!("{base}/{theirs}"), None).await;
        assert_eq!(
            visible(&reply.expect_problem(404, "not_found")),
            nowhere,
            "{kind}"
        );
        send(&app, &token, Method::GET, &format!("{base}/{mine}"), None)
            .await
            .expect(200);

        // Lists: B's never appear, even asked for by office.
        let ids = listed(&app, &token, &format!("{base}?limit=200")).await;
        assert!(
            ids.contains(&mine) && !ids.contains(&theirs),
            "{kind}: {ids:?}"
        );
        if kind != "offices" {
            let only_b = format!("{base}?office_id={}", b.chain.office);
            assert_eq!(
                listed(&app, &token, &only_b).await,
                Vec::<i64>::new(),
                "{kind}"
            );
            let only_a = format!("{base}?office_id={}", a.chain.office);
            assert_eq!(listed(&app, &token, &only_a).await, vec![mine], "{kind}");
        }

        // Change and archive: 404, as for a record that does not exist.
        for (method, path, body) in [
            (
                Method::PATCH,
                format!("{base}/{theirs}"),
                Some(change(kind)),
            ),
            (Method::POST, format!("{base}/{theirs}/archive"), None),
        ] {
            let reply = send(&app, &token, method.clone(), &path, body).await;
            assert_eq!(
                visible(&reply.expect_problem(404, "not_found")),
                nowhere,
                "{method} {path}"
            );
        }
        send(
            &app,
            &token,
            Method::PATCH,
            &format!("{base}/{mine}"),
            Some(change(kind)),
        )
        .await
        .expect(200);

        // Build below: B's record is a parent that does not exist (422 on
        // the parent field); A's is fine.
        if kind != "houses" {
            let (path, field, body) = child_below(kind, &b, 2);
            let mut absent = body.clone();
            absent[field] = json!(missing);
            let expected = visible(&send(&app, &token, Method::POST, path, Some(absent)).await);
            let reply = send(&app, &token, Method::POST, path, Some(body))
                .await
                .expect_problem(422, "validation.failed");
            assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.raw);
            assert_eq!(visible(&reply), expected, "{path}");
            let (path, _, body) = child_below(kind, &a, 2);
            send(&app, &token, Method::POST, path, Some(body))
                .await
                .expect(201);
        }
    }

    // Archive all of A, leaves first; B's records are untouched by any of it.
    for kind in KINDS {
        for id in listed(&app, &token, &format!("/api/v1/{kind}?limit=200")).await {
            send(
                &app,
                &token,
                Method::POST,
                &format!("/api/v1/{kind}/{id}/archive"),
                None,
            )
            .await
            .expect(200);
        }
    }
    for kind in KINDS {
        let reply = app
            .get(&format!("/api/v1/{kind}/{}", b.id(kind)))
            .await
            .expect(200);
        assert_eq!(
            reply.body["version"], 1,
            "{kind} of B changed: {}",
            reply.raw
        );
        assert_eq!(reply.body["archived_at"], Value::Null);
    }
});

db_test!(company_records_need_a_company_scope, |app| {
    let a = app.create_unit_chain("甲").await;
    let token = app
        .staff_token(
            &[Permission::OrgRead, Permission::OrgWrite],
            AssignmentScope::Offices([a.office].into()),
        )
        .await;
    let reply = send(
        &app,
        &token,
        Method::PATCH,
        "/api/v1/company",
        Some(json!({"vip_card_prefix": "YG"})),
    )
    .await
    .expect_problem(403, "auth.company_scope_required");
    assert!(reply.header("www-authenticate").is_none());
    send(
        &app,
        &token,
        Method::POST,
        "/api/v1/offices",
        Some(json!({"name": "新管理处"})),
    )
    .await
    .expect_problem(403, "auth.company_scope_required");
    // Nothing was written.
    assert_eq!(
        app.get("/api/v1/company").await.expect(200).body["version"],
        1
    );
    assert_eq!(
        listed(&app, &app.admin_token, "/api/v1/offices").await,
        vec![a.office]
    );

    // The same permissions company-wide may.
    let company = app
        .staff_token(
            &[Permission::OrgRead, Permission::OrgWrite],
            AssignmentScope::Company,
        )
        .await;
    send(
        &app,
        &company,
        Method::PATCH,
        "/api/v1/company",
        Some(json!({"vip_card_prefix": "YG"})),
    )
    .await
    .expect(200);
    send(
        &app,
        &company,
        Method::POST,
        "/api/v1/offices",
        Some(json!({"name": "新管理处"})),
    )
    .await
    .expect(201);
});

db_test!(an_own_records_scope_reaches_no_estate_record, |app| {
    let a = Branch::new(&app, "甲").await;
    let token = app
        .staff_token(
            &[Permission::OrgRead, Permission::OrgWrite],
            AssignmentScope::Own,
        )
        .await;
    for kind in KINDS {
        assert_eq!(
            listed(&app, &token, &format!("/api/v1/{kind}")).await,
            Vec::<i64>::new(),
            "{kind}"
        );
        send(
            &app,
            &token,
            Method::GET,
            &format!("/api/v1/{kind}/{}", a.id(kind)),
            None,
        )
        .await
        .expect_problem(404, "not_found");
        send(
            &app,
            &token,
            Method::PATCH,
            &format!("/api/v1/{kind}/{}", a.id(kind)),
            Some(change(kind)),
        )
        .await
        .expect_problem(404, "not_found");
    }
    let (path, field, body) = child_below("offices", &a, 1);
    let reply = send(&app, &token, Method::POST, path, Some(body))
        .await
        .expect_problem(422, "validation.failed");
    assert_eq!(reply.body["errors"][0]["field"], field);
});
