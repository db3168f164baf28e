//! `/healthz`, `/readyz` and `/`: unauthenticated, and readiness follows the database.

use actix_web::test::TestRequest;

use crate::helpers::TestApp;

#[actix_web::test]
async fn probes_need_no_token_and_readiness_follows_the_database() {
    for t in TestApp::each().await {
        for uri in ["/healthz", "/readyz"] {
            let reply = t.send(TestRequest::get().uri(uri)).await;
            assert_eq!(
                (reply.status.as_u16(), reply.body["status"].as_str()),
                (200, Some("UP")),
                "{} {uri}",
                t.label()
            );
        }
        // A database that lost its schema (dropped, restored from an older backup) is not ready;
        // the process is still alive.
        t.db.execute("DROP TABLE __diesel_schema_migrations");
        let ready = t.send(TestRequest::get().uri("/readyz")).await;
        assert_eq!(ready.status, 503, "{}: {}", t.label(), ready.body);
        assert_eq!(ready.body["error"], "ServiceUnavailableError", "{}", t.label());
        assert_eq!(t.send(TestRequest::get().uri("/healthz")).await.status, 200, "{}", t.label());
    }
}

#[actix_web::test]
async fn the_root_names_the_server_and_links_the_api() {
    for t in TestApp::each().await {
        let reply = t.send(TestRequest::get().uri("/")).await;
        assert_eq!(reply.status, 200, "{}", t.label());
        assert_eq!(reply.body["name"], "Roost");
        assert_eq!(reply.body["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(reply.body["apiVersion"], "2.41.9");
        assert!(reply.body["_links"]["api"]["href"].as_str().unwrap().ends_with("/v1"), "{}", reply.body);
    }
}

/// The route table the OpenAPI check compares with: what `configure` mounts, with scope prefixes.
#[test]
fn the_route_table_lists_every_route_with_its_full_path() {
    use actix_web::http::Method;
    let routes = roost_http::api_routes();
    let has = |method: Method, path: &str| routes.iter().any(|(m, p)| *m == method && p == path);
    assert!(has(Method::GET, "/v1/users/{user_id}"), "{routes:?}");
    assert!(has(Method::HEAD, "/v1/users"));
    assert!(has(Method::POST, "/v1/channels/{channel_id}/members"));
    assert!(has(Method::DELETE, "/v1/messages/{message_id}/reactions/{emoji}"));
    assert!(has(Method::GET, "/v1/applications/{app_id}/users/{user_id}"));
    assert!(has(Method::POST, "/oauth/token"));
    assert!(!has(Method::GET, "/metrics"), "metrics are mounted apart from the API");
    let mut unique = routes.clone();
    unique.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    unique.dedup();
    assert_eq!(unique.len(), routes.len(), "a route is declared twice");
}

/// `GET /metrics`: OpenMetrics text, requests counted by route template (never by raw path),
/// the parts' own gauges; off (404, nothing counted) when the settings say so.
#[actix_web::test]
async fn metrics_count_requests_by_route_template() {
    for t in TestApp::each().await {
        let user = t.create_user("metered").await;
        t.get(&format!("/v1/users/{}", user["id"])).await;
        t.get("/v1/users/999999999").await;
        let metrics = t.send(TestRequest::get().uri("/metrics")).await;
        assert_eq!(metrics.status, 200, "{}", t.label());
        assert!(metrics.header("content-type").unwrap().starts_with("application/openmetrics-text"));
        let text = String::from_utf8(metrics.raw.clone()).unwrap();
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(
            text.contains(r#"roost_http_requests_total{method="GET",route="/v1/users/{user_id}",status="200"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"roost_http_requests_total{method="GET",route="/v1/users/{user_id}",status="404"} 1"#),
            "{text}"
        );
        assert!(!text.contains("999999999"), "a raw id reached a label");
        assert!(
            text.contains(r#"roost_http_request_duration_seconds_count{method="POST",route="/v1/users"} 1"#),
            "{text}"
        );
        assert!(text.contains("roost_tokens_issued_total 1"), "{text}");
        for name in [
            "roost_storage_threads",
            "roost_storage_jobs_waiting",
            "roost_db_connections_max",
            "roost_secret_checks_total{outcome=\"run\"} 1",
            "roost_group_commit_size_count",
            "roost_response_cache_hits_total",
        ] {
            assert!(text.contains(name), "{name} missing: {text}");
        }
    }
    let off = roost_http::HttpSettings { metrics: roost_http::MetricsExposure::Off, ..Default::default() };
    for t in TestApp::each_with(off).await {
        assert_eq!(t.send(TestRequest::get().uri("/metrics")).await.status, 404);
    }
}
