//! `GET /docs`: an API explorer (Swagger UI) over Roost's OpenAPI document. Its files are
//! compiled into the binary from the crate registry (`utoipa-swagger-ui`'s `vendored` feature):
//! nothing is fetched at build time or by the browser, so it works on a machine without
//! internet. A developer pastes a client id and secret under "Authorize" (the document's
//! client-credentials scheme, token URL `/oauth/token`), and tries calls.

use std::sync::{Arc, LazyLock};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa_swagger_ui::Config;

use crate::error::ApiError;

/// Where the explorer reads the document.
const DOCUMENT: &str = "/v1/openapi.json";

static CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::new([DOCUMENT])
            .try_it_out_enabled(true)
            .persist_authorization(false)
            .display_request_duration(true)
            .filter(true),
    )
});

/// `/docs` → `/docs/`: the page's files are addressed relative to it.
pub async fn redirect() -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, "/docs/")).finish()
}

/// `/docs/{file}`: the page and its files.
pub async fn file(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = utoipa_swagger_ui::serve(&path.into_inner(), CONFIG.clone())
        .map_err(|e| ApiError::Internal(format!("serving the API explorer: {e}")))?
        .ok_or(ApiError::RouteNotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(file.bytes.into_owned()))
}
