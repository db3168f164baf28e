//! Presence: a user is online while any live node has a stream of theirs open.

use super::ids::{ApplicationId, UserId};

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
