//! Blocks and reports (issue 22): a user blocks another, who can then no longer open a DIRECT
//! channel with them, post in one they share, or notify them (past messages stay); and a user
//! reports a message, which moderators see in `reported-messages` with its `reportCount`.

use super::access::Standing;
use super::{Service, View};
use crate::error::DomainError;
use crate::model::channel::{Channel, ChannelType};
use crate::model::ids::{ApplicationId, ChannelId, MessageId, UserId};
use crate::model::message::Message;
use crate::model::notification::NotificationDraft;
use crate::model::now;
use crate::model::page::Page;
use crate::model::principal::Principal;
use crate::model::safety::{validate_reason, Block};
use crate::model::user::{User, UserRef};

impl Service {
    /// `POST /v1/me/blocks`: the session's user blocks another; answers with the blocked user.
    pub fn block_user(&self, principal: &Principal, user: &UserRef) -> Result<User, DomainError> {
        let (application_id, own, _) = principal.own_account()?;
        let blocked = self.resolve_user(application_id, user, "user")?;
        if blocked.id == own {
            return Err(DomainError::InvalidArgument("a user cannot block itself".into()));
        }
        self.ports.safety.block(application_id, own, blocked.id, now())?;
        Ok(blocked)
    }

    /// `DELETE /v1/me/blocks/{user_id}`: lifts a block.
    pub fn unblock_user(&self, principal: &Principal, blocked: UserId) -> Result<(), DomainError> {
        let (_, own, _) = principal.own_account()?;
        if self.ports.safety.unblock(own, blocked)? {
            Ok(())
        } else {
            Err(DomainError::NotFound("block"))
        }
    }

    /// `GET /v1/me/blocks`: the users the session's user blocked, most recent first.
    pub fn list_blocks(&self, principal: &Principal, number: u32, size: u32) -> Result<Page<Block>, DomainError> {
        let (application_id, own, _) = principal.own_account()?;
        Ok(self.ports.safety.list_blocks(application_id, own, number, size)?)
    }

    /// `POST /v1/messages/{id}/reports`: a user reports a message it can see, once (a second
    /// report by the same user changes nothing). Answers with the message.
    pub fn report_message(
        &self,
        principal: &Principal,
        id: MessageId,
        reason: &str,
    ) -> Result<View<Message>, DomainError> {
        let (_, own, _) = principal.own_account()?;
        validate_reason(reason)?;
        let (message, _) = self.visible_message(principal, id)?;
        self.ports.safety.report(&message, own, reason.trim(), now())?;
        self.message_view(message)
    }

    /// The messages of a channel that users reported (`GET /v1/channels/{id}/reported-messages`),
    /// with their report counts, most reported first: for the application and the channel's
    /// moderators.
    pub fn reported_messages(
        &self,
        principal: &Principal,
        channel: ChannelId,
        number: u32,
        size: u32,
    ) -> Result<Page<(Message, u64)>, DomainError> {
        let (channel, standing) = self.visible_channel(principal, channel)?;
        standing.at_least(Standing::Moderator, "see the channel's reported messages")?;
        Ok(self.ports.safety.reported_messages(channel.id, number, size)?)
    }

    /// 403 when one of `others` blocked `user`: it may not open a DIRECT channel with them.
    pub(super) fn check_not_blocked(
        &self,
        _application_id: ApplicationId,
        user: UserId,
        others: &[UserId],
    ) -> Result<(), DomainError> {
        if self.ports.safety.blockers_among(user, others)?.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Forbidden("a member of this conversation blocked you".into()))
        }
    }

    /// Applies blocks to a new message from `sender`: in a DIRECT channel a member who blocked
    /// the sender refuses it (403); anywhere, those who blocked the sender are not notified.
    pub(super) fn apply_blocks(
        &self,
        channel: &Channel,
        members: &[UserId],
        sender: UserId,
        notifications: &mut Vec<NotificationDraft>,
    ) -> Result<(), DomainError> {
        let mut concerned: Vec<UserId> = notifications.iter().map(|n| n.user_id).collect();
        if channel.channel_type == ChannelType::Direct {
            concerned.extend(members.iter().copied().filter(|m| *m != sender));
        }
        if concerned.is_empty() {
            return Ok(());
        }
        let blockers = self.ports.safety.blockers_among(sender, &concerned)?;
        if blockers.is_empty() {
            return Ok(());
        }
        if channel.channel_type == ChannelType::Direct && members.iter().any(|m| blockers.contains(m)) {
            return Err(DomainError::Forbidden("a member of this conversation blocked you".into()));
        }
        notifications.retain(|n| !blockers.contains(&n.user_id));
        Ok(())
    }
}
