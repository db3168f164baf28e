use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::web;
use base64::Engine;
use roost_auth::provision::{create_application, Provisioned};
use roost_auth::SecretHasher;
use roost_domain::ports::Ports;
use roost_domain::{now, IdGenerator};
use roost_http::{AppState, HttpSettings};
use roost_persistence::testing::TestDatabase;
use roost_persistence::DieselStore;
use serde_json::Value;

/// One application's view of a fresh Roost on one backend.
pub struct TestApp {
    pub db: TestDatabase,
    pub store: Arc<DieselStore>,
    pub ids: Arc<IdGenerator>,
    pub state: web::Data<AppState>,
    pub app: Provisioned,
    pub token: String,
    /// Where this Roost's hosted files go (unless `s3`).
    pub files_dir: tempfile::TempDir,
    /// The files go to the S3-compatible server of `ROOST_TEST_S3_URL` instead.
    pub s3: bool,
    /// The app's service, built on first use.
    service: std::cell::OnceCell<AppService>,
}

/// The app as one boxed service, answering with boxed bodies.
type AppService = actix_service::boxed::RcService<
    actix_http::Request,
    actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
    actix_web::Error,
>;

/// The S3-compatible store the files tests also run on (`s3://bucket`; the endpoint and
/// credentials in the `AWS_*` variables); `.ci/run` starts one (moto) and sets it.
pub const S3_ENV: &str = "ROOST_TEST_S3_URL";

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// A Roost on every configured backend, each with one application and a token for it.
    pub async fn each() -> Vec<TestApp> {
        // As the server runs on SQLite: with the response cache, so every test checks that
        // writes invalidate it.
        Self::each_with(HttpSettings { response_cache_bytes: 16 << 20, ..HttpSettings::default() }).await
    }

    pub async fn each_with(settings: HttpSettings) -> Vec<TestApp> {
        let mut apps = Vec::new();
        for db in TestDatabase::all() {
            apps.push(Self::new(db, settings.clone()).await);
        }
        apps
    }

    /// As [`Self::each_with`], plus a Roost on SQLite whose files go to the S3-compatible
    /// server of [`S3_ENV`] (required under `CI=true`: the S3 path must run there).
    pub async fn each_file_store(settings: HttpSettings) -> Vec<TestApp> {
        let mut apps = Self::each_with(settings.clone()).await;
        match std::env::var(S3_ENV) {
            Ok(url) => {
                // A prefix of its own: tests share the bucket and count what they leave.
                let url = format!("{}/{}", url.trim_end_matches('/'), roost_files::Files::new_key());
                let files = roost_files::Files::s3(&url).unwrap_or_else(|e| panic!("{S3_ENV}={url}: {e}"));
                files.check().await.unwrap_or_else(|e| panic!("the S3 store of {S3_ENV} does not answer: {e}"));
                let mut app = Self::new(TestDatabase::sqlite(), HttpSettings { files: Some(files), ..settings }).await;
                app.s3 = true;
                apps.push(app);
            }
            Err(_) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
                panic!("{S3_ENV} is not set: under CI the files tests run against an S3-compatible server")
            }
            Err(_) => {}
        }
        apps
    }

    /// The file store this Roost uses.
    pub fn files(&self) -> &roost_files::Files {
        self.state.settings.files.as_ref().unwrap()
    }

    /// How many objects the file store holds.
    pub async fn stored_files(&self) -> usize {
        self.files().list().await.unwrap().len()
    }

    async fn new(db: TestDatabase, mut settings: HttpSettings) -> Self {
        let files_dir = tempfile::tempdir().unwrap();
        if settings.files.is_none() {
            settings.files = Some(roost_files::Files::local(files_dir.path()).unwrap());
        }
        let ids = Arc::new(IdGenerator::new(1).unwrap());
        let store = Arc::new(db.store_with_ids(ids.clone()));
        let hasher = Arc::new(SecretHasher::for_tests().unwrap());
        let app = create_application(store.as_ref(), &ids, &hasher, "Test app", now()).unwrap();
        let state =
            web::Data::new(AppState::new(Ports::from_store(store.clone()), ids.clone(), hasher, settings).unwrap());
        let mut this = Self {
            db,
            store,
            ids,
            state,
            app,
            token: String::new(),
            files_dir,
            s3: false,
            service: std::cell::OnceCell::new(),
        };
        this.token = this.token_for(&this.app.clone()).await;
        this
    }

    pub fn label(&self) -> &'static str {
        if self.s3 {
            "sqlite + S3"
        } else {
            self.db.label
        }
    }

    /// A second application in the same Roost, with its own token.
    pub async fn other_application(&self) -> (Provisioned, String) {
        let other =
            create_application(self.store.as_ref(), &self.ids, self.state.auth.hasher(), "Other app", now()).unwrap();
        let token = self.token_for(&other).await;
        (other, token)
    }

    pub async fn token_for(&self, app: &Provisioned) -> String {
        let reply = self
            .send(
                TestRequest::post()
                    .uri("/oauth/token")
                    .insert_header(("authorization", basic(&app.client_id, &app.client_secret)))
                    .insert_header(("content-type", "application/x-www-form-urlencoded"))
                    .set_payload("grant_type=client_credentials"),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Calls the app's service (built on first use), the body unread.
    pub async fn service_call(&self, req: TestRequest) -> actix_web::dev::ServiceResponse<actix_web::body::BoxBody> {
        if self.service.get().is_none() {
            use actix_service::ServiceExt;
            let built = test::init_service(roost_http::app(self.state.clone())).await;
            let boxed = actix_service::boxed::rc_service(built.map(|r| r.map_into_boxed_body()));
            let _ = self.service.set(boxed);
        }
        let service = self.service.get().expect("built above");
        test::call_service(service, req.to_request()).await
    }

    pub async fn send(&self, req: TestRequest) -> Reply {
        let response = self.service_call(req).await;
        let status = response.status();
        let headers = response.headers().clone();
        let method = response.request().method().clone();
        let route = response.request().match_pattern();
        // Whether the request asked for snake_case names (crates/http/src/casing.rs).
        let asked =
            |name: &str| response.request().headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let snake = response.request().query_string().contains("_case=snake")
            || (asked("x-options").contains("snake"))
            || (asked("accept").contains("application/vnd.chatkitty+json")
                && !response.request().query_string().contains("_case=camel")
                && !asked("x-options").contains("camel"));
        // Partial output (`fields`, `_empty`) leaves the schemas on purpose: required fields
        // dropped, blank ones as null. Everything else is checked.
        // A file is sent as its own media type, not one the document can list.
        let download = route.as_deref().is_some_and(|r| r.contains("/files/"));
        let partial = download
            || route.as_deref().is_some_and(|r| !r.contains("/tests"))
                && (response.request().query_string().contains("fields=")
                    || response.request().query_string().contains("_empty=")
                    || asked("x-options").contains("empty"));
        let raw = test::read_body(response).await.to_vec();
        if let Some(route) = route.filter(|_| !partial) {
            // Every response of every HTTP test is checked against the OpenAPI document.
            let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
            crate::openapi::check_response(&method, &route, status, content_type, snake, &raw);
        }
        let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).unwrap_or(Value::Null) };
        Reply { status, headers, body, raw }
    }

    /// An authenticated request with this application's token.
    pub async fn call(&self, req: TestRequest) -> Reply {
        self.send(req.insert_header(("authorization", format!("Bearer {}", self.token)))).await
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.call(TestRequest::get().uri(uri)).await
    }

    pub async fn post_json(&self, uri: &str, body: Value) -> Reply {
        self.call(TestRequest::post().uri(uri).set_json(body)).await
    }

    /// A session token acting as user `user_id`, as `POST /v1/sessions` would issue, without a
    /// password check (tests of what a session may do need many, and argon2 is slow).
    pub fn session_for(&self, user_id: i64) -> String {
        use roost_domain::ports::AccountStore;
        let issued = roost_auth::token::issue_secret(roost_auth::token::SESSION_TOKEN_PREFIX);
        let started = now();
        let session = roost_domain::model::account::Session {
            id: self.ids.next_id(),
            token_hash: issued.hash.clone(),
            application_id: self.app.application.id,
            user_id: roost_domain::UserId(user_id),
            user_agent: None,
            created_time: started,
            expires_time: started + chrono::Duration::hours(1),
            ended_time: None,
        };
        self.store.insert_session(&session).unwrap();
        issued.secret
    }

    /// A request as the user of session token `token`.
    pub async fn as_user(&self, token: &str, req: TestRequest) -> Reply {
        self.send(req.insert_header(("authorization", format!("Bearer {token}")))).await
    }

    pub async fn create_user(&self, name: &str) -> Value {
        let reply =
            self.post_json("/v1/users", serde_json::json!({"name": name, "displayName": name, "isGuest": false})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

/// Replaces every run of 10 or more digits (ids) with `[id]`.
pub fn redact_ids(s: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in s.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        out.push_str(if digits.len() >= 10 { "[id]" } else { &digits });
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// Snapshots a body with what differs between runs and backends redacted: ids, keys, times.
pub fn snapshot(name: &str, value: &Value) {
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_json_snapshot!(name, value, {
            ".id" => "[id]",
            ".**.id" => "[id]",
            ".key" => "[key]",
            ".createdTime" => "[time]",
            ".**.createdTime" => "[time]",
            ".timestamp" => "[time]",
            ".channelId" => "[id]",
            ".**.channelId" => "[id]",
            ".**.lastEditedTime" => "[time]",
            ".**.href" => insta::dynamic_redaction(|value, _| {
                insta::internals::Content::from(redact_ids(value.as_str().unwrap_or_default()))
            }),
        });
    });
}
