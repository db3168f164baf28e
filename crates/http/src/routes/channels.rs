//! `/v1/channels…`: channels, their messages, keystrokes and events. Members, moderators and
//! invites are in [`super::members`].

use actix_web::{web, HttpRequest, Responder};
use chrono::DateTime;
use roost_domain::model::channel::{Channel, ChannelFilter, ChannelType, NewChannel};
use roost_domain::model::user::UserRef;
use roost_domain::service::MessageListing;
use roost_domain::{ChannelId, DomainError, FieldErrorCode, Properties, View};
use roost_hal::{Links, Resource};
use serde::Deserialize;
use serde_json::Value;

use super::bodies::{CreateMessageBody, KeystrokesBody, UserRefBody};
use super::pages::{self, channel};
use super::{endpoint, members};
use crate::conditional::Preconditions;
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, ChannelIdPath, Domain, ListRequest, QueryPairs, UserIdPath};
use crate::negotiate::Hal;
use crate::openapi::{
    ApplicationResource, ChannelFilterParams, ChannelIdParam, ChannelPage, ChannelResource, CursorParams,
    EventResource, KeystrokesResource, MessageFilterParams, MessagePage, MessageResource, PageParams, UserIdParam,
};
use crate::repr::chat::{keystrokes, EventRepr, Renderer};
use crate::repr::{self, numbered_page};
use crate::state::AppState;
use crate::upload::new_message;
use crate::urls::Urls;

/// Routes under `/v1/channels`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let c = "/{channel_id}";
    cfg.service(endpoint("").get(list).post(create).delete(delete_many).patch(patch_many))
        .service(endpoint(c).get(get).patch(patch).delete(delete))
        .configure(members::configure)
        .service(endpoint(&format!("{c}/messages")).get(messages).post(send))
        .service(endpoint(&format!("{c}/reported-messages")).get(reported_messages))
        .service(endpoint(&format!("{c}/keystrokes")).post(keystrokes_of_channel))
        .service(endpoint(&format!("{c}/events")).post(event));
}

/// A new channel (`CreateChannelResource`): PUBLIC, PRIVATE or DIRECT.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CreateChannelResource)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateChannelBody {
    /// `PUBLIC`, `PRIVATE` or `DIRECT`.
    #[serde(rename = "type")]
    channel_type: String,
    /// The unique name of a PUBLIC or PRIVATE channel.
    name: Option<String>,
    /// The name shown to users.
    #[serde(alias = "display_name")]
    display_name: Option<String>,
    /// The user who creates the channel (becomes a member and moderator).
    creator: Option<UserRefBody>,
    /// The members; of a DIRECT channel, all of them (2 to 10 users, the creator included).
    #[serde(default)]
    members: Vec<UserRefBody>,
    /// Custom data.
    #[schema(value_type = Option<Object>)]
    properties: Option<Properties>,
}

impl CreateChannelBody {
    fn into_new_channel(self) -> Result<NewChannel, ApiError> {
        let channel_type = ChannelType::parse(&self.channel_type).ok_or_else(|| {
            DomainError::field(
                "channel",
                "type",
                FieldErrorCode::Invalid,
                format!("type must be PUBLIC, PRIVATE or DIRECT, got '{}'", self.channel_type),
            )
        })?;
        Ok(NewChannel {
            channel_type,
            name: self.name,
            display_name: self.display_name,
            creator: self.creator.map(UserRef::from),
            members: self.members.into_iter().map(UserRef::from).collect(),
            properties: self.properties.unwrap_or_default(),
        })
    }
}

#[utoipa::path(
    post,
    path = "/v1/channels",
    operation_id = "create-channel",
    tag = "channels",
    summary = "Create a channel",
    request_body(content = CreateChannelBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The new channel", body = ChannelResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn create(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    body: Body<CreateChannelBody>,
) -> Result<impl Responder, ApiError> {
    let input = body.into_inner().into_new_channel()?;
    let created = domain.run(move |s| s.create_channel(&p, input)).await?;
    Ok(Hal(channel(&created, &urls)))
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

fn channel_filter(list: &ListRequest) -> Result<ChannelFilter, ApiError> {
    let query = &list.query;
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
    // Checked in the order the parameters were always checked: type, properties, times.
    let properties = list.properties()?;
    Ok(ChannelFilter {
        channel_type,
        member_names,
        start_time: time_param(query, "startTime")?,
        end_time: time_param(query, "endTime")?,
        properties,
        ..ChannelFilter::default()
    })
}

/// A numbered page of channels with what they point at.
fn channel_page(page: &View<roost_domain::model::page::Page<Channel>>, list: &ListRequest) -> impl serde::Serialize {
    let renderer = Renderer { urls: &list.urls, related: &page.related };
    numbered_page("channels", &page.value, &list.page_links(), |c| renderer.channel(c))
}

#[utoipa::path(
    get,
    path = "/v1/channels",
    operation_id = "list-channels",
    tag = "channels",
    summary = "List channels",
    description = "Sortable by `id`, `name`, `displayName`, `createdTime`.",
    params(PageParams, ChannelFilterParams),
    responses(
        (status = 200, description = "A page of channels", body = ChannelPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn list(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let filter = channel_filter(&list)?;
    let page = list.page()?;
    let found = domain.run(move |s| s.list_channels(&p, filter, &page)).await?;
    Ok(Hal(channel_page(&found, &list)))
}

/// `GET /v1/users/{id}/channels`: channels the user created or joined.
#[utoipa::path(
    get,
    path = "/v1/users/{user_id}/channels",
    operation_id = "list-user-channels",
    tag = "users",
    summary = "List a user's channels",
    params(UserIdParam, PageParams),
    responses(
        (status = 200, description = "A page of the channels the user created or joined", body = ChannelPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn of_user(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(user): UserIdPath,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let page = list.page()?;
    let found = domain.run(move |s| s.channels_of_user(&p, user, &page)).await?;
    Ok(Hal(channel_page(&found, &list)))
}

#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}",
    operation_id = "retrieve-channel",
    tag = "channels",
    summary = "Retrieve a channel",
    params(ChannelIdParam),
    responses(
        (status = 200, description = "The channel", body = ChannelResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn get(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = domain.run(move |s| s.get_channel(&p, id)).await?;
    Ok(Hal(channel(&found, &urls)).modified_at(&found))
}

#[utoipa::path(
    patch,
    path = "/v1/channels/{channel_id}",
    operation_id = "update-channel",
    tag = "channels",
    summary = "Update a channel",
    params(ChannelIdParam),
    request_body(description = "A JSON merge patch (RFC 7396) of the resource's properties", content((Object = "application/merge-patch+json"), (Object = "application/json+merge-patch"), (Object = "application/json"))),
    responses(
        (status = 200, description = "The updated channel", body = ChannelResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn patch(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    pre: Preconditions,
    body: Body<Value>,
) -> Result<impl Responder, ApiError> {
    let merge_patch = body.into_inner();
    let guard = pre.guard(&urls, channel);
    let patched = domain.run(move |s| s.patch_channel(&p, id, merge_patch, guard.get())).await?;
    Ok(Hal(channel(&patched, &urls)).modified_at(&patched))
}

/// `DELETE /v1/channels/{id}` answers with the application.
#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}",
    operation_id = "delete-channel",
    tag = "channels",
    summary = "Delete a channel",
    params(ChannelIdParam),
    responses(
        (status = 200, description = "The channel was deleted; the application", body = ApplicationResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn delete(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    pre: Preconditions,
    state: web::Data<AppState>,
) -> Result<impl Responder, ApiError> {
    let guard = pre.guard(&urls, channel);
    let app = domain.run(move |s| s.delete_channel(&p, id, guard.get())).await?;
    crate::file_cleanup::after_delete(&state).await;
    Ok(Hal(repr::application::application(&app, &urls)?))
}

#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/messages",
    operation_id = "list-channel-messages",
    tag = "channels",
    summary = "List a channel's messages",
    params(ChannelIdParam, CursorParams, MessageFilterParams),
    responses(
        (status = 200, description = "A page of messages, newest first", body = MessagePage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn messages(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    pages::message_page(domain, p, MessageListing::Channel(id), list, req).await
}

#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/messages",
    operation_id = "send-channel-message",
    tag = "channels",
    summary = "Send a message",
    params(ChannelIdParam),
    request_body(content((CreateMessageBody = "application/json"), (Object = "multipart/form-data"))),
    responses(
        (status = 200, description = "The new message", body = MessageResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn send(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<impl Responder, actix_web::Error> {
    let (input, upload) = new_message(&req, payload, &state, p.application_id()).await?;
    let posted = upload.settle(domain.run(move |s| s.send_channel_message(&p, id, input)).await).await?;
    Ok(Hal(pages::message(&posted, &urls)))
}

/// Typing indicators are ephemeral: validated and answered, delivered by the real-time layer.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/keystrokes",
    operation_id = "send-channel-keystrokes",
    tag = "channels",
    summary = "Send typing keystrokes",
    params(ChannelIdParam),
    request_body(content = KeystrokesBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The keystrokes, as delivered", body = KeystrokesResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn keystrokes_of_channel(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: Body<KeystrokesBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let user = body.user.map(UserRef::from);
    let typed = domain.run(move |s| s.channel_keystrokes(&p, id, body.keys, user.as_ref())).await?;
    Ok(Hal(keystrokes(typed, &urls)))
}

/// A custom channel event (`CreateChannelGenericEventResource`).
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CreateChannelGenericEventResource)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// The event's type, chosen by the application.
    #[serde(rename = "type")]
    event_type: String,
    /// The event's data.
    #[schema(value_type = Object)]
    properties: Properties,
}

/// Custom channel events are ephemeral: validated and answered, delivered by the real-time layer.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/events",
    operation_id = "send-channel-event",
    tag = "channels",
    summary = "Send a custom channel event",
    params(ChannelIdParam),
    request_body(content = EventBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The event, as delivered", body = EventResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn event(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: Body<EventBody>,
) -> Result<impl Responder, ApiError> {
    let EventBody { event_type, properties } = body.into_inner();
    let event = EventRepr { event_type, properties };
    let checked = (event.event_type.clone(), event.properties.clone());
    domain.run(move |s| s.channel_event(&p, id, &checked.0, &checked.1)).await?;
    Ok(Hal(Resource::new(
        event,
        Links::new()
            .with_href("channel", urls.v1(&format!("/channels/{id}")))
            .with_href("application", urls.v1("/application")),
    )))
}

/// `DELETE /v1/channels?ids=1,2,3`: the channels named, in one transaction, all or none (an unknown or
/// another application's id is a 404 naming it, and nothing is deleted); at most 100 ids.
/// Answers with the application, as a single delete does.
#[utoipa::path(
    delete,
    path = "/v1/channels",
    operation_id = "delete-channels",
    tag = "channels",
    summary = "Delete several channels at once",
    params(("ids" = String, Query, description = "Comma-separated ids (or `ids` repeated), 1 to 100")),
    responses(
        (status = 200, description = "Every one was deleted; the application", body = ApplicationResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn delete_many(
    domain: Domain,
    Authenticated(p): Authenticated,
    query: QueryPairs,
    urls: Urls,
    pre: Preconditions,
    state: web::Data<AppState>,
) -> Result<impl Responder, ApiError> {
    pre.without_representation()?;
    let ids: Vec<ChannelId> = query.required_ids("DELETE /v1/channels")?.into_iter().map(ChannelId).collect();
    let app = domain.run(move |s| s.delete_channels(&p, &ids)).await?;
    crate::file_cleanup::after_delete(&state).await;
    Ok(Hal(repr::application::application(&app, &urls)?))
}

/// `GET /v1/channels/{id}/reported-messages` (newest official client): the channel's messages
/// users reported, with `reportCount`. Reporting arrives with end-user accounts, so until then
/// the page is empty.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/reported-messages",
    operation_id = "list-channel-reported-messages",
    tag = "channels",
    summary = "List a channel's reported messages",
    params(ChannelIdParam, crate::openapi::PageParams),
    responses(
        (status = 200, description = "A page of reported messages", body = crate::openapi::ReportedMessagePage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn reported_messages(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let page: roost_domain::model::page::PageRequest<roost_domain::model::user::UserSort> = list.page()?;
    let (number, size) = (page.number, page.size);
    let reported = domain.run(move |s| s.reported_messages(&p, id, number, size)).await?;
    let related = roost_domain::service::Related::default();
    let renderer = Renderer { urls: &list.urls, related: &related };
    Ok(Hal(numbered_page("messages", &reported, &list.page_links(), |(m, n)| renderer.reported(m, *n))))
}

/// `PATCH /v1/channels?ids=1,2,3`: one merge patch applied to each channel named, all or none.
#[utoipa::path(
    patch,
    path = "/v1/channels",
    operation_id = "update-channels",
    tag = "channels",
    summary = "Update several channels at once",
    params(("ids" = String, Query, description = "Comma-separated ids (or `ids` repeated), 1 to 100")),
    request_body(description = "A JSON merge patch (RFC 7396) applied to each", content((Object = "application/merge-patch+json"), (Object = "application/json+merge-patch"), (Object = "application/json"))),
    responses(
        (status = 200, description = "Every one, updated, in the order of `ids`", body = ChannelPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn patch_many(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
    pre: Preconditions,
    body: Body<Value>,
) -> Result<impl Responder, ApiError> {
    pre.without_representation()?;
    let ids: Vec<ChannelId> = list.query.required_ids("PATCH /v1/channels")?.into_iter().map(ChannelId).collect();
    let merge_patch = body.into_inner();
    let channels = domain.run(move |s| s.patch_channels(&p, &ids, merge_patch)).await?;
    Ok(Hal(channel_page(&channels, &list)))
}
