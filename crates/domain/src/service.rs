//! The use cases, as methods of one [`Service`] value that holds the ports, the node's id
//! generator and the message rules.
//!
//! Each use case takes the [`Principal`](crate::Principal) it runs for and decides there what that principal may
//! do, then returns what a response renders: the record or page, with the [`Related`] records
//! it points at when it has any ([`View`]). An adapter (HTTP, a CLI, a program embedding this
//! crate) therefore makes one call per request. Calls are synchronous and may block on storage:
//! async callers run them on a thread of their own.

mod access;
mod account_security;
mod accounts;
mod applications;
mod bulk;
mod channels;
mod events;
mod export;
mod files;
mod idempotency;
mod interactions;
mod jobs;
mod message_import;
mod messages;
mod notify;
mod related;
mod safety;
mod stream;
mod text;
mod users;
mod webhooks;

use std::sync::Arc;

pub use crate::ports::NoLiveFeed;
pub use account_security::{MailToken, PasswordChange, PasswordChanged};
pub use accounts::{IssuedSecret, OwnAccount, SignUpContext};
pub use events::{StreamStart, LOG_BATCH};
pub use export::{ExportFile, ExportPage};
pub use files::NewPicture;
pub use interactions::Keystrokes;
pub use messages::{MessageListing, MessageQuery};
pub use related::Related;

use crate::error::DomainError;
use crate::model::ids::IdGenerator;
use crate::model::message::MessageRules;

use crate::ports::{ChannelStore, MessageStore, Ports, UserStore};

/// A result with the related records rendering it needs (senders, mentioned users and
/// channels, reactions, direct channel members, last messages), read in a few batched reads.
#[derive(Debug, Clone)]
pub struct View<T> {
    /// The record or page.
    pub value: T,
    /// What it points at.
    pub related: Related,
}

/// Roost's use cases over a set of storage ports.
#[derive(Clone)]
pub struct Service {
    ports: Ports,
    ids: Arc<IdGenerator>,
    rules: MessageRules,
}

impl Service {
    /// The use cases over `ports`, drawing new ids from `ids` (the node's one generator, the
    /// same one the store draws message ids from) and writing messages by `rules`.
    pub fn new(ports: Ports, ids: Arc<IdGenerator>, rules: MessageRules) -> Self {
        Self { ports, ids, rules }
    }

    fn chat(&self) -> ChatStores<'_> {
        ChatStores {
            users: self.ports.users.as_ref(),
            channels: self.ports.channels.as_ref(),
            messages: self.ports.messages.as_ref(),
        }
    }

    fn next_id(&self) -> i64 {
        self.ids.next_id()
    }
}

/// Most ids one bulk request may name (Kayako's `ids=` convention).
pub const MAX_BULK_IDS: usize = 100;

/// The ids of a bulk request, each once, in the order given: at least one, at most
/// [`MAX_BULK_IDS`].
fn bulk_ids<T: Copy + PartialEq>(ids: &[T]) -> Result<Vec<T>, DomainError> {
    let mut unique: Vec<T> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.is_empty() {
        return Err(DomainError::InvalidArgument("'ids' must name at least one id".into()));
    }
    if unique.len() > MAX_BULK_IDS {
        return Err(DomainError::InvalidArgument(format!(
            "'ids' names {} ids; at most {MAX_BULK_IDS} are allowed in one request",
            unique.len()
        )));
    }
    Ok(unique)
}

/// A client's precondition on a resource's current representation (RFC 9110 §13.1.1
/// `If-Match`, §13.1.4 `If-Unmodified-Since`), as the adapter evaluates it: the use case calls
/// it between reading the resource and writing it, and the write itself matches only the
/// revision read, so of two writers that hold the same representation exactly one succeeds.
/// `None`: the request is unconditional.
pub type Guard<'a, T> = Option<&'a dyn Fn(&T) -> bool>;

/// Refuses with [`DomainError::PreconditionFailed`] when `guard` rejects `current`.
fn check<T>(guard: Guard<'_, T>, current: &T) -> Result<(), DomainError> {
    match guard {
        Some(holds) if !holds(current) => Err(DomainError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// A write that matched no row because the resource changed after it was read: for a
/// conditional request, its precondition no longer holds (RFC 9110 §13.1.1).
fn stale<T>(guard: Guard<'_, T>, error: crate::error::StoreError) -> DomainError {
    match (guard, error) {
        (Some(_), crate::error::StoreError::Conflict(_)) => DomainError::PreconditionFailed,
        (_, error) => error.into(),
    }
}

/// The stores the chat use cases read together.
#[derive(Clone, Copy)]
struct ChatStores<'a> {
    users: &'a dyn UserStore,
    channels: &'a dyn ChannelStore,
    messages: &'a dyn MessageStore,
}
