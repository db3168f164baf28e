//! The Roost process a benchmark drives: starting the release binary, reading what it printed
//! and what it costs (`/proc`), calling its API, and running `wrk` against it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

pub(crate) struct Roost {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) stdout: Arc<Mutex<String>>,
}

impl Drop for Roost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system) a process has used, in clock ticks (`/proc/PID/stat`, man proc(5)).
pub(crate) fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    // utime and stime are fields 14 and 15; `fields` starts at field 3.
    fields.get(11..13).map_or(0, |t| t.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
}

/// CPU time used by every PostgreSQL server process on this machine (postmaster and backends).
pub(crate) fn postgres_cpu_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres"))
        .map(cpu_ticks)
        .sum()
}

/// Clock ticks per second for `/proc` CPU times (USER_HZ, 100 on Linux).
pub(crate) const TICKS_PER_SECOND: f64 = 100.0;

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the release binary and measures process start to the first 200.
pub(crate) fn start_roost(bin: &Path, database: &str, dir: &Path) -> anyhow::Result<(Roost, Duration)> {
    start_roost_under(&[], bin, database, dir)
}

/// [`start_roost`] under a launcher (`valgrind --tool=callgrind …`), or none.
pub(crate) fn start_roost_under(
    launcher: &[String],
    bin: &Path,
    database: &str,
    dir: &Path,
) -> anyhow::Result<(Roost, Duration)> {
    // The token scenario measures argon2, not the rate limiter.
    let unlimited = [("ROOST_TOKEN_RATE_PER_SECOND", "1000000"), ("ROOST_TOKEN_RATE_BURST", "1000000")];
    start_roost_with(launcher, &unlimited, bin, database, dir)
}

/// [`start_roost_under`] with extra environment variables.
pub(crate) fn start_roost_with(
    launcher: &[String],
    env: &[(&str, &str)],
    bin: &Path,
    database: &str,
    dir: &Path,
) -> anyhow::Result<(Roost, Duration)> {
    let port = free_port();
    let log = std::fs::File::create(dir.join("roost.log"))?;
    let started = Instant::now();
    let mut command = match launcher.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(bin);
            command
        }
        None => Command::new(bin),
    };
    let mut child = command
        .current_dir(dir)
        .env("ROOST_DATABASE_URL", database)
        .env("ROOST_BIND", format!("127.0.0.1:{port}"))
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = Arc::new(Mutex::new(String::new()));
    let sink = stdout.clone();
    let pipe = child.stdout.take().context("stdout")?;
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_millis(200)).build();
    loop {
        if agent.get(&format!("{base}/v1/picture/x")).call().is_ok_and(|r| r.status() == 200) {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("roost did not answer within 60 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let cold = started.elapsed();
    Ok((Roost { child, base, stdout }, cold))
}

pub(crate) fn api(method: &str, url: &str, token: &str, body: Option<Value>) -> Value {
    let request = ureq::request(method, url).set("Authorization", &format!("Bearer {token}"));
    let response = match body {
        Some(body) => request.send_json(body),
        None => request.call(),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    response.into_json().unwrap()
}

/// The client id and secret the server printed on its first start.
pub(crate) fn printed_credentials(roost: &Roost) -> (String, String) {
    let printed = |label: &str| {
        let out = roost.stdout.lock().unwrap().clone();
        out.lines().find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_owned())).unwrap_or_default()
    };
    (printed("client_id:"), printed("client_secret:"))
}

/// An HTTP Basic `Authorization` value (RFC 7617), base64 written out: the bench needs it for
/// two requests and no more.
pub(crate) fn basic_credentials(id: &str, secret: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{id}:{secret}");
    let mut out = String::from("Basic ");
    for chunk in raw.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() { TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

pub(crate) const DONE: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"socket_errors":%d,"status_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"#;

pub(crate) fn lua_string(s: &str) -> String {
    format!("{s:?}")
}

pub(crate) fn wrk(script: &Path, url: &str, connections: u32, seconds: u64) -> anyhow::Result<Value> {
    let threads = connections.min(2);
    let output = Command::new("wrk")
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--timeout",
            "10s",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .context("cannot run wrk (install it: apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line =
        text.lines().rev().find(|l| l.starts_with('{')).with_context(|| format!("no summary from wrk: {text}"))?;
    let mut summary: Value = serde_json::from_str(line)?;
    let requests = summary["requests"].as_f64().unwrap_or(0.0);
    let seconds = summary["duration_us"].as_f64().unwrap_or(1.0) / 1e6;
    summary["throughput"] = json!(requests / seconds);
    Ok(summary)
}
