//! `GET /healthz` (the process is alive), `GET /readyz` (its database answers and is migrated),
//! `GET /metrics` (Prometheus) and `GET /` (what this server is). No token: probes and people check them; none tells
//! anything of a tenant. The probes are left out of the request log (middleware).

use actix_web::{web, HttpResponse, Responder};
use serde_json::json;

use crate::error::ApiError;
use crate::extract::Domain;
use crate::middleware::API_VERSION;
use crate::state::AppState;
use crate::urls::Urls;

/// Alive: answers as long as the process serves HTTP, without touching storage.
pub async fn alive() -> impl Responder {
    HttpResponse::Ok().json(json!({"status": "UP"}))
}

/// Ready: the database answers and holds every migration of this build; otherwise 503 in the
/// API's error shape, so a load balancer sends requests elsewhere.
pub async fn ready(domain: Domain) -> Result<HttpResponse, ApiError> {
    domain.run(|s| s.readiness()).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "UP"})))
}

/// The server's name and version, with links to the API root, its explorer and document, and
/// the probes.
pub async fn about(urls: Urls) -> impl Responder {
    HttpResponse::Ok().json(json!({
        "name": "Roost",
        "version": env!("CARGO_PKG_VERSION"),
        "apiVersion": API_VERSION,
        "_links": {
            "self": {"href": urls.root("/")},
            "api": {"href": urls.v1("")},
            "docs": {"href": urls.root("/docs/")},
            "openapi": {"href": urls.v1("/openapi.json")},
            "health": {"href": urls.root("/healthz")},
            "readiness": {"href": urls.root("/readyz")},
        }
    }))
}

/// Prometheus metrics (see [`crate::metrics`]); read from counters in memory, no storage.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = crate::metrics::render(&state).map_err(|e| ApiError::Internal(format!("encoding metrics: {e}")))?;
    Ok(HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(text))
}
