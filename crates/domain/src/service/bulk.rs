//! Bulk updates (`PATCH /v1/{users,channels,messages}?ids=`): one merge patch applied to every
//! resource named, all or none, in one transaction. Bulk deletes live beside the single ones.

use serde_json::Value;

use super::related::related;
use super::{bulk_ids, Service, View};
use crate::error::DomainError;
use crate::model::channel::{Channel, ChannelPatch};
use crate::model::ids::{ChannelId, MessageId, UserId};
use crate::model::message::{Message, MessagePatch};
use crate::model::now;
use crate::model::page::Page;
use crate::model::principal::Principal;
use crate::model::user::{User, UserPatch};

/// The records of `found` in the order of `ids`, or the first id not found.
fn in_order<T, I: Copy + PartialEq>(ids: &[I], found: Vec<T>, id_of: impl Fn(&T) -> I) -> Result<Vec<T>, I> {
    let mut found: Vec<Option<T>> = found.into_iter().map(Some).collect();
    ids.iter()
        .map(|id| {
            let at = found.iter().position(|f| f.as_ref().is_some_and(|f| id_of(f) == *id)).ok_or(*id)?;
            found[at].take().ok_or(*id)
        })
        .collect()
}

/// Every item at once, as one page.
fn whole<T>(items: Vec<T>) -> Page<T> {
    let count = items.len();
    Page { items, number: 0, size: u32::try_from(count).unwrap_or(u32::MAX), total_elements: count as u64 }
}

impl Service {
    /// Applies `merge_patch` to every user of `ids` (`PATCH /v1/users?ids=`); an unknown id
    /// fails the whole request, naming it.
    pub fn patch_users(
        &self,
        principal: &Principal,
        ids: &[UserId],
        merge_patch: Value,
    ) -> Result<Page<User>, DomainError> {
        let application_id = principal.manage()?;
        let ids = bulk_ids(ids)?;
        let patch = UserPatch::from_merge_patch(merge_patch)?;
        let found = self.ports.users.users_by_ids(application_id, &ids)?;
        let mut users = in_order(&ids, found, |u| u.id)
            .map_err(|missing| DomainError::NotFoundId { resource: "user", id: missing.0 })?;
        let time = now();
        for user in &mut users {
            user.apply(&patch, time)?;
        }
        self.ports.users.update_users(&users)?;
        Ok(whole(users))
    }

    /// Applies `merge_patch` to every channel of `ids` (`PATCH /v1/channels?ids=`).
    pub fn patch_channels(
        &self,
        principal: &Principal,
        ids: &[ChannelId],
        merge_patch: Value,
    ) -> Result<View<Page<Channel>>, DomainError> {
        let application_id = principal.manage()?;
        let ids = bulk_ids(ids)?;
        let patch = ChannelPatch::from_merge_patch(merge_patch)?;
        let found = self.ports.channels.channels_by_ids(application_id, &ids)?;
        let mut channels = in_order(&ids, found, |c| c.id)
            .map_err(|missing| DomainError::NotFoundId { resource: "channel", id: missing.0 })?;
        let time = now();
        for channel in &mut channels {
            channel.apply(&patch)?;
            channel.version += 1;
            channel.updated_time = Some(time);
        }
        self.ports.channels.update_channels(&channels)?;
        let related = related(self.chat(), application_id, &channels, &[], &[])?;
        Ok(View { value: whole(channels), related })
    }

    /// Applies `merge_patch` to every message of `ids` (`PATCH /v1/messages?ids=`).
    pub fn patch_messages(
        &self,
        principal: &Principal,
        ids: &[MessageId],
        merge_patch: Value,
    ) -> Result<View<Page<Message>>, DomainError> {
        let application_id = principal.manage()?;
        let ids = bulk_ids(ids)?;
        let patch = MessagePatch::from_merge_patch(merge_patch)?;
        let found = self.ports.messages.messages_by_ids(application_id, &ids)?;
        let mut messages = in_order(&ids, found, |m| m.id)
            .map_err(|missing| DomainError::NotFoundId { resource: "message", id: missing.0 })?;
        for message in &mut messages {
            self.edit(message, &patch, super::text::MentionScope::Any)?;
        }
        self.ports.messages.update_messages(&messages)?;
        let related = related(self.chat(), application_id, &[], &messages, &[])?;
        Ok(View { value: whole(messages), related })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_in_the_order_asked_or_name_the_missing_one() {
        assert_eq!(in_order(&[3, 1], vec![1, 2, 3], |x| *x), Ok(vec![3, 1]));
        assert_eq!(in_order(&[3, 4], vec![1, 2, 3], |x| *x), Err(4));
    }
}
