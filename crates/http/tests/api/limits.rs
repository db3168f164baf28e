//! API-wide rate limits: per source address and per application, announced with the IETF
//! draft's `RateLimit-Policy` / `RateLimit` fields on every answer, 429 past them.

use std::num::NonZeroU32;

use actix_web::test::TestRequest;
use roost_http::rate_limit::RateLimitSettings;
use roost_http::HttpSettings;

use crate::helpers::{Reply, TestApp};

fn limited(burst: u32, loopback: bool) -> HttpSettings {
    HttpSettings {
        rate_limits: Some(RateLimitSettings {
            per_second: NonZeroU32::MIN,
            burst: NonZeroU32::new(burst).unwrap(),
            loopback,
        }),
        ..HttpSettings::default()
    }
}

async fn get_from(t: &TestApp, path: &str, address: &str) -> Reply {
    t.call(TestRequest::get().uri(path).peer_addr(format!("{address}:50000").parse().unwrap())).await
}

/// Every family's answers carry both fields, for both limits a request went through.
#[actix_web::test]
async fn every_answer_announces_the_limits() {
    for t in TestApp::each_with(limited(1000, false)).await {
        let user = t.create_user("limits-jane").await;
        for path in
            ["/v1/application", "/v1/users", &format!("/v1/users/{}", user["id"]), "/v1/channels", "/v1/nowhere"]
        {
            let reply = get_from(&t, path, "192.0.2.10").await;
            let policy = reply.header("ratelimit-policy").unwrap_or_default();
            assert!(policy.contains("\"address\";q=1000;w=1000"), "{path}: {policy}");
            let state = reply.header("ratelimit").unwrap_or_default();
            assert!(state.contains("\"address\";r="), "{path}: {state}");
            if reply.status == 200 {
                assert!(policy.contains("\"application\";q=1000"), "{path}: {policy}");
            }
        }
        let unauthenticated =
            t.send(TestRequest::get().uri("/v1/users").peer_addr("192.0.2.10:1".parse().unwrap())).await;
        assert_eq!(unauthenticated.status, 401);
        assert!(unauthenticated.header("ratelimit").is_some(), "errors carry the fields too");
    }
}

/// Past the burst: 429 `RATE_LIMIT_REACHED` with `Retry-After`; another address still has its
/// own allowance but not the application's; probes and loopback clients are never limited.
#[actix_web::test]
async fn past_the_limit_is_a_429_per_address_and_per_application() {
    for t in TestApp::each_with(limited(3, false)).await {
        for n in 0..3 {
            let reply = get_from(&t, "/v1/application", "192.0.2.20").await;
            assert_eq!(reply.status, 200, "request {n}");
        }
        let refused = get_from(&t, "/v1/application", "192.0.2.20").await;
        assert_eq!(refused.status, 429, "{}", refused.body);
        assert_eq!(refused.body["error"], "RATE_LIMIT_REACHED");
        assert!(refused.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1));
        assert!(refused.header("ratelimit").unwrap_or_default().contains("\"address\";r=0"));

        // A new address passes its own limit, then meets the application's.
        let other = get_from(&t, "/v1/application", "192.0.2.21").await;
        assert_eq!(other.status, 429, "the application spent its allowance: {}", other.body);
        assert!(other.header("ratelimit").unwrap_or_default().contains("\"application\";r=0"), "{:?}", other.headers);

        let probe = t.send(TestRequest::get().uri("/healthz").peer_addr("192.0.2.20:1".parse().unwrap())).await;
        assert_eq!(probe.status, 200, "probes are never limited");
        for _ in 0..5 {
            let local = get_from(&t, "/v1/users", "127.0.0.1").await;
            assert_eq!(local.status, 200, "loopback is exempt by default");
            assert!(local.header("ratelimit").is_none());
        }
    }
}

/// `ROOST_RATE_LIMIT_LOOPBACK=true` limits loopback clients like any other.
#[actix_web::test]
async fn loopback_is_limited_when_asked() {
    for t in TestApp::each_with(limited(2, true)).await {
        assert_eq!(get_from(&t, "/v1/users", "127.0.0.1").await.status, 200);
        assert_eq!(get_from(&t, "/v1/users", "127.0.0.1").await.status, 200);
        assert_eq!(get_from(&t, "/v1/users", "127.0.0.1").await.status, 429);
    }
}
