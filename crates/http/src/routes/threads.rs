//! `/v1/threads…`: a thread, its messages and typing indicators.

use actix_web::{web, HttpRequest, Responder};
use roost_domain::model::user::UserRef;
use roost_domain::service::MessageListing;

use super::bodies::{CreateMessageBody, KeystrokesBody};
use super::{endpoint, pages};
use crate::error::ApiError;
use crate::extract::{Authenticated, Domain, ListRequest, ThreadIdPath};
use crate::negotiate::Hal;
use crate::repr::chat::{keystrokes, Renderer};
use crate::urls::Urls;

/// Routes under `/v1/threads`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let t = "/{thread_id}";
    cfg.service(endpoint(t).get(get))
        .service(endpoint(&format!("{t}/messages")).get(messages).post(send))
        .service(endpoint(&format!("{t}/keystrokes")).post(keystrokes_of_thread));
}

pub async fn get(
    domain: Domain,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = domain.run(move |s| s.get_thread(&p, id)).await?;
    Ok(Hal(Renderer { urls: &urls, related: &Default::default() }.thread(&found)))
}

pub async fn messages(
    domain: Domain,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    pages::message_page(domain, p, MessageListing::Thread(id), list, req).await
}

pub async fn send(
    domain: Domain,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
    body: web::Json<CreateMessageBody>,
) -> Result<impl Responder, ApiError> {
    let input = body.into_inner().into_new_message()?;
    let posted = domain.run(move |s| s.send_thread_message(&p, id, input)).await?;
    Ok(Hal(pages::message(&posted, &urls)))
}

pub async fn keystrokes_of_thread(
    domain: Domain,
    Authenticated(p): Authenticated,
    ThreadIdPath(id): ThreadIdPath,
    urls: Urls,
    body: web::Json<KeystrokesBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let user = UserRef::from(body.user);
    let typed = domain.run(move |s| s.thread_keystrokes(&p, id, body.keys, &user)).await?;
    Ok(Hal(keystrokes(typed, &urls)))
}
