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
        assert!(reply.body["_links"]["docs"]["href"].as_str().unwrap().ends_with("/docs/"), "{}", reply.body);
        let explorer = t.send(TestRequest::get().uri("/docs/")).await;
        assert_eq!(explorer.status, 200);
        assert!(explorer.header("content-type").unwrap().starts_with("text/html"));
        assert!(String::from_utf8_lossy(&explorer.raw).contains("swagger-ui-bundle.js"));
        let initializer = t.send(TestRequest::get().uri("/docs/swagger-initializer.js")).await;
        assert!(
            String::from_utf8_lossy(&initializer.raw).contains("/v1/openapi.json"),
            "the explorer reads Roost's document"
        );
        assert_eq!(t.send(TestRequest::get().uri("/docs/nothing.js")).await.status, 404);
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
        // (The id as a number may appear in a value, e.g. a sum 0.0009999999: only labels matter.)
        assert!(!text.contains("/v1/users/999999999"), "a raw path reached a label");
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

/// A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones, then
/// come back on the same port: PostgreSQL "going away" as a restart or a network cut looks to
/// Roost.
struct Cuttable {
    port: u16,
    upstream: std::net::SocketAddr,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
    listener: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Cuttable {
    fn start(upstream: std::net::SocketAddr) -> Self {
        let mut proxy = Self { port: 0, upstream, open: Default::default(), listener: None };
        proxy.listen(std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        proxy
    }

    fn listen(&mut self, listener: std::net::TcpListener) {
        use std::sync::atomic::Ordering;
        self.port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (flag, open, upstream) = (running.clone(), self.open.clone(), self.upstream);
        std::thread::spawn(move || {
            while flag.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let Ok(server) = std::net::TcpStream::connect(upstream) else { continue };
                let mut open = open.lock().unwrap();
                open.push(client.try_clone().unwrap());
                open.push(server.try_clone().unwrap());
                for (mut from, mut to) in [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        self.listener = Some(running);
    }

    /// Every connection cut, new ones refused.
    fn cut(&mut self) {
        if let Some(running) = self.listener.take() {
            running.store(false, std::sync::atomic::Ordering::SeqCst);
        }
        std::thread::sleep(std::time::Duration::from_millis(50)); // the accept loop drops the listener
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Accepting again on the same port.
    fn restore(&mut self) {
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.listen(listener);
    }
}

/// PostgreSQL going away makes `/readyz` 503 (the process stays alive) and coming back makes it
/// 200 again, without a restart of Roost.
#[actix_web::test]
async fn readiness_follows_postgres_going_away_and_coming_back() {
    let Some(db) = roost_persistence::testing::TestDatabase::postgres() else {
        return; // a PostgreSQL test: .ci/run sets ROOST_TEST_POSTGRES_URL, so it runs there
    };
    let url = db.url.to_url_string();
    let (host_port, rest) = url.split_once('@').map(|(_, r)| r).unwrap_or(&url).split_once('/').unwrap();
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(host_port).unwrap().next().unwrap();
    let mut proxy = Cuttable::start(upstream);
    let via_proxy = url.replace(host_port, &format!("127.0.0.1:{}", proxy.port));
    assert!(via_proxy.ends_with(rest));
    let via_proxy = roost_persistence::DatabaseUrl::parse(&via_proxy).unwrap();
    let ids = std::sync::Arc::new(roost_domain::IdGenerator::new(1).unwrap());
    let settings = roost_persistence::PoolSettings {
        max_size: 2,
        connection_timeout: std::time::Duration::from_secs(1),
        keep_idle: 0,
    };
    let store = std::sync::Arc::new(roost_persistence::DieselStore::open(&via_proxy, &settings, ids.clone()).unwrap());
    let hasher = std::sync::Arc::new(roost_auth::SecretHasher::for_tests().unwrap());
    let state =
        roost_http::AppState::new(roost_domain::Ports::from_store(store), ids, hasher, Default::default()).unwrap();
    let app = actix_web::test::init_service(roost_http::app(actix_web::web::Data::new(state))).await;
    let ready = || actix_web::test::call_service(&app, TestRequest::get().uri("/readyz").to_request());
    assert_eq!(ready().await.status(), 200);

    proxy.cut();
    assert_eq!(ready().await.status(), 503, "not ready while PostgreSQL is unreachable");
    let alive = actix_web::test::call_service(&app, TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(alive.status(), 200, "still alive");

    proxy.restore();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // Connections cut while pooled fail once each and are replaced.
        if ready().await.status() == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never ready again after PostgreSQL came back");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
