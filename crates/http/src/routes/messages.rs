//! `/v1/messages…` and a user's messages: pages, one message, edits, deletion, replies,
//! reactions and read receipts.

use actix_web::{web, HttpRequest, Responder};
use roost_domain::model::user::UserRef;
use roost_domain::service::MessageListing;
use roost_domain::MessageId;
use serde_json::Value;

use super::bodies::{user_ref_param, CreateMessageBody, ReactionBody, UserBody};
use super::{endpoint, pages};
use crate::conditional::Preconditions;
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, Domain, ListRequest, MessageIdPath, QueryPairs, UserIdPath};
use crate::negotiate::Hal;
use crate::openapi::{
    ApplicationResource, CursorParams, MessageFilterParams, MessageIdParam, MessagePage, MessageResource, PageParams,
    ReceiptPage, ReceiptResource, ThreadResource, UserIdParam,
};
use crate::repr::chat::{self as chat_repr, Renderer};
use crate::repr::{self, numbered_page};
use crate::state::AppState;
use crate::upload::new_message;
use crate::urls::Urls;

/// Routes under `/v1/messages`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let m = "/{message_id}";
    cfg.service(endpoint("").get(list).delete(delete_all).patch(patch_many))
        .service(endpoint(m).get(get).patch(patch).delete(delete))
        .service(endpoint(&format!("{m}/replies")).get(replies).post(reply))
        .service(endpoint(&format!("{m}/reactions")).post(react))
        .service(endpoint(&format!("{m}/reports")).post(super::me::report))
        .service(endpoint(&format!("{m}/reactions/{{emoji}}")).delete(unreact))
        .service(endpoint(&format!("{m}/read-receipts")).get(receipts).post(mark_read));
}

#[utoipa::path(
    get,
    path = "/v1/messages",
    operation_id = "list-messages",
    tag = "messages",
    summary = "List the application's messages",
    params(CursorParams, MessageFilterParams),
    responses(
        (status = 200, description = "A page of messages, newest first", body = MessagePage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn list(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    pages::message_page(domain, p, MessageListing::Application, list, req).await
}

/// `GET /v1/users/{id}/messages`: the messages the user sent, or with `unread=true` the ones
/// they have not read yet in their channels.
#[utoipa::path(
    get,
    path = "/v1/users/{user_id}/messages",
    operation_id = "list-user-messages",
    tag = "users",
    summary = "List a user's messages",
    params(UserIdParam, CursorParams, MessageFilterParams, ("unread" = Option<bool>, Query, nullable = false, description = "`true`: the messages the user has not read yet in their channels, instead of those they sent")),
    responses(
        (status = 200, description = "A page of messages, newest first", body = MessagePage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn of_user(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(user): UserIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let listing = match list.query.get("unread") {
        None | Some("false") => MessageListing::SentBy(user),
        Some("true") => MessageListing::UnreadBy(user),
        Some(other) => {
            return Err(ApiError::BadRequest(format!("query parameter 'unread' must be true or false, got '{other}'")))
        }
    };
    pages::message_page(domain, p, listing, list, req).await
}

/// `GET /v1/users/{id}/messages/unread/count` (newest official client): the number of messages
/// `GET /v1/users/{id}/messages?unread=true` lists.
#[utoipa::path(
    get,
    path = "/v1/users/{user_id}/messages/unread/count",
    operation_id = "count-user-unread-messages",
    tag = "users",
    summary = "Count the messages a user has not read",
    params(UserIdParam),
    responses(
        (status = 200, description = "The number of unread messages", body = crate::openapi::UnreadCount, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn unread_count(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(user): UserIdPath,
) -> Result<impl Responder, ApiError> {
    let count = domain.run(move |s| s.count_unread(&p, user)).await?;
    Ok(Hal(serde_json::json!({ "count": count })))
}

/// `DELETE /v1/messages`: every message of the application; with `ids=1,2,3`, only those (and
/// their replies), in one transaction, all or none (an unknown id is a 404 naming it, and nothing
/// is deleted; at most 100 ids). Answers with the application.
#[utoipa::path(
    delete,
    path = "/v1/messages",
    operation_id = "delete-messages",
    tag = "messages",
    summary = "Delete every message of the application, or those named by `ids`",
    params(("ids" = Option<String>, Query, description = "Comma-separated message ids (or `ids` repeated), 1 to 100: only these")),
    responses(
        (status = 200, description = "The application", body = ApplicationResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn delete_all(
    domain: Domain,
    Authenticated(p): Authenticated,
    query: QueryPairs,
    urls: Urls,
    pre: Preconditions,
    state: web::Data<AppState>,
) -> Result<impl Responder, ApiError> {
    pre.without_representation()?;
    let app = match query.ids()? {
        None => domain.run(move |s| s.delete_all_messages(&p)).await?,
        Some(ids) => {
            let ids: Vec<MessageId> = ids.into_iter().map(MessageId).collect();
            domain.run(move |s| s.delete_messages(&p, &ids)).await?
        }
    };
    crate::file_cleanup::after_delete(&state).await;
    Ok(Hal(repr::application::application(&app, &urls)?))
}

#[utoipa::path(
    get,
    path = "/v1/messages/{message_id}",
    operation_id = "retrieve-message",
    tag = "messages",
    summary = "Retrieve a message",
    params(MessageIdParam),
    responses(
        (status = 200, description = "The message", body = MessageResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn get(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = domain.run(move |s| s.get_message(&p, id)).await?;
    Ok(Hal(pages::message(&found, &urls)).modified_at(&found))
}

#[utoipa::path(
    patch,
    path = "/v1/messages/{message_id}",
    operation_id = "update-message",
    tag = "messages",
    summary = "Update a message",
    params(MessageIdParam),
    request_body(description = "A JSON merge patch (RFC 7396) of the resource's properties", content((Object = "application/merge-patch+json"), (Object = "application/json+merge-patch"), (Object = "application/json"))),
    responses(
        (status = 200, description = "The updated message", body = MessageResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn patch(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    pre: Preconditions,
    body: Body<Value>,
) -> Result<impl Responder, ApiError> {
    let merge_patch = body.into_inner();
    let guard = pre.guard(&urls, pages::message);
    let patched = domain.run(move |s| s.patch_message(&p, id, merge_patch, guard.get())).await?;
    Ok(Hal(pages::message(&patched, &urls)).modified_at(&patched))
}

/// `DELETE /v1/messages/{id}` answers with the thread the message lived in.
#[utoipa::path(
    delete,
    path = "/v1/messages/{message_id}",
    operation_id = "delete-message",
    tag = "messages",
    summary = "Delete a message",
    params(MessageIdParam),
    responses(
        (status = 200, description = "The thread the message was in", body = ThreadResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn delete(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    pre: Preconditions,
    state: web::Data<AppState>,
) -> Result<impl Responder, ApiError> {
    let guard = pre.guard(&urls, pages::message);
    let thread = domain.run(move |s| s.delete_message(&p, id, guard.get())).await?;
    crate::file_cleanup::after_delete(&state).await;
    Ok(Hal(Renderer { urls: &urls, related: &Default::default() }.thread(&thread)))
}

/// `GET /v1/messages/{id}/replies`: the message's thread, as a cursor page.
#[utoipa::path(
    get,
    path = "/v1/messages/{message_id}/replies",
    operation_id = "list-message-replies",
    tag = "messages",
    summary = "List a message's replies",
    params(MessageIdParam, CursorParams, MessageFilterParams),
    responses(
        (status = 200, description = "A page of replies, newest first", body = MessagePage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn replies(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    pages::message_page(domain, p, MessageListing::RepliesTo(id), list, req).await
}

#[utoipa::path(
    post,
    path = "/v1/messages/{message_id}/replies",
    operation_id = "send-message-reply",
    tag = "messages",
    summary = "Reply to a message",
    params(MessageIdParam),
    request_body(content((CreateMessageBody = "application/json"), (Object = "multipart/form-data"))),
    responses(
        (status = 200, description = "The reply", body = MessageResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn reply(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<impl Responder, actix_web::Error> {
    let (input, upload) = new_message(&req, payload, &state, p.application_id()).await?;
    let posted = upload.settle(domain.run(move |s| s.reply_to_message(&p, id, input)).await).await?;
    Ok(Hal(pages::message(&posted, &urls)))
}

#[utoipa::path(
    post,
    path = "/v1/messages/{message_id}/reactions",
    operation_id = "react-to-message",
    tag = "messages",
    summary = "React to a message",
    params(MessageIdParam),
    request_body(content = ReactionBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The message with its reactions", body = MessageResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn react(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    body: Body<ReactionBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let user = body.user.map(UserRef::from);
    let found = domain.run(move |s| s.add_reaction(&p, id, &body.emoji, user.as_ref())).await?;
    Ok(Hal(pages::message(&found, &urls)))
}

/// `DELETE /v1/messages/{id}/reactions/{emoji}?user=` (an id or a username).
#[utoipa::path(
    delete,
    path = "/v1/messages/{message_id}/reactions/{emoji}",
    operation_id = "remove-message-reaction",
    tag = "messages",
    summary = "Remove a reaction",
    params(MessageIdParam, ("emoji" = String, Path, description = "The emoji"), ("user" = Option<String>, Query, description = "Who reacted: an id or a username (required with an application's token; a user session removes its own)")),
    responses(
        (status = 200, description = "The message with its reactions", body = MessageResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn unreact(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
    pre: Preconditions,
) -> Result<impl Responder, ApiError> {
    pre.without_representation()?;
    let emoji = req.match_info().get("emoji").unwrap_or_default().to_owned();
    // A user session removes its own reaction; an application names whose.
    let user = query.get("user").map(user_ref_param);
    let found = domain.run(move |s| s.remove_reaction(&p, id, &emoji, user.as_ref())).await?;
    Ok(Hal(pages::message(&found, &urls)))
}

#[utoipa::path(
    get,
    path = "/v1/messages/{message_id}/read-receipts",
    operation_id = "list-message-read-receipts",
    tag = "messages",
    summary = "List a message's read receipts",
    params(MessageIdParam, PageParams),
    responses(
        (status = 200, description = "A page of read receipts", body = ReceiptPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn receipts(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let page = list.page()?;
    let found = domain.run(move |s| s.read_receipts(&p, id, &page)).await?;
    Ok(Hal(numbered_page("receipts", &found, &list.page_links(), |r| chat_repr::receipt(r, id, &list.urls))))
}

/// `POST /v1/messages/{id}/read-receipts`: marks it, and every older message of its channel, read.
#[utoipa::path(
    post,
    path = "/v1/messages/{message_id}/read-receipts",
    operation_id = "read-message",
    tag = "messages",
    summary = "Mark a message read",
    description = "Marks the message, and every older message of its channel, read by the user.",
    params(MessageIdParam),
    request_body(content = UserBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The read receipt", body = ReceiptResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn mark_read(
    domain: Domain,
    Authenticated(p): Authenticated,
    MessageIdPath(id): MessageIdPath,
    urls: Urls,
    body: Body<UserBody>,
) -> Result<impl Responder, ApiError> {
    let user = body.into_inner().user.map(UserRef::from);
    let receipt = domain.run(move |s| s.mark_read(&p, id, user.as_ref())).await?;
    Ok(Hal(chat_repr::receipt(&receipt, id, &urls)))
}

/// `PATCH /v1/messages?ids=1,2,3`: one merge patch applied to each message named, all or none.
#[utoipa::path(
    patch,
    path = "/v1/messages",
    operation_id = "update-messages",
    tag = "messages",
    summary = "Update several messages at once",
    params(("ids" = String, Query, description = "Comma-separated ids (or `ids` repeated), 1 to 100")),
    request_body(description = "A JSON merge patch (RFC 7396) applied to each", content((Object = "application/merge-patch+json"), (Object = "application/json+merge-patch"), (Object = "application/json"))),
    responses(
        (status = 200, description = "Every one, updated, in the order of `ids`", body = crate::openapi::MessageList, content_type = "application/hal+json"),
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
    let ids: Vec<MessageId> = list.query.required_ids("PATCH /v1/messages")?.into_iter().map(MessageId).collect();
    let merge_patch = body.into_inner();
    let messages = domain.run(move |s| s.patch_messages(&p, &ids, merge_patch)).await?;
    let renderer = Renderer { urls: &list.urls, related: &messages.related };
    Ok(Hal(numbered_page("messages", &messages.value, &list.page_links(), |m| renderer.message(m))))
}
