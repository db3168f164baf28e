//! `roost-bench import`: a message import of 1 000 000 messages (`ROOST_BENCH_IMPORT_MESSAGES`)
//! in a newest-first file, as hosted ChatKitty pages history: a fifth are replies, each read
//! before its parent. Measures the rate from the upload's start to the job's end, and the
//! server's peak RSS against its idle RSS (issue 24: at least the single-POST rate, peak under
//! idle + 128 MiB, since the file is streamed and never held whole). SQLite, and PostgreSQL
//! with `ROOST_BENCH_POSTGRES_URL`.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

const USERS: usize = 20;

/// Writes the file: message `i` (0 oldest) sent at 2019-01-01 + 37 ms × i; every fifth a reply
/// to a message a little older; newest first.
fn write_history(path: &Path, count: usize) -> anyhow::Result<u64> {
    let start = chrono::DateTime::parse_from_rfc3339("2019-01-01T00:00:00Z")?.with_timezone(&chrono::Utc);
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    out.write_all(b"[")?;
    for i in (0..count).rev() {
        let at = start + chrono::Duration::milliseconds(37 * i as i64);
        let mut record = json!({
            "type": "TEXT",
            "user": format!("importer-{}", i % USERS),
            "body": format!("message {i}: the quick brown fox jumps over the lazy dog"),
            "idempotencyKey": format!("m-{i}"),
            "createdTime": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        if i % 5 == 4 {
            record["parent"] = json!(format!("m-{}", i - 1 - (i / 5) % 3));
        } else {
            record["channel"] = json!("import-bench");
        }
        if i + 1 != count {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut out, &record)?;
    }
    out.write_all(b"]\n")?;
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn run_backend(bin: &Path, backend: &str, pg: Option<&str>, count: usize, file: &Path) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let (database, cleanup) = match pg {
        None => (format!("sqlite://{}", dir.path().join("import.db").display()), None),
        Some(pg) => {
            let schema = format!("roost_import_{}", uuid::Uuid::new_v4().simple());
            Command::new("psql").arg(pg).arg("-qc").arg(format!("CREATE SCHEMA {schema}")).status()?;
            let separator = if pg.contains('?') { '&' } else { '?' };
            (format!("{pg}{separator}options=-csearch_path%3D{schema}"), Some((pg.to_owned(), schema)))
        }
    };
    let (roost, _) = crate::start_roost(bin, &database, dir.path())?;
    let pid = roost.child.id();
    let (id, secret) = crate::printed_credentials(&roost);
    let token: Value = ureq::post(&format!("{}/oauth/token", roost.base))
        .send_form(&[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)])?
        .into_json()?;
    let token = token["access_token"].as_str().context("no token")?.to_owned();
    for n in 0..USERS {
        crate::api(
            "POST",
            &format!("{}/v1/users", roost.base),
            &token,
            Some(json!({"name": format!("importer-{n}"),
            "displayName": format!("Importer {n}"), "isGuest": false, "properties": {}})),
        );
    }
    let channel = crate::api(
        "POST",
        &format!("{}/v1/channels", roost.base),
        &token,
        Some(json!({"type": "PUBLIC", "name": "import-bench"})),
    );
    std::thread::sleep(Duration::from_millis(500));
    let idle_kib = crate::rss_kib(pid, "VmRSS:");
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").context("reset the peak RSS")?;

    let started = Instant::now();
    let url = format!("{}/v1/imports/messages", roost.base);
    let accepted = crate::files::upload_file(&url, &token, file, "messages.json", "application/json")?;
    let uploaded = started.elapsed();
    let job_url = format!("{}/v1/jobs/{}", roost.base, accepted["id"]);
    let job = loop {
        let job = crate::api("GET", &job_url, &token, None);
        if job["state"] == "FINISHED" || job["state"] == "FAILED" {
            break job;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(3600), "the import did not end within an hour");
        std::thread::sleep(Duration::from_millis(250));
    };
    let took = started.elapsed();
    let peak_kib = crate::rss_kib(pid, "VmHWM:");
    anyhow::ensure!(job["state"] == "FINISHED" && job["failed"] == 0, "{backend}: the import failed: {job}");
    let page =
        crate::api("GET", &format!("{}/v1/channels/{}/messages?size=1", roost.base, channel["id"]), &token, None);
    let result = json!({
        "backend": backend,
        "messages": count,
        "replies_read_before_their_parent": count / 5,
        "file_mib": std::fs::metadata(file)?.len() as f64 / f64::from(1 << 20),
        "upload_s": uploaded.as_secs_f64(),
        "total_s": took.as_secs_f64(),
        "messages_per_s": count as f64 / took.as_secs_f64(),
        "rss_idle_mib": idle_kib as f64 / 1024.0,
        "rss_peak_mib": peak_kib as f64 / 1024.0,
        "rss_growth_mib": peak_kib.saturating_sub(idle_kib) as f64 / 1024.0,
        "processed": job["processed"],
        "newest_in_channel": page["_embedded"]["messages"][0]["body"],
    });
    eprintln!("{}", serde_json::to_string_pretty(&result)?);
    drop(roost);
    if let Some((pg, schema)) = cleanup {
        let _ = Command::new("psql").arg(&pg).arg("-qc").arg(format!("DROP SCHEMA {schema} CASCADE")).status();
    }
    Ok(result)
}

pub fn run(bin: &Path) -> anyhow::Result<Value> {
    let count = std::env::var("ROOST_BENCH_IMPORT_MESSAGES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("messages.json");
    let bytes = write_history(&file, count)?;
    eprintln!("import file: {count} messages, {:.1} MiB", bytes as f64 / f64::from(1 << 20));
    let mut results = Vec::new();
    if std::env::var("ROOST_BENCH_SKIP_SQLITE").map_or(true, |v| v.is_empty() || v == "0") {
        results.push(run_backend(bin, "sqlite", None, count, &file)?);
    }
    if let Some(pg) = std::env::var("ROOST_BENCH_POSTGRES_URL").ok().filter(|s| !s.is_empty()) {
        results.push(run_backend(bin, "postgres", Some(&pg), count, &file)?);
    }
    Ok(json!(results))
}
