//! `/v1/messages…`, `/v1/threads…`, and a user's messages and notifications.

use actix_web::{web, HttpRequest, Responder};
use roost_domain::channel::UserRef;
use roost_domain::cursor::CursorRequest;
use roost_domain::message::{self, Message, MessagePatch, MessageScope, NewMessage, Posted};
use roost_domain::{now, view, ApplicationId, DomainError, FieldErrorCode, MessageId};
use roost_hal::{CursorLinks, PageLinks};
use serde_json::Value;

use super::bodies::{
    text_and_properties_patch, user_ref_param, CreateMessageBody, KeystrokesBody, ReactionBody, UserBody,
};
use super::channels::keystrokes_resource;
use super::resource;
use crate::cache::ResponseCache;
use crate::error::ApiError;
use crate::extract::{
    blocking, cursor_request, page_request, Authenticated, MessageIdPath, QueryPairs, ThreadIdPath, UserIdPath,
};
use crate::negotiate::{negotiate, Hal, Rendered};
use crate::repr::chat::{self as chat_repr, cursor_page, Renderer};
use crate::repr::user::numbered_page;
use crate::repr::{self};
use crate::state::AppState;
use crate::urls::Urls;

/// Routes under `/v1/messages`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let m = "/{message_id}";
    cfg.service(resource("").route(web::get().to(list)).route(web::delete().to(delete_all)))
        .service(resource(m).route(web::get().to(get)).route(web::patch().to(patch)).route(web::delete().to(delete)))
        .service(resource(&format!("{m}/replies")).route(web::get().to(replies)).route(web::post().to(reply)))
        .service(resource(&format!("{m}/reactions")).route(web::post().to(react)))
        .service(resource(&format!("{m}/reactions/{{emoji}}")).route(web::delete().to(unreact)))
        .service(
            resource(&format!("{m}/read-receipts")).route(web::get().to(receipts)).route(web::post().to(mark_read)),
        );
}

/// Routes under `/v1/threads`.
pub fn configure_threads(cfg: &mut web::ServiceConfig) {
    let t = "/{thread_id}";
    cfg.service(resource(t).route(web::get().to(thread)))
        .service(
            resource(&format!("{t}/messages")).route(web::get().to(thread_messages)).route(web::post().to(thread_send)),
        )
        .service(resource(&format!("{t}/keystrokes")).route(web::post().to(thread_keystrokes)));
}

/// Runs a use case returning one message and renders it.
pub(crate) async fn one_message(
    state: web::Data<AppState>,
    app: ApplicationId,
    urls: &Urls,
    work: impl FnOnce(&AppState) -> Result<Message, DomainError> + Send + 'static,
) -> Result<impl Responder, ApiError> {
    let (found, related) = blocking(move || {
        let found = work(&state)?;
        let related = view::related(state.ports.chat(), app, &[], std::slice::from_ref(&found), &[])?;
        Ok((found, related))
    })
    .await?;
    Ok(Hal(Renderer { urls, related: &related }.message(&found)))
}

/// Runs a use case that stores a new message and renders it.
pub(crate) async fn new_message(
    state: web::Data<AppState>,
    app: ApplicationId,
    urls: &Urls,
    work: impl FnOnce(&AppState) -> Result<Posted, DomainError> + Send + 'static,
) -> Result<impl Responder, ApiError> {
    let (posted, related) = blocking(move || {
        let posted = work(&state)?;
        let related = view::related_to_new_message(state.ports.chat(), app, &posted)?;
        Ok((posted, related))
    })
    .await?;
    Ok(Hal(Renderer { urls, related: &related }.message(&posted.message)))
}

/// Reads a cursor page of messages and renders it with links that keep the filters. Pages are
/// the hottest read: answered from the response cache while no write has happened since.
pub(crate) async fn message_page(
    state: web::Data<AppState>,
    app: ApplicationId,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
    scope: impl FnOnce(&AppState) -> Result<MessageScope, DomainError> + Send + 'static,
) -> Result<Rendered, ApiError> {
    let content_type = negotiate(&req)?;
    // Only a newest page is kept: that is what every client reads again and again, while older
    // pages are read once while scrolling, and caching them only churns memory (issue 4: RSS
    // peaked at 120 MiB with them, 52 MiB without).
    let newest = query.get("start").is_none() && query.get("next").is_none();
    let key = newest.then(|| ResponseCache::key(app, &urls.root(""), &req, content_type));
    if let Some(rendered) = key.as_deref().and_then(|key| state.responses.get(key)) {
        return Ok(rendered);
    }
    let generation = state.responses.generation();
    let request = cursor_request(&query)?;
    let username = query.get("username").map(str::to_owned);
    let text = query.get("query").map(str::to_owned);
    let responses = state.responses.clone();
    let (found, related) = blocking(move || {
        let scope = scope(&state)?;
        let found = message::list_messages(state.ports.chat(), app, &scope, username.as_deref(), text, &request)?;
        let related = view::related(state.ports.chat(), app, &[], &found.items, &[])?;
        Ok((found, related))
    })
    .await?;
    let links = CursorLinks::new(urls.root(req.path()), query.without(&["start", "next", "size", "relation"]));
    let renderer = Renderer { urls: &urls, related: &related };
    let rendered = Rendered::json(content_type, &cursor_page("messages", &found, &links, |m| renderer.message(m)))?;
    if let Some(key) = key {
        responses.put(key, generation, rendered.clone());
    }
    Ok(rendered)
}

pub async fn list(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    message_page(state, p.application_id, urls, req, query, |_| Ok(MessageScope::Application)).await
}

/// `GET /v1/users/{id}/messages`: the messages the user sent, or with `unread=true` the ones
/// they have not read yet in their channels.
pub async fn of_user(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    UserIdPath(user): UserIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let unread = match query.get("unread") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!("query parameter 'unread' must be true or false, got '{other}'")))
        }
    };
    let app = p.application_id;
    message_page(state, app, urls, req, query, move |s| {
        roost_domain::user::get_user(s.ports.users.as_ref(), app, user)?;
        Ok(if unread { MessageScope::UnreadBy(user) } else { MessageScope::SentBy(user) })
    })
    .await
}

/// `DELETE /v1/messages`: every message of the application; answers with the application.
pub async fn delete_all(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = blocking(move || {
        message::delete_all_messages(state.ports.messages.as_ref(), p.application_id)?;
        Ok(roost_domain::application::get_application(state.ports.applications.as_ref(), p.application_id)?)
    })
    .await?;
    Ok(Hal(repr::application::application(&app, &urls)?))
}

pub async fn get(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = p.application_id;
    one_message(state, app, &urls, move |s| message::get_message(s.ports.messages.as_ref(), app, id)).await
}

pub async fn patch(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    body: web::Json<Value>,
) -> Result<impl Responder, ApiError> {
    let (body, properties) = text_and_properties_patch(body.into_inner(), "message", &["body"])?;
    let patch = MessagePatch { body, properties };
    let app = p.application_id;
    one_message(state, app, &urls, move |s| {
        message::patch_message(s.ports.chat(), s.settings.messages, app, id, patch, now())
    })
    .await
}

/// `DELETE /v1/messages/{id}` answers with the thread the message lived in.
pub async fn delete(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let thread =
        blocking(move || Ok(message::delete_message(state.ports.messages.as_ref(), p.application_id, id)?)).await?;
    Ok(Hal(Renderer { urls: &urls, related: &view::Related::default() }.thread(&thread)))
}

async fn send_reply(
    state: web::Data<AppState>,
    app: ApplicationId,
    urls: &Urls,
    parent: MessageId,
    input: NewMessage,
) -> Result<impl Responder, ApiError> {
    new_message(state, app, urls, move |s| {
        message::reply_to_message(s.ports.chat(), &s.ids, s.settings.messages, app, parent, input, now())
    })
    .await
}

/// `GET /v1/messages/{id}/replies`: the message's thread, as a cursor page.
pub async fn replies(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let app = p.application_id;
    message_page(state, app, urls, req, query, move |s| {
        let thread = message::replies_thread(s.ports.chat(), &s.ids, app, id, now())?;
        Ok(MessageScope::Thread(thread.id))
    })
    .await
}

pub async fn reply(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    body: web::Json<CreateMessageBody>,
) -> Result<impl Responder, ApiError> {
    let input = body.into_inner().into_new_message()?;
    send_reply(state, p.application_id, &urls, id, input).await
}

pub async fn react(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    body: web::Json<ReactionBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let user = UserRef::from(body.user);
    let app = p.application_id;
    one_message(state, app, &urls, move |s| message::add_reaction(s.ports.chat(), app, id, &body.emoji, &user, now()))
        .await
}

/// `DELETE /v1/messages/{id}/reactions/{emoji}?user=` (an id or a username).
pub async fn unreact(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let emoji = req.match_info().get("emoji").unwrap_or_default().to_owned();
    let user = query.get("user").map(user_ref_param).ok_or_else(|| {
        DomainError::field(
            "reaction",
            "user",
            FieldErrorCode::MissingField,
            "query parameter 'user' (an id or a username) is required",
        )
    })?;
    let app = p.application_id;
    one_message(state, app, &urls, move |s| message::remove_reaction(s.ports.chat(), app, id, &emoji, &user)).await
}

pub async fn receipts(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let page = page_request(&query)?;
    let found =
        blocking(move || Ok(message::read_receipts(state.ports.messages.as_ref(), p.application_id, id, &page)?))
            .await?;
    let links = PageLinks::new(urls.root(req.path()), query.without(&["page", "size"]));
    Ok(Hal(numbered_page("receipts", &found, &links, |r| chat_repr::receipt(r, id, &urls))))
}

/// `POST /v1/messages/{id}/read-receipts`: marks it, and every older message of its channel, read.
pub async fn mark_read(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    body: web::Json<UserBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner().user);
    let receipt =
        blocking(move || Ok(message::mark_read(state.ports.chat(), p.application_id, id, &user, now())?)).await?;
    Ok(Hal(chat_repr::receipt(&receipt, id, &urls)))
}

pub async fn thread(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = blocking(move || Ok(message::get_thread(state.ports.messages.as_ref(), p.application_id, id)?)).await?;
    Ok(Hal(Renderer { urls: &urls, related: &view::Related::default() }.thread(&found)))
}

pub async fn thread_messages(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let app = p.application_id;
    message_page(state, app, urls, req, query, move |s| {
        message::get_thread(s.ports.messages.as_ref(), app, id)?;
        Ok(MessageScope::Thread(id))
    })
    .await
}

pub async fn thread_send(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
    body: web::Json<CreateMessageBody>,
) -> Result<impl Responder, ApiError> {
    let input = body.into_inner().into_new_message()?;
    let app = p.application_id;
    new_message(state, app, &urls, move |s| {
        message::send_thread_message(s.ports.chat(), &s.ids, s.settings.messages, app, id, input, now())
    })
    .await
}

pub async fn thread_keystrokes(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
    body: web::Json<KeystrokesBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let keys = body.keys.clone();
    let user = UserRef::from(body.user);
    let typist = blocking(move || {
        let thread = message::get_thread(state.ports.messages.as_ref(), p.application_id, id)?;
        let channel =
            roost_domain::channel::get_channel(state.ports.channels.as_ref(), p.application_id, thread.channel_id)?;
        Ok(message::keystrokes(state.ports.chat(), p.application_id, &channel, &keys, &user)?)
    })
    .await?;
    Ok(Hal(keystrokes_resource(body.keys, typist.name, &urls)))
}

/// `GET /v1/users/{id}/notifications`, newest first.
pub async fn notifications_of_user(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    UserIdPath(user): UserIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let request: CursorRequest = cursor_request(&query)?;
    let app = p.application_id;
    let (found, related) = blocking(move || {
        roost_domain::user::get_user(state.ports.users.as_ref(), app, user)?;
        let found = state.ports.notifications.list_notifications(app, user, &request)?;
        let related = view::related_to_notifications(state.ports.chat(), app, &found.items)?;
        Ok((found, related))
    })
    .await?;
    let links = CursorLinks::new(urls.root(req.path()), query.without(&["start", "next", "size", "relation"]));
    let renderer = Renderer { urls: &urls, related: &related };
    Ok(Hal(cursor_page("notifications", &found, &links, |n| renderer.notification(n))))
}
