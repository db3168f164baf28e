//! Every port in one value, as the use cases hold them.

use std::sync::Arc;

use super::{
    AccountStore, ApplicationStore, ChannelStore, CredentialStore, EventStore, ExportStore, FileStore, HealthStore,
    IdempotencyStore, JobStore, LiveFeed, MessageStore, NoLiveFeed, NotificationStore, PresenceStore, SafetyStore,
    UserStore, WebhookStore,
};

/// Every port, as shared handles. Cheap to clone.
#[derive(Clone)]
pub struct Ports {
    /// Applications.
    pub applications: Arc<dyn ApplicationStore>,
    /// Clients and tokens.
    pub credentials: Arc<dyn CredentialStore>,
    /// Users.
    pub users: Arc<dyn UserStore>,
    /// Channels.
    pub channels: Arc<dyn ChannelStore>,
    /// Messages.
    pub messages: Arc<dyn MessageStore>,
    /// Notifications.
    pub notifications: Arc<dyn NotificationStore>,
    /// The store's health.
    pub health: Arc<dyn HealthStore>,
    /// Idempotency keys.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Hosted files.
    pub files: Arc<dyn FileStore>,
    /// End-user accounts.
    pub accounts: Arc<dyn AccountStore>,
    /// Blocks and reports.
    pub safety: Arc<dyn SafetyStore>,
    /// The event log.
    pub events: Arc<dyn EventStore>,
    /// Presence across nodes.
    pub presence: Arc<dyn PresenceStore>,
    /// Webhooks.
    pub webhooks: Arc<dyn WebhookStore>,
    /// Imports and exports.
    pub jobs: Arc<dyn JobStore>,
    /// Whole applications, page by page.
    pub export: Arc<dyn ExportStore>,
    /// Live-only events' way out (none until [`Self::with_live`]).
    pub live: Arc<dyn LiveFeed>,
}

impl Ports {
    /// All ports served by one store.
    pub fn from_store<S>(store: Arc<S>) -> Self
    where
        S: ApplicationStore
            + CredentialStore
            + UserStore
            + ChannelStore
            + MessageStore
            + NotificationStore
            + HealthStore
            + IdempotencyStore
            + FileStore
            + AccountStore
            + SafetyStore
            + EventStore
            + PresenceStore
            + WebhookStore
            + JobStore
            + ExportStore
            + 'static,
    {
        Self {
            applications: store.clone(),
            credentials: store.clone(),
            users: store.clone(),
            channels: store.clone(),
            messages: store.clone(),
            notifications: store.clone(),
            health: store.clone(),
            idempotency: store.clone(),
            files: store.clone(),
            accounts: store.clone(),
            safety: store.clone(),
            events: store.clone(),
            presence: store.clone(),
            webhooks: store.clone(),
            jobs: store.clone(),
            export: store,
            live: Arc::new(NoLiveFeed),
        }
    }

    /// These ports, publishing live-only events to `live`.
    pub fn with_live(self, live: Arc<dyn LiveFeed>) -> Self {
        Self { live, ..self }
    }
}
