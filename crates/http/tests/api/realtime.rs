//! Real-time (issue 23): the event log as server-sent events. Order, resumption, what each
//! principal's stream receives, expiry, slow consumers, tickets, presence and chat sessions.

use std::time::Duration;

use actix_web::test::TestRequest;
use roost_http::HttpSettings;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};
use crate::sse::SseEvent;

/// Three users with sessions; a private channel of two of them, a public one of none.
struct Fixture {
    team: i64,
    lobby: i64,
    ann: (i64, String),
    ben: (i64, String),
    cat: (i64, String),
}

async fn fixture(t: &TestApp) -> Fixture {
    let mut users = Vec::new();
    for name in ["rt-ann", "rt-ben", "rt-cat"] {
        let id = t.create_user(name).await["id"].as_i64().unwrap();
        users.push((id, t.session_for(id)));
    }
    let team = t
        .post_json(
            "/v1/channels",
            json!({"type": "PRIVATE", "name": "rt-team", "members": [{"username": "rt-ann"}, {"username": "rt-ben"}]}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let lobby =
        t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": "rt-lobby"})).await.body["id"].as_i64().unwrap();
    let mut users = users.into_iter();
    Fixture { team, lobby, ann: users.next().unwrap(), ben: users.next().unwrap(), cat: users.next().unwrap() }
}

async fn say(t: &TestApp, channel: i64, body: &str) -> Reply {
    let sent = t.post_json(&format!("/v1/channels/{channel}/messages"), json!({"type": "TEXT", "body": body})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    sent
}

fn body_of(event: &SseEvent) -> &str {
    event.data["resource"]["body"].as_str().unwrap_or_default()
}

#[actix_web::test]
async fn an_application_stream_delivers_a_channels_messages_in_order_with_ids() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let mut stream = t.app_stream("/v1/events?types=message.created").await;
        for n in 0..5 {
            say(&t, f.lobby, &format!("m{n}")).await;
        }
        let mut last = 0;
        for n in 0..5 {
            let event = stream.next().await;
            assert_eq!(event.event, "message.created", "{}", t.label());
            assert_eq!(body_of(&event), format!("m{n}"), "{}", t.label());
            let id = event.id.expect("a stored event has an id");
            assert_eq!(event.data["id"], json!(id));
            assert!(id > last, "ids increase: {id} after {last}");
            last = id;
            assert_eq!(event.data["type"], "message.created");
            assert!(event.data["time"].as_str().unwrap().ends_with('Z'));
            // The same body the REST API answers with.
            assert_eq!(event.data["resource"]["channelId"], json!(f.lobby));
            assert!(event.data["resource"]["_links"]["self"]["href"].is_string());
        }
    }
}

#[actix_web::test]
async fn every_kind_of_change_is_an_event_and_deleted_ones_carry_the_last_state() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let mut stream = t.app_stream("/v1/events").await;
        let sent = say(&t, f.team, "to edit").await;
        let id = sent.body["id"].as_i64().unwrap();
        let edit = t
            .send(
                TestRequest::patch()
                    .uri(&format!("/v1/messages/{id}"))
                    .insert_header(("authorization", format!("Bearer {}", t.token)))
                    .set_json(json!({"body": "edited"})),
            )
            .await;
        assert_eq!(edit.status, 200, "{}", edit.body);
        let reacted = t
            .post_json(&format!("/v1/messages/{id}/reactions"), json!({"emoji": "👍", "user": {"username": "rt-ann"}}))
            .await;
        assert_eq!(reacted.status, 200, "{}", reacted.body);
        let read =
            t.post_json(&format!("/v1/messages/{id}/read-receipts"), json!({"user": {"username": "rt-ben"}})).await;
        assert_eq!(read.status, 200, "{}", read.body);
        let deleted = t
            .send(
                TestRequest::delete()
                    .uri(&format!("/v1/messages/{id}"))
                    .insert_header(("authorization", format!("Bearer {}", t.token))),
            )
            .await;
        assert!(deleted.status.is_success(), "{}", deleted.body);
        let added = t.post_json(&format!("/v1/channels/{}/members", f.lobby), json!({"username": "rt-cat"})).await;
        assert_eq!(added.status, 200, "{}", added.body);
        let seen = stream.until(|e| e.event == "member.added").await;
        let types: Vec<&str> = seen.iter().map(|e| e.event.as_str()).collect();
        let expected =
            ["message.created", "message.updated", "reaction.added", "read_receipt.created", "message.deleted"];
        for wanted in expected {
            assert!(types.contains(&wanted), "{}: {wanted} missing from {types:?}", t.label());
        }
        let gone = seen.iter().find(|e| e.event == "message.deleted").unwrap();
        assert_eq!(body_of(gone), "edited", "the last state before deletion");
        let ids: Vec<i64> = seen.iter().filter_map(|e| e.id).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "consecutive ids: {ids:?}");
        assert_eq!(seen.last().unwrap().data["resource"]["user"]["name"], "rt-cat");
    }
}

#[actix_web::test]
async fn a_stream_resumes_after_last_event_id_and_an_expired_point_is_an_error_event() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let mut first = t.app_stream("/v1/events?types=message.created").await;
        for n in 0..3 {
            say(&t, f.lobby, &format!("r{n}")).await;
        }
        let one = first.next().await;
        drop(first);
        let resumed = t
            .open_stream(
                TestRequest::get()
                    .uri("/v1/events?types=message.created")
                    .insert_header(("authorization", format!("Bearer {}", t.token)))
                    .insert_header(("last-event-id", one.id.unwrap().to_string())),
            )
            .await;
        let mut resumed = resumed;
        assert_eq!(body_of(&resumed.next().await), "r1", "{}", t.label());
        assert_eq!(body_of(&resumed.next().await), "r2", "{}", t.label());
        // `after=` does the same.
        let mut after = t.app_stream(&format!("/v1/events?types=message.created&after={}", one.id.unwrap())).await;
        assert_eq!(body_of(&after.next().await), "r1");

        // Purged past the resume point: one error event, then the stream ends.
        let purged = t.state.service.purge_events(roost_domain::now() + chrono::Duration::seconds(1)).unwrap();
        assert!(purged > 0);
        let mut expired = t.app_stream(&format!("/v1/events?after={}", one.id.unwrap())).await;
        let error = expired.next().await;
        assert_eq!(error.event, "error");
        assert_eq!(error.id, None, "live-only events carry no id");
        assert_eq!(error.data["resource"]["code"], "RESUME_POINT_EXPIRED", "{}", error.data);
        assert!(expired.ends_within(Duration::from_secs(5)).await, "the stream closes");
        for bad in ["after=-1", "after=x", "types=message.exploded", "channel=abc"] {
            let refused = t
                .send(
                    TestRequest::get()
                        .uri(&format!("/v1/events?{bad}"))
                        .insert_header(("authorization", format!("Bearer {}", t.token))),
                )
                .await;
            assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        }
    }
}

/// Per user: which changes' events it must receive and which it must not.
#[actix_web::test]
async fn a_user_stream_never_receives_events_of_channels_it_is_not_in() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let users = [("rt-ann", &f.ann), ("rt-ben", &f.ben), ("rt-cat", &f.cat)];
        let mut streams = Vec::new();
        for (_, (_, token)) in &users {
            streams.push(t.user_stream(token, "/v1/events").await);
        }
        // (what, channel, who must see it)
        say(&t, f.team, "team secret").await;
        say(&t, f.lobby, "lobby chatter").await;
        let poke =
            t.post_json(&format!("/v1/channels/{}/events", f.team), json!({"type": "poke", "properties": {}})).await;
        assert!(poke.status.is_success(), "{}", poke.body);
        let typed = t
            .post_json(
                &format!("/v1/channels/{}/keystrokes", f.team),
                json!({"keys": "abc", "user": {"username": "rt-ann"}}),
            )
            .await;
        assert!(typed.status.is_success(), "{}", typed.body);
        // Sentinel: each user's own update, which only that user receives.
        for (name, (id, _)) in &users {
            let patched = t
                .send(
                    TestRequest::patch()
                        .uri(&format!("/v1/users/{id}"))
                        .insert_header(("authorization", format!("Bearer {}", t.token)))
                        .set_json(json!({"displayName": format!("{name} done")})),
                )
                .await;
            assert_eq!(patched.status, 200, "{}", patched.body);
        }
        let table: [(&str, bool, bool, bool); 4] = [
            // (event, ann, ben, cat): ann and ben are in the team; nobody is in the lobby.
            ("team secret", true, true, false),
            ("lobby chatter", false, false, false),
            ("channel.event", true, true, false),
            ("keystrokes", true, true, false),
        ];
        for (i, stream) in streams.iter_mut().enumerate() {
            let (name, (me, _)) = users[i];
            let seen = stream.until(|e| e.event == "user.updated" && e.data["resource"]["id"] == json!(me)).await;
            for event in &seen {
                if let Some(channel) = event.data["resource"]["channelId"].as_i64() {
                    assert_eq!(channel, f.team, "{name} received {} of channel {channel}", event.event);
                }
                if event.event.starts_with("user.") {
                    assert_eq!(event.data["resource"]["id"], json!(me), "{name} got another user's {}", event.event);
                }
            }
            for (what, ann, ben, cat) in table {
                let expected = [ann, ben, cat][i];
                let got = seen.iter().any(|e| e.event == what || body_of(e) == what);
                assert_eq!(
                    got,
                    expected,
                    "{}: {name} {} {what}",
                    t.label(),
                    if expected { "must get" } else { "must not get" }
                );
            }
        }
        // A public channel the user names is added (a chat session); a private one it is not in
        // is not found.
        let mut watching = t.user_stream(&f.cat.1, &format!("/v1/events?channel={}", f.lobby)).await;
        say(&t, f.lobby, "now you see it").await;
        assert_eq!(body_of(&watching.next_of(&["message.created"]).await), "now you see it");
        let hidden = t
            .open_stream(
                TestRequest::get()
                    .uri(&format!("/v1/events?channel={}", f.team))
                    .insert_header(("authorization", format!("Bearer {}", f.cat.1))),
            )
            .await;
        assert_eq!(hidden.status, 404);
    }
}

#[actix_web::test]
async fn joining_a_channel_opens_its_events_to_the_users_stream() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let mut cat = t.user_stream(&f.cat.1, "/v1/events").await;
        let added = t.post_json(&format!("/v1/channels/{}/members", f.team), json!({"username": "rt-cat"})).await;
        assert_eq!(added.status, 200, "{}", added.body);
        say(&t, f.team, "welcome cat").await;
        let seen = cat.until(|e| body_of(e) == "welcome cat").await;
        let first = seen.iter().find(|e| !e.event.starts_with("user.")).unwrap();
        assert_eq!(first.event, "member.added", "{}: {:?}", t.label(), seen);
    }
}

#[actix_web::test]
async fn a_consumer_that_does_not_read_is_dropped_with_an_error_writers_never_wait() {
    let settings = HttpSettings {
        realtime: roost_http::realtime::RealtimeSettings { buffer: 5, ..Default::default() },
        ..HttpSettings::default()
    };
    for t in TestApp::each_with(settings.clone()).await {
        let f = fixture(&t).await;
        let mut slow = t.app_stream("/v1/events?types=message.created").await;
        // Read one first: the stream is live (not catching up, which waits for its client).
        say(&t, f.lobby, "first").await;
        assert_eq!(body_of(&slow.next().await), "first");
        for n in 0..20 {
            say(&t, f.lobby, &format!("flood {n}")).await;
        }
        // A second stream is served meanwhile.
        let mut other = t.app_stream("/v1/events?types=message.created&after=0").await;
        assert_eq!(body_of(&other.next().await), "first");
        let mut received = Vec::new();
        while let Some(event) = slow.next_within(Duration::from_secs(5)).await {
            received.push(event);
        }
        let last = received.last().expect("events");
        assert_eq!(last.event, "error", "{}: {:?}", t.label(), received);
        assert_eq!(last.data["resource"]["code"], "CONSUMER_TOO_SLOW");
        assert!(received.len() <= 6, "at most the buffer, then the error: {}", received.len());
        assert!(slow.ended, "the stream is dropped");
    }
}

#[actix_web::test]
async fn a_ticket_stands_for_the_token_once() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let issued = t.as_user(&f.ann.1, TestRequest::post().uri("/v1/events/tickets")).await;
        assert_eq!(issued.status, 201, "{}", issued.body);
        let ticket = issued.body["ticket"].as_str().unwrap().to_owned();
        let mut stream = t.open_stream(TestRequest::get().uri(&format!("/v1/events?ticket={ticket}"))).await;
        assert_eq!(stream.status, 200);
        say(&t, f.team, "by ticket").await;
        assert_eq!(body_of(&stream.next_of(&["message.created"]).await), "by ticket");
        let again = t.send(TestRequest::get().uri(&format!("/v1/events?ticket={ticket}"))).await;
        assert_eq!(again.status, 401, "single use: {}", again.body);
        let forged = t.send(TestRequest::get().uri("/v1/events?ticket=rtk_forged")).await;
        assert_eq!(forged.status, 401);
        let none = t.send(TestRequest::get().uri("/v1/events")).await;
        assert_eq!(none.status, 401);
    }
}

fn online(user: &Value) -> bool {
    user["presence"]["online"].as_bool().unwrap()
}

#[actix_web::test]
async fn presence_chat_sessions_and_participants_follow_open_streams() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let mut watcher = t.app_stream("/v1/events?types=user.online,user.offline").await;
        assert!(!online(&t.get(&format!("/v1/users/{}", f.ann.0)).await.body));
        let ann = t.user_stream(&f.ann.1, &format!("/v1/events?channel={}", f.lobby)).await;
        let went = watcher.next().await;
        assert_eq!((went.event.as_str(), went.id), ("user.online", None));
        assert_eq!(went.data["resource"]["id"], json!(f.ann.0));
        assert!(online(&t.get(&format!("/v1/users/{}", f.ann.0)).await.body), "{}", t.label());

        let sessions = t.get("/v1/chat-sessions").await;
        assert_eq!(sessions.status, 200, "{}", sessions.body);
        let listed = &sessions.body["_embedded"]["sessions"];
        assert_eq!(listed.as_array().unwrap().len(), 1, "{}", sessions.body);
        assert_eq!(listed[0]["session"]["user"]["id"], json!(f.ann.0));
        assert_eq!(listed[0]["state"], "ACTIVE");
        let participants = t.get(&format!("/v1/channels/{}/participants", f.lobby)).await;
        assert_eq!(participants.body["_embedded"]["users"][0]["id"], json!(f.ann.0), "{}", participants.body);
        let user_sessions = t.get("/v1/user-sessions").await;
        let streaming: Vec<bool> = user_sessions.body["_embedded"]["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["user"]["id"] == json!(f.ann.0))
            .map(|s| s["streaming"].as_bool().unwrap())
            .collect();
        assert_eq!(streaming, [true]);

        drop(ann);
        let gone = watcher.next().await;
        assert_eq!(gone.event, "user.offline", "{}", t.label());
        assert!(!online(&t.get(&format!("/v1/users/{}", f.ann.0)).await.body));
        let sessions = t.get("/v1/chat-sessions").await;
        assert_eq!(sessions.body["page"]["totalElements"], 0, "{}", sessions.body);
    }
}

#[actix_web::test]
async fn a_stream_speaks_snake_case_when_asked() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let mut stream = t.app_stream("/v1/events?types=message.created&_case=snake").await;
        say(&t, f.lobby, "snakes").await;
        let event = stream.next().await;
        assert_eq!(event.data["resource"]["channel_id"], json!(f.lobby), "{}", event.data);
        assert!(event.data["resource"].get("channelId").is_none());
    }
}

#[actix_web::test]
async fn a_users_stream_ends_when_the_user_is_deleted() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let mut stream = t.user_stream(&f.cat.1, "/v1/events").await;
        let deleted = t
            .send(
                TestRequest::delete()
                    .uri(&format!("/v1/users/{}", f.cat.0))
                    .insert_header(("authorization", format!("Bearer {}", t.token))),
            )
            .await;
        assert!(deleted.status.is_success(), "{}", deleted.body);
        let last = stream.next_of(&["user.deleted"]).await;
        assert_eq!(last.data["resource"]["id"], json!(f.cat.0));
        assert!(stream.ends_within(Duration::from_secs(5)).await, "{}: the stream ends", t.label());
    }
}

const BOUNDARY: &str = "rt-boundary";

/// A multipart body of one file part and text parts.
fn multipart(file_name: &str, content_type: &str, bytes: &[u8], texts: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(t: &TestApp, uri: &str, body: Vec<u8>) -> Reply {
    let reply = t
        .call(
            TestRequest::post()
                .uri(uri)
                .insert_header(("content-type", format!("multipart/form-data; boundary={BOUNDARY}")))
                .set_payload(body),
        )
        .await;
    assert_eq!(reply.status, 200, "{}: {}", t.label(), reply.body);
    reply
}

/// Files are events: a message's file is its channel's, a display picture its user's alone.
/// What goes with a larger delete is told too: a deleted user's memberships, emptied channels.
#[actix_web::test]
async fn files_and_what_goes_with_a_delete_are_events() {
    for t in TestApp::each().await {
        let f = fixture(&t).await;
        let watched = "types=file.created,file.deleted,member.removed,channel.updated,user.deleted";
        let mut app = t.app_stream(&format!("/v1/events?{watched}")).await;
        let mut ben = t.user_stream(&f.ben.1, "/v1/events?types=file.created,file.deleted").await;
        let mut cat = t.user_stream(&f.cat.1, "/v1/events?types=file.created,file.deleted").await;

        let messages = format!("/v1/channels/{}/messages", f.team);
        let posted =
            upload(&t, &messages, multipart("notes.txt", "text/plain", b"hello", &[("username", "rt-ann")])).await;
        let created = app.next().await;
        assert_eq!(created.event, "file.created", "{}", t.label());
        let file = &created.data["resource"];
        assert_eq!(file["url"], posted.body["file"]["url"], "{file}");
        assert_eq!(
            (file["type"].as_str(), file["name"].as_str(), file["size"].as_i64()),
            (Some("HOSTED"), Some("notes.txt"), Some(5))
        );
        assert_eq!(ben.next().await.data["resource"]["url"], file["url"], "a member of the channel is told");

        let id = posted.body["id"].as_i64().unwrap();
        let deleted = t.call(TestRequest::delete().uri(&format!("/v1/messages/{id}"))).await;
        assert!(deleted.status.is_success(), "{}", deleted.body);
        let removed = app.next().await;
        assert_eq!(removed.event, "file.deleted", "{}", t.label());
        assert_eq!(removed.data["resource"]["url"], file["url"], "its last state");
        assert_eq!(ben.next().await.event, "file.deleted");

        // A display picture is its user's: cat is told of its own, and of nothing before it.
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        upload(&t, &format!("/v1/users/{}/display-picture", f.cat.0), multipart("me.png", "image/png", png, &[])).await;
        assert_eq!(app.next().await.event, "file.created");
        let own = cat.next().await;
        assert_eq!((own.event.as_str(), own.data["resource"]["name"].as_str()), ("file.created", Some("me.png")));
        assert!(ben.next_within(Duration::from_millis(300)).await.is_none(), "not another user's picture");

        // Every message deleted at once: each channel that had some is updated, emptied.
        say(&t, f.lobby, "soon gone").await;
        let all = t.call(TestRequest::delete().uri("/v1/messages")).await;
        assert!(all.status.is_success(), "{}", all.body);
        let emptied = app.next().await;
        assert_eq!((emptied.event.as_str(), &emptied.data["resource"]["id"]), ("channel.updated", &json!(f.lobby)));
        assert!(emptied.data["resource"].get("lastReceivedMessage").is_none(), "{}", emptied.data);

        // A user deleted leaves its channels: member.removed, then user.deleted.
        let gone = t.call(TestRequest::delete().uri(&format!("/v1/users/{}", f.ben.0))).await;
        assert!(gone.status.is_success(), "{}", gone.body);
        let seen = app.until(|e| e.event == "user.deleted").await;
        let left: Vec<(&str, &Value, &Value)> = seen
            .iter()
            .map(|e| (e.event.as_str(), &e.data["resource"]["channelId"], &e.data["resource"]["userId"]))
            .collect();
        assert_eq!(left[0], ("member.removed", &json!(f.team), &json!(f.ben.0)), "{}: {left:?}", t.label());
        assert_eq!(seen.len(), 2, "{left:?}");
    }
}
