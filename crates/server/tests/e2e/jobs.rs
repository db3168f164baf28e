//! An import survives `kill -9`: the restarted node takes its job up from the last checkpoint
//! and every record is applied once.

use super::*;

fn job(base: &str, app: &str, id: i64) -> Value {
    let (status, job) = api("GET", &format!("{base}/v1/jobs/{id}"), app, None);
    assert_eq!(status, 200, "{job}");
    job
}

#[test]
fn an_import_killed_half_way_resumes_after_a_restart_and_applies_each_record_once() {
    for db in TestDatabase::all() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&db, dir.path(), &[("ROOST_NODE_ID", "3")]);
        let (id, secret) = (server.printed("client_id:"), server.printed("client_secret:"));
        let app = token(&server.base, &id, &secret).unwrap();
        let records: Vec<Value> = (0..4_000)
            .map(|n| json!({"name": format!("k9-{n}"), "displayName": format!("K {n}"), "guest": false, "properties": {}}))
            .collect();
        let (status, accepted) = api("POST", &format!("{}/v1/imports/users", server.base), &app, Some(json!(records)));
        assert_eq!(status, 202, "{accepted}");
        let job_id = accepted["id"].as_i64().unwrap();
        // Killed once part of it is applied (or, on a fast machine, after it ended: then the
        // restart has nothing to do, and what follows holds all the same).
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let seen = job(&server.base, &app, job_id);
            if seen["processed"].as_u64().unwrap_or(0) >= 500 || seen["state"] == "FINISHED" {
                break;
            }
            assert!(Instant::now() < deadline, "{}: the job does not progress: {seen}", db.label);
            std::thread::sleep(Duration::from_millis(20));
        }
        let at_kill = job(&server.base, &app, job_id);
        eprintln!("{}: killed at {} of 4000 ({})", db.label, at_kill["processed"], at_kill["state"]);
        Command::new("kill").args(["-9", &server.child.id().to_string()]).status().unwrap();
        drop(server.stop_after_signal());

        let restarted = Server::start(&db, dir.path(), &[("ROOST_NODE_ID", "3")]);
        let deadline = Instant::now() + Duration::from_secs(300);
        let ended = loop {
            let seen = job(&restarted.base, &app, job_id);
            if seen["state"] != "RUNNING" && seen["state"] != "PENDING" {
                break seen;
            }
            assert!(Instant::now() < deadline, "{}: the job was not taken up: {seen}", db.label);
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(ended["state"], "FINISHED", "{}: {ended}", db.label);
        assert_eq!((ended["processed"].as_u64(), ended["failed"].as_u64()), (Some(4_000), Some(0)), "{ended}");
        let (_, users) = api("GET", &format!("{}/v1/users?size=1", restarted.base), &app, None);
        assert_eq!(users["page"]["totalElements"], 4_000, "{}: each record applied once", db.label);
        restarted.stop();
    }
}
