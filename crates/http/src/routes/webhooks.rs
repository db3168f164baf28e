//! `/v1/webhooks…`: an application's webhooks, their secrets and their deliveries.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_domain::model::webhook::WebhookPatch;
use serde::Deserialize;

use super::endpoint;
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, Domain, ListRequest};
use crate::negotiate::Hal;
use crate::openapi::{DeliveryPage, DeliveryResource, PageParams, WebhookPage, WebhookResource};
use crate::repr::numbered_page;
use crate::repr::webhooks::{delivery, webhook};
use crate::state::AppState;
use crate::urls::Urls;

/// Routes under `/v1/webhooks`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let w = "/{webhook_id}";
    cfg.service(endpoint("").get(list).post(create))
        .service(endpoint(w).get(get).patch(patch).delete(delete))
        .service(endpoint(&format!("{w}/secret")).post(rotate_secret))
        .service(endpoint(&format!("{w}/deliveries")).get(deliveries))
        .service(endpoint(&format!("{w}/deliveries/{{delivery_id}}/retry")).post(retry));
}

/// A webhook's fields (either casing).
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = WebhookInput)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookBody {
    /// Where events are POSTed: an absolute `http`/`https` URL (required when creating).
    url: Option<String>,
    /// Event types to deliver; empty or absent: every event of the log.
    events: Option<Vec<String>>,
    /// Deliver or not (default true).
    enabled: Option<bool>,
}

impl From<WebhookBody> for WebhookPatch {
    fn from(b: WebhookBody) -> Self {
        Self { url: b.url, events: b.events, enabled: b.enabled }
    }
}

fn webhook_id(req: &HttpRequest, name: &str) -> Result<i64, ApiError> {
    req.match_info()
        .get(name)
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| ApiError::from(roost_domain::DomainError::NotFound("webhook")))
}

fn new_secret() -> String {
    roost_auth::token::random_token("whsec_")
}

fn with_status(response: HttpResponse, status: StatusCode) -> HttpResponse {
    let mut response = response;
    *response.status_mut() = status;
    response
}

#[utoipa::path(
    post,
    path = "/v1/webhooks",
    operation_id = "create-webhook",
    tag = "webhooks",
    summary = "Create a webhook",
    description = "Events recorded from now on are POSTed to `url` as `{\"id\", \"type\", \"time\", \"resource\"}`, with \
`Roost-Event-Id` and `Roost-Signature: t=UNIX_SECONDS,v1=HEX` (HMAC-SHA256 of `t + \".\" + body` with the secret, \
which this answer shows once).",
    request_body(content = WebhookBody, content_type = "application/json"),
    responses((status = 201, description = "The webhook, with its secret", body = WebhookResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn create(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    body: Body<WebhookBody>,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let patch = WebhookPatch::from(body.into_inner());
    let secret = new_secret();
    let given = secret.clone();
    let hook = domain.run(move |s| s.create_webhook(&p, patch, given)).await?;
    Ok(with_status(Hal(webhook(&hook, Some(&secret), &urls)).respond_to(&req), StatusCode::CREATED))
}

#[utoipa::path(
    get,
    path = "/v1/webhooks",
    operation_id = "list-webhooks",
    tag = "webhooks",
    summary = "List webhooks",
    params(PageParams),
    responses((status = 200, description = "A page of webhooks", body = WebhookPage, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn list(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let (number, size) = list.numbered()?;
    let found = domain.run(move |s| s.list_webhooks(&p, number, size)).await?;
    Ok(Hal(numbered_page("webhooks", &found, &list.page_links(), |h| webhook(h, None, &list.urls))))
}

#[utoipa::path(
    get,
    path = "/v1/webhooks/{webhook_id}",
    operation_id = "get-webhook",
    tag = "webhooks",
    summary = "Get a webhook",
    params(("webhook_id" = i64, Path, description = "Webhook id")),
    responses((status = 200, description = "The webhook", body = WebhookResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn get(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let id = webhook_id(&req, "webhook_id")?;
    let hook = domain.run(move |s| s.webhook(&p, id)).await?;
    Ok(Hal(webhook(&hook, None, &urls)))
}

#[utoipa::path(
    patch,
    path = "/v1/webhooks/{webhook_id}",
    operation_id = "update-webhook",
    tag = "webhooks",
    summary = "Change a webhook",
    description = "Re-enabling a webhook delivers events recorded from then on, not those of while it was off.",
    params(("webhook_id" = i64, Path, description = "Webhook id")),
    request_body(content = WebhookBody, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The webhook", body = WebhookResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn patch(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    body: Body<WebhookBody>,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let id = webhook_id(&req, "webhook_id")?;
    let patch = WebhookPatch::from(body.into_inner());
    let hook = domain.run(move |s| s.update_webhook(&p, id, patch)).await?;
    Ok(Hal(webhook(&hook, None, &urls)))
}

#[utoipa::path(
    delete,
    path = "/v1/webhooks/{webhook_id}",
    operation_id = "delete-webhook",
    tag = "webhooks",
    summary = "Delete a webhook and its deliveries",
    params(("webhook_id" = i64, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted")),
    security(("oauth2" = [])),
)]
pub async fn delete(
    domain: Domain,
    Authenticated(p): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = webhook_id(&req, "webhook_id")?;
    domain.run(move |s| s.delete_webhook(&p, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/v1/webhooks/{webhook_id}/secret",
    operation_id = "rotate-webhook-secret",
    tag = "webhooks",
    summary = "Rotate a webhook's secret",
    description = "A new secret, shown once. Deliveries carry a second `v1=` signature with the old one for \
`ROOST_WEBHOOK_SECRET_OVERLAP_SECONDS` (a day by default).",
    params(("webhook_id" = i64, Path, description = "Webhook id")),
    responses((status = 200, description = "The webhook, with its new secret", body = WebhookResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn rotate_secret(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<impl Responder, ApiError> {
    let id = webhook_id(&req, "webhook_id")?;
    let overlap = chrono::Duration::from_std(state.settings.webhooks.secret_overlap).unwrap_or_default();
    let secret = new_secret();
    let given = secret.clone();
    let hook = domain.run(move |s| s.rotate_webhook_secret(&p, id, given, overlap)).await?;
    Ok(Hal(webhook(&hook, Some(&secret), &urls)))
}

#[utoipa::path(
    get,
    path = "/v1/webhooks/{webhook_id}/deliveries",
    operation_id = "list-webhook-deliveries",
    tag = "webhooks",
    summary = "List a webhook's deliveries",
    description = "Newest first: status (`PENDING`, `DELIVERED`, `FAILED`), the last response code and error, attempts, \
and when the next attempt is due.",
    params(("webhook_id" = i64, Path, description = "Webhook id"), PageParams),
    responses((status = 200, description = "A page of deliveries", body = DeliveryPage, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn deliveries(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let id = webhook_id(&req, "webhook_id")?;
    let (number, size) = list.numbered()?;
    let found = domain.run(move |s| s.webhook_deliveries(&p, id, number, size)).await?;
    Ok(Hal(numbered_page("deliveries", &found, &list.page_links(), |d| delivery(d, &list.urls))))
}

#[utoipa::path(
    post,
    path = "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    operation_id = "retry-webhook-delivery",
    tag = "webhooks",
    summary = "Deliver again",
    description = "Makes the delivery due now, whatever its status.",
    params(
        ("webhook_id" = i64, Path, description = "Webhook id"),
        ("delivery_id" = i64, Path, description = "Delivery id"),
    ),
    responses((status = 202, description = "The delivery, due now", body = DeliveryResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn retry(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<impl Responder, ApiError> {
    let id = webhook_id(&req, "webhook_id")?;
    let delivery_id = webhook_id(&req, "delivery_id")?;
    let found = domain.run(move |s| s.retry_webhook_delivery(&p, id, delivery_id)).await?;
    state.realtime.wake.notify_one();
    Ok(with_status(Hal(delivery(&found, &urls)).respond_to(&req), StatusCode::ACCEPTED))
}
