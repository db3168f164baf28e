//! Roost's OAuth 2.0 authorization server: the client-credentials grant (RFC 6749 §4.4),
//! bearer-token checks (RFC 6750), revocation (RFC 7009) and introspection (RFC 7662), client
//! provisioning, argon2id secret hashing and the token endpoint's rate limit.
//!
//! Framework-agnostic: the HTTP adapter hands in the `Authorization` header and the form
//! parameters and renders the results.
#![warn(missing_docs)]

pub mod cache;
pub mod error;
pub mod grant;
pub mod limit;
pub mod provision;
pub mod secret;
pub mod server;
pub mod token;

pub use cache::TokenCache;
pub use error::{BearerError, OAuthError, OAuthErrorCode};
pub use grant::{ClientCredentials, FormParams, TokenResponse, TokenSettings};
pub use limit::TokenRateLimiter;
pub use secret::SecretHasher;
pub use server::AuthServer;
