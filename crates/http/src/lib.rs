//! Roost's HTTP adapter (actix-web): routes, extractors, representations and the one error
//! table. Handlers are thin: extract, make one call to the domain's service (on the storage
//! threads, since storage is synchronous), render, `?`.
//!
//! [`app`] builds the whole application, routes and middleware; the binary and the tests both
//! use it, so none of them can leave a part out.

mod cache;
pub mod casing;
mod conditional;
pub mod connection;
mod cors;
pub mod error;
mod extract;
pub mod file_cleanup;
pub mod hashing;
mod idempotency;
pub mod jobs;
pub mod metrics;
mod middleware;
mod negotiate;
mod openapi;
mod output;
mod paths;
pub mod rate_limit;
pub mod realtime;
mod repr;
mod routes;
mod state;
mod upload;
mod urls;
pub mod webhooks;
pub mod workers;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App};

pub use cache::ResponseCache;
pub use error::ApiError;
pub use middleware::API_VERSION;
pub use openapi::openapi_json;
pub use state::{AppState, HttpSettings, MetricsExposure, StartError};

/// The whole HTTP application over `state`: every route and every middleware.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors::layer(&state.settings.cors_allowed_origins);
    let routes = if state.settings.metrics == MetricsExposure::WithApi {
        routes::configure_with_metrics
    } else {
        routes::configure
    };
    // The last `wrap` is the outermost: every answer, a CORS refusal or preflight too, carries
    // the standard headers and is logged.
    App::new()
        .app_data(state)
        .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
        .wrap(from_fn(middleware::headers_and_log))
        .configure(routes)
}

/// Every `(method, path template)` the API serves (not `/metrics`), in declaration order;
/// `HEAD` where a route declares its own (every `GET` answers `HEAD` too).
pub fn api_routes() -> Vec<(actix_web::http::Method, String)> {
    routes::route_table(routes::configure)
}

/// The app a separate metrics address serves: `GET /metrics` only
/// ([`MetricsExposure::Separate`]).
pub fn metrics_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new().app_data(state).configure(routes::configure_metrics)
}
