//! Webhooks and their deliveries (Roost's own resources).

use roost_domain::model::webhook::{Webhook, WebhookDelivery};
use roost_hal::{Links, Resource};
use serde::Serialize;

use super::iso;
use crate::urls::Urls;

/// A webhook.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = WebhookProperties)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRepr {
    id: i64,
    /// Where events are POSTed.
    url: String,
    /// The event types delivered (empty: every event of the log).
    events: Vec<&'static str>,
    enabled: bool,
    /// The signing secret: only in the answer that created or rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    secret: Option<String>,
    /// Until when the secret before the last rotation still signs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    previous_secret_expires_time: Option<String>,
    created_time: String,
    updated_time: String,
}

/// A webhook as answered; `secret` only when it was just made.
pub fn webhook(hook: &Webhook, secret: Option<&str>, urls: &Urls) -> Resource<WebhookRepr> {
    let href = urls.v1(&format!("/webhooks/{}", hook.id));
    let repr = WebhookRepr {
        id: hook.id,
        url: hook.url.clone(),
        events: hook.events.iter().map(|t| t.as_str()).collect(),
        enabled: hook.enabled,
        secret: secret.map(str::to_owned),
        previous_secret_expires_time: hook.previous_secret.as_ref().map(|(_, until)| iso(*until)),
        created_time: iso(hook.created_time),
        updated_time: iso(hook.updated_time),
    };
    let links = Links::new()
        .with_href("self", href.clone())
        .with_href("deliveries", format!("{href}/deliveries"))
        .with_href("secret", format!("{href}/secret"))
        .with_href("application", urls.v1("/application"));
    Resource::new(repr, links)
}

/// One event's delivery to a webhook, with its attempts.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = WebhookDeliveryProperties)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRepr {
    id: i64,
    /// The event's id (`Roost-Event-Id`).
    event_id: i64,
    event_type: &'static str,
    /// `PENDING`, `DELIVERED` or `FAILED`.
    status: &'static str,
    attempts: i32,
    /// The last answer's status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    response_code: Option<i32>,
    /// Why the last attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_error: Option<String>,
    /// When it is tried next (pending only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_attempt_time: Option<String>,
    created_time: String,
}

/// A delivery as answered.
pub fn delivery(d: &WebhookDelivery, urls: &Urls) -> Resource<DeliveryRepr> {
    let hook = urls.v1(&format!("/webhooks/{}", d.webhook_id));
    let repr = DeliveryRepr {
        id: d.id,
        event_id: d.event_id,
        event_type: d.event_type.as_str(),
        status: d.status.as_str(),
        attempts: d.attempts,
        response_code: d.response_code,
        last_error: d.last_error.clone(),
        next_attempt_time: d.next_attempt_time.map(iso),
        created_time: iso(d.created_time),
    };
    let links =
        Links::new().with_href("webhook", hook.clone()).with_href("retry", format!("{hook}/deliveries/{}/retry", d.id));
    Resource::new(repr, links)
}
