//! One open stream, whatever its transport: catches up from the log, then forwards what its
//! application's feed carries and its scope admits, filling any gap from the log, with a
//! heartbeat when idle. The transport (SSE or WebSocket) only turns [`Frame`]s into bytes.
//!
//! The client's own buffer is the bounded queue of frames: while catching up the stream waits
//! for the client (it reads the log at the client's pace); once live it never waits, and a
//! client that lets `ROOST_STREAM_BUFFER` events pile up gets `CONSUMER_TOO_SLOW` and is dropped,
//! so no writer and no other stream ever waits for it.

use std::collections::HashSet;
use std::sync::Arc;

use actix_web::web;
use roost_domain::model::event::{EventType, StreamScope};
use roost_domain::Principal;
use tokio::sync::{broadcast, mpsc};

use super::{Outgoing, StreamGuard};
use crate::casing::Casing;
use crate::error::ApiError;
use crate::extract::blocking;
use crate::state::AppState;
use crate::urls::Urls;

/// Which bytes a stream's client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Server-sent events (`GET /v1/events`).
    Sse,
    /// WebSocket text frames (`GET /v1/ws`).
    WebSocket,
}

/// How a stream writes its events: links, field names and transport.
#[derive(Debug, Clone)]
pub struct Wire {
    /// Link base.
    pub urls: Urls,
    /// Field names (`_case=snake`).
    pub casing: Casing,
    /// The transport.
    pub transport: Transport,
}

impl Wire {
    /// The frame of an event: only the bytes this transport writes (each stream's copy is a
    /// reference count on the rendering shared by every stream).
    pub fn frame(&self, outgoing: &Outgoing) -> Frame {
        match self.transport {
            Transport::Sse => Frame::Sse(outgoing.sse(&self.urls, self.casing)),
            Transport::WebSocket => Frame::Text(outgoing.json(&self.urls, self.casing)),
        }
    }

    /// A stream error's frame.
    pub fn error(&self, code: impl Into<String>, message: impl Into<String>) -> Frame {
        self.frame(&Outgoing::error(code, message))
    }
}

/// What a transport writes.
#[derive(Debug, Clone)]
pub enum Frame {
    /// An event as a server-sent event.
    Sse(bytes::Bytes),
    /// An event's envelope, as a WebSocket text frame.
    Text(bytestring::ByteString),
    /// Nothing happened for a while.
    Heartbeat,
}

impl Frame {
    /// As a server-sent event (WHATWG HTML §9.2).
    pub fn sse(self) -> bytes::Bytes {
        match self {
            Self::Sse(bytes) => bytes,
            Self::Text(text) => bytes::Bytes::from(format!("data: {text}\n\n")),
            Self::Heartbeat => bytes::Bytes::from_static(b": heartbeat\n\n"),
        }
    }
}

/// Why a stream stopped.
#[derive(Debug)]
pub struct Ended;

/// An open stream's state.
pub struct Stream {
    /// The app's state (the use cases run on its storage threads).
    pub state: web::Data<AppState>,
    /// Who streams.
    pub principal: Principal,
    /// What it may receive.
    pub scope: StreamScope,
    /// Only these types, when set (`types=`).
    pub types: Option<HashSet<EventType>>,
    /// The newest log event handled (sent or filtered out).
    pub sent: i64,
    /// The application's feed.
    pub feed: broadcast::Receiver<Arc<Outgoing>>,
    /// Where frames go (bounded: the stream's buffer).
    pub sink: mpsc::Sender<Frame>,
    /// How it writes.
    pub wire: Wire,
    /// Its registration (presence, chat sessions).
    pub guard: StreamGuard,
    /// The channels it named (`channel=`, `subscribe` frames): a user's chat sessions.
    pub named: std::collections::BTreeSet<roost_domain::ChannelId>,
    /// When it last queued a frame: the heartbeat is due a heartbeat's interval after.
    pub last_frame: tokio::time::Instant,
}

impl Stream {
    fn wanted(&mut self, outgoing: &Outgoing) -> bool {
        let event_type = outgoing.event_type();
        // The scope moves with membership events even when `types=` leaves them out.
        let admitted = self.scope.admit(event_type, outgoing.channel_id(), outgoing.user_id());
        admitted && self.types.as_ref().is_none_or(|types| types.contains(&event_type))
    }

    /// Whether this event ends the stream: its own user was deleted (the token it opened with
    /// no longer stands for anyone).
    fn ends_stream(&self, outgoing: &Outgoing) -> bool {
        matches!(self.scope, StreamScope::User { user_id, .. }
            if outgoing.event_type() == EventType::UserDeleted && outgoing.user_id() == Some(user_id))
    }

    /// Sends every log event after `sent` (up to `until`, when given), waiting for the client.
    pub async fn catch_up(&mut self, until: Option<i64>) -> Result<(), Ended> {
        loop {
            let (principal, after) = (self.principal.clone(), self.sent);
            let view = blocking(&self.state.clone(), None, {
                let state = self.state.clone();
                move || Ok(state.service.events_after(&principal, after)?)
            })
            .await
            .map_err(|error| {
                tracing::warn!(%error, "a stream cannot read the event log");
                Ended
            })?;
            let read = view.value.len();
            let related = Arc::new(view.related);
            for event in view.value {
                let seq = event.seq;
                if until.is_some_and(|until| seq > until) {
                    return Ok(());
                }
                let outgoing = Outgoing::stored(event, Arc::clone(&related));
                self.sent = seq;
                if self.wanted(&outgoing) {
                    let frame = self.wire.frame(&outgoing);
                    self.sink.send(frame).await.map_err(|_| Ended)?;
                    self.last_frame = tokio::time::Instant::now();
                }
                if self.ends_stream(&outgoing) {
                    return Err(Ended);
                }
            }
            if read < usize::try_from(roost_domain::service::LOG_BATCH).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }

    /// Queues a frame without waiting; a full buffer ends the stream with `CONSUMER_TOO_SLOW`
    /// in its last free place.
    pub fn emit(&mut self, frame: Frame) -> Result<(), Ended> {
        self.last_frame = tokio::time::Instant::now();
        if self.sink.capacity() <= 1 {
            let message = "the stream's buffer is full; resume from the last event id received";
            let _ = self.sink.try_send(self.wire.error("CONSUMER_TOO_SLOW", message));
            return Err(Ended);
        }
        self.sink.try_send(frame).map_err(|_| Ended)
    }

    /// Handles one event of the feed: skips what was sent, reads a gap from the log first.
    pub async fn deliver(&mut self, outgoing: Arc<Outgoing>) -> Result<(), Ended> {
        if let Some(seq) = outgoing.seq() {
            if seq <= self.sent {
                return Ok(());
            }
            if seq > self.sent + 1 {
                self.catch_up(Some(seq - 1)).await?;
                if seq <= self.sent {
                    return Ok(());
                }
            }
            self.sent = seq;
        }
        if self.wanted(&outgoing) {
            let frame = self.wire.frame(&outgoing);
            self.emit(frame)?;
        }
        if self.ends_stream(&outgoing) {
            return Err(Ended);
        }
        Ok(())
    }

    /// An event of the feed already waiting, without waiting for one (after a lag, the log
    /// fills in first).
    pub async fn try_next(&mut self) -> Result<Option<Arc<Outgoing>>, Ended> {
        loop {
            match self.feed.try_recv() {
                Ok(outgoing) => return Ok(Some(outgoing)),
                Err(broadcast::error::TryRecvError::Empty) => return Ok(None),
                Err(broadcast::error::TryRecvError::Lagged(_)) => self.catch_up(None).await?,
                Err(broadcast::error::TryRecvError::Closed) => return Err(Ended),
            }
        }
    }

    /// The next thing to do: an event of the feed (after a lag, the log fills in), or `None`
    /// when the heartbeat is due (an interval after the last frame sent, however many events
    /// the stream's filters left out meanwhile).
    pub async fn next(&mut self) -> Result<Option<Arc<Outgoing>>, Ended> {
        let heartbeat = self.state.realtime.settings().heartbeat;
        loop {
            let due = self.last_frame + heartbeat;
            tokio::select! {
                received = self.feed.recv() => match received {
                    Ok(outgoing) => return Ok(Some(outgoing)),
                    // Fell behind the feed: the log has every stored event missed, read now;
                    // live-only ones are lost, as they may be.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.catch_up(None).await?;
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return Err(Ended),
                },
                () = tokio::time::sleep_until(due) => return Ok(None),
                () = self.sink.closed() => return Err(Ended),
            }
        }
    }
}

/// Opens a stream: the principal's scope and the log's state, a feed receiver taken before the
/// log is read (so nothing committed in between is missed), and the registration. `None` when
/// the stream ended at once (its resume point has expired: the sink holds the `error` event).
pub async fn open(
    state: web::Data<AppState>,
    principal: Principal,
    request: StreamRequest,
    sink: mpsc::Sender<Frame>,
) -> Result<Option<Stream>, ApiError> {
    let StreamRequest { channel, after, types, wire } = request;
    let start = {
        let (state, principal) = (state.clone(), principal.clone());
        blocking(&state.clone(), None, move || Ok(state.service.open_stream(&principal, channel)?)).await?
    };
    let application_id = principal.application_id();
    let feed = state.realtime.subscribe(application_id, start.horizon.last_seq);
    let session_id = match &principal {
        Principal::User { session_id, .. } => Some(*session_id),
        _ => None,
    };
    let named: std::collections::BTreeSet<_> = channel.into_iter().collect();
    let registration = super::OpenStream {
        application_id,
        user: start.user.clone(),
        session_id,
        channels: named.clone(),
        recorded: None,
    };
    // Counting a user's stream for presence writes to storage.
    let hub = state.realtime.clone();
    let guard = blocking(&state, None, move || Ok(hub.open(registration))).await?;
    let mut stream = Stream {
        state,
        principal,
        scope: start.scope,
        types,
        sent: start.horizon.last_seq,
        feed,
        sink,
        wire,
        guard,
        named,
        last_frame: tokio::time::Instant::now(),
    };
    if let Some(after) = after {
        if after < start.horizon.purged_through {
            let message = format!(
                "events after {after} are no longer kept (the log keeps events from {} on)",
                start.horizon.purged_through + 1
            );
            let _ = stream.sink.try_send(stream.wire.error("RESUME_POINT_EXPIRED", message));
            return Ok(None);
        }
        stream.sent = after.min(start.horizon.last_seq);
    }
    Ok(Some(stream))
}

/// What a client asked of its stream.
#[derive(Debug, Clone)]
pub struct StreamRequest {
    /// `channel=`.
    pub channel: Option<roost_domain::ChannelId>,
    /// `Last-Event-ID` or `after=`.
    pub after: Option<i64>,
    /// `types=`.
    pub types: Option<HashSet<EventType>>,
    /// How its events are written.
    pub wire: Wire,
}
