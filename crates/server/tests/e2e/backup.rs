//! `roost backup` on a live SQLite database: taken while writers go on, restored by putting the
//! file where a server reads its database, it holds every message acknowledged before it began.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::*;

/// Every message body of a channel, following the pages' `next` links.
fn bodies(base: &str, token: &str, channel: i64) -> Vec<String> {
    let mut found = Vec::new();
    let mut next = Some(format!("{base}/v1/channels/{channel}/messages?size=100"));
    while let Some(url) = next {
        let (status, page) = api("GET", &url, token, None);
        assert_eq!(status, 200, "{page}");
        for message in page["_embedded"]["messages"].as_array().into_iter().flatten() {
            found.push(message["body"].as_str().unwrap_or_default().to_owned());
        }
        next = page["_links"]["next"]["href"].as_str().map(str::to_owned);
    }
    found
}

#[test]
fn a_backup_taken_under_write_load_restores_every_acknowledged_message() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&db, dir.path(), &[]);
    let app = token(&server.base, &server.printed("client_id:"), &server.printed("client_secret:")).unwrap();
    let (_, channel) = api(
        "POST",
        &format!("{}/v1/channels", server.base),
        &app,
        Some(json!({"type": "PUBLIC", "name": "backed-up"})),
    );
    let channel = channel["id"].as_i64().unwrap();

    // Two writers post until told to stop; each body is noted once its POST is acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let (stop, acknowledged) = (Arc::clone(&stop), Arc::clone(&acknowledged));
            let (url, app) = (format!("{}/v1/channels/{channel}/messages", server.base), app.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let body = format!("writer {writer} message {n}");
                    let (status, answer) = api("POST", &url, &app, Some(json!({"type": "TEXT", "body": body})));
                    assert_eq!(status, 200, "writes never stop for the backup: {answer}");
                    acknowledged.lock().unwrap().push(body);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 100 {
        assert!(Instant::now() < deadline, "the writers are stuck");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let backup = dir.path().join("roost-backup.db");
    let made = run(roost(&db, dir.path()).args(["backup", "--json", backup.to_str().unwrap()]));
    let made: Value = serde_json::from_slice(&made.stdout).unwrap();
    assert!(made["bytes"].as_u64().unwrap() > 0, "{made}");
    // A few more writes after it, then stop.
    let after = acknowledged.lock().unwrap().len() + 20;
    while acknowledged.lock().unwrap().len() < after {
        assert!(Instant::now() < deadline, "the writers are stuck");
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let written: i32 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let refused = roost(&db, dir.path()).args(["backup", backup.to_str().unwrap()]).output().unwrap();
    assert!(!refused.status.success(), "a backup never overwrites a file");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("exists already"));
    server.stop();

    // Restore: the backup file put where a (new) server reads its database.
    let restored_dir = tempfile::tempdir().unwrap();
    let restored_db = restored_dir.path().join("roost.db");
    std::fs::copy(&backup, &restored_db).unwrap();
    let url = format!("sqlite://{}", restored_db.display());
    let restored = Server::start(&db, restored_dir.path(), &[("ROOST_DATABASE_URL", &url)]);
    let found = bodies(&restored.base, &app, channel);
    for body in &before {
        assert!(found.contains(body), "{body} was acknowledged before the backup began but is not in it");
    }
    assert!(found.len() < usize::try_from(written).unwrap(), "the backup is a snapshot, not the final state");
    restored.stop();
}
