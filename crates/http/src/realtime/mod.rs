//! Real-time delivery on this node: one feed per application that every open stream (SSE or
//! WebSocket) of it reads, fed by a tailer thread that reads the event log as writes commit,
//! and by live-only events published as they happen; the registry of open streams, which records
//! users' streams in storage (presence, chat sessions and channel participants, read alike by
//! every node).
//!
//! Nothing here is needed for correctness of the log: a stream that falls behind the feed reads
//! the missing events from the log itself; the feed only saves each stream that read.

pub mod outgoing;
pub mod stream;
pub mod websocket;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;
use std::time::Instant;

use roost_domain::model::event::{EventType, LiveEvent, LiveResource};
use roost_domain::model::presence::OpenUserStream;
use roost_domain::model::user::User;
use roost_domain::ports::LiveFeed;
use roost_domain::{ApplicationId, ChannelId, Service, Timestamp};
use tokio::sync::broadcast;

pub use self::outgoing::Outgoing;

/// Settings of the real-time layer.
#[derive(Debug, Clone)]
pub struct RealtimeSettings {
    /// How long the log keeps events (`ROOST_EVENT_RETENTION_SECONDS`).
    pub retention: Duration,
    /// Heartbeat comment / ping interval of idle streams (`ROOST_HEARTBEAT_SECONDS`).
    pub heartbeat: Duration,
    /// Events a stream may have waiting for its client before it is dropped as too slow
    /// (`ROOST_STREAM_BUFFER`).
    pub buffer: usize,
    /// How long a stream ticket is valid.
    pub ticket_ttl: Duration,
    /// A node not heard from for this long is dead: its streams' presence ends
    /// (`ROOST_NODE_TIMEOUT_SECONDS`).
    pub node_timeout: Duration,
    /// This node's number (`ROOST_NODE_ID`): presence is counted per node.
    pub node: i64,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(86_400),
            heartbeat: Duration::from_secs(15),
            buffer: 1_000,
            ticket_ttl: Duration::from_secs(30),
            node_timeout: Duration::from_secs(30),
            node: 0,
        }
    }
}

/// How often the tailer reads the log without being woken: events committed by another node
/// sharing the database arrive within this.
const POLL: Duration = Duration::from_secs(1);

/// Events the feed of one application holds for its slowest reader; one further behind reads
/// the log instead.
const FEED_CAPACITY: usize = 4_096;

struct Feed {
    sender: broadcast::Sender<Arc<Outgoing>>,
    /// The newest event of the log sent on this feed.
    last_seq: i64,
}

/// An open stream, as the registry knows it.
#[derive(Debug, Clone)]
pub struct OpenStream {
    /// The application.
    pub application_id: ApplicationId,
    /// Its user, for a user's stream.
    pub user: Option<User>,
    /// The login session the user streams with.
    pub session_id: Option<i64>,
    /// Channels it was opened on (`channel=`): with a user, its first chat session. Later
    /// `subscribe` frames are recorded in storage only ([`Hub::set_channels`]).
    pub channels: BTreeSet<ChannelId>,
    /// A user's stream as recorded in storage (only a recorded one is recorded closed).
    pub recorded: Option<OpenUserStream>,
}

/// What one node tells the others through the broker (PostgreSQL `LISTEN/NOTIFY` or NATS).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Relay {
    /// Events were committed: read the log.
    Wake,
    /// A live-only event, for the streams open there.
    Live(Box<LiveEvent>),
}

/// A relay with the node that sent it (a node ignores its own).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RelayMessage {
    /// The sender's `ROOST_NODE_ID`.
    pub node: i64,
    /// What it says.
    pub relay: Relay,
}

/// The way to the other nodes. Sending never blocks (an implementation queues).
pub trait Broker: Send + Sync {
    /// Sends `message` to every node.
    fn send(&self, message: RelayMessage);
}

/// The node's real-time hub.
pub struct Hub {
    settings: RealtimeSettings,
    feeds: Mutex<HashMap<ApplicationId, Feed>>,
    streams: Mutex<HashMap<u64, OpenStream>>,
    next_stream: AtomicU64,
    /// The use cases, once the state that holds this hub has them.
    service: OnceLock<Service>,
    /// Notified when the log's reader saw new events (webhook delivery waits on it).
    pub wake: tokio::sync::Notify,
    /// The other nodes, when there is a broker.
    broker: OnceLock<Arc<dyn Broker>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub with no streams yet.
    pub fn new(settings: RealtimeSettings) -> Arc<Self> {
        Arc::new(Self {
            settings,
            feeds: Mutex::default(),
            streams: Mutex::default(),
            next_stream: AtomicU64::new(1),
            service: OnceLock::new(),
            wake: tokio::sync::Notify::new(),
            broker: OnceLock::new(),
        })
    }

    /// Its settings.
    pub fn settings(&self) -> &RealtimeSettings {
        &self.settings
    }

    /// Gives the hub the use cases and starts the thread that reads the log into the feeds and
    /// keeps this node's presence alive; it ends soon after the hub is dropped.
    pub fn start(self: &Arc<Self>, service: Service) -> std::io::Result<()> {
        let hub = Arc::downgrade(self);
        let _ = self.service.set(service.clone());
        // Before any stream opens here: the counts this node's previous run left go first.
        let mut housekeeping = Housekeeping::default();
        housekeeping.run_due(self, &service);
        std::thread::Builder::new()
            .name("roost-events".into())
            .spawn(move || tail(&hub, &service, housekeeping))
            .map(|_| ())
    }

    /// A receiver of the application's feed; `last_seq` is where the log stands for a stream
    /// opening now (the feed starts there when it is new).
    pub fn subscribe(&self, application_id: ApplicationId, last_seq: i64) -> broadcast::Receiver<Arc<Outgoing>> {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        let feed = feeds
            .entry(application_id)
            .or_insert_with(|| Feed { sender: broadcast::channel(FEED_CAPACITY).0, last_seq });
        feed.sender.subscribe()
    }

    /// Connects the hub to the other nodes.
    pub fn set_broker(&self, broker: Arc<dyn Broker>) {
        let _ = self.broker.set(broker);
    }

    fn relay(&self, relay: Relay) {
        if let Some(broker) = self.broker.get() {
            broker.send(RelayMessage { node: self.settings.node, relay });
        }
    }

    /// What another node relayed: its commits wake this node's log reader, its live events go
    /// to this node's streams.
    pub fn receive(&self, message: RelayMessage) {
        if message.node == self.settings.node {
            return;
        }
        match message.relay {
            Relay::Wake => {
                if let Some(service) = self.service.get() {
                    service.poke_event_readers();
                }
            }
            Relay::Live(event) => self.send(event.application_id, Outgoing::live(*event)),
        }
    }

    /// Sends an event to the application's open streams, if it has any.
    fn send(&self, application_id: ApplicationId, outgoing: Outgoing) {
        let feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(feed) = feeds.get(&application_id) {
            // No receiver left: nobody to tell.
            let _ = feed.sender.send(Arc::new(outgoing));
        }
    }

    /// Registers an open stream. A user's is recorded in storage (blocking: call it on a
    /// storage thread); their first stream on any node puts them online (`user.online`).
    pub fn open(self: &Arc<Self>, mut stream: OpenStream) -> StreamGuard {
        let id = self.next_stream.fetch_add(1, Ordering::Relaxed);
        if let (Some(user), Some(service)) = (stream.user.as_ref().map(|u| u.id), self.service.get()) {
            let node = self.settings.node;
            match service.open_user_stream(node, stream.application_id, user, stream.session_id, &stream.channels) {
                Ok((recorded, changed)) => {
                    stream.recorded = Some(recorded);
                    if let Some(user) = changed {
                        self.publish_presence(stream.application_id, user);
                    }
                }
                Err(error) => tracing::warn!(%error, user = user.0, "cannot record a stream for presence"),
            }
        }
        self.streams.lock().unwrap_or_else(PoisonError::into_inner).insert(id, stream);
        StreamGuard { hub: Arc::clone(self), id }
    }

    fn close(&self, id: u64) {
        let stream = self.streams.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        let (Some(OpenStream { application_id, recorded: Some(recorded), .. }), Some(service)) =
            (stream, self.service.get())
        else {
            return;
        };
        match service.close_user_stream(&recorded) {
            Ok(Some(user)) => self.publish_presence(application_id, user),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, user = recorded.user_id.0, "cannot record a stream closed"),
        }
    }

    fn publish_presence(&self, application_id: ApplicationId, user: User) {
        let event_type = if user.presence.online { EventType::UserOnline } else { EventType::UserOffline };
        self.publish(LiveEvent {
            application_id,
            event_type,
            time: roost_domain::now(),
            resource: LiveResource::Presence { user },
        });
    }

    /// Records the channels a user's stream is subscribed to now as its chat sessions
    /// (blocking: call it on a storage thread); an application's stream records nothing.
    pub fn set_channels(&self, id: u64, channels: BTreeSet<ChannelId>) {
        let recorded = {
            let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(stream) = streams.get(&id) else { return };
            stream.recorded.as_ref().filter(|r| r.session_id.is_some()).map(|r| r.id)
        };
        if let (Some(stream_id), Some(service)) = (recorded, self.service.get()) {
            if let Err(error) = service.set_chat_sessions(stream_id, &channels) {
                tracing::warn!(%error, stream = stream_id, "cannot record a stream's chat sessions");
            }
        }
    }

    /// The applications with open streams, and where each one's feed stands.
    fn feeds_to_fill(&self) -> Vec<(ApplicationId, i64)> {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds.retain(|_, feed| feed.sender.receiver_count() > 0);
        feeds.iter().map(|(app, feed)| (*app, feed.last_seq)).collect()
    }

    fn fill(&self, application_id: ApplicationId, outgoing: Vec<Outgoing>) {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(feed) = feeds.get_mut(&application_id) else { return };
        for event in outgoing {
            if let Some(seq) = event.seq() {
                if seq <= feed.last_seq {
                    continue;
                }
                feed.last_seq = seq;
            }
            let _ = feed.sender.send(Arc::new(event));
        }
    }
}

impl LiveFeed for Hub {
    fn publish(&self, event: LiveEvent) {
        let application_id = event.application_id;
        self.relay(Relay::Live(Box::new(event.clone())));
        self.send(application_id, Outgoing::live(event));
    }
}

/// The use cases' way to the hub: weak, since the hub holds the use cases (a strong link both
/// ways would keep both alive, and the tailer running, after the state is dropped).
pub struct LiveLink(Weak<Hub>);

impl LiveLink {
    /// A link to `hub`.
    pub fn new(hub: &Arc<Hub>) -> Self {
        Self(Arc::downgrade(hub))
    }
}

impl LiveFeed for LiveLink {
    fn publish(&self, event: LiveEvent) {
        if let Some(hub) = self.0.upgrade() {
            hub.publish(event);
        }
    }
}

/// An open stream's registration: dropping it closes the stream in the registry.
pub struct StreamGuard {
    hub: Arc<Hub>,
    id: u64,
}

impl StreamGuard {
    /// The stream's number in this node's registry.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let (hub, id) = (Arc::clone(&self.hub), self.id);
        // Counting it closed writes to storage: off the async workers when there are some.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || hub.close(id))),
            Err(_) => hub.close(id),
        }
    }
}

/// The tailer: waits for commits (or [`POLL`]), then reads every application's new events
/// into its feed, rendering's related records loaded once per batch.
fn tail(hub: &Weak<Hub>, service: &Service, mut housekeeping: Housekeeping) {
    let mut seen = 0;
    loop {
        let before = seen;
        seen = service.wait_for_events(seen, POLL);
        let Some(hub) = hub.upgrade() else { return };
        if seen != before {
            // This node committed: its webhooks, and the other nodes' readers, have work.
            hub.wake.notify_one();
            hub.relay(Relay::Wake);
        }
        housekeeping.run_due(&hub, service);
        for (application_id, mut last_seq) in hub.feeds_to_fill() {
            loop {
                let view = match service.log_after(application_id, last_seq) {
                    Ok(view) => view,
                    Err(error) => {
                        tracing::warn!(%error, application = application_id.0, "cannot read the event log");
                        break;
                    }
                };
                let Some(newest) = view.value.last().map(|e| e.seq) else { break };
                let read = view.value.len();
                let related = Arc::new(view.related);
                hub.fill(
                    application_id,
                    view.value.into_iter().map(|e| Outgoing::stored(e, Arc::clone(&related))).collect(),
                );
                last_seq = newest;
                if read < usize::try_from(roost_domain::service::LOG_BATCH).unwrap_or(usize::MAX) {
                    break;
                }
            }
        }
    }
}

/// The tailer's periodic chores: this node's heartbeat, ending dead nodes' presence, and the
/// log's retention.
#[derive(Default)]
struct Housekeeping {
    renewed: Option<Instant>,
    purged: Option<Instant>,
}

/// How often the log is purged of events past their retention.
const PURGE_EVERY: Duration = Duration::from_secs(60);

impl Housekeeping {
    fn run_due(&mut self, hub: &Hub, service: &Service) {
        let settings = &hub.settings;
        let due = |last: Option<Instant>, every: Duration| last.is_none_or(|at| at.elapsed() >= every);
        if due(self.renewed, settings.node_timeout / 3) {
            let restarted = self.renewed.is_none();
            let renewed = ago(settings.node_timeout).map(|dead| service.renew_node(settings.node, restarted, dead));
            match renewed {
                Some(Ok(offline)) => {
                    for user in offline {
                        hub.publish_presence(user.application_id, user);
                    }
                }
                Some(Err(error)) => tracing::warn!(%error, "cannot renew this node's presence"),
                None => tracing::warn!("the node timeout is out of range"),
            }
            self.renewed = Some(Instant::now());
        }
        if due(self.purged, PURGE_EVERY) {
            // An unrepresentable retention purges nothing (never everything).
            if let Some(Err(error)) = ago(settings.retention).map(|before| service.purge_events(before)) {
                tracing::warn!(%error, "cannot purge the event log");
            }
            self.purged = Some(Instant::now());
        }
    }
}

/// The time `span` ago, if representable.
fn ago(span: Duration) -> Option<Timestamp> {
    roost_domain::now().checked_sub_signed(chrono::Duration::from_std(span).ok()?)
}
