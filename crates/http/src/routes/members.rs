//! `/v1/channels/{id}/members…`, `memberships`, `moderators…`, `participants`, `invites`.

use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_domain::model::channel::MemberFilter;
use roost_domain::model::user::UserRef;
use serde::Deserialize;

use super::bodies::UserRefBody;
use super::endpoint;
use super::pages::channel;
use crate::error::ApiError;
use crate::extract::{Authenticated, ChannelIdPath, Domain, ListRequest, UserIdPath};
use crate::negotiate::Hal;
use crate::repr::{self, chat as chat_repr, numbered_page};
use crate::urls::Urls;

/// Member routes under `/v1/channels`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let c = "/{channel_id}";
    cfg.service(endpoint(&format!("{c}/members")).get(members).post(add_member))
        .service(endpoint(&format!("{c}/members/{{user_id}}")).delete(remove_member))
        .service(endpoint(&format!("{c}/memberships")).get(memberships))
        .service(endpoint(&format!("{c}/moderators")).get(moderators).post(add_moderator))
        .service(endpoint(&format!("{c}/moderators/{{user_id}}")).delete(remove_moderator))
        .service(endpoint(&format!("{c}/participants")).get(participants))
        .service(endpoint(&format!("{c}/invites")).get(invites).post(invite));
}

/// What a member list renders: users (members, moderators, participants) or memberships.
#[derive(Clone, Copy)]
enum MemberListing {
    Users(MemberFilter),
    Memberships,
}

async fn member_page(
    domain: Domain,
    Authenticated(p): Authenticated,
    id: roost_domain::ChannelId,
    listing: MemberListing,
    list: ListRequest,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = list.page()?;
    let which = match listing {
        MemberListing::Users(which) => which,
        MemberListing::Memberships => MemberFilter::All,
    };
    let found = domain.run(move |s| s.list_members(&p, id, which, &page)).await?;
    let (links, urls) = (list.page_links(), &list.urls);
    let response = match listing {
        MemberListing::Users(_) => {
            Hal(numbered_page("users", &found, &links, |m| repr::user::user(&m.user, urls))).respond_to(&req)
        }
        MemberListing::Memberships => {
            Hal(numbered_page("memberships", &found, &links, |m| chat_repr::membership(m, urls))).respond_to(&req)
        }
    };
    Ok(response)
}

pub async fn members(
    domain: Domain,
    p: Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    member_page(domain, p, id, MemberListing::Users(MemberFilter::All), list, req).await
}

pub async fn moderators(
    domain: Domain,
    p: Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    member_page(domain, p, id, MemberListing::Users(MemberFilter::Moderators), list, req).await
}

/// Members online now; users come online through the real-time sessions.
pub async fn participants(
    domain: Domain,
    p: Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    member_page(domain, p, id, MemberListing::Users(MemberFilter::Online), list, req).await
}

pub async fn memberships(
    domain: Domain,
    p: Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    member_page(domain, p, id, MemberListing::Memberships, list, req).await
}

/// `POST /v1/channels/{id}/members` answers with the channel.
pub async fn add_member(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<UserRefBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner());
    let found = domain.run(move |s| s.add_member(&p, id, &user)).await?;
    Ok(Hal(channel(&found, &urls)))
}

pub async fn remove_member(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    UserIdPath(user): UserIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = domain.run(move |s| s.remove_member(&p, id, user)).await?;
    Ok(Hal(channel(&found, &urls)))
}

/// `POST /v1/channels/{id}/moderators` answers with the user.
pub async fn add_moderator(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<UserRefBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner());
    let moderator = domain.run(move |s| s.add_moderator(&p, id, &user)).await?;
    Ok(Hal(repr::user::user(&moderator, &urls)))
}

pub async fn remove_moderator(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    UserIdPath(user): UserIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = domain.run(move |s| s.remove_moderator(&p, id, user)).await?;
    Ok(Hal(channel(&found, &urls)))
}

pub async fn invites(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let page = list.page()?;
    let found = domain.run(move |s| s.list_invites(&p, id, &page)).await?;
    Ok(Hal(numbered_page("invites", &found, &list.page_links(), |i| chat_repr::invite(i, &list.urls))))
}

/// `CreateChannelInviteResource`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    user: UserRefBody,
}

pub async fn invite(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: web::Json<InviteBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner().user);
    let created = domain.run(move |s| s.invite(&p, id, &user)).await?;
    Ok(Hal(chat_repr::invite(&created, &urls)))
}
