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
