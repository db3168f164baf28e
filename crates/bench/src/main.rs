//! `just bench`: Roost under load next to a baseline, on this machine.
//!
//! For each backend (SQLite; PostgreSQL too when `ROOST_BENCH_POSTGRES_URL` is set):
//! 1. cold start: the release binary on an empty database, until its first 200;
//! 2. seeding through the API (1 000 users, channels) plus a bulk load of one 10 000- and one
//!    1 000 000-message channel;
//! 3. a baseline actix-web server answering the same URL with the same bytes as Roost's message
//!    page, with no auth and no database: the limit of this machine, HTTP stack and load generator;
//! 4. `wrk` scenarios at 1, 16 and 64 connections, memory (RSS idle, peak), and a check that
//!    every acknowledged message was stored.
//!
//! Prints a table and writes `target/bench/results.json`. Settings: `ROOST_BENCH_SECONDS`
//! (per scenario, default 5), `ROOST_BIN` (default `target/release/roost`), `ROOST_BENCH_ONLY`
//! (comma-separated words: only the scenarios whose names contain one; the baseline always runs),
//! `ROOST_BENCH_SKIP_SQLITE=1` (PostgreSQL only).
//!
//! `roost-bench sessions` measures end users' logins and a user's token against the
//! application's ([`sessions`]).
//!
//! `roost-bench realtime` measures event delivery to 1 000 open SSE streams and WebSockets, on
//! one node and across two ([`realtime`]).
//!
//! `roost-bench token-flood` measures how fast a legitimate client gets a token during a flood of
//! abandoned wrong-secret requests ([`token_flood`]).
//!
//! `roost-bench files` uploads and downloads a 20 MiB file next to a plain copy, and measures the
//! server's peak RSS during 8 concurrent uploads ([`files`]).
//!
//! `roost-bench instructions` counts instructions per request under callgrind instead: figures
//! that repeat exactly on a machine whose throughput does not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a benchmark fails by panicking")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use roost_persistence::DatabaseUrl;
use serde_json::{json, Value};

use crate::bulk_load::{bulk_load_messages, count_channel_messages};

mod bulk_load;
mod files;
mod import;
mod process;
mod realtime;
mod sessions;
mod token_flood;

use process::{
    api, basic_credentials, cpu_ticks, free_port, lua_string, postgres_cpu_ticks, printed_credentials, rss_kib,
    start_roost, start_roost_under, start_roost_with, wrk, Roost, DONE, TICKS_PER_SECOND,
};

const CONCURRENCY: [u32; 3] = [1, 16, 64];

struct Seeded {
    token: String,
    basic: String,
    user_id: i64,
    c10k: i64,
    c1m: i64,
    post_channel: i64,
    mix_channel: i64,
    poster: i64,
    page_body: Vec<u8>,
}

fn thread_of(channel: &Value) -> i64 {
    channel["_links"]["thread"]["href"].as_str().unwrap().rsplit('/').next().unwrap().parse().unwrap()
}

fn seed(roost: &Roost, url: &DatabaseUrl) -> anyhow::Result<Seeded> {
    let (id, secret) = printed_credentials(roost);
    let basic = basic_credentials(&id, &secret);
    let token: Value = ureq::post(&format!("{}/oauth/token", roost.base))
        .set("Authorization", &basic)
        .send_form(&[("grant_type", "client_credentials")])?
        .into_json()?;
    let token = token["access_token"].as_str().context("no token")?.to_owned();
    let v1 = format!("{}/v1", roost.base);
    let app = api("GET", &format!("{v1}/application"), &token, None)["id"].as_i64().unwrap();
    let started = Instant::now();
    let mut user_id = 0;
    for i in 0..1_000 {
        let user = api(
            "POST",
            &format!("{v1}/users"),
            &token,
            Some(json!({"name": format!("user{i}"), "displayName": format!("User {i}")})),
        );
        if i == 0 {
            user_id = user["id"].as_i64().unwrap();
        }
    }
    let channel = |name: &str, members: Value| {
        api(
            "POST",
            &format!("{v1}/channels"),
            &token,
            Some(json!({"type": "PUBLIC", "name": name, "members": members})),
        )
    };
    let c10k = channel("bench-10k", json!([]));
    let c1m = channel("bench-1m", json!([]));
    let post = channel("bench-post", json!([{"username": "user0"}, {"username": "user1"}]));
    let mix = channel("bench-mix", json!([{"username": "user0"}, {"username": "user1"}]));
    for i in 0..20 {
        channel(&format!("other-{i}"), json!([{"username": format!("user{i}")}]));
    }
    eprintln!("  seeded 1 000 users and 24 channels through the API in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    // Seeded ids are far below the snowflake ids Roost generates: new posts stay the newest.
    bulk_load_messages(url, app, c10k["id"].as_i64().unwrap(), thread_of(&c10k), 1_000_000_000, 10_000)
        .map_err(anyhow::Error::msg)?;
    bulk_load_messages(url, app, c1m["id"].as_i64().unwrap(), thread_of(&c1m), 2_000_000_000, 1_000_000)
        .map_err(anyhow::Error::msg)?;
    eprintln!("  bulk-loaded 10 000 + 1 000 000 messages in {:.1} s", started.elapsed().as_secs_f64());
    let page_body = ureq::get(&format!("{v1}/channels/{}/messages?size=25", c1m["id"]))
        .set("Authorization", &format!("Bearer {token}"))
        .call()?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut page_body.into_reader(), &mut bytes)?;
    Ok(Seeded {
        token,
        basic,
        user_id,
        c10k: c10k["id"].as_i64().unwrap(),
        c1m: c1m["id"].as_i64().unwrap(),
        post_channel: post["id"].as_i64().unwrap(),
        mix_channel: mix["id"].as_i64().unwrap(),
        poster: user_id,
        page_body: bytes,
    })
}

/// The baseline: same path, same bytes, no auth, no database.
fn start_baseline(body: Vec<u8>) -> anyhow::Result<String> {
    let port = free_port();
    let body = actix_web::web::Bytes::from(body);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || {
                let body = body.clone();
                actix_web::App::new().route(
                    "/v1/channels/{id}/messages",
                    actix_web::web::get().to(move || {
                        let body = body.clone();
                        async move {
                            actix_web::HttpResponse::Ok().content_type("application/hal+json;charset=UTF-8").body(body)
                        }
                    }),
                )
            })
            .bind(("127.0.0.1", port))
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..500 {
        if ureq::get(&format!("{base}/v1/channels/1/messages")).call().is_ok() {
            return Ok(base);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    bail!("baseline server did not start")
}

fn write_scripts(dir: &Path, s: &Seeded) -> anyhow::Result<()> {
    let bearer = lua_string(&format!("Bearer {}", s.token));
    let scripts = [
        ("get.lua", format!("wrk.headers[\"Authorization\"] = {bearer}\n{DONE}")),
        ("baseline.lua", DONE.to_owned()),
        (
            // Older pages at random: every request misses the response cache.
            "history.lua",
            format!(
                "local base = \"/v1/channels/{}/messages?size=25&start=\"\nrequest = function()\n  return wrk.format(\"GET\", base .. tostring(2000000000 + math.random(25, 999999)), {{[\"Authorization\"] = {bearer}}})\nend\n{DONE}",
                s.c1m
            ),
        ),
        (
            "token.lua",
            format!(
                "wrk.method = \"POST\"\nwrk.headers[\"Authorization\"] = {}\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\nwrk.body = \"grant_type=client_credentials\"\n{DONE}",
                lua_string(&s.basic)
            ),
        ),
        (
            "post.lua",
            format!(
                "wrk.method = \"POST\"\nwrk.headers[\"Authorization\"] = {bearer}\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = {}\n{DONE}",
                lua_string(&json!({"type": "TEXT", "body": "hello from the benchmark", "user": {"id": s.poster}}).to_string())
            ),
        ),
        (
            "mix.lua",
            format!(
                "local page = \"/v1/channels/{}/messages?size=25\"\nlocal post = \"/v1/channels/{}/messages\"\nlocal body = {}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  if n % 10 == 0 then\n    return wrk.format(\"POST\", post, {{[\"Authorization\"] = {bearer}, [\"Content-Type\"] = \"application/json\"}}, body)\n  end\n  return wrk.format(\"GET\", page, {{[\"Authorization\"] = {bearer}}})\nend\n{DONE}",
                s.c1m,
                s.mix_channel,
                lua_string(&json!({"type": "TEXT", "body": "mixed", "user": {"id": s.poster}}).to_string())
            ),
        ),
    ];
    for (name, text) in scripts {
        std::fs::File::create(dir.join(name))?.write_all(text.as_bytes())?;
    }
    Ok(())
}

fn database_for(backend: &str, pg: Option<&str>, dir: &Path) -> (String, Option<(String, String)>) {
    match (backend, pg) {
        ("postgres", Some(pg)) => {
            let schema = format!("roost_bench_{}", uuid::Uuid::new_v4().simple());
            let mut psql =
                Command::new("psql").arg(pg).arg("-qc").arg(format!("CREATE SCHEMA {schema}")).spawn().unwrap();
            psql.wait().unwrap();
            let separator = if pg.contains('?') { '&' } else { '?' };
            (format!("{pg}{separator}options=-csearch_path%3D{schema}"), Some((pg.to_owned(), schema)))
        }
        _ => (format!("sqlite://{}", dir.join("bench.db").display()), None),
    }
}

fn run_backend(backend: &str, bin: &Path, pg: Option<&str>, seconds: u64) -> anyhow::Result<Vec<Value>> {
    let dir = tempfile::tempdir()?;
    let (database, cleanup) = database_for(backend, pg, dir.path());
    eprintln!("\n== {backend}");
    let (roost, cold) = start_roost(bin, &database, dir.path())?;
    eprintln!("  cold start to first 200: {:.0} ms", cold.as_secs_f64() * 1000.0);
    let url = DatabaseUrl::parse(&database).map_err(anyhow::Error::msg)?;
    let seeded = seed(&roost, &url)?;
    std::thread::sleep(Duration::from_secs(1));
    let pid = roost.child.id();
    let idle_kib = rss_kib(pid, "VmRSS:");
    let baseline = start_baseline(seeded.page_body.clone())?;
    write_scripts(dir.path(), &seeded)?;
    let script = |name: &str| dir.path().join(name);
    let page_path = |channel: i64| format!("/v1/channels/{channel}/messages?size=25");
    let scenarios: Vec<(&str, PathBuf, String)> = vec![
        ("baseline page", script("baseline.lua"), format!("{baseline}{}", page_path(seeded.c1m))),
        ("token issue", script("token.lua"), format!("{}/oauth/token", roost.base)),
        ("GET user", script("get.lua"), format!("{}/v1/users/{}", roost.base, seeded.user_id)),
        ("page 10k", script("get.lua"), format!("{}{}", roost.base, page_path(seeded.c10k))),
        ("page 1M", script("get.lua"), format!("{}{}", roost.base, page_path(seeded.c1m))),
        ("page 1M history (uncached)", script("history.lua"), roost.base.clone()),
        ("POST message", script("post.lua"), format!("{}/v1/channels/{}/messages", roost.base, seeded.post_channel)),
        ("mix 90/10", script("mix.lua"), roost.base.clone()),
    ];
    let mut results = Vec::new();
    let mut acknowledged_posts = 0i64;
    // `ROOST_BENCH_ONLY=page,POST` runs the scenarios whose names contain one of the words.
    let only = std::env::var("ROOST_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|w| name.contains(w.trim()));
    for (name, script, target) in scenarios.iter().filter(|(name, ..)| *name == "baseline page" || wanted(name)) {
        for c in CONCURRENCY {
            let (roost_before, db_before) = (cpu_ticks(pid), postgres_cpu_ticks());
            let mut summary = wrk(script, target, c, seconds)?;
            // CPU per request: steadier than throughput on a shared machine, and it shows
            // where the time goes (Roost, or the database server beside it).
            let requests = summary["requests"].as_f64().unwrap_or(0.0).max(1.0);
            let per_request = |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1e6 / requests;
            if *name != "baseline page" {
                summary["roost_cpu_us_per_request"] = json!(per_request(cpu_ticks(pid) - roost_before));
                if backend == "postgres" {
                    summary["db_cpu_us_per_request"] = json!(per_request(postgres_cpu_ticks() - db_before));
                }
            }
            summary["backend"] = json!(backend);
            summary["scenario"] = json!(name);
            summary["connections"] = json!(c);
            if *name == "POST message" {
                acknowledged_posts +=
                    summary["requests"].as_i64().unwrap_or(0) - summary["status_errors"].as_i64().unwrap_or(0);
            }
            eprintln!(
                "  {name:<14} c={c:<3} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}  CPU µs/req {:.0} + {:.0}",
                summary["throughput"].as_f64().unwrap_or(0.0),
                summary["p50_us"].as_f64().unwrap_or(0.0) / 1000.0,
                summary["p99_us"].as_f64().unwrap_or(0.0) / 1000.0,
                summary["socket_errors"].as_i64().unwrap_or(0) + summary["status_errors"].as_i64().unwrap_or(0),
                summary["roost_cpu_us_per_request"].as_f64().unwrap_or(0.0),
                summary["db_cpu_us_per_request"].as_f64().unwrap_or(0.0),
            );
            results.push(summary);
        }
    }
    // The rest of the API while tokens are being issued: page reads with token load beside them.
    if wanted("during token load") {
        for read in [4, 5] {
            let (name, script, target) = &scenarios[read];
            // The reference, measured right before, under the same conditions (what ran before
            // it, the database's background work), so the comparison is not skewed by them.
            let mut alone = wrk(script, target, 16, seconds)?;
            alone["backend"] = json!(backend);
            alone["scenario"] = json!(format!("{name} alone, before token load"));
            alone["connections"] = json!(16);
            results.push(alone);
            let token_load = {
                let (script, target) = (scenarios[1].1.clone(), scenarios[1].2.clone());
                std::thread::spawn(move || wrk(&script, &target, 16, seconds + 1))
            };
            std::thread::sleep(Duration::from_millis(300));
            let mut during = wrk(script, target, 16, seconds)?;
            let tokens = token_load.join().unwrap()?;
            during["backend"] = json!(backend);
            during["scenario"] = json!(format!("{name} during token load"));
            during["connections"] = json!(16);
            during["tokens_per_s_beside"] = tokens["throughput"].clone();
            eprintln!(
                "  {name} while {:.0} tokens/s are issued: {:.0} req/s, p99 {:.2} ms",
                tokens["throughput"].as_f64().unwrap_or(0.0),
                during["throughput"].as_f64().unwrap_or(0.0),
                during["p99_us"].as_f64().unwrap_or(0.0) / 1000.0
            );
            results.push(during);
        }
    }
    let peak_kib = rss_kib(pid, "VmHWM:");
    let stored = count_channel_messages(&url, seeded.post_channel).map_err(anyhow::Error::msg)?;
    eprintln!("  POST: {acknowledged_posts} acknowledged, {stored} stored");
    results.push(json!({
        "backend": backend,
        "scenario": "process",
        "cold_start_ms": cold.as_secs_f64() * 1000.0,
        "rss_idle_mib": idle_kib as f64 / 1024.0,
        "rss_peak_mib": peak_kib as f64 / 1024.0,
        "posts_acknowledged": acknowledged_posts,
        "posts_stored": stored,
        "page_bytes": seeded.page_body.len(),
    }));
    if stored < acknowledged_posts {
        bail!("{backend}: {acknowledged_posts} posts acknowledged but only {stored} stored");
    }
    drop(roost);
    if let Some((pg, schema)) = cleanup {
        let _ = Command::new("psql").arg(&pg).arg("-qc").arg(format!("DROP SCHEMA {schema} CASCADE")).status();
    }
    Ok(results)
}

fn print_table(results: &[Value]) {
    println!(
        "\n| backend | scenario | conns | req/s | × baseline | p50 ms | p99 ms | errors | CPU µs/req Roost + db |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in results.iter().filter(|r| r["throughput"].is_number()) {
        let baseline = results
            .iter()
            .find(|b| {
                b["backend"] == r["backend"] && b["scenario"] == "baseline page" && b["connections"] == r["connections"]
            })
            .and_then(|b| b["throughput"].as_f64())
            .unwrap_or(f64::NAN);
        let throughput = r["throughput"].as_f64().unwrap_or(0.0);
        let cpu = match (r["roost_cpu_us_per_request"].as_f64(), r["db_cpu_us_per_request"].as_f64()) {
            (Some(roost), Some(db)) => format!("{roost:.0} + {db:.0}"),
            (Some(roost), None) => format!("{roost:.0}"),
            _ => String::new(),
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {cpu} |",
            r["backend"].as_str().unwrap_or(""),
            r["scenario"].as_str().unwrap_or(""),
            r["connections"],
            throughput,
            throughput / baseline,
            r["p50_us"].as_f64().unwrap_or(0.0) / 1000.0,
            r["p99_us"].as_f64().unwrap_or(0.0) / 1000.0,
            r["socket_errors"].as_i64().unwrap_or(0) + r["status_errors"].as_i64().unwrap_or(0),
        );
    }
    for p in results.iter().filter(|r| r["scenario"] == "process") {
        println!(
            "\n{}: cold start {:.0} ms, RSS idle {:.1} MiB, peak {:.1} MiB, posts acknowledged {} / stored {}, page {} bytes",
            p["backend"].as_str().unwrap_or(""),
            p["cold_start_ms"].as_f64().unwrap_or(0.0),
            p["rss_idle_mib"].as_f64().unwrap_or(0.0),
            p["rss_peak_mib"].as_f64().unwrap_or(0.0),
            p["posts_acknowledged"],
            p["posts_stored"],
            p["page_bytes"]
        );
    }
}

/// Requests measured by `roost-bench instructions`, each sent one at a time.
const INSTRUCTION_REQUESTS: u32 = 300;

/// `roost-bench instructions`: Roost under callgrind on SQLite, seeded as for the load runs,
/// then instructions per request for a post and for an uncached page. Instruction counts do
/// not move with what else the machine is doing, so they show what a change gained where
/// throughput on a shared machine cannot (it varied by ±20 % between identical runs).
fn count_instructions(bin: &Path, out: &Path) -> anyhow::Result<Vec<Value>> {
    let dir = tempfile::tempdir()?;
    let (database, _) = database_for("sqlite", None, dir.path());
    let profile = dir.path().join("callgrind.out");
    let launcher: Vec<String> = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        .into_iter()
        .map(str::to_owned)
        .chain([format!("--callgrind-out-file={}", profile.display())])
        .collect();
    let (roost, _) = start_roost_under(&launcher, bin, &database, dir.path())
        .context("cannot start Roost under valgrind (apt-get install valgrind)")?;
    let url = DatabaseUrl::parse(&database).map_err(anyhow::Error::msg)?;
    let seeded = seed(&roost, &url)?;
    let pid = roost.child.id().to_string();
    let control = |flag: &str| -> anyhow::Result<()> {
        // callgrind_control finds the process through files valgrind writes: retry briefly.
        for _ in 0..20 {
            let status = Command::new("callgrind_control")
                .arg(flag)
                .arg(&pid)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()?;
            if status.success() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        bail!("callgrind_control {flag} failed")
    };
    control("--instr=on")?;
    let bearer = format!("Bearer {}", seeded.token);
    let agent = ureq::AgentBuilder::new().build();
    let post_url = format!("{}/v1/channels/{}/messages", roost.base, seeded.post_channel);
    let body = json!({"type": "TEXT", "body": "hello from the benchmark", "user": {"id": seeded.poster}});
    // An uncached page: an older page of the 1M channel (ids from 2 000 000 001 up).
    let page_url = format!("{}/v1/channels/{}/messages?size=25&start=2000500000", roost.base, seeded.c1m);
    let post = || {
        agent
            .post(&post_url)
            .set("Authorization", &bearer)
            .send_json(body.clone())
            .map(drop)
            .map_err(anyhow::Error::from)
    };
    let page = || agent.get(&page_url).set("Authorization", &bearer).call().map(drop).map_err(anyhow::Error::from);
    // The cheapest authenticated read: what every request pays around its use case.
    let user_url = format!("{}/v1/users/{}", roost.base, seeded.user_id);
    let user = || agent.get(&user_url).set("Authorization", &bearer).call().map(drop).map_err(anyhow::Error::from);
    let mut results = Vec::new();
    let requests: [(&str, &dyn Fn() -> anyhow::Result<()>); 3] =
        [("POST message", &post), ("page 1M (uncached)", &page), ("GET user", &user)];
    for (name, request) in requests {
        // Warm up (statement caches, allocator), then count from zero.
        for _ in 0..50 {
            request()?;
        }
        control("--zero")?;
        for _ in 0..INSTRUCTION_REQUESTS {
            request()?;
        }
        control("--dump")?;
        let dump = latest_callgrind_dump(dir.path())?;
        let total = callgrind_total(&dump)?;
        // Kept for `callgrind_annotate target/bench/callgrind-post.out`: where the instructions go.
        let slug = match name {
            "POST message" => "post",
            "GET user" => "user",
            _ => "page",
        };
        std::fs::copy(&dump, out.join(format!("callgrind-{slug}.out")))?;
        let per_request = total as f64 / f64::from(INSTRUCTION_REQUESTS);
        eprintln!("  {name:<20} {:>9.0} instructions per request (Roost, all threads)", per_request);
        results.push(json!({"backend": "sqlite", "scenario": name, "instructions_per_request": per_request}));
    }
    Ok(results)
}

/// The newest callgrind dump in `dir`.
fn latest_callgrind_dump(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("callgrind.out"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
        .context("no callgrind dump")
}

/// The `summary:`/`totals:` instruction count of a callgrind dump.
fn callgrind_total(dump: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(dump)?;
    text.lines()
        .find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("no instruction total in the callgrind dump")
}

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = std::env::var("ROOST_BIN").map(PathBuf::from).unwrap_or_else(|_| root.join("target/release/roost"));
    if !bin.exists() {
        bail!("{} is missing: cargo build --release -p roost", bin.display());
    }
    if std::env::args().nth(1).as_deref() == Some("instructions") {
        let out = root.join("target/bench");
        std::fs::create_dir_all(&out)?;
        let results = count_instructions(&bin, &out)?;
        std::fs::write(out.join("instructions.json"), serde_json::to_string_pretty(&results)?)?;
        println!("written: target/bench/instructions.json");
        return Ok(());
    }
    if std::env::args().nth(1).as_deref() == Some("files") {
        let out = root.join("target/bench");
        std::fs::create_dir_all(&out)?;
        let result = files::run(&bin)?;
        std::fs::write(out.join("files.json"), serde_json::to_string_pretty(&result)?)?;
        println!("written: target/bench/files.json");
        return Ok(());
    }
    if std::env::args().nth(1).as_deref() == Some("import") {
        let out = root.join("target/bench");
        std::fs::create_dir_all(&out)?;
        let result = import::run(&bin)?;
        std::fs::write(out.join("import.json"), serde_json::to_string_pretty(&result)?)?;
        println!("written: target/bench/import.json");
        return Ok(());
    }
    if std::env::args().nth(1).as_deref() == Some("sessions") {
        let out = root.join("target/bench");
        std::fs::create_dir_all(&out)?;
        let result = sessions::run(&bin)?;
        std::fs::write(out.join("sessions.json"), serde_json::to_string_pretty(&result)?)?;
        println!("written: target/bench/sessions.json");
        return Ok(());
    }
    if std::env::args().nth(1).as_deref() == Some("realtime") {
        let out = root.join("target/bench");
        std::fs::create_dir_all(&out)?;
        let result = realtime::run(&bin)?;
        std::fs::write(out.join("realtime.json"), serde_json::to_string_pretty(&result)?)?;
        println!("written: target/bench/realtime.json");
        return Ok(());
    }
    if std::env::args().nth(1).as_deref() == Some("token-flood") {
        let out = root.join("target/bench");
        std::fs::create_dir_all(&out)?;
        let result = token_flood::run(&bin)?;
        std::fs::write(out.join("token-flood.json"), serde_json::to_string_pretty(&result)?)?;
        println!("written: target/bench/token-flood.json");
        return Ok(());
    }
    let seconds = std::env::var("ROOST_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let pg = std::env::var("ROOST_BENCH_POSTGRES_URL").ok().filter(|s| !s.is_empty());
    let mut results = Vec::new();
    if std::env::var("ROOST_BENCH_SKIP_SQLITE").map_or(true, |v| v.is_empty() || v == "0") {
        results.extend(run_backend("sqlite", &bin, None, seconds)?);
    }
    if let Some(pg) = pg.as_deref() {
        results.extend(run_backend("postgres", &bin, Some(pg), seconds)?);
    }
    print_table(&results);
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("results.json"), serde_json::to_string_pretty(&results)?)?;
    println!("\nwritten: target/bench/results.json");
    Ok(())
}
