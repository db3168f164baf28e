//! Notifications: who is told about a new message, and why.

use super::ids::{ChannelId, MessageId, NotificationId, UserId};
use super::Timestamp;

/// Why a user was notified (the `data.type` of the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NotificationKind {
    /// `USER:SENT:MESSAGE`: a user posted in a channel the recipient belongs to.
    UserSentMessage,
    /// `SYSTEM:SENT:MESSAGE`: the application posted in a channel the recipient belongs to.
    SystemSentMessage,
    /// `USER:MENTIONED:USER`: the recipient was @-mentioned.
    MentionedUser,
    /// `USER:MENTIONED:CHANNEL`: a channel the recipient belongs to was #-mentioned.
    MentionedChannel(ChannelId),
    /// `USER:REPLIED_TO:MESSAGE`: someone replied to the recipient's message.
    RepliedToMessage,
}

impl NotificationKind {
    /// The spec's data type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserSentMessage => "USER:SENT:MESSAGE",
            Self::SystemSentMessage => "SYSTEM:SENT:MESSAGE",
            Self::MentionedUser => "USER:MENTIONED:USER",
            Self::MentionedChannel(_) => "USER:MENTIONED:CHANNEL",
            Self::RepliedToMessage => "USER:REPLIED_TO:MESSAGE",
        }
    }
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    /// Its id (the cursor).
    pub id: NotificationId,
    /// Recipient.
    pub user_id: UserId,
    /// Why.
    pub kind: NotificationKind,
    /// The channel of the message.
    pub channel_id: ChannelId,
    /// The message.
    pub message_id: MessageId,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Muted (never, until mute settings exist).
    pub muted: bool,
    /// Creation time.
    pub created_time: Timestamp,
    /// When the recipient read it.
    pub read_time: Option<Timestamp>,
}

/// A notification to store with a message (recipient and reason).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationDraft {
    /// Recipient.
    pub user_id: UserId,
    /// Why.
    pub kind: NotificationKind,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}
