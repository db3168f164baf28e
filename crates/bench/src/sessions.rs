//! `roost-bench sessions`: end users' logins next to the token endpoint (both argon2-bound, at
//! 1 and 2 connections: more from one address queue behind the two hashing threads), and
//! what a request costs with a user's session token against the application's token, in the
//! same run on the same data: the newest page of a channel and a post into it, with the
//! response cache off so both read storage. SQLite, release build.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde_json::{json, Value};

const SECONDS: u64 = 5;
const PASSWORD: &str = "a benchmark passphrase";

fn post_public(url: &str, body: Value) -> anyhow::Result<Value> {
    Ok(ureq::post(url).send_json(body).with_context(|| format!("POST {url}"))?.into_json()?)
}

fn script(dir: &Path, name: &str, text: String) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(name);
    std::fs::File::create(&path)?.write_all(format!("{text}\n{}", crate::DONE).as_bytes())?;
    Ok(path)
}

fn post_script(bearer: &str, body: &Value) -> String {
    format!(
        "wrk.method = \"POST\"\nwrk.headers[\"Authorization\"] = {}\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = {}",
        crate::lua_string(&format!("Bearer {bearer}")),
        crate::lua_string(&body.to_string())
    )
}

fn row(scenario: &str, connections: u32, summary: &Value) -> Value {
    json!({
        "scenario": scenario,
        "connections": connections,
        "throughput": summary["throughput"],
        "p50_ms": summary["p50_us"].as_f64().unwrap_or(0.0) / 1000.0,
        "p99_ms": summary["p99_us"].as_f64().unwrap_or(0.0) / 1000.0,
        "errors": summary["socket_errors"].as_u64().unwrap_or(0) + summary["status_errors"].as_u64().unwrap_or(0),
    })
}

/// SQLite, and PostgreSQL too when `ROOST_BENCH_POSTGRES_URL` is set.
pub fn run(bin: &Path) -> anyhow::Result<Value> {
    let pg = std::env::var("ROOST_BENCH_POSTGRES_URL").ok().filter(|s| !s.is_empty());
    let mut results = Vec::new();
    for backend in ["sqlite", "postgres"] {
        if backend == "postgres" && pg.is_none() {
            continue;
        }
        let dir = tempfile::tempdir()?;
        let (database, cleanup) = crate::database_for(backend, pg.as_deref(), dir.path());
        println!("\n== {backend}");
        let measured = run_on(bin, &database, dir.path());
        if let Some((pg, schema)) = cleanup {
            let _ = Command::new("psql").arg(&pg).arg("-qc").arg(format!("DROP SCHEMA {schema} CASCADE")).status();
        }
        for mut row in measured? {
            row["backend"] = json!(backend);
            results.push(row);
        }
    }
    Ok(json!(results))
}

fn run_on(bin: &Path, database: &str, dir: &Path) -> anyhow::Result<Vec<Value>> {
    let env = [
        ("ROOST_TOKEN_RATE_PER_SECOND", "1000000"),
        ("ROOST_TOKEN_RATE_BURST", "1000000"),
        ("ROOST_LOGIN_ATTEMPTS_PER_MINUTE", "100000000"),
        ("ROOST_LOGIN_ATTEMPTS_PER_SOURCE_PER_MINUTE", "100000000"),
        ("ROOST_RESPONSE_CACHE_MIB", "0"),
    ];
    let (roost, _) = crate::start_roost_with(&[], &env, bin, database, dir)?;
    let (id, secret) = crate::printed_credentials(&roost);
    let base = roost.base.clone();
    let token: Value = ureq::post(&format!("{base}/oauth/token"))
        .send_form(&[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)])?
        .into_json()?;
    let app_token = token["access_token"].as_str().context("a token")?.to_owned();
    let application = crate::api("GET", &format!("{base}/v1/application"), &app_token, None);
    let key = application["key"].as_str().context("the application's key")?.to_owned();
    crate::api("PUT", &format!("{base}/v1/application/settings"), &app_token, Some(json!({"userSignUp": "ENABLED"})));
    let account = json!({"key": key, "username": "bench-user", "email": "bench@example.com", "password": PASSWORD});
    let user = post_public(&format!("{base}/v1/accounts"), account)?;
    let outbox = Command::new(bin)
        .current_dir(dir)
        .env("ROOST_DATABASE_URL", database)
        .args(["outbox", "list", "--json"])
        .output()?;
    let text = String::from_utf8_lossy(&outbox.stdout);
    let activation = text
        // The token's alphabet is base64url; in the JSON line it ends at `\n` or a quote.
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\\')
        .find(|w| w.starts_with("rmt_"))
        .context("a mail")?;
    post_public(&format!("{base}/v1/accounts/activate"), json!({"token": activation}))?;
    let login = json!({"key": key, "username": "bench-user", "password": PASSWORD});
    let session = post_public(&format!("{base}/v1/sessions"), login.clone())?;
    let user_token = session["access_token"].as_str().context("a session token")?.to_owned();
    let channel = crate::api(
        "POST",
        &format!("{base}/v1/channels"),
        &app_token,
        Some(json!({"type": "PRIVATE", "name": "bench-sessions", "members": [{"id": user["id"]}]})),
    );
    let channel_id = channel["id"].as_i64().context("a channel")?;
    let messages = format!("{base}/v1/channels/{channel_id}/messages");
    for n in 0..100 {
        crate::api("POST", &messages, &user_token, Some(json!({"type": "TEXT", "body": format!("seed {n}")})));
    }

    let basic = crate::basic_credentials(&id, &secret);
    let scripts = [
        (
            "token issue",
            script(
                dir,
                "token.lua",
                format!("wrk.method = \"POST\"\nwrk.headers[\"Authorization\"] = {}\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\nwrk.body = \"grant_type=client_credentials\"", crate::lua_string(&basic)),
            )?,
            format!("{base}/oauth/token"),
        ),
        (
            "login",
            script(dir, "login.lua", {
                let body = crate::lua_string(&login.to_string());
                format!("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = {body}")
            })?,
            format!("{base}/v1/sessions"),
        ),
    ];
    let mut results = Vec::new();
    for (name, path, url) in &scripts {
        // One and two at once (the hashing threads: one per core here). More from one source
        // address (one wrk is one) queue behind them up to four, then are refused with 503.
        for connections in [1, 2] {
            // Let the previous run's hashes drain first: they would count against this one.
            std::thread::sleep(Duration::from_secs(2));
            let summary = crate::wrk(path, url, connections, SECONDS)?;
            results.push(row(name, connections, &summary));
        }
    }
    // The same reads and posts with either token, alternated twice so drift hits both.
    let page = format!("{messages}?size=25");
    let get = |bearer: &str, name: &str| {
        script(
            dir,
            name,
            format!("wrk.headers[\"Authorization\"] = {}", crate::lua_string(&format!("Bearer {bearer}"))),
        )
    };
    let pairs = [
        ("page, application token", get(&app_token, "page-app.lua")?, page.clone()),
        ("page, user token", get(&user_token, "page-user.lua")?, page.clone()),
        (
            "post, application token",
            script(
                dir,
                "post-app.lua",
                post_script(&app_token, &json!({"type": "TEXT", "body": "bench", "user": {"id": user["id"]}})),
            )?,
            messages.clone(),
        ),
        (
            "post, user token",
            script(dir, "post-user.lua", post_script(&user_token, &json!({"type": "TEXT", "body": "bench"})))?,
            messages.clone(),
        ),
    ];
    for _round in 0..2 {
        for (name, path, url) in &pairs {
            let summary = crate::wrk(path, url, 16, SECONDS)?;
            results.push(row(name, 16, &summary));
        }
    }
    println!("| scenario | conns | req/s | p50 ms | p99 ms | errors |\n| --- | ---: | ---: | ---: | ---: | ---: |");
    for r in &results {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} |",
            r["scenario"].as_str().unwrap_or_default(),
            r["connections"],
            r["throughput"].as_f64().unwrap_or(0.0),
            r["p50_ms"].as_f64().unwrap_or(0.0),
            r["p99_ms"].as_f64().unwrap_or(0.0),
            r["errors"]
        );
    }
    drop(roost);
    std::thread::sleep(Duration::from_millis(100));
    Ok(results)
}
