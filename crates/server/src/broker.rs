//! How nodes tell each other about new events and live-only ones: NATS when `ROOST_NATS_URL` is
//! set, else PostgreSQL's `LISTEN/NOTIFY` on a PostgreSQL database; nothing on SQLite (one node).
//! Both are real brokers: Roost adds no protocol of its own. A message only says "read the log"
//! or carries a live event; the log stays the record, so a lost message delays events (each node
//! also reads the log every second), it never loses one.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use roost_http::realtime::{Broker, Hub, RelayMessage};
use tokio::sync::mpsc;

/// The NOTIFY channel and NATS subject.
const CHANNEL: &str = "roost_events";
/// How often the LISTEN connection is checked, and how long the database may take to answer.
const CHECK_EVERY: Duration = Duration::from_secs(15);
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// PostgreSQL's largest NOTIFY payload is 8000 bytes: larger live events stay on their node.
const MAX_NOTIFY_BYTES: usize = 7_900;

/// Relays waiting for the broker at most: while it is unreachable, newer ones are dropped
/// (the log has every stored event; other nodes read it every second anyway).
const QUEUE: usize = 10_000;

/// Queues relays for the task that sends them (the log reader is a plain thread).
struct Queue(mpsc::Sender<RelayMessage>);

impl Broker for Queue {
    fn send(&self, message: RelayMessage) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.0.try_send(message) {
            tracing::debug!("the event broker is behind: a relay was dropped");
        }
    }
}

/// Which broker connects the nodes.
#[derive(Debug, Clone)]
pub enum BrokerUrl {
    /// `nats://…`.
    Nats(String),
    /// The PostgreSQL database's own URL.
    Postgres(String),
}

/// Connects `hub` to the other nodes through `url`, reconnecting after failures.
pub fn start(hub: &Arc<Hub>, url: BrokerUrl) {
    let (sender, outgoing) = mpsc::channel(QUEUE);
    hub.set_broker(Arc::new(Queue(sender)));
    let hub = Arc::clone(hub);
    actix_web::rt::spawn(async move {
        let mut outgoing = outgoing;
        loop {
            let ended = match &url {
                BrokerUrl::Nats(url) => nats(&hub, url, &mut outgoing).await,
                BrokerUrl::Postgres(url) => postgres(&hub, url, &mut outgoing).await,
            };
            match ended {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "the event broker connection failed; events from other nodes arrive within a second meanwhile");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    });
}

fn received(hub: &Hub, payload: &[u8]) {
    match serde_json::from_slice::<RelayMessage>(payload) {
        Ok(message) => hub.receive(message),
        Err(error) => tracing::warn!(%error, "ignoring a broker message this version cannot read"),
    }
}

async fn nats(hub: &Arc<Hub>, url: &str, outgoing: &mut mpsc::Receiver<RelayMessage>) -> anyhow::Result<()> {
    let client = async_nats::connect(url).await?;
    let mut incoming = client.subscribe(CHANNEL).await?;
    tracing::info!(url, "relaying events between nodes through NATS");
    loop {
        tokio::select! {
            message = incoming.next() => match message {
                Some(message) => received(hub, &message.payload),
                None => anyhow::bail!("the NATS subscription ended"),
            },
            relay = outgoing.recv() => match relay {
                Some(relay) => client.publish(CHANNEL, serde_json::to_vec(&relay)?.into()).await?,
                None => return Ok(()),
            },
        }
    }
}

async fn postgres(hub: &Arc<Hub>, url: &str, outgoing: &mut mpsc::Receiver<RelayMessage>) -> anyhow::Result<()> {
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    // The connection delivers notifications as it is polled: its own task does that.
    let (notified, mut notifications) = mpsc::unbounded_channel();
    let driver = actix_web::rt::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    if notified.send(n.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "the LISTEN connection failed");
                    return;
                }
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    tracing::info!("relaying events between nodes through PostgreSQL LISTEN/NOTIFY");
    let mut check = tokio::time::interval(CHECK_EVERY);
    let result = async {
        loop {
            tokio::select! {
                // A connection gone half-open would otherwise wait forever, silently.
                _ = check.tick() => {
                    tokio::time::timeout(ANSWER_WITHIN, client.simple_query("SELECT 1")).await??;
                }
                payload = notifications.recv() => match payload {
                    Some(payload) => received(hub, payload.as_bytes()),
                    None => anyhow::bail!("the LISTEN connection closed"),
                },
                relay = outgoing.recv() => match relay {
                    Some(relay) => {
                        let payload = serde_json::to_string(&relay)?;
                        if payload.len() > MAX_NOTIFY_BYTES {
                            tracing::debug!(bytes = payload.len(), "a live event too large for NOTIFY stays on this node");
                            continue;
                        }
                        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&CHANNEL, &payload];
                        let notify = client.execute("SELECT pg_notify($1, $2)", &params);
                        tokio::time::timeout(ANSWER_WITHIN, notify).await??;
                    }
                    None => return Ok(()),
                },
            }
        }
    }
    .await;
    driver.abort();
    result
}
