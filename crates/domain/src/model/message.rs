//! Messages, threads, reactions and read receipts, and the rules their fields obey.

pub mod text;

use super::file::StoredFile;
use super::ids::{ApplicationId, ChannelId, MessageId, ThreadId, UserId};
use super::notification::NotificationDraft;
use super::properties::{patch_properties, validate_properties};
use super::user::{User, UserRef};
use super::{Properties, Timestamp};
use crate::error::{DomainError, FieldError, FieldErrorCode};

pub use text::{Mention, MentionTarget, TextLink};

pub(crate) const RESOURCE: &str = "message";
/// Default longest message body, in characters.
pub const DEFAULT_MAX_BODY_CHARS: usize = 10_000;
/// Longest group tag.
pub const MAX_GROUP_TAG_CHARS: usize = 255;
/// Longest emoji accepted in a reaction.
pub const MAX_EMOJI_CHARS: usize = 32;

/// Message kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// A hosted file's key in the file store (its `url` is made from it when rendered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl FileRef {
    /// A file uploaded to the file store (`HOSTED`).
    pub fn hosted(file: &StoredFile) -> Self {
        Self {
            file_type: "HOSTED".into(),
            url: String::new(),
            name: file.name.clone(),
            content_type: file.content_type.clone(),
            size: i64::try_from(file.size).unwrap_or(i64::MAX),
            key: Some(file.key.clone()),
        }
    }
}

/// A message.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// Raised by every direct change: a write made from a stale read matches no row.
    pub version: i64,
    /// The last change of anything its representation shows; `None` until the first.
    pub updated_time: Option<Timestamp>,
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
    /// A file uploaded to the file store (not yet recorded: it is recorded with the message).
    Hosted(StoredFile),
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

/// Everything a store writes for one new message, in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDraft {
    /// The message; its id is assigned by the store under the channel's write lock, so ids
    /// of one channel are committed in order and cursor readers never miss one.
    pub message: Message,
    /// Notifications to create with it.
    pub notifications: Vec<NotificationDraft>,
    /// The hosted file it carries, recorded in the same transaction.
    pub file: Option<StoredFile>,
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
    /// A user's stream: the messages it sent, and those of every channel it belongs to.
    VisibleTo(UserId),
    /// Top-level messages with at least one reply, in the channels this user may see (public
    /// ones, and those it belongs to).
    ThreadsVisibleTo(UserId),
}

/// Filters of message lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageFilter {
    /// Only messages sent by this user.
    pub sender: Option<UserId>,
    /// Only messages whose text contains this (case-insensitive).
    pub query: Option<String>,
    /// Only messages created at or after this time.
    pub since: Option<crate::model::Timestamp>,
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

/// How many messages of a channel one of its members has not read (messages after the member's
/// read mark there, not sent by the member): one row of
/// `GET /v1/application/message-read-receipt-summaries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadSummary {
    /// The channel.
    pub channel_id: ChannelId,
    /// The member.
    pub user_id: UserId,
    /// Unread messages.
    pub count: u64,
}

pub(crate) fn validate_new_message(input: &NewMessage, rules: MessageRules) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    let mut texts: Vec<(&str, &str)> = match &input.content {
        NewContent::Text(body) => vec![("body", body)],
        NewContent::File(file) => {
            vec![("file.url", &file.url), ("file.name", &file.name), ("file.contentType", &file.content_type)]
        }
        // Its name was sanitised and its type read from the upload.
        NewContent::Hosted(_) => Vec::new(),
    };
    texts.extend(input.group_tag.as_deref().map(|tag| ("groupTag", tag)));
    for (field, text) in texts {
        if super::has_nul(text) {
            errors.push(FieldError::new(
                RESOURCE,
                field,
                FieldErrorCode::Invalid,
                format!("{field} must not contain NUL characters"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
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
        NewContent::Hosted(_) => {}
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

/// A message just stored, with its sender as read to post it: rendering it needs no read of
/// its own (issue 4).
#[derive(Debug, Clone)]
pub struct Posted {
    /// The stored message.
    pub message: Message,
    /// Who sent it (none for a system message).
    pub sender: Option<User>,
}

/// A message merge patch: body and properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessagePatch {
    /// New body (text messages only).
    pub body: Option<String>,
    /// Merge patch of the properties.
    pub properties: Option<serde_json::Value>,
}

pub(crate) fn validate_emoji(emoji: &str) -> Result<(), DomainError> {
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

impl MessagePatch {
    /// Splits an RFC 7396 merge patch (`body`, `properties`); any other member is refused.
    pub fn from_merge_patch(body: serde_json::Value) -> Result<Self, DomainError> {
        let (body, properties) = super::channel::text_and_properties(body, RESOURCE, &["body"])?;
        Ok(Self { body, properties })
    }
}

impl Message {
    /// Applies a patch to the properties, and to the body of a text message whose new text
    /// `analysed` found the mentions and links of; sets `lastEditedTime`. Nothing changes when a
    /// field is invalid.
    pub fn apply(
        &mut self,
        patch: &MessagePatch,
        analysed: Option<(Vec<Mention>, Vec<TextLink>)>,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let mut patched = self.clone();
        let mut errors = Vec::new();
        if let Some(body) = &patch.body {
            if patched.body.is_none() {
                errors.push(FieldError::new(
                    RESOURCE,
                    "body",
                    FieldErrorCode::Invalid,
                    "only text messages have a body",
                ));
            } else {
                patched.body = Some(body.clone());
                let (mentions, links) = analysed.unwrap_or_default();
                patched.mentions = mentions;
                patched.links = links;
            }
        }
        if let Some(properties) = &patch.properties {
            match patch_properties(RESOURCE, &patched.properties, properties) {
                Ok(merged) => patched.properties = merged,
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        patched.last_edited_time = Some(now);
        *self = patched;
        Ok(())
    }
}

/// Validates the text of an edited body (the rules of a new text message's body).
pub(crate) fn validate_body(body: &str, rules: MessageRules) -> Result<(), DomainError> {
    let input = NewMessage {
        content: NewContent::Text(body.to_owned()),
        user: None,
        group_tag: None,
        properties: Properties::new(),
    };
    validate_new_message(&input, rules)
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
            key: None,
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
