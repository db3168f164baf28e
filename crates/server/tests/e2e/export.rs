//! `roost export` round trip: an application exported, imported into an empty Roost through
//! `POST /v1/imports/…`, and exported again gives the same four files.

use super::*;

/// Waits for an import job to end; the job.
fn import(base: &str, app: &str, path: &str, file: &std::path::Path) -> Value {
    let records: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let (status, accepted) = api("POST", &format!("{base}{path}"), app, Some(records));
    assert_eq!(status, 202, "{accepted}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, job) = api("GET", &format!("{base}/v1/jobs/{}", accepted["id"]), app, None);
        if job["state"] == "FINISHED" || job["state"] == "FAILED" {
            return job;
        }
        assert!(Instant::now() < deadline, "the job did not end: {job}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn export(db: &TestDatabase, dir: &std::path::Path, app_id: &str, into: &std::path::Path) -> Value {
    let out = run(roost(db, dir).args(["export", app_id, into.to_str().unwrap(), "--json"]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn post(base: &str, app: &str, path: &str, body: Value) -> Value {
    let (status, answer) = api("POST", &format!("{base}{path}"), app, Some(body));
    assert!(status == 200 || status == 201 || status == 202, "{path}: {status} {answer}");
    answer
}

#[test]
fn an_export_imports_into_another_roost_unchanged() {
    for db in TestDatabase::all() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&db, dir.path(), &[]);
        let app = token(&server.base, &server.printed("client_id:"), &server.printed("client_secret:")).unwrap();
        let app_id = server.printed("application:").rsplit("(id ").next().unwrap().trim_end_matches(')').to_owned();
        let base = server.base.clone();
        for name in ["rt-ann", "rt-ben"] {
            post(
                &base,
                &app,
                "/v1/users",
                json!({"name": name, "displayName": name.to_uppercase(), "isGuest": false,
                "properties": {"team": "blue"}}),
            );
        }
        let room = post(
            &base,
            &app,
            "/v1/channels",
            json!({"type": "PUBLIC", "name": "rt-room", "creator": {"username": "rt-ann"},
            "members": [{"username": "rt-ann"}, {"username": "rt-ben"}], "properties": {"topic": "moving"}}),
        );
        let direct = post(
            &base,
            &app,
            "/v1/channels",
            json!({"type": "DIRECT",
            "members": [{"username": "rt-ann"}, {"username": "rt-ben"}]}),
        );
        // Old history first, then live messages and a reply to one.
        let old = json!([{"type": "TEXT", "user": "rt-ben", "channel": "rt-room", "body": "from 2020",
            "idempotencyKey": "hosted-1", "createdTime": "2020-02-03T04:05:06.789Z"}]);
        let (_, job) = api("POST", &format!("{base}/v1/imports/messages"), &app, Some(old));
        let hello = post(
            &base,
            &app,
            &format!("/v1/channels/{}/messages", room["id"]),
            json!({"type": "TEXT", "body": "hello", "user": {"username": "rt-ann"}, "properties": {"n": 1}}),
        );
        post(
            &base,
            &app,
            &format!("/v1/messages/{}/replies", hello["id"]),
            json!({"type": "TEXT", "body": "hi back", "user": {"username": "rt-ben"}}),
        );
        post(&base, &app, &format!("/v1/channels/{}/messages", room["id"]), json!({"type": "TEXT", "body": "notice"}));
        post(
            &base,
            &app,
            &format!("/v1/channels/{}/messages", direct["id"]),
            json!({"type": "TEXT", "body": "psst", "user": {"username": "rt-ann"}}),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while api("GET", &format!("{base}/v1/jobs/{}", job["id"]), &app, None).1["state"] != "FINISHED" {
            assert!(Instant::now() < deadline, "{}: the history import did not finish", db.label);
            std::thread::sleep(Duration::from_millis(50));
        }

        let exported = tempfile::tempdir().unwrap();
        let counts = export(&db, dir.path(), &app_id, exported.path());
        let records: Vec<u64> = counts.as_array().unwrap().iter().map(|f| f["records"].as_u64().unwrap()).collect();
        assert_eq!(records, [2, 2, 2, 5], "{}: {counts}", db.label);
        let messages = std::fs::read_to_string(exported.path().join("messages.json")).unwrap();
        assert!(messages.contains("\"idempotencyKey\":\"hosted-1\""), "keys kept: {messages}");
        assert!(
            messages.contains("\"channelMembers\":[\"rt-ann\",\"rt-ben\"]"),
            "a direct channel by members: {messages}"
        );

        // Another Roost, empty (SQLite whatever the source): users, channels, then messages.
        let target_dir = tempfile::tempdir().unwrap();
        let target_db = TestDatabase::sqlite();
        let target = Server::start(&target_db, target_dir.path(), &[]);
        let target_app = token(&target.base, &target.printed("client_id:"), &target.printed("client_secret:")).unwrap();
        let target_id = target.printed("application:").rsplit("(id ").next().unwrap().trim_end_matches(')').to_owned();
        for (path, file) in [
            ("/v1/imports/users", "users.json"),
            ("/v1/imports/channels", "channels.json"),
            ("/v1/imports/messages", "messages.json"),
        ] {
            let job = import(&target.base, &target_app, path, &exported.path().join(file));
            assert_eq!((job["state"].as_str(), job["failed"].as_u64()), (Some("FINISHED"), Some(0)), "{file}: {job}");
        }
        let again = tempfile::tempdir().unwrap();
        export(&target_db, target_dir.path(), &target_id, again.path());
        for file in ["users.json", "channels.json", "members.json", "messages.json"] {
            let (before, after) = (
                std::fs::read_to_string(exported.path().join(file)).unwrap(),
                std::fs::read_to_string(again.path().join(file)).unwrap(),
            );
            assert_eq!(before, after, "{}: {file} made the round trip unchanged", db.label);
        }
        target.stop();
        server.stop();
    }
}
