//! The model: entities, value objects and the rules their fields obey. Pure data and pure
//! functions: nothing here reads or writes storage (that is [`crate::ports`]) or runs a use case
//! (that is [`crate::service`]).

pub mod application;
pub mod channel;
pub mod cursor;
pub mod ids;
pub mod message;
pub mod notification;
pub mod page;
pub mod principal;
pub mod properties;
pub mod user;

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

/// Whether text holds a NUL character (U+0000). No stored text may: PostgreSQL's text type
/// cannot hold one (it answered 500) while SQLite stored it, so both engines refuse it alike
/// (400), and a filter holding one matches nothing.
pub fn has_nul(text: &str) -> bool {
    text.contains('\0')
}
