//! NUL characters (U+0000): PostgreSQL's text cannot hold one (it answered 500) while SQLite
//! stored it. On both engines alike, stored text holding one is a 400 naming the field, and a
//! filter holding one matches nothing.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// A user, a public channel and one message of hers.
async fn room(t: &TestApp) -> (Value, Value) {
    t.create_user("jane").await;
    let channel = t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": "general"})).await;
    assert_eq!(channel.status, 200, "{}", channel.body);
    let uri = format!("/v1/channels/{}/messages", channel.body["id"]);
    let message = t.post_json(&uri, json!({"type": "TEXT", "body": "hello", "user": {"username": "jane"}})).await;
    assert_eq!(message.status, 200, "{}", message.body);
    (channel.body, message.body)
}

#[actix_web::test]
async fn stored_text_with_a_nul_is_refused_naming_the_field() {
    for t in TestApp::each().await {
        let (channel, message) = room(&t).await;
        let messages = format!("/v1/channels/{}/messages", channel["id"]);
        let file =
            |name: &str| json!({"url": "https://x.io/a.png", "name": name, "contentType": "image/png", "size": 1});
        for (uri, body, field) in [
            ("/v1/users".to_owned(), json!({"name": "a\u{0}b"}), "name"),
            ("/v1/channels".to_owned(), json!({"type": "PUBLIC", "name": "a\u{0}b"}), "name"),
            (messages.clone(), json!({"type": "TEXT", "body": "hi\u{0}there"}), "body"),
            (messages.clone(), json!({"type": "TEXT", "body": "hi", "groupTag": "a\u{0}"}), "groupTag"),
            (messages.clone(), json!({"type": "FILE", "file": file("a\u{0}.png")}), "file.name"),
            (messages.clone(), json!({"type": "TEXT", "body": "hi", "user": {"username": "ja\u{0}ne"}}), "user"),
        ] {
            let reply = t.post_json(&uri, body.clone()).await;
            assert_eq!(reply.status, 400, "{} {body}: {}", t.label(), reply.body);
            assert_eq!(reply.body["errors"][0]["field"], field, "{} {body}", t.label());
        }
        let user = t.get("/v1/users?name=jane").await.body["_embedded"]["users"][0].clone();
        for (uri, body, field) in [
            (format!("/v1/users/{}", user["id"]), json!({"displayName": "a\u{0}"}), "displayName"),
            (format!("/v1/channels/{}", channel["id"]), json!({"displayName": "a\u{0}"}), "displayName"),
            (format!("/v1/messages/{}", message["id"]), json!({"body": "edited\u{0}"}), "body"),
        ] {
            let reply = t.call(TestRequest::patch().uri(&uri).set_json(body.clone())).await;
            assert_eq!(reply.status, 400, "{} {body}: {}", t.label(), reply.body);
            assert_eq!(reply.body["errors"][0]["field"], field, "{} {body}", t.label());
        }
        let unchanged = t.get(&format!("/v1/messages/{}", message["id"])).await;
        assert_eq!(unchanged.body["body"], "hello", "{}", t.label());
    }
}

#[actix_web::test]
async fn a_filter_with_a_nul_matches_nothing() {
    for t in TestApp::each().await {
        let (channel, message) = room(&t).await;
        for (uri, list) in [
            ("/v1/users?name=ja%00ne".to_owned(), "users"),
            ("/v1/channels?members=ja%00ne".to_owned(), "channels"),
            ("/v1/messages?query=hel%00lo".to_owned(), "messages"),
            ("/v1/messages?username=ja%00ne".to_owned(), "messages"),
            (format!("/v1/channels/{}/messages?username=%00", channel["id"]), "messages"),
        ] {
            let reply = t.get(&uri).await;
            assert_eq!(reply.status, 200, "{} {uri}: {}", t.label(), reply.body);
            let found = reply.body["_embedded"][list].as_array().map_or(0, Vec::len);
            assert_eq!(found, 0, "{} {uri}", t.label());
        }
        let exists =
            t.call(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/v1/users?name=ja%00ne")).await;
        assert_eq!(exists.status, 404, "{}", t.label());
        let reaction = format!("/v1/messages/{}/reactions/%00?user=jane", message["id"]);
        assert_eq!(t.call(TestRequest::delete().uri(&reaction)).await.status, 404, "{}", t.label());
    }
}
