//! `roost-bench token-flood`: a legitimate client asks for tokens while 32 addresses send
//! wrong-secret token requests, each within its per-address rate limit and each hanging up after
//! 50 ms (issue 19's abuse probe, which once kept the legitimate client waiting 84 s). Prints the
//! legitimate client's latencies and what the hashing queue did (from `/metrics` when served).

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

const ATTACKERS: u8 = 32;
const HANG_UP_AFTER: Duration = Duration::from_millis(50);
const SECONDS: u64 = 10;

/// One wrong-secret token request from `source`, abandoned after [`HANG_UP_AFTER`].
fn abandoned_request(source: Ipv4Addr, server: SocketAddr, n: u64) -> std::io::Result<()> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(source, 0)).into())?;
    socket.connect(&server.into())?;
    let mut stream: std::net::TcpStream = socket.into();
    let body = format!("grant_type=client_credentials&client_id=flood-{source}-{n}&client_secret=wrong");
    write!(
        stream,
        "POST /oauth/token HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    std::thread::sleep(HANG_UP_AFTER);
    stream.shutdown(std::net::Shutdown::Both)
}

pub fn run(bin: &Path) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}", dir.path().join("flood.db").display());
    // The server's own rate limits: the flood stays within them per address.
    let (roost, _) = crate::start_roost_with(&[], &[], bin, &database, dir.path())?;
    let (id, secret) = crate::printed_credentials(&roost);
    let server: SocketAddr = roost.base.trim_start_matches("http://").parse()?;
    let token_url = format!("{}/oauth/token", roost.base);
    let legit = |timeout: Duration| {
        let started = Instant::now();
        let status = match ureq::post(&token_url).timeout(timeout).send_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ]) {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(_) => 0,
        };
        (status, started.elapsed())
    };
    let (status, quiet) = legit(Duration::from_secs(30));
    anyhow::ensure!(status == 200, "a token request without a flood answered {status}");

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|i| {
            let (stop, sent) = (stop.clone(), sent.clone());
            let source = Ipv4Addr::new(127, 0, 0, 2 + i);
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    if abandoned_request(source, server, n).is_ok() {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let mut latencies = Vec::new();
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(SECONDS) {
        let (status, latency) = legit(Duration::from_secs(120));
        *statuses.entry(status).or_default() += 1;
        if status == 200 {
            latencies.push(latency);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        let _ = attacker.join();
    }
    latencies.sort();
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    let metrics = ureq::get(&format!("{}/metrics", roost.base))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .unwrap_or_default();
    let queue: Vec<&str> = metrics.lines().filter(|l| l.starts_with("roost_secret_checks_total")).collect();
    let result = json!({
        "scenario": "token flood",
        "attack_requests": sent.load(Ordering::Relaxed),
        "attack_rate_per_second": sent.load(Ordering::Relaxed) as f64 / (SECONDS + 1) as f64,
        "quiet_token_ms": ms(Some(&quiet)),
        "legit_statuses": statuses,
        "legit_median_ms": ms(latencies.get(latencies.len() / 2)),
        "legit_max_ms": ms(latencies.last()),
        "token_checks": queue,
    });
    println!("{}", serde_json::to_string_pretty(&result).context("json")?);
    Ok(result)
}
