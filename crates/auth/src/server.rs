//! The authorization server as one value: the credential store, the secret hasher, the token
//! settings and the cache of recently checked tokens. Adapters hold one and call it; none of
//! them touches the credential store itself.

use std::sync::Arc;

use roost_domain::model::application::OAuthClient;
use roost_domain::ports::CredentialStore;
use roost_domain::{Principal, Timestamp};

use crate::cache::TokenCache;
use crate::error::{BearerError, OAuthError};
use crate::grant::{self, ClientCredentials, FormParams, Introspection, TokenResponse, TokenSettings};
use crate::secret::SecretHasher;

/// Tokens remembered per node: ~150 bytes each.
const TOKEN_CACHE_ENTRIES: usize = 10_000;

/// Roost's OAuth 2.0 authorization server.
pub struct AuthServer {
    credentials: Arc<dyn CredentialStore>,
    hasher: Arc<SecretHasher>,
    tokens: TokenCache,
    settings: TokenSettings,
}

impl AuthServer {
    /// A server over `credentials`, hashing with `hasher`.
    pub fn new(credentials: Arc<dyn CredentialStore>, hasher: Arc<SecretHasher>, settings: TokenSettings) -> Self {
        Self { credentials, tokens: TokenCache::new(TOKEN_CACHE_ENTRIES, settings.cache_for), hasher, settings }
    }

    /// The secret hasher (provisioning hashes new clients' secrets with it).
    pub fn hasher(&self) -> &Arc<SecretHasher> {
        &self.hasher
    }

    /// The principal of an `Authorization` header whose token was checked recently, without
    /// storage (RFC 6750 §2.1); `Ok(None)` when the token is well-formed but must be looked up
    /// with [`Self::authenticate`].
    pub fn authenticate_cached(
        &self,
        authorization: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Principal>, BearerError> {
        grant::authenticate_cached(&self.tokens, authorization, now)
    }

    /// The principal of an `Authorization` header, looked up in storage when not cached.
    pub fn authenticate(&self, authorization: Option<&str>, now: Timestamp) -> Result<Principal, BearerError> {
        grant::authenticate_bearer(self.credentials.as_ref(), &self.tokens, authorization, now)
    }

    /// A single-use stream ticket standing for the header's token, valid `ttl` (browsers cannot
    /// set headers on `EventSource` or `WebSocket`, and long-lived tokens never go in URLs).
    pub fn issue_ticket(
        &self,
        authorization: Option<&str>,
        ttl: chrono::Duration,
        now: Timestamp,
    ) -> Result<String, BearerError> {
        let bearer = grant::bearer_token(authorization)?;
        let session = bearer.starts_with(crate::token::SESSION_TOKEN_PREFIX);
        let ticket = crate::token::random_token(crate::token::TICKET_PREFIX);
        let ticket_hash = crate::token::hash_token(&ticket);
        self.credentials.insert_ticket(&ticket_hash, &crate::token::hash_token(bearer), session, now + ttl)?;
        Ok(ticket)
    }

    /// Uses up a stream ticket: the principal of the token it stands for, checked again now.
    pub fn redeem_ticket(&self, ticket: &str, now: Timestamp) -> Result<Principal, BearerError> {
        let invalid = BearerError::InvalidToken("The ticket is invalid, used or expired");
        if !ticket.starts_with(crate::token::TICKET_PREFIX) || ticket.len() > 128 {
            return Err(invalid);
        }
        let (token_hash, session) =
            self.credentials.take_ticket(&crate::token::hash_token(ticket), now)?.ok_or(invalid)?;
        grant::authenticate_hash(self.credentials.as_ref(), &self.tokens, &token_hash, session, now)
    }

    /// Authenticates a client by its secret (argon2id: run it where it cannot starve other
    /// work).
    pub fn authenticate_client(&self, credentials: &ClientCredentials) -> Result<OAuthClient, OAuthError> {
        grant::authenticate_client(self.credentials.as_ref(), &self.hasher, credentials)
    }

    /// Issues a token to an authenticated client (RFC 6749 §4.4.3).
    pub fn issue(&self, client: &OAuthClient, form: &FormParams, now: Timestamp) -> Result<TokenResponse, OAuthError> {
        grant::issue_authenticated(self.credentials.as_ref(), &self.settings, client, form, now)
    }

    /// Forgets a bearer token this node may have cached, after its session ended (other nodes
    /// trust it until their cache entry runs out, as for revocations).
    pub fn forget(&self, authorization: Option<&str>) {
        if let Ok(bearer) = grant::bearer_token(authorization) {
            self.tokens.forget(&crate::token::hash_token(bearer));
        }
    }

    /// Forgets a bearer token by its hash, after its session was ended by another (a password
    /// change ends them all).
    pub fn forget_hash(&self, token_hash: &str) {
        self.tokens.forget(token_hash);
    }

    /// Revokes one of the client's tokens (RFC 7009).
    pub fn revoke(&self, client: &OAuthClient, form: &FormParams) -> Result<(), OAuthError> {
        grant::revoke_token(self.credentials.as_ref(), &self.tokens, client, form)
    }

    /// Describes a token to the client of its application (RFC 7662).
    pub fn introspect(
        &self,
        client: &OAuthClient,
        form: &FormParams,
        now: Timestamp,
    ) -> Result<Introspection, OAuthError> {
        grant::introspect_token(self.credentials.as_ref(), client, form, now)
    }

    /// Deletes tokens that expired before `now`; returns how many.
    pub fn purge_expired_tokens(&self, now: Timestamp) -> Result<u64, roost_domain::StoreError> {
        self.credentials.purge_expired_tokens(now)
    }
}
