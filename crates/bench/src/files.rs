//! `roost-bench files`: a 20 MiB file uploaded as a FILE message and downloaded again, on the
//! local store (SQLite), next to a plain copy of the same bytes on this machine's disk; then the
//! server's peak RSS while 8 clients upload at once, against its idle RSS (issue 21: peak under
//! idle + 64 MiB, since uploads are streamed and never held whole).

use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

const FILE_BYTES: usize = 20 << 20;
const ROUNDS: usize = 5;
const CONCURRENT: usize = 8;
const BOUNDARY: &str = "roost-bench-boundary";

fn mib_per_second(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / f64::from(1 << 20) / took.as_secs_f64()
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// Bytes that do not compress: a file system or store cannot take a shortcut.
fn content() -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..FILE_BYTES)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// A multipart body streamed from `file` on disk as the part `file` named `name`: the part
/// headers, the file, the closing line.
fn multipart_body(file: &Path, name: &str, content_type: &str) -> anyhow::Result<(impl Read, usize)> {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let length = head.len() + usize::try_from(std::fs::metadata(file)?.len())? + tail.len();
    let body = Cursor::new(head.into_bytes()).chain(std::fs::File::open(file)?).chain(Cursor::new(tail.into_bytes()));
    Ok((body, length))
}

/// POSTs `file` as the multipart part `file` (named `name`, of `content_type`), streamed from
/// disk; the JSON answer.
pub(crate) fn upload_file(
    url: &str,
    token: &str,
    file: &Path,
    name: &str,
    content_type: &str,
) -> anyhow::Result<Value> {
    let (body, length) = multipart_body(file, name, content_type)?;
    let response = ureq::post(url)
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", &format!("multipart/form-data; boundary={BOUNDARY}"))
        .set("Content-Length", &length.to_string())
        .send(body)
        .context("upload")?;
    Ok(response.into_json()?)
}

fn upload(url: &str, token: &str, file: &Path) -> anyhow::Result<Value> {
    upload_file(url, token, file, "big.bin", "application/octet-stream")
}

fn download(url: &str) -> anyhow::Result<u64> {
    let response = ureq::get(url).call().context("download")?;
    Ok(std::io::copy(&mut response.into_reader(), &mut std::io::sink())?)
}

fn vm_kib(pid: u32, field: &str) -> u64 {
    crate::rss_kib(pid, field)
}

pub fn run(bin: &Path) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}", dir.path().join("files.db").display());
    let (roost, _) = crate::start_roost(bin, &database, dir.path())?;
    let pid = roost.child.id();
    let (id, secret) = crate::printed_credentials(&roost);
    let token: Value = ureq::post(&format!("{}/oauth/token", roost.base))
        .send_form(&[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)])?
        .into_json()?;
    let token = token["access_token"].as_str().context("no token")?.to_owned();
    let channel = crate::api(
        "POST",
        &format!("{}/v1/channels", roost.base),
        &token,
        Some(json!({"type": "PUBLIC", "name": "files-bench"})),
    );
    let messages = format!("{}/v1/channels/{}/messages", roost.base, channel["id"]);
    std::thread::sleep(Duration::from_millis(500));
    let idle_kib = vm_kib(pid, "VmRSS:");

    let source = dir.path().join("source.bin");
    std::fs::File::create(&source)?.write_all(&content())?;
    let mut copies = Vec::new();
    for round in 0..ROUNDS {
        let target = dir.path().join(format!("copy-{round}.bin"));
        let started = Instant::now();
        // A plain copy that ends on disk, as an upload's does once its bytes are stored.
        std::fs::copy(&source, &target)?;
        std::fs::File::open(&target)?.sync_all()?;
        copies.push(started.elapsed());
        std::fs::remove_file(&target)?;
    }
    let (mut uploads, mut downloads) = (Vec::new(), Vec::new());
    let mut url = String::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let message = upload(&messages, &token, &source)?;
        uploads.push(started.elapsed());
        anyhow::ensure!(message["file"]["size"] == FILE_BYTES, "upload stored {}", message["file"]["size"]);
        url = message["file"]["url"].as_str().context("no file url")?.to_owned();
        let started = Instant::now();
        anyhow::ensure!(download(&url)? == FILE_BYTES as u64, "short download");
        downloads.push(started.elapsed());
    }
    let _ = url;

    // Peak RSS from here on: writing 5 to clear_refs resets VmHWM (Linux ≥ 4.0).
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").context("reset the peak RSS")?;
    let started = Instant::now();
    let clients: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let (messages, token, source) = (messages.clone(), token.clone(), source.clone());
            std::thread::spawn(move || upload(&messages, &token, &source).map(|m| m["file"]["size"] == FILE_BYTES))
        })
        .collect();
    for client in clients {
        anyhow::ensure!(
            client.join().map_err(|_| anyhow::anyhow!("a client panicked"))??,
            "a concurrent upload failed"
        );
    }
    let concurrent = started.elapsed();
    let peak_kib = vm_kib(pid, "VmHWM:");

    let result = json!({
        "file_mib": FILE_BYTES >> 20,
        "plain_copy_mib_s": mib_per_second(FILE_BYTES, median(copies)),
        "upload_mib_s": mib_per_second(FILE_BYTES, median(uploads)),
        "download_mib_s": mib_per_second(FILE_BYTES, median(downloads)),
        "concurrent_uploads": CONCURRENT,
        "concurrent_mib_s": mib_per_second(FILE_BYTES * CONCURRENT, concurrent),
        "rss_idle_mib": idle_kib as f64 / 1024.0,
        "rss_peak_concurrent_mib": peak_kib as f64 / 1024.0,
        "rss_growth_mib": (peak_kib.saturating_sub(idle_kib)) as f64 / 1024.0,
    });
    eprintln!("{}", serde_json::to_string_pretty(&result)?);
    Ok(result)
}
