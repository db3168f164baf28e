//! Domain and storage errors. No status codes here: `roost-http` owns the one table that maps
//! these to HTTP (DESIGN.md, "Errors").

use std::fmt;

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// One or more fields of the input are missing or invalid.
    #[error("validation failed: {}", summarize(.0))]
    Validation(Vec<FieldError>),
    /// The resource does not exist, or belongs to another application (never distinguished).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// One resource of a bulk request does not exist, or belongs to another application.
    #[error("{resource} {id} not found")]
    NotFoundId {
        /// The kind, e.g. `user`.
        resource: &'static str,
        /// The id that was not found.
        id: i64,
    },
    /// The principal may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A login's user name or password is wrong (never saying which, nor whether the user
    /// exists).
    #[error("the user name or password is wrong")]
    InvalidCredentials,
    /// Too many attempts of something guarded (logins of a locked account): the client waits
    /// `retry_after_secs` before it tries again.
    #[error("{why}")]
    TooManyAttempts {
        /// Seconds to wait.
        retry_after_secs: u64,
        /// What was refused and why, for the user.
        why: String,
    },
    /// The client's precondition (`If-Match`, `If-Unmodified-Since`) does not hold: the
    /// resource changed since the client read it (RFC 9110 §13.1).
    #[error("the resource was modified since the precondition's representation")]
    PreconditionFailed,
    /// A request argument (not a body field) is out of range, e.g. a page size over the limit.
    #[error("{0}")]
    InvalidArgument(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    /// A single field error.
    pub fn field(resource: &'static str, field: &str, code: FieldErrorCode, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(resource, field, code, message)])
    }
}

fn summarize(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// One invalid field, as in ChatKitty's "client errors": resource, field and a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The resource the field belongs to, e.g. `user`.
    pub resource: &'static str,
    /// The field name as clients spell it, e.g. `displayName`.
    pub field: String,
    /// What is wrong.
    pub code: FieldErrorCode,
    /// A sentence for people.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(resource: &'static str, field: &str, code: FieldErrorCode, message: impl Into<String>) -> Self {
        Self { resource, field: field.to_owned(), code, message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.resource, self.field, self.message)
    }
}

/// Validation error codes (the GitHub-style vocabulary the ChatKitty overview describes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorCode {
    /// A required field is absent or null.
    MissingField,
    /// The value is of the wrong type or out of its allowed range.
    Invalid,
    /// A unique value is already taken.
    AlreadyExists,
}

impl FieldErrorCode {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingField => "missing_field",
            Self::Invalid => "invalid",
            Self::AlreadyExists => "already_exists",
        }
    }
}

/// Failures of a storage port.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint was violated (the string says which, for logs).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store cannot be reached or is exhausted (pool timeout, connection refused).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the cause is logged, never shown to clients.
    #[error("store failure: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}
