use roost_domain::model::file::Picture;
use roost_domain::model::page::Page;
use roost_domain::model::presence::ChatSession;
use roost_domain::model::user::User;
use roost_domain::Properties;
use roost_hal::Links;
use roost_hal::{PageLinks, PageMetadata, PagedResource, Resource};
use serde::Serialize;

use super::numbered_page;
use crate::urls::{segment, Urls};

/// A user's presence (`ChatUserPresenceProperties`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChatUserPresenceProperties)]
pub struct PresenceRepr {
    status: String,
    online: bool,
}

/// A chat user (ChatKitty's `ChatUserResource` without links).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChatUserProperties)]
#[serde(rename_all = "camelCase")]
pub struct UserRepr {
    id: i64,
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::UserType)]
    user_type: &'static str,
    name: String,
    display_name: String,
    display_picture_url: String,
    is_guest: bool,
    presence: PresenceRepr,
    #[schema(value_type = Object)]
    properties: Properties,
}

/// A user's properties without links (`ChatUserProperties`, embedded in other resources).
pub fn user_state(user: &User, urls: &Urls) -> UserRepr {
    UserRepr {
        id: user.id.0,
        user_type: user.user_type.as_str(),
        name: user.name.clone(),
        display_name: user.display_name.clone(),
        display_picture_url: match &user.display_picture {
            Some(Picture::Hosted(key)) => urls.file(key),
            Some(Picture::External(url)) => url.clone(),
            None => urls.v1(&format!("/picture/{}", segment(&user.display_name))),
        },
        is_guest: user.is_guest,
        presence: PresenceRepr { status: user.presence.status.clone(), online: user.presence.online },
        properties: user.properties.clone(),
    }
}

/// Stands in for a user who was deleted after sending messages, so those messages still
/// render with the `user` the spec requires.
pub fn deleted_user_state(id: roost_domain::UserId, urls: &Urls) -> UserRepr {
    UserRepr {
        id: id.0,
        user_type: "PERSON",
        name: format!("deleted-user-{id}"),
        display_name: "Deleted user".into(),
        display_picture_url: urls.v1("/picture/Deleted%20user"),
        is_guest: false,
        presence: PresenceRepr { status: roost_domain::model::user::DEFAULT_PRESENCE_STATUS.into(), online: false },
        properties: Properties::new(),
    }
}

/// A user with its links.
pub fn user(user: &User, urls: &Urls) -> Resource<UserRepr> {
    let href = urls.v1(&format!("/users/{}", user.id));
    let links = Links::new()
        .with_href("self", href.clone())
        .with_href("channels", format!("{href}/channels"))
        .with_href("notifications", format!("{href}/notifications"))
        .with_href("displayPicture", format!("{href}/display-picture"))
        .with_href("application", urls.v1("/application"));
    Resource::new(user_state(user, urls), links)
}

/// A user's own account (`GET /v1/me`): the user's fields, and what only its owner sees. Spelled
/// out rather than flattened: a flattened schema is an `allOf`, which no strict validator of the
/// document accepts with `_links` added.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OwnAccountProperties)]
#[serde(rename_all = "camelCase")]
pub struct OwnAccountRepr {
    id: i64,
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::UserType)]
    user_type: &'static str,
    name: String,
    display_name: String,
    display_picture_url: String,
    is_guest: bool,
    presence: PresenceRepr,
    #[schema(value_type = Object)]
    properties: Properties,
    /// The account's email (none for users made through the Platform API).
    email: Option<String>,
}

/// A user's own account, with `self` at `/v1/me` and a link to the user.
pub fn own_account(account: &roost_domain::service::OwnAccount, urls: &Urls) -> Resource<OwnAccountRepr> {
    let links = Links::new()
        .with_href("self", urls.v1("/me"))
        .with_href("user", urls.v1(&format!("/users/{}", account.user.id)));
    let UserRepr { id, user_type, name, display_name, display_picture_url, is_guest, presence, properties } =
        user_state(&account.user, urls);
    let email = account.email.clone();
    let repr = OwnAccountRepr {
        id,
        user_type,
        name,
        display_name,
        display_picture_url,
        is_guest,
        presence,
        properties,
        email,
    };
    Resource::new(repr, links)
}

/// An end user's session (`ChatUserSessionResource` without links).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChatUserSessionProperties)]
#[serde(rename_all = "camelCase")]
pub struct UserSessionRepr {
    id: i64,
    created_time: String,
    /// When it ended (logout or expiry); present when `state` is `ENDED`.
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    end_time: Option<String>,
    /// `ACTIVE` or `ENDED`.
    state: &'static str,
    user: UserRepr,
    /// The client's `User-Agent` at login.
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    user_agent: Option<String>,
    /// Whether a stream (`GET /v1/events`, `GET /v1/ws`) is open with it on this node (Roost's).
    streaming: bool,
}

/// A session with its user, as it stands at `now`.
pub fn user_session(
    found: &roost_domain::model::account::UserSession,
    now: roost_domain::Timestamp,
    urls: &Urls,
) -> Resource<UserSessionRepr> {
    let session = &found.session;
    let end_time = session.end_time(now);
    let repr = UserSessionRepr {
        id: session.id,
        created_time: super::iso(session.created_time),
        end_time: end_time.map(super::iso),
        state: if end_time.is_some() { "ENDED" } else { "ACTIVE" },
        user: user_state(&found.user, urls),
        user_agent: session.user_agent.clone(),
        streaming: found.streaming && end_time.is_none(),
    };
    let links = Links::new()
        .with_href("user", urls.v1(&format!("/users/{}", found.user.id)))
        .with_href("application", urls.v1("/application"));
    Resource::new(repr, links)
}

/// A numbered page of users (`_embedded.users`).
pub fn user_page(page: &Page<User>, urls: &Urls, links: &PageLinks) -> PagedResource<Resource<UserRepr>, PageMetadata> {
    numbered_page("users", page, links, |u| user(u, urls))
}

/// A chat session: a user's stream open in a channel (`ChatSessionResource` without links).
/// Its `session` is the stream itself (ChatKitty's user session is an SDK connection).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChatSessionProperties)]
#[serde(rename_all = "camelCase")]
pub struct ChatSessionRepr {
    id: i64,
    created_time: String,
    session: UserSessionRepr,
    /// Always `ACTIVE`: ended chat sessions are not kept.
    state: &'static str,
}

/// A chat session as listed.
pub fn chat_session(found: &ChatSession, urls: &Urls) -> Resource<ChatSessionRepr> {
    let created_time = super::iso(found.opened);
    let session = UserSessionRepr {
        id: found.session_id,
        created_time: created_time.clone(),
        end_time: None,
        state: "ACTIVE",
        user: user_state(&found.user, urls),
        user_agent: None,
        streaming: true,
    };
    let links = Links::new()
        .with_href("channel", urls.v1(&format!("/channels/{}", found.channel_id)))
        .with_href("user", urls.v1(&format!("/users/{}", found.user.id)))
        .with_href("application", urls.v1("/application"));
    Resource::new(ChatSessionRepr { id: found.id, created_time, session, state: "ACTIVE" }, links)
}

/// `POST /v1/events/tickets`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = StreamTicket)]
pub struct TicketRepr {
    /// Single use, valid 30 seconds: `?ticket=` on `GET /v1/events` or `GET /v1/ws`.
    pub ticket: String,
}
