//! Webhooks (issue 23): managed by the back end, delivered to a real HTTP receiver with a
//! signature it checks, retried after it fails, never sent to a private address unless allowed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::test::TestRequest;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use roost_http::webhooks::WebhookSettings;
use roost_http::HttpSettings;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::TestApp;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    event_id: String,
    signature: String,
    body: String,
}

/// A real HTTP server on a loopback port: answers with the next status of `answers` (then 200)
/// and keeps what it received.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

fn receiver(answers: Vec<u16>) -> Receiver {
    let received = Arc::new(Mutex::new(Vec::new()));
    let answers = Arc::new(Mutex::new(answers));
    let (log, queue) = (received.clone(), answers.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let (log, queue) = (log.clone(), queue.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (log, queue) = (log.clone(), queue.clone());
            async move {
                let header =
                    |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                log.lock().unwrap().push(Received {
                    event_id: header("roost-event-id"),
                    signature: header("roost-signature"),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let status = {
                    let mut queue = queue.lock().unwrap();
                    if queue.is_empty() {
                        200
                    } else {
                        queue.remove(0)
                    }
                };
                let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
                if status == 302 {
                    answer.insert_header(("location", "http://127.0.0.1:1/elsewhere"));
                }
                answer.finish()
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    Receiver { url: format!("http://127.0.0.1:{port}/hook"), received }
}

fn settings(allowed: &[&str]) -> HttpSettings {
    HttpSettings {
        webhooks: WebhookSettings {
            allowed_hosts: allowed.iter().map(|h| (*h).to_owned()).collect(),
            retry_base_seconds: 1,
            ..WebhookSettings::default()
        },
        ..HttpSettings::default()
    }
}

/// Starts the dispatcher of this Roost (the server starts it at start-up).
fn dispatch(t: &TestApp) {
    actix_web::rt::spawn(roost_http::webhooks::run(t.state.clone()));
}

/// Checks a `Roost-Signature` header's `v1=` values against `secrets`, as a receiver would.
fn verify(header: &str, body: &str, secret: &str) -> bool {
    let mut parts = header.split(',');
    let t = parts.next().and_then(|p| p.strip_prefix("t=")).unwrap();
    parts.filter_map(|p| p.strip_prefix("v1=")).any(|hex| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        expected == hex
    })
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn deliveries(t: &TestApp, hook: i64) -> Vec<Value> {
    let page = t.get(&format!("/v1/webhooks/{hook}/deliveries")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.body["_embedded"]["deliveries"].as_array().cloned().unwrap_or_default()
}

async fn wait_for_status(t: &TestApp, hook: i64, status: &str) -> Value {
    for _ in 0..200 {
        if let Some(found) = deliveries(t, hook).await.into_iter().find(|d| d["status"] == status) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {status} delivery: {:?}", deliveries(t, hook).await);
}

async fn make_hook(t: &TestApp, body: Value) -> (i64, String) {
    let made = t.post_json("/v1/webhooks", body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    (made.body["id"].as_i64().unwrap(), made.body["secret"].as_str().unwrap().to_owned())
}

async fn post_message(t: &TestApp, channel: i64, body: &str) {
    let sent = t.post_json(&format!("/v1/channels/{channel}/messages"), json!({"type": "TEXT", "body": body})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
}

async fn channel(t: &TestApp, name: &str) -> i64 {
    t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": name})).await.body["id"].as_i64().unwrap()
}

#[actix_web::test]
async fn webhooks_are_managed_by_the_back_end_and_validated() {
    for t in TestApp::each().await {
        let (id, secret) =
            make_hook(&t, json!({"url": "https://example.com/hook", "events": ["message.created"]})).await;
        assert!(secret.starts_with("whsec_"));
        let got = t.get(&format!("/v1/webhooks/{id}")).await;
        assert_eq!(got.status, 200);
        assert!(got.body.get("secret").is_none(), "the secret is shown once: {}", got.body);
        assert_eq!(got.body["events"], json!(["message.created"]));
        let listed = t.get("/v1/webhooks").await;
        assert_eq!(listed.body["page"]["totalElements"], 1, "{}", listed.body);
        let changed = t
            .call(
                TestRequest::patch()
                    .uri(&format!("/v1/webhooks/{id}"))
                    .set_json(json!({"enabled": false, "events": []})),
            )
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_eq!(changed.body["enabled"], false);
        for bad in [
            json!({}),
            json!({"url": "ftp://example.com"}),
            json!({"url": "https://user:pw@example.com"}),
            json!({"url": "https://example.com", "events": ["keystrokes"]}),
            json!({"url": "https://example.com", "events": ["message.exploded"]}),
        ] {
            let refused = t.post_json("/v1/webhooks", bad.clone()).await;
            assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        }
        let gone = t.call(TestRequest::delete().uri(&format!("/v1/webhooks/{id}"))).await;
        assert_eq!(gone.status, 204);
        assert_eq!(t.get(&format!("/v1/webhooks/{id}")).await.status, 404);
    }
}

#[actix_web::test]
async fn a_receiver_gets_each_event_signed_and_retries_follow_failures() {
    for t in TestApp::each_with(settings(&["127.0.0.1"])).await {
        dispatch(&t);
        // Fails twice (a 500, then a redirect, which is not followed), then takes it.
        let receiver = receiver(vec![500, 302]);
        let (hook, secret) = make_hook(&t, json!({"url": receiver.url, "events": ["message.created"]})).await;
        let lobby = channel(&t, "wh-lobby").await;
        post_message(&t, lobby, "hooked").await;
        let delivered = wait_for_status(&t, hook, "DELIVERED").await;
        assert_eq!(delivered["attempts"], 3, "{}: {delivered}", t.label());
        assert_eq!(delivered["responseCode"], 200);
        let received = receiver.received.lock().unwrap().clone();
        assert_eq!(received.len(), 3, "{received:?}");
        for r in &received {
            assert!(verify(&r.signature, &r.body, &secret), "signature {} of {}", r.signature, r.body);
            assert!(!verify(&r.signature, &r.body, "whsec_wrong"));
            let envelope: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(envelope["type"], "message.created");
            assert_eq!(envelope["resource"]["body"], "hooked");
            assert_eq!(envelope["id"].to_string(), r.event_id, "Roost-Event-Id is the event's id");
        }
        // The same event each time, byte for byte: receivers dedupe on its id.
        assert!(received.windows(2).all(|w| w[0].body == w[1].body));

        // After a rotation, both secrets sign for the overlap.
        let rotated = t.post_json(&format!("/v1/webhooks/{hook}/secret"), json!({})).await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
        assert!(rotated.body["previousSecretExpiresTime"].is_string());
        post_message(&t, lobby, "rotated").await;
        wait_for("the second event", || receiver.received.lock().unwrap().len() == 4).await;
        let last = receiver.received.lock().unwrap()[3].clone();
        assert_eq!(last.signature.matches("v1=").count(), 2, "{}", last.signature);
        assert!(verify(&last.signature, &last.body, &new_secret));
        assert!(verify(&last.signature, &last.body, &secret));
    }
}

#[actix_web::test]
async fn private_addresses_are_refused_unless_allowed_and_a_delivery_can_be_sent_again() {
    for t in TestApp::each_with(settings(&[])).await {
        dispatch(&t);
        let receiver = receiver(vec![]);
        let (hook, _) = make_hook(&t, json!({"url": receiver.url})).await;
        let metadata = make_hook(&t, json!({"url": "http://169.254.169.254/latest/meta-data"})).await.0;
        let lobby = channel(&t, "wh-private").await;
        let failed = wait_for_status(&t, hook, "FAILED").await;
        assert!(failed["lastError"].as_str().unwrap().contains("loopback"), "{failed}");
        assert_eq!(failed["attempts"], 1, "a refused destination is not retried");
        let refused = wait_for_status(&t, metadata, "FAILED").await;
        assert!(refused["lastError"].as_str().unwrap().contains("private"), "{refused}");
        assert!(receiver.received.lock().unwrap().is_empty(), "nothing reached the loopback receiver");

        // Manual redelivery: due again at once (and refused again, here).
        let id = failed["id"].as_i64().unwrap();
        let again = t.post_json(&format!("/v1/webhooks/{hook}/deliveries/{id}/retry"), json!({})).await;
        assert_eq!(again.status, 202, "{}", again.body);
        for _ in 0..100 {
            let now = deliveries(&t, hook).await;
            if now.iter().any(|d| d["id"] == json!(id) && d["attempts"] == 2) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let now = deliveries(&t, hook).await;
        let retried = now.iter().find(|d| d["id"] == json!(id)).unwrap();
        assert_eq!(retried["attempts"], 2, "{retried}");
        assert!(lobby > 0);
    }
}

#[actix_web::test]
async fn a_re_enabled_webhook_skips_what_happened_while_it_was_off() {
    for t in TestApp::each_with(settings(&["127.0.0.1"])).await {
        dispatch(&t);
        let receiver = receiver(vec![]);
        let (hook, _) = make_hook(&t, json!({"url": receiver.url, "events": ["message.created"]})).await;
        let patch = |enabled: bool| {
            TestRequest::patch().uri(&format!("/v1/webhooks/{hook}")).set_json(json!({"enabled": enabled}))
        };
        assert_eq!(t.call(patch(false)).await.status, 200);
        let lobby = channel(&t, "wh-paused").await;
        post_message(&t, lobby, "while off").await;
        // A rotation meanwhile does not undo the PATCH, nor the PATCH the rotation.
        assert_eq!(t.post_json(&format!("/v1/webhooks/{hook}/secret"), json!({})).await.status, 200);
        assert_eq!(t.call(patch(true)).await.status, 200);
        post_message(&t, lobby, "after").await;
        wait_for_status(&t, hook, "DELIVERED").await;
        let bodies: Vec<String> = receiver.received.lock().unwrap().iter().map(|r| r.body.clone()).collect();
        assert!(bodies.iter().all(|b| !b.contains("while off")), "{}: {bodies:?}", t.label());
        assert!(bodies.iter().any(|b| b.contains("after")));
        let got = t.get(&format!("/v1/webhooks/{hook}")).await;
        assert_eq!(got.body["enabled"], true);
        assert!(got.body["previousSecretExpiresTime"].is_string(), "{}", got.body);
    }
}
