//! Channels, memberships, moderators and invites, and the rules their fields obey.

use chrono::{DateTime, Utc};

use super::ids::{ApplicationId, ChannelId, ThreadId, UserId};
use super::page::SortField;
use super::properties::{patch_members, patch_properties};
use super::user::{User, UserRef};
use super::{Properties, Timestamp};
use crate::error::{DomainError, FieldError, FieldErrorCode};

pub(crate) const RESOURCE: &str = "channel";
/// Fewest members of a direct channel (creator included).
pub const MIN_DIRECT_MEMBERS: usize = 2;
/// Most members of a direct channel (creator included).
pub const MAX_DIRECT_MEMBERS: usize = 10;

/// The kinds of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChannelType {
    /// Anyone in the application may read and post.
    Public,
    /// Only members may read and post.
    Private,
    /// A fixed set of 2–10 members; one channel per member set.
    Direct,
}

impl ChannelType {
    /// Wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "PUBLIC",
            Self::Private => "PRIVATE",
            Self::Direct => "DIRECT",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PUBLIC" => Some(Self::Public),
            "PRIVATE" => Some(Self::Private),
            "DIRECT" => Some(Self::Direct),
            _ => None,
        }
    }

    /// Members only: a non-member may neither read nor post.
    pub fn is_members_only(self) -> bool {
        self != Self::Public
    }
}

/// A channel.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Channel {
    /// Its id.
    pub id: ChannelId,
    /// The tenant.
    pub application_id: ApplicationId,
    /// Its type.
    pub channel_type: ChannelType,
    /// Unique name (group channels only).
    pub name: Option<String>,
    /// Display name (group channels only).
    pub display_name: Option<String>,
    /// The user who created it, when created on a user's behalf.
    pub creator_id: Option<UserId>,
    /// Custom data.
    pub properties: Properties,
    /// Its MAIN thread, holding the top-level messages.
    pub main_thread_id: ThreadId,
    /// The newest message, if any.
    pub last_message_id: Option<super::ids::MessageId>,
    /// Creation time.
    pub created_time: Timestamp,
    /// Raised by every direct change: a write made from a stale read matches no row.
    pub version: i64,
    /// The last change of anything its representation shows; `None` until the first.
    pub updated_time: Option<Timestamp>,
}

/// Input of `POST /v1/channels`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChannel {
    /// The type.
    pub channel_type: ChannelType,
    /// Unique name; defaults to a random UUID (group channels).
    pub name: Option<String>,
    /// Display name; defaults to the name (group channels).
    pub display_name: Option<String>,
    /// Creator; becomes a member.
    pub creator: Option<UserRef>,
    /// Initial members.
    pub members: Vec<UserRef>,
    /// Custom data.
    pub properties: Properties,
}

/// A membership record.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    /// The channel.
    pub channel_id: ChannelId,
    /// The member.
    pub user: User,
    /// Moderator flag.
    pub moderator: bool,
    /// When the user joined.
    pub created_time: Timestamp,
}

/// A pending invitation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    /// The channel.
    pub channel_id: ChannelId,
    /// The invitee.
    pub user: User,
    /// When the invite was sent.
    pub created_time: Timestamp,
}

/// Filters of `GET /v1/channels`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelFilter {
    /// Only this type.
    pub channel_type: Option<ChannelType>,
    /// Only channels having every one of these users as members.
    pub member_ids: Vec<UserId>,
    /// Only channels having every one of these usernames as members (resolved to `member_ids`).
    pub member_names: Vec<String>,
    /// Created at or after.
    pub start_time: Option<DateTime<Utc>>,
    /// Created before.
    pub end_time: Option<DateTime<Utc>>,
    /// Top-level custom properties that must match.
    pub properties: Option<Properties>,
    /// Only channels this user created or belongs to.
    pub user_id: Option<UserId>,
    /// Only channels this user may see: public ones, and those it belongs to.
    pub visible_to: Option<UserId>,
}

impl ChannelFilter {
    /// Whether `channel` passes the properties filter (the rest is applied by the store).
    pub fn matches_properties(&self, channel: &Channel) -> bool {
        self.properties.as_ref().is_none_or(|wanted| wanted.iter().all(|(k, v)| channel.properties.get(k) == Some(v)))
    }
}

/// Sortable channel properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelSort {
    /// Creation order.
    Id,
    /// Name.
    Name,
    /// Display name.
    DisplayName,
    /// Creation time.
    CreatedTime,
}

impl SortField for ChannelSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("id", Self::Id),
        ("name", Self::Name),
        ("displayName", Self::DisplayName),
        ("createdTime", Self::CreatedTime),
    ];
}

/// Sortable member lists (by user).
pub type MemberSort = super::user::UserSort;

pub(crate) fn validate_channel_name(field: &str, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(
            RESOURCE,
            field,
            FieldErrorCode::MissingField,
            format!("{field} must not be blank"),
        ));
    }
    if trimmed.chars().count() > super::user::MAX_NAME_CHARS || trimmed.chars().any(super::is_invisible_or_bidi) {
        return Err(FieldError::new(
            RESOURCE,
            field,
            FieldErrorCode::Invalid,
            format!(
                "{field} must be at most {} characters without control, invisible or bidirectional-override characters",
                super::user::MAX_NAME_CHARS
            ),
        ));
    }
    Ok(trimmed.to_owned())
}

/// The key that makes a direct channel unique per member set, whatever the order of members.
pub fn direct_key(members: &[UserId]) -> String {
    let mut ids: Vec<i64> = members.iter().map(|m| m.0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Which members a member list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberFilter {
    /// Every member.
    All,
    /// Moderators only.
    Moderators,
}

/// A channel merge patch: display name and properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelPatch {
    /// New display name.
    pub display_name: Option<String>,
    /// Merge patch of the properties (`null` clears them).
    pub properties: Option<serde_json::Value>,
}

impl ChannelPatch {
    /// Splits an RFC 7396 merge patch (`displayName` in either casing, `properties`); any
    /// other member is refused.
    pub fn from_merge_patch(body: serde_json::Value) -> Result<Self, DomainError> {
        let (display_name, properties) = text_and_properties(body, RESOURCE, &["displayName", "display_name"])?;
        Ok(Self { display_name, properties })
    }
}

impl Channel {
    /// Applies a patch, every field validated; nothing changes when one is invalid. Direct
    /// channels have no display name.
    pub fn apply(&mut self, patch: &ChannelPatch) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        let mut patched = self.clone();
        if let Some(display) = patch.display_name.as_deref() {
            if patched.channel_type == ChannelType::Direct {
                errors.push(FieldError::new(
                    RESOURCE,
                    "displayName",
                    FieldErrorCode::Invalid,
                    "direct channels have no display name",
                ));
            } else {
                match validate_channel_name("displayName", display) {
                    Ok(display) => patched.display_name = Some(display),
                    Err(e) => errors.push(e),
                }
            }
        }
        if let Some(properties) = &patch.properties {
            match patch_properties(RESOURCE, &patched.properties, properties) {
                Ok(merged) => patched.properties = merged,
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        *self = patched;
        Ok(())
    }

    /// A user may post (and react, and type) in a members-only channel only as a member: 403
    /// otherwise. `is_member` is asked only for such channels.
    pub fn check_may_post(
        &self,
        user: &User,
        is_member: impl FnOnce() -> Result<bool, DomainError>,
    ) -> Result<(), DomainError> {
        if self.channel_type.is_members_only() && !is_member()? {
            return Err(DomainError::Forbidden(format!("user {} is not a member of channel {}", user.name, self.id)));
        }
        Ok(())
    }

    /// Refuses membership changes on direct channels, whose members are fixed.
    pub fn check_group(&self) -> Result<(), DomainError> {
        if self.channel_type == ChannelType::Direct {
            return Err(DomainError::field(
                "user",
                "user",
                FieldErrorCode::Invalid,
                "direct channels have fixed members: none can be added or removed, nor moderators or invites",
            ));
        }
        Ok(())
    }
}

/// The error of a group channel name that is taken.
pub(crate) fn name_taken(name: &str) -> DomainError {
    DomainError::field(
        RESOURCE,
        "name",
        FieldErrorCode::AlreadyExists,
        format!("a channel named '{name}' already exists"),
    )
}

/// Splits a merge patch that may change one text field (`names[0]`, or another spelling in
/// `names`) and `properties` (an object, or `null` to clear them). Any other member is refused.
pub(crate) fn text_and_properties(
    body: serde_json::Value,
    resource: &'static str,
    names: &[&str],
) -> Result<(Option<String>, Option<serde_json::Value>), DomainError> {
    use serde_json::Value;
    let field = names.first().copied().unwrap_or_default();
    let (mut text, mut properties, mut errors) = (None, None, Vec::new());
    for (key, value) in patch_members(body, resource)? {
        match value {
            Value::String(s) if names.contains(&key.as_str()) => text = Some(s),
            v @ (Value::Object(_) | Value::Null) if key == "properties" => properties = Some(v),
            _ => errors.push(FieldError::new(
                resource,
                &key,
                FieldErrorCode::Invalid,
                format!("only {field} (a string) and properties (an object) can be changed"),
            )),
        }
    }
    if errors.is_empty() {
        Ok((text, properties))
    } else {
        Err(DomainError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_keys_ignore_order_and_duplicates() {
        assert_eq!(
            direct_key(&[UserId(3), UserId(1), UserId(2)]),
            direct_key(&[UserId(2), UserId(3), UserId(1), UserId(1)])
        );
        assert_eq!(direct_key(&[UserId(10), UserId(9)]), "9,10");
    }

    #[test]
    fn channel_names_are_validated() {
        assert_eq!(validate_channel_name("name", " general ").unwrap(), "general");
        assert_eq!(validate_channel_name("name", " ").unwrap_err().code, FieldErrorCode::MissingField);
        assert_eq!(validate_channel_name("name", "a\tb").unwrap_err().code, FieldErrorCode::Invalid);
    }
}
