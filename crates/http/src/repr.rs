//! API representations (camelCase, blank fields omitted) and their links. Domain types never
//! serialize themselves; these structs are the wire shapes of the OpenAPI spec.

pub mod application;
pub mod chat;
pub mod user;

use roost_domain::Timestamp;

/// ISO-8601 UTC with milliseconds and `Z`, as ChatKitty's examples (`2021-09-16T20:45:33.696Z`).
pub fn iso(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
