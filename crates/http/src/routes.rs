//! The route table. Legacy application-scoped paths (`/v1/applications/{app_id}/…`, seed
//! 001) are served by the same handlers as the flat ones.

pub(crate) mod account_security;
pub(crate) mod accounts;
pub(crate) mod application;
pub(crate) mod bodies;
pub(crate) mod channels;
mod docs;
mod endpoint;
pub(crate) mod events;
pub(crate) mod files;
mod health;
pub(crate) mod jobs;
pub(crate) mod me;
pub(crate) mod members;
pub(crate) mod messages;
pub(crate) mod notifications;
pub(crate) mod oauth;
mod pages;
pub(crate) mod picture;
pub(crate) mod tests;
pub(crate) mod threads;
pub(crate) mod users;
pub(crate) mod webhooks;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::ApiError;
pub(crate) use endpoint::{endpoint, route_table, scope};

/// Largest JSON request body (OWASP API4: bodies are bounded before they are parsed).
const JSON_BODY_LIMIT: usize = 256 * 1024;

/// `GET /metrics` alone: the app a separate metrics address serves (`ROOST_METRICS_BIND`).
pub fn configure_metrics(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint("/metrics").get(health::metrics));
    cfg.default_service(web::to(|| async { Err::<HttpResponse, _>(ApiError::RouteNotFound) }));
}

/// Mounts every route, the body and query error handlers, and the fallbacks; `/metrics` only
/// where the settings serve it with the API.
pub fn configure_with_metrics(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint("/metrics").get(health::metrics));
    configure(cfg);
}

/// Mounts every route, the body and query error handlers, and the fallbacks.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(json_config(JSON_BODY_LIMIT))
        .app_data(web::PathConfig::default().error_handler(|e, _| ApiError::BadRequest(e.to_string()).into()))
        .app_data(web::QueryConfig::default().error_handler(|e, _| ApiError::BadRequest(e.to_string()).into()))
        .service(endpoint("/").get(health::about))
        .service(endpoint("/healthz").get(health::alive))
        .service(endpoint("/readyz").get(health::ready))
        .service(endpoint("/docs").get(docs::redirect))
        .service(endpoint("/docs/{file:.*}").get(docs::file))
        .service(endpoint("/oauth/token").post(oauth::token))
        .service(endpoint("/oauth/revoke").post(oauth::revoke))
        .service(endpoint("/oauth/introspect").post(oauth::introspect))
        .service(endpoint("/v1").get(application::root))
        .service(endpoint("/v1/application").get(application::get))
        .service(endpoint("/v1/application/settings").get(application::get_settings).put(application::put_settings))
        .service(endpoint("/v1/application/message-read-receipt-summaries").get(application::read_receipt_summaries))
        .service(endpoint("/v1/picture/{name}").get(picture::get))
        .service(endpoint("/v1/files/{key}").get(files::download))
        .configure(accounts::configure)
        .configure(me::configure)
        .configure(events::configure)
        .configure(jobs::configure)
        .service(scope("/v1/webhooks", webhooks::configure))
        .service(endpoint("/v1/openapi.json").get(crate::openapi::serve))
        // Scopes first match a fixed prefix (a string comparison), then only their own routes:
        // actix tries routes one by one, each a regex (issue 4: 6 % of CPU in route matching).
        .service(scope("/v1/users", users::configure))
        .service(scope("/v1/channels", channels::configure))
        .service(scope("/v1/messages", messages::configure))
        .service(scope("/v1/threads", threads::configure))
        .service(
            endpoint("/v1/tests")
                .get(tests::get_all)
                .post(tests::post_all)
                .put(tests::put_all)
                .patch(tests::patch_all)
                .delete(tests::delete_all),
        )
        .service(
            endpoint("/v1/tests/{id}")
                .get(tests::get_one)
                .post(tests::post_one)
                .put(tests::put_one)
                .patch(tests::patch_one)
                .delete(tests::delete_one),
        )
        .service(endpoint("/v1/applications/{app_id}").get(application::get))
        // Seed 000's application-scoped paths: every family, for `me` or the token's own id.
        .service(
            endpoint("/v1/applications/{app_id}/settings")
                .get(application::get_settings)
                .put(application::put_settings),
        )
        .service(
            endpoint("/v1/applications/{app_id}/message-read-receipt-summaries")
                .get(application::read_receipt_summaries),
        )
        .service(scope("/v1/applications/{app_id}/users", users::configure))
        .service(scope("/v1/applications/{app_id}/channels", channels::configure))
        .service(scope("/v1/applications/{app_id}/messages", messages::configure))
        .service(scope("/v1/applications/{app_id}/threads", threads::configure));
    cfg.default_service(web::to(|| async { Err::<HttpResponse, _>(ApiError::RouteNotFound) }));
}

/// JSON bodies: `application/json`, any `+json` type, and the spec's non-standard
/// `application/json+merge-patch` spelling of RFC 7396's `application/merge-patch+json`.
fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(true)
        .content_type(|mime| {
            mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON
                    || mime.suffix() == Some(mime::JSON)
                    || mime.essence_str() == "application/json+merge-patch")
        })
        .error_handler(|e, req| json_error(e, req).into())
}

fn json_error(e: actix_web::error::JsonPayloadError, req: &HttpRequest) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match e {
        // No body at all (and so no content type): say what is missing, not what type is wrong.
        E::ContentType if req.headers().get(header::CONTENT_TYPE).is_none() && declared_length(req) == 0 => {
            ApiError::BadRequest(format!("{} {} needs a JSON body (application/json)", req.method(), req.path()))
        }
        E::ContentType => {
            let given = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("none");
            ApiError::UnsupportedMediaType(format!(
                "expected a JSON body (application/json, or any +json type) or a form \
                 (application/x-www-form-urlencoded), got content type '{given}'"
            ))
        }
        E::Overflow { limit } | E::OverflowKnownLength { limit, .. } => {
            ApiError::PayloadTooLarge(format!("the body must be at most {limit} bytes"))
        }
        E::Deserialize(e) => ApiError::BadRequest(format!("malformed JSON body: {e}")),
        other => ApiError::BadRequest(format!("unreadable JSON body: {other}")),
    }
}

/// The body length a request declares: `Content-Length`, or none (0) without it and without a
/// chunked `Transfer-Encoding`.
fn declared_length(req: &HttpRequest) -> u64 {
    let header_value = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    match header_value(header::CONTENT_LENGTH) {
        Some(length) => length.trim().parse().unwrap_or(u64::MAX),
        None if header_value(header::TRANSFER_ENCODING).is_some() => u64::MAX,
        None => 0,
    }
}
