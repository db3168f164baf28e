//! What rendering a page needs besides the items themselves, loaded in a few batched reads
//! rather than one read per item: senders, mentioned users and channels, reactions, direct
//! channel members, last messages.

use std::collections::HashMap;

use super::ChatStores;
use crate::error::DomainError;
use crate::model::channel::{Channel, ChannelType};
use crate::model::ids::{ApplicationId, ChannelId, MessageId, UserId};
use crate::model::message::{MentionTarget, Message, ReactionSummary};
use crate::model::notification::{Notification, NotificationKind};
use crate::model::user::User;

/// Related records of a set of messages and channels.
#[derive(Debug, Default, Clone)]
pub struct Related {
    /// Users by id.
    pub users: HashMap<UserId, User>,
    /// Channels by id.
    pub channels: HashMap<ChannelId, Channel>,
    /// Messages by id (last messages, notification messages, parents).
    pub messages: HashMap<MessageId, Message>,
    /// Reaction summaries by message.
    pub reactions: HashMap<MessageId, Vec<ReactionSummary>>,
    /// Members of direct channels.
    pub direct_members: HashMap<ChannelId, Vec<User>>,
}

impl Related {
    /// The user with this id, if loaded.
    pub fn user(&self, id: Option<UserId>) -> Option<&User> {
        id.and_then(|id| self.users.get(&id))
    }
}

fn dedup<T: PartialEq + Copy>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Loads what messages (and the channels and messages they point at) need to be rendered.
pub(super) fn related(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    channels: &[Channel],
    messages: &[Message],
    extra_messages: &[MessageId],
) -> Result<Related, DomainError> {
    related_with(
        stores,
        application_id,
        Wanted { channels, messages, extra_messages, extra_channels: &[], known_users: &[], with_reactions: true },
    )
}

/// [`related`] for a message just stored: it has no reactions yet and its sender was read to
/// post it, so neither is read again (issue 4: each of those reads was 8 % of a post's CPU).
pub(super) fn related_to_new_message(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    message: &Message,
    sender: Option<&User>,
) -> Result<Related, DomainError> {
    related_with(
        stores,
        application_id,
        Wanted {
            channels: &[],
            messages: std::slice::from_ref(message),
            extra_messages: &[],
            extra_channels: &[],
            known_users: sender.map_or(&[], std::slice::from_ref),
            with_reactions: false,
        },
    )
}

/// What [`related_with`] loads the related records of.
struct Wanted<'a> {
    channels: &'a [Channel],
    messages: &'a [Message],
    /// Messages pointed at by the caller (notification payloads).
    extra_messages: &'a [MessageId],
    /// Channels rendered beside the messages (notifications ask for them).
    extra_channels: &'a [ChannelId],
    /// Users the caller holds already: not read again.
    known_users: &'a [User],
    with_reactions: bool,
}

fn related_with(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    Wanted { channels, messages, extra_messages, extra_channels, known_users, with_reactions }: Wanted<'_>,
) -> Result<Related, DomainError> {
    let mut related = Related::default();
    // Messages pointed at by channels (last message) or by the caller (notification payloads).
    let wanted: Vec<MessageId> =
        dedup(channels.iter().filter_map(|c| c.last_message_id).chain(extra_messages.iter().copied()));
    let mut all_messages: Vec<Message> = messages.to_vec();
    for message in stores.messages.messages_by_ids(application_id, &wanted)? {
        related.messages.insert(message.id, message.clone());
        all_messages.push(message);
    }
    // Channels first (given, and those the messages live in or mention), then the members of
    // the direct ones, then every user any of them points at.
    let mut channel_ids = dedup(all_messages.iter().flat_map(|m| m.mentions.iter()).filter_map(|x| match x.target {
        MentionTarget::Channel(c) => Some(c),
        MentionTarget::User(_) => None,
    }));
    // The channels messages live in are rendered only for notifications (which ask for them).
    channel_ids.extend(extra_channels.iter().copied());
    let channel_ids: Vec<ChannelId> =
        dedup(channel_ids).into_iter().filter(|id| !channels.iter().any(|c| c.id == *id)).collect();
    for channel in stores.channels.channels_by_ids(application_id, &channel_ids)? {
        related.channels.insert(channel.id, channel);
    }
    for channel in channels {
        related.channels.insert(channel.id, channel.clone());
    }
    let mut direct_member_ids: HashMap<ChannelId, Vec<UserId>> = HashMap::new();
    for channel in related.channels.values().filter(|c| c.channel_type == ChannelType::Direct) {
        direct_member_ids.insert(channel.id, stores.channels.member_ids(channel.id)?);
    }
    if with_reactions {
        let message_ids: Vec<MessageId> = dedup(all_messages.iter().map(|m| m.id));
        for (id, summary) in stores.messages.reactions(&message_ids)? {
            related.reactions.entry(id).or_default().push(summary);
        }
    }
    let user_ids = dedup(
        all_messages
            .iter()
            .filter_map(|m| m.user_id)
            .chain(all_messages.iter().flat_map(|m| m.mentions.iter()).filter_map(|x| match x.target {
                MentionTarget::User(u) => Some(u),
                MentionTarget::Channel(_) => None,
            }))
            .chain(related.channels.values().filter_map(|c| c.creator_id))
            .chain(direct_member_ids.values().flatten().copied())
            .chain(related.reactions.values().flatten().flat_map(|r| r.users.iter().map(|u| u.id))),
    );
    for user in known_users.iter().filter(|u| user_ids.contains(&u.id)) {
        related.users.insert(user.id, user.clone());
    }
    let user_ids: Vec<UserId> = user_ids.into_iter().filter(|id| !related.users.contains_key(id)).collect();
    for user in stores.users.users_by_ids(application_id, &user_ids)? {
        related.users.insert(user.id, user);
    }
    for (channel_id, ids) in direct_member_ids {
        let members = ids.iter().filter_map(|id| related.users.get(id).cloned()).collect();
        related.direct_members.insert(channel_id, members);
    }
    Ok(related)
}

/// Loads what notifications need: their messages, parents, channels and users.
pub(super) fn related_to_notifications(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    notifications: &[Notification],
) -> Result<Related, DomainError> {
    let message_ids: Vec<MessageId> = dedup(notifications.iter().map(|n| n.message_id));
    let messages = stores.messages.messages_by_ids(application_id, &message_ids)?;
    let parents: Vec<MessageId> = dedup(
        notifications
            .iter()
            .filter(|n| n.kind == NotificationKind::RepliedToMessage)
            .filter_map(|n| messages.iter().find(|m| m.id == n.message_id).and_then(|m| m.parent_id)),
    );
    let mut extra = parents;
    extra.extend(message_ids);
    let channels: Vec<ChannelId> = dedup(notifications.iter().map(|n| n.channel_id));
    let mut related = related_with(
        stores,
        application_id,
        Wanted {
            channels: &[],
            messages: &messages,
            extra_messages: &extra,
            extra_channels: &channels,
            known_users: &[],
            with_reactions: true,
        },
    )?;
    let mentioned: Vec<ChannelId> = dedup(notifications.iter().filter_map(|n| match n.kind {
        NotificationKind::MentionedChannel(c) => Some(c),
        _ => None,
    }));
    for channel in stores.channels.channels_by_ids(application_id, &mentioned)? {
        related.channels.insert(channel.id, channel);
    }
    Ok(related)
}
