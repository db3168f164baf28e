//! Roost's storage: diesel over SQLite and PostgreSQL through one `MultiConnection`, one
//! `schema.rs`, and r2d2 pools. It implements the storage ports of `roost-domain`.
//!
//! Rules (style-anchors §10): the backend is chosen by the URL scheme, never by trial; column
//! types stay inside what both engines support (BigInt, Text, Bool, Timestamp); timestamps are
//! set in Rust as UTC; SQLite write transactions start with `BEGIN IMMEDIATE`; every diesel
//! error is converted in one place ([`store::map_diesel_error`]).
//!
//! Adding a query: read `docs/adding-a-query.md` (limits and offsets that keep statements
//! prepared on each engine, when to wrap a statement in `KeepPrepared`, `on_engine!`, the group
//! commit); `clippy.toml` refuses diesel's plain `limit`, `offset` and `first`.

pub mod backup;
mod checkpoint;
pub mod conn;
pub mod migrate;
mod prepared;
mod rows;
pub mod schema;
pub mod store;
#[cfg(feature = "test-support")]
#[allow(clippy::panic, reason = "test support: a database that cannot be set up must fail the test")]
pub mod testing;

pub use conn::{AnyConnection, DatabaseKind, DatabaseUrl, PoolSettings};
pub use store::DieselStore;
