//! Presence: a user is online while any live node has a stream of theirs open.

use super::ids::{ApplicationId, ChannelId, UserId};
use super::user::User;
use super::Timestamp;

/// A user's online flag changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceChange {
    /// The application.
    pub application_id: ApplicationId,
    /// The user.
    pub user_id: UserId,
    /// Online now.
    pub online: bool,
}

/// A user's open stream as every node sees it: counted for presence, and listed with its chat
/// sessions when opened with a login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenUserStream {
    /// Its id (from the application's id generator).
    pub id: i64,
    /// The node it is open on (`ROOST_NODE_ID`).
    pub node: i64,
    /// The application.
    pub application_id: ApplicationId,
    /// The user.
    pub user_id: UserId,
    /// The login session it streams with; `None` for an application acting as the user (counted
    /// for presence, not listed).
    pub session_id: Option<i64>,
    /// When it opened.
    pub opened: Timestamp,
    /// Its chat sessions: an id for each channel it is subscribed to.
    pub chat_sessions: Vec<(i64, ChannelId)>,
}

/// One chat session: a user's stream subscribed to a channel (`GET /v1/chat-sessions`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatSession {
    /// Its id, stable while the subscription lasts.
    pub id: i64,
    /// The user.
    pub user: User,
    /// Their login session.
    pub session_id: i64,
    /// The channel.
    pub channel_id: ChannelId,
    /// When the subscription began.
    pub opened: Timestamp,
}
