//! Roost's HTTP adapter (actix-web): routes, extractors, representations and the one error
//! table. Handlers are thin: extract, make one call to the domain's service (on the storage
//! threads, since storage is synchronous), render, `?`.
//!
//! [`app`] builds the whole application, routes and middleware; the binary and the tests both
//! use it, so none of them can leave a part out.

mod cache;
pub mod error;
mod extract;
mod middleware;
mod negotiate;
mod repr;
mod routes;
mod state;
mod urls;
pub mod workers;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App};

pub use cache::ResponseCache;
pub use error::ApiError;
pub use middleware::API_VERSION;
pub use state::{AppState, HttpSettings, StartError};

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
    App::new().app_data(state).wrap(from_fn(middleware::headers_and_log)).configure(routes::configure)
}
