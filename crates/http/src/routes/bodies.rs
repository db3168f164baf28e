//! Request bodies shared by the chat routes, and their conversion to domain inputs.

use roost_domain::model::message::{FileRef, NewContent, NewMessage};
use roost_domain::model::user::UserRef;
use roost_domain::{DomainError, FieldError, FieldErrorCode, Properties, UserId};
use serde::Deserialize;

use crate::error::ApiError;

/// A user, by id (`ChatUserIdReference`) or by username (`ChatUserUsernameReference`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = ChatUserReference)]
#[serde(untagged)]
pub enum UserRefBody {
    /// `{"id": 1}`
    Id {
        /// The user id.
        #[serde(deserialize_with = "integer_or_digits")]
        #[schema(value_type = i64)]
        id: i64,
    },
    /// `{"username": "jane"}`
    Name {
        /// The username.
        username: String,
    },
    /// `"jane"` or `"42"`, as forms write a user (`members=jane,42`): an id when numeric, else a
    /// username, as the `?user=` parameter reads it.
    Written(String),
}

/// An integer, or a string of digits: forms carry every value as text, and an untagged enum
/// cannot let the form reader convert it by the field's type (`user[id]=42`).
fn integer_or_digits<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Integer(i64),
        Text(String),
    }
    match Written::deserialize(deserializer)? {
        Written::Integer(id) => Ok(id),
        Written::Text(text) => text.parse().map_err(|_| serde::de::Error::custom(format!("'{text}' is not an id"))),
    }
}

impl From<UserRefBody> for UserRef {
    fn from(body: UserRefBody) -> Self {
        match body {
            UserRefBody::Id { id } => Self::Id(UserId(id)),
            UserRefBody::Name { username } => Self::Name(username),
            UserRefBody::Written(written) => user_ref_param(&written),
        }
    }
}

/// A `?user=` query value: an id when numeric, else a username.
pub fn user_ref_param(value: &str) -> UserRef {
    value.parse::<i64>().map_or_else(|_| UserRef::Name(value.to_owned()), |id| UserRef::Id(UserId(id)))
}

/// A file hosted elsewhere (`CreateExternalFileProperties`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = CreateExternalFileProperties)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalFileBody {
    /// Where the file is.
    url: String,
    /// The file's name.
    name: String,
    /// Its media type.
    #[serde(alias = "content_type")]
    content_type: String,
    /// Its size in bytes.
    size: i64,
}

impl ExternalFileBody {
    /// Where the file is.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A new message (`CreateTextMessageResource` or `CreateFileMessageResource`): a TEXT message
/// has a `body`, a FILE message a `file`; `type` may be left out.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = CreateMessageResource)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMessageBody {
    /// `TEXT` or `FILE` (inferred from `body` or `file` when left out).
    #[serde(rename = "type")]
    message_type: Option<String>,
    /// The text of a TEXT message.
    body: Option<String>,
    /// The file of a FILE message.
    file: Option<ExternalFileBody>,
    /// A tag grouping messages, chosen by the application.
    #[serde(alias = "group_tag")]
    group_tag: Option<String>,
    /// Custom data.
    #[schema(value_type = Option<Object>)]
    properties: Option<Properties>,
    /// The sender, when the application's back end sends on a user's behalf.
    user: Option<UserRefBody>,
}

impl CreateMessageBody {
    /// The domain input: `type` TEXT needs `body`, FILE needs `file`.
    pub fn into_new_message(self) -> Result<NewMessage, ApiError> {
        let missing = |field: &str, why: &str| -> ApiError {
            DomainError::Validation(vec![FieldError::new("message", field, FieldErrorCode::MissingField, why)]).into()
        };
        let content = match (self.message_type.as_deref(), self.body, self.file) {
            (Some("TEXT") | None, Some(body), None) => NewContent::Text(body),
            (Some("TEXT"), None, _) => return Err(missing("body", "a TEXT message needs a body")),
            (Some("FILE") | None, None, Some(file)) => NewContent::File(FileRef {
                file_type: "EXTERNAL".into(),
                url: file.url,
                name: file.name,
                content_type: file.content_type,
                size: file.size,
                key: None,
            }),
            (Some("FILE"), _, None) => return Err(missing("file", "a FILE message needs a file")),
            (None, None, None) => return Err(missing("type", "type (TEXT or FILE) with a body or a file is required")),
            (Some(other), _, _) if other != "TEXT" && other != "FILE" => {
                return Err(DomainError::field(
                    "message",
                    "type",
                    FieldErrorCode::Invalid,
                    format!("type must be TEXT or FILE, got '{other}'"),
                )
                .into())
            }
            _ => {
                return Err(DomainError::field(
                    "message",
                    "body",
                    FieldErrorCode::Invalid,
                    "send either a body (TEXT) or a file (FILE)",
                )
                .into())
            }
        };
        Ok(NewMessage {
            content,
            user: self.user.map(UserRef::from),
            group_tag: self.group_tag,
            properties: self.properties.unwrap_or_default(),
        })
    }
}

/// A read receipt: `{ "user": … }`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CreateMessageReadReceiptResource)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    /// The user (required with an application's token; a user session acts as itself).
    pub user: Option<UserRefBody>,
}

/// A typing indicator sent on a user's behalf (`CreateDelegatedReplyThreadKeystrokesResource`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CreateDelegatedReplyThreadKeystrokesResource)]
#[serde(deny_unknown_fields)]
pub struct KeystrokesBody {
    /// What the user typed.
    pub keys: String,
    /// Who typed (required with an application's token; a user session types as itself).
    pub user: Option<UserRefBody>,
}

/// A reaction: `{"emoji": "👍", "user": {…}}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CreateMessageReactionResource)]
#[serde(deny_unknown_fields)]
pub struct ReactionBody {
    /// The emoji character (or alias).
    pub emoji: String,
    /// Who reacts (required with an application's token; a user session reacts as itself).
    pub user: Option<UserRefBody>,
}
