use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{snapshot, TestApp};

#[actix_web::test]
async fn root_and_application() {
    for t in TestApp::each().await {
        let root = t.get("/v1").await;
        assert_eq!(root.status, 200);
        snapshot("root", &root.body);

        let app = t.get("/v1/application").await;
        assert_eq!(app.status, 200, "{}", t.label());
        assert_eq!(app.body["id"], t.app.application.id.0);
        assert_eq!(app.body["key"], t.app.application.key.as_str());
        snapshot("application", &app.body);

        // Every templated link is valid RFC 6570 and expands to a route that answers.
        let template = app.body["_links"]["find:users"]["href"].as_str().unwrap();
        assert_eq!(app.body["_links"]["find:users"]["templated"], true);
        let parsed = iri_string::template::UriTemplateStr::new(template).unwrap();
        let mut context = iri_string::template::simple_context::SimpleContext::new();
        context.insert("page", "0");
        context.insert("size", "2");
        context.insert("name", "nobody");
        let expanded = parsed.expand::<iri_string::spec::UriSpec, _>(&context).unwrap().to_string();
        let path = expanded.trim_start_matches("http://localhost:8080");
        assert_eq!(path, "/v1/users?page=0&size=2&name=nobody");
        assert_eq!(t.get(path).await.status, 200);
    }
}

#[actix_web::test]
async fn legacy_application_paths() {
    for t in TestApp::each().await {
        let me = t.get("/v1/applications/me").await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["id"], t.app.application.id.0);
        let by_id = t.get(&format!("/v1/applications/{}", t.app.application.id)).await;
        assert_eq!(by_id.body, me.body);

        let user = t.create_user("legacy").await;
        let id = user["id"].as_i64().unwrap();
        let via_me = t.get(&format!("/v1/applications/me/users/{id}")).await;
        assert_eq!(via_me.status, 200);
        assert_eq!(via_me.body["name"], "legacy");
        let list = t.get(&format!("/v1/applications/{}/users", t.app.application.id)).await;
        assert_eq!(list.body["page"]["totalElements"], 1);
        assert!(list.body["_links"]["self"]["href"].as_str().unwrap().contains("/v1/applications/"));

        // Another application's id is answered exactly like one that does not exist.
        let (other, _) = t.other_application().await;
        for uri in [
            format!("/v1/applications/{}", other.application.id),
            format!("/v1/applications/{}/users", other.application.id),
            "/v1/applications/123/users".into(),
        ] {
            let reply = t.get(&uri).await;
            assert_eq!(reply.status, 404, "{uri}");
            assert_eq!(reply.body["error"], "ResourceNotFoundError");
        }
    }
}

#[actix_web::test]
async fn settings_get_and_replace() {
    for t in TestApp::each().await {
        let settings = t.get("/v1/application/settings").await;
        assert_eq!(settings.status, 200);
        snapshot("settings", &settings.body);

        let put = TestRequest::put()
            .uri("/v1/application/settings")
            .set_json(json!({"guestUsers": "ENABLED", "userCreatedChannels": "DISABLED"}));
        let reply = t.call(put).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["guestUsers"], "ENABLED");
        assert_eq!(t.get("/v1/application/settings").await.body["guestUsers"], "ENABLED", "{}", t.label());

        // The Python SDK 1.0.0 sends only the settings its spec had: the others keep their values.
        let only_guests =
            TestRequest::put().uri("/v1/application/settings").set_json(json!({"guestUsers": "DISABLED"}));
        let user_channels =
            TestRequest::put().uri("/v1/application/settings").set_json(json!({"user_created_channels": "ENABLED"}));
        assert_eq!(t.call(user_channels).await.status, 200);
        let reply = t.call(only_guests).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            (reply.body["guestUsers"].as_str(), reply.body["userCreatedChannels"].as_str()),
            (Some("DISABLED"), Some("ENABLED"))
        );
        let again = TestRequest::put().uri("/v1/application/settings").set_json(json!({"guestUsers": "ENABLED"}));
        assert_eq!(t.call(again).await.status, 200);

        for bad in [json!({"guestUsers": "MAYBE", "userCreatedChannels": "DISABLED"}), json!({"color": "red"})] {
            let reply = t.call(TestRequest::put().uri("/v1/application/settings").set_json(bad.clone())).await;
            assert_eq!(reply.status, 400, "{bad}");
            assert_eq!(reply.body["error"], "ClientError");
        }
        assert_eq!(
            t.get("/v1/application/settings").await.body["guestUsers"],
            "ENABLED",
            "a refused PUT changes nothing"
        );
    }
}
