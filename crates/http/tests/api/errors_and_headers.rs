use actix_web::test::TestRequest;

use crate::helpers::{snapshot, TestApp};

#[actix_web::test]
async fn every_response_carries_the_standard_headers() {
    for t in TestApp::each().await {
        for reply in [t.get("/v1").await, t.get("/v1/nowhere").await, t.send(TestRequest::get().uri("/v1")).await] {
            assert_eq!(reply.header("x-api-version"), Some("2.41.9"));
            assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(reply.header("x-frame-options"), Some("DENY"));
            let token = reply.header("x-response-token").unwrap();
            assert_eq!(token.len(), 32);
            assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        }
    }
}

#[actix_web::test]
async fn content_negotiation_and_etags() {
    for t in TestApp::each().await {
        let json =
            t.call(TestRequest::get().uri("/v1/application").insert_header(("accept", "application/json"))).await;
        assert_eq!(json.header("content-type"), Some("application/json;charset=UTF-8"));
        let hal =
            t.call(TestRequest::get().uri("/v1/application").insert_header(("accept", "application/hal+json"))).await;
        assert_eq!(hal.header("content-type"), Some("application/hal+json;charset=UTF-8"));
        let html = t.call(TestRequest::get().uri("/v1/application").insert_header(("accept", "text/html"))).await;
        assert_eq!(html.status, 406);

        let etag = hal.header("etag").unwrap().to_owned();
        let again =
            t.call(TestRequest::get().uri("/v1/application").insert_header(("if-none-match", etag.clone()))).await;
        assert_eq!(again.status, 304);
        assert!(again.raw.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
    }
}

#[actix_web::test]
async fn client_errors_share_one_json_shape() {
    for t in TestApp::each().await {
        let malformed = t
            .call(
                TestRequest::post()
                    .uri("/v1/users")
                    .insert_header(("content-type", "application/json"))
                    .set_payload("{\"name\": "),
            )
            .await;
        assert_eq!(malformed.status, 400);
        snapshot("error_malformed_json", &malformed.body);

        let bad_id = t.get("/v1/users/not-a-number").await;
        assert_eq!(bad_id.status, 400);
        snapshot("error_bad_path_id", &bad_id.body);

        let not_found = t.get("/v1/users/123456789").await;
        assert_eq!(not_found.status, 404);
        snapshot("error_not_found", &not_found.body);

        let no_route = t.get("/v2/whatever").await;
        assert_eq!(no_route.status, 404);
        assert_eq!(no_route.body["error"], "ResourceNotFoundError");
        assert_eq!(no_route.body["explanation"], "No route of this API has this path");

        let wrong_method = t.call(TestRequest::put().uri("/v1/users")).await;
        assert_eq!(wrong_method.status, 405);
        assert_eq!(wrong_method.body["error"], "MethodNotAllowedError");

        let form_body = t
            .call(
                TestRequest::post()
                    .uri("/v1/users")
                    .insert_header(("content-type", "text/plain"))
                    .set_payload("name=x"),
            )
            .await;
        assert_eq!(form_body.status, 415);

        let huge = t
            .call(
                TestRequest::post()
                    .uri("/v1/users")
                    .insert_header(("content-type", "application/json"))
                    .set_payload(vec![b' '; 300 * 1024]),
            )
            .await;
        assert_eq!(huge.status, 413);

        for reply in [&malformed, &bad_id, &not_found, &no_route, &wrong_method, &form_body, &huge] {
            assert_eq!(reply.header("content-type"), Some("application/json;charset=UTF-8"));
            for member in ["error", "message", "timestamp"] {
                assert!(reply.body[member].is_string(), "{member} in {}", reply.body);
            }
        }
    }
}

#[actix_web::test]
async fn generated_display_pictures() {
    let t = TestApp::each().await.remove(0);
    let user = t.post_json("/v1/users", serde_json::json!({"name": "jd", "displayName": "Jane <Doe>"})).await;
    let url = user.body["displayPictureUrl"].as_str().unwrap();
    assert_eq!(url, "http://localhost:8080/v1/picture/Jane%20%3CDoe%3E");
    let picture = t.send(TestRequest::get().uri("/v1/picture/Jane%20%3CDoe%3E")).await;
    assert_eq!(picture.status, 200);
    assert_eq!(picture.header("content-type"), Some("image/svg+xml"));
    let svg = String::from_utf8(picture.raw).unwrap();
    assert!(svg.contains(">J&lt;<"), "{svg}");
}

/// A write without any body names the missing body (400), not a content type (415).
#[actix_web::test]
async fn a_write_without_a_body_is_told_it_needs_one() {
    for t in TestApp::each().await {
        for request in [TestRequest::post().uri("/v1/users"), TestRequest::patch().uri("/v1/users/1")] {
            let reply = t.call(request).await;
            assert_eq!(reply.status, 400, "{}: {}", t.label(), reply.body);
            assert!(reply.body["explanation"].as_str().unwrap().contains("needs a JSON body"), "{}", reply.body);
        }
        let put = t.call(TestRequest::put().uri("/v1/application/settings")).await;
        assert_eq!(put.status, 400, "{}: {}", t.label(), put.body);
    }
}

/// A use case's refusal (403) is in the API's error shape, as the API guide's table says.
#[actix_web::test]
async fn a_refusal_is_in_the_api_error_shape() {
    for t in TestApp::each().await {
        t.create_user("eve").await;
        let private = t.post_json("/v1/channels", serde_json::json!({"type": "PRIVATE", "name": "staff"})).await;
        let uri = format!("/v1/channels/{}/messages", private.body["id"]);
        let refused =
            t.post_json(&uri, serde_json::json!({"type": "TEXT", "body": "hi", "user": {"username": "eve"}})).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert_eq!(refused.body["error"], "AccessDeniedError");
        assert_eq!(refused.body["explanation"], format!("user eve is not a member of channel {}", private.body["id"]));
        for member in ["message", "timestamp"] {
            assert!(refused.body[member].is_string(), "{member} in {}", refused.body);
        }
    }
}

/// `HEAD` is `GET` without the body (RFC 9110 §9.3.2): same status, `Content-Type` and `ETag`,
/// on every readable resource; `HEAD /v1/users?name=` (`checkUserExists`) has the type too.
#[actix_web::test]
async fn head_answers_as_get_does() {
    for t in TestApp::each().await {
        let user = t.create_user("heady").await;
        let id = user["id"].as_i64().unwrap();
        for uri in ["/v1/application".to_owned(), "/v1/channels".into(), format!("/v1/users/{id}"), "/v1".into()] {
            for accept in ["application/hal+json", "application/json"] {
                let get = t.call(TestRequest::get().uri(&uri).insert_header(("accept", accept))).await;
                let head = t
                    .call(
                        TestRequest::default()
                            .method(actix_web::http::Method::HEAD)
                            .uri(&uri)
                            .insert_header(("accept", accept)),
                    )
                    .await;
                assert_eq!(head.status, get.status, "{uri} {}", t.label());
                assert_eq!(head.header("content-type"), get.header("content-type"), "{uri} {accept} {}", t.label());
                assert_eq!(head.header("etag"), get.header("etag"), "{uri} {}", t.label());
            }
        }
        let exists =
            t.call(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/v1/users?name=heady")).await;
        assert_eq!(exists.status, 200);
        assert_eq!(exists.header("content-type"), Some("application/hal+json;charset=UTF-8"));
        let missing =
            t.call(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/v1/users?name=nobody")).await;
        assert_eq!(missing.status, 404);
    }
}

/// CORS is off unless origins are configured; then a preflight from an allowed origin may send
/// `Authorization`, answers vary by `Origin`, and scripts may read the ETag and response token.
#[actix_web::test]
async fn cors_for_configured_origins_only() {
    let preflight = |origin: &str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/v1/users")
            .insert_header(("origin", origin.to_owned()))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header(("access-control-request-headers", "authorization, content-type"))
    };
    for t in TestApp::each().await {
        let closed = t.send(preflight("https://app.example")).await;
        assert_eq!(closed.header("access-control-allow-origin"), None, "{}", t.label());
        let get =
            t.call(TestRequest::get().uri("/v1/application").insert_header(("origin", "https://app.example"))).await;
        assert_eq!(get.status, 200);
        assert_eq!(get.header("access-control-allow-origin"), None);
    }
    let settings = roost_http::HttpSettings {
        cors_allowed_origins: vec!["https://app.example".into()],
        ..roost_http::HttpSettings::default()
    };
    for t in TestApp::each_with(settings).await {
        let allowed = t.send(preflight("https://app.example")).await;
        assert_eq!(allowed.status, 200, "{}", t.label());
        assert_eq!(allowed.header("access-control-allow-origin"), Some("https://app.example"));
        let headers = allowed.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
        assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");
        assert!(allowed.header("vary").unwrap_or_default().to_ascii_lowercase().contains("origin"));

        let get =
            t.call(TestRequest::get().uri("/v1/application").insert_header(("origin", "https://app.example"))).await;
        assert_eq!(get.status, 200);
        assert_eq!(get.header("access-control-allow-origin"), Some("https://app.example"));
        assert!(get.header("vary").unwrap_or_default().to_ascii_lowercase().contains("origin"));
        let exposed = get.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
        for header in ["etag", "x-response-token", "retry-after"] {
            assert!(exposed.contains(header), "{header} not exposed: {exposed}");
        }

        let stranger = t.send(preflight("https://evil.example")).await;
        assert_eq!(stranger.header("access-control-allow-origin"), None);
    }
}
