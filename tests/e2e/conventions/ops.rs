//! Health, readiness and metrics.

use super::*;

// Liveness: /healthz is 200 {"status":"ok"}.
db_test!(healthz_answers_ok, |app| {
    let reply = app.get("/healthz").await.expect(200);
    assert_eq!(reply.body, json!({ "status": "ok" }));
    assert_eq!(reply.header("content-type"), Some("application/json"));
});

// Readiness: /readyz is 200 while the database answers.
db_test!(readyz_answers_ok_on_a_working_database, |app| {
    let reply = app.get("/readyz").await.expect(200);
    assert_eq!(reply.body, json!({ "status": "ok" }));
    assert!(reply.header("x-request-id").is_some());
});

/// With the database unreachable, /readyz and API routes answer 503
/// problem+json with Retry-After — never 500 — and /healthz still 200.
#[actix_web::test]
async fn readyz_and_api_answer_503_when_the_database_is_down() {
    use actix_web::test;

    let db = wuye_persistence::Db::connect_lazily(&wuye_persistence::DbConfig {
        url: "postgres://postgres@127.0.0.1:1/nowhere".into(),
        pool_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .expect("lazy pool");
    let mut config = ApiConfig::default();
    config.auth.secret = crate::support::TEST_JWT_SECRET.to_vec();
    // A well-signed token: authentication passes, and authorising it needs
    // the database, which is down.
    let token = wuye_api::auth::tokens::TokenKeys::new(
        &config.auth.secret,
        &config.auth.issuer,
        &config.auth.audience,
        config.auth.access_ttl,
    )
    .unwrap()
    .issue(wuye_api::auth::tokens::Subject::Staff(1), 1)
    .unwrap();
    let service =
        test::init_service(wuye_api::app(wuye_api::AppState::new(db, config).unwrap())).await;
    let read = |response: actix_web::dev::ServiceResponse| async move {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body: Value =
            serde_json::from_slice(&test::read_body(response).await).unwrap_or(Value::Null);
        (status, headers, body)
    };

    let request = test::TestRequest::get().uri("/healthz").to_request();
    let (status, _, body) = read(test::call_service(&service, request).await).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "status": "ok" }));

    for (method, uri, payload) in [
        (Method::GET, "/readyz", None),
        (Method::GET, OFFICES, None),
        (Method::GET, "/api/v1/offices/1", None),
        (Method::POST, OFFICES, Some(json!({ "name": "甲管理处" }))),
    ] {
        let mut request = test::TestRequest::default()
            .method(method.clone())
            .uri(uri)
            .insert_header(("Authorization", format!("Bearer {token}")));
        if let Some(payload) = payload {
            request = request.set_json(payload);
        }
        let (status, headers, body) =
            read(test::call_service(&service, request.to_request()).await).await;
        assert_eq!(status, 503, "{method} {uri}: {body}");
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("content-type"), Some("application/problem+json"));
        assert_eq!(body["code"], "service.unavailable", "{uri}");
        assert_eq!(body["type"], "urn:wuye:problem:service.unavailable");
        assert_eq!(body["status"], 503);
        assert_eq!(body["title"], "服务不可用");
        let retry_after = header("retry-after").expect("Retry-After");
        assert!(
            retry_after.parse::<u32>().is_ok_and(|s| s > 0),
            "{retry_after}"
        );
        assert_eq!(body["request_id"].as_str(), header("x-request-id"));
        let text = body.to_string().to_lowercase();
        assert!(
            !text.contains("127.0.0.1") && !text.contains("connection"),
            "{text}"
        );
    }
}

// /metrics is Prometheus text counting requests by route pattern, never
// by concrete path.
db_test!(metrics_count_requests_by_route_pattern, |app| {
    let id = app.create_office("甲管理处").await;
    app.get(&format!("{OFFICES}/{id}")).await.expect(200);
    app.get(&format!("{OFFICES}/{id}")).await.expect(200);
    app.get(&format!("{OFFICES}/999999")).await.expect(404);
    app.get("/api/v1/no-such-thing-7f3a").await.expect(404);
    let reply = app.get("/metrics").await.expect(200);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        reply.header("content-type")
    );
    let text = &reply.raw;
    assert!(
        text.contains("# TYPE wuye_http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains(
            "wuye_http_requests_total{method=\"GET\",route=\"/api/v1/offices/{id}\",status=\"200\"} 2"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "wuye_http_requests_total{method=\"GET\",route=\"/api/v1/offices/{id}\",status=\"404\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "wuye_http_requests_total{method=\"POST\",route=\"/api/v1/offices\",status=\"201\"} 1"
        ),
        "{text}"
    );
    assert!(!text.contains(&format!("/api/v1/offices/{id}\"")), "{text}");
    assert!(!text.contains("/api/v1/offices/999999"), "{text}");
    // Unknown paths share one label, so clients cannot grow the series.
    assert!(!text.contains("no-such-thing-7f3a"), "{text}");
    assert!(
        text.contains(
            "wuye_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("wuye_http_request_duration_seconds_bucket"),
        "{text}"
    );
});
