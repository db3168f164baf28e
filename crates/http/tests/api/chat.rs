use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::{snapshot, TestApp};

async fn channel(t: &TestApp, body: Value) -> Value {
    let reply = t.post_json("/v1/channels", body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

fn ids(body: &Value, name: &str) -> Vec<i64> {
    body["_embedded"][name].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

fn query_of(href: &str) -> String {
    let path = href.trim_start_matches("http://localhost:8080");
    path.to_owned()
}

#[actix_web::test]
async fn channels_of_each_type() {
    for t in TestApp::each().await {
        t.create_user("jane").await;
        t.create_user("bob").await;
        let public = channel(&t, json!({"type": "PUBLIC", "name": "general", "displayName": "General", "creator": {"username": "jane"}, "properties": {"topic": "all"}})).await;
        snapshot("channel_public", &public);
        let direct =
            channel(&t, json!({"type": "DIRECT", "members": [{"username": "jane"}, {"username": "bob"}]})).await;
        snapshot("channel_direct", &direct);
        let same = channel(&t, json!({"type": "DIRECT", "members": [{"username": "bob"}, {"username": "jane"}]})).await;
        assert_eq!(same["id"], direct["id"], "{}", t.label());
        let private = channel(&t, json!({"type": "PRIVATE"})).await;
        assert_eq!(private["name"].as_str().unwrap().len(), 36);
        assert_eq!(private["displayName"], private["name"]);

        for (body, field) in [
            (json!({"type": "PUBLIC", "name": "general"}), "name"),
            (json!({"type": "DIRECT", "members": [{"username": "jane"}]}), "members"),
            (json!({"type": "PUBLIC", "members": [{"username": "ghost"}]}), "members[0]"),
            (json!({"type": "GROUP"}), "type"),
        ] {
            let reply = t.post_json("/v1/channels", body.clone()).await;
            assert_eq!(reply.status, 400, "{body}");
            assert_eq!(reply.body["errors"][0]["field"], field, "{body}");
        }

        let list = t.get("/v1/channels?type=DIRECT").await;
        assert_eq!(ids(&list.body, "channels"), vec![direct["id"].as_i64().unwrap()]);
        let of_bob = t.get("/v1/channels?members=bob").await;
        assert_eq!(of_bob.body["page"]["totalElements"], 1);
        let since = t.get("/v1/channels?startTime=2000-01-01T00:00:00Z&endTime=2999-01-01T00:00:00Z").await;
        assert_eq!(since.body["page"]["totalElements"], 3);
        assert_eq!(t.get("/v1/channels?startTime=yesterday").await.status, 400);

        let uri = format!("/v1/channels/{}", public["id"]);
        let patched = t
            .call(
                TestRequest::patch()
                    .uri(&uri)
                    .insert_header(("content-type", "application/json+merge-patch"))
                    .set_payload(r#"{"displayName":"Everyone","properties":{"topic":null}}"#),
            )
            .await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!((patched.body["displayName"].as_str(), &patched.body["properties"]), (Some("Everyone"), &json!({})));
        assert_eq!(t.call(TestRequest::patch().uri(&uri).set_json(json!({"name": "x"}))).await.status, 400);
    }
}

#[actix_web::test]
async fn members_moderators_invites() {
    for t in TestApp::each().await {
        let jane = t.create_user("jane").await;
        t.create_user("bob").await;
        let room = channel(&t, json!({"type": "PRIVATE", "name": "room", "creator": {"username": "jane"}})).await;
        let base = format!("/v1/channels/{}", room["id"]);

        let added = t.post_json(&format!("{base}/members"), json!({"username": "bob"})).await;
        assert_eq!(added.status, 200);
        assert_eq!(added.body["id"], room["id"], "adding a member answers with the channel");
        let members = t.get(&format!("{base}/members?sort=name")).await;
        assert_eq!(
            members.body["_embedded"]["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["name"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["bob", "jane"]
        );
        let memberships = t.get(&format!("{base}/memberships")).await;
        assert_eq!(memberships.body["page"]["totalElements"], 2, "{}", t.label());
        assert!(memberships.body["_embedded"]["memberships"][0]["createdTime"].is_string());

        let moderator = t.post_json(&format!("{base}/moderators"), json!({"id": jane["id"]})).await;
        assert_eq!(moderator.body["name"], "jane", "adding a moderator answers with the user");
        assert_eq!(t.get(&format!("{base}/moderators")).await.body["page"]["totalElements"], 1);
        let demoted = t.call(TestRequest::delete().uri(&format!("{base}/moderators/{}", jane["id"]))).await;
        assert_eq!(demoted.body["id"], room["id"]);
        assert_eq!(t.call(TestRequest::delete().uri(&format!("{base}/moderators/{}", jane["id"]))).await.status, 404);
        assert_eq!(t.get(&format!("{base}/participants")).await.body["page"]["totalElements"], 0, "nobody is online");

        t.create_user("carol").await;
        let invite = t.post_json(&format!("{base}/invites"), json!({"user": {"username": "carol"}})).await;
        assert_eq!(invite.status, 200, "{}", invite.body);
        assert!(invite.body["createdTime"].is_string());
        assert_eq!(t.get(&format!("{base}/invites")).await.body["page"]["totalElements"], 1);
        let already = t.post_json(&format!("{base}/invites"), json!({"user": {"username": "bob"}})).await;
        assert_eq!(already.status, 400);

        let removed = t.call(TestRequest::delete().uri(&format!("{base}/members/{}", jane["id"]))).await;
        assert_eq!(removed.status, 200);
        assert_eq!(t.call(TestRequest::delete().uri(&format!("{base}/members/{}", jane["id"]))).await.status, 404);
    }
}

/// The scene the message tests share: jane and bob in the private channel "team", eve outside
/// it, and the first three messages: a system text, jane's text mentioning bob, bob's file.
struct Team {
    bob: Value,
    room: Value,
    /// The channel's messages path.
    base: String,
    system: Value,
    text: Value,
    file: Value,
    /// The id of jane's text.
    id: i64,
}

async fn team(t: &TestApp) -> Team {
    t.create_user("jane").await;
    let bob = t.create_user("bob").await;
    t.create_user("eve").await;
    let room =
        channel(t, json!({"type": "PRIVATE", "name": "team", "members": [{"username": "jane"}, {"username": "bob"}]}))
            .await;
    let base = format!("/v1/channels/{}/messages", room["id"]);
    let system = t.post_json(&base, json!({"type": "TEXT", "body": "Welcome to #team"})).await;
    assert_eq!(system.status, 200, "{}", system.body);
    let text = t.post_json(&base, json!({"type": "TEXT", "body": "hi @bob: https://roost.example/x", "user": {"username": "jane"}, "groupTag": "g1", "properties": {"k": 1}})).await;
    assert_eq!(text.status, 200, "{}", text.body);
    let file = t.post_json(&base, json!({"type": "FILE", "file": {"url": "https://cdn.example/a.png", "name": "a.png", "contentType": "image/png", "size": 42}, "user": {"id": bob["id"]}})).await;
    assert_eq!(file.status, 200, "{}", file.body);
    let id = text.body["id"].as_i64().unwrap();
    Team { bob, room, base, system: system.body, text: text.body, file: file.body, id }
}

/// Replies to jane's text: bob's by the shortcut, then jane's posted to the thread.
struct Thread {
    reply: Value,
    in_thread: Value,
    /// The thread's path.
    path: String,
}

async fn thread(t: &TestApp, team: &Team) -> Thread {
    let reply = t
        .post_json(
            &format!("/v1/messages/{}/replies", team.id),
            json!({"type": "TEXT", "body": "yes?", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let path = query_of(reply.body["_links"]["thread"]["href"].as_str().unwrap());
    let in_thread = t
        .post_json(&format!("{path}/messages"), json!({"type": "TEXT", "body": "again", "user": {"username": "jane"}}))
        .await;
    assert_eq!(in_thread.status, 200, "{}", in_thread.body);
    Thread { reply: reply.body, in_thread: in_thread.body, path }
}

#[actix_web::test]
async fn messages_of_each_kind() {
    for t in TestApp::each().await {
        let team = team(&t).await;
        assert_eq!(team.system["type"], "SYSTEM_TEXT");
        assert!(team.system.get("user").is_none());
        snapshot("message_text", &team.text);
        assert_eq!(team.file["type"], "FILE");
        assert_eq!(team.file["file"]["type"], "EXTERNAL", "{}", t.label());
    }
}

#[actix_web::test]
async fn posting_a_message_is_validated() {
    for t in TestApp::each().await {
        let team = team(&t).await;
        let forbidden =
            t.post_json(&team.base, json!({"type": "TEXT", "body": "let me in", "user": {"username": "eve"}})).await;
        assert_eq!(forbidden.status, 403, "{}", forbidden.body);
        for (body, field) in [
            (json!({"type": "TEXT", "body": "  "}), "body"),
            (json!({"type": "TEXT", "body": "x".repeat(10_001)}), "body"),
            (json!({"type": "TEXT", "body": "x", "user": {"username": "ghost"}}), "user"),
            (json!({"type": "FILE"}), "file"),
            (json!({"type": "TEXT"}), "body"),
        ] {
            let reply = t.post_json(&team.base, body.clone()).await;
            assert_eq!(reply.status, 400, "{body}");
            assert_eq!(reply.body["errors"][0]["field"], field, "{body}");
        }
        assert_eq!(t.post_json("/v1/channels/1/messages", json!({"type": "TEXT", "body": "x"})).await.status, 404);
    }
}

#[actix_web::test]
async fn replies_by_the_shortcut_and_by_the_thread() {
    for t in TestApp::each().await {
        let team = team(&t).await;
        let thread = thread(&t, &team).await;
        assert_eq!(thread.reply["nestedLevel"], 1);
        assert_eq!(t.get(&thread.path).await.body["type"], "MESSAGE");
        assert_eq!(thread.in_thread["nestedLevel"], 1);
        let replies = t.get(&format!("/v1/messages/{}/replies", team.id)).await;
        assert_eq!(ids(&replies.body, "messages").len(), 2);
        assert_eq!(t.get(&format!("/v1/messages/{}", team.id)).await.body["repliesCount"], 2, "{}", t.label());
    }
}

#[actix_web::test]
async fn reactions_are_added_and_removed() {
    for t in TestApp::each().await {
        let team = team(&t).await;
        let id = team.id;
        let reacted = t
            .post_json(&format!("/v1/messages/{id}/reactions"), json!({"emoji": "🎉", "user": {"username": "bob"}}))
            .await;
        assert_eq!(reacted.body["reactions"][0]["count"], 1);
        let unreacted =
            t.call(TestRequest::delete().uri(&format!("/v1/messages/{id}/reactions/%F0%9F%8E%89?user=bob"))).await;
        assert_eq!(unreacted.status, 200, "{}", unreacted.body);
        assert!(unreacted.body.get("reactions").is_none(), "{}", t.label());
    }
}

#[actix_web::test]
async fn a_read_receipt_marks_older_messages_read() {
    for t in TestApp::each().await {
        let team = team(&t).await;
        let thread = thread(&t, &team).await;
        let receipt =
            t.post_json(&format!("/v1/messages/{}/read-receipts", team.id), json!({"user": {"username": "bob"}})).await;
        assert_eq!(receipt.body["user"]["name"], "bob");
        let receipts = t.get(&format!("/v1/messages/{}/read-receipts", team.system["id"])).await;
        assert_eq!(receipts.body["_embedded"]["receipts"][0]["user"]["name"], "bob", "older messages are read too");
        let unread = t.get(&format!("/v1/users/{}/messages?unread=true", team.bob["id"])).await;
        assert_eq!(ids(&unread.body, "messages"), vec![thread.in_thread["id"].as_i64().unwrap()], "{}", unread.body);
    }
}

#[actix_web::test]
async fn notifications_give_the_most_specific_reason() {
    for t in TestApp::each().await {
        let team = team(&t).await;
        thread(&t, &team).await;
        // Bob was mentioned, by name and by channel, and jane wrote in the thread.
        let notes = t.get(&format!("/v1/users/{}/notifications", team.bob["id"])).await;
        assert_eq!(notes.status, 200);
        let kinds: Vec<&str> = notes.body["_embedded"]["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["data"]["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["USER:SENT:MESSAGE", "USER:MENTIONED:USER", "USER:MENTIONED:CHANNEL"],
            "newest first; one per message, the most specific reason"
        );
    }
}

#[actix_web::test]
async fn editing_and_deleting_a_message() {
    for t in TestApp::each().await {
        let team = team(&t).await;
        let thread = thread(&t, &team).await;
        let edited = t
            .call(
                TestRequest::patch()
                    .uri(&format!("/v1/messages/{}", team.id))
                    .insert_header(("content-type", "application/json+merge-patch"))
                    .set_payload(r#"{"body":"hello @jane"}"#),
            )
            .await;
        assert_eq!(edited.status, 200);
        assert!(edited.body["lastEditedTime"].is_string());
        assert_eq!(edited.body["mentions"][0]["tag"], "@jane");
        // Deleting answers with the thread the message lived in.
        let deleted = t.call(TestRequest::delete().uri(&format!("/v1/messages/{}", team.id))).await;
        assert_eq!(deleted.body["type"], "MAIN");
        assert_eq!(
            t.get(&format!("/v1/messages/{}", thread.reply["id"])).await.status,
            404,
            "replies go with their parent"
        );
    }
}

#[actix_web::test]
async fn keystrokes_and_events_are_validated_and_answered() {
    for t in TestApp::each().await {
        let team = team(&t).await;
        let thread = thread(&t, &team).await;
        let keystrokes = format!("/v1/channels/{}/keystrokes", team.room["id"]);
        let keys = t.post_json(&keystrokes, json!({"keys": "hel", "user": {"username": "jane"}})).await;
        assert_eq!(keys.body["username"], "jane");
        assert_eq!(t.post_json(&keystrokes, json!({"keys": "x", "user": {"username": "eve"}})).await.status, 403);
        let in_thread = format!("{}/keystrokes", thread.path);
        let typing = t.post_json(&in_thread, json!({"keys": "ok", "user": {"username": "bob"}})).await;
        assert_eq!((typing.status.as_u16(), typing.body["username"].as_str()), (200, Some("bob")));
        let outsider = t.post_json(&in_thread, json!({"keys": "hi", "user": {"username": "eve"}})).await;
        assert_eq!(outsider.status, 403, "a non-member cannot type in a private channel's thread");

        let events = format!("/v1/channels/{}/events", team.room["id"]);
        let event = t.post_json(&events, json!({"type": "poll", "properties": {"q": 1}})).await;
        assert_eq!(event.body["type"], "poll");
        assert_eq!(t.post_json(&events, json!({"type": "poll"})).await.status, 400, "{}", t.label());
    }
}

#[actix_web::test]
async fn deleting_every_message() {
    for t in TestApp::each().await {
        let team = team(&t).await;
        thread(&t, &team).await;
        let wiped = t.call(TestRequest::delete().uri("/v1/messages")).await;
        assert_eq!(wiped.body["id"], t.app.application.id.0);
        assert!(ids(&t.get("/v1/messages").await.body, "messages").is_empty(), "{}", t.label());
    }
}

#[actix_web::test]
async fn cursor_pages_over_http() {
    for t in TestApp::each().await {
        let room = channel(&t, json!({"type": "PUBLIC", "name": "history"})).await;
        let base = format!("/v1/channels/{}/messages", room["id"]);
        let mut sent = Vec::new();
        for i in 0..5 {
            sent.push(
                t.post_json(&base, json!({"type": "TEXT", "body": format!("m{i}")})).await.body["id"].as_i64().unwrap(),
            );
        }
        let first = t.get(&format!("{base}?size=2")).await;
        assert_eq!(ids(&first.body, "messages"), vec![sent[4], sent[3]]);
        assert_eq!(first.body["page"]["size"], 2);
        assert!(first.body["_links"].get("prev").is_none());
        snapshot("message_page_links", &first.body["_links"]);
        let second = t.get(&query_of(first.body["_links"]["next"]["href"].as_str().unwrap())).await;
        assert_eq!(ids(&second.body, "messages"), vec![sent[2], sent[1]], "{}", t.label());
        let newer = t.get(&query_of(second.body["_links"]["prev"]["href"].as_str().unwrap())).await;
        assert_eq!(ids(&newer.body, "messages"), vec![sent[4], sent[3]]);
        let last = t.get(&query_of(second.body["_links"]["next"]["href"].as_str().unwrap())).await;
        assert_eq!(ids(&last.body, "messages"), vec![sent[0]]);
        assert!(last.body["_links"].get("next").is_none());
        assert_eq!(t.get(&format!("{base}?size=101")).await.status, 400);
        assert_eq!(t.get(&format!("{base}?relation=NEXT")).await.status, 400);
        let found = t.get("/v1/messages?query=M3").await;
        assert_eq!(ids(&found.body, "messages"), vec![sent[3]]);
    }
}

#[actix_web::test]
async fn deleting_a_channel_takes_everything_with_it() {
    for t in TestApp::each().await {
        let bob = t.create_user("bob").await;
        let room = channel(&t, json!({"type": "PUBLIC", "name": "temp", "members": [{"username": "bob"}]})).await;
        let sent =
            t.post_json(&format!("/v1/channels/{}/messages", room["id"]), json!({"type": "TEXT", "body": "bye"})).await;
        let deleted = t.call(TestRequest::delete().uri(&format!("/v1/channels/{}", room["id"]))).await;
        assert_eq!(deleted.body["id"], t.app.application.id.0, "DELETE answers with the application");
        assert_eq!(t.get(&format!("/v1/channels/{}", room["id"])).await.status, 404);
        assert_eq!(t.get(&format!("/v1/messages/{}", sent.body["id"])).await.status, 404);
        let notes = t.get(&format!("/v1/users/{}/notifications", bob["id"])).await;
        assert!(notes.body["_embedded"]["notifications"].as_array().unwrap().is_empty(), "{}", t.label());
        // Another application cannot see channels of this one.
        let (_, other) = t.other_application().await;
        let room = channel(&t, json!({"type": "PUBLIC", "name": "mine"})).await;
        let peek = t
            .send(
                TestRequest::get()
                    .uri(&format!("/v1/channels/{}", room["id"]))
                    .insert_header(("authorization", format!("Bearer {other}"))),
            )
            .await;
        assert_eq!(peek.status, 404);
    }
}

#[actix_web::test]
async fn a_users_channels_messages_and_direct_notifications() {
    for t in TestApp::each().await {
        let jane = t.create_user("jane").await;
        let bob = t.create_user("bob").await;
        let direct =
            channel(&t, json!({"type": "DIRECT", "members": [{"username": "jane"}, {"username": "bob"}]})).await;
        channel(&t, json!({"type": "PUBLIC", "name": "jane-made", "creator": {"username": "jane"}})).await;
        channel(&t, json!({"type": "PUBLIC", "name": "elsewhere"})).await;
        let channels = t.get(&format!("/v1/users/{}/channels", jane["id"])).await;
        assert_eq!(channels.body["page"]["totalElements"], 2, "created or joined: {}", channels.body);

        let sent = t
            .post_json(
                &format!("/v1/channels/{}/messages", direct["id"]),
                json!({"type": "TEXT", "body": "psst", "user": {"username": "jane"}}),
            )
            .await;
        let mine = t.get(&format!("/v1/users/{}/messages", jane["id"])).await;
        assert_eq!(ids(&mine.body, "messages"), vec![sent.body["id"].as_i64().unwrap()]);
        assert!(ids(&t.get(&format!("/v1/users/{}/messages", bob["id"])).await.body, "messages").is_empty());
        assert_eq!(t.get(&format!("/v1/users/{}/messages?unread=maybe", bob["id"])).await.status, 400);
        assert_eq!(t.get("/v1/users/1/messages").await.status, 404);

        let notes = t.get(&format!("/v1/users/{}/notifications", bob["id"])).await;
        let note = &notes.body["_embedded"]["notifications"][0];
        assert_eq!(note["data"]["type"], "USER:SENT:MESSAGE");
        assert_eq!(note["channel"]["type"], "DIRECT");
        assert_eq!(note["channel"]["members"].as_array().unwrap().len(), 2, "{}: {note}", t.label());
        let channel_view = t.get(&format!("/v1/channels/{}", direct["id"])).await;
        assert_eq!(channel_view.body["lastReceivedMessage"]["body"], "psst");
    }
}

#[actix_web::test]
async fn cached_pages_never_outlive_a_write() {
    for t in TestApp::each().await {
        t.create_user("ann").await;
        let room = channel(&t, json!({"type": "PUBLIC", "name": "cached"})).await;
        let base = format!("/v1/channels/{}/messages", room["id"]);
        let first = t.post_json(&base, json!({"type": "TEXT", "body": "one", "user": {"username": "ann"}})).await;
        let id = first.body["id"].as_i64().unwrap();
        let page = t.get(&base).await;
        assert_eq!(ids(&page.body, "messages"), vec![id]);
        let again = t.get(&base).await;
        assert_eq!(again.raw, page.raw, "{}", t.label());
        assert_eq!(again.header("etag"), page.header("etag"));
        let etag = page.header("etag").unwrap().to_owned();
        let unchanged = t.call(TestRequest::get().uri(&base).insert_header(("if-none-match", etag.as_str()))).await;
        assert_eq!(unchanged.status, 304);
        // Links are absolute: a page built for another scheme or host is not served here.
        let proxied = t.call(TestRequest::get().uri(&base).insert_header(("x-forwarded-proto", "https"))).await;
        let proxied_self = proxied.body["_links"]["self"]["href"].as_str().unwrap().to_owned();
        assert!(proxied_self.starts_with("https://"), "{proxied_self}");
        assert!(t.get(&base).await.body["_links"]["self"]["href"].as_str().unwrap().starts_with("http://"));
        let plain = t.call(TestRequest::get().uri(&base).insert_header(("accept", "application/json"))).await;
        assert!(plain.header("content-type").unwrap().starts_with("application/json"), "{}", t.label());

        // Every kind of write shows on the next read: a reaction, an edit, a new message.
        let reacted = t
            .post_json(&format!("/v1/messages/{id}/reactions"), json!({"emoji": "🎉", "user": {"username": "ann"}}))
            .await;
        assert_eq!(reacted.status, 200, "{}", reacted.body);
        let page = t.get(&base).await;
        assert_eq!(page.body["_embedded"]["messages"][0]["reactions"][0]["count"], 1, "{}", t.label());
        assert_ne!(page.header("etag").unwrap(), etag);
        let edited = t
            .call(TestRequest::patch().uri(&format!("/v1/messages/{id}")).set_json(json!({"body": "one, edited"})))
            .await;
        assert_eq!(edited.status, 200, "{}", edited.body);
        assert_eq!(t.get(&base).await.body["_embedded"]["messages"][0]["body"], "one, edited");
        let second = t.post_json(&base, json!({"type": "TEXT", "body": "two"})).await.body["id"].as_i64().unwrap();
        assert_eq!(ids(&t.get(&base).await.body, "messages"), vec![second, id]);
        let unchanged = t.call(TestRequest::get().uri(&base).insert_header(("if-none-match", etag.as_str()))).await;
        assert_eq!(unchanged.status, 200, "the old tag no longer matches");
    }
}

/// `roost apps delete`'s store call: every row of the application goes in one transaction
/// (users, secrets, channels, members, messages, replies, reactions, read marks,
/// notifications, clients, tokens) and another application's rows stay.
#[actix_web::test]
async fn deleting_an_application_deletes_everything_of_it_and_nothing_else() {
    use roost_domain::ports::ApplicationStore;
    for t in TestApp::each().await {
        let (other, other_token) = t.other_application().await;
        let as_other = |req: TestRequest| req.insert_header(("authorization", format!("Bearer {other_token}")));
        let kept = t
            .send(as_other(
                TestRequest::post().uri("/v1/users").set_json(json!({"name": "kept", "displayName": "Kept"})),
            ))
            .await;
        assert_eq!(kept.status, 200);

        let team = team(&t).await;
        thread(&t, &team).await;
        let reacted = t
            .post_json(
                &format!("/v1/messages/{}/reactions", team.id),
                json!({"emoji": "🎉", "user": {"username": "bob"}}),
            )
            .await;
        assert_eq!(reacted.status, 200);
        let read =
            t.post_json(&format!("/v1/messages/{}/read-receipts", team.id), json!({"user": {"username": "bob"}})).await;
        assert_eq!(read.status, 200, "{}", read.body);
        let secret = t
            .call(
                TestRequest::put()
                    .uri(&format!("/v1/users/{}/secrets/s", team.bob["id"]))
                    .set_json(json!({"secret": "x"})),
            )
            .await;
        assert_eq!(secret.status, 200, "{}", secret.body);
        let notified = t.get(&format!("/v1/users/{}/notifications", team.bob["id"])).await;
        assert!(!notified.body["_embedded"]["notifications"].as_array().unwrap().is_empty(), "{}", notified.body);

        assert!(t.store.delete_application(t.app.application.id).unwrap(), "{}", t.label());
        assert!(!t.store.delete_application(t.app.application.id).unwrap(), "already gone");
        // A node trusts a token it checked for a few seconds (ROOST_TOKEN_CACHE_SECONDS), so the
        // answer is 401 or, within that time, 404 for the application that is gone.
        let after = t.get("/v1/application").await.status;
        assert!(after == 401 || after == 404, "{after}");
        for table in [
            "users",
            "user_secrets",
            "channels",
            "channel_members",
            "threads",
            "messages",
            "reactions",
            "read_marks",
            "notifications",
            "oauth_clients",
            "access_tokens",
        ] {
            assert_eq!(
                t.db.count(&format!("SELECT COUNT(*) FROM {table} WHERE application_id = {}", t.app.application.id.0)),
                0,
                "{table} {}",
                t.label()
            );
        }
        let still = t.send(as_other(TestRequest::get().uri(&format!("/v1/users/{}", kept.body["id"])))).await;
        assert_eq!(still.status, 200, "{}", t.label());
        assert_eq!(
            t.send(as_other(TestRequest::get().uri("/v1/application"))).await.body["id"],
            other.application.id.0
        );
    }
}
