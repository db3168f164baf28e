//! Idempotent requests (the IETF httpapi draft's `Idempotency-Key`): the first answer to a key is
//! kept for a day per application and replayed to a repeat of the same request, so a client
//! that lost an answer can retry a `POST` without doing it twice.

use chrono::Duration;

use super::Timestamp;
use crate::error::DomainError;

/// How long an answer is kept for its key.
pub const RETENTION: Duration = Duration::hours(24);

/// A request still marked running after this long is taken to have died with its node (a crash
/// or `kill -9` between claiming the key and recording the answer): its key may be claimed again.
pub const ABANDONED_AFTER: Duration = Duration::minutes(2);

/// Longest key accepted.
pub const MAX_KEY_LENGTH: usize = 255;

/// An answer as it was sent, to be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers that describe the body.
    pub content_type: Option<String>,
    /// Its entity tag.
    pub etag: Option<String>,
    /// Where a created resource is.
    pub location: Option<String>,
    /// The body as sent.
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free (or its record expired, or its request was abandoned): run the request.
    /// The time is the claim's: it owns the record, so only this claim records or frees it.
    Started(Timestamp),
    /// The same request is running under this key (on this node or another).
    Running,
    /// The same request ran: replay its answer.
    Done(RecordedResponse),
    /// The key was used for a different request (another method, path or body).
    OtherRequest,
}

/// A claim on a key: what the store writes when the key is free.
#[derive(Debug, Clone)]
pub struct KeyClaim<'a> {
    /// The key as the client sent it.
    pub key: &'a str,
    /// A digest of the request (method, path, query, content type, body).
    pub fingerprint: &'a str,
    /// Now.
    pub now: Timestamp,
}

impl KeyClaim<'_> {
    /// When the record stops being kept.
    pub fn expires(&self) -> Timestamp {
        self.now + RETENTION
    }

    /// A running record claimed before this was abandoned.
    pub fn abandoned_before(&self) -> Timestamp {
        self.now - ABANDONED_AFTER
    }
}

/// A key is 1 to 255 visible ASCII characters (the draft: an opaque string; a UUID is usual).
pub fn validate_key(key: &str) -> Result<(), DomainError> {
    if key.is_empty() || key.len() > MAX_KEY_LENGTH || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::InvalidArgument(format!(
            "the Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_and_bounded() {
        assert!(validate_key("8e03978e-40d5-43e8-bc93-6894a57f9324").is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key("with space").is_err());
        assert!(validate_key("é").is_err());
        assert!(validate_key(&"k".repeat(256)).is_err());
        assert!(validate_key(&"k".repeat(255)).is_ok());
    }
}
