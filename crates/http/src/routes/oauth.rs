//! `POST /oauth/token` (RFC 6749 §4.4), `/oauth/revoke` (RFC 7009), `/oauth/introspect`
//! (RFC 7662).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use roost_auth::grant::check_grant;
use roost_auth::{AuthServer, ClientCredentials, FormParams, OAuthError};
use roost_domain::model::application::OAuthClient;
use roost_domain::now;

use crate::connection::hashing_source;
use crate::error::ApiError;
use crate::extract::{blocking, OAuthForm};
use crate::hashing::Refused;
use crate::openapi::{IntrospectionSchema, OAuthErrorSchema, OAuthFormSchema, TokenResponseSchema};
use crate::state::AppState;

fn no_store(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    response
}

fn credentials(req: &HttpRequest, form: &FormParams) -> Result<ClientCredentials, ApiError> {
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    Ok(ClientCredentials::from_request(authorization, form)?)
}

/// Rate-limits, then runs argon2 on the hashing threads (one per core) behind their bounded
/// queue ([`crate::hashing`]), so secret checks can neither exhaust the CPU nor starve the
/// threads that serve the rest of the API.
async fn with_authenticated_client<T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    credentials: ClientCredentials,
    then: impl FnOnce(&AuthServer, OAuthClient) -> Result<T, OAuthError> + Send + 'static,
) -> Result<T, ApiError> {
    let (address, gone) = hashing_source(req);
    state
        .limiter
        .check(Some(&credentials.client_id), address)
        .map_err(|retry_after_secs| OAuthError::RateLimited { retry_after_secs })?;
    let hashing = state.clone();
    let client =
        state.hashing.run(address, gone, move || hashing.auth.authenticate_client(&credentials)).await.map_err(
            |refused| match refused {
                // A client that has gone sees no answer; one that only half-closed may retry.
                Refused::Full | Refused::Expired | Refused::ClientGone => {
                    ApiError::from(OAuthError::Overloaded { retry_after_secs: 1 })
                }
                Refused::Lost => ApiError::Internal("a hashing task panicked".into()),
            },
        )??;
    let auth = state.clone();
    blocking(state, None, move || Ok(then(&auth.auth, client)?)).await
}

#[utoipa::path(
    post,
    path = "/oauth/token",
    operation_id = "issue-token",
    tag = "oauth",
    summary = "Issue an access token (client credentials)",
    request_body(content((OAuthFormSchema = "application/x-www-form-urlencoded"), (OAuthFormSchema = "multipart/form-data"))),
    responses(
        (status = 200, description = "A bearer token", body = TokenResponseSchema),
        (status = 400, description = "A malformed request, an unsupported grant or scope, or bad form credentials", body = OAuthErrorSchema),
        (status = 401, description = "Bad HTTP Basic credentials", body = OAuthErrorSchema),
        (status = 429, description = "Too many requests from this client or address; see `Retry-After`", body = OAuthErrorSchema),
        (status = 503, description = "Too many secret checks queued; see `Retry-After`", body = OAuthErrorSchema),
    ),
    security(("client_basic" = []), ()),
)]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    OAuthForm(form): OAuthForm,
) -> Result<HttpResponse, ApiError> {
    let credentials = credentials(&req, &form)?;
    check_grant(&form)?;
    let response =
        with_authenticated_client(&state, &req, credentials, move |auth, client| auth.issue(&client, &form, now()))
            .await?;
    state.metrics.token_issued();
    Ok(no_store(HttpResponse::Ok().json(response)))
}

#[utoipa::path(
    post,
    path = "/oauth/revoke",
    operation_id = "revoke-token",
    tag = "oauth",
    summary = "Revoke an access token",
    request_body(content((OAuthFormSchema = "application/x-www-form-urlencoded"), (OAuthFormSchema = "multipart/form-data"))),
    responses(
        (status = 200, description = "Revoked, or not a token of this client (RFC 7009 §2.2)"),
        (status = 400, description = "A malformed request, an unsupported grant or scope, or bad form credentials", body = OAuthErrorSchema),
        (status = 401, description = "Bad HTTP Basic credentials", body = OAuthErrorSchema),
        (status = 429, description = "Too many requests from this client or address; see `Retry-After`", body = OAuthErrorSchema),
        (status = 503, description = "Too many secret checks queued; see `Retry-After`", body = OAuthErrorSchema),
    ),
    security(("client_basic" = []), ()),
)]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    OAuthForm(form): OAuthForm,
) -> Result<HttpResponse, ApiError> {
    let credentials = credentials(&req, &form)?;
    with_authenticated_client(&state, &req, credentials, move |auth, client| auth.revoke(&client, &form)).await?;
    Ok(no_store(HttpResponse::Ok().finish()))
}

#[utoipa::path(
    post,
    path = "/oauth/introspect",
    operation_id = "introspect-token",
    tag = "oauth",
    summary = "Introspect an access token",
    request_body(content((OAuthFormSchema = "application/x-www-form-urlencoded"), (OAuthFormSchema = "multipart/form-data"))),
    responses(
        (status = 200, description = "What the token is", body = IntrospectionSchema),
        (status = 400, description = "A malformed request, an unsupported grant or scope, or bad form credentials", body = OAuthErrorSchema),
        (status = 401, description = "Bad HTTP Basic credentials", body = OAuthErrorSchema),
        (status = 429, description = "Too many requests from this client or address; see `Retry-After`", body = OAuthErrorSchema),
        (status = 503, description = "Too many secret checks queued; see `Retry-After`", body = OAuthErrorSchema),
    ),
    security(("client_basic" = []), ()),
)]
pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    OAuthForm(form): OAuthForm,
) -> Result<HttpResponse, ApiError> {
    let credentials = credentials(&req, &form)?;
    let introspection = with_authenticated_client(&state, &req, credentials, move |auth, client| {
        auth.introspect(&client, &form, now())
    })
    .await?;
    Ok(no_store(HttpResponse::Ok().json(introspection)))
}
