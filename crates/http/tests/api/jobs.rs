//! Imports as jobs (issue 24): users, channels and members from multipart files and JSON
//! bodies, bad records reported without stopping the job, re-runs that add nothing, a file that
//! is no JSON array, and a job taken over from its checkpoint after its node died.

use std::time::Duration;

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

const BOUNDARY: &str = "jobs-boundary";

/// Starts this Roost's job runner (the server starts it at start-up).
pub(crate) fn start_runner(t: &TestApp) {
    actix_web::rt::spawn(roost_http::jobs::run(t.state.clone()));
}

/// A multipart body whose `file` part holds `records`, as the official clients send it.
fn multipart(records: &Value) -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"records.json\"\r\n\
         Content-Type: application/json\r\n\r\n{records}\r\n--{BOUNDARY}--\r\n"
    )
    .into_bytes()
}

pub(crate) async fn import_multipart(t: &TestApp, path: &str, records: &Value) -> Reply {
    t.call(
        TestRequest::post()
            .uri(path)
            .insert_header(("content-type", format!("multipart/form-data; boundary={BOUNDARY}")))
            .set_payload(multipart(records)),
    )
    .await
}

/// Waits for a job to end; the job.
pub(crate) async fn ended(t: &TestApp, accepted: &Reply) -> Value {
    assert_eq!(accepted.status, 202, "{}: {}", t.label(), accepted.body);
    let id = accepted.body["id"].as_i64().unwrap();
    for _ in 0..600 {
        let job = t.get(&format!("/v1/jobs/{id}")).await;
        assert_eq!(job.status, 200, "{}", job.body);
        if matches!(job.body["state"].as_str(), Some("FINISHED" | "FAILED")) {
            return job.body;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{}: job {id} did not end", t.label());
}

fn users() -> Value {
    json!([
        {"name": "im-ann", "displayName": "Ann", "guest": false, "properties": {"from": "hosted"},
         "idempotencyKey": "u-0", "createdTime": "2021-03-04T05:06:07Z"},
        {"name": "im-ben", "displayName": "Ben", "isGuest": true, "properties": {},
         "displayPicture": {"url": "https://example.com/ben.png", "name": "ben.png", "contentType": "image/png", "size": 10}},
        {"displayName": "no name", "guest": false, "properties": {}, "idempotencyKey": "u-2"},
        {"name": "im-cat", "displayName": "Cat", "guest": false, "properties": {}}
    ])
}

async fn user_count(t: &TestApp) -> i64 {
    t.get("/v1/users?size=1").await.body["page"]["totalElements"].as_i64().unwrap()
}

#[actix_web::test]
async fn users_channels_and_members_import_as_jobs_and_again_without_duplicates() {
    for t in TestApp::each().await {
        start_runner(&t);
        let accepted = import_multipart(&t, "/v1/imports/users", &users()).await;
        assert_eq!(
            (accepted.body["type"].as_str(), accepted.body["state"].as_str()),
            (Some("USER_IMPORT"), Some("PENDING"))
        );
        assert!(accepted.body["_links"]["self"]["href"].as_str().unwrap().contains("/v1/jobs/"));
        let job = ended(&t, &accepted).await;
        assert_eq!(job["state"], "FINISHED", "{job}");
        assert_eq!((job["processed"].as_u64(), job["failed"].as_u64()), (Some(4), Some(1)), "{job}");
        assert_eq!(job["errors"][0]["index"], 2, "{job}");
        assert_eq!(job["errors"][0]["idempotencyKey"], "u-2");
        assert!(job["errors"][0]["reason"].as_str().unwrap().contains("name"), "{job}");
        assert!(job["endedTime"].is_string());

        let ann = &t.get("/v1/users?name=im-ann").await.body["_embedded"]["users"][0];
        assert_eq!(ann["properties"]["from"], "hosted");
        // A user's representation has no time: the store says it was kept.
        let stored =
            roost_domain::ports::UserStore::find_user_by_name(t.store.as_ref(), t.app.application.id, "im-ann");
        let created = stored.unwrap().unwrap().created_time;
        assert_eq!(created.to_rfc3339(), "2021-03-04T05:06:07+00:00", "the original time is kept");
        let ben = &t.get("/v1/users?name=im-ben").await.body["_embedded"]["users"][0];
        assert_eq!(
            (ben["isGuest"].as_bool(), ben["displayPictureUrl"].as_str()),
            (Some(true), Some("https://example.com/ben.png")),
            "{ben}"
        );
        let before = user_count(&t).await;

        // The same records again, as a plain JSON body: nothing new.
        let again = t.post_json("/v1/imports/users", users()).await;
        let job = ended(&t, &again).await;
        assert_eq!((job["state"].as_str(), job["failed"].as_u64()), (Some("FINISHED"), Some(1)), "{job}");
        assert_eq!(user_count(&t).await, before, "{}: a re-run creates no duplicates", t.label());

        // Channels, by name and direct, with members by name; then again.
        let channels = json!([
            {"type": "PUBLIC", "name": "im-lobby", "displayName": "Lobby", "creator": "im-ann", "members": ["im-cat"],
             "properties": {}, "createdTime": "2021-03-05T00:00:00Z"},
            {"type": "DIRECT", "members": ["im-ann", "im-ben"]},
            {"type": "GROUP", "members": []},
            {"type": "PRIVATE", "name": "im-team", "members": ["im-ann", "nobody-here"]}
        ]);
        for _ in 0..2 {
            let job = ended(&t, &import_multipart(&t, "/v1/imports/channels", &channels).await).await;
            assert_eq!((job["processed"].as_u64(), job["failed"].as_u64()), (Some(4), Some(2)), "{job}");
            let indexes: Vec<&Value> = job["errors"].as_array().unwrap().iter().map(|e| &e["index"]).collect();
            assert_eq!(indexes, [&json!(2), &json!(3)], "{job}");
        }
        let listed = t.get("/v1/channels?size=100").await.body;
        let names: Vec<&str> = listed["_embedded"]["channels"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .filter(|n| n.starts_with("im-"))
            .collect();
        assert_eq!(names, ["im-lobby"], "{}: one of each, the bad one not made", t.label());
        let lobby =
            &listed["_embedded"]["channels"].as_array().unwrap().iter().find(|c| c["name"] == "im-lobby").unwrap();
        assert_eq!(lobby["createdTime"], "2021-03-05T00:00:00.000Z");
        let directs =
            listed["_embedded"]["channels"].as_array().unwrap().iter().filter(|c| c["type"] == "DIRECT").count();
        assert_eq!(directs, 1);

        // Members of a channel.
        let members = json!([{"username": "im-ben"}, {"username": "nobody-here", "idempotencyKey": "m-1"}, {"username": "im-cat"}]);
        let path = format!("/v1/imports/channels/{}/members", lobby["id"]);
        let job = ended(&t, &import_multipart(&t, &path, &members).await).await;
        assert_eq!((job["type"].as_str(), job["failed"].as_u64()), (Some("CHANNEL_MEMBERS_IMPORT"), Some(1)), "{job}");
        assert_eq!(job["errors"][0]["idempotencyKey"], "m-1");
        let in_lobby = t.get(&format!("/v1/channels/{}/members", lobby["id"])).await.body;
        assert_eq!(in_lobby["page"]["totalElements"], 3, "{in_lobby}");

        // The jobs, newest first, all ended.
        let jobs = t.get("/v1/jobs").await.body;
        assert_eq!(jobs["page"]["totalElements"], 5, "{jobs}");
        assert_eq!(jobs["_embedded"]["jobs"][0]["type"], "CHANNEL_MEMBERS_IMPORT");
        assert_eq!(t.get("/v1/jobs?running=true").await.body["page"]["totalElements"], 0);
        assert_eq!(t.get("/v1/jobs?running=false").await.body["page"]["totalElements"], 5);
        assert_eq!(t.get("/v1/jobs?running=maybe").await.status, 400);
        assert_eq!(t.get("/v1/jobs/12345").await.status, 404);
        assert_eq!(t.stored_files().await, 0, "{}: an ended job's input is removed", t.label());
    }
}

#[actix_web::test]
async fn what_is_not_an_import_is_refused_or_fails_saying_why() {
    for t in TestApp::each().await {
        start_runner(&t);
        let not_an_array = t.post_json("/v1/imports/users", json!({"name": "one"})).await;
        let job = ended(&t, &not_an_array).await;
        assert_eq!(job["state"], "FAILED", "{job}");
        assert!(job["errors"][0].get("index").is_none(), "the job's own reason has no index: {job}");
        assert!(job["errors"][0]["reason"].as_str().unwrap().contains("not a JSON array"), "{job}");

        // A file broken half-way: what came before it is applied and counted.
        let broken = t
            .call(
                TestRequest::post()
                    .uri("/v1/imports/users")
                    .insert_header(("content-type", "application/json"))
                    .set_payload(
                        r#"[{"name": "br-one", "displayName": "One", "guest": false, "properties": {}}, {"na"#,
                    ),
            )
            .await;
        let job = ended(&t, &broken).await;
        assert_eq!((job["state"].as_str(), job["processed"].as_u64()), (Some("FAILED"), Some(1)), "{job}");
        assert_eq!(t.get("/v1/users?name=br-one").await.body["page"]["totalElements"], 1);

        let no_file = t
            .call(
                TestRequest::post()
                    .uri("/v1/imports/users")
                    .insert_header(("content-type", format!("multipart/form-data; boundary={BOUNDARY}")))
                    .set_payload(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\n[]\r\n--{BOUNDARY}--\r\n")),
            )
            .await;
        assert_eq!(no_file.status, 400, "{}", no_file.body);
        assert_eq!(t.post_json("/v1/imports/channels/1/members", json!([])).await.status, 404);
        assert_eq!(t.stored_files().await, 0, "{}: nothing is kept of refused or ended imports", t.label());
    }
}

/// A node that died while running a job leaves it `RUNNING` under a lease that runs out; the
/// next node takes it up from its last checkpoint (records before it are not applied again).
#[actix_web::test]
async fn a_job_whose_node_died_is_taken_up_from_its_checkpoint() {
    for t in TestApp::each().await {
        let records = json!([
            {"name": "ck-0", "displayName": "0", "guest": false, "properties": {}},
            {"name": "ck-1", "displayName": "1", "guest": false, "properties": {}},
            {"name": "ck-2", "displayName": "2", "guest": false, "properties": {}}
        ]);
        let accepted = t.post_json("/v1/imports/users", records).await;
        assert_eq!(accepted.status, 202);
        // The dead node: it took the job, saved a checkpoint after two records, and stopped
        // renewing a lease that has now run out.
        let service = &t.state.service;
        let lapsed = roost_domain::now() - chrono::Duration::seconds(1);
        let mut job = service.claim_job(7, lapsed).unwrap().expect("the job is due");
        job.processed = 2;
        assert!(service.save_job(&job, lapsed, lapsed).unwrap());

        start_runner(&t);
        let job = ended(&t, &accepted).await;
        assert_eq!((job["state"].as_str(), job["processed"].as_u64()), (Some("FINISHED"), Some(3)), "{job}");
        for (name, present) in [("ck-0", 0), ("ck-1", 0), ("ck-2", 1)] {
            let found = t.get(&format!("/v1/users?name={name}")).await.body["page"]["totalElements"].clone();
            assert_eq!(found, present, "{}: {name}", t.label());
        }
    }
}

/// A message analytics export is a job whose `file` is a CSV of every message, newest first.
#[actix_web::test]
async fn message_analytics_export_as_a_csv_file() {
    for t in TestApp::each().await {
        start_runner(&t);
        t.create_user("ex-ann").await;
        let channel =
            t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": "ex-room"})).await.body["id"].clone();
        for body in ["first", "with, a comma", "say \"hi\"\nbye"] {
            let sent = t
                .post_json(
                    &format!("/v1/channels/{channel}/messages"),
                    json!({"type": "TEXT", "body": body, "user": {"username": "ex-ann"}}),
                )
                .await;
            assert_eq!(sent.status, 200, "{}", sent.body);
        }
        let accepted = t.call(TestRequest::post().uri("/v1/analytics/messages")).await;
        assert_eq!(accepted.body["type"], "MESSAGE_ANALYTICS_EXPORT", "{}", accepted.body);
        let job = ended(&t, &accepted).await;
        assert_eq!((job["state"].as_str(), job["processed"].as_u64()), (Some("FINISHED"), Some(3)), "{job}");
        let url = job["file"].as_str().unwrap();
        let path = &url[url.find("/v1/files/").unwrap()..];
        let csv = t.send(TestRequest::get().uri(path)).await;
        assert_eq!(csv.status, 200);
        assert_eq!(csv.header("content-type"), Some("text/csv"));
        let text = String::from_utf8(csv.raw.clone()).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "id,type,channelId,channelName,userId,username,body,groupTag,parentId,createdTime");
        assert!(
            lines[1].contains(",TEXT,") && lines[1].contains(",ex-room,") && lines[1].contains(",ex-ann,"),
            "{text}"
        );
        assert!(lines[1].contains(",\"say \"\"hi\"\"\nbye\","), "newest first, quoted: {text}");
        assert!(lines[2].contains(",\"with, a comma\","), "{text}");
        assert!(lines[3].contains(",first,"), "{text}");
        // The sweep keeps it: its job refers to it.
        assert_eq!(t.state.service.mark_unreferenced_files().unwrap(), 0);
        assert_eq!(t.send(TestRequest::get().uri(path)).await.status, 200);
    }
}

/// A user analytics export: a CSV of every user by id, its job `USER_IMPORT` by the spec's
/// example and `USER_ANALYTICS_EXPORT` by Roost's `kind`.
#[actix_web::test]
async fn user_analytics_export_as_a_csv_file() {
    for t in TestApp::each().await {
        start_runner(&t);
        t.create_user("ux-ann").await;
        let ben = t
            .post_json(
                "/v1/users",
                json!({"name": "ux-ben", "displayName": "Ben, \"B\"", "isGuest": true, "properties": {"a": 1}}),
            )
            .await;
        assert_eq!(ben.status, 200, "{}", ben.body);
        let accepted = t.call(TestRequest::post().uri("/v1/analytics/users")).await;
        assert_eq!(
            (accepted.body["type"].as_str(), accepted.body["kind"].as_str()),
            (Some("USER_IMPORT"), Some("USER_ANALYTICS_EXPORT"))
        );
        let job = ended(&t, &accepted).await;
        assert_eq!((job["state"].as_str(), job["processed"].as_u64()), (Some("FINISHED"), Some(2)), "{job}");
        let url = job["file"].as_str().unwrap();
        let csv = t.send(TestRequest::get().uri(&url[url.find("/v1/files/").unwrap()..])).await;
        assert_eq!((csv.status.as_u16(), csv.header("content-type")), (200, Some("text/csv")));
        let text = String::from_utf8(csv.raw.clone()).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "id,name,displayName,isGuest,online,createdTime,properties");
        assert!(lines[1].contains(",ux-ann,") && lines[1].contains(",false,false,"), "{text}");
        assert!(lines[2].contains(",ux-ben,\"Ben, \"\"B\"\"\",true,false,"), "{text}");
        assert!(lines[2].ends_with(",\"{\"\"a\"\":1}\""), "{text}");
    }
}

/// `members.json` as `roost export` writes it names each record's channel: sent to one
/// channel, the records of another are errors, never members added to the wrong channel.
#[actix_web::test]
async fn member_records_for_another_channel_are_errors() {
    for t in TestApp::each().await {
        start_runner(&t);
        t.create_user("mc-ann").await;
        t.create_user("mc-ben").await;
        let general =
            t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": "mc-general"})).await.body["id"].clone();
        let records = json!([
            {"channel": "mc-general", "username": "mc-ann"},
            {"channel": "mc-random", "username": "mc-ben"},
            {"username": "mc-ben"}
        ]);
        let job =
            ended(&t, &import_multipart(&t, &format!("/v1/imports/channels/{general}/members"), &records).await).await;
        assert_eq!((job["processed"].as_u64(), job["failed"].as_u64()), (Some(3), Some(1)), "{job}");
        assert_eq!(job["errors"][0]["index"], 1, "{job}");
        assert!(job["errors"][0]["reason"].as_str().unwrap().contains("mc-random"), "{job}");
        let members = t.get(&format!("/v1/channels/{general}/members")).await;
        assert_eq!(members.body["page"]["totalElements"], 2, "{}: {}", t.label(), members.body);
    }
}

/// A job whose runs keep ending without progress (its nodes die, or the store fails on the same
/// batch) is given up as FAILED with the reason, never retried for ever.
#[actix_web::test]
async fn a_job_that_never_progresses_is_given_up() {
    for t in TestApp::each().await {
        let records = json!([{"name": "gu-0", "displayName": "0", "guest": false, "properties": {}}]);
        let accepted = t.post_json("/v1/imports/users", records).await;
        assert_eq!(accepted.status, 202);
        // Nodes that took it and died before their first checkpoint, one after another.
        let service = &t.state.service;
        for _ in 0..roost_domain::model::job::MAX_JOB_ATTEMPTS + 1 {
            let lapsed = roost_domain::now() - chrono::Duration::seconds(1);
            assert!(service.claim_job(7, lapsed).unwrap().is_some(), "the job is due again");
        }
        start_runner(&t);
        let job = ended(&t, &accepted).await;
        assert_eq!((job["state"].as_str(), job["processed"].as_u64()), (Some("FAILED"), Some(0)), "{job}");
        let reason = job["errors"][0]["reason"].as_str().unwrap();
        assert!(job["errors"][0].get("index").is_none() && reason.contains("given up after 5 runs"), "{job}");
        assert_eq!(t.get("/v1/users?name=gu-0").await.body["page"]["totalElements"], 0, "{}", t.label());
    }
}
