//! Real-time through the binary (issue 23): WebSocket frames, two nodes on one PostgreSQL
//! relaying through LISTEN/NOTIFY and through NATS, presence across nodes and a dead node's
//! presence ended, and a webhook delivered after a `kill -9`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use roost_persistence::testing::TestDatabase;
use serde_json::{json, Value};

use super::{api, free_port, token, Server};

/// The environment variable naming the NATS server of the relay test.
const NATS_ENV: &str = "ROOST_TEST_NATS_URL";

/// A server-sent event as received.
#[derive(Debug)]
struct Event {
    id: Option<i64>,
    event: String,
    data: Value,
}

/// Opens `GET path` as an event stream; events arrive on the receiver as they come.
fn sse(base: &str, path: &str, bearer: &str) -> Receiver<Event> {
    let response = ureq::get(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {bearer}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    let (events, received) = mpsc::channel();
    let reader = BufReader::new(response.into_reader());
    std::thread::spawn(move || {
        let mut event = Event { id: None, event: String::new(), data: Value::Null };
        for line in reader.lines().map_while(Result::ok) {
            if line.is_empty() {
                if !event.event.is_empty() && events.send(event).is_err() {
                    return;
                }
                event = Event { id: None, event: String::new(), data: Value::Null };
            } else if let Some(id) = line.strip_prefix("id: ") {
                event.id = id.parse().ok();
            } else if let Some(name) = line.strip_prefix("event: ") {
                event.event = name.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                event.data = serde_json::from_str(data).unwrap_or(Value::Null);
            }
        }
    });
    received
}

/// The next event of type `wanted`, skipping others; fails after 20 s.
fn next_of(events: &Receiver<Event>, wanted: &str) -> Event {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if event.event == wanted => return event,
            Ok(_) => {}
            Err(e) => panic!("no {wanted} event: {e}"),
        }
    }
}

/// Polls `check` until it holds; fails after 20 s.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// A server's application token, from the credentials it printed at first start.
fn app_token(server: &Server) -> String {
    token(&server.base, &server.printed("client_id:"), &server.printed("client_secret:")).unwrap()
}

/// A guest's session token (guests enabled first).
fn guest_session(base: &str, app: &str, name: &str) -> (i64, String) {
    let (status, _) =
        api("PUT", &format!("{base}/v1/application/settings"), app, Some(json!({"guestUsers": "ENABLED"})));
    assert_eq!(status, 200);
    let (_, application) = api("GET", &format!("{base}/v1/application"), app, None);
    let key = application["key"].as_str().map(str::to_owned);
    let mut body = json!({"username": name});
    if let Some(key) = key {
        body["key"] = json!(key);
    }
    let reply = ureq::post(&format!("{base}/v1/sessions")).send_json(body);
    let session: Value = match reply {
        Ok(r) => r.into_json().unwrap(),
        Err(ureq::Error::Status(code, r)) => panic!("guest session: {code} {}", r.into_string().unwrap_or_default()),
        Err(e) => panic!("guest session: {e}"),
    };
    let token = session["accessToken"].as_str().or_else(|| session["access_token"].as_str()).unwrap().to_owned();
    let (_, me) = api("GET", &format!("{base}/v1/me"), &token, None);
    (me["id"].as_i64().unwrap(), token)
}

fn online(base: &str, app: &str, user: i64) -> bool {
    api("GET", &format!("{base}/v1/users/{user}"), app, None).1["presence"]["online"] == json!(true)
}

fn kill_9(server: Server) {
    Command::new("kill").args(["-KILL", &server.child.id().to_string()]).status().unwrap();
    let _ = server.stop_after_signal();
}

#[test]
fn websocket_frames_carry_events_and_commands() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&db, dir.path(), &[]);
    let app = app_token(&server);
    let (_, channel) =
        api("POST", &format!("{}/v1/channels", server.base), &app, Some(json!({"type": "PUBLIC", "name": "ws-lobby"})));
    let channel = channel["id"].as_i64().unwrap();
    let (guest, session) = guest_session(&server.base, &app, "ws-guest");
    let (status, _) = api(
        "POST",
        &format!("{}/v1/channels/{channel}/members", server.base),
        &app,
        Some(json!({"username": "ws-guest"})),
    );
    assert_eq!(status, 200);

    let ws_url = server.base.replacen("http://", "ws://", 1);
    // The application's socket, narrowed to the channel.
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!("{ws_url}/v1/ws")).unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {app}").parse().unwrap());
    let (mut app_ws, _) = tungstenite::connect(request).unwrap();
    app_ws.send(tungstenite::Message::text(json!({"type": "subscribe", "channelId": channel}).to_string())).unwrap();
    // A bad frame is answered, and the connection stays.
    app_ws.send(tungstenite::Message::text("not json")).unwrap();
    let next_text = |ws: &mut tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>| loop {
        match ws.read().unwrap() {
            tungstenite::Message::Text(text) => return serde_json::from_str::<Value>(text.as_str()).unwrap(),
            _ => continue,
        }
    };
    let error = next_text(&mut app_ws);
    assert_eq!(
        (error["type"].as_str(), error["resource"]["code"].as_str()),
        (Some("error"), Some("BAD_FRAME")),
        "{error}"
    );

    // A user's socket, opened with a ticket (a browser cannot set headers), types and reads.
    let (_, ticket) = api("POST", &format!("{}/v1/events/tickets", server.base), &session, None);
    let ticket = ticket["ticket"].as_str().unwrap();
    let (mut user_ws, _) = tungstenite::connect(format!("{ws_url}/v1/ws?ticket={ticket}")).unwrap();
    user_ws
        .send(tungstenite::Message::text(
            json!({"type": "keystrokes", "channelId": channel, "keys": "hel"}).to_string(),
        ))
        .unwrap();
    let (status, sent) = api(
        "POST",
        &format!("{}/v1/channels/{channel}/messages", server.base),
        &app,
        Some(json!({"type": "TEXT", "body": "over the socket"})),
    );
    assert_eq!(status, 200, "{sent}");
    // The keystrokes go through the user's socket and the message through REST: either may
    // arrive first.
    let mut seen = Vec::new();
    while !["keystrokes", "message.created"].iter().all(|t| seen.iter().any(|f: &Value| f["type"] == *t)) {
        seen.push(next_text(&mut app_ws));
    }
    let typed = seen.iter().find(|f| f["type"] == "keystrokes").expect("the user's keystrokes reach the channel");
    assert_eq!(typed["resource"]["keys"], "hel");
    assert_eq!(typed["resource"]["user"]["id"], json!(guest));
    assert!(typed.get("id").is_none(), "live-only: no id");
    let created = seen.iter().find(|f| f["type"] == "message.created").unwrap();
    assert_eq!(created["resource"]["body"], "over the socket");
    assert!(created["id"].is_i64());
    // The user's socket gets the message too (a member), and a read frame marks it.
    let mine = loop {
        let frame = next_text(&mut user_ws);
        if frame["type"] == "message.created" {
            break frame;
        }
    };
    let message = mine["resource"]["id"].as_i64().unwrap();
    user_ws.send(tungstenite::Message::text(json!({"type": "read", "messageId": message}).to_string())).unwrap();
    let receipt = loop {
        let frame = next_text(&mut app_ws);
        if frame["type"] == "read_receipt.created" {
            break frame;
        }
    };
    assert_eq!(receipt["resource"]["user"]["id"], json!(guest), "{receipt}");
    // The ticket was used up.
    assert!(tungstenite::connect(format!("{ws_url}/v1/ws?ticket={ticket}")).is_err());
    // A ping is answered with its payload (RFC 6455 §5.5.2); a close with a close (§5.5.1).
    app_ws.send(tungstenite::Message::Ping(b"are you there".to_vec().into())).unwrap();
    let pong = loop {
        if let tungstenite::Message::Pong(payload) = app_ws.read().unwrap() {
            break payload;
        }
    };
    assert_eq!(&pong[..], b"are you there");
    user_ws.close(None).unwrap();
    let closed = loop {
        match user_ws.read() {
            Ok(tungstenite::Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => break true,
            Ok(_) => continue,
            Err(error) => panic!("the close is not answered: {error}"),
        }
    };
    assert!(closed);
    drop(user_ws);
    drop(app_ws);
    server.stop();
}

/// Two nodes on one PostgreSQL: an event written through A reaches a stream on B; a user
/// streaming on A is online when asked through B, and offline once A dies.
fn two_nodes(db: &TestDatabase, broker: &[(&str, &str)], expected_log: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut env_a = vec![("ROOST_NODE_ID", "1"), ("ROOST_NODE_TIMEOUT_SECONDS", "3")];
    env_a.extend_from_slice(broker);
    let mut env_b = vec![("ROOST_NODE_ID", "2"), ("ROOST_NODE_TIMEOUT_SECONDS", "3")];
    env_b.extend_from_slice(broker);
    let a = Server::start(db, dir.path(), &env_a);
    let app = app_token(&a);
    let b = Server::start(db, dir.path(), &env_b);
    let (_, channel) =
        api("POST", &format!("{}/v1/channels", a.base), &app, Some(json!({"type": "PUBLIC", "name": "two-nodes"})));
    let channel = channel["id"].as_i64().unwrap();

    let on_b = sse(&b.base, "/v1/events?types=message.created,user.online,user.offline", &app);
    for n in 0..3 {
        let (status, _) = api(
            "POST",
            &format!("{}/v1/channels/{channel}/messages", a.base),
            &app,
            Some(json!({"type": "TEXT", "body": format!("from A {n}")})),
        );
        assert_eq!(status, 200);
    }
    for n in 0..3 {
        let event = next_of(&on_b, "message.created");
        assert_eq!(event.data["resource"]["body"], format!("from A {n}"), "in order across nodes");
        assert!(event.id.is_some());
    }

    // Presence across nodes, and its live events relayed.
    let (guest, session) = guest_session(&a.base, &app, "two-node-guest");
    assert!(!online(&b.base, &app, guest));
    let streaming = sse(&a.base, &format!("/v1/events?channel={channel}"), &session);
    assert!(online(&b.base, &app, guest), "a user streaming on A is online through B");
    let went = next_of(&on_b, "user.online");
    assert_eq!(went.data["resource"]["id"], json!(guest));
    // Its chat session, participation and `streaming` too.
    let (_, sessions) = api("GET", &format!("{}/v1/chat-sessions", b.base), &app, None);
    assert_eq!(sessions["_embedded"]["sessions"][0]["session"]["user"]["id"], json!(guest), "{sessions}");
    assert_eq!(
        sessions["_embedded"]["sessions"][0]["_links"]["channel"]["href"]
            .as_str()
            .map(|h| h.ends_with(&format!("/v1/channels/{channel}"))),
        Some(true)
    );
    let (_, participants) = api("GET", &format!("{}/v1/channels/{channel}/participants", b.base), &app, None);
    assert_eq!(participants["_embedded"]["users"][0]["id"], json!(guest), "{participants}");
    let streaming_through_b = |base: &str| {
        let (_, found) = api("GET", &format!("{base}/v1/user-sessions"), &app, None);
        found["_embedded"]["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["user"]["id"] == json!(guest) && s["streaming"] == json!(true))
    };
    assert!(streaming_through_b(&b.base), "a session streaming on A is `streaming` through B");
    // A dies with the stream open: B ends its presence and its chat sessions after the node
    // timeout.
    kill_9(a);
    drop(streaming);
    eventually("B to end the dead node's presence", || !online(&b.base, &app, guest));
    let gone = next_of(&on_b, "user.offline");
    assert_eq!(gone.data["resource"]["id"], json!(guest));
    let (_, sessions) = api("GET", &format!("{}/v1/chat-sessions", b.base), &app, None);
    assert_eq!(sessions["page"]["totalElements"], json!(0), "{sessions}");
    assert!(!streaming_through_b(&b.base));
    let (_, stderr) = b.stop();
    assert!(stderr.contains(expected_log), "the relay in use is logged: {stderr}");
}

#[test]
#[ignore = "needs PostgreSQL (ROOST_TEST_POSTGRES_URL); .ci/run runs it with --include-ignored"]
fn two_nodes_relay_through_postgres_listen_notify() {
    let db = TestDatabase::postgres().expect("ROOST_TEST_POSTGRES_URL names the PostgreSQL server");
    two_nodes(&db, &[], "LISTEN/NOTIFY");
}

#[test]
#[ignore = "needs NATS (ROOST_TEST_NATS_URL) and PostgreSQL; .ci/run runs it with --include-ignored"]
fn two_nodes_relay_through_nats() {
    let url = std::env::var(NATS_ENV).unwrap_or_else(|_| panic!("{NATS_ENV} names the NATS server"));
    let db = TestDatabase::postgres().expect("ROOST_TEST_POSTGRES_URL names the PostgreSQL server");
    two_nodes(&db, &[("ROOST_NATS_URL", url.as_str())], "through NATS");
}

/// A tiny HTTP receiver on `port`: answers 200 and keeps each request's head and body.
fn receiver_on(port: u16) -> Arc<Mutex<Vec<(String, String)>>> {
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for mut connection in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(connection.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            log.lock().unwrap().push((head, String::from_utf8_lossy(&body).into_owned()));
            let _ = connection.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    received
}

#[test]
fn a_webhook_delivery_survives_kill_9() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let env = [("ROOST_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1"), ("ROOST_WEBHOOK_RETRY_BASE_SECONDS", "1")];
    let server = Server::start(&db, dir.path(), &env);
    let app = app_token(&server);
    // Nobody listens there yet: the first attempt fails and the delivery waits.
    let port = free_port();
    let (status, hook) = api(
        "POST",
        &format!("{}/v1/webhooks", server.base),
        &app,
        Some(json!({"url": format!("http://127.0.0.1:{port}/hook"), "events": ["message.created"]})),
    );
    assert_eq!(status, 201, "{hook}");
    let hook = hook["id"].as_i64().unwrap();
    let (_, channel) =
        api("POST", &format!("{}/v1/channels", server.base), &app, Some(json!({"type": "PUBLIC", "name": "hooked"})));
    let (status, _) = api(
        "POST",
        &format!("{}/v1/channels/{}/messages", server.base, channel["id"]),
        &app,
        Some(json!({"type": "TEXT", "body": "before the crash"})),
    );
    assert_eq!(status, 200);
    let deliveries = format!("{}/v1/webhooks/{hook}/deliveries", server.base);
    eventually("a failed first attempt", || {
        api("GET", &deliveries, &app, None).1["_embedded"]["deliveries"][0]["attempts"].as_i64() >= Some(1)
    });
    kill_9(server);

    let received = receiver_on(port);
    let restarted = Server::start(&db, dir.path(), &env);
    eventually("the delivery after the restart", || !received.lock().unwrap().is_empty());
    let (head, body) = received.lock().unwrap()[0].clone();
    let envelope: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(envelope["resource"]["body"], "before the crash");
    let head = head.to_ascii_lowercase();
    assert!(head.contains(&format!("roost-event-id: {}", envelope["id"])), "{head}");
    assert!(head.contains("roost-signature: t="), "{head}");
    let (_, page) = api("GET", &format!("{}/v1/webhooks/{hook}/deliveries", restarted.base), &app, None);
    assert_eq!(page["_embedded"]["deliveries"][0]["status"], "DELIVERED", "{page}");
    restarted.stop();
}
