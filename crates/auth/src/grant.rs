//! The client-credentials grant, bearer checks, revocation and introspection.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Duration;
use roost_domain::model::application::{AccessTokenRecord, OAuthClient};
use roost_domain::ports::CredentialStore;
use roost_domain::{OrganizationId, Principal, Timestamp};
use serde::Serialize;

use crate::cache::TokenCache;
use crate::error::{BearerError, OAuthError, OAuthErrorCode};
use crate::secret::SecretHasher;
use crate::token::{generate_access_token, hash_token, ACCESS_TOKEN_PREFIX};

/// Token lifetime and the like.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// How long an access token lives (default 12 h, as ChatKitty's `expires_in` suggests).
    pub lifetime: Duration,
    /// How long a node trusts a token it has checked before asking storage again (see
    /// [`crate::TokenCache`]); zero checks storage on every request.
    pub cache_for: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self { lifetime: Duration::hours(12), cache_for: Duration::seconds(10) }
    }
}

/// Form parameters of a token, revocation or introspection request, in order, as sent.
#[derive(Debug, Clone, Default)]
pub struct FormParams(pub Vec<(String, String)>);

impl FormParams {
    /// The value of `name`. A parameter sent without a value counts as omitted, and a repeated
    /// one is an error (RFC 6749 §3.2).
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self.0.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!("parameter '{name}' is repeated")));
        }
        Ok(first)
    }

    fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?.ok_or_else(|| OAuthError::invalid_request(format!("missing parameter '{name}'")))
    }
}

/// Credentials a client presented.
#[derive(Clone)]
pub struct ClientCredentials {
    /// The client id.
    pub client_id: String,
    secret: String,
    /// They came in an HTTP Basic header.
    pub basic_auth: bool,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// Reads client authentication from the `Authorization` header (HTTP Basic, RFC 6749
    /// §2.3.1, which servers must support) or from `client_id`/`client_secret` form fields.
    /// Using both at once is refused. ChatKitty's docs also send `username`/`password` fields
    /// repeating the credentials; they are accepted and ignored.
    pub fn from_request(authorization: Option<&str>, form: &FormParams) -> Result<Self, OAuthError> {
        let body_id = form.get("client_id")?;
        let body_secret = form.get("client_secret")?;
        if let Some(header) = authorization {
            let (scheme, value) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(OAuthError::invalid_client(false));
            }
            let (client_id, secret) = decode_basic(value.trim()).ok_or_else(|| OAuthError::invalid_client(true))?;
            if body_secret.is_some() || body_id.is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_request("use one client authentication method, not two"));
            }
            return Ok(Self { client_id, secret, basic_auth: true });
        }
        match (body_id, body_secret) {
            (Some(id), Some(secret)) => {
                Ok(Self { client_id: id.to_owned(), secret: secret.to_owned(), basic_auth: false })
            }
            // No credentials at all: challenge for Basic, the method servers must support.
            _ => Err(OAuthError::invalid_client(true)),
        }
    }
}

/// `base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn decode_basic(value: &str) -> Option<(String, String)> {
    let decoded = STANDARD.decode(value).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = form_decode(id)?;
    let secret = form_decode(secret)?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

fn form_decode(s: &str) -> Option<String> {
    let plus_as_space = s.replace('+', " ");
    percent_decode(&plus_as_space)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The successful token response (RFC 6749 §5.1, ChatKitty's field set).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// The bearer string.
    pub access_token: String,
    /// Always `bearer`, as ChatKitty spells it.
    pub token_type: &'static str,
    /// Seconds until expiry.
    pub expires_in: i64,
    /// `org:<organization id>:app`.
    pub scope: String,
}

fn granted_scope(organization_id: OrganizationId) -> String {
    format!("org:{organization_id}:app")
}

/// Checks a requested `scope` (RFC 6749 §3.3): the application scope `org:<id>:app`, or any of
/// the spec's per-operation scopes (`read:user`, …), all of which an application client holds.
fn check_scope(requested: Option<&str>, organization_id: OrganizationId) -> Result<(), OAuthError> {
    let Some(requested) = requested else { return Ok(()) };
    let granted = granted_scope(organization_id);
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        let operation = scope.split_once(':').is_some_and(|(verb, object)| {
            matches!(verb, "create" | "read" | "update" | "delete")
                && (object == "*"
                    || (!object.is_empty() && object.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')))
        });
        if scope != granted && !operation {
            return Err(OAuthError::Protocol {
                code: OAuthErrorCode::InvalidScope,
                description: format!("scope '{scope}' is not available to this client"),
                basic_auth: false,
            });
        }
    }
    Ok(())
}

/// Authenticates the client: looks it up and verifies the secret with argon2 (slow by design;
/// call it off the request threads). Unknown clients cost the same as wrong secrets.
pub fn authenticate_client(
    store: &dyn CredentialStore,
    hasher: &SecretHasher,
    credentials: &ClientCredentials,
) -> Result<OAuthClient, OAuthError> {
    match store.find_client(&credentials.client_id)? {
        Some(client) if hasher.verify(&credentials.secret, &client.secret_hash) => Ok(client),
        Some(_) => Err(OAuthError::invalid_client(credentials.basic_auth)),
        None => {
            hasher.verify_decoy(&credentials.secret);
            Err(OAuthError::invalid_client(credentials.basic_auth))
        }
    }
}

/// Validates the grant parameters before any expensive work.
pub fn check_grant(form: &FormParams) -> Result<(), OAuthError> {
    match form.require("grant_type")? {
        "client_credentials" => Ok(()),
        other => Err(OAuthError::Protocol {
            code: OAuthErrorCode::UnsupportedGrantType,
            description: format!("grant type '{other}' is not supported; use client_credentials"),
            basic_auth: false,
        }),
    }
}

/// The client-credentials grant (RFC 6749 §4.4): authenticate, then issue a token.
pub fn issue_token(
    store: &dyn CredentialStore,
    hasher: &SecretHasher,
    settings: &TokenSettings,
    credentials: &ClientCredentials,
    form: &FormParams,
    now: Timestamp,
) -> Result<TokenResponse, OAuthError> {
    check_grant(form)?;
    let client = authenticate_client(store, hasher, credentials)?;
    issue_authenticated(store, settings, &client, form, now)
}

/// Issues a token to a client already authenticated by [`authenticate_client`].
pub fn issue_authenticated(
    store: &dyn CredentialStore,
    settings: &TokenSettings,
    client: &OAuthClient,
    form: &FormParams,
    now: Timestamp,
) -> Result<TokenResponse, OAuthError> {
    check_scope(form.get("scope")?, client.organization_id)?;
    let access_token = generate_access_token();
    let record = AccessTokenRecord {
        token_hash: hash_token(&access_token),
        client_id: client.client_id.clone(),
        application_id: client.application_id,
        organization_id: client.organization_id,
        created_time: now,
        expires_time: now + settings.lifetime,
        revoked: false,
    };
    store.insert_token(&record)?;
    Ok(TokenResponse {
        access_token,
        token_type: "bearer",
        expires_in: settings.lifetime.num_seconds(),
        scope: granted_scope(client.organization_id),
    })
}

/// Checks an `Authorization` header on an API request (RFC 6750 §2.1).
pub fn authenticate_bearer(
    store: &dyn CredentialStore,
    cache: &TokenCache,
    authorization: Option<&str>,
    now: Timestamp,
) -> Result<Principal, BearerError> {
    let bearer = bearer_token(authorization)?;
    let session = bearer.starts_with(crate::token::SESSION_TOKEN_PREFIX);
    authenticate_hash(store, cache, &hash_token(bearer), session, now)
}

/// [`authenticate_bearer`] for a token known by its hash (a stream ticket's), `session` when it
/// is a user session's.
pub fn authenticate_hash(
    store: &dyn CredentialStore,
    cache: &TokenCache,
    token_hash: &str,
    session: bool,
    now: Timestamp,
) -> Result<Principal, BearerError> {
    if let Some(principal) = cache.principal(token_hash, now) {
        return Ok(principal);
    }
    let revocations = cache.revocations();
    if session {
        let session =
            store.find_session(token_hash)?.ok_or(BearerError::InvalidToken("The access token is invalid"))?;
        if session.ended_time.is_some() {
            return Err(BearerError::InvalidToken("The session has ended"));
        }
        if !session.is_active(now) {
            return Err(BearerError::InvalidToken("The access token expired"));
        }
        let principal = Principal::User {
            application_id: session.application_id,
            user_id: session.user_id,
            session_id: session.id,
        };
        cache.remember_until(token_hash, session.expires_time, &principal, now, revocations);
        return Ok(principal);
    }
    let record = store.find_token(token_hash)?.ok_or(BearerError::InvalidToken("The access token is invalid"))?;
    if record.revoked {
        return Err(BearerError::InvalidToken("The access token has been revoked"));
    }
    if !record.is_active(now) {
        return Err(BearerError::InvalidToken("The access token expired"));
    }
    let principal = Principal::Application {
        application_id: record.application_id,
        organization_id: record.organization_id,
        client_id: record.client_id.clone(),
    };
    cache.remember(&record, &principal, now, revocations);
    Ok(principal)
}

/// The check of [`authenticate_bearer`] that needs no storage: `Ok(None)` when the token is
/// well-formed but not in the cache, so the caller goes on to storage.
pub fn authenticate_cached(
    cache: &TokenCache,
    authorization: Option<&str>,
    now: Timestamp,
) -> Result<Option<Principal>, BearerError> {
    Ok(cache.principal(&hash_token(bearer_token(authorization)?), now))
}

/// The bearer string of an `Authorization` header (RFC 6750 §2.1), checked for shape only.
pub(crate) fn bearer_token(authorization: Option<&str>) -> Result<&str, BearerError> {
    let header = authorization.map(str::trim).filter(|h| !h.is_empty()).ok_or(BearerError::Missing)?;
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    // Another scheme (Basic, Digest, …) is a method this API does not support: RFC 6750 §3.1
    // treats it as no credentials (401 with a bare challenge, no error code).
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::Missing);
    }
    let token = token.trim();
    if token.is_empty() || token.len() > 512 {
        return Err(BearerError::InvalidToken("The access token is malformed"));
    }
    if !token.starts_with(ACCESS_TOKEN_PREFIX) && !token.starts_with(crate::token::SESSION_TOKEN_PREFIX) {
        return Err(BearerError::InvalidToken("The access token is invalid"));
    }
    Ok(token)
}

/// RFC 7009 revocation by an authenticated client. Unknown tokens and other clients' tokens are
/// answered like successes, so nothing leaks (§2.2).
pub fn revoke_token(
    store: &dyn CredentialStore,
    cache: &TokenCache,
    client: &OAuthClient,
    form: &FormParams,
) -> Result<(), OAuthError> {
    let token_hash = hash_token(form.require("token")?);
    store.revoke_token(&token_hash, &client.client_id)?;
    cache.forget(&token_hash);
    Ok(())
}

/// RFC 7662 introspection response.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Introspection {
    /// Whether the token is usable.
    pub active: bool,
    /// Granted scope (active tokens only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry, Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time, Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

/// RFC 7662 introspection by an authenticated client. A client sees only tokens of its own
/// application; anything else is exactly `{"active": false}` (§2.2).
pub fn introspect_token(
    store: &dyn CredentialStore,
    client: &OAuthClient,
    form: &FormParams,
    now: Timestamp,
) -> Result<Introspection, OAuthError> {
    let token = form.require("token")?;
    let inactive =
        Introspection { active: false, scope: None, client_id: None, token_type: None, exp: None, iat: None };
    let Some(record) = store.find_token(&hash_token(token))? else { return Ok(inactive) };
    if record.application_id != client.application_id || !record.is_active(now) {
        return Ok(inactive);
    }
    Ok(Introspection {
        active: true,
        scope: Some(granted_scope(record.organization_id)),
        client_id: Some(record.client_id),
        token_type: Some("bearer"),
        exp: Some(record.expires_time.timestamp()),
        iat: Some(record.created_time.timestamp()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormParams {
        FormParams(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    fn code(e: OAuthError) -> (OAuthErrorCode, bool) {
        match e {
            OAuthError::Protocol { code, basic_auth, .. } => (code, basic_auth),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let creds = ClientCredentials::from_request(Some(&basic("my%20client", "s%3Ae+t")), &form(&[])).unwrap();
        assert_eq!(creds.client_id, "my client");
        assert_eq!(creds.secret, "s:e t");
        assert!(creds.basic_auth);
    }

    #[test]
    fn body_credentials_and_chatkitty_extras_are_accepted() {
        let creds = ClientCredentials::from_request(
            None,
            &form(&[("client_id", "a"), ("client_secret", "b"), ("username", "a")]),
        )
        .unwrap();
        assert_eq!((creds.client_id.as_str(), creds.basic_auth), ("a", false));
        let with_extras = form(&[("grant_type", "client_credentials"), ("username", "a"), ("password", "b")]);
        assert!(ClientCredentials::from_request(Some(&basic("a", "b")), &with_extras).is_ok());
    }

    #[test]
    fn credential_errors() {
        assert_eq!(
            code(ClientCredentials::from_request(None, &form(&[])).unwrap_err()),
            (OAuthErrorCode::InvalidClient, true)
        );
        assert_eq!(
            code(ClientCredentials::from_request(Some("Basic !!!"), &form(&[])).unwrap_err()),
            (OAuthErrorCode::InvalidClient, true)
        );
        let both = form(&[("client_id", "a"), ("client_secret", "b")]);
        assert_eq!(
            code(ClientCredentials::from_request(Some(&basic("a", "b")), &both).unwrap_err()).0,
            OAuthErrorCode::InvalidRequest
        );
        let repeated = form(&[("client_id", "a"), ("client_id", "b"), ("client_secret", "c")]);
        assert_eq!(
            code(ClientCredentials::from_request(None, &repeated).unwrap_err()).0,
            OAuthErrorCode::InvalidRequest
        );
    }

    #[test]
    fn grant_types() {
        assert!(check_grant(&form(&[("grant_type", "client_credentials")])).is_ok());
        assert_eq!(code(check_grant(&form(&[])).unwrap_err()).0, OAuthErrorCode::InvalidRequest);
        assert_eq!(code(check_grant(&form(&[("grant_type", "")])).unwrap_err()).0, OAuthErrorCode::InvalidRequest);
        assert_eq!(
            code(check_grant(&form(&[("grant_type", "password")])).unwrap_err()).0,
            OAuthErrorCode::UnsupportedGrantType
        );
    }

    #[test]
    fn scopes() {
        let org = OrganizationId(7);
        assert!(check_scope(None, org).is_ok());
        assert!(check_scope(Some("org:7:app"), org).is_ok());
        assert!(check_scope(Some("read:user create:message"), org).is_ok());
        assert_eq!(code(check_scope(Some("org:8:app"), org).unwrap_err()).0, OAuthErrorCode::InvalidScope);
        assert_eq!(code(check_scope(Some("admin"), org).unwrap_err()).0, OAuthErrorCode::InvalidScope);
    }
}
