//! Errors of the token endpoint (RFC 6749 §5.2) and of bearer checks (RFC 6750 §3.1).

use roost_domain::DomainError;

/// RFC 6749 §5.2 error codes (plus RFC 7009's `unsupported_token_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// Missing or repeated parameter, or otherwise malformed.
    InvalidRequest,
    /// Client authentication failed.
    InvalidClient,
    /// The grant is invalid.
    InvalidGrant,
    /// This client may not use this grant.
    UnauthorizedClient,
    /// Only `client_credentials` is supported.
    UnsupportedGrantType,
    /// The requested scope exceeds what the client may get.
    InvalidScope,
}

impl OAuthErrorCode {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

/// A token-endpoint failure.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// A §5.2 error answered to the client.
    #[error("{}: {description}", code.as_str())]
    Protocol {
        /// The code.
        code: OAuthErrorCode,
        /// `error_description`.
        description: String,
        /// The client authenticated (or tried to) with HTTP Basic: a 401 must then carry a
        /// `WWW-Authenticate: Basic` challenge (RFC 6749 §5.2).
        basic_auth: bool,
    },
    /// Too many attempts; retry after this many seconds.
    #[error("too many token requests")]
    RateLimited {
        /// Seconds until the next attempt may succeed.
        retry_after_secs: u64,
    },
    /// Too many secret checks are waiting already; retry after this many seconds.
    #[error("too many token requests waiting for a secret check")]
    Overloaded {
        /// Seconds to wait before retrying.
        retry_after_secs: u64,
    },
    /// Storage or hashing failed; logged, never shown.
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl OAuthError {
    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Self::Protocol { code: OAuthErrorCode::InvalidRequest, description: description.into(), basic_auth: false }
    }

    pub(crate) fn invalid_client(basic_auth: bool) -> Self {
        Self::Protocol {
            code: OAuthErrorCode::InvalidClient,
            description: "Client authentication failed".into(),
            basic_auth,
        }
    }
}

impl From<roost_domain::StoreError> for OAuthError {
    fn from(e: roost_domain::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

/// Why a bearer token was not accepted (RFC 6750 §3.1).
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// No credentials at all: 401 with a bare `Bearer` challenge, no error code.
    #[error("Full authentication is required to access this resource")]
    Missing,
    /// Malformed, unknown, expired or revoked: 401 `invalid_token`.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// An `Authorization` header that is not a bearer token: 400 `invalid_request`.
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Internal(#[from] roost_domain::StoreError),
}
