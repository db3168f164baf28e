//! The real binary, started on a free port and driven over HTTP with the `oauth2` crate as the
//! client, on SQLite and (when `ROOST_TEST_POSTGRES_URL` is set) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails by panicking")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, TokenResponse, TokenUrl};
use roost_persistence::testing::TestDatabase;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_roost");

struct Server {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    base: String,
}

fn collect(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<String>> {
    let buffer = Arc::new(Mutex::new(String::new()));
    let sink = buffer.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut text = sink.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    buffer
}

fn roost(db: &TestDatabase, dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ROOST_DATABASE_URL", db.url.to_url_string())
        .env("ROOST_BIND", "127.0.0.1:0");
    command
}

impl Server {
    fn start(db: &TestDatabase, dir: &std::path::Path, extra_env: &[(&str, &str)]) -> Self {
        let mut command = roost(db, dir);
        command.envs(extra_env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("start roost");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            let text = stderr.lock().unwrap().clone();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                break format!("http://{addr}");
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("roost exited with {status}: {text}");
            }
            assert!(Instant::now() < deadline, "roost did not start: {text}");
            std::thread::sleep(Duration::from_millis(50));
        };
        Self { child, stdout, stderr, base }
    }

    fn printed(&self, label: &str) -> String {
        let stdout = self.stdout.lock().unwrap();
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("no '{label}' in stdout: {stdout}"))
    }

    /// SIGTERM, then wait for a graceful exit.
    fn stop(mut self) -> (String, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "roost did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(100));
        let out = self.stdout.lock().unwrap().clone();
        let err = self.stderr.lock().unwrap().clone();
        (out, err)
    }
}

fn token(base: &str, id: &str, secret: &str) -> Result<String, String> {
    let client = BasicClient::new(ClientId::new(id.to_owned()))
        .set_client_secret(ClientSecret::new(secret.to_owned()))
        .set_token_uri(TokenUrl::new(format!("{base}/oauth/token")).unwrap());
    let http = oauth2::ureq::builder().redirects(0).build();
    client
        .exchange_client_credentials()
        .request(&http)
        .map(|t| {
            assert_eq!(t.token_type().as_ref(), "bearer");
            assert!(t.expires_in().unwrap() > Duration::from_secs(3600));
            t.access_token().secret().clone()
        })
        .map_err(|e| e.to_string())
}

fn api(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let request = ureq::request(method, url).set("Authorization", &format!("Bearer {token}"));
    let result = match body {
        Some(body) => request.send_json(body),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    (status, response.into_json().unwrap_or(Value::Null))
}

fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{:?}: {}", command, String::from_utf8_lossy(&output.stderr));
    output
}

#[test]
fn serve_bootstrap_token_and_api_over_real_http() {
    for db in TestDatabase::all() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&db, dir.path(), &[]);
        let client_id = server.printed("client_id:");
        let client_secret = server.printed("client_secret:");

        let access_token = token(&server.base, &client_id, &client_secret).unwrap();
        let (status, app) = api("GET", &format!("{}/v1/application", server.base), &access_token, None);
        assert_eq!(status, 200, "{}: {app}", db.label);
        assert_eq!(app["_links"]["self"]["href"], format!("{}/v1/application", server.base));

        let (status, user) = api(
            "POST",
            &format!("{}/v1/users", server.base),
            &access_token,
            Some(json!({"name": "e2e", "displayName": "E2E", "isGuest": false})),
        );
        assert_eq!(status, 200, "{user}");
        let (_, page) = api("GET", &format!("{}/v1/users", server.base), &access_token, None);
        assert_eq!(page["page"]["totalElements"], 1);

        assert!(token(&server.base, &client_id, "rcs_wrong").is_err(), "a wrong secret gets no token");

        let (stdout, stderr) = server.stop();
        assert!(stderr.contains("stopped"), "graceful shutdown: {stderr}");
        // One log line per request, with the response token, and never a secret or a token.
        assert!(
            stderr.contains("path=/v1/users") && stderr.contains("status=200") && stderr.contains("response_token="),
            "{stderr}"
        );
        assert!(!stderr.contains(&client_secret), "the client secret reached the log");
        assert!(!stderr.contains(&access_token), "an access token reached the log");
        assert!(!stderr.contains("rcs_wrong"));
        assert_eq!(stdout.matches(&client_secret).count(), 1, "the secret is printed exactly once");

        // A second start on the same database creates nothing and prints no credentials.
        let again = Server::start(&db, dir.path(), &[]);
        let (stdout, _) = again.stop();
        assert!(!stdout.contains("client_secret"), "{stdout}");
    }
}

#[test]
fn cli_creates_lists_and_rotates() {
    for db in TestDatabase::all() {
        let dir = tempfile::tempdir().unwrap();
        let migrated = run(roost(&db, dir.path()).arg("migrate"));
        assert!(String::from_utf8_lossy(&migrated.stdout).contains("migration(s) applied"));

        let created = run(roost(&db, dir.path()).args(["apps", "create", "Support desk", "--json"]));
        let created: Value = serde_json::from_slice(&created.stdout).unwrap();
        let app_id = created["application_id"].as_i64().unwrap();
        let (client_id, old_secret) =
            (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned());

        let listed = run(roost(&db, dir.path()).args(["apps", "list", "--json"]));
        let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
        assert_eq!(listed[0]["name"], "Support desk", "{}", db.label);
        assert_eq!(listed[0]["client_ids"][0], client_id.as_str());

        // With bootstrap off and an application present, serve prints nothing secret.
        let server = Server::start(&db, dir.path(), &[("ROOST_BOOTSTRAP", "false")]);
        let old_token = token(&server.base, &client_id, &old_secret).unwrap();

        let rotated = run(roost(&db, dir.path()).args(["clients", "rotate", &app_id.to_string(), "--json"]));
        let rotated: Value = serde_json::from_slice(&rotated.stdout).unwrap();
        let new_secret = rotated["client_secret"].as_str().unwrap();
        assert_ne!(new_secret, old_secret);
        assert!(token(&server.base, &client_id, &old_secret).is_err(), "the old secret stops working");
        let (status, _) = api("GET", &format!("{}/v1/application", server.base), &old_token, None);
        assert_eq!(status, 401, "tokens issued under the old secret stop working");
        let new_token = token(&server.base, &client_id, new_secret).unwrap();
        assert_eq!(api("GET", &format!("{}/v1/application", server.base), &new_token, None).0, 200);
        server.stop();

        let missing = roost(&db, dir.path()).args(["clients", "rotate", "42"]).output().unwrap();
        assert!(!missing.status.success());
    }
}

#[test]
fn bad_configuration_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value, expected) in [
        ("ROOST_DATABASE_URL", "mysql://localhost/roost", "unsupported database URL scheme 'mysql'"),
        ("ROOST_BIND", "localhost", "ROOST_BIND"),
        ("ROOST_NODE_ID", "99", "ROOST_NODE_ID"),
        ("ROOST_NODE_ID", "abc", "NODE_ID"),
        ("ROOST_PUBLIC_URL", "chat.example.com", "ROOST_PUBLIC_URL"),
    ] {
        let output = Command::new(BIN).current_dir(dir.path()).env_clear().env(name, value).output().unwrap();
        assert!(!output.status.success(), "{name}={value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{name}={value}: {stderr}");
    }
}

/// The official ChatKitty JavaScript SDK (npm `chatkitty-platform-sdk`), unchanged, against the
/// real binary. Needs Node.js and `npm ci` in `tests/interop/js`; `.ci/run` does both and sets
/// `ROOST_TEST_SDK=1`, which turns a missing set-up into a failure instead of a skip.
#[test]
fn official_javascript_sdk_drives_roost() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/js");
    let required = std::env::var("ROOST_TEST_SDK").is_ok_and(|v| v == "1");
    if !dir.join("node_modules/chatkitty-platform-sdk").exists() {
        assert!(!required, "ROOST_TEST_SDK=1 but tests/interop/js has no node_modules (run npm ci there)");
        eprintln!("skipped: run `npm ci` in tests/interop/js to drive Roost with the official SDK");
        return;
    }
    for db in TestDatabase::all() {
        let data = tempfile::tempdir().unwrap();
        let server = Server::start(&db, data.path(), &[]);
        let run = |script: &str| {
            Command::new("node")
                .arg(script)
                .current_dir(&dir)
                .env("ROOST_URL", &server.base)
                .env("CLIENT_ID", server.printed("client_id:"))
                .env("CLIENT_SECRET", server.printed("client_secret:"))
                .output()
                .expect("run node")
        };
        let outputs = [
            ("users.mjs", run("users.mjs"), "interop: chatkitty-platform-sdk OK"),
            ("chat.mjs", run("chat.mjs"), "interop: chat OK"),
        ];
        let (_, log) = server.stop();
        for (script, output, expected) in outputs {
            assert!(
                output.status.success(),
                "{} {script}: SDK run failed:\n{}\n{}\nserver log:\n{log}",
                db.label,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(String::from_utf8_lossy(&output.stdout).contains(expected));
        }
    }
}
