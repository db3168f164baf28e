//! Webhooks: an application's back end registers endpoints that receive its events; Roost's
//! dispatcher turns the event log into deliveries and records each attempt.

use super::Service;
use crate::error::{DomainError, FieldErrorCode};
use crate::model::now;
use crate::model::page::Page;
use crate::model::principal::Principal;
use crate::model::webhook::{parse_events, validate_url, Webhook, WebhookDelivery, WebhookPatch};
use crate::Timestamp;

const WEBHOOK: &str = "webhook";

impl Service {
    /// `POST /v1/webhooks`: a webhook receiving the events recorded from now on, signed with
    /// `secret` (fresh, shown to the caller once).
    pub fn create_webhook(
        &self,
        principal: &Principal,
        patch: WebhookPatch,
        secret: String,
    ) -> Result<Webhook, DomainError> {
        let application_id = principal.manage()?;
        let url = patch
            .url
            .ok_or_else(|| DomainError::field(WEBHOOK, "url", FieldErrorCode::MissingField, "url is required"))?;
        validate_url(&url)?;
        let events = parse_events(&patch.events.unwrap_or_default())?;
        let created = now();
        let hook = Webhook {
            id: self.next_id(),
            application_id,
            url,
            events,
            enabled: patch.enabled.unwrap_or(true),
            secret,
            previous_secret: None,
            cursor: self.ports.events.log_horizon(application_id)?.last_seq,
            created_time: created,
            updated_time: created,
        };
        self.ports.webhooks.insert_webhook(&hook)?;
        Ok(hook)
    }

    /// One of the application's webhooks.
    pub fn webhook(&self, principal: &Principal, id: i64) -> Result<Webhook, DomainError> {
        let application_id = principal.manage()?;
        self.ports.webhooks.find_webhook(application_id, id)?.ok_or(DomainError::NotFound(WEBHOOK))
    }

    /// The application's webhooks.
    pub fn list_webhooks(&self, principal: &Principal, number: u32, size: u32) -> Result<Page<Webhook>, DomainError> {
        Ok(self.ports.webhooks.list_webhooks(principal.manage()?, number, size)?)
    }

    /// `PATCH /v1/webhooks/{id}`.
    pub fn update_webhook(&self, principal: &Principal, id: i64, patch: WebhookPatch) -> Result<Webhook, DomainError> {
        let mut hook = self.webhook(principal, id)?;
        if let Some(url) = patch.url {
            validate_url(&url)?;
            hook.url = url;
        }
        if let Some(events) = patch.events {
            hook.events = parse_events(&events)?;
        }
        if let Some(enabled) = patch.enabled {
            if enabled && !hook.enabled {
                // Re-enabled: from now on, not the backlog of while it was off.
                hook.cursor = self.ports.events.log_horizon(hook.application_id)?.last_seq;
            }
            hook.enabled = enabled;
        }
        hook.updated_time = now();
        self.save_webhook(&hook, false)?;
        Ok(hook)
    }

    fn save_webhook(&self, hook: &Webhook, secrets: bool) -> Result<(), DomainError> {
        if !self.ports.webhooks.update_webhook(hook, secrets)? {
            return Err(DomainError::NotFound(WEBHOOK));
        }
        Ok(())
    }

    /// `DELETE /v1/webhooks/{id}`.
    pub fn delete_webhook(&self, principal: &Principal, id: i64) -> Result<(), DomainError> {
        if !self.ports.webhooks.delete_webhook(principal.manage()?, id)? {
            return Err(DomainError::NotFound(WEBHOOK));
        }
        Ok(())
    }

    /// `POST /v1/webhooks/{id}/secret`: signs with `secret` from now on, and with the old one too
    /// for `overlap`, so receivers can switch without losing a delivery.
    pub fn rotate_webhook_secret(
        &self,
        principal: &Principal,
        id: i64,
        secret: String,
        overlap: chrono::Duration,
    ) -> Result<Webhook, DomainError> {
        let mut hook = self.webhook(principal, id)?;
        let rotated = now();
        let old = std::mem::replace(&mut hook.secret, secret);
        hook.previous_secret = Some((old, rotated + overlap));
        hook.updated_time = rotated;
        self.save_webhook(&hook, true)?;
        Ok(hook)
    }

    /// A webhook's deliveries, newest first.
    pub fn webhook_deliveries(
        &self,
        principal: &Principal,
        id: i64,
        number: u32,
        size: u32,
    ) -> Result<Page<WebhookDelivery>, DomainError> {
        let hook = self.webhook(principal, id)?;
        Ok(self.ports.webhooks.list_deliveries(hook.id, number, size)?)
    }

    /// `POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry`: due again now.
    pub fn retry_webhook_delivery(
        &self,
        principal: &Principal,
        id: i64,
        delivery_id: i64,
    ) -> Result<WebhookDelivery, DomainError> {
        let hook = self.webhook(principal, id)?;
        self.ports.webhooks.retry_delivery(hook.id, delivery_id, now())?.ok_or(DomainError::NotFound("delivery"))
    }

    /// Every enabled webhook (the dispatcher's work list).
    pub fn enabled_webhooks(&self) -> Result<Vec<Webhook>, DomainError> {
        Ok(self.ports.webhooks.enabled_webhooks()?)
    }

    /// Records deliveries of a webhook's events up to `to` (see
    /// [`crate::ports::WebhookStore::enqueue_deliveries`]).
    pub fn enqueue_deliveries(
        &self,
        hook: &Webhook,
        to: i64,
        deliveries: &[WebhookDelivery],
    ) -> Result<bool, DomainError> {
        Ok(self.ports.webhooks.enqueue_deliveries(hook.id, hook.cursor, to, deliveries)?)
    }

    /// Claims due deliveries and the webhooks they go to.
    pub fn claim_deliveries(
        &self,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<(WebhookDelivery, Option<Webhook>)>, DomainError> {
        let claimed = self.ports.webhooks.claim_deliveries(now(), lease_until, limit)?;
        claimed
            .into_iter()
            .map(|delivery| {
                let hook = self.ports.webhooks.find_webhook(delivery.application_id, delivery.webhook_id)?;
                Ok((delivery, hook))
            })
            .collect()
    }

    /// Records an attempt's result.
    pub fn record_attempt(&self, delivery: &WebhookDelivery, lease: Timestamp) -> Result<(), DomainError> {
        Ok(self.ports.webhooks.record_attempt(delivery, lease)?)
    }

    /// A fresh id (deliveries are numbered by the node that enqueues them).
    pub fn new_id(&self) -> i64 {
        self.next_id()
    }
}
