use std::num::NonZeroU32;

use actix_web::test::TestRequest;
use chrono::Duration;
use roost_domain::model::application::AccessTokenRecord;
use roost_domain::now;
use roost_domain::ports::CredentialStore;
use roost_http::HttpSettings;

use crate::helpers::{basic, TestApp};

fn form(body: &str) -> TestRequest {
    TestRequest::post()
        .uri("/oauth/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body.to_owned())
}

#[actix_web::test]
async fn token_by_basic_form_and_multipart() {
    for t in TestApp::each().await {
        let (id, secret) = (t.app.client_id.clone(), t.app.client_secret.clone());
        // HTTP Basic with a form body, plus the username/password fields ChatKitty's docs send.
        let reply = t
            .send(
                form(&format!("grant_type=client_credentials&username={id}&password={secret}"))
                    .insert_header(("authorization", basic(&id, &secret))),
            )
            .await;
        assert_eq!(reply.status, 200, "{}: {}", t.label(), reply.body);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("pragma"), Some("no-cache"));
        assert_eq!(reply.body["token_type"], "bearer");
        assert_eq!(reply.body["expires_in"], 43_200);
        assert_eq!(reply.body["scope"], format!("org:{}:app", t.app.application.organization_id));
        assert!(reply.body["access_token"].as_str().unwrap().starts_with("rat_"));

        // Credentials in the body.
        let reply = t.send(form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"))).await;
        assert_eq!(reply.status, 200, "{}", reply.body);

        // multipart/form-data, as the official JS SDK sends.
        let boundary = "roostboundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n{id}\r\n--{boundary}--\r\n"
        );
        let reply = t
            .send(
                TestRequest::post()
                    .uri("/oauth/token")
                    .insert_header(("authorization", basic(&id, &secret)))
                    .insert_header(("content-type", format!("multipart/form-data; boundary={boundary}")))
                    .set_payload(body),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);

        // The token works.
        let token = reply.body["access_token"].as_str().unwrap().to_owned();
        let me = t
            .send(TestRequest::get().uri("/v1/application").insert_header(("authorization", format!("Bearer {token}"))))
            .await;
        assert_eq!(me.status, 200);
    }
}

#[actix_web::test]
async fn token_errors() {
    for t in TestApp::each().await {
        let (id, secret) = (t.app.client_id.clone(), t.app.client_secret.clone());
        let cases: Vec<(TestRequest, u16, &str, Option<&str>)> = vec![
            (
                form("grant_type=client_credentials").insert_header(("authorization", basic(&id, "rcs_wrong"))),
                401,
                "invalid_client",
                Some("Basic realm=\"roost\""),
            ),
            (
                form("grant_type=client_credentials").insert_header(("authorization", basic("nobody", "x"))),
                401,
                "invalid_client",
                Some("Basic realm=\"roost\""),
            ),
            (
                form(&format!("grant_type=client_credentials&client_id={id}&client_secret=wrong")),
                400,
                "invalid_client",
                None,
            ),
            (form("grant_type=client_credentials"), 401, "invalid_client", Some("Basic realm=\"roost\"")),
            (form("").insert_header(("authorization", basic(&id, &secret))), 400, "invalid_request", None),
            (
                form("grant_type=password").insert_header(("authorization", basic(&id, &secret))),
                400,
                "unsupported_grant_type",
                None,
            ),
            (
                form("grant_type=client_credentials&grant_type=client_credentials")
                    .insert_header(("authorization", basic(&id, &secret))),
                400,
                "invalid_request",
                None,
            ),
            (
                form("grant_type=client_credentials&scope=admin").insert_header(("authorization", basic(&id, &secret))),
                400,
                "invalid_scope",
                None,
            ),
            (
                form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"))
                    .insert_header(("authorization", basic(&id, &secret))),
                400,
                "invalid_request",
                None,
            ),
            (
                TestRequest::post()
                    .uri("/oauth/token")
                    .set_json(serde_json::json!({"grant_type": "client_credentials"}))
                    .insert_header(("authorization", basic(&id, &secret))),
                400,
                "invalid_request",
                None,
            ),
        ];
        for (i, (req, status, error, challenge)) in cases.into_iter().enumerate() {
            let reply = t.send(req).await;
            assert_eq!(reply.status, status, "case {i} on {}: {}", t.label(), reply.body);
            assert_eq!(reply.body["error"], error, "case {i}");
            assert!(reply.body["error_description"].is_string(), "case {i}");
            assert_eq!(reply.header("www-authenticate"), challenge, "case {i}");
            assert_eq!(reply.header("cache-control"), Some("no-store"), "case {i}");
        }
        let get = t.send(TestRequest::get().uri("/oauth/token")).await;
        assert_eq!(get.status, 405, "the token endpoint takes POST only (RFC 6749 §3.2)");
    }
}

#[actix_web::test]
async fn token_endpoint_is_rate_limited() {
    let settings = HttpSettings {
        token_rate_per_second: NonZeroU32::MIN,
        token_rate_burst: NonZeroU32::new(2).unwrap(),
        ..HttpSettings::default()
    };
    let t = TestApp::each_with(settings).await.remove(0);
    // TestApp::new already spent one attempt; one more fits in the burst, the next does not.
    let req =
        || form("grant_type=client_credentials").insert_header(("authorization", basic(&t.app.client_id, "rcs_wrong")));
    assert_eq!(t.send(req()).await.status, 401);
    let limited = t.send(req()).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(limited.body["error"], "too_many_requests");
}

#[actix_web::test]
async fn bearer_errors_expiry_and_revocation() {
    for t in TestApp::each().await {
        let missing = t.send(TestRequest::get().uri("/v1/users")).await;
        assert_eq!(missing.status, 401);
        assert_eq!(missing.header("www-authenticate"), Some("Bearer realm=\"roost\""));
        assert_eq!(missing.body["error"], "unauthorized");

        let bad =
            t.send(TestRequest::get().uri("/v1/users").insert_header(("authorization", "Bearer rat_forged"))).await;
        assert_eq!(bad.status, 401);
        assert!(bad.header("www-authenticate").unwrap().contains("error=\"invalid_token\""));
        assert_eq!(bad.body["error"], "invalid_token");

        let basic_on_api =
            t.send(TestRequest::get().uri("/v1/users").insert_header(("authorization", "Basic abc"))).await;
        // RFC 6750 §3.1: an unsupported scheme counts as no credentials.
        assert_eq!(basic_on_api.status, 401);
        assert_eq!(basic_on_api.header("www-authenticate"), Some("Bearer realm=\"roost\""));
        assert_eq!(basic_on_api.body["error"], "unauthorized");

        // An expired token.
        let raw = "rat_expired-token-for-tests";
        t.store
            .insert_token(&AccessTokenRecord {
                token_hash: roost_auth::token::hash_token(raw),
                client_id: t.app.client_id.clone(),
                application_id: t.app.application.id,
                organization_id: t.app.application.organization_id,
                created_time: now() - Duration::hours(13),
                expires_time: now() - Duration::hours(1),
                revoked: false,
            })
            .unwrap();
        let expired =
            t.send(TestRequest::get().uri("/v1/users").insert_header(("authorization", format!("Bearer {raw}")))).await;
        assert_eq!(expired.status, 401);
        assert_eq!(expired.body["error_description"], "The access token expired");

        // Introspection, then revocation (RFC 7662, RFC 7009).
        let auth = basic(&t.app.client_id, &t.app.client_secret);
        let introspect = |token: &str| {
            TestRequest::post()
                .uri("/oauth/introspect")
                .insert_header(("authorization", auth.clone()))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(format!("token={token}"))
        };
        let active = t.send(introspect(&t.token)).await;
        assert_eq!(active.status, 200);
        assert_eq!(active.body["active"], true);
        assert_eq!(active.body["client_id"], t.app.client_id.as_str());
        assert_eq!(t.send(introspect("rat_unknown")).await.body, serde_json::json!({"active": false}));
        let unauthenticated = t
            .send(
                TestRequest::post()
                    .uri("/oauth/introspect")
                    .insert_header(("content-type", "application/x-www-form-urlencoded"))
                    .set_payload(format!("token={}", t.token)),
            )
            .await;
        assert_eq!(unauthenticated.status, 401, "introspection requires client authentication");

        let revoke = |token: &str| {
            TestRequest::post()
                .uri("/oauth/revoke")
                .insert_header(("authorization", auth.clone()))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(format!("token={token}"))
        };
        assert_eq!(t.send(revoke("rat_unknown")).await.status, 200, "unknown tokens are answered 200 (RFC 7009 §2.2)");
        assert_eq!(t.send(revoke(&t.token)).await.status, 200);
        let revoked = t.get("/v1/users").await;
        assert_eq!(revoked.status, 401, "{}", t.label());
        assert_eq!(revoked.body["error_description"], "The access token has been revoked");
        assert_eq!(t.send(introspect(&t.token)).await.body, serde_json::json!({"active": false}));
    }
}
