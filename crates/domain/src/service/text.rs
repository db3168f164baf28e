//! Text analysis on write: the mentions of a body that point at a user or channel that exists.

use super::ChatStores;
use crate::error::DomainError;
use crate::model::channel::ChannelType;
use crate::model::ids::{ApplicationId, ChannelId};
use crate::model::message::text::{scan, Candidate};
use crate::model::message::{Mention, MentionTarget, TextLink};

/// Most mention candidates looked up per message (bounds the work a body can cause).
pub const MAX_MENTION_LOOKUPS: usize = 20;

/// Which channels a body may mention: a mention is rendered with the channel's details to
/// everyone who reads the message, so a user's message mentions only public channels and the
/// channel it is written in; the application's, any channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MentionScope {
    /// Any channel of the application.
    Any,
    /// Public channels, and this one.
    PublicOr(ChannelId),
}

/// Finds the mentions and links of a body. Mentions count only when the user or channel exists
/// (and, for a channel, is within `scope`).
pub(super) fn analyse(
    body: &str,
    application_id: ApplicationId,
    stores: ChatStores<'_>,
    scope: MentionScope,
) -> Result<(Vec<Mention>, Vec<TextLink>), DomainError> {
    let mut mentions = Vec::new();
    let mut links = Vec::new();
    let mut lookups = 0usize;
    for candidate in scan(body) {
        match candidate {
            Candidate::Link(link) => links.push(link),
            Candidate::Mention { .. } if lookups >= MAX_MENTION_LOOKUPS => {}
            Candidate::Mention { channel, name, tag, start_position, end_position } => {
                lookups += 1;
                let target = if channel {
                    stores
                        .channels
                        .find_channel_by_name(application_id, name)?
                        .filter(|c| match scope {
                            MentionScope::Any => true,
                            MentionScope::PublicOr(here) => c.id == here || c.channel_type == ChannelType::Public,
                        })
                        .map(|c| MentionTarget::Channel(c.id))
                } else {
                    stores.users.find_user_by_name(application_id, name)?.map(|u| MentionTarget::User(u.id))
                };
                if let Some(target) = target {
                    mentions.push(Mention { target, tag: tag.to_owned(), start_position, end_position });
                }
            }
        }
    }
    Ok((mentions, links))
}
