//! Events: every change recorded in the event log in the transaction that makes it, and the
//! live-only signals (typing, custom channel events, presence) that are delivered and forgotten.
//!
//! A stored event has a sequence number increasing per application, with no gaps and in commit
//! order (the counter row is locked by the transaction that takes it): a stream resumes from
//! one, and a reader that has seen `n` has seen every event up to `n`.

use serde::{Deserialize, Serialize};

use super::channel::Channel;
use super::file::StoredFile;
use super::ids::{ApplicationId, ChannelId, MessageId, ThreadId, UserId};
use super::message::Message;
use super::notification::Notification;
use super::user::User;
use super::{Properties, Timestamp};

wire_enum! {
    /// What happened (the wire `type`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    EventType {
        /// A message was posted.
        MessageCreated => "message.created",
        /// A message was edited.
        MessageUpdated => "message.updated",
        /// A message was deleted (the resource is its last state).
        MessageDeleted => "message.deleted",
        /// A user reacted to a message.
        ReactionAdded => "reaction.added",
        /// A user took a reaction back.
        ReactionRemoved => "reaction.removed",
        /// A user read a message.
        ReadReceiptCreated => "read_receipt.created",
        /// A channel was created.
        ChannelCreated => "channel.created",
        /// A channel was changed.
        ChannelUpdated => "channel.updated",
        /// A channel was deleted (the resource is its last state).
        ChannelDeleted => "channel.deleted",
        /// A user joined or was added to a channel.
        MemberAdded => "member.added",
        /// A user left or was removed from a channel.
        MemberRemoved => "member.removed",
        /// A member became a moderator.
        ModeratorAdded => "moderator.added",
        /// A moderator became a plain member.
        ModeratorRemoved => "moderator.removed",
        /// A user was invited to a channel.
        InviteCreated => "invite.created",
        /// A user was created.
        UserCreated => "user.created",
        /// A user was changed.
        UserUpdated => "user.updated",
        /// A user was deleted (the resource is its last state).
        UserDeleted => "user.deleted",
        /// A user was notified.
        NotificationCreated => "notification.created",
        /// A file was uploaded (with its message, or as a display picture).
        FileCreated => "file.created",
        /// A hosted file was removed (the resource is its last state).
        FileDeleted => "file.deleted",
        /// Live: a user is typing.
        Keystrokes => "keystrokes",
        /// Live: a custom channel event.
        ChannelEvent => "channel.event",
        /// Live: a user opened their first stream.
        UserOnline => "user.online",
        /// Live: a user closed their last stream.
        UserOffline => "user.offline",
        /// Live: the stream's own error, before it closes.
        Error => "error",
    }
}

impl EventType {
    /// Delivered as it happens and never stored: no id, not resumable.
    pub fn is_live_only(self) -> bool {
        matches!(self, Self::Keystrokes | Self::ChannelEvent | Self::UserOnline | Self::UserOffline | Self::Error)
    }
}

/// A membership change, invite, read mark or reaction: which records it links. The
/// representation is read when the event is rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// The channel.
    pub channel_id: ChannelId,
    /// The user.
    pub user_id: UserId,
    /// The message read or reacted to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// The reaction's emoji.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// When it happened.
    pub time: Timestamp,
}

impl Link {
    /// A user's link to a channel, made at `time`.
    pub fn new(channel_id: ChannelId, user_id: UserId, time: Timestamp) -> Self {
        Self { channel_id, user_id, message_id: None, emoji: None, time }
    }
}

/// What an event is about, as it was when the event happened.
///
/// Stored as JSON in the log. Its layout is internal: an event kept across an upgrade that
/// changed it is skipped (and logged) when read, never misread; the log keeps a day by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EventResource {
    /// `message.*`.
    Message(Message),
    /// `channel.*`.
    Channel(Channel),
    /// `user.*`.
    User(User),
    /// `notification.created`.
    Notification(Notification),
    /// `member.*`, `moderator.*`, `invite.created`, `read_receipt.created`, `reaction.*`.
    Link(Link),
    /// `file.*`.
    File(StoredFile),
}

/// An event to record with a change, in its transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    /// What happened.
    pub event_type: EventType,
    /// The channel it happened in, if any: streams narrowed to channels, and users' streams, are
    /// filtered by it.
    pub channel_id: Option<ChannelId>,
    /// The user it is about, if any (a notification's recipient, a member added or removed).
    pub user_id: Option<UserId>,
    /// What it is about.
    pub resource: EventResource,
}

impl EventDraft {
    /// A message's event.
    pub fn message(event_type: EventType, message: &Message) -> Self {
        Self {
            event_type,
            channel_id: Some(message.channel_id),
            user_id: message.user_id,
            resource: EventResource::Message(message.clone()),
        }
    }

    /// A channel's event.
    pub fn channel(event_type: EventType, channel: &Channel) -> Self {
        Self {
            event_type,
            channel_id: Some(channel.id),
            user_id: None,
            resource: EventResource::Channel(channel.clone()),
        }
    }

    /// A user's event.
    pub fn user(event_type: EventType, user: &User) -> Self {
        Self { event_type, channel_id: None, user_id: Some(user.id), resource: EventResource::User(user.clone()) }
    }

    /// A notification's event: its recipient's.
    pub fn notification(notification: &Notification) -> Self {
        Self {
            event_type: EventType::NotificationCreated,
            channel_id: Some(notification.channel_id),
            user_id: Some(notification.user_id),
            resource: EventResource::Notification(notification.clone()),
        }
    }

    /// A hosted file's event: a message's file is its channel's (and its sender's), a display
    /// picture its user's.
    pub fn file(
        event_type: EventType,
        file: &StoredFile,
        channel_id: Option<ChannelId>,
        user_id: Option<UserId>,
    ) -> Self {
        Self { event_type, channel_id, user_id, resource: EventResource::File(file.clone()) }
    }

    /// A link between a channel (or one of its messages) and a user.
    pub fn link(event_type: EventType, link: Link) -> Self {
        Self {
            event_type,
            channel_id: Some(link.channel_id),
            user_id: Some(link.user_id),
            resource: EventResource::Link(link),
        }
    }
}

/// A recorded event, read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The application it belongs to.
    pub application_id: ApplicationId,
    /// Its sequence number in the application's log (the wire `id`, the resume point).
    pub seq: i64,
    /// When it was recorded.
    pub time: Timestamp,
    /// What happened, where and to what.
    pub draft: EventDraft,
}

/// A live-only signal's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LiveResource {
    /// A typing indicator in a channel's main thread or in a reply thread.
    Keystrokes {
        /// The channel.
        channel_id: ChannelId,
        /// The reply thread, when typed in one.
        thread_id: Option<ThreadId>,
        /// Who types.
        user: User,
        /// What was typed so far.
        keys: String,
    },
    /// A custom channel event.
    ChannelEvent {
        /// The channel.
        channel_id: ChannelId,
        /// Who sent it.
        user: Option<User>,
        /// Its custom type.
        event_type: String,
        /// Its custom data.
        properties: Properties,
    },
    /// A user went online or offline.
    Presence {
        /// The user.
        user: User,
    },
}

/// A live-only event: delivered to the streams open now (on every node), never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    /// The application.
    pub application_id: ApplicationId,
    /// What happened.
    pub event_type: EventType,
    /// When.
    pub time: Timestamp,
    /// What about.
    pub resource: LiveResource,
}

impl LiveEvent {
    /// The channel it happened in, if any.
    pub fn channel_id(&self) -> Option<ChannelId> {
        match &self.resource {
            LiveResource::Keystrokes { channel_id, .. } | LiveResource::ChannelEvent { channel_id, .. } => {
                Some(*channel_id)
            }
            LiveResource::Presence { .. } => None,
        }
    }

    /// The user it is about, if any.
    pub fn user_id(&self) -> Option<UserId> {
        match &self.resource {
            LiveResource::Keystrokes { user, .. } => Some(user.id),
            LiveResource::ChannelEvent { user, .. } => user.as_ref().map(|u| u.id),
            LiveResource::Presence { user } => Some(user.id),
        }
    }
}

/// Where a stream's log starts: the newest recorded event, and the newest purged one (a resume
/// point below it has lost events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogHorizon {
    /// The newest event's sequence number (0: none yet).
    pub last_seq: i64,
    /// Every event up to this one has been purged (0: none).
    pub purged_through: i64,
}

/// What a stream receives: a whole application, or some of its channels, for an application;
/// a user's channels (kept current as the user joins and leaves) and notifications, and any
/// public channel it asked for, for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamScope {
    /// An application's stream, narrowed to `channels` when any are named.
    Application {
        /// Only these channels' events (empty: every event).
        channels: std::collections::BTreeSet<ChannelId>,
    },
    /// A user's stream.
    User {
        /// The user.
        user_id: UserId,
        /// The channels the user belongs to.
        member_of: std::collections::BTreeSet<ChannelId>,
        /// Public channels the stream asked for (chat sessions).
        watching: std::collections::BTreeSet<ChannelId>,
    },
}

impl StreamScope {
    /// Whether a stored event reaches this stream, updating a user's channels first when the
    /// event adds the user to one, after when it removes them (so the user sees both).
    pub fn admit(&mut self, event_type: EventType, channel_id: Option<ChannelId>, user_id: Option<UserId>) -> bool {
        match self {
            Self::Application { channels } => channels.is_empty() || channel_id.is_some_and(|c| channels.contains(&c)),
            Self::User { user_id: me, member_of, watching } => {
                let about_me = user_id == Some(*me);
                if let (EventType::MemberAdded, true, Some(c)) = (event_type, about_me, channel_id) {
                    member_of.insert(c);
                }
                let admitted = match event_type {
                    // Notifications and one's own account are private to the user.
                    EventType::NotificationCreated => about_me,
                    EventType::UserCreated | EventType::UserUpdated | EventType::UserDeleted => about_me,
                    EventType::UserOnline | EventType::UserOffline => about_me,
                    // A display picture is its user's; a message's file, its channel's.
                    EventType::FileCreated | EventType::FileDeleted if channel_id.is_none() => about_me,
                    // An invite concerns the invitee and the channel's members.
                    _ => channel_id.is_some_and(|c| member_of.contains(&c) || watching.contains(&c)),
                };
                if let Some(c) = channel_id {
                    let gone = matches!(event_type, EventType::ChannelDeleted)
                        || (event_type == EventType::MemberRemoved && about_me);
                    if gone {
                        member_of.remove(&c);
                        if event_type == EventType::ChannelDeleted {
                            watching.remove(&c);
                        }
                    }
                }
                admitted || (event_type == EventType::InviteCreated && about_me)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn user_scope() -> StreamScope {
        StreamScope::User { user_id: UserId(1), member_of: BTreeSet::from([ChannelId(10)]), watching: BTreeSet::new() }
    }

    #[test]
    fn wire_names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::parse("message.exploded"), None);
    }

    #[test]
    fn a_user_sees_only_its_channels_and_its_own_notifications() {
        let mut scope = user_scope();
        assert!(scope.admit(EventType::MessageCreated, Some(ChannelId(10)), Some(UserId(2))));
        assert!(!scope.admit(EventType::MessageCreated, Some(ChannelId(11)), Some(UserId(1))));
        assert!(scope.admit(EventType::NotificationCreated, Some(ChannelId(11)), Some(UserId(1))));
        assert!(!scope.admit(EventType::NotificationCreated, Some(ChannelId(10)), Some(UserId(2))));
        assert!(!scope.admit(EventType::UserUpdated, None, Some(UserId(2))));
        assert!(scope.admit(EventType::UserUpdated, None, Some(UserId(1))));
    }

    #[test]
    fn joining_and_leaving_move_the_scope_and_both_are_seen() {
        let mut scope = user_scope();
        assert!(scope.admit(EventType::MemberAdded, Some(ChannelId(11)), Some(UserId(1))));
        assert!(scope.admit(EventType::MessageCreated, Some(ChannelId(11)), None));
        assert!(scope.admit(EventType::MemberRemoved, Some(ChannelId(11)), Some(UserId(1))));
        assert!(!scope.admit(EventType::MessageCreated, Some(ChannelId(11)), None));
        // Someone else joining a channel of mine is seen; joining another is not.
        assert!(scope.admit(EventType::MemberAdded, Some(ChannelId(10)), Some(UserId(3))));
        assert!(!scope.admit(EventType::MemberAdded, Some(ChannelId(12)), Some(UserId(3))));
    }

    #[test]
    fn an_invite_reaches_the_invitee() {
        let mut scope = user_scope();
        assert!(scope.admit(EventType::InviteCreated, Some(ChannelId(12)), Some(UserId(1))));
        assert!(!scope.admit(EventType::MessageCreated, Some(ChannelId(12)), None));
    }

    #[test]
    fn an_application_stream_narrowed_to_channels() {
        let mut all = StreamScope::Application { channels: BTreeSet::new() };
        assert!(all.admit(EventType::UserCreated, None, Some(UserId(5))));
        let mut some = StreamScope::Application { channels: BTreeSet::from([ChannelId(10)]) };
        assert!(some.admit(EventType::MessageCreated, Some(ChannelId(10)), None));
        assert!(!some.admit(EventType::MessageCreated, Some(ChannelId(11)), None));
        assert!(!some.admit(EventType::UserCreated, None, Some(UserId(5))));
    }
}
