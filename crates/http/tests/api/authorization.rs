//! Who may call what (issue 22): every route of the router, called by six principals, each row
//! stating the status each gets. The routes come from the router itself, so a new route without
//! a row fails this test. No refused request's body, and nothing another application sees,
//! names a user of this application's fixture.
//!
//! The principals: the application's token; users (session tokens) who are a member of the
//! private channel, outside it, its moderator, and a guest outside it; and another application's
//! token. Paths use `me` for `{app_id}`; the legacy `/v1/applications/{app_id}/…` paths share
//! the rows of their `/v1/…` twins.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const PRINCIPALS: [&str; 6] = ["application", "member", "outsider", "moderator", "guest", "other application"];

/// One route's row: method, path template, JSON body (with `$member`, `$outsider`, `$victim`
/// standing for those users' names), and the status each principal gets, in [`PRINCIPALS`]'
/// order.
type Row = (&'static str, &'static str, Option<Value>, [u16; 6]);

const VISIBLE: [u16; 6] = [200, 200, 404, 200, 404, 404];
const MODERATED: [u16; 6] = [200, 403, 404, 200, 404, 404];
const BACK_END: [u16; 6] = [200, 403, 403, 403, 403, 200];
const BACK_END_OF: [u16; 6] = [200, 403, 403, 403, 403, 404];
const USER_ONLY: [u16; 6] = [403, 200, 200, 200, 200, 403];
const ANYONE: [u16; 6] = [200; 6];
const NO_SUCH_HOOK: [u16; 6] = [404, 403, 403, 403, 403, 404];

fn rows() -> Vec<Row> {
    let text = || Some(json!({"type": "TEXT", "body": "hello"}));
    let patch = |v: Value| Some(v);
    vec![
        // OAuth: client credentials, never a bearer token.
        ("POST", "/oauth/token", None, [400; 6]),
        ("POST", "/oauth/revoke", None, [400; 6]),
        ("POST", "/oauth/introspect", None, [400; 6]),
        // The application.
        ("GET", "/v1", None, ANYONE),
        ("GET", "/v1/application", None, ANYONE),
        ("GET", "/v1/application/settings", None, BACK_END),
        ("PUT", "/v1/application/settings", Some(json!({"guestUsers": "ENABLED"})), BACK_END),
        ("GET", "/v1/application/message-read-receipt-summaries", None, BACK_END),
        ("GET", "/v1/picture/{name}", None, ANYONE),
        ("GET", "/v1/files/{key}", None, [404; 6]),
        ("GET", "/v1/tests", None, ANYONE),
        ("PUT", "/v1/tests", Some(json!({})), ANYONE),
        ("POST", "/v1/tests", Some(json!({})), ANYONE),
        ("DELETE", "/v1/tests", None, ANYONE),
        ("PATCH", "/v1/tests", patch(json!({})), ANYONE),
        ("GET", "/v1/tests/{id}", None, ANYONE),
        ("PUT", "/v1/tests/{id}", Some(json!({})), ANYONE),
        ("POST", "/v1/tests/{id}", Some(json!({})), ANYONE),
        ("DELETE", "/v1/tests/{id}", None, ANYONE),
        ("PATCH", "/v1/tests/{id}", patch(json!({})), ANYONE),
        // End users' own API: the public calls refuse these empty or unknown inputs alike.
        ("POST", "/v1/accounts", Some(json!({})), [400; 6]),
        ("POST", "/v1/accounts/activate", Some(json!({"token": "rmt_unknown"})), [400; 6]),
        ("GET", "/v1/accounts/activate/{token}", None, [400; 6]),
        ("POST", "/v1/sessions", Some(json!({})), [400; 6]),
        ("POST", "/v1/accounts/password-reset", Some(json!({})), [400; 6]),
        ("POST", "/v1/accounts/password-reset/{token}", Some(json!({"newPassword": "a long one"})), [400; 6]),
        ("DELETE", "/v1/sessions/current", None, [403, 204, 204, 204, 204, 403]),
        ("GET", "/v1/me", None, USER_ONLY),
        ("PATCH", "/v1/me", patch(json!({"displayName": "Me"})), USER_ONLY),
        // Users made by the application have no password to change.
        ("PUT", "/v1/me/password", Some(json!({"oldPassword": "x", "newPassword": "a long one"})), [403; 6]),
        ("GET", "/v1/user-sessions", None, BACK_END),
        ("GET", "/v1/me/messages", None, USER_ONLY),
        ("POST", "/v1/me/messages", Some(json!({"to": ["$victim"], "body": "hi"})), USER_ONLY),
        ("GET", "/v1/me/threads", None, USER_ONLY),
        ("GET", "/v1/me/blocks", None, USER_ONLY),
        ("POST", "/v1/me/blocks", Some(json!({"user": {"username": "$victim"}})), USER_ONLY),
        ("DELETE", "/v1/me/blocks/{user_id}", None, [403, 404, 404, 404, 404, 403]),
        ("POST", "/v1/messages/{message_id}/reports", Some(json!({"reason": "spam"})), [403, 200, 404, 200, 404, 403]),
        // Users: public fields for everyone of the application; changes are the back end's.
        ("GET", "/v1/users", None, ANYONE),
        ("HEAD", "/v1/users?name=$victim", None, [200, 200, 200, 200, 200, 404]),
        ("POST", "/v1/users", Some(json!({"name": "made-$n", "displayName": "Made"})), BACK_END),
        ("DELETE", "/v1/users?ids={user_id}", None, BACK_END_OF),
        ("PATCH", "/v1/users?ids={user_id}", patch(json!({"displayName": "Renamed"})), BACK_END_OF),
        ("GET", "/v1/users/{user_id}", None, [200, 200, 200, 200, 200, 404]),
        ("DELETE", "/v1/users/{user_id}", None, BACK_END_OF),
        ("PATCH", "/v1/users/{user_id}", patch(json!({"displayName": "Renamed"})), BACK_END_OF),
        (
            "POST",
            "/v1/users/{user_id}/display-picture",
            Some(json!({"url": "https://example.com/a.png", "name": "a.png", "contentType": "image/png", "size": 1})),
            BACK_END_OF,
        ),
        ("GET", "/v1/users/{user_id}/channels", None, BACK_END_OF),
        ("GET", "/v1/users/{user_id}/messages", None, BACK_END_OF),
        ("GET", "/v1/users/{user_id}/messages/unread/count", None, BACK_END_OF),
        ("GET", "/v1/users/{user_id}/notifications", None, BACK_END_OF),
        ("GET", "/v1/users/{user_id}/secrets/{name}", None, BACK_END_OF),
        ("PUT", "/v1/users/{user_id}/secrets/{name}", Some(json!({"secret": "s"})), BACK_END_OF),
        ("DELETE", "/v1/users/{user_id}/secrets/{name}", None, BACK_END_OF),
        // Channels: a private channel is its members' (404 to anyone else); moderators change it.
        ("GET", "/v1/channels", None, ANYONE),
        ("POST", "/v1/channels", Some(json!({"type": "PUBLIC", "name": "made-$n"})), BACK_END),
        ("DELETE", "/v1/channels?ids={channel_id}", None, BACK_END_OF),
        ("PATCH", "/v1/channels?ids={channel_id}", patch(json!({"displayName": "Renamed"})), BACK_END_OF),
        ("GET", "/v1/channels/{channel_id}", None, VISIBLE),
        ("DELETE", "/v1/channels/{channel_id}", None, MODERATED),
        ("PATCH", "/v1/channels/{channel_id}", patch(json!({"displayName": "Renamed"})), MODERATED),
        ("GET", "/v1/channels/{channel_id}/members", None, VISIBLE),
        ("POST", "/v1/channels/{channel_id}/members", Some(json!({"username": "$outsider"})), MODERATED),
        ("DELETE", "/v1/channels/{channel_id}/members/{user_id}", None, MODERATED),
        ("GET", "/v1/channels/{channel_id}/memberships", None, VISIBLE),
        ("GET", "/v1/channels/{channel_id}/moderators", None, VISIBLE),
        ("POST", "/v1/channels/{channel_id}/moderators", Some(json!({"username": "$member"})), MODERATED),
        ("DELETE", "/v1/channels/{channel_id}/moderators/{user_id}", None, MODERATED),
        ("GET", "/v1/channels/{channel_id}/participants", None, VISIBLE),
        ("GET", "/v1/channels/{channel_id}/invites", None, MODERATED),
        ("POST", "/v1/channels/{channel_id}/invites", Some(json!({"user": {"username": "$outsider"}})), VISIBLE),
        ("GET", "/v1/channels/{channel_id}/messages", None, VISIBLE),
        ("POST", "/v1/channels/{channel_id}/messages", text(), VISIBLE),
        ("GET", "/v1/channels/{channel_id}/reported-messages", None, MODERATED),
        // An application names who types; a user types as itself.
        ("POST", "/v1/channels/{channel_id}/keystrokes", Some(json!({"keys": "abc"})), [400, 200, 404, 200, 404, 404]),
        ("POST", "/v1/channels/{channel_id}/events", Some(json!({"type": "poke", "properties": {}})), VISIBLE),
        // Messages: seen through their channel; edited by their sender, deleted by it or a
        // moderator.
        ("GET", "/v1/messages", None, BACK_END),
        ("DELETE", "/v1/messages", None, BACK_END),
        ("PATCH", "/v1/messages?ids={message_id}", patch(json!({"properties": {"a": 1}})), BACK_END_OF),
        ("GET", "/v1/messages/{message_id}", None, VISIBLE),
        ("DELETE", "/v1/messages/{message_id}", None, MODERATED),
        ("PATCH", "/v1/messages/{message_id}", patch(json!({"body": "edited"})), [200, 403, 404, 403, 404, 404]),
        ("GET", "/v1/messages/{message_id}/replies", None, VISIBLE),
        ("POST", "/v1/messages/{message_id}/replies", text(), VISIBLE),
        ("POST", "/v1/messages/{message_id}/reactions", Some(json!({"emoji": "👍"})), [400, 200, 404, 200, 404, 404]),
        // The victim's reaction: an application removes anyone's, a user only its own.
        ("DELETE", "/v1/messages/{message_id}/reactions/{emoji}?user=$victim", None, [200, 403, 404, 403, 404, 404]),
        ("GET", "/v1/messages/{message_id}/read-receipts", None, VISIBLE),
        ("POST", "/v1/messages/{message_id}/read-receipts", Some(json!({})), [400, 200, 404, 200, 404, 404]),
        ("GET", "/v1/threads/{thread_id}", None, VISIBLE),
        ("GET", "/v1/threads/{thread_id}/messages", None, VISIBLE),
        ("POST", "/v1/threads/{thread_id}/messages", text(), VISIBLE),
        ("POST", "/v1/threads/{thread_id}/keystrokes", Some(json!({"keys": "abc"})), [400, 200, 404, 200, 404, 404]),
        // Real-time: a stream of the private channel is refused as the channel is (its body is
        // not read: it does not end); a WebSocket request without a handshake is a 400 before
        // anything else (the stream tests check its authorization).
        ("GET", "/v1/events?channel={channel_id}", None, VISIBLE),
        ("GET", "/v1/ws?channel={channel_id}", None, [400; 6]),
        ("POST", "/v1/events/tickets", None, [201; 6]),
        ("GET", "/v1/chat-sessions", None, BACK_END),
        // Imports and jobs: the back end's; a members import names a channel of this
        // application (another's is not found); no job 1 exists.
        ("POST", "/v1/imports/users", Some(json!([])), [202, 403, 403, 403, 403, 202]),
        ("POST", "/v1/imports/channels", Some(json!([])), [202, 403, 403, 403, 403, 202]),
        ("POST", "/v1/imports/channels/{channel_id}/members", Some(json!([])), [202, 403, 403, 403, 403, 404]),
        ("POST", "/v1/imports/messages", Some(json!([])), [202, 403, 403, 403, 403, 202]),
        ("POST", "/v1/analytics/messages", None, [202, 403, 403, 403, 403, 202]),
        ("POST", "/v1/analytics/users", None, [202, 403, 403, 403, 403, 202]),
        ("GET", "/v1/jobs", None, BACK_END),
        ("GET", "/v1/jobs/{job_id}", None, NO_SUCH_HOOK),
        // Webhooks: the back end's; none of these ids exists.
        ("POST", "/v1/webhooks", Some(json!({"url": "https://example.com/hook"})), [201, 403, 403, 403, 403, 201]),
        ("GET", "/v1/webhooks", None, BACK_END),
        ("GET", "/v1/webhooks/{webhook_id}", None, NO_SUCH_HOOK),
        ("PATCH", "/v1/webhooks/{webhook_id}", patch(json!({"enabled": false})), NO_SUCH_HOOK),
        ("DELETE", "/v1/webhooks/{webhook_id}", None, NO_SUCH_HOOK),
        ("POST", "/v1/webhooks/{webhook_id}/secret", None, NO_SUCH_HOOK),
        ("GET", "/v1/webhooks/{webhook_id}/deliveries", None, NO_SUCH_HOOK),
        ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", None, NO_SUCH_HOOK),
    ]
}

/// The users, the private channel and a message, made fresh (names end with `n`), with a
/// session for each user.
struct Fixture {
    n: usize,
    names: [String; 5],
    tokens: [String; 4],
    victim: i64,
    channel: i64,
    thread: i64,
    message: i64,
}

async fn fixture(t: &TestApp, n: usize) -> Fixture {
    let names = ["member", "outsider", "moderator", "guest", "victim"].map(|role| format!("az-{role}-{n}"));
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let guest = i == 3;
        let made = t.post_json("/v1/users", json!({"name": name, "displayName": name, "isGuest": guest})).await;
        assert_eq!(made.status, 200, "{}", made.body);
        ids.push(made.body["id"].as_i64().unwrap());
    }
    let channel = t
        .post_json(
            "/v1/channels",
            json!({"type": "PRIVATE", "name": format!("az-team-{n}"), "creator": {"username": names[2]},
                "members": [{"username": names[0]}, {"username": names[4]}]}),
        )
        .await;
    assert_eq!(channel.status, 200, "{}", channel.body);
    let channel_id = channel.body["id"].as_i64().unwrap();
    let moderator = t.post_json(&format!("/v1/channels/{channel_id}/moderators"), json!({"username": names[4]})).await;
    assert_eq!(moderator.status, 200, "{}", moderator.body);
    let message = t
        .post_json(
            &format!("/v1/channels/{channel_id}/messages"),
            json!({"type": "TEXT", "body": "the victim's", "user": {"username": names[4]}}),
        )
        .await;
    assert_eq!(message.status, 200, "{}", message.body);
    let message_id = message.body["id"].as_i64().unwrap();
    let reacted = t
        .post_json(
            &format!("/v1/messages/{message_id}/reactions"),
            json!({"emoji": "👍", "user": {"username": names[4]}}),
        )
        .await;
    assert_eq!(reacted.status, 200, "{}", reacted.body);
    let secret = t
        .call(TestRequest::put().uri(&format!("/v1/users/{}/secrets/note", ids[4])).set_json(json!({"secret": "s"})))
        .await;
    assert_eq!(secret.status, 200, "{}", secret.body);
    let main_thread = t.get(&format!("/v1/messages/{message_id}")).await.body["_links"]["thread"]["href"]
        .as_str()
        .and_then(|href| href.rsplit('/').next())
        .and_then(|id| id.parse().ok())
        .expect("a message links its thread");
    let tokens = [0, 1, 2, 3].map(|i| t.session_for(ids[i]));
    Fixture { n, names, tokens, victim: ids[4], channel: channel_id, thread: main_thread, message: message_id }
}

fn fill(template: &str, f: &Fixture) -> String {
    template
        .replace("{app_id}", "me")
        .replace("{channel_id}", &f.channel.to_string())
        .replace("{user_id}", &f.victim.to_string())
        .replace("{message_id}", &f.message.to_string())
        .replace("{thread_id}", &f.thread.to_string())
        .replace("{name}", "note")
        .replace("{emoji}", "%F0%9F%91%8D")
        .replace("{key}", &"0".repeat(32))
        .replace("{token}", "rmt_unknown")
        .replace("{id}", "1")
        .replace("{webhook_id}", "1")
        .replace("{job_id}", "1")
        .replace("{delivery_id}", "1")
        .replace("$member", &f.names[0])
        .replace("$outsider", &f.names[1])
        .replace("$victim", &f.names[4])
        .replace("$n", &f.n.to_string())
}

/// The row of a route: its own, or its `/v1/…` twin's for a legacy path.
fn row_of<'a>(rows: &'a [Row], method: &str, path: &str) -> Option<&'a Row> {
    let modern = path.strip_prefix("/v1/applications/{app_id}").map(|rest| format!("/v1{rest}"));
    let modern = match path.strip_prefix("/v1/applications/{app_id}") {
        Some(rest @ ("" | "/settings" | "/message-read-receipt-summaries")) => format!("/v1/application{rest}"),
        Some(_) => modern.unwrap_or_default(),
        None => path.to_owned(),
    };
    rows.iter().find(|(m, template, ..)| *m == method && template.split('?').next() == Some(modern.as_str()))
}

#[actix_web::test]
async fn every_route_answers_each_principal_as_its_row_says() {
    let rows = rows();
    let routes: Vec<(String, String)> = roost_http::api_routes()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path))
        .filter(|(_, path)| !matches!(path.as_str(), "/" | "/healthz" | "/readyz" | "/metrics" | "/v1/openapi.json"))
        .filter(|(_, path)| !path.starts_with("/docs"))
        .collect();
    let missing: Vec<_> = routes.iter().filter(|(m, p)| row_of(&rows, m, p).is_none()).collect();
    assert!(missing.is_empty(), "routes without a row in the authorization table: {missing:?}");
    for t in TestApp::each().await {
        let (_, other_token) = t.other_application().await;
        let mut wrong = Vec::new();
        let mut n = 0;
        for (method, path) in &routes {
            let Some((_, template, body, expected)) = row_of(&rows, method, path) else { continue };
            let legacy = path.starts_with("/v1/applications/");
            let template = if legacy { path.replace("{app_id}", "me") } else { (*template).to_owned() };
            let query = row_of(&rows, method, path).and_then(|(_, t, ..)| t.split_once('?')).map(|(_, q)| q);
            let template = match query {
                Some(query) if !template.contains('?') => format!("{template}?{query}"),
                _ => template,
            };
            // A fixture per call: a call that succeeds must not change what the next one sees.
            for (who, status) in expected.iter().enumerate() {
                n += 1;
                let f = fixture(&t, n).await;
                let uri = fill(&template, &f);
                let mut req = TestRequest::default().method(method.parse().unwrap()).uri(&uri);
                if let Some(body) = body {
                    let body = fill(&body.to_string(), &f);
                    let content_type =
                        if *method == "PATCH" { "application/merge-patch+json" } else { "application/json" };
                    req = req.insert_header(("content-type", content_type)).set_payload(body);
                }
                let bearer = match who {
                    0 => t.token.clone(),
                    5 => other_token.clone(),
                    user => f.tokens[user - 1].clone(),
                };
                let req = req.insert_header(("authorization", format!("Bearer {bearer}")));
                // An event stream's body does not end: its status alone is checked.
                if path == "/v1/events" {
                    let stream = t.open_stream(req).await;
                    if stream.status.as_u16() != *status {
                        wrong.push(format!(
                            "{method} {path} as {}: {} (expected {status})",
                            PRINCIPALS[who], stream.status
                        ));
                    }
                    continue;
                }
                let reply = t.send(req).await;
                if reply.status.as_u16() != *status {
                    wrong.push(format!(
                        "{method} {path} as {}: {} (expected {status}): {}",
                        PRINCIPALS[who], reply.status, reply.body
                    ));
                }
                let refused = reply.status.is_client_error();
                if (refused || who == 5) && reply.raw.windows(3).any(|w| w == b"az-") {
                    wrong.push(format!("{method} {path} as {}: leaks a user's data: {}", PRINCIPALS[who], reply.body));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{}: {} of {n} calls answered otherwise:\n{}",
            t.label(),
            wrong.len(),
            wrong.join("\n")
        );
    }
}
