//! The real binary, started on a free port and driven over HTTP with the `oauth2` crate as the
//! client, on SQLite and (when `ROOST_TEST_POSTGRES_URL` is set) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails by panicking")]

use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, TokenResponse, TokenUrl};
use roost_persistence::testing::TestDatabase;
use serde_json::{json, Value};

mod backup;
mod export;
mod jobs;
mod realtime;

const BIN: &str = env!("CARGO_BIN_EXE_roost");

struct Server {
    child: Child,
    /// Lines of stdout as they come, and those read so far (the printed credentials).
    stdout_lines: Receiver<String>,
    stdout: RefCell<String>,
    stdout_reader: JoinHandle<String>,
    stderr_reader: JoinHandle<String>,
    base: String,
}

/// Reads a stream to its end on a thread of its own, passing each line on as it comes and
/// returning the whole text when the stream closes (the process exited).
fn collect(stream: impl std::io::Read + Send + 'static) -> (Receiver<String>, JoinHandle<String>) {
    let (lines, received) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            let _ = lines.send(line);
        }
        text
    });
    (received, reader)
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
        let (stdout_lines, stdout_reader) = collect(child.stdout.take().unwrap());
        let (stderr_lines, stderr_reader) = collect(child.stderr.take().unwrap());
        // Wait for the line that names the address; the stream closing first means it exited.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = String::new();
        let base = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stderr_lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        // Plain text ends the address with a space, JSON with a quote.
                        let addr: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
                        break format!("http://{addr}");
                    }
                    seen.push_str(&line);
                    seen.push('\n');
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("roost exited with {:?}: {seen}", child.wait().unwrap())
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("roost did not start within 60 s: {seen}"),
            }
        };
        Self { child, stdout_lines, stdout: RefCell::default(), stdout_reader, stderr_reader, base }
    }

    /// The value printed on stdout after `label`, waiting for it to be printed.
    fn printed(&self, label: &str) -> String {
        loop {
            let found = self.stdout.borrow().lines().find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_owned()));
            if let Some(value) = found {
                return value;
            }
            match self.stdout_lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    let mut stdout = self.stdout.borrow_mut();
                    stdout.push_str(&line);
                    stdout.push('\n');
                }
                Err(_) => panic!("no '{label}' in stdout: {}", self.stdout.borrow()),
            }
        }
    }

    /// SIGTERM, then wait for a graceful exit; returns all of stdout and stderr.
    fn stop(self) -> (String, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.stop_after_signal()
    }

    /// Waits for the exit a signal already sent causes; returns all of stdout and stderr.
    fn stop_after_signal(self) -> (String, String) {
        // The readers end when the process closes its streams; a watchdog bounds the wait.
        let (exited, exit) = mpsc::channel();
        let mut child = self.child;
        std::thread::spawn(move || {
            let _ = exited.send(child.wait());
        });
        // Whether it stopped gracefully is for the caller to check in the log ("stopped").
        exit.recv_timeout(Duration::from_secs(30)).expect("roost did not stop on SIGTERM").unwrap();
        let out = self.stdout_reader.join().unwrap();
        let err = self.stderr_reader.join().unwrap();
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

        // Rename, then delete: without --yes nothing happens; with it the application, its
        // users and its credentials are gone.
        let renamed = run(roost(&db, dir.path()).args(["apps", "rename", &app_id.to_string(), "Help desk"]));
        assert!(String::from_utf8_lossy(&renamed.stdout).contains("renamed to Help desk"));
        let listed = run(roost(&db, dir.path()).args(["apps", "list", "--json"]));
        let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
        assert_eq!(listed[0]["name"], "Help desk");
        let blank = roost(&db, dir.path()).args(["apps", "rename", &app_id.to_string(), " "]).output().unwrap();
        assert!(!blank.status.success());

        let server = Server::start(&db, dir.path(), &[("ROOST_BOOTSTRAP", "false")]);
        let (status, _) = api(
            "POST",
            &format!("{}/v1/users", server.base),
            &new_token,
            Some(json!({"name": "doomed", "displayName": "Doomed"})),
        );
        assert_eq!(status, 200);
        server.stop();
        let unconfirmed = roost(&db, dir.path()).args(["apps", "delete", &app_id.to_string()]).output().unwrap();
        assert!(!unconfirmed.status.success());
        assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));
        assert!(run(roost(&db, dir.path()).args(["apps", "list", "--json"])).stdout.starts_with(b"[{"));
        run(roost(&db, dir.path()).args(["apps", "delete", &app_id.to_string(), "--yes"]));
        let listed = run(roost(&db, dir.path()).args(["apps", "list", "--json"]));
        assert_eq!(serde_json::from_slice::<Value>(&listed.stdout).unwrap(), json!([]), "{}", db.label);
        let again = roost(&db, dir.path()).args(["apps", "delete", &app_id.to_string(), "--yes"]).output().unwrap();
        assert!(!again.status.success(), "deleting a missing application is an error");
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
        ("ROOST_DATABASE_WAIT_SECONDS", "99999", "ROOST_DATABASE_WAIT_SECONDS"),
        // A filter that parses but logs nothing of Roost's is refused, not silently applied.
        ("ROOST_LOG", "verbose", "invalid ROOST_LOG 'verbose': 'verbose' is not a level"),
        ("ROOST_LOG", "info,roost=loud", "invalid ROOST_LOG"),
        ("ROOST_LOG_FORMAT", "xml", "invalid ROOST_LOG_FORMAT 'xml'"),
        ("ROOST_CORS_ALLOWED_ORIGINS", "https://app.example/", "ROOST_CORS_ALLOWED_ORIGINS"),
        ("ROOST_FILES_URL", "ftp://files.example/roost", "invalid ROOST_FILES_URL"),
        ("ROOST_FILES_MAX_BYTES", "0", "ROOST_FILES_MAX_BYTES"),
        ("ROOST_PASSWORD_MIN_LENGTH", "0", "invalid ROOST_PASSWORD_MIN_LENGTH"),
        ("ROOST_CONFIG", "/nonexistent/roost.toml", "the configuration file /nonexistent/roost.toml does not exist"),
        // Filesystem problems say what failed and where.
        ("ROOST_DATABASE_URL", "sqlite:///dev/null/data/roost.db", "cannot create directory /dev/null/data"),
    ] {
        let output = Command::new(BIN).current_dir(dir.path()).env_clear().env(name, value).output().unwrap();
        assert!(!output.status.success(), "{name}={value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{name}={value}: {stderr}");
    }
}

/// The official ChatKitty JavaScript SDK (npm `chatkitty-platform-sdk`), unchanged, against the
/// real binary. Needs Node.js and `npm ci` in `tests/interop/js`, so it is ignored by a plain
/// `cargo test`; `.ci/run` installs both and runs it with `--include-ignored`.
#[test]
#[ignore = "needs Node.js and `npm ci` in tests/interop/js; .ci/run runs it with --include-ignored"]
fn official_javascript_sdk_drives_roost() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/js");
    assert!(
        dir.join("node_modules/chatkitty-platform-sdk").exists() && dir.join("node_modules/chatkitty").exists(),
        "tests/interop/js has no node_modules: run `npm ci` there (Node.js needed)"
    );
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
            // The newest official client (npm `chatkitty` 2.106.x): paths without /v1, snake_case.
            ("newest.mjs", run("newest.mjs"), "interop: chatkitty 2.106 OK"),
            ("files.mjs", run("files.mjs"), "interop: files OK"),
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

/// A file's typo is an error naming the key; a `ROOST_*` variable that is no setting (platforms
/// set some) is only a warning naming it.
#[test]
fn unknown_settings_are_named() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("roost.toml"), "bind = \"127.0.0.1:0\"\ntoken_lifetime = 60\n").unwrap();
    let refused = roost(&db, dir.path()).arg("migrate").output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("unknown setting(s) in roost.toml: token_lifetime"), "{stderr}");

    std::fs::remove_file(dir.path().join("roost.toml")).unwrap();
    let server = Server::start(&db, dir.path(), &[("ROOST_SERVICE_HOST", "10.0.0.1")]);
    let (_, log) = server.stop();
    assert!(log.contains("ROOST_SERVICE_HOST is not a Roost setting and is ignored"), "{log}");
}

/// `roost apps …` and `roost clients …` never create a database: a missing SQLite file is
/// named, with its absolute path, and left missing.
#[test]
fn commands_never_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elsewhere/roost.db");
    for args in [&["apps", "list"][..], &["apps", "create", "Desk"], &["clients", "rotate", "1"]] {
        let output = Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("ROOST_DATABASE_URL", "sqlite://elsewhere/roost.db")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("there is no database at {}", path.display())), "{args:?}: {stderr}");
        assert!(!path.exists() && !path.parent().unwrap().exists(), "{args:?} created the database");
    }
}

/// The port is bound before the first start creates an application: a port in use leaves no
/// application behind and prints no credentials.
#[test]
fn a_port_in_use_creates_no_application() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for db in TestDatabase::all() {
        let dir = tempfile::tempdir().unwrap();
        let output = roost(&db, dir.path()).env("ROOST_BIND", format!("127.0.0.1:{port}")).output().unwrap();
        assert!(!output.status.success(), "{}: started on a port in use", db.label);
        assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen on"), "{}", db.label);
        assert!(!String::from_utf8_lossy(&output.stdout).contains("client_secret"), "{}", db.label);
        let listed = run(roost(&db, dir.path()).args(["apps", "list", "--json"]));
        assert_eq!(serde_json::from_slice::<Value>(&listed.stdout).unwrap(), json!([]), "{}", db.label);
    }
}

/// A PostgreSQL server that is not up is tried again, each attempt logged, for
/// `ROOST_DATABASE_WAIT_SECONDS`; then start-up fails naming it.
#[test]
fn an_unreachable_postgres_is_waited_for_then_named() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("ROOST_DATABASE_URL", format!("postgres://roost:secret@127.0.0.1:{port}/roost"))
        .env("ROOST_DATABASE_WAIT_SECONDS", "1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the database is not reachable yet"), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot open the database postgres://roost:***@127.0.0.1:{port}/roost")),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "the password reached the log: {stderr}");
}

/// SIGINT (Ctrl-C) and SIGTERM both let a request in flight finish: the request's head is sent
/// and the server has answered "100 Continue", then the signal; once new connections are refused
/// the body follows, and the answer still comes.
#[test]
fn sigint_and_sigterm_let_requests_in_flight_finish() {
    use std::io::{Read, Write};
    for signal in ["INT", "TERM"] {
        let db = TestDatabase::sqlite();
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&db, dir.path(), &[]);
        let access = token(&server.base, &server.printed("client_id:"), &server.printed("client_secret:")).unwrap();
        let address = server.base.trim_start_matches("http://").to_owned();
        let mut connection = std::net::TcpStream::connect(&address).unwrap();
        connection.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = format!("{{\"name\": \"in-flight-{signal}\"}}");
        // `Expect: 100-continue` (RFC 9110 §10.1.1): the server answers "100 Continue" once it has
        // read the head and started the request, which is then in flight for certain.
        write!(
            connection,
            "POST /v1/users HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {access}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
             Connection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        connection.flush().unwrap();
        let go_on = read_head(&mut connection);
        assert!(go_on.starts_with("HTTP/1.1 100"), "SIG{signal}: {go_on}");
        Command::new("kill").args([&format!("-{signal}"), &server.child.id().to_string()]).status().unwrap();
        // The body goes only once the server is stopping (it refuses new connections), so a
        // stop that drops requests in flight cannot lose a race here.
        let stopping_by = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&address).is_ok() {
            assert!(Instant::now() < stopping_by, "SIG{signal}: still accepting connections after 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        connection.write_all(body.as_bytes()).unwrap();
        let mut answer = String::new();
        connection.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "SIG{signal}: {answer}");
        assert!(answer.contains(&format!("in-flight-{signal}")), "SIG{signal}: {answer}");
        let (_, log) = server.stop_after_signal();
        assert!(log.contains(&format!("SIG{signal} received")) && log.contains("stopped"), "SIG{signal}: {log}");
    }
}

/// The head of one HTTP/1.1 response (through the blank line).
fn read_head(connection: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        connection.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// `ROOST_LOG_FORMAT=json`: every line is a JSON object, and a request's line carries the
/// response token its client got.
#[test]
fn json_logs_name_the_response_token() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&db, dir.path(), &[("ROOST_LOG_FORMAT", "json")]);
    // A hosted file's key is its secret: the log shows the route, never the key.
    let key = "5ec7e75ec7e75ec7e75ec7e75ec7e75e";
    let tokens: Vec<String> = ["/v1", "/v1/nowhere", &format!("/v1/files/{key}")]
        .iter()
        .map(|path| {
            let response = match ureq::get(&format!("{}{path}", server.base)).call() {
                Ok(r) | Err(ureq::Error::Status(_, r)) => r,
                Err(e) => panic!("{path}: {e}"),
            };
            response.header("x-response-token").unwrap().to_owned()
        })
        .collect();
    let (_, stderr) = server.stop();
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for token in tokens {
        let line = lines
            .iter()
            .find(|l| l["span"]["response_token"] == token.as_str())
            .unwrap_or_else(|| panic!("no line with response token {token}: {stderr}"));
        assert_eq!(line["fields"]["message"], "request", "{line}");
        assert!(line["fields"]["status"].as_u64().is_some(), "{line}");
    }
    assert!(lines.iter().any(|l| l["fields"]["message"] == "stopped"), "{stderr}");
    assert!(!stderr.contains(key), "a file key was logged: {stderr}");
    assert!(lines.iter().any(|l| l["fields"]["path"] == "/v1/files/{key}"), "{stderr}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `/metrics` on the API's address by default, on its own with `ROOST_METRICS_BIND`, nowhere
/// with `ROOST_METRICS=false`; what it serves parses with the Prometheus project's own parser
/// (Python `prometheus_client`, OpenMetrics), which .ci/run installs.
#[test]
#[ignore = "needs Python's prometheus_client (pip install prometheus_client); .ci/run runs it with --include-ignored"]
fn metrics_are_served_where_configured_and_parse() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let get = |url: &str| match ureq::get(url).call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{url}: {e}"),
    };
    let server = Server::start(&db, dir.path(), &[]);
    let id = server.printed("client_id:");
    let secret = server.printed("client_secret:");
    token(&server.base, &id, &secret).unwrap();
    let (status, text) = get(&format!("{}/metrics", server.base));
    assert_eq!(status, 200);
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as parse\nfor f in parse(sys.stdin.read()):\n    for s in f.samples: print(s.name, s.value)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("python3");
    assert!(parsed.status.success(), "{}\n{text}", String::from_utf8_lossy(&parsed.stderr));
    let samples = String::from_utf8_lossy(&parsed.stdout);
    assert!(samples.lines().any(|l| l == "roost_tokens_issued_total 1"), "{samples}");
    server.stop();

    let port = free_port();
    let server = Server::start(&db, dir.path(), &[("ROOST_METRICS_BIND", &format!("127.0.0.1:{port}"))]);
    assert_eq!(get(&format!("{}/metrics", server.base)).0, 404, "not on the API's address");
    let (status, text) = get(&format!("http://127.0.0.1:{port}/metrics"));
    assert_eq!(status, 200);
    assert!(text.contains("roost_http_requests_total"), "{text}");
    assert_eq!(get(&format!("http://127.0.0.1:{port}/v1")).0, 404, "only metrics on the metrics address");
    server.stop();

    let server = Server::start(&db, dir.path(), &[("ROOST_METRICS", "false")]);
    assert_eq!(get(&format!("{}/metrics", server.base)).0, 404);
    server.stop();
}

/// A W3C WebDriver session in headless Chromium, driven over HTTP (chromedriver).
struct Browser {
    driver: Child,
    url: String,
}

/// The key under which WebDriver answers an element reference (W3C WebDriver §12.1).
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    fn start() -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian: apt-get install chromium chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]
            }
        }}});
        let session = ureq::post(&format!("{base}/session")).send_json(capabilities).expect("a browser session");
        let session: Value = session.into_json().unwrap();
        let id = session["value"]["sessionId"].as_str().unwrap().to_owned();
        Self { driver, url: format!("{base}/session/{id}") }
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let request = ureq::request(method, &format!("{}{path}", self.url));
        let result = if method == "GET" { request.call() } else { request.send_json(body) };
        match result {
            Ok(r) => Ok(r.into_json::<Value>().unwrap()["value"].clone()),
            Err(ureq::Error::Status(_, r)) => Err(r.into_string().unwrap_or_default()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn go(&self, url: &str) {
        self.command("POST", "/url", json!({"url": url})).unwrap();
    }

    /// The first element matching the XPath, waiting up to 30 s for it to appear.
    fn find(&self, xpath: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.command("POST", "/element", json!({"using": "xpath", "value": xpath})) {
                Ok(found) => return found[ELEMENT].as_str().unwrap().to_owned(),
                Err(e) if Instant::now() > deadline => panic!("no element {xpath}: {e}\npage: {}", self.text("//body")),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    fn click(&self, xpath: &str) {
        let element = self.find(xpath);
        self.command("POST", &format!("/element/{element}/click"), json!({})).unwrap();
    }

    fn type_into(&self, xpath: &str, text: &str) {
        let element = self.find(xpath);
        self.command("POST", &format!("/element/{element}/value"), json!({"text": text})).unwrap();
    }

    fn text(&self, xpath: &str) -> String {
        match self.command("POST", "/element", json!({"using": "xpath", "value": xpath})) {
            Ok(found) => {
                let element = found[ELEMENT].as_str().unwrap_or_default().to_owned();
                let text = self.command("GET", &format!("/element/{element}/text"), Value::Null).unwrap_or_default();
                text.as_str().unwrap_or_default().to_owned()
            }
            Err(e) => format!("(no {xpath}: {e})"),
        }
    }

    /// Waits up to 30 s for the XPath's text to contain `expected`.
    fn wait_for_text(&self, xpath: &str, expected: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.text(xpath);
            if text.contains(expected) {
                return text;
            }
            assert!(Instant::now() < deadline, "'{expected}' never appeared in {xpath}: {text}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.url).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The API explorer at `/docs`, in a real headless browser: it loads the document, takes a
/// client id and secret under "Authorize" (a client-credentials token from `/oauth/token`), and
/// lists users with it.
#[test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it with --include-ignored"]
fn the_api_explorer_authenticates_and_lists_users_in_a_browser() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&db, dir.path(), &[]);
    let (id, secret) = (server.printed("client_id:"), server.printed("client_secret:"));
    let access = token(&server.base, &id, &secret).unwrap();
    let (status, _) = api(
        "POST",
        &format!("{}/v1/users", server.base),
        &access,
        Some(json!({"name": "explorer-jane", "displayName": "Jane"})),
    );
    assert_eq!(status, 200);

    let browser = Browser::start();
    browser.go(&format!("{}/docs", server.base));
    browser.wait_for_text("//div[contains(@class,'information-container')]", "Roost");
    browser.click("//button[contains(@class,'authorize')]");
    // The document's client-credentials scheme: Swagger UI asks for the id and secret and gets
    // the token from /oauth/token itself.
    let oauth = "//div[contains(@class,'auth-container')][.//input[@id='client_id_clientCredentials']]";
    browser.type_into("//input[@id='client_id_clientCredentials']", &id);
    browser.type_into("//input[@id='client_secret_clientCredentials']", &secret);
    browser.click(&format!("{oauth}//button[contains(@class,'authorize')]"));
    // Authorized (a token was issued): the dialog shows the scheme as authorized, with a button
    // to log out instead of the inputs.
    let dialog = "//div[contains(@class,'modal-ux-content')]";
    browser.wait_for_text(dialog, "Logout");
    assert!(!browser.text(dialog).contains("Auth Error"), "{}", browser.text(dialog));
    browser.click("//button[contains(@class,'btn-done')]");

    let list_users = "//div[contains(@class,'opblock-get')][.//*[@data-path='/v1/users']]";
    browser.click(&format!("{list_users}//button[contains(@class,'opblock-summary-control')]"));
    // The explorer opens operations with "Try it out" already on (tryItOutEnabled).
    browser.click(&format!("{list_users}//button[contains(@class,'execute')]"));
    // The live response: its status row (after the table's header row) and the body it shows.
    let live = format!("{list_users}//table[contains(@class,'live-responses-table')]");
    browser.wait_for_text(&format!("({live}//td[contains(@class,'response-col_status')])[last()]"), "200");
    browser.wait_for_text(&live, "explorer-jane");
    drop(browser);
    server.stop();
}

/// The OpenAPI document the running server serves at `/v1/openapi.json` (without a token) is
/// a valid OpenAPI 3.1 document by the Python `openapi-spec-validator` (which .ci/run installs),
/// and `roost openapi` prints the same document without a database.
#[test]
#[ignore = "needs Python's openapi-spec-validator (pip install openapi-spec-validator); .ci/run runs it with --include-ignored"]
fn the_openapi_document_validates() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&db, dir.path(), &[]);
    let response = ureq::get(&format!("{}/v1/openapi.json", server.base)).call().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let document = response.into_string().unwrap();
    server.stop();
    let validated = Command::new("python3")
        .args([
            "-c",
            "import sys, json\nfrom openapi_spec_validator import validate\nvalidate(json.load(sys.stdin))\nprint('valid')",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(document.as_bytes())?;
            child.wait_with_output()
        })
        .expect("python3");
    assert!(
        validated.status.success() && String::from_utf8_lossy(&validated.stdout).trim() == "valid",
        "openapi-spec-validator refused /v1/openapi.json:\n{}",
        String::from_utf8_lossy(&validated.stderr)
    );
    let printed = run(Command::new(BIN).arg("openapi").current_dir(dir.path()).env_clear());
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim_end(), document);
}

/// The binary on an S3-compatible store (`ROOST_FILES_URL`, the `AWS_*` variables): a bucket that
/// does not exist stops start-up with a message saying so; an existing one takes uploads and
/// serves them, and `roost files sweep` reports on it.
#[test]
#[ignore = "needs an S3-compatible server in ROOST_TEST_S3_URL and AWS_*; .ci/run starts moto and runs it with --include-ignored"]
fn the_binary_stores_files_in_s3() {
    let bucket = std::env::var("ROOST_TEST_S3_URL").expect("ROOST_TEST_S3_URL (s3://bucket) is not set");
    let aws: Vec<(String, String)> = std::env::vars().filter(|(name, _)| name.starts_with("AWS_")).collect();
    let db = TestDatabase::sqlite();
    let data = tempfile::tempdir().unwrap();
    let missing =
        roost(&db, data.path()).envs(aws.clone()).env("ROOST_FILES_URL", "s3://no-such-bucket-here").output().unwrap();
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("the bucket must exist"), "{stderr}");

    let prefix = format!("{}/e2e-{}", bucket.trim_end_matches('/'), std::process::id());
    let mut env: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.push(("ROOST_FILES_URL", &prefix));
    let server = Server::start(&db, data.path(), &env);
    let token = token(&server.base, &server.printed("client_id:"), &server.printed("client_secret:")).unwrap();
    let (status, _) =
        api("POST", &format!("{}/v1/users", server.base), &token, Some(json!({"name": "s3-jo", "displayName": "Jo"})));
    assert_eq!(status, 200);
    let (status, channel) =
        api("POST", &format!("{}/v1/channels", server.base), &token, Some(json!({"type": "PUBLIC", "name": "s3"})));
    assert_eq!(status, 200);
    let boundary = "e2e-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\nContent-Type: text/plain\r\n\r\nhello from S3\r\n--{boundary}--\r\n"
    );
    let message: Value = ureq::post(&format!("{}/v1/channels/{}/messages", server.base, channel["id"]))
        .set("authorization", &format!("Bearer {token}"))
        .set("content-type", &format!("multipart/form-data; boundary={boundary}"))
        .send_bytes(body.as_bytes())
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(message["file"]["type"], "HOSTED", "{message}");
    let url = message["file"]["url"].as_str().unwrap();
    let served = ureq::get(url).call().unwrap().into_string().unwrap();
    assert_eq!(served, "hello from S3");
    let (_, log) = server.stop();
    assert!(!log.contains("sweep failed"), "{log}");
    let sweep =
        run(roost(&db, data.path()).envs(aws).env("ROOST_FILES_URL", &prefix).args(["files", "sweep", "--json"]));
    let report: Value = serde_json::from_slice(&sweep.stdout).unwrap();
    assert_eq!(report["missing_bytes"], 0, "{report}");
    assert_eq!(report["orphaned_bytes"], 0, "{report}");
}

/// A real SMTP server (aiosmtpd, from PyPI) writing what it receives into a maildir.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    fn start() -> Self {
        let maildir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not listen on {port} (pip install aiosmtpd)");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, port, maildir }
    }

    /// The messages received so far that contain `needle`, waiting up to 30 s for one.
    fn received(&self, needle: &str) -> String {
        let new = self.maildir.path().join("mail").join("new");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for entry in std::fs::read_dir(&new).into_iter().flatten().flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if text.contains(needle) {
                    return text;
                }
            }
            assert!(Instant::now() < deadline, "no mail with '{needle}' reached the SMTP server");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Mail goes out through a real SMTP server (ROOST_SMTP_URL): the activation token reaches the
/// mailbox, activates the account, and the outbox shows the mail as sent. Failed logins lock the
/// account until `roost users unlock`, run beside the live server.
#[test]
#[ignore = "needs Python's aiosmtpd; .ci/run installs it and runs this with --include-ignored"]
fn mail_goes_out_by_smtp_and_the_operator_unlocks_accounts() {
    let smtp = SmtpServer::start();
    let db = TestDatabase::sqlite();
    let data = tempfile::tempdir().unwrap();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let env = [
        ("ROOST_SMTP_URL", smtp_url.as_str()),
        ("ROOST_MAIL_FROM", "Roost <roost@chat.example>"),
        ("ROOST_LOGIN_LOCKOUT_FAILURES", "2"),
    ];
    let server = Server::start(&db, data.path(), &env);
    let token = token(&server.base, &server.printed("client_id:"), &server.printed("client_secret:")).unwrap();
    let (_, application) = api("GET", &format!("{}/v1/application", server.base), &token, None);
    let settings = json!({"userSignUp": "ENABLED"});
    assert_eq!(api("PUT", &format!("{}/v1/application/settings", server.base), &token, Some(settings)).0, 200);
    let public = |path: &str, body: Value| match ureq::post(&format!("{}{path}", server.base)).send_json(body) {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(status, _)) => status,
        Err(e) => panic!("{path}: {e}"),
    };
    let sign_up = json!({"key": application["key"], "username": "mailed", "email": "mailed@example.com", "password": "a long passphrase"});
    assert_eq!(public("/v1/accounts", sign_up), 201);
    let mail = smtp.received("mailed@example.com");
    assert!(mail.contains("From: Roost <roost@chat.example>"), "{mail}");
    let activation = mail.split_whitespace().find(|w| w.starts_with("rmt_")).expect("a token in the mail");
    assert_eq!(public("/v1/accounts/activate", json!({"token": activation})), 200);

    let login = |password: &str| {
        public("/v1/sessions", json!({"key": application["key"], "username": "mailed", "password": password}))
    };
    assert_eq!(login("wrong guess"), 401);
    assert_eq!(login("wrong guess"), 401);
    assert_eq!(login("a long passphrase"), 429, "locked after two failures");
    let unlocked = run(roost(&db, data.path()).args(["users", "unlock", &application["id"].to_string(), "mailed"]));
    assert!(String::from_utf8_lossy(&unlocked.stdout).contains("may log in again"));
    assert_eq!(login("a long passphrase"), 200);
    let (_, log) = server.stop();
    assert!(log.contains("mail goes out by SMTP"), "{log}");
    assert!(!log.contains(activation), "a token never reaches the log");

    let outbox = run(roost(&db, data.path()).args(["outbox", "list", "--json"]));
    let first: Value = serde_json::from_slice(outbox.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!((first["status"].as_str(), first["attempts"].as_u64()), (Some("sent"), Some(1)), "{first}");
    let unknown = roost(&db, data.path()).args(["users", "unlock", "1", "nobody"]).output().unwrap();
    assert!(!unknown.status.success());

    let bad = roost(&db, data.path()).env("ROOST_SMTP_URL", "http://nope").output().unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid ROOST_SMTP_URL"));
}
