//! Company settings, through the HTTP API.

use super::*;

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
