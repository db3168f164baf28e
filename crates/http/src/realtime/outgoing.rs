//! An event on its way to streams: rendered once per link base and casing, however many
//! streams receive it. On the wire, SSE and WebSocket alike: `{"id", "type", "time", "resource"}`
//! (`id` only for events of the log).

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use bytestring::ByteString;

use roost_domain::model::channel::{Invite, Membership};
use roost_domain::model::event::{Event, EventResource, EventType, Link, LiveEvent, LiveResource};
use roost_domain::model::file::StoredFile;
use roost_domain::model::message::ReadReceipt;
use roost_domain::service::Related;
use roost_domain::{ChannelId, UserId};
use serde_json::{json, Value};

use crate::casing::{to_snake, Casing};
use crate::repr::chat::{self as chat_repr, Renderer};
use crate::repr::iso;
use crate::repr::user::{user, user_state};
use crate::urls::Urls;

/// What an outgoing event is.
#[derive(Debug)]
enum Body {
    Stored { event: Event, related: Arc<Related> },
    Live(LiveEvent),
    Error { code: String, message: String },
}

/// One rendering of an event: its envelope's JSON and its server-sent event, as shared bytes
/// (each stream's copy is a reference count, not a copy of the text).
#[derive(Debug)]
struct Rendered {
    /// The envelope (a WebSocket text frame, a webhook's body): text, checked once here
    /// rather than once per stream.
    json: ByteString,
    /// The server-sent event: `id:` (stored events only), `event:`, `data:`.
    sse: Bytes,
}

/// Where a rendering applies: the link base and the casing.
type Rendering = (Urls, Casing, Rendered);

/// One event for every stream of its application, rendered lazily and kept per link base and
/// casing: at 1 000 streams an event is rendered once, not 1 000 times.
#[derive(Debug)]
pub struct Outgoing {
    body: Body,
    /// The first rendering, which nearly every stream wants: read without a lock (1 000
    /// streams on every worker thread read it at once).
    first: OnceLock<Rendering>,
    /// Renderings for other link bases or casings.
    others: Mutex<Vec<Rendering>>,
}

impl Outgoing {
    /// An event of the log, with what rendering it needs.
    pub fn stored(event: Event, related: Arc<Related>) -> Self {
        Self { body: Body::Stored { event, related }, first: OnceLock::new(), others: Mutex::default() }
    }

    /// A live-only event.
    pub fn live(event: LiveEvent) -> Self {
        Self { body: Body::Live(event), first: OnceLock::new(), others: Mutex::default() }
    }

    /// A stream's own `error` event (`resource`: `{"code", "message"}`).
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            body: Body::Error { code: code.into(), message: message.into() },
            first: OnceLock::new(),
            others: Mutex::default(),
        }
    }

    /// Its log sequence number, if it is in the log.
    pub fn seq(&self) -> Option<i64> {
        match &self.body {
            Body::Stored { event, .. } => Some(event.seq),
            _ => None,
        }
    }

    /// Its type.
    pub fn event_type(&self) -> EventType {
        match &self.body {
            Body::Stored { event, .. } => event.draft.event_type,
            Body::Live(live) => live.event_type,
            Body::Error { .. } => EventType::Error,
        }
    }

    /// The channel it happened in.
    pub fn channel_id(&self) -> Option<ChannelId> {
        match &self.body {
            Body::Stored { event, .. } => event.draft.channel_id,
            Body::Live(live) => live.channel_id(),
            Body::Error { .. } => None,
        }
    }

    /// The user it is about.
    pub fn user_id(&self) -> Option<UserId> {
        match &self.body {
            Body::Stored { event, .. } => event.draft.user_id,
            Body::Live(live) => live.user_id(),
            Body::Error { .. } => None,
        }
    }

    /// The envelope as JSON text, with links on `urls` and names in `casing`.
    pub fn json(&self, urls: &Urls, casing: Casing) -> ByteString {
        self.with_rendered(urls, casing, |rendered| rendered.json.clone())
    }

    /// The server-sent event, with links on `urls` and names in `casing`.
    pub fn sse(&self, urls: &Urls, casing: Casing) -> Bytes {
        self.with_rendered(urls, casing, |rendered| rendered.sse.clone())
    }

    fn with_rendered<T>(&self, urls: &Urls, casing: Casing, pick: impl Fn(&Rendered) -> T) -> T {
        let applies = |(u, c, _): &&Rendering| u.same_base(urls) && *c == casing;
        let first = self.first.get_or_init(|| (urls.clone(), casing, self.render(urls, casing)));
        if let Some((_, _, found)) = Some(first).filter(applies) {
            return pick(found);
        }
        let mut others = self.others.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, found)) = others.iter().find(applies) {
            return pick(found);
        }
        let made = self.render(urls, casing);
        let picked = pick(&made);
        others.push((urls.clone(), casing, made));
        picked
    }

    fn render(&self, urls: &Urls, casing: Casing) -> Rendered {
        let json = self.envelope(urls, casing).to_string();
        // WHATWG HTML §9.2: `id:` only for events of the log.
        let sse = match self.seq() {
            Some(seq) => format!("id: {seq}\nevent: {}\ndata: {json}\n\n", self.event_type().as_str()),
            None => format!("event: {}\ndata: {json}\n\n", self.event_type().as_str()),
        };
        Rendered { json: ByteString::from(json), sse: Bytes::from(sse) }
    }

    fn envelope(&self, urls: &Urls, casing: Casing) -> Value {
        let (time, resource) = match &self.body {
            Body::Stored { event, related } => (event.time, stored_resource(event, related, urls)),
            Body::Live(live) => (live.time, live_resource(live, urls)),
            Body::Error { code, message } => (roost_domain::now(), json!({"code": code, "message": message})),
        };
        let resource = match casing {
            Casing::Camel => resource,
            Casing::Snake => to_snake(resource),
        };
        let mut envelope = serde_json::Map::new();
        if let Some(seq) = self.seq() {
            envelope.insert("id".into(), json!(seq));
        }
        envelope.insert("type".into(), json!(self.event_type().as_str()));
        envelope.insert("time".into(), json!(iso(time)));
        envelope.insert("resource".into(), resource);
        Value::Object(envelope)
    }
}

fn to_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The body the REST API answers with for the event's resource.
fn stored_resource(event: &Event, related: &Related, urls: &Urls) -> Value {
    let renderer = Renderer { urls, related };
    match &event.draft.resource {
        EventResource::Message(m) => to_value(renderer.message(m)),
        EventResource::Channel(c) => to_value(renderer.channel(c)),
        EventResource::User(u) => to_value(user(u, urls)),
        EventResource::Notification(n) => to_value(renderer.notification(n)),
        EventResource::Link(link) => link_resource(event.draft.event_type, link, related, urls),
        EventResource::File(file) => file_resource(file, urls),
    }
}

/// A hosted file as a message shows it (`FileProperties`), with its checksum and upload time.
fn file_resource(file: &StoredFile, urls: &Urls) -> Value {
    json!({
        "type": "HOSTED",
        "url": urls.file(&file.key),
        "name": file.name,
        "contentType": file.content_type,
        "size": file.size,
        "checksum": file.checksum,
        "createdTime": iso(file.created_time),
    })
}

fn link_resource(event_type: EventType, link: &Link, related: &Related, urls: &Urls) -> Value {
    let renderer = Renderer { urls, related };
    let Some(linked) = related.users.get(&link.user_id) else {
        // The user is gone since: the ids say what happened.
        return to_value(link);
    };
    match event_type {
        EventType::MemberAdded | EventType::MemberRemoved | EventType::ModeratorAdded | EventType::ModeratorRemoved => {
            let membership = Membership {
                channel_id: link.channel_id,
                user: linked.clone(),
                moderator: event_type == EventType::ModeratorAdded,
                created_time: link.time,
            };
            to_value(chat_repr::membership(&membership, urls))
        }
        EventType::InviteCreated => {
            let invite = Invite { channel_id: link.channel_id, user: linked.clone(), created_time: link.time };
            to_value(chat_repr::invite(&invite, urls))
        }
        EventType::ReadReceiptCreated => match link.message_id {
            Some(message) => {
                let receipt = ReadReceipt { user: linked.clone(), created_time: link.time };
                to_value(chat_repr::receipt(&receipt, message, urls))
            }
            None => to_value(link),
        },
        // A reaction answers with the message, as `POST …/reactions` does, and says who and what.
        _ => {
            let message = link.message_id.and_then(|id| related.messages.get(&id));
            json!({
                "emoji": link.emoji,
                "user": to_value(user_state(linked, urls)),
                "message": message.map(|m| to_value(renderer.message(m))),
            })
        }
    }
}

fn live_resource(live: &LiveEvent, urls: &Urls) -> Value {
    match &live.resource {
        LiveResource::Keystrokes { channel_id, thread_id, user, keys } => {
            let mut value = json!({"channelId": channel_id.0, "user": to_value(user_state(user, urls)), "keys": keys});
            if let (Some(thread), Value::Object(map)) = (thread_id, &mut value) {
                map.insert("threadId".into(), json!(thread.0));
            }
            value
        }
        LiveResource::ChannelEvent { channel_id, user, event_type, properties } => json!({
            "channelId": channel_id.0,
            "user": user.as_ref().map(|u| to_value(user_state(u, urls))),
            "type": event_type,
            "properties": properties,
        }),
        LiveResource::Presence { user } => to_value(user_state(user, urls)),
    }
}
