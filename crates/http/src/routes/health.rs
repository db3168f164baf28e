//! `GET /healthz` (the process is alive), `GET /readyz` (its database answers and is migrated),
//! `GET /metrics` (Prometheus) and `GET /` (what this server is). No token: probes and people check them; none tells
//! anything of a tenant. The probes are left out of the request log (middleware).

use actix_web::{web, HttpResponse, Responder};
use serde_json::json;

use crate::error::ApiError;
use crate::extract::{Authenticated, Domain};
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
/// the probes; with a valid token, also every link of the API root (`GET /v1`), as seed 000's
/// root endpoint has them. Without one (or with one that is not valid) it is still a 200: this
/// is the public page a person opens first.
pub async fn about(urls: Urls, token: Option<Authenticated>) -> impl Responder {
    let mut links = json!({
        "self": {"href": urls.root("/")},
        "api": {"href": urls.v1("")},
        "docs": {"href": urls.root("/docs/")},
        "openapi": {"href": urls.v1("/openapi.json")},
        "health": {"href": urls.root("/healthz")},
        "readiness": {"href": urls.root("/readyz")},
    });
    if token.is_some() {
        let root = serde_json::to_value(crate::repr::application::root(&urls)).unwrap_or_default();
        if let (Some(links), Some(api)) = (links.as_object_mut(), root["_links"].as_object()) {
            for (relation, link) in api {
                links.entry(relation.clone()).or_insert_with(|| link.clone());
            }
        }
    }
    HttpResponse::Ok().json(json!({
        "name": "Roost",
        "version": env!("CARGO_PKG_VERSION"),
        "apiVersion": API_VERSION,
        "_links": links,
    }))
}

/// Prometheus metrics (see [`crate::metrics`]); read from counters in memory, no storage.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = crate::metrics::render(&state).map_err(|e| ApiError::Internal(format!("encoding metrics: {e}")))?;
    Ok(HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(text))
}
