//! Real-time: `GET /v1/events` (server-sent events), `GET /v1/ws` (WebSocket),
//! `POST /v1/events/tickets`, and `GET /v1/chat-sessions`.

use std::collections::{BTreeSet, HashSet};
use std::convert::Infallible;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_domain::model::event::{EventType, StreamScope};
use roost_domain::{ChannelId, DomainError, FieldErrorCode, Principal};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::casing;
use crate::error::ApiError;
use crate::extract::{authenticate, blocking, Authenticated, Domain, ListRequest};
use crate::negotiate::Hal;
use crate::openapi::{ChatSessionPage, PageParams};
use crate::realtime::stream::{self, Ended, Frame, Stream, StreamRequest, Transport, Wire};
use crate::realtime::websocket::{PendingPong, WebSocketBody};
use crate::repr::numbered_page;
use crate::repr::user::{chat_session, TicketRepr};
use crate::state::AppState;
use crate::urls::Urls;

/// Routes of the real-time API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::endpoint("/v1/events").get(events))
        .service(super::endpoint("/v1/events/tickets").post(ticket))
        .service(super::endpoint("/v1/ws").get(websocket))
        .service(super::endpoint("/v1/chat-sessions").get(chat_sessions));
}

/// The principal of a stream: a ticket's (`?ticket=`, used up), else the `Authorization`
/// header's.
async fn stream_principal(state: &web::Data<AppState>, req: &HttpRequest) -> Result<Principal, ApiError> {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let ticket = query.iter().find(|(k, _)| k == "ticket").map(|(_, v)| v.clone());
    let principal = match ticket {
        Some(ticket) => {
            let redeeming = state.clone();
            blocking(state, None, move || Ok(redeeming.auth.redeem_ticket(&ticket, roost_domain::now())?)).await?
        }
        None => {
            let authorization = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_owned));
            authenticate(state, authorization).await?
        }
    };
    if let Some(limits) = &state.rate_limits {
        limits.check_application(req, principal.application_id().0)?;
    }
    Ok(principal)
}

fn invalid(field: &'static str, why: impl Into<String>) -> ApiError {
    DomainError::field("events", field, FieldErrorCode::Invalid, why).into()
}

/// `channel=`, `types=`, `after=` / `Last-Event-ID`, `_case=` of a stream request.
fn stream_request(req: &HttpRequest, transport: Transport) -> Result<StreamRequest, ApiError> {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let channel = get("channel")
        .map(|c| c.parse::<i64>().map(ChannelId).map_err(|_| invalid("channel", "channel must be a channel id")))
        .transpose()?;
    let types = get("types")
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| EventType::parse(t).ok_or_else(|| invalid("types", format!("unknown event type '{t}'"))))
                .collect::<Result<HashSet<_>, _>>()
        })
        .transpose()?;
    // RFC-less but universal: EventSource resends the last `id:` it saw as `Last-Event-ID`.
    let resume = req.headers().get("last-event-id").map(|v| v.to_str().unwrap_or("x").to_owned());
    let after = match get("after").map(str::to_owned).or(resume) {
        None => None,
        Some(raw) => Some(
            raw.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| invalid("after", "the resume point must be an event id"))?,
        ),
    };
    let wire = Wire { urls: Urls::of(req), casing: casing::requested(req), transport };
    Ok(StreamRequest { channel, after, types, wire })
}

/// How long a busy stream gathers events before it writes them, together: an event that comes
/// within this time of the stream's last write waits for the rest of it. A quiet stream's
/// event goes at once. One write (and one wake of the connection's task) for several events
/// is what lets one node carry 500 000 deliveries a second (issue 23, `docs/benchmarks.md`).
/// 15 ms: below the 20 ms between events at 50 messages/s, so at that rate an event waits only
/// when it comes early (jitter, or several events at once); measured against 5, 10 and 25 ms
/// (5 and 10 wake streams so often that the writes themselves slow down; 25 makes every event
/// at 50/s wait).
const GATHER: std::time::Duration = std::time::Duration::from_millis(15);

/// Runs a stream until its client goes or it ends: the log first, then the feed.
async fn pump(mut stream: Stream, mut commands: Option<mpsc::Receiver<Value>>) {
    if stream.catch_up(None).await.is_err() {
        return;
    }
    let mut last_write: Option<tokio::time::Instant> = None;
    loop {
        if let Some(written) = last_write.take() {
            // Busy: what comes meanwhile waits in the feed, and goes out with the next event.
            // The client's own frames (a WebSocket's commands) are handled at once.
            let until = written + GATHER;
            loop {
                let Some(commands) = commands.as_mut() else {
                    tokio::time::sleep_until(until).await;
                    break;
                };
                tokio::select! {
                    () = tokio::time::sleep_until(until) => break,
                    command = commands.recv() => match command {
                        Some(command) => {
                            if command_frame(&mut stream, command).await.is_err() {
                                return;
                            }
                        }
                        None => return,
                    },
                }
            }
        }
        let next = match commands.as_mut() {
            Some(commands) => tokio::select! {
                next = stream.next() => next,
                command = commands.recv() => match command {
                    Some(command) => {
                        if command_frame(&mut stream, command).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    None => return,
                },
            },
            None => stream.next().await,
        };
        let done = match next {
            Ok(Some(outgoing)) => deliver_waiting(&mut stream, outgoing).await,
            Ok(None) => stream.emit(Frame::Heartbeat),
            Err(Ended) => return,
        };
        if done.is_err() {
            return;
        }
        if stream.last_frame.elapsed() < GATHER {
            last_write = Some(stream.last_frame);
        }
    }
}

/// Delivers `first` and every event already waiting in the feed: the frames are queued
/// together, and the connection writes them in one go.
async fn deliver_waiting(stream: &mut Stream, first: Arc<crate::realtime::Outgoing>) -> Result<(), Ended> {
    stream.deliver(first).await?;
    while let Some(outgoing) = stream.try_next().await? {
        stream.deliver(outgoing).await?;
    }
    Ok(())
}

#[utoipa::path(
    get,
    path = "/v1/events",
    operation_id = "stream-events",
    tag = "events",
    summary = "Stream events (server-sent events)",
    description = "Each event as `id:` (events of the log only), `event:` (its type) and `data:` \
`{\"id\", \"type\", \"time\", \"resource\"}`. An application's token receives its application's events, a user's \
session those of its channels and its own notifications. `types=a,b` and `channel=` filter; `Last-Event-ID` or \
`after=` resume from the log; `ticket=` stands for a token (see `POST /v1/events/tickets`).",
    params(
        ("types" = Option<String>, Query, description = "Comma-separated event types"),
        ("channel" = Option<i64>, Query, description = "Only this channel (a user: also a public channel it is not in)"),
        ("after" = Option<i64>, Query, description = "Resume after this event id"),
        ("ticket" = Option<String>, Query, description = "A stream ticket instead of the Authorization header"),
    ),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = String),
    ),
    security(("oauth2" = [])),
)]
pub async fn events(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    // The request is checked before a ticket is used up.
    let request = stream_request(&req, Transport::Sse)?;
    let principal = stream_principal(&state, &req).await?;
    let (sink, mut frames) = mpsc::channel(state.realtime.settings().buffer + 1);
    if let Some(stream) = stream::open(state.clone(), principal, request, sink).await? {
        actix_web::rt::spawn(pump(stream, None));
    }
    let body = futures_util::stream::poll_fn(move |cx| {
        frames.poll_recv(cx).map(|frame| frame.map(|f| Ok::<_, Infallible>(f.sse())))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Proxies (nginx) must pass each event on as it comes.
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

#[utoipa::path(
    get,
    path = "/v1/ws",
    operation_id = "stream-events-websocket",
    tag = "events",
    summary = "Stream events (WebSocket)",
    description = "The events of `GET /v1/events` as JSON text frames. Client frames: \
`{\"type\":\"subscribe\",\"channelId\"}`, `{\"type\":\"unsubscribe\",\"channelId\"}`, \
`{\"type\":\"keystrokes\",\"channelId\"|\"threadId\",\"keys\"}`, `{\"type\":\"read\",\"messageId\"}`, \
`{\"type\":\"event\",\"channelId\",\"eventType\",\"properties\"}`; a bad frame is answered with an `error` frame.",
    params(("ticket" = Option<String>, Query, description = "A stream ticket instead of the Authorization header")),
    responses((status = 101, description = "Switching to the WebSocket protocol")),
    security(("oauth2" = [])),
)]
pub async fn websocket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let request = stream_request(&req, Transport::WebSocket)?;
    let wire = request.wire.clone();
    // Not a handshake: refused before a ticket is used up or a stream counted.
    let upgrade = req.headers().get(header::UPGRADE).and_then(|v| v.to_str().ok());
    if !upgrade.is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::BadRequest("GET /v1/ws needs a WebSocket handshake (Upgrade: websocket)".into()));
    }
    let principal = stream_principal(&state, &req).await?;
    let (sink, frames) = mpsc::channel(state.realtime.settings().buffer + 1);
    // Authorized (a hidden channel is not found) before the protocol switches.
    let stream = stream::open(state.clone(), principal, request, sink.clone()).await?;
    let (response, _session, mut incoming) =
        actix_ws::handle(&req, body).map_err(|e| ApiError::BadRequest(format!("not a WebSocket handshake: {e}")))?;
    let (commands_in, commands) = mpsc::channel::<Value>(16);
    // Writer: the frames go straight from the stream's queue into the response's body.
    let pong = Arc::new(PendingPong::default());
    let body = WebSocketBody::new(frames, Arc::clone(&pong));
    let response = response.set_body(actix_web::body::BodyStream::new(body)).map_into_boxed_body();
    // Reader: the client's frames, parsed; a bad one is answered, never fatal. It holds the
    // sink weakly: when the stream ends, the body sees the queue closed and sends a close.
    let sink = sink.downgrade();
    let answer = move |frame: Frame| {
        // The buffer's last place is kept for the stream's own CONSUMER_TOO_SLOW.
        if let Some(sink) = sink.upgrade().filter(|s| s.capacity() > 1) {
            let _ = sink.try_send(frame);
        }
    };
    actix_web::rt::spawn(async move {
        while let Some(Ok(message)) = futures_util::StreamExt::next(&mut incoming).await {
            match message {
                actix_ws::Message::Text(text) => match serde_json::from_str::<Value>(&text) {
                    Ok(value) if value.is_object() => {
                        if commands_in.send(casing::to_camel(value)).await.is_err() {
                            return;
                        }
                    }
                    _ => answer(wire.error("BAD_FRAME", "a frame must be a JSON object")),
                },
                actix_ws::Message::Binary(_) => answer(wire.error("BAD_FRAME", "frames are JSON text")),
                actix_ws::Message::Ping(bytes) => pong.answer(bytes),
                actix_ws::Message::Close(_) => return,
                _ => {}
            }
        }
    });
    if let Some(stream) = stream {
        actix_web::rt::spawn(pump(stream, Some(commands)));
    }
    Ok(response)
}

/// Runs one client frame of a WebSocket; a refusal is an `error` frame.
async fn command_frame(stream: &mut Stream, frame: Value) -> Result<(), Ended> {
    match run_command(stream, &frame).await {
        Ok(()) => Ok(()),
        Err(error) => {
            let (code, message) = error.code_and_message();
            let frame = stream.wire.error(code, message);
            stream.emit(frame)
        }
    }
}

fn id_field(frame: &Value, name: &'static str) -> Result<Option<i64>, ApiError> {
    match frame.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or_else(|| invalid(name, format!("{name} must be an id"))),
    }
}

async fn run_command(stream: &mut Stream, frame: &Value) -> Result<(), ApiError> {
    let kind = frame.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
    let channel = id_field(frame, "channelId")?.map(ChannelId);
    let state = stream.state.clone();
    let principal = stream.principal.clone();
    match kind.as_str() {
        "subscribe" | "unsubscribe" => {
            let channel = channel.ok_or_else(|| invalid("channelId", "channelId is required"))?;
            let mut scope = stream.scope.clone();
            let subscribe = kind == "subscribe";
            let scope = blocking(&state.clone(), None, move || {
                if subscribe {
                    state.service.subscribe_stream(&principal, &mut scope, channel)?;
                } else {
                    unsubscribe(&mut scope, channel);
                }
                Ok(scope)
            })
            .await?;
            let subscribed: BTreeSet<ChannelId> = match &scope {
                StreamScope::Application { channels } => channels.clone(),
                StreamScope::User { watching, member_of, .. } => {
                    // A chat session per channel the user named: joined or watched.
                    let mut named = stream.named.clone();
                    if subscribe {
                        named.insert(channel);
                    } else {
                        named.remove(&channel);
                    }
                    named.retain(|c| watching.contains(c) || member_of.contains(c));
                    named
                }
            };
            stream.scope = scope;
            stream.named = subscribed.clone();
            let (hub, id) = (stream.state.realtime.clone(), stream.guard.id());
            blocking(&stream.state, None, move || {
                hub.set_channels(id, subscribed);
                Ok(())
            })
            .await
        }
        "keystrokes" => {
            let keys = frame.get("keys").and_then(Value::as_str).unwrap_or_default().to_owned();
            let thread = id_field(frame, "threadId")?.map(roost_domain::ThreadId);
            blocking(&state.clone(), None, move || {
                match (channel, thread) {
                    (_, Some(thread)) => state.service.thread_keystrokes(&principal, thread, keys, None)?,
                    (Some(channel), None) => state.service.channel_keystrokes(&principal, channel, keys, None)?,
                    (None, None) => return Err(invalid("channelId", "channelId or threadId is required")),
                };
                Ok(())
            })
            .await
        }
        "read" => {
            let message = id_field(frame, "messageId")?
                .map(roost_domain::MessageId)
                .ok_or_else(|| invalid("messageId", "messageId is required"))?;
            blocking(&state.clone(), None, move || Ok(state.service.mark_read(&principal, message, None).map(drop)?))
                .await
        }
        "event" => {
            let channel = channel.ok_or_else(|| invalid("channelId", "channelId is required"))?;
            let event_type = frame.get("eventType").and_then(Value::as_str).unwrap_or_default().to_owned();
            let properties = match frame.get("properties") {
                None | Some(Value::Null) => serde_json::Map::new(),
                Some(Value::Object(map)) => map.clone(),
                Some(_) => return Err(invalid("properties", "properties must be an object")),
            };
            blocking(&state.clone(), None, move || {
                Ok(state.service.channel_event(&principal, channel, &event_type, &properties)?)
            })
            .await
        }
        _ => Err(ApiError::BadRequest(format!(
            "unknown frame type '{kind}': subscribe, unsubscribe, keystrokes, read or event"
        ))),
    }
}

fn unsubscribe(scope: &mut StreamScope, channel: ChannelId) {
    match scope {
        StreamScope::Application { channels } => {
            channels.remove(&channel);
        }
        StreamScope::User { watching, .. } => {
            watching.remove(&channel);
        }
    }
}

#[utoipa::path(
    post,
    path = "/v1/events/tickets",
    operation_id = "create-stream-ticket",
    tag = "events",
    summary = "Get a stream ticket",
    description = "A single-use ticket, valid 30 seconds, standing for this request's token as `?ticket=` on \
`GET /v1/events` and `GET /v1/ws` (browsers cannot set headers on EventSource or WebSocket).",
    responses((status = 201, description = "The ticket", body = TicketRepr, content_type = "application/json")),
    security(("oauth2" = [])),
)]
pub async fn ticket(
    state: web::Data<AppState>,
    Authenticated(_): Authenticated,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let ttl = chrono::Duration::from_std(state.realtime.settings().ticket_ttl).unwrap_or_default();
    let issuing = state.clone();
    let ticket = blocking(&state, None, move || {
        Ok(issuing.auth.issue_ticket(authorization.as_deref(), ttl, roost_domain::now())?)
    })
    .await?;
    let body = serde_json::to_string(&TicketRepr { ticket }).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(body))
}

#[utoipa::path(
    get,
    path = "/v1/chat-sessions",
    operation_id = "list-chat-sessions",
    tag = "events",
    summary = "List chat sessions",
    description = "Users' streams open now in a channel (`channel=` on `GET /v1/events`, a `subscribe` frame on \
`GET /v1/ws`), oldest first.",
    params(PageParams),
    responses(
        (status = 200, description = "A page of chat sessions", body = ChatSessionPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn chat_sessions(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let (number, size) = list.numbered()?;
    let found = domain.run(move |s| s.list_chat_sessions(&p, number, size)).await?;
    Ok(Hal(numbered_page("sessions", &found, &list.page_links(), |s| chat_session(s, &list.urls))))
}
