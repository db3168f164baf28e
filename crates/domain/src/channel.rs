//! Channels, memberships, moderators and invites.

use chrono::{DateTime, Utc};

use crate::error::{DomainError, FieldError, FieldErrorCode, StoreError};
use crate::ids::{ApplicationId, ChannelId, IdGenerator, ThreadId, UserId};
use crate::page::{Page, PageRequest, SortField};
use crate::store::{ChannelStore, UserStore};
use crate::user::{merge_properties, validate_properties, User};
use crate::{Properties, Timestamp};

const RESOURCE: &str = "channel";
/// Fewest members of a direct channel (creator included).
pub const MIN_DIRECT_MEMBERS: usize = 2;
/// Most members of a direct channel (creator included).
pub const MAX_DIRECT_MEMBERS: usize = 10;

/// The kinds of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq)]
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
    pub last_message_id: Option<crate::MessageId>,
    /// Creation time.
    pub created_time: Timestamp,
}

/// A reference to a user in a request body: `{"id": …}` or `{"username": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// By id.
    Id(UserId),
    /// By username.
    Name(String),
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
pub type MemberSort = crate::user::UserSort;

/// Resolves a user reference within the application; a missing user is a field error on `field`.
pub fn resolve_user(
    users: &dyn UserStore,
    application_id: ApplicationId,
    user: &UserRef,
    field: &str,
) -> Result<User, DomainError> {
    let found = match user {
        UserRef::Id(id) => users.find_user(application_id, *id)?,
        UserRef::Name(name) => users.find_user_by_name(application_id, name)?,
    };
    found.ok_or_else(|| {
        let what = match user {
            UserRef::Id(id) => format!("no user with id {id}"),
            UserRef::Name(name) => format!("no user named '{name}'"),
        };
        DomainError::field("user", field, FieldErrorCode::Invalid, what)
    })
}

fn validate_channel_name(field: &str, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(
            RESOURCE,
            field,
            FieldErrorCode::MissingField,
            format!("{field} must not be blank"),
        ));
    }
    if trimmed.chars().count() > crate::user::MAX_NAME_CHARS || trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            RESOURCE,
            field,
            FieldErrorCode::Invalid,
            format!("{field} must be at most {} characters without control characters", crate::user::MAX_NAME_CHARS),
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

/// Creates a channel, or returns the existing direct channel of the same member set
/// (`POST /v1/channels`). The channel, its MAIN thread and its memberships are written in one
/// transaction.
pub fn create_channel(
    channels: &dyn ChannelStore,
    users: &dyn UserStore,
    ids: &IdGenerator,
    application_id: ApplicationId,
    input: NewChannel,
    now: Timestamp,
) -> Result<Channel, DomainError> {
    let mut errors = Vec::new();
    let creator = match &input.creator {
        Some(reference) => Some(resolve_user(users, application_id, reference, "creator")?),
        None => None,
    };
    let mut member_ids: Vec<UserId> = Vec::new();
    for (i, reference) in input.members.iter().enumerate() {
        match resolve_user(users, application_id, reference, &format!("members[{i}]")) {
            Ok(user) if !member_ids.contains(&user.id) => member_ids.push(user.id),
            Ok(_) => {}
            Err(DomainError::Validation(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e),
        }
    }
    if let Some(creator) = &creator {
        if !member_ids.contains(&creator.id) {
            member_ids.insert(0, creator.id);
        }
    }
    if let Err(e) = validate_properties(RESOURCE, &input.properties) {
        errors.push(e);
    }
    let (name, display_name) = match input.channel_type {
        ChannelType::Direct => {
            if input.name.is_some() || input.display_name.is_some() {
                errors.push(FieldError::new(RESOURCE, "name", FieldErrorCode::Invalid, "direct channels have no name"));
            }
            if errors.is_empty() && !(MIN_DIRECT_MEMBERS..=MAX_DIRECT_MEMBERS).contains(&member_ids.len()) {
                errors.push(FieldError::new(
                    RESOURCE,
                    "members",
                    FieldErrorCode::Invalid,
                    format!("a direct channel has {MIN_DIRECT_MEMBERS} to {MAX_DIRECT_MEMBERS} distinct members, creator included"),
                ));
            }
            (None, None)
        }
        ChannelType::Public | ChannelType::Private => {
            let name = match input.name.as_deref() {
                Some(name) => validate_channel_name("name", name).map_err(|e| errors.push(e)).ok(),
                None => Some(uuid::Uuid::new_v4().to_string()),
            };
            let display = match input.display_name.as_deref() {
                Some(display) => validate_channel_name("displayName", display).map_err(|e| errors.push(e)).ok(),
                None => name.clone(),
            };
            (name, display)
        }
    };
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    let key = (input.channel_type == ChannelType::Direct).then(|| direct_key(&member_ids));
    if let Some(key) = &key {
        if let Some(existing) = channels.find_direct_channel(application_id, key)? {
            return Ok(existing);
        }
    }
    if let Some(name) = &name {
        if channels.find_channel_by_name(application_id, name)?.is_some() {
            return Err(name_taken(name));
        }
    }
    let channel = Channel {
        id: ChannelId(ids.next_id()),
        application_id,
        channel_type: input.channel_type,
        name,
        display_name,
        creator_id: creator.map(|c| c.id),
        properties: input.properties,
        main_thread_id: ThreadId(ids.next_id()),
        last_message_id: None,
        created_time: now,
    };
    match channels.insert_channel(&channel, key.as_deref(), &member_ids) {
        Ok(()) => Ok(channel),
        // A concurrent request created the same direct channel or took the name first.
        Err(StoreError::Conflict(_)) => match &key {
            Some(key) => channels.find_direct_channel(application_id, key)?.ok_or(DomainError::NotFound(RESOURCE)),
            None => Err(name_taken(channel.name.as_deref().unwrap_or_default())),
        },
        Err(e) => Err(e.into()),
    }
}

fn name_taken(name: &str) -> DomainError {
    DomainError::field(
        RESOURCE,
        "name",
        FieldErrorCode::AlreadyExists,
        format!("a channel named '{name}' already exists"),
    )
}

/// One channel of the application.
pub fn get_channel(
    channels: &dyn ChannelStore,
    application_id: ApplicationId,
    id: ChannelId,
) -> Result<Channel, DomainError> {
    channels.find_channel(application_id, id)?.ok_or(DomainError::NotFound(RESOURCE))
}

/// Lists channels. A `members` username that does not exist matches no channel.
pub fn list_channels(
    channels: &dyn ChannelStore,
    users: &dyn UserStore,
    application_id: ApplicationId,
    mut filter: ChannelFilter,
    page: &PageRequest<ChannelSort>,
) -> Result<Page<Channel>, DomainError> {
    for name in std::mem::take(&mut filter.member_names) {
        match users.find_user_by_name(application_id, &name)? {
            Some(user) => filter.member_ids.push(user.id),
            None => return Ok(Page { items: Vec::new(), number: page.number, size: page.size, total_elements: 0 }),
        }
    }
    Ok(channels.list_channels(application_id, &filter, page)?)
}

/// Which members a member list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberFilter {
    /// Every member.
    All,
    /// Moderators only.
    Moderators,
    /// Members online now (`participants`).
    Online,
}

/// A channel merge patch: display name and properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelPatch {
    /// New display name.
    pub display_name: Option<String>,
    /// Merge patch of the properties (`null` clears them).
    pub properties: Option<serde_json::Value>,
}

/// Applies a merge patch (`PATCH /v1/channels/{id}`).
pub fn patch_channel(
    channels: &dyn ChannelStore,
    application_id: ApplicationId,
    id: ChannelId,
    patch: ChannelPatch,
) -> Result<Channel, DomainError> {
    let mut channel = get_channel(channels, application_id, id)?;
    let mut errors = Vec::new();
    if let Some(display) = patch.display_name.as_deref() {
        if channel.channel_type == ChannelType::Direct {
            errors.push(FieldError::new(
                RESOURCE,
                "displayName",
                FieldErrorCode::Invalid,
                "direct channels have no display name",
            ));
        } else {
            match validate_channel_name("displayName", display) {
                Ok(display) => channel.display_name = Some(display),
                Err(e) => errors.push(e),
            }
        }
    }
    if let Some(properties) = &patch.properties {
        match merge_properties(&channel.properties, properties)
            .and_then(|p| validate_properties(RESOURCE, &p).map(|()| p))
        {
            Ok(merged) => channel.properties = merged,
            Err(mut e) => {
                e.resource = RESOURCE;
                errors.push(e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    channels.update_channel(&channel)?;
    Ok(channel)
}

/// Deletes a channel with its messages, threads, memberships, invites, reactions, read marks and
/// notifications, in one transaction.
pub fn delete_channel(
    channels: &dyn ChannelStore,
    application_id: ApplicationId,
    id: ChannelId,
) -> Result<(), DomainError> {
    if channels.delete_channel(application_id, id)? {
        Ok(())
    } else {
        Err(DomainError::NotFound(RESOURCE))
    }
}

fn group_channel(
    channels: &dyn ChannelStore,
    application_id: ApplicationId,
    id: ChannelId,
) -> Result<Channel, DomainError> {
    let channel = get_channel(channels, application_id, id)?;
    if channel.channel_type == ChannelType::Direct {
        return Err(DomainError::field(
            "user",
            "user",
            FieldErrorCode::Invalid,
            "direct channels have fixed members: none can be added or removed, nor moderators or invites",
        ));
    }
    Ok(channel)
}

/// Adds a member to a group channel; returns the channel.
pub fn add_member(
    channels: &dyn ChannelStore,
    users: &dyn UserStore,
    application_id: ApplicationId,
    id: ChannelId,
    user: &UserRef,
    now: Timestamp,
) -> Result<Channel, DomainError> {
    let channel = group_channel(channels, application_id, id)?;
    let user = resolve_user(users, application_id, user, "user")?;
    channels.add_member(&channel, user.id, now)?;
    Ok(channel)
}

/// Removes a member (and its moderator role); returns the channel.
pub fn remove_member(
    channels: &dyn ChannelStore,
    application_id: ApplicationId,
    id: ChannelId,
    user_id: UserId,
) -> Result<Channel, DomainError> {
    let channel = group_channel(channels, application_id, id)?;
    if !channels.remove_member(channel.id, user_id)? {
        return Err(DomainError::NotFound("member"));
    }
    Ok(channel)
}

/// Members of a channel, as users.
pub fn list_members(
    channels: &dyn ChannelStore,
    application_id: ApplicationId,
    id: ChannelId,
    which: MemberFilter,
    page: &PageRequest<MemberSort>,
) -> Result<Page<Membership>, DomainError> {
    let channel = get_channel(channels, application_id, id)?;
    Ok(channels.list_memberships(channel.id, which, page)?)
}

/// Makes a member a moderator; returns the user.
pub fn add_moderator(
    channels: &dyn ChannelStore,
    users: &dyn UserStore,
    application_id: ApplicationId,
    id: ChannelId,
    user: &UserRef,
) -> Result<User, DomainError> {
    let channel = group_channel(channels, application_id, id)?;
    let user = resolve_user(users, application_id, user, "user")?;
    if !channels.set_moderator(channel.id, user.id, true)? {
        return Err(DomainError::field(
            "user",
            "user",
            FieldErrorCode::Invalid,
            "only a member of the channel can be a moderator",
        ));
    }
    Ok(user)
}

/// Takes a member's moderator role; returns the channel.
pub fn remove_moderator(
    channels: &dyn ChannelStore,
    application_id: ApplicationId,
    id: ChannelId,
    user_id: UserId,
) -> Result<Channel, DomainError> {
    let channel = get_channel(channels, application_id, id)?;
    let is_moderator = channels.membership(channel.id, user_id)?.is_some_and(|m| m.moderator);
    if !is_moderator {
        return Err(DomainError::NotFound("moderator"));
    }
    channels.set_moderator(channel.id, user_id, false)?;
    Ok(channel)
}

/// Invites a user to a group channel.
pub fn invite(
    channels: &dyn ChannelStore,
    users: &dyn UserStore,
    application_id: ApplicationId,
    id: ChannelId,
    user: &UserRef,
    now: Timestamp,
) -> Result<Invite, DomainError> {
    let channel = group_channel(channels, application_id, id)?;
    let user = resolve_user(users, application_id, user, "user")?;
    if channels.membership(channel.id, user.id)?.is_some() {
        return Err(DomainError::field("user", "user", FieldErrorCode::AlreadyExists, "the user is already a member"));
    }
    let created_time = channels.add_invite(channel.id, user.id, now)?;
    Ok(Invite { channel_id: channel.id, user, created_time })
}

/// Pending invites of a channel.
pub fn list_invites(
    channels: &dyn ChannelStore,
    application_id: ApplicationId,
    id: ChannelId,
    page: &PageRequest<MemberSort>,
) -> Result<Page<Invite>, DomainError> {
    let channel = get_channel(channels, application_id, id)?;
    Ok(channels.list_invites(channel.id, page)?)
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
