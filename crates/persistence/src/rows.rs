//! Row structs (storage shapes) and their conversions to domain types. Rows never leave this crate.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use roost_domain::model::application::{
    AccessTokenRecord, Application, ApplicationSettings, OAuthClient, Organization, Toggle,
};
use roost_domain::model::file::Picture;
use roost_domain::model::user::{Presence, User, UserType};
use roost_domain::{ApplicationId, OrganizationId, Properties, StoreError, Timestamp, UserId};

use crate::schema::{access_tokens, applications, oauth_clients, organizations, users};

pub(crate) fn utc(t: NaiveDateTime) -> Timestamp {
    t.and_utc()
}

/// Properties are stored as JSON text; a row that does not parse is corrupt, not empty.
pub(crate) fn parse_properties(text: &str) -> Result<Properties, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Other(format!("stored properties are not a JSON object: {e}").into()))
}

pub(crate) fn properties_text(properties: &Properties) -> String {
    serde_json::Value::Object(properties.clone()).to_string()
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub(crate) struct OrganizationRow {
    pub id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
}

impl From<&Organization> for OrganizationRow {
    fn from(o: &Organization) -> Self {
        Self { id: o.id.0, name: o.name.clone(), created_at: o.created_time.naive_utc() }
    }
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Self { id: OrganizationId(r.id), name: r.name, created_time: utc(r.created_at) }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = applications)]
pub(crate) struct ApplicationRow {
    pub id: i64,
    pub organization_id: i64,
    pub app_key: String,
    pub name: String,
    pub properties: String,
    pub guest_users: bool,
    pub user_created_channels: bool,
    pub created_at: NaiveDateTime,
    pub version: i64,
    pub updated_at: Option<NaiveDateTime>,
    pub user_sign_up: bool,
}

impl From<&Application> for ApplicationRow {
    fn from(a: &Application) -> Self {
        Self {
            id: a.id.0,
            organization_id: a.organization_id.0,
            app_key: a.key.clone(),
            name: a.name.clone(),
            properties: properties_text(&a.properties),
            guest_users: a.settings.guest_users.is_enabled(),
            user_created_channels: a.settings.user_created_channels.is_enabled(),
            created_at: a.created_time.naive_utc(),
            version: a.version,
            updated_at: a.updated_time.map(|t| t.naive_utc()),
            user_sign_up: a.settings.user_sign_up.is_enabled(),
        }
    }
}

impl TryFrom<ApplicationRow> for Application {
    type Error = StoreError;
    fn try_from(r: ApplicationRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: ApplicationId(r.id),
            organization_id: OrganizationId(r.organization_id),
            key: r.app_key,
            name: r.name,
            created_time: utc(r.created_at),
            version: r.version,
            updated_time: r.updated_at.map(utc),
            properties: parse_properties(&r.properties)?,
            settings: ApplicationSettings {
                guest_users: Toggle::from(r.guest_users),
                user_created_channels: Toggle::from(r.user_created_channels),
                user_sign_up: Toggle::from(r.user_sign_up),
            },
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_clients)]
pub(crate) struct ClientRow {
    pub client_id: String,
    pub application_id: i64,
    pub organization_id: i64,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
}

impl From<&OAuthClient> for ClientRow {
    fn from(c: &OAuthClient) -> Self {
        Self {
            client_id: c.client_id.clone(),
            application_id: c.application_id.0,
            organization_id: c.organization_id.0,
            secret_hash: c.secret_hash.clone(),
            created_at: c.created_time.naive_utc(),
        }
    }
}

impl From<ClientRow> for OAuthClient {
    fn from(r: ClientRow) -> Self {
        Self {
            client_id: r.client_id,
            application_id: ApplicationId(r.application_id),
            organization_id: OrganizationId(r.organization_id),
            secret_hash: r.secret_hash,
            created_time: utc(r.created_at),
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = access_tokens)]
pub(crate) struct TokenRow {
    pub token_hash: String,
    pub client_id: String,
    pub application_id: i64,
    pub organization_id: i64,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked: bool,
}

impl From<&AccessTokenRecord> for TokenRow {
    fn from(t: &AccessTokenRecord) -> Self {
        Self {
            token_hash: t.token_hash.clone(),
            client_id: t.client_id.clone(),
            application_id: t.application_id.0,
            organization_id: t.organization_id.0,
            created_at: t.created_time.naive_utc(),
            expires_at: t.expires_time.naive_utc(),
            revoked: t.revoked,
        }
    }
}

impl From<TokenRow> for AccessTokenRecord {
    fn from(r: TokenRow) -> Self {
        Self {
            token_hash: r.token_hash,
            client_id: r.client_id,
            application_id: ApplicationId(r.application_id),
            organization_id: OrganizationId(r.organization_id),
            created_time: utc(r.created_at),
            expires_time: utc(r.expires_at),
            revoked: r.revoked,
        }
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: i64,
    pub application_id: i64,
    pub name: String,
    pub display_name: String,
    pub user_type: String,
    pub is_guest: bool,
    pub presence_status: String,
    pub online: bool,
    pub properties: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub display_picture_key: Option<String>,
    pub display_picture_url: Option<String>,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            application_id: u.application_id.0,
            name: u.name.clone(),
            display_name: u.display_name.clone(),
            user_type: u.user_type.as_str().to_owned(),
            is_guest: u.is_guest,
            presence_status: u.presence.status.clone(),
            online: u.presence.online,
            properties: properties_text(&u.properties),
            created_at: u.created_time.naive_utc(),
            updated_at: u.updated_time.naive_utc(),
            version: u.version,
            display_picture_key: match &u.display_picture {
                Some(Picture::Hosted(key)) => Some(key.clone()),
                _ => None,
            },
            display_picture_url: match &u.display_picture {
                Some(Picture::External(url)) => Some(url.clone()),
                _ => None,
            },
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        let user_type = UserType::parse(&r.user_type)
            .ok_or_else(|| StoreError::Other(format!("stored user type '{}' is unknown", r.user_type).into()))?;
        Ok(Self {
            id: UserId(r.id),
            application_id: ApplicationId(r.application_id),
            name: r.name,
            display_name: r.display_name,
            user_type,
            is_guest: r.is_guest,
            presence: Presence { online: r.online, status: r.presence_status },
            properties: parse_properties(&r.properties)?,
            created_time: utc(r.created_at),
            updated_time: utc(r.updated_at),
            version: r.version,
            display_picture: match (r.display_picture_key, r.display_picture_url) {
                (Some(key), _) => Some(Picture::Hosted(key)),
                (None, Some(url)) => Some(Picture::External(url)),
                (None, None) => None,
            },
        })
    }
}

// ---- chat ----

use crate::schema::{channels, messages, notifications, threads};
use roost_domain::model::channel::{Channel, ChannelType};
use roost_domain::model::message::{FileRef, Message, MessageType, Thread, ThreadType};
use roost_domain::model::notification::{Notification, NotificationKind};
use roost_domain::{ChannelId, MessageId, NotificationId, ThreadId};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("stored {what} '{value}' is unknown").into())
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Other(format!("stored {what} is not valid JSON: {e}").into()))
}

/// Mentions and links: most messages have none, stored as `[]`.
fn json_list<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<Vec<T>, StoreError> {
    if text == "[]" {
        Ok(Vec::new())
    } else {
        from_json(what, text)
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = channels)]
pub(crate) struct ChannelRow {
    pub id: i64,
    pub application_id: i64,
    pub channel_type: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub creator_id: Option<i64>,
    pub properties: String,
    pub main_thread_id: i64,
    pub direct_key: Option<String>,
    pub last_message_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub version: i64,
    pub updated_at: Option<NaiveDateTime>,
}

impl ChannelRow {
    pub(crate) fn new(c: &Channel, direct_key: Option<&str>) -> Self {
        Self {
            id: c.id.0,
            application_id: c.application_id.0,
            channel_type: c.channel_type.as_str().to_owned(),
            name: c.name.clone(),
            display_name: c.display_name.clone(),
            creator_id: c.creator_id.map(|u| u.0),
            properties: properties_text(&c.properties),
            main_thread_id: c.main_thread_id.0,
            direct_key: direct_key.map(str::to_owned),
            last_message_id: c.last_message_id.map(|m| m.0),
            created_at: c.created_time.naive_utc(),
            version: c.version,
            updated_at: c.updated_time.map(|t| t.naive_utc()),
        }
    }
}

impl TryFrom<ChannelRow> for Channel {
    type Error = StoreError;
    fn try_from(r: ChannelRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: ChannelId(r.id),
            application_id: ApplicationId(r.application_id),
            channel_type: ChannelType::parse(&r.channel_type)
                .ok_or_else(|| corrupt("channel type", &r.channel_type))?,
            name: r.name,
            display_name: r.display_name,
            creator_id: r.creator_id.map(UserId),
            properties: parse_properties(&r.properties)?,
            main_thread_id: ThreadId(r.main_thread_id),
            last_message_id: r.last_message_id.map(MessageId),
            created_time: utc(r.created_at),
            version: r.version,
            updated_time: r.updated_at.map(utc),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = threads)]
pub(crate) struct ThreadRow {
    pub id: i64,
    pub application_id: i64,
    pub channel_id: i64,
    pub thread_type: String,
    pub parent_message_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

impl From<&Thread> for ThreadRow {
    fn from(t: &Thread) -> Self {
        Self {
            id: t.id.0,
            application_id: t.application_id.0,
            channel_id: t.channel_id.0,
            thread_type: t.thread_type.as_str().to_owned(),
            parent_message_id: t.parent_message_id.map(|m| m.0),
            created_at: t.created_time.naive_utc(),
        }
    }
}

impl TryFrom<ThreadRow> for Thread {
    type Error = StoreError;
    fn try_from(r: ThreadRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: ThreadId(r.id),
            application_id: ApplicationId(r.application_id),
            channel_id: ChannelId(r.channel_id),
            thread_type: ThreadType::parse(&r.thread_type).ok_or_else(|| corrupt("thread type", &r.thread_type))?,
            parent_message_id: r.parent_message_id.map(MessageId),
            created_time: utc(r.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub(crate) struct MessageRow {
    pub id: i64,
    pub application_id: i64,
    pub channel_id: i64,
    pub thread_id: i64,
    pub message_type: String,
    pub user_id: Option<i64>,
    pub body: Option<String>,
    pub file: Option<String>,
    pub file_key: Option<String>,
    pub group_tag: Option<String>,
    pub properties: String,
    pub mentions: String,
    pub links: String,
    pub nested_level: i64,
    pub replies_count: i64,
    pub parent_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub last_edited_at: Option<NaiveDateTime>,
    pub version: i64,
    pub updated_at: Option<NaiveDateTime>,
}

impl From<&Message> for MessageRow {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.0,
            application_id: m.application_id.0,
            channel_id: m.channel_id.0,
            thread_id: m.thread_id.0,
            message_type: m.message_type.as_str().to_owned(),
            user_id: m.user_id.map(|u| u.0),
            body: m.body.clone(),
            file: m.file.as_ref().map(json_text),
            file_key: m.file.as_ref().and_then(|f| f.key.clone()),
            group_tag: m.group_tag.clone(),
            properties: properties_text(&m.properties),
            mentions: json_text(&m.mentions),
            links: json_text(&m.links),
            nested_level: i64::from(m.nested_level),
            replies_count: m.replies_count,
            parent_id: m.parent_id.map(|p| p.0),
            created_at: m.created_time.naive_utc(),
            last_edited_at: m.last_edited_time.map(|t| t.naive_utc()),
            version: m.version,
            updated_at: m.updated_time.map(|t| t.naive_utc()),
        }
    }
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: MessageId(r.id),
            application_id: ApplicationId(r.application_id),
            channel_id: ChannelId(r.channel_id),
            thread_id: ThreadId(r.thread_id),
            message_type: MessageType::parse(&r.message_type)
                .ok_or_else(|| corrupt("message type", &r.message_type))?,
            user_id: r.user_id.map(UserId),
            body: r.body,
            file: r.file.as_deref().map(|f| from_json::<FileRef>("file", f)).transpose()?,
            group_tag: r.group_tag,
            properties: parse_properties(&r.properties)?,
            mentions: json_list("mentions", &r.mentions)?,
            links: json_list("links", &r.links)?,
            nested_level: i32::try_from(r.nested_level).unwrap_or(i32::MAX),
            replies_count: r.replies_count,
            parent_id: r.parent_id.map(MessageId),
            created_time: utc(r.created_at),
            last_edited_time: r.last_edited_at.map(utc),
            version: r.version,
            updated_time: r.updated_at.map(utc),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub(crate) struct NotificationRow {
    pub id: i64,
    pub application_id: i64,
    pub user_id: i64,
    pub channel_id: i64,
    pub message_id: i64,
    pub kind: String,
    pub mentioned_channel_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub muted: bool,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = StoreError;
    fn try_from(r: NotificationRow) -> Result<Self, StoreError> {
        let kind = match (r.kind.as_str(), r.mentioned_channel_id) {
            ("USER:SENT:MESSAGE", _) => NotificationKind::UserSentMessage,
            ("SYSTEM:SENT:MESSAGE", _) => NotificationKind::SystemSentMessage,
            ("USER:MENTIONED:USER", _) => NotificationKind::MentionedUser,
            ("USER:MENTIONED:CHANNEL", Some(c)) => NotificationKind::MentionedChannel(ChannelId(c)),
            ("USER:REPLIED_TO:MESSAGE", _) => NotificationKind::RepliedToMessage,
            _ => return Err(corrupt("notification kind", &r.kind)),
        };
        Ok(Self {
            id: NotificationId(r.id),
            user_id: UserId(r.user_id),
            kind,
            channel_id: ChannelId(r.channel_id),
            message_id: MessageId(r.message_id),
            title: r.title,
            body: r.body,
            muted: r.muted,
            created_time: utc(r.created_at),
            read_time: r.read_at.map(utc),
        })
    }
}
