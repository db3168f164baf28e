//! Who is told about a new message, and why.

use super::ChatStores;
use crate::error::DomainError;
use crate::model::channel::Channel;
use crate::model::ids::UserId;
use crate::model::message::{MentionTarget, Message};
use crate::model::notification::{NotificationDraft, NotificationKind};
use crate::model::user::User;

/// Plans the notifications of a new message: one per recipient, for the most specific reason
/// (a reply to their message, then a mention of them, then a mention of their channel, then
/// the message itself). Nobody is notified of their own message.
pub(super) fn plan_notifications(
    stores: ChatStores<'_>,
    channel: &Channel,
    members: &[UserId],
    sender: Option<&User>,
    message: &Message,
    parent: Option<&Message>,
) -> Result<Vec<NotificationDraft>, DomainError> {
    let who = sender.map_or_else(|| "The application".to_owned(), |s| s.display_name.clone());
    let excerpt = message.body.clone().or_else(|| message.file.as_ref().map(|f| f.name.clone())).unwrap_or_default();
    let excerpt: String = excerpt.chars().take(200).collect();
    let mut drafts: Vec<NotificationDraft> = Vec::new();
    let sender_id = sender.map(|s| s.id);
    let mut push = |user_id: UserId, kind: NotificationKind, title: String| {
        if Some(user_id) != sender_id && !drafts.iter().any(|d| d.user_id == user_id) {
            drafts.push(NotificationDraft { user_id, kind, title, body: excerpt.clone() });
        }
    };
    let channel_label = channel.display_name.clone().unwrap_or_else(|| "a direct conversation".to_owned());
    // In a members-only channel, only members may learn of a message, even when mentioned.
    let may_see = |user_id: &UserId| !channel.channel_type.is_members_only() || members.contains(user_id);
    // The parent's author is told only while they may see the channel and still exist (a
    // deleted user's messages stay behind).
    if let Some(author) = parent.and_then(|p| p.user_id).filter(|a| may_see(a)) {
        if stores.users.find_user(channel.application_id, author)?.is_some() {
            push(author, NotificationKind::RepliedToMessage, format!("{who} replied to your message"));
        }
    }
    for mention in &message.mentions {
        match mention.target {
            MentionTarget::User(user_id) if may_see(&user_id) => {
                push(user_id, NotificationKind::MentionedUser, format!("{who} mentioned you in {channel_label}"));
            }
            MentionTarget::User(_) => {}
            MentionTarget::Channel(mentioned) => {
                for member in stores.channels.member_ids(mentioned)?.into_iter().filter(|m| may_see(m)) {
                    push(
                        member,
                        NotificationKind::MentionedChannel(mentioned),
                        format!("{who} mentioned a channel you are in"),
                    );
                }
            }
        }
    }
    let kind = if sender.is_some() { NotificationKind::UserSentMessage } else { NotificationKind::SystemSentMessage };
    for member in members.iter().copied() {
        push(member, kind, format!("{who} sent a message in {channel_label}"));
    }
    Ok(drafts)
}
