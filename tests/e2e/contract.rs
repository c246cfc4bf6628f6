//! The committed contract is what the code generates, and what is served.

use crate::db_test;

#[test]
fn committed_openapi_matches_the_code() {
    let generated = wuye_api::openapi::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var_os("WUYE_UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `make openapi` (or WUYE_UPDATE_OPENAPI=1 cargo test committed_openapi) and commit it"
    );
}

db_test!(served_document_is_the_committed_one, |app| {
    let reply = app.get("/openapi.json").await.expect(200);
    assert_eq!(reply.raw, wuye_api::openapi::document_json());
    assert_eq!(reply.body["openapi"], "3.1.0");
});
