//! `/v1/channels…`: channels, members, memberships, moderators, participants, invites, channel
//! messages, keystrokes and events.

use actix_web::{web, HttpRequest, Responder};
use chrono::DateTime;
use roost_domain::channel::{self, ChannelFilter, ChannelPatch, ChannelType, MemberFilter, NewChannel, UserRef};
use roost_domain::message::{self, MessageScope};
use roost_domain::{now, view, DomainError, FieldErrorCode, Properties};
use roost_hal::{Links, PageLinks, Resource};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bodies::{text_and_properties_patch, CreateMessageBody, KeystrokesBody, UserRefBody};
use super::resource;
use crate::error::ApiError;
use crate::extract::{blocking, page_request, Authenticated, ChannelIdPath, QueryPairs, UserIdPath};
use crate::negotiate::Hal;
use crate::repr::chat::{self as chat_repr, Renderer};
use crate::repr::user::numbered_page;
use crate::repr::{self};
use crate::state::AppState;
use crate::urls::Urls;

/// Routes under `/v1/channels`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let c = "/{channel_id}";
    cfg.service(resource("").route(web::get().to(list)).route(web::post().to(create)))
        .service(resource(c).route(web::get().to(get)).route(web::patch().to(patch)).route(web::delete().to(delete)))
        .service(resource(&format!("{c}/members")).route(web::get().to(members)).route(web::post().to(add_member)))
        .service(resource(&format!("{c}/members/{{user_id}}")).route(web::delete().to(remove_member)))
        .service(resource(&format!("{c}/memberships")).route(web::get().to(memberships)))
        .service(
            resource(&format!("{c}/moderators")).route(web::get().to(moderators)).route(web::post().to(add_moderator)),
        )
        .service(resource(&format!("{c}/moderators/{{user_id}}")).route(web::delete().to(remove_moderator)))
        .service(resource(&format!("{c}/participants")).route(web::get().to(participants)))
        .service(resource(&format!("{c}/invites")).route(web::get().to(invites)).route(web::post().to(invite)))
        .service(resource(&format!("{c}/messages")).route(web::get().to(messages)).route(web::post().to(send)))
        .service(resource(&format!("{c}/keystrokes")).route(web::post().to(keystrokes)))
        .service(resource(&format!("{c}/events")).route(web::post().to(event)));
}

/// Renders channels with what they point at (creator, members, last message).
fn render_channels(
    state: &AppState,
    application: roost_domain::ApplicationId,
    channels: &[channel::Channel],
) -> Result<view::Related, ApiError> {
    Ok(view::related(state.ports.chat(), application, channels, &[], &[])?)
}

async fn one_channel(
    state: web::Data<AppState>,
    app: roost_domain::ApplicationId,
    urls: &Urls,
    work: impl FnOnce(&AppState) -> Result<channel::Channel, DomainError> + Send + 'static,
) -> Result<impl Responder, ApiError> {
    let (found, related) = blocking(move || {
        let found = work(&state)?;
        let related = render_channels(&state, app, std::slice::from_ref(&found))?;
        Ok((found, related))
    })
    .await?;
    Ok(Hal(Renderer { urls, related: &related }.channel(&found)))
}

/// `CreateChannelResource` (PUBLIC, PRIVATE or DIRECT).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateChannelBody {
    #[serde(rename = "type")]
    channel_type: String,
    name: Option<String>,
    #[serde(alias = "display_name")]
    display_name: Option<String>,
    creator: Option<UserRefBody>,
    #[serde(default)]
    members: Vec<UserRefBody>,
    properties: Option<Properties>,
}

pub async fn create(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    urls: Urls,
    body: web::Json<CreateChannelBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let channel_type = ChannelType::parse(&body.channel_type).ok_or_else(|| {
        DomainError::field(
            "channel",
            "type",
            FieldErrorCode::Invalid,
            format!("type must be PUBLIC, PRIVATE or DIRECT, got '{}'", body.channel_type),
        )
    })?;
    let input = NewChannel {
        channel_type,
        name: body.name,
        display_name: body.display_name,
        creator: body.creator.map(UserRef::from),
        members: body.members.into_iter().map(UserRef::from).collect(),
        properties: body.properties.unwrap_or_default(),
    };
    let app = p.application_id;
    one_channel(state, app, &urls, move |s| {
        channel::create_channel(s.ports.channels.as_ref(), s.ports.users.as_ref(), &s.ids, app, input, now())
    })
    .await
}

fn time_param(query: &QueryPairs, name: &str) -> Result<Option<DateTime<chrono::Utc>>, ApiError> {
    query
        .get(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v).map(|t| t.to_utc()).map_err(|_| {
                ApiError::BadRequest(format!("query parameter '{name}' must be an ISO-8601 date-time, got '{v}'"))
            })
        })
        .transpose()
}

fn channel_filter(query: &QueryPairs) -> Result<ChannelFilter, ApiError> {
    let channel_type = query
        .get("type")
        .map(|t| {
            ChannelType::parse(t)
                .ok_or_else(|| ApiError::BadRequest(format!("type must be PUBLIC, PRIVATE or DIRECT, got '{t}'")))
        })
        .transpose()?;
    let member_names = query
        .all("members")
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    let properties = query
        .get("properties")
        .map(|raw| match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(ApiError::BadRequest(format!("query parameter 'properties' must be a JSON object; got '{raw}'"))),
        })
        .transpose()?;
    Ok(ChannelFilter {
        channel_type,
        member_names,
        start_time: time_param(query, "startTime")?,
        end_time: time_param(query, "endTime")?,
        properties,
        ..ChannelFilter::default()
    })
}

async fn channel_page(
    state: web::Data<AppState>,
    p: roost_auth::Principal,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
    filter: ChannelFilter,
) -> Result<impl Responder, ApiError> {
    let page = page_request(&query)?;
    let app = p.application_id;
    let (found, related) = blocking(move || {
        let found =
            channel::list_channels(state.ports.channels.as_ref(), state.ports.users.as_ref(), app, filter, &page)?;
        let related = render_channels(&state, app, &found.items)?;
        Ok((found, related))
    })
    .await?;
    let links = PageLinks::new(urls.root(req.path()), query.without(&["page", "size"]));
    let renderer = Renderer { urls: &urls, related: &related };
    Ok(Hal(numbered_page("channels", &found, &links, |c| renderer.channel(c))))
}

pub async fn list(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let filter = channel_filter(&query)?;
    channel_page(state, p, urls, req, query, filter).await
}

/// `GET /v1/users/{id}/channels`: channels the user created or joined.
pub async fn of_user(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    UserIdPath(user): UserIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let check = state.clone();
    blocking(move || Ok(roost_domain::user::get_user(check.ports.users.as_ref(), p.application_id, user)?)).await?;
    let filter = ChannelFilter { user_id: Some(user), ..ChannelFilter::default() };
    channel_page(state, p.clone(), urls, req, query, filter).await
}

pub async fn get(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = p.application_id;
    one_channel(state, app, &urls, move |s| channel::get_channel(s.ports.channels.as_ref(), app, id)).await
}

pub async fn patch(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<Value>,
) -> Result<impl Responder, ApiError> {
    let (display_name, properties) =
        text_and_properties_patch(body.into_inner(), "channel", &["displayName", "display_name"])?;
    let patch = ChannelPatch { display_name, properties };
    let app = p.application_id;
    one_channel(state, app, &urls, move |s| channel::patch_channel(s.ports.channels.as_ref(), app, id, patch)).await
}

/// `DELETE /v1/channels/{id}` answers with the application.
pub async fn delete(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = blocking(move || {
        channel::delete_channel(state.ports.channels.as_ref(), p.application_id, id)?;
        Ok(roost_domain::application::get_application(state.ports.applications.as_ref(), p.application_id)?)
    })
    .await?;
    Ok(Hal(repr::application::application(&app, &urls)?))
}

/// What a member list renders: users (members, moderators, participants) or memberships.
#[derive(Clone, Copy)]
enum MemberListing {
    Users(MemberFilter),
    Memberships,
}

async fn member_page(
    state: web::Data<AppState>,
    p: roost_auth::Principal,
    id: roost_domain::ChannelId,
    listing: MemberListing,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<actix_web::HttpResponse, ApiError> {
    let page = page_request(&query)?;
    let which = match listing {
        MemberListing::Users(which) => which,
        MemberListing::Memberships => MemberFilter::All,
    };
    let found =
        blocking(move || Ok(channel::list_members(state.ports.channels.as_ref(), p.application_id, id, which, &page)?))
            .await?;
    let links = PageLinks::new(urls.root(req.path()), query.without(&["page", "size"]));
    let response = match listing {
        MemberListing::Users(_) => {
            Hal(numbered_page("users", &found, &links, |m| repr::user::user(&m.user, &urls))).respond_to(&req)
        }
        MemberListing::Memberships => {
            Hal(numbered_page("memberships", &found, &links, |m| chat_repr::membership(m, &urls))).respond_to(&req)
        }
    };
    Ok(response)
}

pub async fn members(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    member_page(state, p, id, MemberListing::Users(MemberFilter::All), urls, req, query).await
}

pub async fn moderators(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    member_page(state, p, id, MemberListing::Users(MemberFilter::Moderators), urls, req, query).await
}

/// Members online now; users come online through the real-time sessions.
pub async fn participants(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    member_page(state, p, id, MemberListing::Users(MemberFilter::Online), urls, req, query).await
}

pub async fn memberships(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    member_page(state, p, id, MemberListing::Memberships, urls, req, query).await
}

/// `POST /v1/channels/{id}/members` answers with the channel.
pub async fn add_member(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<UserRefBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner());
    let app = p.application_id;
    one_channel(state, app, &urls, move |s| {
        channel::add_member(s.ports.channels.as_ref(), s.ports.users.as_ref(), app, id, &user, now())
    })
    .await
}

pub async fn remove_member(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    UserIdPath(user): UserIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = p.application_id;
    one_channel(state, app, &urls, move |s| channel::remove_member(s.ports.channels.as_ref(), app, id, user)).await
}

/// `POST /v1/channels/{id}/moderators` answers with the user.
pub async fn add_moderator(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<UserRefBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner());
    let moderator = blocking(move || {
        Ok(channel::add_moderator(
            state.ports.channels.as_ref(),
            state.ports.users.as_ref(),
            p.application_id,
            id,
            &user,
        )?)
    })
    .await?;
    Ok(Hal(repr::user::user(&moderator, &urls)))
}

pub async fn remove_moderator(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    UserIdPath(user): UserIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = p.application_id;
    one_channel(state, app, &urls, move |s| channel::remove_moderator(s.ports.channels.as_ref(), app, id, user)).await
}

pub async fn invites(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let page = page_request(&query)?;
    let found =
        blocking(move || Ok(channel::list_invites(state.ports.channels.as_ref(), p.application_id, id, &page)?))
            .await?;
    let links = PageLinks::new(urls.root(req.path()), query.without(&["page", "size"]));
    Ok(Hal(numbered_page("invites", &found, &links, |i| chat_repr::invite(i, &urls))))
}

/// `CreateChannelInviteResource`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    user: UserRefBody,
}

pub async fn invite(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<InviteBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner().user);
    let created = blocking(move || {
        Ok(channel::invite(
            state.ports.channels.as_ref(),
            state.ports.users.as_ref(),
            p.application_id,
            id,
            &user,
            now(),
        )?)
    })
    .await?;
    Ok(Hal(chat_repr::invite(&created, &urls)))
}

pub async fn messages(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let app = p.application_id;
    super::messages::message_page(state, app, urls, req, query, move |s| {
        let channel = channel::get_channel(s.ports.channels.as_ref(), app, id)?;
        Ok(MessageScope::Thread(channel.main_thread_id))
    })
    .await
}

pub async fn send(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<CreateMessageBody>,
) -> Result<impl Responder, ApiError> {
    let input = body.into_inner().into_new_message()?;
    let app = p.application_id;
    super::messages::new_message(state, app, &urls, move |s| {
        message::send_channel_message(s.ports.chat(), &s.ids, s.settings.messages, app, id, input, now())
    })
    .await
}

/// `ReplyThreadKeystrokesResource`.
#[derive(Serialize)]
pub struct KeystrokesRepr {
    keys: String,
    username: String,
}

pub(crate) fn keystrokes_resource(keys: String, username: String, urls: &Urls) -> Resource<KeystrokesRepr> {
    Resource::new(KeystrokesRepr { keys, username }, Links::new().with_href("application", urls.v1("/application")))
}

/// Typing indicators are ephemeral: validated and answered, delivered by the real-time layer.
pub async fn keystrokes(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<KeystrokesBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let keys = body.keys.clone();
    let user = UserRef::from(body.user);
    let typist = blocking(move || {
        let channel = channel::get_channel(state.ports.channels.as_ref(), p.application_id, id)?;
        Ok(message::keystrokes(state.ports.chat(), p.application_id, &channel, &keys, &user)?)
    })
    .await?;
    Ok(Hal(keystrokes_resource(body.keys, typist.name, &urls)))
}

/// `CreateChannelGenericEventResource`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    #[serde(rename = "type")]
    event_type: String,
    properties: Properties,
}

/// `ChannelGenericEventResource`.
#[derive(Serialize)]
pub struct EventRepr {
    #[serde(rename = "type")]
    event_type: String,
    properties: Properties,
}

/// Custom channel events are ephemeral: validated and answered, delivered by the real-time layer.
pub async fn event(
    state: web::Data<AppState>,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<EventBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    message::validate_event(&body.event_type, &body.properties)?;
    blocking(move || Ok(channel::get_channel(state.ports.channels.as_ref(), p.application_id, id)?)).await?;
    Ok(Hal(Resource::new(
        EventRepr { event_type: body.event_type, properties: body.properties },
        Links::new()
            .with_href("channel", urls.v1(&format!("/channels/{id}")))
            .with_href("application", urls.v1("/application")),
    )))
}
