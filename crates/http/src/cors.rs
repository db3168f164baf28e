//! CORS for browser apps (Fetch standard, "CORS protocol"): off unless origins are configured
//! (`ROOST_CORS_ALLOWED_ORIGINS`), so a browser page on another origin can call the API only
//! where the operator allowed it.

use actix_cors::Cors;
use actix_web::http::header;

/// Response headers a browser script may read: validators, the id to quote when reporting a
/// problem, the API version and when to retry after a 429 or 503.
const EXPOSED: [&str; 9] = [
    "etag",
    "last-modified",
    "x-response-token",
    "x-api-version",
    "retry-after",
    "location",
    "ratelimit",
    "ratelimit-policy",
    "idempotent-replayed",
];

/// The CORS middleware for `origins` (`*` allows any origin), or `None` when there are none.
/// Preflights allow `Authorization` (tokens are sent as a header, never as a cookie, so no
/// credentials mode is needed) and answer with `Vary: Origin`.
pub fn layer(origins: &[String]) -> Option<Cors> {
    if origins.is_empty() {
        return None;
    }
    let mut cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::ACCEPT,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::IF_UNMODIFIED_SINCE,
            header::HeaderName::from_static("x-options"),
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers(EXPOSED)
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin();
    } else {
        for origin in origins {
            cors = cors.allowed_origin(origin);
        }
    }
    Some(cors)
}
