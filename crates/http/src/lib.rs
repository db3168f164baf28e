//! Roost's HTTP adapter (actix-web): routes, extractors, representations and the one error
//! table. Handlers are thin: extract, call one use case (on the blocking pool, since storage is
//! synchronous), render, `?`.

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

pub use cache::{track_writes, ResponseCache};
pub use error::ApiError;
pub use middleware::{headers_and_log, API_VERSION};
pub use routes::configure;
pub use state::{AppState, HttpSettings};
