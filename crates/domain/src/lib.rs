//! Roost's domain model: entities, value objects, rules, storage ports and use cases.
//!
//! This crate performs no IO. Storage is reached through the port traits in [`store`], which
//! `roost-persistence` implements; HTTP, hashing and tokens live in the outer crates
//! (DESIGN.md, "Layers").
#![warn(missing_docs)]

pub mod application;
pub mod channel;
pub mod cursor;
pub mod error;
pub mod ids;
pub mod message;
pub mod notification;
pub mod page;
pub mod store;
pub mod user;
pub mod view;

pub use error::{DomainError, FieldError, FieldErrorCode, StoreError};
pub use ids::{ApplicationId, ChannelId, IdGenerator, MessageId, NotificationId, OrganizationId, ThreadId, UserId};

/// Free-form custom data attached to applications, users, channels and messages.
pub type Properties = serde_json::Map<String, serde_json::Value>;

/// A point in time; every timestamp in Roost is UTC (DESIGN.md, "Storage").
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The current time, truncated to milliseconds: both stores then keep exactly the instant the
/// API shows (PostgreSQL keeps microseconds, SQLite text keeps whatever it is given).
pub fn now() -> Timestamp {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(3)
}
