use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::{snapshot, TestApp};

#[actix_web::test]
async fn create_get_and_duplicate() {
    for t in TestApp::each().await {
        let created = t
            .post_json("/v1/users", json!({"name": "jane@chatkitty.com", "displayName": "Jane Doe", "isGuest": false, "properties": {"favoriteNumber": 42}}))
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert_eq!(created.header("content-type"), Some("application/hal+json;charset=UTF-8"));
        snapshot("user", &created.body);
        let id = created.body["id"].as_i64().unwrap();
        assert!(id < (1 << 53), "ids fit a JavaScript number");

        let fetched = t.get(&format!("/v1/users/{id}")).await;
        assert_eq!(fetched.body, created.body, "{}", t.label());

        // Defaults: displayName = name, not a guest; snake_case spellings accepted.
        let minimal = t.post_json("/v1/users", json!({"name": "bob"})).await;
        assert_eq!(minimal.body["displayName"], "bob");
        assert_eq!(minimal.body["isGuest"], false);
        let snake = t.post_json("/v1/users", json!({"name": "carol", "display_name": "Carol", "is_guest": true})).await;
        assert_eq!((snake.body["displayName"].as_str(), snake.body["isGuest"].as_bool()), (Some("Carol"), Some(true)));

        let duplicate = t.post_json("/v1/users", json!({"name": "jane@chatkitty.com", "displayName": "Other"})).await;
        assert_eq!(duplicate.status, 400);
        snapshot("user_duplicate", &duplicate.body);
        assert_eq!(duplicate.body["errors"][0]["field"], "name");
        assert_eq!(duplicate.body["errors"][0]["code"], "already_exists");

        for (body, field, code) in [
            (json!({"displayName": "x"}), "name", "missing_field"),
            (json!({"name": "   "}), "name", "missing_field"),
            (json!({"name": "x".repeat(256)}), "name", "invalid"),
            (json!({"name": "ok", "displayName": "a\u{0}b"}), "displayName", "invalid"),
        ] {
            let reply = t.post_json("/v1/users", body.clone()).await;
            assert_eq!(reply.status, 400, "{body}");
            assert_eq!(
                (reply.body["errors"][0]["field"].as_str(), reply.body["errors"][0]["code"].as_str()),
                (Some(field), Some(code)),
                "{body}"
            );
        }
        for body in [json!({"name": "ok", "id": 5}), json!({"name": 5}), json!({"name": "ok", "properties": [1]})] {
            let reply = t.post_json("/v1/users", body.clone()).await;
            assert_eq!(reply.status, 400, "{body}");
            assert_eq!(reply.body["error"], "ClientError", "{body}");
        }
        assert_eq!(t.get("/v1/users").await.body["page"]["totalElements"], 3, "refused creates stored nothing");
    }
}

#[actix_web::test]
async fn head_tells_whether_a_name_exists() {
    for t in TestApp::each().await {
        t.create_user("jane").await;
        let found =
            t.call(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/v1/users?name=jane")).await;
        assert_eq!(found.status, 200);
        let missing =
            t.call(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/v1/users?name=nobody")).await;
        assert_eq!(missing.status, 404);
        let no_name = t.call(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/v1/users")).await;
        assert_eq!(no_name.status, 400);
    }
}

fn names(body: &Value) -> Vec<String> {
    body["_embedded"]["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap().to_owned()).collect()
}

fn rels(body: &Value) -> Vec<String> {
    body["_links"].as_object().unwrap().keys().cloned().collect()
}

#[actix_web::test]
async fn pages_and_their_edges() {
    for t in TestApp::each().await {
        let empty = t.get("/v1/users").await;
        assert_eq!(empty.status, 200);
        snapshot("users_empty", &empty.body);

        for i in 0..7 {
            t.create_user(&format!("user{i}")).await;
        }
        let first = t.get("/v1/users?size=3&sort=name,desc").await;
        assert_eq!(names(&first.body), ["user6", "user5", "user4"], "{}", t.label());
        assert_eq!(rels(&first.body), ["first", "self", "next", "last"]);
        assert_eq!(first.body["page"], json!({"size": 3, "totalElements": 7, "totalPages": 3, "number": 0}));
        assert!(first.body["_links"]["next"]["href"]
            .as_str()
            .unwrap()
            .ends_with("/v1/users?sort=name,desc&page=1&size=3"));

        let last = t.get("/v1/users?size=3&page=2&sort=name,desc").await;
        assert_eq!(names(&last.body), ["user0"]);
        assert_eq!(rels(&last.body), ["first", "prev", "self", "last"]);

        let one = t.get("/v1/users?size=1").await;
        assert_eq!(names(&one.body), ["user0"], "default order is creation order");
        assert_eq!(one.body["page"]["totalPages"], 7);
        snapshot("users_page_size_1", &one.body);

        let hundred = t.get("/v1/users?size=100").await;
        assert_eq!(names(&hundred.body).len(), 7);
        let too_big = t.get("/v1/users?size=101").await;
        assert_eq!(too_big.status, 400);
        assert!(too_big.body["explanation"].as_str().unwrap().contains("between 1 and 100"));
        assert_eq!(t.get("/v1/users?size=0").await.status, 400);
        assert_eq!(t.get("/v1/users?page=-1").await.status, 400);
        assert_eq!(t.get("/v1/users?page=x").await.status, 400);

        let beyond = t.get("/v1/users?page=10&size=3").await;
        assert_eq!(beyond.status, 200);
        assert!(names(&beyond.body).is_empty());

        let unknown_sort = t.get("/v1/users?sort=password").await;
        assert_eq!(unknown_sort.status, 400);
        assert_eq!(unknown_sort.body["error"], "ClientError");

        let by_name = t.get("/v1/users?name=user3").await;
        assert_eq!(names(&by_name.body), ["user3"]);
    }
}

#[actix_web::test]
async fn properties_filter() {
    for t in TestApp::each().await {
        t.post_json("/v1/users", json!({"name": "a", "properties": {"team": "red"}})).await;
        t.post_json("/v1/users", json!({"name": "b", "properties": {"team": "blue"}})).await;
        let red = t.get("/v1/users?properties=%7B%22team%22%3A%22red%22%7D").await;
        assert_eq!(names(&red.body), ["a"], "{}", t.label());
        assert_eq!(t.get("/v1/users?properties=notjson").await.status, 400);
    }
}

#[actix_web::test]
async fn merge_patch_semantics_and_media_types() {
    for t in TestApp::each().await {
        let user = t
            .post_json(
                "/v1/users",
                json!({"name": "jane", "properties": {"keep": 1, "drop": 2, "nested": {"a": 1, "b": 2}}}),
            )
            .await;
        let uri = format!("/v1/users/{}", user.body["id"]);
        let patch = |content_type: &str, body: Value| {
            TestRequest::patch()
                .uri(&uri)
                .insert_header(("content-type", content_type.to_owned()))
                .set_payload(body.to_string())
        };
        let reply = t
            .call(patch("application/json+merge-patch", json!({"displayName": "Jane D", "presence": {"status": "AVAILABLE"}, "properties": {"drop": null, "nested": {"b": null}, "new": true}})))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["displayName"], "Jane D");
        assert_eq!(reply.body["presence"], json!({"status": "AVAILABLE", "online": false}));
        assert_eq!(reply.body["properties"], json!({"keep": 1, "nested": {"a": 1}, "new": true}), "{}", t.label());
        assert_eq!(reply.body["name"], "jane");

        for content_type in ["application/merge-patch+json", "application/json"] {
            let reply = t.call(patch(content_type, json!({"isGuest": true}))).await;
            assert_eq!(reply.status, 200, "{content_type}");
            assert_eq!(reply.body["isGuest"], true);
        }
        let cleared = t.call(patch("application/json", json!({"properties": null}))).await;
        assert_eq!(cleared.body["properties"], json!({}));

        let text = t.call(patch("text/plain", json!({"isGuest": false}))).await;
        assert_eq!(text.status, 415);
        assert_eq!(text.body["error"], "UnsupportedMediaTypeError");

        for body in [json!({"name": "renamed"}), json!({"displayName": null}), json!({"presence": {"online": true}})] {
            let reply = t.call(patch("application/json", body.clone())).await;
            assert_eq!(reply.status, 400, "{body}");
            assert_eq!(reply.body["error"], "ValidationError");
        }
        assert_eq!(t.get(&uri).await.body["name"], "jane", "refused patches change nothing");
        assert_eq!(t.call(TestRequest::patch().uri("/v1/users/1").set_json(json!({}))).await.status, 404);
    }
}

#[actix_web::test]
async fn delete_returns_the_application() {
    for t in TestApp::each().await {
        let user = t.create_user("gone").await;
        let uri = format!("/v1/users/{}", user["id"]);
        let reply = t.call(TestRequest::delete().uri(&uri)).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["id"], t.app.application.id.0);
        assert_eq!(t.get(&uri).await.status, 404);
        assert_eq!(t.call(TestRequest::delete().uri(&uri)).await.status, 404);
    }
}

#[actix_web::test]
async fn secrets() {
    for t in TestApp::each().await {
        let user = t.create_user("keeper").await;
        let uri = format!("/v1/users/{}/secrets/api-key", user["id"]);
        assert_eq!(t.get(&uri).await.status, 404);
        let put = t.call(TestRequest::put().uri(&uri).set_json(json!({"secret": {"token": "abc"}}))).await;
        assert_eq!(put.status, 200, "{}", put.body);
        assert_eq!(put.body["name"], "keeper", "PUT answers with the user");
        assert_eq!(t.get(&uri).await.body, json!({"secret": {"token": "abc"}}), "{}", t.label());
        let replaced = t.call(TestRequest::put().uri(&uri).set_json(json!({"secret": "plain string"}))).await;
        assert_eq!(replaced.status, 200);
        assert_eq!(t.get(&uri).await.body["secret"], "plain string");
        assert_eq!(t.call(TestRequest::put().uri(&uri).set_json(json!({}))).await.status, 400, "a secret is required");
        let bad_name = format!("/v1/users/{}/secrets/bad%20name", user["id"]);
        assert_eq!(t.get(&bad_name).await.status, 400);
        assert_eq!(t.call(TestRequest::delete().uri(&uri)).await.status, 200);
        assert_eq!(t.get(&uri).await.status, 404);
        assert_eq!(t.call(TestRequest::delete().uri(&uri)).await.status, 404);
    }
}

#[actix_web::test]
async fn tenants_are_isolated() {
    for t in TestApp::each().await {
        let (_, other_token) = t.other_application().await;
        let mine = t.create_user("mine").await;
        let uri = format!("/v1/users/{}", mine["id"]);
        let as_other = |req: TestRequest| req.insert_header(("authorization", format!("Bearer {other_token}")));
        for req in [
            TestRequest::get().uri(&uri),
            TestRequest::patch().uri(&uri).set_json(json!({"displayName": "stolen"})),
            TestRequest::delete().uri(&uri),
            TestRequest::get().uri(&format!("{uri}/secrets/x")),
            TestRequest::put().uri(&format!("{uri}/secrets/x")).set_json(json!({"secret": 1})),
        ] {
            let reply = t.send(as_other(req)).await;
            assert_eq!(reply.status, 404, "{}: {}", t.label(), reply.body);
            assert_eq!(reply.body["error"], "ResourceNotFoundError");
        }
        let list = t.send(as_other(TestRequest::get().uri("/v1/users"))).await;
        assert_eq!(list.body["page"]["totalElements"], 0);
        let head = t
            .send(as_other(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/v1/users?name=mine")))
            .await;
        assert_eq!(head.status, 404);
        assert_eq!(t.get(&uri).await.body["displayName"], "mine", "nothing changed");
        // The same name is free in the other application.
        let theirs = t.send(as_other(TestRequest::post().uri("/v1/users").set_json(json!({"name": "mine"})))).await;
        assert_eq!(theirs.status, 200);
    }
}
