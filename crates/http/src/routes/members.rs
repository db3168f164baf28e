//! `/v1/channels/{id}/members…`, `memberships`, `moderators…`, `participants`, `invites`.

use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_domain::model::channel::MemberFilter;
use roost_domain::model::user::UserRef;
use serde::Deserialize;

use super::bodies::UserRefBody;
use super::endpoint;
use super::pages::channel;
use crate::conditional::Preconditions;
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, ChannelIdPath, Domain, ListRequest, UserIdPath};
use crate::negotiate::Hal;
use crate::openapi::{
    ChannelIdParam, ChannelResource, InvitePage, InviteResource, MembershipPage, PageParams, UserIdParam, UserPage,
    UserResource,
};
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

#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/members",
    operation_id = "list-channel-members",
    tag = "channels",
    summary = "List a channel's members",
    params(ChannelIdParam, PageParams),
    responses(
        (status = 200, description = "A page of members", body = UserPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn members(
    domain: Domain,
    p: Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    member_page(domain, p, id, MemberListing::Users(MemberFilter::All), list, req).await
}

#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/moderators",
    operation_id = "list-channel-moderators",
    tag = "channels",
    summary = "List a channel's moderators",
    params(ChannelIdParam, PageParams),
    responses(
        (status = 200, description = "A page of moderators", body = UserPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn moderators(
    domain: Domain,
    p: Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    member_page(domain, p, id, MemberListing::Users(MemberFilter::Moderators), list, req).await
}

/// Users with a chat session open in the channel now (a user's stream subscribed to it).
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/participants",
    operation_id = "list-channel-participants",
    tag = "channels",
    summary = "List a channel's members online now",
    params(ChannelIdParam, PageParams),
    responses(
        (status = 200, description = "A page of members online now", body = UserPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn participants(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let page = list.page()?;
    let found = domain.run(move |s| s.channel_participants(&p, id, &page)).await?;
    Ok(Hal(repr::user::user_page(&found, &list.urls, &list.page_links())))
}

#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/memberships",
    operation_id = "list-channel-memberships",
    tag = "channels",
    summary = "List a channel's memberships",
    params(ChannelIdParam, PageParams),
    responses(
        (status = 200, description = "A page of memberships", body = MembershipPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
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
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/members",
    operation_id = "add-channel-member",
    tag = "channels",
    summary = "Add a member",
    params(ChannelIdParam),
    request_body(content = UserRefBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The channel", body = ChannelResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn add_member(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: Body<UserRefBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner());
    let found = domain.run(move |s| s.add_member(&p, id, &user)).await?;
    Ok(Hal(channel(&found, &urls)))
}

#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}/members/{user_id}",
    operation_id = "remove-channel-member",
    tag = "channels",
    summary = "Remove a member",
    params(ChannelIdParam, UserIdParam),
    responses(
        (status = 200, description = "The channel", body = ChannelResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn remove_member(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    UserIdPath(user): UserIdPath,
    urls: Urls,
    pre: Preconditions,
) -> Result<impl Responder, ApiError> {
    pre.without_representation()?;
    let found = domain.run(move |s| s.remove_member(&p, id, user)).await?;
    Ok(Hal(channel(&found, &urls)))
}

/// `POST /v1/channels/{id}/moderators` answers with the user.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/moderators",
    operation_id = "add-channel-moderator",
    tag = "channels",
    summary = "Add a moderator",
    params(ChannelIdParam),
    request_body(content = UserRefBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The new moderator", body = UserResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn add_moderator(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: Body<UserRefBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner());
    let moderator = domain.run(move |s| s.add_moderator(&p, id, &user)).await?;
    Ok(Hal(repr::user::user(&moderator, &urls)))
}

#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}/moderators/{user_id}",
    operation_id = "remove-channel-moderator",
    tag = "channels",
    summary = "Remove a moderator",
    params(ChannelIdParam, UserIdParam),
    responses(
        (status = 200, description = "The channel", body = ChannelResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn remove_moderator(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    UserIdPath(user): UserIdPath,
    urls: Urls,
    pre: Preconditions,
) -> Result<impl Responder, ApiError> {
    pre.without_representation()?;
    let found = domain.run(move |s| s.remove_moderator(&p, id, user)).await?;
    Ok(Hal(channel(&found, &urls)))
}

#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/invites",
    operation_id = "list-channel-invites",
    tag = "channels",
    summary = "List a channel's invites",
    params(ChannelIdParam, PageParams),
    responses(
        (status = 200, description = "A page of invites", body = InvitePage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
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

/// An invite to a private channel (`CreateChannelInviteResource`).
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CreateChannelInviteResource)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// The invitee.
    user: UserRefBody,
}

#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/invites",
    operation_id = "send-channel-invite",
    tag = "channels",
    summary = "Invite a user",
    params(ChannelIdParam),
    request_body(content = InviteBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The invite", body = InviteResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn invite(
    domain: Domain,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
    urls: Urls,
    body: Body<InviteBody>,
) -> Result<impl Responder, ApiError> {
    let user = UserRef::from(body.into_inner().user);
    let created = domain.run(move |s| s.invite(&p, id, &user)).await?;
    Ok(Hal(chat_repr::invite(&created, &urls)))
}
