//! Messages, threads, reactions and read receipts, and the text analysis done on write.

pub mod text;

use crate::channel::{get_channel, resolve_user, Channel, UserRef};
use crate::cursor::{CursorPage, CursorRequest};
use crate::error::{DomainError, FieldError, FieldErrorCode};
use crate::ids::{ApplicationId, ChannelId, IdGenerator, MessageId, ThreadId, UserId};
use crate::notification::plan_notifications;
use crate::page::{Page, PageRequest};
use crate::store::{ChannelStore, MessageStore, UserStore};
use crate::user::{merge_properties, validate_properties, User};
use crate::{Properties, Timestamp};

pub use text::{Mention, MentionTarget, TextLink};

const RESOURCE: &str = "message";
/// Default longest message body, in characters.
pub const DEFAULT_MAX_BODY_CHARS: usize = 10_000;
/// Longest group tag.
pub const MAX_GROUP_TAG_CHARS: usize = 255;
/// Longest emoji accepted in a reaction.
pub const MAX_EMOJI_CHARS: usize = 32;

/// Message kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// Text from a user.
    Text,
    /// File from a user.
    File,
    /// Text from the application.
    SystemText,
    /// File from the application.
    SystemFile,
}

impl MessageType {
    /// Wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "TEXT",
            Self::File => "FILE",
            Self::SystemText => "SYSTEM_TEXT",
            Self::SystemFile => "SYSTEM_FILE",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TEXT" => Some(Self::Text),
            "FILE" => Some(Self::File),
            "SYSTEM_TEXT" => Some(Self::SystemText),
            "SYSTEM_FILE" => Some(Self::SystemFile),
            _ => None,
        }
    }

    /// Sent by the application rather than a user.
    pub fn is_system(self) -> bool {
        matches!(self, Self::SystemText | Self::SystemFile)
    }
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRef {
    /// `HOSTED` or `EXTERNAL`.
    #[serde(rename = "type")]
    pub file_type: String,
    /// Where the content is.
    pub url: String,
    /// File name (display only).
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
}

/// A message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Its id (time-ordered; the cursor).
    pub id: MessageId,
    /// The tenant.
    pub application_id: ApplicationId,
    /// The channel.
    pub channel_id: ChannelId,
    /// The thread it lives in.
    pub thread_id: ThreadId,
    /// Kind.
    pub message_type: MessageType,
    /// Sender (user messages only).
    pub user_id: Option<UserId>,
    /// Text (text messages).
    pub body: Option<String>,
    /// File (file messages).
    pub file: Option<FileRef>,
    /// Gallery grouping tag.
    pub group_tag: Option<String>,
    /// Custom data.
    pub properties: Properties,
    /// Mentions found in the body.
    pub mentions: Vec<Mention>,
    /// Links found in the body.
    pub links: Vec<TextLink>,
    /// Thread depth: 0 for top-level messages.
    pub nested_level: i32,
    /// Replies in this message's thread.
    pub replies_count: i64,
    /// The message this one replies to.
    pub parent_id: Option<MessageId>,
    /// Creation time.
    pub created_time: Timestamp,
    /// Last edit time.
    pub last_edited_time: Option<Timestamp>,
}

/// Thread kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadType {
    /// A channel's main timeline.
    Main,
    /// Replies to one message.
    Message,
}

impl ThreadType {
    /// Wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Main => "MAIN",
            Self::Message => "MESSAGE",
        }
    }

    /// Parses the storage spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MAIN" => Some(Self::Main),
            "MESSAGE" => Some(Self::Message),
            _ => None,
        }
    }
}

/// A reply thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    /// Its id.
    pub id: ThreadId,
    /// The tenant.
    pub application_id: ApplicationId,
    /// The channel.
    pub channel_id: ChannelId,
    /// Kind.
    pub thread_type: ThreadType,
    /// The message replied to (MESSAGE threads).
    pub parent_message_id: Option<MessageId>,
    /// Creation time.
    pub created_time: Timestamp,
}

/// The content of a new message.
#[derive(Debug, Clone, PartialEq)]
pub enum NewContent {
    /// Text.
    Text(String),
    /// An external file.
    File(FileRef),
}

/// Input of the message-sending endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Text or file.
    pub content: NewContent,
    /// Sender; absent for system messages.
    pub user: Option<UserRef>,
    /// Gallery grouping tag.
    pub group_tag: Option<String>,
    /// Custom data.
    pub properties: Properties,
}

/// Message-writing rules that operators configure.
#[derive(Debug, Clone, Copy)]
pub struct MessageRules {
    /// Longest body in characters.
    pub max_body_chars: usize,
}

impl Default for MessageRules {
    fn default() -> Self {
        Self { max_body_chars: DEFAULT_MAX_BODY_CHARS }
    }
}

/// A notification to store with a message (recipient and reason).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationDraft {
    /// Recipient.
    pub user_id: UserId,
    /// Why.
    pub kind: crate::notification::NotificationKind,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

/// Everything a store writes for one new message, in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDraft {
    /// The message; its id is assigned by the store under the channel's write lock, so ids
    /// of one channel are committed in order and cursor readers never miss one.
    pub message: Message,
    /// Notifications to create with it.
    pub notifications: Vec<NotificationDraft>,
}

/// Which messages a list reads.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageScope {
    /// One thread (a channel's MAIN thread lists the channel's top-level messages).
    Thread(ThreadId),
    /// The whole application.
    Application,
    /// Sent by one user.
    SentBy(UserId),
    /// Not yet read by this user in the channels they belong to (and not sent by them).
    UnreadBy(UserId),
}

/// Filters of message lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageFilter {
    /// Only messages sent by this user.
    pub sender: Option<UserId>,
    /// Only messages whose text contains this (case-insensitive).
    pub query: Option<String>,
}

/// A reaction summary on a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ReactionSummary {
    /// The emoji.
    pub emoji: String,
    /// The users who reacted with it, oldest first.
    pub users: Vec<User>,
}

/// A read receipt: the user has read this message (and every older one in its channel).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadReceipt {
    /// Reader.
    pub user: User,
    /// When they marked it read.
    pub created_time: Timestamp,
}

fn validate_new_message(input: &NewMessage, rules: MessageRules) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    match &input.content {
        NewContent::Text(body) => {
            if body.trim().is_empty() {
                errors.push(FieldError::new(RESOURCE, "body", FieldErrorCode::MissingField, "body must not be empty"));
            } else if body.chars().count() > rules.max_body_chars {
                errors.push(FieldError::new(
                    RESOURCE,
                    "body",
                    FieldErrorCode::Invalid,
                    format!("body must be at most {} characters", rules.max_body_chars),
                ));
            }
        }
        NewContent::File(file) => {
            let ok_url = file.url.starts_with("https://") || file.url.starts_with("http://");
            if !ok_url || file.url.len() > 2048 {
                errors.push(FieldError::new(
                    RESOURCE,
                    "file.url",
                    FieldErrorCode::Invalid,
                    "file.url must be an http(s) URL of at most 2048 characters",
                ));
            }
            if file.name.trim().is_empty() || file.name.chars().count() > 255 {
                errors.push(FieldError::new(
                    RESOURCE,
                    "file.name",
                    FieldErrorCode::Invalid,
                    "file.name must be 1 to 255 characters",
                ));
            }
            if !file.content_type.contains('/') || file.content_type.len() > 255 {
                errors.push(FieldError::new(
                    RESOURCE,
                    "file.contentType",
                    FieldErrorCode::Invalid,
                    "file.contentType must be a MIME type",
                ));
            }
            if file.size < 0 {
                errors.push(FieldError::new(
                    RESOURCE,
                    "file.size",
                    FieldErrorCode::Invalid,
                    "file.size must not be negative",
                ));
            }
        }
    }
    if let Some(tag) = &input.group_tag {
        if tag.chars().count() > MAX_GROUP_TAG_CHARS {
            errors.push(FieldError::new(
                RESOURCE,
                "groupTag",
                FieldErrorCode::Invalid,
                format!("groupTag must be at most {MAX_GROUP_TAG_CHARS} characters"),
            ));
        }
    }
    if let Err(e) = validate_properties(RESOURCE, &input.properties) {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(errors))
    }
}

/// The stores a message use case needs.
#[derive(Clone, Copy)]
pub struct ChatStores<'a> {
    /// Users.
    pub users: &'a dyn UserStore,
    /// Channels.
    pub channels: &'a dyn ChannelStore,
    /// Messages.
    pub messages: &'a dyn MessageStore,
}

/// A user may post in a members-only channel only as a member (403 otherwise).
fn check_may_post(stores: ChatStores<'_>, channel: &Channel, user: &User) -> Result<(), DomainError> {
    let is_member = || Ok::<_, DomainError>(stores.channels.membership(channel.id, user.id)?.is_some());
    check_member_may_post(channel, user, is_member)
}

fn check_member_may_post(
    channel: &Channel,
    user: &User,
    is_member: impl FnOnce() -> Result<bool, DomainError>,
) -> Result<(), DomainError> {
    if channel.channel_type.is_members_only() && !is_member()? {
        return Err(DomainError::Forbidden(format!("user {} is not a member of channel {}", user.name, channel.id)));
    }
    Ok(())
}

/// Where a new message goes.
struct Destination<'a> {
    channel: &'a Channel,
    /// Every member of the channel, read with it.
    members: &'a [UserId],
    thread: &'a Thread,
    parent: Option<&'a Message>,
}

/// The channel with its members, or 404.
fn channel_with_members(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    id: ChannelId,
) -> Result<(Channel, Vec<UserId>), DomainError> {
    stores.channels.find_channel_with_member_ids(application_id, id)?.ok_or(DomainError::NotFound("channel"))
}

/// A message just stored, with its sender as read to post it: rendering it needs no read of
/// its own (issue 4).
#[derive(Debug, Clone)]
pub struct Posted {
    /// The stored message.
    pub message: Message,
    /// Who sent it (none for a system message).
    pub sender: Option<User>,
}

/// Posts a message to a thread: validates, analyses the text, plans notifications and stores
/// it all in one transaction.
fn post(
    stores: ChatStores<'_>,
    // The store draws message ids from its own generator now; callers' public signatures keep
    // `ids` until their callers are changed at merge.
    _ids: &IdGenerator,
    rules: MessageRules,
    to: &Destination<'_>,
    input: NewMessage,
    now: Timestamp,
) -> Result<Posted, DomainError> {
    let (channel, members, thread, parent) = (to.channel, to.members, to.thread, to.parent);
    validate_new_message(&input, rules)?;
    let sender = match &input.user {
        Some(reference) => Some(resolve_user(stores.users, channel.application_id, reference, "user")?),
        None => None,
    };
    if let Some(sender) = &sender {
        check_member_may_post(channel, sender, || Ok(members.contains(&sender.id)))?;
    }
    let (message_type, body, file) = match (input.content, sender.is_some()) {
        (NewContent::Text(body), true) => (MessageType::Text, Some(body), None),
        (NewContent::Text(body), false) => (MessageType::SystemText, Some(body), None),
        (NewContent::File(file), true) => (MessageType::File, None, Some(file)),
        (NewContent::File(file), false) => (MessageType::SystemFile, None, Some(file)),
    };
    let (mentions, links) = match &body {
        Some(body) => text::analyse(body, channel.application_id, stores.users, stores.channels)?,
        None => (Vec::new(), Vec::new()),
    };
    let message = Message {
        id: MessageId(0),
        application_id: channel.application_id,
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
        nested_level: parent.map_or(0, |p| p.nested_level + 1),
        replies_count: 0,
        parent_id: parent.map(|p| p.id),
        created_time: now,
        last_edited_time: None,
    };
    let notifications = plan_notifications(stores, channel, members, sender.as_ref(), &message, parent)?;
    let message = stores.messages.append_message(MessageDraft { message, notifications })?;
    Ok(Posted { message, sender })
}

/// `POST /v1/channels/{id}/messages`: a top-level message in the channel's MAIN thread.
pub fn send_channel_message(
    stores: ChatStores<'_>,
    ids: &IdGenerator,
    rules: MessageRules,
    application_id: ApplicationId,
    channel_id: ChannelId,
    input: NewMessage,
    now: Timestamp,
) -> Result<Posted, DomainError> {
    let (channel, members) = channel_with_members(stores, application_id, channel_id)?;
    // The MAIN thread is created with the channel and never changes: no need to read it.
    let thread = Thread {
        id: channel.main_thread_id,
        application_id,
        channel_id: channel.id,
        thread_type: ThreadType::Main,
        parent_message_id: None,
        created_time: channel.created_time,
    };
    let to = Destination { channel: &channel, members: &members, thread: &thread, parent: None };
    post(stores, ids, rules, &to, input, now)
}

/// `POST /v1/threads/{id}/messages`: a message in a thread (a reply when it is a MESSAGE thread).
pub fn send_thread_message(
    stores: ChatStores<'_>,
    ids: &IdGenerator,
    rules: MessageRules,
    application_id: ApplicationId,
    thread_id: ThreadId,
    input: NewMessage,
    now: Timestamp,
) -> Result<Posted, DomainError> {
    let thread = get_thread(stores.messages, application_id, thread_id)?;
    let (channel, members) = channel_with_members(stores, application_id, thread.channel_id)?;
    let parent = match thread.parent_message_id {
        Some(parent) => Some(get_message(stores.messages, application_id, parent)?),
        None => None,
    };
    let to = Destination { channel: &channel, members: &members, thread: &thread, parent: parent.as_ref() };
    post(stores, ids, rules, &to, input, now)
}

/// `POST /v1/messages/{id}/replies`: replies to a message, creating its thread on first reply.
pub fn reply_to_message(
    stores: ChatStores<'_>,
    ids: &IdGenerator,
    rules: MessageRules,
    application_id: ApplicationId,
    message_id: MessageId,
    input: NewMessage,
    now: Timestamp,
) -> Result<Posted, DomainError> {
    let parent = get_message(stores.messages, application_id, message_id)?;
    let (channel, members) = channel_with_members(stores, application_id, parent.channel_id)?;
    let thread = stores.messages.message_thread(&parent, ThreadId(ids.next_id()), now)?;
    let to = Destination { channel: &channel, members: &members, thread: &thread, parent: Some(&parent) };
    post(stores, ids, rules, &to, input, now)
}

/// The thread of replies to a message, created on first use.
pub fn replies_thread(
    stores: ChatStores<'_>,
    ids: &IdGenerator,
    application_id: ApplicationId,
    message_id: MessageId,
    now: Timestamp,
) -> Result<Thread, DomainError> {
    let parent = get_message(stores.messages, application_id, message_id)?;
    Ok(stores.messages.message_thread(&parent, ThreadId(ids.next_id()), now)?)
}

/// One message.
pub fn get_message(
    messages: &dyn MessageStore,
    application_id: ApplicationId,
    id: MessageId,
) -> Result<Message, DomainError> {
    messages.find_message(application_id, id)?.ok_or(DomainError::NotFound(RESOURCE))
}

/// One thread.
pub fn get_thread(
    messages: &dyn MessageStore,
    application_id: ApplicationId,
    id: ThreadId,
) -> Result<Thread, DomainError> {
    messages.find_thread(application_id, id)?.ok_or(DomainError::NotFound("thread"))
}

/// A cursor page of messages; `username` filters by sender (an unknown name matches nothing),
/// `query` by text.
pub fn list_messages(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    scope: &MessageScope,
    username: Option<&str>,
    query: Option<String>,
    request: &CursorRequest,
) -> Result<CursorPage<Message>, DomainError> {
    let sender = match username {
        None => None,
        Some(name) => match stores.users.find_user_by_name(application_id, name)? {
            Some(user) => Some(user.id),
            None => return Ok(CursorPage::from_probe(request, Vec::new(), |m: &Message| m.id.0, false)),
        },
    };
    let filter = MessageFilter { sender, query: query.filter(|q| !q.is_empty()) };
    Ok(stores.messages.list_messages(application_id, scope, &filter, request)?)
}

/// A message merge patch: body and properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessagePatch {
    /// New body (text messages only).
    pub body: Option<String>,
    /// Merge patch of the properties.
    pub properties: Option<serde_json::Value>,
}

/// Edits a message (`PATCH /v1/messages/{id}`); sets `lastEditedTime`.
pub fn patch_message(
    stores: ChatStores<'_>,
    rules: MessageRules,
    application_id: ApplicationId,
    id: MessageId,
    patch: MessagePatch,
    now: Timestamp,
) -> Result<Message, DomainError> {
    let mut message = get_message(stores.messages, application_id, id)?;
    let mut errors = Vec::new();
    if let Some(body) = patch.body {
        if message.body.is_none() {
            errors.push(FieldError::new(RESOURCE, "body", FieldErrorCode::Invalid, "only text messages have a body"));
        } else {
            match validate_new_message(
                &NewMessage {
                    content: NewContent::Text(body.clone()),
                    user: None,
                    group_tag: None,
                    properties: Properties::new(),
                },
                rules,
            ) {
                Ok(()) => {
                    let (mentions, links) = text::analyse(&body, application_id, stores.users, stores.channels)?;
                    message.body = Some(body);
                    message.mentions = mentions;
                    message.links = links;
                }
                Err(DomainError::Validation(mut e)) => errors.append(&mut e),
                Err(e) => return Err(e),
            }
        }
    }
    if let Some(properties) = &patch.properties {
        match merge_properties(&message.properties, properties)
            .and_then(|p| validate_properties(RESOURCE, &p).map(|()| p))
        {
            Ok(merged) => message.properties = merged,
            Err(mut e) => {
                e.resource = RESOURCE;
                errors.push(e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    message.last_edited_time = Some(now);
    stores.messages.update_message(&message)?;
    Ok(message)
}

/// Deletes a message with its replies, reactions and notifications; returns its thread.
pub fn delete_message(
    messages: &dyn MessageStore,
    application_id: ApplicationId,
    id: MessageId,
) -> Result<Thread, DomainError> {
    let message = get_message(messages, application_id, id)?;
    let thread = get_thread(messages, application_id, message.thread_id)?;
    messages.delete_message(&message)?;
    Ok(thread)
}

/// Deletes every message of the application (`DELETE /v1/messages`).
pub fn delete_all_messages(messages: &dyn MessageStore, application_id: ApplicationId) -> Result<u64, DomainError> {
    Ok(messages.delete_all_messages(application_id)?)
}

fn validate_emoji(emoji: &str) -> Result<(), DomainError> {
    let count = emoji.chars().count();
    if count == 0 || count > MAX_EMOJI_CHARS || emoji.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(DomainError::field(
            "reaction",
            "emoji",
            FieldErrorCode::Invalid,
            format!("emoji must be 1 to {MAX_EMOJI_CHARS} characters without spaces"),
        ));
    }
    Ok(())
}

/// Reacts to a message; returns the message.
pub fn add_reaction(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    id: MessageId,
    emoji: &str,
    user: &UserRef,
    now: Timestamp,
) -> Result<Message, DomainError> {
    validate_emoji(emoji)?;
    let message = get_message(stores.messages, application_id, id)?;
    let user = resolve_user(stores.users, application_id, user, "user")?;
    let channel = get_channel(stores.channels, application_id, message.channel_id)?;
    check_may_post(stores, &channel, &user)?;
    stores.messages.add_reaction(&message, emoji, user.id, now)?;
    Ok(message)
}

/// Removes a user's reaction; returns the message.
pub fn remove_reaction(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    id: MessageId,
    emoji: &str,
    user: &UserRef,
) -> Result<Message, DomainError> {
    let message = get_message(stores.messages, application_id, id)?;
    let user = resolve_user(stores.users, application_id, user, "user")?;
    if !stores.messages.remove_reaction(message.id, emoji, user.id)? {
        return Err(DomainError::NotFound("reaction"));
    }
    Ok(message)
}

/// Marks a message, and every older message in its channel, read by a user.
pub fn mark_read(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    id: MessageId,
    user: &UserRef,
    now: Timestamp,
) -> Result<ReadReceipt, DomainError> {
    let message = get_message(stores.messages, application_id, id)?;
    let user = resolve_user(stores.users, application_id, user, "user")?;
    let channel = get_channel(stores.channels, application_id, message.channel_id)?;
    if channel.channel_type.is_members_only() && stores.channels.membership(channel.id, user.id)?.is_none() {
        return Err(DomainError::Forbidden(format!("user {} is not a member of channel {}", user.name, channel.id)));
    }
    let created_time = stores.messages.mark_read(&message, user.id, now)?;
    Ok(ReadReceipt { user, created_time })
}

/// Who has read a message.
pub fn read_receipts(
    messages: &dyn MessageStore,
    application_id: ApplicationId,
    id: MessageId,
    page: &PageRequest<crate::user::UserSort>,
) -> Result<Page<ReadReceipt>, DomainError> {
    let message = get_message(messages, application_id, id)?;
    Ok(messages.read_receipts(&message, page)?)
}

/// Validates an ephemeral keystrokes event; returns the typing user.
pub fn keystrokes(
    stores: ChatStores<'_>,
    application_id: ApplicationId,
    channel: &Channel,
    keys: &str,
    user: &UserRef,
) -> Result<User, DomainError> {
    if keys.chars().count() > 1_000 {
        return Err(DomainError::field(
            "keystrokes",
            "keys",
            FieldErrorCode::Invalid,
            "keys must be at most 1000 characters",
        ));
    }
    let user = resolve_user(stores.users, application_id, user, "user")?;
    check_may_post(stores, channel, &user)?;
    Ok(user)
}

/// Validates a custom channel event (`POST /v1/channels/{id}/events`).
pub fn validate_event(event_type: &str, properties: &Properties) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    if event_type.trim().is_empty() || event_type.chars().count() > 100 || event_type.chars().any(char::is_control) {
        errors.push(FieldError::new("event", "type", FieldErrorCode::Invalid, "type must be 1 to 100 characters"));
    }
    if let Err(mut e) = validate_properties("event", properties) {
        e.resource = "event";
        errors.push(e);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str) -> NewMessage {
        NewMessage {
            content: NewContent::Text(body.into()),
            user: None,
            group_tag: None,
            properties: Properties::new(),
        }
    }

    #[test]
    fn bodies_are_bounded() {
        let rules = MessageRules { max_body_chars: 5 };
        assert!(validate_new_message(&text("hello"), rules).is_ok());
        assert!(validate_new_message(&text("hello!"), rules).is_err());
        assert!(validate_new_message(&text("  "), rules).is_err());
    }

    #[test]
    fn files_are_checked() {
        let file = FileRef {
            file_type: "EXTERNAL".into(),
            url: "ftp://x".into(),
            name: "a.png".into(),
            content_type: "image/png".into(),
            size: 1,
        };
        let input =
            NewMessage { content: NewContent::File(file), user: None, group_tag: None, properties: Properties::new() };
        assert!(validate_new_message(&input, MessageRules::default()).is_err());
    }

    #[test]
    fn emoji_are_checked() {
        assert!(validate_emoji("👍").is_ok());
        assert!(validate_emoji(":thumbsup:").is_ok());
        assert!(validate_emoji("").is_err());
        assert!(validate_emoji("a b").is_err());
    }
}
