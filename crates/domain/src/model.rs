//! The model: entities, value objects and the rules their fields obey. Pure data and pure
//! functions: nothing here reads or writes storage (that is [`crate::ports`]) or runs a use case
//! (that is [`crate::service`]).

/// An enum with one wire spelling per variant: the enum, `ALL`, `as_str` and `parse` from one
/// list, so a spelling is written once (event types, job types and states). The caller gives
/// the derives.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $wire:literal,)* }) => {
        $(#[$meta])*
        pub enum $name {
            $(#[doc = $wire] $(#[$variant_meta])* $variant,)*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$(Self::$variant,)*];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                }
            }

            /// Parses the wire spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

pub mod account;
pub mod application;
pub mod channel;
pub mod cursor;
pub mod event;
pub mod file;
pub mod idempotency;
pub mod ids;
pub mod job;
pub mod message;
pub mod notification;
pub mod page;
pub mod presence;
pub mod principal;
pub mod properties;
pub mod safety;
pub mod user;
pub mod webhook;

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

/// Whether a character is invisible or reorders text: zero-width characters, bidirectional
/// embeddings, overrides and isolates (Unicode TR9), and the like. In a name they let one user
/// or channel pass for another in a UI (`jane` and `ja\u{200B}ne`, or a right-to-left override
/// showing `enaj` as `jane`), so names refuse them; message bodies keep them (real text uses
/// them, e.g. ZWJ emoji sequences and mixed-direction sentences).
pub fn is_invisible_or_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                    // soft hyphen
            | '\u{034F}'              // combining grapheme joiner
            | '\u{061C}'              // Arabic letter mark
            | '\u{115F}' | '\u{1160}' // Hangul fillers
            | '\u{17B4}' | '\u{17B5}'
            | '\u{180E}'              // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space, non-joiner, joiner; LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, bidi isolates
            | '\u{3164}'              // Hangul filler
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}'              // zero-width no-break space
            | '\u{FFA0}'              // halfwidth Hangul filler
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
    ) || c.is_control()
}

/// Whether text holds a NUL character (U+0000). No stored text may: PostgreSQL's text type
/// cannot hold one (it answered 500) while SQLite stored it, so both engines refuse it alike
/// (400), and a filter holding one matches nothing.
pub fn has_nul(text: &str) -> bool {
    text.contains('\0')
}
