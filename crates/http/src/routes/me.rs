//! A session user's own corner of the API (the Kinglet seed): its message stream, the threads it
//! can see, direct messages by user name, the users it blocked, and reporting a message.

use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_domain::model::message::{NewContent, NewMessage};
use roost_domain::model::user::UserRef;
use roost_domain::service::MessageListing;
use serde::Deserialize;

use super::bodies::UserRefBody;
use super::{endpoint, pages};
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, Domain, ListRequest, MessageIdPath, UserIdPath};
use crate::negotiate::Hal;
use crate::openapi::{
    CursorParams, MessageIdParam, MessagePage, MessageResource, PageParams, UserIdParam, UserPage, UserResource,
};
use crate::repr::chat::Renderer;
use crate::repr::numbered_page;
use crate::repr::user::user;
use crate::urls::Urls;

/// Routes under `/v1/me/…` besides the account's own.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint("/v1/me/messages").get(stream).post(send_direct))
        .service(endpoint("/v1/me/threads").get(threads))
        .service(endpoint("/v1/me/blocks").get(list_blocks).post(block))
        .service(endpoint("/v1/me/blocks/{user_id}").delete(unblock));
}

#[utoipa::path(
    get,
    path = "/v1/me/messages",
    operation_id = "list-own-stream",
    tag = "accounts",
    summary = "A session user's stream: its messages and those of its channels, newest first",
    description = "Cursor pages (`start`, `next`, `size`) as for every message list; `page=N` (from 0) for a numbered \
page instead, whose `page` carries `total` too. `since` (epoch seconds or an ISO-8601 time) keeps newer messages only.",
    params(CursorParams, ("page" = Option<u32>, Query, description = "A numbered page instead of a cursor page"), ("since" = Option<String>, Query, description = "Epoch seconds or an ISO-8601 date-time")),
    responses(
        (status = 200, description = "A page of messages, newest first", body = crate::openapi::StreamPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn stream(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if list.query.get("page").is_none() {
        return Ok(pages::message_page(domain, p, MessageListing::Stream, list, req.clone()).await?.respond_to(&req));
    }
    let page: roost_domain::model::page::PageRequest<roost_domain::model::user::UserSort> = list.page()?;
    let since = pages::since_param(&list.query)?;
    let (number, size) = (page.number, page.size);
    let found = domain.run(move |s| s.stream_page(&p, since, number, size)).await?;
    let renderer = Renderer { urls: &list.urls, related: &found.related };
    let rendered = numbered_page("messages", &found.value, &list.page_links(), |m| renderer.message(m));
    // Numbered, and a cursor page's `total` too: one schema describes both shapes.
    let mut body = serde_json::to_value(rendered).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["page"]["total"] = found.value.total_elements.into();
    Ok(Hal(body).respond_to(&req))
}

#[utoipa::path(
    get,
    path = "/v1/me/threads",
    operation_id = "list-own-threads",
    tag = "accounts",
    summary = "Top-level messages with replies, in the channels a session user can see",
    description = "Newest first; read the replies with `GET /v1/messages/{id}/replies` or the thread's messages.",
    params(CursorParams),
    responses(
        (status = 200, description = "A page of messages, newest first", body = MessagePage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn threads(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    Ok(pages::message_page(domain, p, MessageListing::Threads, list, req.clone()).await?.respond_to(&req))
}

/// A direct message (`POST /v1/me/messages`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectMessageBody {
    /// The recipients' user names (1 to 8).
    to: Vec<String>,
    /// The text.
    body: String,
    /// Gallery grouping tag.
    #[serde(alias = "group_tag")]
    group_tag: Option<String>,
    /// Custom data.
    #[schema(value_type = Option<Object>)]
    properties: Option<roost_domain::Properties>,
}

#[utoipa::path(
    post,
    path = "/v1/me/messages",
    operation_id = "send-direct-message",
    tag = "accounts",
    summary = "Send a direct message to users by name",
    description = "The DIRECT channel of the session user and the users named is created on first use and reused \
after; a recipient who blocked the user refuses it (403).",
    request_body(content = DirectMessageBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The message", body = MessageResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn send_direct(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    body: Body<DirectMessageBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let input = NewMessage {
        content: NewContent::Text(body.body),
        user: None,
        group_tag: body.group_tag,
        properties: body.properties.unwrap_or_default(),
    };
    let to = body.to;
    let sent = domain.run(move |s| s.send_direct(&p, &to, input)).await?;
    Ok(Hal(pages::message(&sent, &urls)))
}

#[utoipa::path(
    get,
    path = "/v1/me/blocks",
    operation_id = "list-own-blocks",
    tag = "accounts",
    summary = "The users a session user blocked, most recent first",
    params(PageParams),
    responses(
        (status = 200, description = "A page of users", body = UserPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn list_blocks(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let (number, size) = list.numbered()?;
    let found = domain.run(move |s| s.list_blocks(&p, number, size)).await?;
    Ok(Hal(numbered_page("users", &found, &list.page_links(), |b| user(&b.user, &list.urls))))
}

/// A block (`POST /v1/me/blocks`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockBody {
    /// The user to block: `{"id"}` or `{"username"}`.
    user: UserRefBody,
}

#[utoipa::path(
    post,
    path = "/v1/me/blocks",
    operation_id = "block-user",
    tag = "accounts",
    summary = "Block a user",
    description = "The blocked user can no longer open a DIRECT channel with the session user nor post in one they \
share (403), and its messages no longer notify the session user; past messages stay.",
    request_body(content = BlockBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The blocked user", body = UserResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn block(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    body: Body<BlockBody>,
) -> Result<impl Responder, ApiError> {
    let blocked = UserRef::from(body.into_inner().user);
    let found = domain.run(move |s| s.block_user(&p, &blocked)).await?;
    Ok(Hal(user(&found, &urls)))
}

#[utoipa::path(
    delete,
    path = "/v1/me/blocks/{user_id}",
    operation_id = "unblock-user",
    tag = "accounts",
    summary = "Lift a block",
    params(UserIdParam),
    responses((status = 204, description = "The user is no longer blocked")),
    security(("oauth2" = [])),
)]
pub async fn unblock(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(blocked): UserIdPath,
) -> Result<HttpResponse, ApiError> {
    domain.run(move |s| s.unblock_user(&p, blocked)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A report (`POST /v1/messages/{id}/reports`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// Why the message is reported (at most 1000 characters).
    reason: String,
}

#[utoipa::path(
    post,
    path = "/v1/messages/{message_id}/reports",
    operation_id = "report-message",
    tag = "messages",
    summary = "Report a message to the channel's moderators",
    description = "A user session reports a message it can see, once (a second report changes nothing). Moderators \
and the application see it in `GET /v1/channels/{id}/reported-messages` with its `reportCount`.",
    params(MessageIdParam),
    request_body(content = ReportBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The message", body = MessageResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn report(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    body: Body<ReportBody>,
) -> Result<impl Responder, ApiError> {
    let reason = body.into_inner().reason;
    let reported = domain.run(move |s| s.report_message(&p, id, &reason)).await?;
    Ok(Hal(pages::message(&reported, &urls)))
}
