//! The real-time ports: the event log, presence across nodes, webhooks, and the live feed of
//! events that are delivered and never stored.

use std::time::Duration;

use super::StoreResult;
use crate::model::event::{Event, LiveEvent, LogHorizon};
use crate::model::ids::{ApplicationId, ChannelId, UserId};
use crate::model::page::Page;
use crate::model::presence::{ChatSession, OpenUserStream, PresenceChange};
use crate::model::webhook::{Webhook, WebhookDelivery};
use crate::model::Timestamp;

/// The event log (DESIGN.md, "Events"): written by the other ports' writes, in their
/// transactions; read here by streams.
pub trait EventStore: Send + Sync {
    /// Up to `limit` events of an application after sequence number `after`, oldest first.
    fn events_after(&self, application_id: ApplicationId, after: i64, limit: u32) -> StoreResult<Vec<Event>>;
    /// The application's newest event and newest purged one.
    fn log_horizon(&self, application_id: ApplicationId) -> StoreResult<LogHorizon>;
    /// Drops events recorded before `before`; returns how many.
    fn purge_events(&self, before: Timestamp) -> StoreResult<u64>;
    /// The channels a user belongs to.
    fn member_channel_ids(&self, user_id: UserId) -> StoreResult<Vec<ChannelId>>;
    /// Blocks until a write that recorded events commits after the reader's count `seen`, or
    /// `timeout` passes; returns the new count (a reader passes it back next time).
    fn wait_for_events(&self, seen: u64, timeout: Duration) -> u64;
    /// Wakes the readers waiting in [`Self::wait_for_events`] without counting a commit (another
    /// node committed: read the log, but do not tell the other nodes again).
    fn poke_readers(&self);
}

/// Presence across nodes (`users.online`): each node's open streams per user and its
/// heartbeat. Each call answers with the users whose online flag it changed.
pub trait PresenceStore: Send + Sync {
    /// A user's stream opened: counted on its node, and with a login session listed with its
    /// chat sessions.
    fn stream_opened(&self, stream: &OpenUserStream) -> StoreResult<Option<PresenceChange>>;
    /// A user's stream closed: no longer counted or listed.
    fn stream_closed(&self, stream: &OpenUserStream) -> StoreResult<Option<PresenceChange>>;
    /// Replaces an open stream's chat sessions with `sessions` (an id for each channel; a
    /// channel already subscribed keeps its session and id).
    fn set_chat_sessions(&self, stream_id: i64, sessions: &[(i64, ChannelId)]) -> StoreResult<()>;
    /// The application's open chat sessions, oldest first, on every live node.
    fn chat_sessions(&self, application_id: ApplicationId, number: u32, size: u32) -> StoreResult<Page<ChatSession>>;
    /// The users with a chat session open in a channel, on any live node.
    fn participants(&self, application_id: ApplicationId, channel_id: ChannelId) -> StoreResult<Vec<UserId>>;
    /// `node` is alive at `now`.
    fn node_alive(&self, node: i64, now: Timestamp) -> StoreResult<()>;
    /// Forgets the streams of `node` (a restarted node's previous run), or with `None` of every
    /// node not seen since `seen_before` (dead).
    fn forget_nodes(&self, node: Option<i64>, seen_before: Timestamp) -> StoreResult<Vec<PresenceChange>>;
}

/// Webhooks and their deliveries.
pub trait WebhookStore: Send + Sync {
    /// Stores a new webhook.
    fn insert_webhook(&self, hook: &Webhook) -> StoreResult<()>;
    /// A webhook of the application.
    fn find_webhook(&self, application_id: ApplicationId, id: i64) -> StoreResult<Option<Webhook>>;
    /// The application's webhooks, oldest first, as a numbered page.
    fn list_webhooks(&self, application_id: ApplicationId, number: u32, size: u32) -> StoreResult<Page<Webhook>>;
    /// Writes a webhook's URL, filter, state and secrets (not its cursor); `false`: gone.
    /// Writes a webhook's URL, filter and state (`secrets`: its secrets only, so a rotation and
    /// a PATCH at once never undo each other); a re-enabled webhook's cursor moves too.
    fn update_webhook(&self, hook: &Webhook, secrets: bool) -> StoreResult<bool>;
    /// Deletes a webhook and its deliveries; `false`: there was none.
    fn delete_webhook(&self, application_id: ApplicationId, id: i64) -> StoreResult<bool>;
    /// Every enabled webhook, of every application.
    fn enabled_webhooks(&self) -> StoreResult<Vec<Webhook>>;
    /// Inserts deliveries and moves the webhook's cursor from `from` to `to`, in one
    /// transaction, only if the cursor is still at `from` (else another node did: `false`).
    fn enqueue_deliveries(
        &self,
        webhook_id: i64,
        from: i64,
        to: i64,
        deliveries: &[WebhookDelivery],
    ) -> StoreResult<bool>;
    /// Claims up to `limit` due deliveries until `lease_until` (so no other node sends them).
    fn claim_deliveries(&self, now: Timestamp, lease_until: Timestamp, limit: u32)
        -> StoreResult<Vec<WebhookDelivery>>;
    /// Records an attempt: the delivery as it now stands.
    /// Records an attempt made under the claim that leased the delivery until `lease`; a result
    /// from a claim since taken over (the lease ran out, a manual retry) is dropped.
    fn record_attempt(&self, delivery: &WebhookDelivery, lease: Timestamp) -> StoreResult<()>;
    /// A webhook's deliveries, newest first, as a numbered page.
    fn list_deliveries(&self, webhook_id: i64, number: u32, size: u32) -> StoreResult<Page<WebhookDelivery>>;
    /// Makes a delivery of the webhook due now again (manual redelivery); `None`: no such one.
    fn retry_delivery(&self, webhook_id: i64, id: i64, now: Timestamp) -> StoreResult<Option<WebhookDelivery>>;
}

/// Where live-only events go (typing, custom channel events, presence): the real-time layer,
/// which delivers them to the streams open now, on every node.
pub trait LiveFeed: Send + Sync {
    /// Delivers `event` to the streams that may see it; never blocks on them.
    fn publish(&self, event: LiveEvent);
}

/// A live feed that drops everything: for programs that embed the use cases without streams.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLiveFeed;

impl LiveFeed for NoLiveFeed {
    fn publish(&self, _: LiveEvent) {}
}
