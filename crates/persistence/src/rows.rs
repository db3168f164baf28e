//! Row structs (storage shapes) and their conversions to domain types. Rows never leave this crate.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use roost_domain::application::{
    AccessTokenRecord, Application, ApplicationSettings, OAuthClient, Organization, Toggle,
};
use roost_domain::user::{Presence, User, UserType};
use roost_domain::{ApplicationId, OrganizationId, Properties, StoreError, Timestamp, UserId};

use crate::schema::{access_tokens, applications, oauth_clients, organizations, users};

fn utc(t: NaiveDateTime) -> Timestamp {
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
            properties: parse_properties(&r.properties)?,
            settings: ApplicationSettings {
                guest_users: Toggle::from(r.guest_users),
                user_created_channels: Toggle::from(r.user_created_channels),
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
        })
    }
}
