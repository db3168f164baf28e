//! Messages, threads, reactions, read receipts, typing indicators, channel events and
//! notifications.

use super::access::Standing;
use super::notify::plan_notifications;
use super::related::{related, related_to_new_message};
use super::text::{analyse, MentionScope};
use super::{check, stale, Guard, Service, View};
use crate::error::DomainError;
use crate::model::application::Application;
use crate::model::channel::{Channel, ChannelType};
use crate::model::cursor::{CursorPage, CursorRequest};
use crate::model::ids::{ApplicationId, ChannelId, MessageId, ThreadId, UserId};
use crate::model::message::{
    validate_body, validate_new_message, FileRef, Message, MessageDraft, MessageFilter, MessagePatch, MessageScope,
    MessageType, NewContent, NewMessage, Thread, ThreadType, UnreadSummary, RESOURCE,
};
use crate::model::page::Page;
use crate::model::principal::Principal;
use crate::model::user::User;
use crate::model::{has_nul, now};

/// Which messages a list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageListing {
    /// Every message of the application (`GET /v1/messages`).
    Application,
    /// A channel's top-level messages (its MAIN thread).
    Channel(ChannelId),
    /// One thread's messages.
    Thread(ThreadId),
    /// The replies to a message (its thread, created on first use).
    RepliesTo(MessageId),
    /// The messages a user sent.
    SentBy(UserId),
    /// The messages a user has not read yet in their channels.
    UnreadBy(UserId),
    /// A session user's stream: its own messages and those of every channel it belongs to.
    Stream,
    /// Top-level messages with replies in the channels a session user may see.
    Threads,
}

/// Filters of a message list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageQuery {
    /// Only messages from the user with this username (an unknown name matches nothing).
    pub username: Option<String>,
    /// Only messages whose text contains this (case-insensitive; empty means no filter).
    pub text: Option<String>,
    /// Only messages created at or after this time.
    pub since: Option<crate::model::Timestamp>,
}

/// Where a new message goes.
struct Destination {
    channel: Channel,
    /// Every member of the channel, read with it.
    members: Vec<UserId>,
    thread: Thread,
    parent: Option<Message>,
    /// The sender when already known (a user session's own user); else `input.user`'s.
    sender: Option<User>,
}

impl Service {
    /// `POST /v1/channels/{id}/messages`: a top-level message in the channel's MAIN thread.
    pub fn send_channel_message(
        &self,
        principal: &Principal,
        channel_id: ChannelId,
        input: NewMessage,
    ) -> Result<View<Message>, DomainError> {
        let application_id = principal.application_id();
        let (channel, members) = self.channel_with_members(application_id, channel_id)?;
        let sender = self.as_sender(principal, &channel, &members, &input)?;
        // The MAIN thread is created with the channel and never changes: no need to read it.
        let thread = Thread {
            id: channel.main_thread_id,
            application_id,
            channel_id: channel.id,
            thread_type: ThreadType::Main,
            parent_message_id: None,
            created_time: channel.created_time,
        };
        self.post(Destination { channel, members, thread, parent: None, sender }, input)
    }

    /// `POST /v1/threads/{id}/messages`: a message in a thread (a reply when it is a MESSAGE
    /// thread).
    pub fn send_thread_message(
        &self,
        principal: &Principal,
        thread_id: ThreadId,
        input: NewMessage,
    ) -> Result<View<Message>, DomainError> {
        let application_id = principal.application_id();
        let thread = self.thread(application_id, thread_id)?;
        let (channel, members) = self.channel_with_members(application_id, thread.channel_id)?;
        // A thread of a channel the user may not see does not exist for it.
        let sender = self.as_sender(principal, &channel, &members, &input).map_err(|e| hidden(e, "thread"))?;
        let parent = match thread.parent_message_id {
            Some(parent) => Some(self.message(application_id, parent)?),
            None => None,
        };
        self.post(Destination { channel, members, thread, parent, sender }, input)
    }

    /// `POST /v1/messages/{id}/replies`: replies to a message, creating its thread on first
    /// reply.
    pub fn reply_to_message(
        &self,
        principal: &Principal,
        message_id: MessageId,
        input: NewMessage,
    ) -> Result<View<Message>, DomainError> {
        let application_id = principal.application_id();
        let parent = self.message(application_id, message_id)?;
        let (channel, members) = self.channel_with_members(application_id, parent.channel_id)?;
        let sender = self.as_sender(principal, &channel, &members, &input).map_err(|e| hidden(e, RESOURCE))?;
        let thread = self.ports.messages.message_thread(&parent, ThreadId(self.next_id()), now())?;
        self.post(Destination { channel, members, thread, parent: Some(parent), sender }, input)
    }

    /// Posts a message: validates, analyses the text, plans notifications and stores it all
    /// in one transaction. Rendering it reads nothing the post read already (issue 4).
    fn post(&self, to: Destination, input: NewMessage) -> Result<View<Message>, DomainError> {
        let Destination { channel, members, thread, parent, sender } = to;
        let to_user = sender.is_some();
        validate_new_message(&input, self.rules)?;
        let application_id = channel.application_id;
        let sender = match (sender, &input.user) {
            (Some(known), _) => Some(known),
            (None, Some(reference)) => Some(self.resolve_user(application_id, reference, "user")?),
            (None, None) => None,
        };
        if let Some(sender) = &sender {
            channel.check_may_post(sender, || Ok(members.contains(&sender.id)))?;
        }
        let (body, file, hosted) = match input.content {
            NewContent::Text(body) => (Some(body), None, None),
            NewContent::File(file) => (None, Some(file), None),
            NewContent::Hosted(stored) if stored.application_id == application_id => {
                (None, Some(FileRef::hosted(&stored)), Some(stored))
            }
            NewContent::Hosted(_) => {
                return Err(DomainError::Forbidden("the file belongs to another application".into()))
            }
        };
        let message_type = match (file.is_some(), sender.is_some()) {
            (false, true) => MessageType::Text,
            (false, false) => MessageType::SystemText,
            (true, true) => MessageType::File,
            (true, false) => MessageType::SystemFile,
        };
        let (mentions, links) = match &body {
            // A session user's message mentions what its readers may see (see MentionScope).
            Some(body) => {
                let scope = if to_user { MentionScope::PublicOr(channel.id) } else { MentionScope::Any };
                analyse(body, application_id, self.chat(), scope)?
            }
            None => (Vec::new(), Vec::new()),
        };
        let message = Message {
            id: MessageId(0),
            application_id,
            channel_id: channel.id,
            thread_id: thread.id,
            message_type,
            user_id: sender.as_ref().map(|s| s.id),
            body,
            file,
            group_tag: input.group_tag,
            properties: input.properties,
            mentions,
            links,
            nested_level: parent.as_ref().map_or(0, |p| p.nested_level + 1),
            replies_count: 0,
            parent_id: parent.as_ref().map(|p| p.id),
            created_time: now(),
            last_edited_time: None,
            version: 1,
            updated_time: None,
        };
        let mut notifications =
            plan_notifications(self.chat(), &channel, &members, sender.as_ref(), &message, parent.as_ref())?;
        if let Some(sender) = &sender {
            self.apply_blocks(&channel, &members, sender.id, &mut notifications)?;
        }
        let message = self.ports.messages.append_message(MessageDraft { message, notifications, file: hosted })?;
        let related = related_to_new_message(self.chat(), application_id, &message, sender.as_ref())?;
        Ok(View { value: message, related })
    }

    /// A cursor page of messages, newest first.
    pub fn list_messages(
        &self,
        principal: &Principal,
        listing: MessageListing,
        query: MessageQuery,
        request: &CursorRequest,
    ) -> Result<View<CursorPage<Message>>, DomainError> {
        let application_id = principal.application_id();
        let scope = match listing {
            MessageListing::Application => {
                principal.manage()?;
                MessageScope::Application
            }
            MessageListing::Channel(id) => MessageScope::Thread(self.visible_channel(principal, id)?.0.main_thread_id),
            MessageListing::Thread(id) => MessageScope::Thread(self.visible_thread(principal, id)?.id),
            MessageListing::RepliesTo(id) => {
                let (parent, _) = self.visible_message(principal, id)?;
                MessageScope::Thread(self.ports.messages.message_thread(&parent, ThreadId(self.next_id()), now())?.id)
            }
            MessageListing::SentBy(user) => {
                MessageScope::SentBy(self.user(self.own_records(principal, user)?, user)?.id)
            }
            MessageListing::UnreadBy(user) => {
                MessageScope::UnreadBy(self.user(self.own_records(principal, user)?, user)?.id)
            }
            MessageListing::Stream => MessageScope::VisibleTo(principal.own_account()?.1),
            MessageListing::Threads => MessageScope::ThreadsVisibleTo(principal.own_account()?.1),
        };
        let empty = || {
            let page = CursorPage::from_probe(request, Vec::new(), |m: &Message| m.id.0, false);
            Ok(View { value: page, related: super::Related::default() })
        };
        // No stored text holds a NUL, so a filter holding one matches nothing.
        if query.username.as_deref().is_some_and(has_nul) || query.text.as_deref().is_some_and(has_nul) {
            return empty();
        }
        let sender = match query.username.as_deref() {
            None => None,
            Some(name) => match self.ports.users.find_user_by_name(application_id, name)? {
                Some(user) => Some(user.id),
                None => return empty(),
            },
        };
        let filter = MessageFilter { sender, query: query.text.filter(|q| !q.is_empty()), since: query.since };
        let found = self.ports.messages.list_messages(application_id, &scope, &filter, request)?;
        let related = related(self.chat(), application_id, &[], &found.items, &[])?;
        Ok(View { value: found, related })
    }

    /// One message.
    pub fn get_message(&self, principal: &Principal, id: MessageId) -> Result<View<Message>, DomainError> {
        let (message, _) = self.visible_message(principal, id)?;
        self.message_view(message)
    }

    /// One thread.
    pub fn get_thread(&self, principal: &Principal, id: ThreadId) -> Result<Thread, DomainError> {
        self.visible_thread(principal, id)
    }

    /// Edits a message with an RFC 7396 merge patch (`PATCH /v1/messages/{id}`); sets
    /// `lastEditedTime`.
    pub fn patch_message(
        &self,
        principal: &Principal,
        id: MessageId,
        merge_patch: serde_json::Value,
        guard: Guard<'_, View<Message>>,
    ) -> Result<View<Message>, DomainError> {
        let patch = MessagePatch::from_merge_patch(merge_patch)?;
        let (mut message, _) = self.visible_message(principal, id)?;
        if principal.user_id().is_some() && message.user_id != principal.user_id() {
            return Err(DomainError::Forbidden("a user may edit its own messages only".into()));
        }
        if guard.is_some() {
            check(guard, &self.message_view(message.clone())?)?;
        }
        let scope = match principal.user_id() {
            Some(_) => MentionScope::PublicOr(message.channel_id),
            None => MentionScope::Any,
        };
        self.edit(&mut message, &patch, scope)?;
        self.ports.messages.update_message(&message).map_err(|e| stale(guard, e))?;
        self.message_view(message)
    }

    /// Applies `patch` to `message` (not stored): a new body is checked like a new message's,
    /// and analysed only when valid; its problems are reported together with those of the
    /// other fields. Raises the version for the optimistic write.
    pub(super) fn edit(
        &self,
        message: &mut Message,
        patch: &MessagePatch,
        scope: MentionScope,
    ) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        let analysed = match patch.body.as_deref() {
            Some(body) if message.body.is_some() => match validate_body(body, self.rules) {
                Ok(()) => Some(analyse(body, message.application_id, self.chat(), scope)?),
                Err(DomainError::Validation(mut e)) => {
                    errors.append(&mut e);
                    None
                }
                Err(e) => return Err(e),
            },
            _ => None,
        };
        match message.apply(patch, analysed, now()) {
            Ok(()) if errors.is_empty() => {}
            Ok(()) => return Err(DomainError::Validation(errors)),
            Err(DomainError::Validation(mut e)) => {
                errors.append(&mut e);
                return Err(DomainError::Validation(errors));
            }
            Err(e) => return Err(e),
        }
        message.version += 1;
        message.updated_time = message.last_edited_time;
        Ok(())
    }

    /// Deletes a message with its replies, reactions and notifications; answers with the
    /// thread it lived in.
    pub fn delete_message(
        &self,
        principal: &Principal,
        id: MessageId,
        guard: Guard<'_, View<Message>>,
    ) -> Result<Thread, DomainError> {
        let application_id = principal.application_id();
        let (message, standing) = self.visible_message(principal, id)?;
        if message.user_id != principal.user_id() {
            standing.at_least(Standing::Moderator, "delete others' messages")?;
        }
        if guard.is_some() {
            check(guard, &self.message_view(message.clone())?)?;
        }
        let thread = self.thread(application_id, message.thread_id)?;
        // A conditional delete matches only the revision the precondition was checked on.
        if !self.ports.messages.delete_message(&message, guard.is_some())? {
            // Changed since read (conditional), or deleted meanwhile by another request.
            return Err(if guard.is_some() {
                DomainError::PreconditionFailed
            } else {
                DomainError::NotFound("message")
            });
        }
        Ok(thread)
    }

    /// Deletes every message of the application (`DELETE /v1/messages`); answers with the
    /// application.
    pub fn delete_all_messages(&self, principal: &Principal) -> Result<Application, DomainError> {
        let application_id = principal.manage()?;
        self.ports.messages.delete_all_messages(application_id)?;
        self.application(application_id)
    }

    /// Deletes the messages `ids` (with their replies) in one transaction, all or none
    /// (`DELETE /v1/messages?ids=`); answers with the application.
    pub fn delete_messages(&self, principal: &Principal, ids: &[MessageId]) -> Result<Application, DomainError> {
        let application_id = principal.manage()?;
        let ids = super::bulk_ids(ids)?;
        if let Some(missing) = self.ports.messages.delete_messages(application_id, &ids)? {
            return Err(DomainError::NotFoundId { resource: "message", id: missing.0 });
        }
        self.application(application_id)
    }

    /// How many messages `list_messages` lists for `MessageListing::UnreadBy(user)`
    /// (`GET /v1/users/{id}/messages/unread/count`).
    pub fn count_unread(&self, principal: &Principal, user: UserId) -> Result<u64, DomainError> {
        let application_id = self.own_records(principal, user)?;
        let user = self.user(application_id, user)?;
        Ok(self.ports.messages.count_messages(
            application_id,
            &MessageScope::UnreadBy(user.id),
            &MessageFilter::default(),
        )?)
    }

    /// Per channel and member, how many messages the member has not read
    /// (`GET /v1/application/message-read-receipt-summaries`), with the channels and users.
    pub fn read_receipt_summaries(
        &self,
        principal: &Principal,
        number: u32,
        size: u32,
    ) -> Result<View<Page<UnreadSummary>>, DomainError> {
        let application_id = principal.manage()?;
        let page = self.ports.messages.unread_summaries(application_id, number, size)?;
        let mut channel_ids: Vec<ChannelId> = page.items.iter().map(|s| s.channel_id).collect();
        channel_ids.dedup();
        let channels = self.ports.channels.channels_by_ids(application_id, &channel_ids)?;
        let mut related = related(self.chat(), application_id, &channels, &[], &[])?;
        let mut user_ids: Vec<UserId> = page.items.iter().map(|s| s.user_id).collect();
        user_ids.sort_unstable_by_key(|u| u.0);
        user_ids.dedup();
        for user in self.ports.users.users_by_ids(application_id, &user_ids)? {
            related.users.insert(user.id, user);
        }
        Ok(View { value: page, related })
    }

    /// A message as `principal` may see it (its channel decides), with the standing there.
    pub(super) fn visible_message(
        &self,
        principal: &Principal,
        id: MessageId,
    ) -> Result<(Message, Standing), DomainError> {
        let message = self.message(principal.application_id(), id)?;
        let (_, standing) = self.visible_channel(principal, message.channel_id).map_err(|_| not_found())?;
        Ok((message, standing))
    }

    pub(super) fn visible_thread(&self, principal: &Principal, id: ThreadId) -> Result<Thread, DomainError> {
        let thread = self.thread(principal.application_id(), id)?;
        self.visible_channel(principal, thread.channel_id).map_err(|_| DomainError::NotFound("thread"))?;
        Ok(thread)
    }

    /// The sender of a post by `principal`: a user session posts as itself, in a channel it may
    /// see (naming another sender is 403); `None` for an application, whose input names it.
    fn as_sender(
        &self,
        principal: &Principal,
        channel: &Channel,
        members: &[UserId],
        input: &NewMessage,
    ) -> Result<Option<User>, DomainError> {
        let Some(own) = principal.user_id() else { return Ok(None) };
        let visible = channel.channel_type == ChannelType::Public || members.contains(&own);
        if !visible {
            return Err(DomainError::NotFound("channel"));
        }
        Ok(Some(self.acting_user(principal, input.user.as_ref(), "user")?))
    }

    pub(super) fn message(&self, application_id: ApplicationId, id: MessageId) -> Result<Message, DomainError> {
        self.ports.messages.find_message(application_id, id)?.ok_or(DomainError::NotFound(RESOURCE))
    }

    pub(super) fn thread(&self, application_id: ApplicationId, id: ThreadId) -> Result<Thread, DomainError> {
        self.ports.messages.find_thread(application_id, id)?.ok_or(DomainError::NotFound("thread"))
    }

    pub(super) fn message_view(&self, message: Message) -> Result<View<Message>, DomainError> {
        let related = related(self.chat(), message.application_id, &[], std::slice::from_ref(&message), &[])?;
        Ok(View { value: message, related })
    }

    /// The channel with its members, or 404.
    fn channel_with_members(
        &self,
        application_id: ApplicationId,
        id: ChannelId,
    ) -> Result<(Channel, Vec<UserId>), DomainError> {
        self.ports.channels.find_channel_with_member_ids(application_id, id)?.ok_or(DomainError::NotFound("channel"))
    }

    /// A user may post in a members-only channel only as a member (403 otherwise).
    pub(super) fn check_may_post(&self, channel: &Channel, user: &User) -> Result<(), DomainError> {
        let is_member = || Ok::<_, DomainError>(self.ports.channels.membership(channel.id, user.id)?.is_some());
        channel.check_may_post(user, is_member)
    }
}

fn not_found() -> DomainError {
    DomainError::NotFound(RESOURCE)
}

/// A "not found" for what was asked for (`what`), not for the channel behind it: the answer
/// must read as if the id did not exist.
fn hidden(error: DomainError, what: &'static str) -> DomainError {
    match error {
        DomainError::NotFound(_) => DomainError::NotFound(what),
        other => other,
    }
}
