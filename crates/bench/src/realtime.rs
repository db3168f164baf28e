//! `roost-bench realtime`: 1 000 open event streams (SSE, then WebSocket) on one node, and on a
//! second node of the same PostgreSQL database; messages are posted at a fixed rate, each
//! carrying the time it was sent, and every stream records how long each took to arrive.
//! Reports p50/p99/max per transport and rate, deliveries missed, and the server's memory per
//! open stream. Release build; settings: `ROOST_BENCH_STREAMS` (1000), `ROOST_BENCH_RATE` (500),
//! `ROOST_BENCH_SECONDS` (10), `ROOST_BENCH_READERS` (2 reader threads), `ROOST_BENCH_POSTGRES_URL`
//! (the two-node run).

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Arrival delays in microseconds, shared by the stream tasks of one reader thread.
type Delays = Rc<RefCell<Vec<u64>>>;

/// Finds every `"body":"sent=MICROS"` in `bytes` and records its delay. Works on the bytes as
/// read (no decoding, one pass): the load generator shares the server's two cores, and every
/// cycle it spends here is one the server does not get.
fn record_arrivals(bytes: &[u8], marker: &memchr::memmem::Finder<'_>, delays: &Delays) {
    let now = now_micros();
    let mut delays = delays.borrow_mut();
    for at in marker.find_iter(bytes) {
        let digits = &bytes[at + marker.needle().len()..];
        let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
        let sent = digits[..end].iter().try_fold(0_u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')));
        if let Some(sent) = sent.filter(|_| end > 0) {
            delays.push(now.saturating_sub(sent));
        }
    }
}

/// One SSE stream: the request, then the body read as it comes; events end with a blank line.
async fn sse_stream(addr: String, token: String, delays: Delays, ready: Arc<AtomicUsize>) -> anyhow::Result<()> {
    let mut socket = TcpStream::connect(&addr).await?;
    let request = format!(
        "GET /v1/events?types=message.created HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await?;
    let marker = memchr::memmem::Finder::new(b"sent=");
    let mut buffer = Vec::with_capacity(64 * 1024);
    let mut headers_seen = false;
    loop {
        if buffer.capacity() - buffer.len() < 16 * 1024 {
            buffer.reserve(64 * 1024);
        }
        if socket.read_buf(&mut buffer).await? == 0 {
            return Ok(());
        }
        if !headers_seen && memchr::memmem::find(&buffer, b"\r\n\r\n").is_some() {
            headers_seen = true;
            ready.fetch_add(1, Ordering::Relaxed);
        }
        // Up to the last complete event; a cut one waits for the next read.
        if let Some(cut) = memchr::memmem::rfind(&buffer, b"\n\n") {
            record_arrivals(&buffer[..cut], &marker, &delays);
            buffer.drain(..cut + 2);
        }
    }
}

/// One WebSocket: the handshake (RFC 6455 §4.1), then server frames (unmasked, §5.2) parsed in
/// place from what was read.
async fn ws_stream(addr: String, token: String, delays: Delays, ready: Arc<AtomicUsize>) -> anyhow::Result<()> {
    let mut socket = TcpStream::connect(&addr).await?;
    let request = format!(
        "GET /v1/ws HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await?;
    let marker = memchr::memmem::Finder::new(b"sent=");
    let mut buffer = Vec::with_capacity(64 * 1024);
    let mut upgraded = false;
    loop {
        if buffer.capacity() - buffer.len() < 16 * 1024 {
            buffer.reserve(64 * 1024);
        }
        if socket.read_buf(&mut buffer).await? == 0 {
            anyhow::bail!("the server closed the connection");
        }
        let mut at = 0;
        if !upgraded {
            let Some(end) = memchr::memmem::find(&buffer, b"\r\n\r\n") else { continue };
            anyhow::ensure!(buffer.starts_with(b"HTTP/1.1 101"), "no upgrade: {}", String::from_utf8_lossy(&buffer));
            upgraded = true;
            ready.fetch_add(1, Ordering::Relaxed);
            at = end + 4;
        }
        while let Some((opcode, payload)) = ws_frame(&buffer[at..]) {
            let (start, end) = (at + payload.start, at + payload.end);
            if opcode == 8 {
                anyhow::bail!("closed by the server: {}", String::from_utf8_lossy(&buffer[start..end]));
            }
            record_arrivals(&buffer[start..end], &marker, &delays);
            at = end;
        }
        buffer.drain(..at);
    }
}

/// The opcode and payload range of the complete frame `bytes` starts with, if it is complete.
fn ws_frame(bytes: &[u8]) -> Option<(u8, std::ops::Range<usize>)> {
    let (&first, &second) = (bytes.first()?, bytes.get(1)?);
    let (length, header) = match second & 0x7f {
        126 => (u64::from(u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?)), 4),
        127 => (u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let end = usize::checked_add(header, usize::try_from(length).ok()?)?;
    (bytes.len() >= end).then_some((first & 0x0f, header..end))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, reason = "an index")]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    #[allow(clippy::cast_precision_loss, reason = "microseconds")]
    let ms = sorted[index.min(sorted.len() - 1)] as f64 / 1000.0;
    ms
}

/// Opens `streams` streams on `listen`, posts at `rate` per second to `post` for `seconds`, and
/// measures. `rss_of`: the pid whose memory per stream is measured.
#[allow(clippy::too_many_arguments, reason = "one scenario's parameters")]
fn scenario(
    transport: &str,
    listen: &str,
    post: &str,
    token: &str,
    channel: i64,
    streams: usize,
    rate: u64,
    seconds: u64,
    pid: u32,
) -> anyhow::Result<Value> {
    let idle_kib = crate::rss_kib(pid, "VmRSS:");
    let ready = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let addr = listen.trim_start_matches("http://").to_owned();
    // The streams are read by `ROOST_BENCH_READERS` threads (2: one per core here), each a
    // single-threaded runtime of its share: a delivery is timed when its reader gets to it,
    // so one reader for 1 000 sockets would add its own queue to every figure.
    let readers = usize::try_from(setting("ROOST_BENCH_READERS", 2))?.max(1);
    let ws = transport == "websocket";
    let reading: Vec<_> = (0..readers)
        .map(|r| {
            let share = streams / readers + usize::from(r < streams % readers);
            let (addr, token, ready, stop) = (addr.clone(), token.to_owned(), ready.clone(), stop.clone());
            std::thread::spawn(move || {
                let delays: Delays = Rc::default();
                actix_web::rt::System::new().block_on(async {
                    for _ in 0..share {
                        let (addr, token, delays, ready) = (addr.clone(), token.clone(), delays.clone(), ready.clone());
                        actix_web::rt::spawn(async move {
                            let result = if ws {
                                ws_stream(addr, token, delays, ready).await
                            } else {
                                sse_stream(addr, token, delays, ready).await
                            };
                            if let Err(error) = result {
                                eprintln!("  a stream ended: {error}");
                            }
                        });
                    }
                    while !stop.load(Ordering::Relaxed) {
                        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
                    }
                });
                delays.take()
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::Relaxed) < streams && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let open = ready.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(1));
    let open_kib = crate::rss_kib(pid, "VmRSS:");
    // The poster: 8 senders at a fixed rate, each its share.
    let total = rate * seconds;
    let senders: Vec<_> = (0..8)
        .map(|k| {
            let (post, token) = (post.to_owned(), token.to_owned());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                let url = format!("{post}/v1/channels/{channel}/messages");
                let start = Instant::now();
                // How long each answered POST took (µs): the part of a delivery's delay that is
                // the write's own.
                let mut answered = Vec::new();
                for n in (k..total).step_by(8) {
                    let due = start + Duration::from_micros(n * 1_000_000 / rate.max(1));
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let sent = now_micros();
                    let body = json!({"type": "TEXT", "body": format!("sent={sent}")});
                    if agent.post(&url).set("Authorization", &format!("Bearer {token}")).send_json(body).is_ok() {
                        answered.push(now_micros().saturating_sub(sent));
                    }
                }
                answered
            })
        })
        .collect();
    let mut answered: Vec<u64> = senders.into_iter().flat_map(|s| s.join().unwrap_or_default()).collect();
    answered.sort_unstable();
    let posted = u64::try_from(answered.len())?;
    // Stragglers.
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let mut sorted: Vec<u64> = reading.into_iter().flat_map(|r| r.join().unwrap_or_default()).collect();
    sorted.sort_unstable();
    let expected = posted * u64::try_from(open).unwrap_or(0);
    let received = u64::try_from(sorted.len()).unwrap_or(0);
    #[allow(clippy::cast_precision_loss, reason = "KiB")]
    let per_stream_kib = open_kib.saturating_sub(idle_kib) as f64 / open.max(1) as f64;
    let row = json!({
        "transport": transport,
        "streams": open,
        "rate_per_s": rate,
        "posted": posted,
        "deliveries": received,
        "missed": expected.saturating_sub(received),
        "p50_ms": percentile(&sorted, 0.50),
        "p99_ms": percentile(&sorted, 0.99),
        "max_ms": percentile(&sorted, 1.0),
        "post_p50_ms": percentile(&answered, 0.50),
        "post_p99_ms": percentile(&answered, 0.99),
        "rss_idle_mib": idle_kib / 1024,
        "rss_open_mib": open_kib / 1024,
        "kib_per_stream": (per_stream_kib * 10.0).round() / 10.0,
    });
    println!("  {row}");
    Ok(row)
}

fn setup(base: &str, roost: &crate::Roost) -> anyhow::Result<(String, i64)> {
    let (id, secret) = crate::printed_credentials(roost);
    let token: Value = ureq::post(&format!("{base}/oauth/token"))
        .send_form(&[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)])?
        .into_json()?;
    let token = token["access_token"].as_str().context("a token")?.to_owned();
    let channel =
        crate::api("POST", &format!("{base}/v1/channels"), &token, Some(json!({"type": "PUBLIC", "name": "rt"})));
    Ok((token, channel["id"].as_i64().context("a channel")?))
}

const UNLIMITED: [(&str, &str); 4] = [
    ("ROOST_TOKEN_RATE_PER_SECOND", "1000000"),
    ("ROOST_TOKEN_RATE_BURST", "1000000"),
    ("ROOST_RATE_LIMIT_PER_SECOND", "1000000"),
    ("ROOST_RATE_LIMIT_BURST", "1000000"),
];

/// SQLite on one node; then, with `ROOST_BENCH_POSTGRES_URL`, PostgreSQL on one node and with
/// the streams on a second node.
pub fn run(bin: &Path) -> anyhow::Result<Value> {
    let streams = usize::try_from(setting("ROOST_BENCH_STREAMS", 1000))?;
    let rate = setting("ROOST_BENCH_RATE", 500);
    let seconds = setting("ROOST_BENCH_SECONDS", 10);
    let mut rows = Vec::new();
    let pg = std::env::var("ROOST_BENCH_POSTGRES_URL").ok().filter(|s| !s.is_empty());
    for backend in ["sqlite", "postgres"] {
        if backend == "postgres" && pg.is_none() {
            continue;
        }
        let dir = tempfile::tempdir()?;
        let (database, cleanup) = crate::database_for(backend, pg.as_deref(), dir.path());
        println!("\n== {backend}");
        let env: Vec<(&str, &str)> = UNLIMITED.iter().copied().chain([("ROOST_NODE_ID", "1")]).collect();
        let (a, _) = crate::start_roost_with(&[], &env, bin, &database, dir.path())?;
        let (token, channel) = setup(&a.base, &a)?;
        for transport in ["sse", "websocket"] {
            for rate in [50, rate] {
                let mut row =
                    scenario(transport, &a.base, &a.base, &token, channel, streams, rate, seconds, a.child.id())?;
                row["backend"] = json!(backend);
                row["nodes"] = json!(1);
                rows.push(row);
            }
        }
        if backend == "postgres" {
            let b_dir = tempfile::tempdir()?;
            let env: Vec<(&str, &str)> = UNLIMITED.iter().copied().chain([("ROOST_NODE_ID", "2")]).collect();
            let (b, _) = crate::start_roost_with(&[], &env, bin, &database, b_dir.path())?;
            for transport in ["sse", "websocket"] {
                let mut row =
                    scenario(transport, &b.base, &a.base, &token, channel, streams, rate, seconds, b.child.id())?;
                row["backend"] = json!(backend);
                row["nodes"] = json!(2);
                rows.push(row);
            }
            drop(b);
        }
        drop(a);
        if let Some((pg, schema)) = cleanup {
            let _ = std::process::Command::new("psql")
                .arg(&pg)
                .arg("-qc")
                .arg(format!("DROP SCHEMA {schema} CASCADE"))
                .status();
        }
    }
    Ok(json!(rows))
}
