//! Organizations, applications (the tenants), their settings, OAuth clients and access tokens.

use serde::{Deserialize, Serialize};

use super::ids::{ApplicationId, OrganizationId};
use super::{Properties, Timestamp};
use crate::error::{DomainError, FieldErrorCode};

/// The owner of applications (token scope `org:<id>:app`).
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// Its id.
    pub id: OrganizationId,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_time: Timestamp,
}

/// A tenant: every user, channel and message belongs to exactly one application.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// Its id.
    pub id: ApplicationId,
    /// The organization that owns it.
    pub organization_id: OrganizationId,
    /// The public API key client SDKs use (a UUID).
    pub key: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_time: Timestamp,
    /// Raised by every change of its settings (conditional `PUT`s, RFC 9110 §13.1.1).
    pub version: i64,
    /// The last change of its settings; `None` until the first.
    pub updated_time: Option<Timestamp>,
    /// Custom data.
    pub properties: Properties,
    /// Feature toggles.
    pub settings: ApplicationSettings,
}

/// An on/off feature toggle, spelled `ENABLED` / `DISABLED` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Toggle {
    /// On.
    Enabled,
    /// Off.
    Disabled,
}

impl Toggle {
    /// `true` for [`Toggle::Enabled`].
    pub fn is_enabled(self) -> bool {
        self == Self::Enabled
    }
}

impl From<bool> for Toggle {
    fn from(on: bool) -> Self {
        if on {
            Self::Enabled
        } else {
            Self::Disabled
        }
    }
}

/// The application's feature toggles (`GET`/`PUT /v1/application/settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplicationSettings {
    /// Whether end users may connect as guests.
    pub guest_users: Toggle,
    /// Whether end users may create channels themselves.
    pub user_created_channels: Toggle,
    /// Whether end users may sign up for an account (`POST /v1/accounts`).
    pub user_sign_up: Toggle,
}

/// A `PUT /v1/application/settings` body: a setting left out keeps its value, since older
/// clients (the Python SDK 1.0.0, generated from a spec before `userCreatedChannels`) send only
/// the settings they know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingsUpdate {
    /// New `guestUsers`, if given.
    pub guest_users: Option<Toggle>,
    /// New `userCreatedChannels`, if given.
    pub user_created_channels: Option<Toggle>,
    /// New `userSignUp`, if given.
    pub user_sign_up: Option<Toggle>,
}

impl ApplicationSettings {
    /// These settings with `update`'s given values in place.
    pub fn with(self, update: SettingsUpdate) -> Self {
        Self {
            guest_users: update.guest_users.unwrap_or(self.guest_users),
            user_created_channels: update.user_created_channels.unwrap_or(self.user_created_channels),
            user_sign_up: update.user_sign_up.unwrap_or(self.user_sign_up),
        }
    }
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        Self { guest_users: Toggle::Disabled, user_created_channels: Toggle::Disabled, user_sign_up: Toggle::Disabled }
    }
}

/// An OAuth 2.0 confidential client of one application (RFC 6749 §2.1).
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthClient {
    /// The public client identifier.
    pub client_id: String,
    /// The application it acts for.
    pub application_id: ApplicationId,
    /// The organization of that application (for the token's `scope`).
    pub organization_id: OrganizationId,
    /// argon2id PHC string of the secret; the secret itself is never stored.
    pub secret_hash: String,
    /// When the client was created.
    pub created_time: Timestamp,
}

/// A stored access token: only its SHA-256 is kept (RFC 6819 §5.1.4.1.3).
#[derive(Debug, Clone, PartialEq)]
pub struct AccessTokenRecord {
    /// Hex SHA-256 of the bearer string.
    pub token_hash: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The application it grants access to.
    pub application_id: ApplicationId,
    /// That application's organization.
    pub organization_id: OrganizationId,
    /// Issue time.
    pub created_time: Timestamp,
    /// Expiry time.
    pub expires_time: Timestamp,
    /// Revoked by RFC 7009 revocation or by a secret rotation.
    pub revoked: bool,
}

impl AccessTokenRecord {
    /// Usable at `now`: not revoked and not expired.
    pub fn is_active(&self, now: Timestamp) -> bool {
        !self.revoked && now < self.expires_time
    }
}

/// Longest application name accepted.
pub const MAX_APPLICATION_NAME_CHARS: usize = 100;

/// Validates an application name: 1 to 100 characters, no control characters.
pub fn validate_application_name(name: &str) -> Result<String, DomainError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(DomainError::field("application", "name", FieldErrorCode::MissingField, "name must not be empty"));
    }
    if trimmed.chars().count() > MAX_APPLICATION_NAME_CHARS || trimmed.chars().any(char::is_control) {
        return Err(DomainError::field(
            "application",
            "name",
            FieldErrorCode::Invalid,
            format!("name must be at most {MAX_APPLICATION_NAME_CHARS} characters without control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn application_names_are_validated() {
        assert_eq!(validate_application_name("  Chat  ").unwrap(), "Chat");
        assert!(validate_application_name(" ").is_err());
        assert!(validate_application_name("a\u{7}b").is_err());
        assert!(validate_application_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn tokens_expire_and_revoke() {
        let now = Utc::now();
        let mut token = AccessTokenRecord {
            token_hash: "h".into(),
            client_id: "c".into(),
            application_id: ApplicationId(1),
            organization_id: OrganizationId(1),
            created_time: now,
            expires_time: now + Duration::seconds(10),
            revoked: false,
        };
        assert!(token.is_active(now));
        assert!(!token.is_active(now + Duration::seconds(10)));
        token.revoked = true;
        assert!(!token.is_active(now));
    }
}
