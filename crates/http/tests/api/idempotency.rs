//! `Idempotency-Key` on POSTs: replay of the first answer, 422 for another request under the same
//! key, one execution for concurrent repeats, also across two nodes on one database.

use std::sync::Arc;

use actix_web::test::{self, TestRequest};
use actix_web::web;
use futures_util::future::join_all;
use roost_auth::SecretHasher;
use roost_domain::ports::Ports;
use roost_domain::IdGenerator;
use roost_http::{AppState, HttpSettings};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

fn keyed(uri: &str, key: &str, body: Value) -> TestRequest {
    TestRequest::post().uri(uri).insert_header(("idempotency-key", key)).set_json(body)
}

async fn messages_in(t: &TestApp, channel: &Value) -> Vec<Value> {
    let page = t.get(&format!("/v1/channels/{}/messages", channel["id"])).await;
    page.body["_embedded"]["messages"].as_array().cloned().unwrap_or_default()
}

async fn channel(t: &TestApp, name: &str) -> Value {
    let made = t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": name})).await;
    assert_eq!(made.status, 200, "{}", made.body);
    made.body
}

fn same_answer(first: &Reply, again: &Reply) {
    assert_eq!(again.status, first.status);
    assert_eq!(again.raw, first.raw, "the body as first sent");
    for name in ["content-type", "etag"] {
        assert_eq!(again.header(name), first.header(name), "{name}");
    }
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.header("idempotent-replayed"), None);
}

/// A repeat gets the first answer and changes nothing; another request under the key is a 422;
/// answers that are errors are kept too; keys are per application.
#[actix_web::test]
async fn a_repeat_gets_the_first_answer() {
    for t in TestApp::each().await {
        let first = t.call(keyed("/v1/users", "key-1", json!({"name": "idem-jane"}))).await;
        assert_eq!(first.status, 200, "{}", first.body);
        let again = t.call(keyed("/v1/users", "key-1", json!({"name": "idem-jane"}))).await;
        same_answer(&first, &again);
        let listed = t.get("/v1/users?name=idem-jane").await;
        assert_eq!(listed.body["page"]["totalElements"], 1, "one user: {}", listed.body);

        for (uri, body) in
            [("/v1/users", json!({"name": "idem-other"})), ("/v1/channels", json!({"name": "idem-jane"}))]
        {
            let refused = t.call(keyed(uri, "key-1", body)).await;
            assert_eq!(refused.status, 422, "{uri}: {}", refused.body);
            assert_eq!(refused.body["error"], "IDEMPOTENCY_KEY_REUSED");
        }

        // An error answer is the answer: kept and replayed.
        let invalid = t.call(keyed("/v1/users", "key-2", json!({"displayName": "no name"}))).await;
        assert_eq!(invalid.status, 400, "{}", invalid.body);
        same_answer(&invalid, &t.call(keyed("/v1/users", "key-2", json!({"displayName": "no name"}))).await);

        // Another application's key space is its own.
        let (_, other_token) = t.other_application().await;
        let theirs = t
            .send(
                keyed("/v1/users", "key-1", json!({"name": "idem-jane"}))
                    .insert_header(("authorization", format!("Bearer {other_token}"))),
            )
            .await;
        assert_eq!(theirs.status, 200, "{}", theirs.body);
        assert_eq!(theirs.header("idempotent-replayed"), None);

        for bad in ["has space", ""] {
            let refused = t.call(keyed("/v1/users", bad, json!({"name": "idem-bad"}))).await;
            assert_eq!(refused.status, 400, "{bad:?}: {}", refused.body);
        }
        // Without a key, nothing changes: two posts, two users.
        let no_key = t.post_json("/v1/users", json!({"name": "idem-free"})).await;
        assert_eq!(no_key.status, 200);
    }
}

/// Repeats sent while the first still runs wait for its answer: one message, five answers.
#[actix_web::test]
async fn concurrent_repeats_run_once() {
    for t in TestApp::each().await {
        let room = channel(&t, "idem-room").await;
        let uri = format!("/v1/channels/{}/messages", room["id"]);
        let sends = (0..5).map(|_| t.call(keyed(&uri, "send-1", json!({"type": "TEXT", "body": "once"}))));
        let replies = join_all(sends).await;
        let ids: Vec<&Value> = replies.iter().map(|r| &r.body["id"]).collect();
        assert!(replies.iter().all(|r| r.status == 200), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
        assert!(ids.iter().all(|id| *id == ids[0]), "one message id: {ids:?}");
        assert_eq!(replies.iter().filter(|r| r.header("idempotent-replayed").is_none()).count(), 1);
        assert_eq!(messages_in(&t, &room).await.len(), 1, "{}", t.label());
    }
}

/// Two nodes over one database (two pools, two states): a key used on one is replayed by the
/// other, and repeats sent to both at once run once.
#[actix_web::test]
async fn two_nodes_share_the_keys() {
    for t in TestApp::each().await {
        let ids = Arc::new(IdGenerator::new(2).unwrap());
        let store = Arc::new(t.db.store_with_ids(ids.clone()));
        let hasher = Arc::new(SecretHasher::for_tests().unwrap());
        let node_b =
            web::Data::new(AppState::new(Ports::from_store(store), ids, hasher, HttpSettings::default()).unwrap());
        let on_b = |req: TestRequest| {
            let state = node_b.clone();
            let req = req.insert_header(("authorization", format!("Bearer {}", t.token)));
            async move {
                let service = test::init_service(roost_http::app(state)).await;
                let response = test::call_service(&service, req.to_request()).await;
                let status = response.status();
                let replayed = response.headers().get("idempotent-replayed").is_some();
                let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap_or(Value::Null);
                (status.as_u16(), replayed, body)
            }
        };
        let room = channel(&t, "idem-nodes").await;
        let uri = format!("/v1/channels/{}/messages", room["id"]);
        let first = t.call(keyed(&uri, "node-1", json!({"type": "TEXT", "body": "a"}))).await;
        let (status, replayed, body) = on_b(keyed(&uri, "node-1", json!({"type": "TEXT", "body": "a"}))).await;
        assert_eq!((status, replayed), (200, true), "{}: {body}", t.label());
        assert_eq!(body["id"], first.body["id"]);

        let request = || keyed(&uri, "node-2", json!({"type": "TEXT", "body": "b"}));
        let (a, b) = futures_util::future::join(t.call(request()), on_b(request())).await;
        assert_eq!((a.status.as_u16(), b.0), (200, 200), "{} / {}", a.body, b.2);
        assert_eq!(a.body["id"], b.2["id"], "one message for both nodes");
        assert_eq!(messages_in(&t, &room).await.len(), 2, "{}", t.label());
    }
}
