//! A user session on the Platform API (issue 22): what it sees, what it does as itself, what it
//! may not do; blocks, reports and the Kinglet stream.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

/// Users, a private channel of three, a public one, and a session for each user.
struct Fixture {
    team: i64,
    lobby: i64,
    secret: i64,
    alice: (i64, String),
    bob: (i64, String),
    carol: (i64, String),
}

async fn fixture(t: &TestApp) -> Fixture {
    let mut users = Vec::new();
    for name in ["eu-alice", "eu-bob", "eu-carol"] {
        let id = t.create_user(name).await["id"].as_i64().unwrap();
        users.push((id, t.session_for(id)));
    }
    let channel = |body: Value| async move {
        let made = t.post_json("/v1/channels", body).await;
        assert_eq!(made.status, 200, "{}", made.body);
        made.body["id"].as_i64().unwrap()
    };
    let team = channel(json!({"type": "PRIVATE", "name": "eu-team", "creator": {"username": "eu-carol"},
        "members": [{"username": "eu-alice"}, {"username": "eu-bob"}]}))
    .await;
    let lobby = channel(json!({"type": "PUBLIC", "name": "eu-lobby"})).await;
    let secret = channel(json!({"type": "PRIVATE", "name": "eu-secret", "members": [{"username": "eu-bob"}]})).await;
    let mut users = users.into_iter();
    let (alice, bob, carol) = (users.next().unwrap(), users.next().unwrap(), users.next().unwrap());
    Fixture { team, lobby, secret, alice, bob, carol }
}

async fn post(t: &TestApp, token: &str, uri: &str, body: Value) -> Reply {
    t.as_user(token, TestRequest::post().uri(uri).set_json(body)).await
}

async fn get(t: &TestApp, token: &str, uri: &str) -> Reply {
    t.as_user(token, TestRequest::get().uri(uri)).await
}

async fn notification_count(t: &TestApp, user: i64) -> u64 {
    t.get(&format!("/v1/users/{user}/notifications")).await.body["page"]["total"].as_u64().unwrap_or(0)
}

fn names(page: &Value, collection: &str, field: &str) -> Vec<String> {
    page["_embedded"][collection]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i[field].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[actix_web::test]
async fn a_user_sees_public_channels_and_its_own_and_acts_as_itself() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let alice = &f.alice.1;
        let listed = get(&t, alice, "/v1/channels").await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let mut seen = names(&listed.body, "channels", "name");
        seen.sort();
        assert_eq!(seen, ["eu-lobby", "eu-team"], "{}", t.label());
        for hidden in [
            format!("/v1/channels/{}", f.secret),
            format!("/v1/channels/{}/messages", f.secret),
            format!("/v1/channels/{}/members", f.secret),
        ] {
            let reply = get(&t, alice, &hidden).await;
            assert_eq!(reply.status, 404, "{hidden}: existence must not leak: {}", reply.body);
            assert!(!reply.body.to_string().contains("eu-secret"));
        }

        let sent =
            post(&t, alice, &format!("/v1/channels/{}/messages", f.team), json!({"type": "TEXT", "body": "hi team"}))
                .await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        assert_eq!(sent.body["user"]["name"], "eu-alice", "sent as the session's user");
        let as_bob = json!({"type": "TEXT", "body": "it's me, bob", "user": {"username": "eu-bob"}});
        assert_eq!(post(&t, alice, &format!("/v1/channels/{}/messages", f.team), as_bob).await.status, 403);
        let hidden = json!({"type": "TEXT", "body": "hello?"});
        assert_eq!(post(&t, alice, &format!("/v1/channels/{}/messages", f.secret), hidden).await.status, 404);

        // Joining and leaving a public channel; others are a moderator's to add.
        let join = post(&t, alice, &format!("/v1/channels/{}/members", f.lobby), json!({"username": "eu-alice"})).await;
        assert_eq!(join.status, 200, "{}", join.body);
        let add_bob =
            post(&t, alice, &format!("/v1/channels/{}/members", f.lobby), json!({"username": "eu-bob"})).await;
        assert_eq!(add_bob.status, 403, "{}", add_bob.body);
        let leave = t
            .as_user(alice, TestRequest::delete().uri(&format!("/v1/channels/{}/members/{}", f.lobby, f.alice.0)))
            .await;
        assert_eq!(leave.status, 200, "{}", leave.body);

        // Reacting, reading, editing: as itself, its own messages only.
        let message = sent.body["id"].as_i64().unwrap();
        let bobs = post(
            &t,
            &f.bob.1,
            &format!("/v1/channels/{}/messages", f.team),
            json!({"type": "TEXT", "body": "bob here"}),
        )
        .await;
        let bobs = bobs.body["id"].as_i64().unwrap();
        let reacted = post(&t, alice, &format!("/v1/messages/{bobs}/reactions"), json!({"emoji": "👍"})).await;
        assert_eq!(reacted.status, 200, "{}", reacted.body);
        let unreacted =
            t.as_user(alice, TestRequest::delete().uri(&format!("/v1/messages/{bobs}/reactions/%F0%9F%91%8D"))).await;
        assert_eq!(unreacted.status, 200, "{}", unreacted.body);
        let read = post(&t, alice, &format!("/v1/messages/{bobs}/read-receipts"), json!({})).await;
        assert_eq!(
            (read.status.as_u16(), read.body["user"]["name"].as_str()),
            (200, Some("eu-alice")),
            "{}",
            read.body
        );
        let edit = |id: i64| {
            TestRequest::patch()
                .uri(&format!("/v1/messages/{id}"))
                .insert_header(("content-type", "application/merge-patch+json"))
                .set_payload(json!({"body": "edited"}).to_string())
        };
        assert_eq!(t.as_user(alice, edit(message)).await.status, 200);
        assert_eq!(t.as_user(alice, edit(bobs)).await.status, 403);
        let delete_bobs = t.as_user(alice, TestRequest::delete().uri(&format!("/v1/messages/{bobs}"))).await;
        assert_eq!(delete_bobs.status, 403, "only moderators delete others' messages");
        // Carol created the channel: she moderates it.
        let moderated = t.as_user(&f.carol.1, TestRequest::delete().uri(&format!("/v1/messages/{bobs}"))).await;
        assert_eq!(moderated.status, 200, "{}", moderated.body);

        // A reply to a message of a hidden channel reads as a message that does not exist.
        let hidden_message =
            t.post_json(&format!("/v1/channels/{}/messages", f.secret), json!({"type": "TEXT", "body": "psst"})).await;
        let hidden_message = hidden_message.body["id"].as_i64().unwrap();
        let reply = json!({"type": "TEXT", "body": "let me in"});
        let hidden_reply = post(&t, alice, &format!("/v1/messages/{hidden_message}/replies"), reply.clone()).await;
        let no_such = post(&t, alice, &format!("/v1/messages/{}/replies", hidden_message + 1), reply).await;
        assert_eq!(
            (hidden_reply.status, &hidden_reply.body["explanation"]),
            (no_such.status, &no_such.body["explanation"])
        );
        assert_eq!(hidden_reply.status, 404);
        // A user's message mentions public channels (and its own), never a private one: a
        // mention shows the channel to every reader.
        let mentions = post(
            &t,
            alice,
            &format!("/v1/channels/{}/messages", f.lobby),
            json!({"type": "TEXT", "body": "see #eu-secret and #eu-team and #eu-lobby"}),
        )
        .await;
        let mentioned: Vec<&str> =
            mentions.body["mentions"].as_array().unwrap().iter().filter_map(|m| m["tag"].as_str()).collect();
        assert_eq!(mentioned, ["#eu-lobby"], "{}", mentions.body);
        // Who has unread messages spans channels: not a user's to ask.
        assert_eq!(get(&t, alice, "/v1/users?unread=true").await.status, 403);

        // Another user's notifications and channels are theirs.
        assert_eq!(get(&t, alice, &format!("/v1/users/{}/notifications", f.bob.0)).await.status, 403);
        assert_eq!(get(&t, alice, &format!("/v1/users/{}/channels", f.bob.0)).await.status, 403);
        assert_eq!(get(&t, alice, &format!("/v1/users/{}/notifications", f.alice.0)).await.status, 200);

        // Channels: created only when the application allows, then moderated by their creator.
        let club = json!({"type": "PUBLIC", "name": "eu-club"});
        assert_eq!(post(&t, alice, "/v1/channels", club.clone()).await.status, 403, "userCreatedChannels is off");
        let put = t
            .call(
                TestRequest::put().uri("/v1/application/settings").set_json(json!({"userCreatedChannels": "ENABLED"})),
            )
            .await;
        assert_eq!(put.status, 200);
        let created = post(&t, alice, "/v1/channels", club).await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert_eq!(created.body["creator"]["name"], "eu-alice");
        let rename = TestRequest::patch()
            .uri(&format!("/v1/channels/{}", created.body["id"]))
            .insert_header(("content-type", "application/merge-patch+json"))
            .set_payload(json!({"displayName": "Club"}).to_string());
        assert_eq!(t.as_user(alice, rename).await.status, 200);
        let rename_team = TestRequest::patch()
            .uri(&format!("/v1/channels/{}", f.team))
            .insert_header(("content-type", "application/merge-patch+json"))
            .set_payload(json!({"displayName": "Mine"}).to_string());
        assert_eq!(t.as_user(alice, rename_team).await.status, 403);
    }
}

#[actix_web::test]
async fn blocks_stop_direct_messages_and_notifications_and_reports_reach_moderators() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let (alice, bob) = (&f.alice.1, &f.bob.1);
        let dm = post(&t, alice, "/v1/me/messages", json!({"to": ["eu-bob"], "body": "hey bob"})).await;
        assert_eq!(dm.status, 200, "{}", dm.body);
        let again = post(&t, alice, "/v1/me/messages", json!({"to": ["eu-bob"], "body": "still there?"})).await;
        assert_eq!(again.body["channelId"], dm.body["channelId"], "the DIRECT channel is reused");
        assert_eq!(post(&t, alice, "/v1/me/messages", json!({"to": ["nobody"], "body": "x"})).await.status, 400);

        let blocked = post(&t, bob, "/v1/me/blocks", json!({"user": {"username": "eu-alice"}})).await;
        assert_eq!(blocked.status, 200, "{}", blocked.body);
        assert_eq!(names(&get(&t, bob, "/v1/me/blocks").await.body, "users", "name"), ["eu-alice"]);
        assert_eq!(post(&t, alice, "/v1/me/messages", json!({"to": ["eu-bob"], "body": "hello?"})).await.status, 403);
        let direct = format!("/v1/channels/{}/messages", dm.body["channelId"]);
        assert_eq!(post(&t, alice, &direct, json!({"type": "TEXT", "body": "hello?"})).await.status, 403);
        // Starting a DIRECT conversation makes nobody its moderator.
        let bobs_reply = post(&t, bob, &direct, json!({"type": "TEXT", "body": "hi alice"})).await;
        let bobs_reply = bobs_reply.body["id"].as_i64().unwrap();
        let wipe = t.as_user(alice, TestRequest::delete().uri(&format!("/v1/messages/{bobs_reply}"))).await;
        assert_eq!(wipe.status, 403, "{}", wipe.body);
        let close =
            t.as_user(alice, TestRequest::delete().uri(&format!("/v1/channels/{}", dm.body["channelId"]))).await;
        assert_eq!(close.status, 403, "{}", close.body);
        let history = get(&t, bob, &direct).await;
        assert_eq!(history.body["_embedded"]["messages"].as_array().unwrap().len(), 3, "past messages stay");

        let before = notification_count(&t, f.bob.0).await;
        let team = format!("/v1/channels/{}/messages", f.team);
        assert_eq!(post(&t, alice, &team, json!({"type": "TEXT", "body": "team news"})).await.status, 200);
        assert_eq!(
            notification_count(&t, f.bob.0).await,
            before,
            "{}: a blocked user's messages do not notify",
            t.label()
        );
        let unblock = t.as_user(bob, TestRequest::delete().uri(&format!("/v1/me/blocks/{}", f.alice.0))).await;
        assert_eq!(unblock.status, 204);
        assert_eq!(post(&t, alice, &team, json!({"type": "TEXT", "body": "more news"})).await.status, 200);
        assert_eq!(notification_count(&t, f.bob.0).await, before + 1);
        assert_eq!(post(&t, alice, &direct, json!({"type": "TEXT", "body": "friends again"})).await.status, 200);
        assert_eq!(
            t.as_user(bob, TestRequest::delete().uri(&format!("/v1/me/blocks/{}", f.alice.0))).await.status,
            404
        );

        // Reports: by users who can see the message, for the channel's moderators.
        let news = post(&t, &f.carol.1, &team, json!({"type": "TEXT", "body": "buy cheap pills"})).await;
        let news = news.body["id"].as_i64().unwrap();
        for reporter in [alice, bob, alice] {
            let reported = post(&t, reporter, &format!("/v1/messages/{news}/reports"), json!({"reason": "spam"})).await;
            assert_eq!(reported.status, 200, "{}", reported.body);
        }
        assert_eq!(post(&t, alice, &format!("/v1/messages/{news}/reports"), json!({"reason": ""})).await.status, 400);
        assert_eq!(t.post_json(&format!("/v1/messages/{news}/reports"), json!({"reason": "x"})).await.status, 403);
        let queue = format!("/v1/channels/{}/reported-messages", f.team);
        assert_eq!(get(&t, alice, &queue).await.status, 403, "a member is no moderator");
        for moderator in [t.get(&queue).await, get(&t, &f.carol.1, &queue).await] {
            assert_eq!(moderator.status, 200, "{}", moderator.body);
            let first = &moderator.body["_embedded"]["messages"][0];
            assert_eq!(
                (first["id"].as_i64(), first["reportCount"].as_u64()),
                (Some(news), Some(2)),
                "{}",
                moderator.body
            );
        }
    }
}

#[actix_web::test]
async fn the_stream_shows_a_users_channels_and_threads() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let post_in = |channel: i64, token: String, body: &'static str| {
            let t = &t;
            async move {
                let sent =
                    post(t, &token, &format!("/v1/channels/{channel}/messages"), json!({"type": "TEXT", "body": body}))
                        .await;
                assert_eq!(sent.status, 200, "{}", sent.body);
                sent.body["id"].as_i64().unwrap()
            }
        };
        let first = post_in(f.team, f.bob.1.clone(), "first in team").await;
        post_in(f.secret, f.bob.1.clone(), "not for alice").await;
        post_in(f.lobby, f.alice.1.clone(), "alice in the lobby").await;
        post_in(f.lobby, f.bob.1.clone(), "bob in the lobby").await;
        let reply =
            post(&t, &f.carol.1, &format!("/v1/messages/{first}/replies"), json!({"type": "TEXT", "body": "a reply"}))
                .await;
        assert_eq!(reply.status, 200, "{}", reply.body);

        let stream = get(&t, &f.alice.1, "/v1/me/messages").await;
        assert_eq!(stream.status, 200, "{}", stream.body);
        let bodies = names(&stream.body, "messages", "body");
        assert_eq!(bodies, ["a reply", "alice in the lobby", "first in team"], "{}: newest first", t.label());
        let numbered = get(&t, &f.alice.1, "/v1/me/messages?page=0&size=2").await;
        assert_eq!(numbered.status, 200, "{}", numbered.body);
        assert_eq!(names(&numbered.body, "messages", "body"), ["a reply", "alice in the lobby"]);
        assert_eq!(
            (numbered.body["page"]["totalElements"].as_u64(), numbered.body["page"]["total"].as_u64()),
            (Some(3), Some(3))
        );
        let later = get(&t, &f.alice.1, "/v1/me/messages?since=4102444800").await;
        assert!(names(&later.body, "messages", "body").is_empty(), "{}", later.body);
        let iso = get(&t, &f.alice.1, "/v1/me/messages?since=2000-01-01T00:00:00Z").await;
        assert_eq!(names(&iso.body, "messages", "body").len(), 3);
        assert_eq!(get(&t, &f.alice.1, "/v1/me/messages?since=yesterday").await.status, 400);

        let threads = get(&t, &f.alice.1, "/v1/me/threads").await;
        assert_eq!(names(&threads.body, "messages", "body"), ["first in team"], "{}", threads.body);
        let replies = get(&t, &f.alice.1, &format!("/v1/messages/{first}/replies")).await;
        assert_eq!(names(&replies.body, "messages", "body"), ["a reply"]);
        // The stream is a user's: an application has none.
        assert_eq!(t.get("/v1/me/messages").await.status, 403);
    }
}
