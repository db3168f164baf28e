//! Message imports (issue 24): original times ordering history among live messages, replies
//! before their parents (at any depth), channels by name, bad records reported, re-runs that
//! add nothing, and cursor pages complete across it all.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::jobs::{ended, import_multipart, start_runner};

/// A newest-first export, as hosted ChatKitty pages it: replies come before their parents.
fn history() -> Value {
    json!([
        {"type": "TEXT", "user": "mi-ben", "body": "reply to a reply", "parent": "r1", "idempotencyKey": "r2",
         "createdTime": "2020-01-01T00:00:03Z"},
        {"type": "TEXT", "user": "mi-ann", "body": "a reply", "parent": "m1", "idempotencyKey": "r1",
         "createdTime": "2020-01-01T00:00:02Z"},
        {"type": "TEXT", "user": "mi-ann", "channel": "mi-room", "body": "second", "idempotencyKey": "m2",
         "createdTime": "2020-01-01T00:00:01Z", "properties": {"from": "hosted"}},
        {"type": "SYSTEM_TEXT", "channel": "mi-room", "body": "first", "idempotencyKey": "m1",
         "createdTime": "2020-01-01T00:00:00Z"},
        {"type": "TEXT", "user": "mi-ben", "channel": "mi-room", "body": "same millisecond", "idempotencyKey": "m1b",
         "createdTime": "2020-01-01T00:00:00Z"},
        {"type": "TEXT", "user": "mi-ann", "channel": "no-such-room", "body": "lost", "idempotencyKey": "bad-1"},
        {"type": "TEXT", "user": "mi-ann", "body": "orphan", "parent": "ghost", "idempotencyKey": "bad-2"},
        {"type": "SYSTEM_TEXT", "channel": "mi-room", "body": "oldest, without a key",
         "createdTime": "2019-06-01T12:00:00Z"},
        {"type": "SYSTEM_TEXT", "channel": "mi-room", "body": "to come", "idempotencyKey": "bad-3",
         "createdTime": "2999-01-01T00:00:00Z"},
        {"type": "SYSTEM_TEXT", "channel": "mi-room", "body": "too old for an id", "idempotencyKey": "bad-4",
         "createdTime": "1900-01-01T00:00:00Z"}
    ])
}

/// Every message of a channel's main thread, page by page (`size` each), newest first.
async fn walk(t: &TestApp, channel: &Value, size: u32) -> Vec<Value> {
    let mut all = Vec::new();
    let mut uri = format!("/v1/channels/{channel}/messages?size={size}");
    loop {
        let page = t.get(&uri).await;
        assert_eq!(page.status, 200, "{}", page.body);
        all.extend(page.body["_embedded"]["messages"].as_array().cloned().unwrap_or_default());
        match page.body["_links"]["next"]["href"].as_str() {
            Some(next) => uri = next[next.find("/v1/").unwrap()..].to_owned(),
            None => return all,
        }
    }
}

fn bodies(messages: &[Value]) -> Vec<&str> {
    messages.iter().map(|m| m["body"].as_str().unwrap()).collect()
}

#[actix_web::test]
async fn history_keeps_its_times_senders_and_replies_among_live_messages() {
    for t in TestApp::each().await {
        start_runner(&t);
        t.create_user("mi-ann").await;
        t.create_user("mi-ben").await;
        let channel = t
            .post_json(
                "/v1/channels",
                json!({"type": "PUBLIC", "name": "mi-room", "members": [{"username": "mi-ann"}]}),
            )
            .await
            .body["id"]
            .clone();
        let live = t
            .post_json(
                &format!("/v1/channels/{channel}/messages"),
                json!({"type": "TEXT", "body": "live", "user": {"username": "mi-ann"}}),
            )
            .await;
        assert_eq!(live.status, 200, "{}", live.body);

        let accepted = import_multipart(&t, "/v1/imports/messages", &history()).await;
        assert_eq!(accepted.body["type"], "MESSAGE_IMPORT", "{}", accepted.body);
        let job = ended(&t, &accepted).await;
        assert_eq!(job["state"], "FINISHED", "{job}");
        assert_eq!((job["processed"].as_u64(), job["failed"].as_u64()), (Some(10), Some(4)), "{job}");
        let failed: Vec<(&Value, &Value)> =
            job["errors"].as_array().unwrap().iter().map(|e| (&e["index"], &e["idempotencyKey"])).collect();
        // The orphan is known to be one only once the whole file has been read: last.
        let expected = [(5, "bad-1"), (8, "bad-3"), (9, "bad-4"), (6, "bad-2")].map(|(i, k)| (json!(i), json!(k)));
        assert_eq!(failed, expected.iter().map(|(i, k)| (i, k)).collect::<Vec<_>>(), "{job}");
        let reasons: Vec<&str> =
            job["errors"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
        assert!(reasons[0].contains("no-such-room") && reasons[3].contains("ghost"), "{reasons:?}");
        assert!(reasons[1].contains("future") && reasons[2].contains("1955"), "{reasons:?}");

        // Old messages that came after a new one sit in their place, pages of 2 as of 25.
        let whole = walk(&t, &channel, 25).await;
        assert_eq!(
            bodies(&whole),
            ["live", "second", "same millisecond", "first", "oldest, without a key"],
            "{}",
            t.label()
        );
        assert_eq!(walk(&t, &channel, 2).await, whole, "{}: pages of 2 miss nothing", t.label());
        let second = &whole[1];
        assert_eq!(second["createdTime"], "2020-01-01T00:00:01.000Z", "{second}");
        assert_eq!(second["properties"]["from"], "hosted");
        assert_eq!(second["type"], "TEXT");
        assert_eq!(whole[3]["type"], "SYSTEM_TEXT");
        // Ids from the original time: before the id layout's 2025 epoch, negative, exact in JS.
        let ids: Vec<i64> = whole.iter().map(|m| m["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]) && ids[1] < 0, "{ids:?}");
        // Unread for a member who has read nothing: history before 2025 too (negative ids).
        let ann = t.get("/v1/users?name=mi-ann").await.body["_embedded"]["users"][0]["id"].clone();
        let unread = t.get(&format!("/v1/users/{ann}/messages/unread/count")).await;
        assert!(unread.body["count"].as_i64().unwrap() >= 3, "{}: {}", t.label(), unread.body);
        let one = t.get(&format!("/v1/messages/{}", ids[1])).await;
        assert_eq!((one.status.as_u16(), one.body["body"].as_str()), (200, Some("second")), "{}", one.body);

        // The reply and the reply to it, in their threads.
        let first = &whole[3];
        assert_eq!(first["repliesCount"], 1, "{first}");
        let replies = t.get(&format!("/v1/messages/{}/replies", first["id"])).await;
        let reply = &replies.body["_embedded"]["messages"][0];
        assert_eq!((reply["body"].as_str(), reply["nestedLevel"].as_i64()), (Some("a reply"), Some(1)), "{reply}");
        let deeper = t.get(&format!("/v1/messages/{}/replies", reply["id"])).await;
        let deeper = &deeper.body["_embedded"]["messages"][0];
        assert_eq!(deeper["body"], "reply to a reply", "{deeper}");
        assert_eq!(deeper["nestedLevel"], 2);

        // The same file again, as a JSON body: nothing new.
        let again = ended(&t, &t.post_json("/v1/imports/messages", history()).await).await;
        assert_eq!((again["state"].as_str(), again["failed"].as_u64()), (Some("FINISHED"), Some(4)), "{again}");
        assert_eq!(walk(&t, &channel, 25).await.len(), 5, "{}: a re-run adds nothing", t.label());
        let first = t.get(&format!("/v1/messages/{}", ids[3])).await;
        assert_eq!(first.body["repliesCount"], 1, "{}", first.body);
    }
}

/// A node that died after reading the whole file, with a reply still waiting for its parent,
/// leaves the reply kept in the store: the node that takes the job up applies it.
#[actix_web::test]
async fn replies_kept_for_later_survive_the_node_that_read_them() {
    for t in TestApp::each().await {
        t.create_user("kd-ann").await;
        let channel =
            t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": "kd-room"})).await.body["id"].clone();
        let records = json!([
            {"user": "kd-ann", "body": "the reply", "parent": "kd-1", "idempotencyKey": "kd-2",
             "createdTime": "2022-05-06T07:08:10Z"},
            {"user": "kd-ann", "channel": "kd-room", "body": "the parent", "idempotencyKey": "kd-1",
             "createdTime": "2022-05-06T07:08:09Z"}
        ]);
        let accepted = t.post_json("/v1/imports/messages", records.clone()).await;
        assert_eq!(accepted.status, 202, "{}", accepted.body);
        // The dead node: it read the reply in one batch (kept: no parent yet), then the parent,
        // saved its checkpoint at the end of the file, and died.
        let service = &t.state.service;
        let lapsed = roost_domain::now() - chrono::Duration::seconds(1);
        let mut job = service.claim_job(7, lapsed).unwrap().expect("the job is due");
        for index in 0..2 {
            let record = roost_domain::model::job::ImportRecord { index, value: records[index as usize].clone() };
            assert_eq!(service.apply_import(&job, &[record]).unwrap(), Vec::new());
        }
        job.processed = 2;
        assert!(service.save_job(&job, lapsed, lapsed).unwrap());
        let page = t.get(&format!("/v1/channels/{channel}/messages")).await;
        let parent = page.body["_embedded"]["messages"][0].clone();
        assert_eq!((parent["body"].as_str(), parent["repliesCount"].as_i64()), (Some("the parent"), Some(0)));

        start_runner(&t);
        let ended = ended(&t, &accepted).await;
        assert_eq!((ended["state"].as_str(), ended["failed"].as_u64()), (Some("FINISHED"), Some(0)), "{ended}");
        let replies = t.get(&format!("/v1/messages/{}/replies", parent["id"])).await;
        assert_eq!(replies.body["_embedded"]["messages"][0]["body"], "the reply", "{}: {}", t.label(), replies.body);
        assert_eq!(t.get(&format!("/v1/messages/{}", parent["id"])).await.body["repliesCount"], 1);
    }
}

/// A message import given up (five runs in a row without progress) keeps none of its replies
/// waiting for a parent: they would never be read again.
#[actix_web::test]
async fn a_given_up_import_keeps_no_replies_for_later() {
    for t in TestApp::each().await {
        t.create_user("gk-ann").await;
        let records = json!([
            {"user": "gk-ann", "body": "a reply", "parent": "gk-1", "idempotencyKey": "gk-2"},
            {"user": "gk-ann", "body": "another", "parent": "gk-1", "idempotencyKey": "gk-3"}
        ]);
        let accepted = t.post_json("/v1/imports/messages", records.clone()).await;
        assert_eq!(accepted.status, 202, "{}", accepted.body);
        // A node read the first record (kept: its parent is not there) and saved that much.
        let service = &t.state.service;
        let lapsed = roost_domain::now() - chrono::Duration::seconds(1);
        let mut job = service.claim_job(7, lapsed).unwrap().expect("the job is due");
        let record = roost_domain::model::job::ImportRecord { index: 0, value: records[0].clone() };
        assert_eq!(service.apply_import(&job, &[record]).unwrap(), Vec::new());
        job.processed = 1;
        assert!(service.save_job(&job, lapsed, lapsed).unwrap());
        assert_eq!(service.deferred_import_records(&job, None, 10).unwrap().len(), 1, "kept for later");
        // Then nodes that died before their next checkpoint, until the job is given up.
        for _ in 0..roost_domain::model::job::MAX_JOB_ATTEMPTS + 1 {
            assert!(service.claim_job(7, lapsed).unwrap().is_some(), "the job is due again");
        }
        start_runner(&t);
        let ended = ended(&t, &accepted).await;
        assert_eq!(ended["state"], "FAILED", "{ended}");
        assert!(ended["errors"][0]["reason"].as_str().unwrap().contains("given up"), "{ended}");
        assert!(service.deferred_import_records(&job, None, 10).unwrap().is_empty(), "{}", t.label());
    }
}
