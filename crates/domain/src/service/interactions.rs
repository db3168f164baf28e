//! What users do with messages besides writing them: reactions, read receipts, typing
//! indicators, custom channel events, and reading their notifications.

use super::access::Standing;
use super::related::related_to_notifications;
use super::{Service, View};
use crate::error::{DomainError, FieldErrorCode};
use crate::model::channel::Channel;
use crate::model::cursor::{CursorPage, CursorRequest};
use crate::model::ids::{ChannelId, MessageId, ThreadId, UserId};
use crate::model::message::{validate_emoji, validate_event, Message, ReadReceipt};
use crate::model::notification::Notification;
use crate::model::page::{Page, PageRequest};
use crate::model::principal::Principal;
use crate::model::user::{UserRef, UserSort};
use crate::model::{has_nul, now, Properties};

/// A typing indicator, validated: ephemeral, delivered by the real-time layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keystrokes {
    /// What was typed.
    pub keys: String,
    /// Who typed it.
    pub username: String,
}

impl Service {
    /// Reacts to a message; answers with the message.
    pub fn add_reaction(
        &self,
        principal: &Principal,
        id: MessageId,
        emoji: &str,
        user: Option<&UserRef>,
    ) -> Result<View<Message>, DomainError> {
        validate_emoji(emoji)?;
        let (message, _) = self.visible_message(principal, id)?;
        let user = self.acting_user(principal, user, "user")?;
        let channel = self.channel(principal.application_id(), message.channel_id)?;
        self.check_may_post(&channel, &user)?;
        self.ports.messages.add_reaction(&message, emoji, user.id, now())?;
        self.message_view(message)
    }

    /// Removes a user's reaction; answers with the message.
    pub fn remove_reaction(
        &self,
        principal: &Principal,
        id: MessageId,
        emoji: &str,
        user: Option<&UserRef>,
    ) -> Result<View<Message>, DomainError> {
        let (message, _) = self.visible_message(principal, id)?;
        let user = self.acting_user(principal, user, "user")?;
        // No stored emoji holds a NUL (they are validated when added).
        if has_nul(emoji) || !self.ports.messages.remove_reaction(message.id, emoji, user.id)? {
            return Err(DomainError::NotFound("reaction"));
        }
        self.message_view(message)
    }

    /// Marks a message, and every older message in its channel, read by a user.
    pub fn mark_read(
        &self,
        principal: &Principal,
        id: MessageId,
        user: Option<&UserRef>,
    ) -> Result<ReadReceipt, DomainError> {
        let (message, _) = self.visible_message(principal, id)?;
        let user = self.acting_user(principal, user, "user")?;
        let channel = self.channel(principal.application_id(), message.channel_id)?;
        if channel.channel_type.is_members_only() && self.ports.channels.membership(channel.id, user.id)?.is_none() {
            return Err(DomainError::Forbidden(format!(
                "user {} is not a member of channel {}",
                user.name, channel.id
            )));
        }
        let created_time = self.ports.messages.mark_read(&message, user.id, now())?;
        Ok(ReadReceipt { user, created_time })
    }

    /// Who has read a message.
    pub fn read_receipts(
        &self,
        principal: &Principal,
        id: MessageId,
        page: &PageRequest<UserSort>,
    ) -> Result<Page<ReadReceipt>, DomainError> {
        let (message, _) = self.visible_message(principal, id)?;
        Ok(self.ports.messages.read_receipts(&message, page)?)
    }

    /// A typing indicator in a channel: validated and answered (`POST
    /// /v1/channels/{id}/keystrokes`).
    pub fn channel_keystrokes(
        &self,
        principal: &Principal,
        id: ChannelId,
        keys: String,
        user: Option<&UserRef>,
    ) -> Result<Keystrokes, DomainError> {
        let (channel, _) = self.visible_channel(principal, id)?;
        self.keystrokes(principal, &channel, None, keys, user)
    }

    /// A typing indicator in a thread (`POST /v1/threads/{id}/keystrokes`).
    pub fn thread_keystrokes(
        &self,
        principal: &Principal,
        id: ThreadId,
        keys: String,
        user: Option<&UserRef>,
    ) -> Result<Keystrokes, DomainError> {
        let thread = self.visible_thread(principal, id)?;
        let channel = self.channel(principal.application_id(), thread.channel_id)?;
        self.keystrokes(principal, &channel, Some(thread.id), keys, user)
    }

    fn keystrokes(
        &self,
        principal: &Principal,
        channel: &Channel,
        thread: Option<ThreadId>,
        keys: String,
        user: Option<&UserRef>,
    ) -> Result<Keystrokes, DomainError> {
        if keys.chars().count() > 1_000 {
            return Err(DomainError::field(
                "keystrokes",
                "keys",
                FieldErrorCode::Invalid,
                "keys must be at most 1000 characters",
            ));
        }
        let user = self.acting_user(principal, user, "user")?;
        self.check_may_post(channel, &user)?;
        self.publish_keystrokes(principal, channel.id, thread, user.clone(), &keys);
        Ok(Keystrokes { keys, username: user.name })
    }

    /// A custom channel event: validated and answered (`POST /v1/channels/{id}/events`).
    pub fn channel_event(
        &self,
        principal: &Principal,
        id: ChannelId,
        event_type: &str,
        properties: &Properties,
    ) -> Result<(), DomainError> {
        validate_event(event_type, properties)?;
        self.visible_channel(principal, id)?.1.at_least(Standing::Member, "send events to the channel")?;
        self.publish_channel_event(principal, id, None, event_type, properties);
        Ok(())
    }

    /// A cursor page of a user's notifications, newest first.
    pub fn notifications_of_user(
        &self,
        principal: &Principal,
        user: UserId,
        request: &CursorRequest,
    ) -> Result<View<CursorPage<Notification>>, DomainError> {
        let application_id = self.own_records(principal, user)?;
        self.user(application_id, user)?;
        let found = self.ports.notifications.list_notifications(application_id, user, request)?;
        let related = related_to_notifications(self.chat(), application_id, &found.items)?;
        Ok(View { value: found, related })
    }
}
