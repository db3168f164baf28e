//! What a user session may do on the Platform API's paths (issue 22): the rules every chat use
//! case applies before it reads or writes. An application's back end may do anything within its
//! application. A user sees public channels and the channels it belongs to (any other is "not
//! found": its existence must not leak), posts, reacts and reads as itself only, and moderates
//! only the group channels it moderates or created and still belongs to (403).

use super::Service;
use crate::error::{DomainError, FieldErrorCode};
use crate::model::channel::{Channel, ChannelType, RESOURCE as CHANNEL};
use crate::model::ids::{ApplicationId, ChannelId, UserId};
use crate::model::principal::Principal;
use crate::model::user::{User, UserRef};

/// How a principal stands towards one channel, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Standing {
    /// A user who is not a member of this public channel.
    Outsider,
    /// A member.
    Member,
    /// A moderator, or the user who created the channel.
    Moderator,
    /// The application's back end.
    Application,
}

impl Standing {
    /// `Ok` when at least `needed`; else 403 saying `what` needs it.
    pub(super) fn at_least(self, needed: Standing, what: &str) -> Result<(), DomainError> {
        if self >= needed {
            return Ok(());
        }
        let who = match needed {
            Standing::Member => "a member of the channel",
            Standing::Moderator => "a moderator of the channel",
            Standing::Outsider | Standing::Application => "the application's token",
        };
        Err(DomainError::Forbidden(format!("only {who} may {what}")))
    }
}

impl Service {
    /// The channel `id` as `principal` may know it, with its standing there.
    pub(super) fn visible_channel(
        &self,
        principal: &Principal,
        id: ChannelId,
    ) -> Result<(Channel, Standing), DomainError> {
        let Some(user) = principal.user_id() else {
            return Ok((self.channel(principal.application_id(), id)?, Standing::Application));
        };
        // One read for the channel and the user's membership: a user's request costs what an
        // application's does.
        let (channel, moderator) = self
            .ports
            .channels
            .find_channel_as(principal.application_id(), id, user)?
            .ok_or(DomainError::NotFound(CHANNEL))?;
        // A group channel's creator moderates it while it stays a member; in a DIRECT channel
        // nobody moderates the other.
        let group = channel.channel_type != ChannelType::Direct;
        let standing = match moderator {
            Some(true) => Standing::Moderator,
            Some(false) if group && channel.creator_id == Some(user) => Standing::Moderator,
            Some(false) => Standing::Member,
            None if channel.channel_type == ChannelType::Public => Standing::Outsider,
            None => return Err(DomainError::NotFound(CHANNEL)),
        };
        Ok((channel, standing))
    }

    /// The user an act is done as: the one the application names, or the session's own user
    /// (naming another is 403). `field` names the input for a missing or unknown user.
    pub(super) fn acting_user(
        &self,
        principal: &Principal,
        named: Option<&UserRef>,
        field: &str,
    ) -> Result<User, DomainError> {
        let application_id = principal.application_id();
        match (principal.user_id(), named) {
            (None, Some(reference)) => self.resolve_user(application_id, reference, field),
            (None, None) => {
                Err(DomainError::field("user", field, FieldErrorCode::MissingField, "the user is required"))
            }
            (Some(own), None) => self.user(application_id, own),
            (Some(own), Some(reference)) => {
                let user = self.resolve_user(application_id, reference, field)?;
                if user.id != own {
                    return Err(acts_for_itself());
                }
                Ok(user)
            }
        }
    }

    /// A user's own records (its notifications, unread counts, channels): the application
    /// reads anyone's, a user only its own (403).
    pub(super) fn own_records(&self, principal: &Principal, user: UserId) -> Result<ApplicationId, DomainError> {
        match principal.user_id() {
            Some(own) if own != user => Err(acts_for_itself()),
            _ => Ok(principal.application_id()),
        }
    }
}

fn acts_for_itself() -> DomainError {
    DomainError::Forbidden("a user session acts as its own user only".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standings_are_ordered_and_refusals_say_who_may() {
        assert!(Standing::Moderator.at_least(Standing::Member, "post").is_ok());
        assert!(Standing::Application.at_least(Standing::Moderator, "edit").is_ok());
        let refused = Standing::Member.at_least(Standing::Moderator, "rename the channel").unwrap_err();
        assert!(refused.to_string().contains("a moderator of the channel may rename the channel"), "{refused}");
        assert!(Standing::Outsider.at_least(Standing::Member, "post").is_err());
    }
}
