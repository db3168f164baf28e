//! `/v1/threads…`: a thread, its messages and typing indicators.

use actix_web::{web, HttpRequest, Responder};
use roost_domain::model::user::UserRef;
use roost_domain::service::MessageListing;

use super::bodies::{CreateMessageBody, KeystrokesBody};
use super::{endpoint, pages};
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, Domain, ListRequest, ThreadIdPath};
use crate::negotiate::Hal;
use crate::openapi::{
    CursorParams, KeystrokesResource, MessageFilterParams, MessagePage, MessageResource, ThreadIdParam, ThreadResource,
};
use crate::repr::chat::{keystrokes, Renderer};
use crate::state::AppState;
use crate::upload::new_message;
use crate::urls::Urls;

/// Routes under `/v1/threads`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let t = "/{thread_id}";
    cfg.service(endpoint(t).get(get))
        .service(endpoint(&format!("{t}/messages")).get(messages).post(send))
        .service(endpoint(&format!("{t}/keystrokes")).post(keystrokes_of_thread));
}

#[utoipa::path(
    get,
    path = "/v1/threads/{thread_id}",
    operation_id = "retrieve-thread",
    tag = "threads",
    summary = "Retrieve a thread",
    params(ThreadIdParam),
    responses(
        (status = 200, description = "The thread", body = ThreadResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn get(
    domain: Domain,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = domain.run(move |s| s.get_thread(&p, id)).await?;
    Ok(Hal(Renderer { urls: &urls, related: &Default::default() }.thread(&found)).modified_at(&found))
}

#[utoipa::path(
    get,
    path = "/v1/threads/{thread_id}/messages",
    operation_id = "list-thread-messages",
    tag = "threads",
    summary = "List a thread's messages",
    params(ThreadIdParam, CursorParams, MessageFilterParams),
    responses(
        (status = 200, description = "A page of messages, newest first", body = MessagePage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn messages(
    domain: Domain,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    pages::message_page(domain, p, MessageListing::Thread(id), list, req).await
}

#[utoipa::path(
    post,
    path = "/v1/threads/{thread_id}/messages",
    operation_id = "send-thread-message",
    tag = "threads",
    summary = "Send a message to a thread",
    params(ThreadIdParam),
    request_body(content((CreateMessageBody = "application/json"), (Object = "multipart/form-data"))),
    responses(
        (status = 200, description = "The new message", body = MessageResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn send(
    domain: Domain,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<impl Responder, actix_web::Error> {
    let (input, upload) = new_message(&req, payload, &state, p.application_id()).await?;
    let posted = upload.settle(domain.run(move |s| s.send_thread_message(&p, id, input)).await).await?;
    Ok(Hal(pages::message(&posted, &urls)))
}

#[utoipa::path(
    post,
    path = "/v1/threads/{thread_id}/keystrokes",
    operation_id = "send-thread-keystrokes",
    tag = "threads",
    summary = "Send typing keystrokes to a thread",
    params(ThreadIdParam),
    request_body(content = KeystrokesBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The keystrokes, as delivered", body = KeystrokesResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn keystrokes_of_thread(
    domain: Domain,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
    body: Body<KeystrokesBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let user = body.user.map(UserRef::from);
    let typed = domain.run(move |s| s.thread_keystrokes(&p, id, body.keys, user.as_ref())).await?;
    Ok(Hal(keystrokes(typed, &urls)))
}
