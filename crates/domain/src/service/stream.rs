//! A user's message stream (the Kinglet seed): its own messages and those of its channels,
//! newest first; the threads it can see; and direct messages by user name.

use super::{Service, View};
use crate::error::{DomainError, FieldErrorCode};
use crate::model::channel::{ChannelType, NewChannel};
use crate::model::message::{Message, MessageFilter, MessageScope, NewMessage};
use crate::model::page::Page;
use crate::model::principal::Principal;
use crate::model::user::UserRef;
use crate::model::{has_nul, Timestamp};

/// Most recipients a direct message names (a DIRECT channel has at most this many others).
const MAX_RECIPIENTS: usize = crate::model::channel::MAX_DIRECT_MEMBERS - 1;

impl Service {
    /// `GET /v1/me/messages?page=N`: a numbered page of the session user's stream (its own
    /// messages and those of every channel it belongs to), newest first, from `since` if given.
    pub fn stream_page(
        &self,
        principal: &Principal,
        since: Option<Timestamp>,
        number: u32,
        size: u32,
    ) -> Result<View<Page<Message>>, DomainError> {
        let (application_id, own, _) = principal.own_account()?;
        let filter = MessageFilter { since, ..MessageFilter::default() };
        let found = self.ports.messages.list_messages_numbered(
            application_id,
            &MessageScope::VisibleTo(own),
            &filter,
            number,
            size,
        )?;
        let related = super::related::related(self.chat(), application_id, &[], &found.items, &[])?;
        Ok(View { value: found, related })
    }

    /// `POST /v1/me/messages {to, body}`: a message from the session user to the users named,
    /// in their DIRECT channel (created on first use; a recipient who blocked the user refuses
    /// it).
    pub fn send_direct(
        &self,
        principal: &Principal,
        to: &[String],
        input: NewMessage,
    ) -> Result<View<Message>, DomainError> {
        let (application_id, own, _) = principal.own_account()?;
        if to.is_empty() || to.len() > MAX_RECIPIENTS {
            return Err(DomainError::field(
                "message",
                "to",
                FieldErrorCode::Invalid,
                format!("name 1 to {MAX_RECIPIENTS} recipients by user name"),
            ));
        }
        let mut members = vec![UserRef::Id(own)];
        for (i, name) in to.iter().enumerate() {
            if has_nul(name) {
                return Err(DomainError::field(
                    "message",
                    &format!("to[{i}]"),
                    FieldErrorCode::Invalid,
                    "no such user",
                ));
            }
            let user = self.resolve_user(application_id, &UserRef::Name(name.clone()), &format!("to[{i}]"))?;
            if user.id == own {
                return Err(DomainError::field(
                    "message",
                    &format!("to[{i}]"),
                    FieldErrorCode::Invalid,
                    "a direct message goes to someone else",
                ));
            }
            members.push(UserRef::Id(user.id));
        }
        let channel = NewChannel {
            channel_type: ChannelType::Direct,
            creator: Some(UserRef::Id(own)),
            members,
            name: None,
            display_name: None,
            properties: crate::model::Properties::default(),
        };
        let channel = self.create_channel(principal, channel)?;
        self.send_channel_message(principal, channel.value.id, input)
    }
}
