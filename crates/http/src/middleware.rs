//! Response headers every answer carries, and the one log line per request.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use rand::RngCore;
use tracing::Instrument;

use crate::state::{AppState, MetricsExposure};

/// The API version Roost implements: the ChatKitty Platform API spec it follows.
pub const API_VERSION: &str = "2.41.9";

/// The request headers every answer may vary by.
const VARY_NAMES: &[&str] = &["Origin", "Accept", "Accept-Encoding"];

/// Adds `names` to `Vary` (RFC 9110 §12.5.5), keeping what a layer or route put there.
fn add_vary(headers: &mut actix_web::http::header::HeaderMap, names: &[&str]) {
    // The common case, no Vary yet: one static value, no allocation.
    if !headers.contains_key(header::VARY) && names == VARY_NAMES {
        headers.insert(header::VARY, HeaderValue::from_static("Origin, Accept, Accept-Encoding"));
        return;
    }
    let present: Vec<String> = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect();
    if present.iter().any(|v| v == "*") {
        return;
    }
    let mut all: Vec<String> = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    all.extend(names.iter().filter(|n| !present.contains(&n.to_ascii_lowercase())).map(|n| (*n).to_owned()));
    if let Ok(value) = HeaderValue::from_str(&all.join(", ")) {
        headers.insert(header::VARY, value);
    }
}

/// A per-response id, 32 upper-case hex characters as ChatKitty's `x-response-token`.
fn response_token() -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let mut token = String::with_capacity(32);
    for byte in bytes {
        token.push(char::from(HEX[usize::from(byte >> 4)]));
        token.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    token
}

/// Runs the request in a tracing span carrying its response token, so every line logged while
/// handling it (a 5xx's cause chain among them) names the response the client got; adds `x-api-version`, `x-response-token`, `x-content-type-options` and
/// `x-frame-options`; and logs method, path (never the query), status and latency. No header or
/// body is logged, so neither secrets nor tokens can reach the log.
pub async fn headers_and_log(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    // Logged as the client wrote it; routed in its normal form.
    let path = req.path().to_owned();
    crate::paths::normalize(&mut req);
    let token = response_token();
    // Only the token in the span: it is formatted once per request, and names the request in
    // every line logged while handling it. Its target is the request line's, so a filter that
    // keeps that line (`roost::request=info`) keeps the token on it (measured: +6 300 instructions per request with method
    // and path in the span as well, on the cheapest read's ~143 000).
    let span = tracing::info_span!(target: "roost::request", "request", response_token = %token);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // Probes come every few seconds from every load balancer: never limited, not logged (below).
    let probe = matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics");
    let limits = state.as_ref().filter(|s| s.rate_limits.is_some() && !probe);
    let mut response = match limits.and_then(|s| s.rate_limits.as_ref()).map(|l| l.check_address(req.request())) {
        Some(Err(refused)) => req.error_response(refused).map_into_right_body(),
        _ => match state.clone().filter(|_| crate::idempotency::applies(&req)) {
            Some(state) => {
                crate::idempotency::run(req, next, state).instrument(span.clone()).await?.map_into_right_body()
            }
            None => next.call(req).instrument(span.clone()).await?.map_into_left_body(),
        },
    };
    if let Some(limits) = limits.and_then(|s| s.rate_limits.as_ref()) {
        let (request, response) = (response.request().clone(), &mut response);
        limits.write_headers(&request, response.headers_mut());
    }
    if let Some(state) = state.filter(|s| s.settings.metrics != MetricsExposure::Off) {
        let route = response.request().match_pattern();
        let status = response.status().as_u16();
        state.metrics.observe_request(&method, route, status, started.elapsed().as_secs_f64());
    }
    let headers = response.headers_mut();
    let fixed = [
        ("x-api-version", API_VERSION),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("x-xss-protection", "1; mode=block"),
    ];
    for (name, value) in fixed {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    // ChatKitty's caching headers (seed 000), unless a route chose its own (the explorer's files
    // and generated pictures may be cached). A client that kept an ETag may still revalidate.
    if !headers.contains_key(header::CACHE_CONTROL) {
        let no_cache = [
            (header::CACHE_CONTROL, "no-cache, no-store, max-age=0, must-revalidate"),
            (header::PRAGMA, "no-cache"),
            (header::EXPIRES, "0"),
        ];
        for (name, value) in no_cache {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    // Answers differ by these request headers (content negotiation, CORS, compression).
    add_vary(headers, VARY_NAMES);
    if let Ok(value) = HeaderValue::from_str(&token) {
        headers.insert(HeaderName::from_static("x-response-token"), value);
    }
    // Logging each probe would drown the requests that matter. Their failures still log (a
    // 5xx logs its cause).
    // A route whose path holds a secret (a file's key, a mailed token) is logged by its template.
    let secret = response.request().match_pattern().filter(|p| p.contains("{key}") || p.contains("{token}"));
    let path = secret.unwrap_or(path);
    span.in_scope(|| {
        if probe {
            return;
        }
        tracing::info!(
            target: "roost::request",
            %method,
            path = %path,
            status = response.status().as_u16(),
            latency_ms = format!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
            "request"
        );
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_tokens_are_32_upper_case_hex_characters() {
        let token = response_token();
        assert_eq!(token.len(), 32);
        assert!(token.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)), "{token}");
        assert_ne!(token, response_token());
    }

    /// What the test's log subscriber wrote.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A 5xx logs its whole cause chain inside the request's span, so the line names the
    /// response token the client got; the client sees none of the cause. (In this binary's unit
    /// tests, where no other test serves requests: a thread-local subscriber misses spans whose
    /// interest a test on another thread cached first.)
    #[actix_web::test]
    async fn a_5xx_logs_its_cause_chain_in_the_request_span() {
        use std::sync::Arc;

        use actix_web::test::{call_service, init_service, read_body, TestRequest};
        use actix_web::web::Data;
        use roost_domain::{IdGenerator, Ports};
        use roost_persistence::testing::TestDatabase;

        let logs = Captured::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || sink.clone()).with_ansi(false).finish();
        let _logging = tracing::subscriber::set_default(subscriber);

        let db = TestDatabase::sqlite();
        let ids = Arc::new(IdGenerator::new(1).unwrap());
        let store = Arc::new(db.store_with_ids(ids.clone()));
        let hasher = Arc::new(roost_auth::SecretHasher::for_tests().unwrap());
        let state = crate::AppState::new(Ports::from_store(store), ids, hasher, Default::default()).unwrap();
        let app = init_service(crate::app(Data::new(state))).await;
        // A database that lost its migrations answers readiness with a 503.
        db.execute("DROP TABLE __diesel_schema_migrations");
        let response = call_service(&app, TestRequest::get().uri("/readyz").to_request()).await;
        assert_eq!(response.status(), 503);
        let token = response.headers().get("x-response-token").unwrap().to_str().unwrap().to_owned();
        let body = read_body(response).await;

        let log = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let span = format!("request{{response_token={token}}}");
        let failed = log
            .lines()
            .find(|l| l.contains(&span) && l.contains("request failed"))
            .unwrap_or_else(|| panic!("no 'request failed' line in the span {span}: {log}"));
        assert!(failed.contains("store unavailable: the database lacks migrations of this build"), "{failed}");
        assert!(!String::from_utf8_lossy(&body).contains("migrations"), "the cause reached the client");
    }
}
