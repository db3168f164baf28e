//! What users do to keep a conversation safe: blocking another user, and reporting a message
//! to the application's moderators.

use super::user::User;
use super::Timestamp;
use crate::error::{DomainError, FieldErrorCode};

/// Longest reason a report may give, in characters.
pub const MAX_REASON_CHARS: usize = 1_000;

/// A user someone blocked (`GET /v1/me/blocks`).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The blocked user.
    pub user: User,
    /// Since when.
    pub created_time: Timestamp,
}

/// A report's reason: said, at most [`MAX_REASON_CHARS`], without NUL.
pub fn validate_reason(reason: &str) -> Result<(), DomainError> {
    let invalid = |why: &str| DomainError::field("report", "reason", FieldErrorCode::Invalid, why);
    if reason.trim().is_empty() {
        return Err(DomainError::field("report", "reason", FieldErrorCode::MissingField, "say why"));
    }
    if reason.chars().count() > MAX_REASON_CHARS || reason.contains('\0') {
        return Err(invalid("a reason has at most 1000 characters and no NUL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_said_briefly() {
        assert!(validate_reason("spam").is_ok());
        assert!(validate_reason("  ").is_err());
        assert!(validate_reason(&"x".repeat(1_001)).is_err());
        assert!(validate_reason("a\0b").is_err());
    }
}
