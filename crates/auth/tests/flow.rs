//! The grant, bearer checks, revocation, introspection and rotation against a real store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails by panicking")]

use chrono::Duration;
use roost_auth::grant::{authenticate_bearer, authenticate_client, introspect_token, issue_token, revoke_token};
use roost_auth::provision::{create_application, rotate_client_secret, Provisioned};
use roost_auth::TokenCache;
use roost_auth::{BearerError, ClientCredentials, FormParams, OAuthError, OAuthErrorCode, SecretHasher};
use roost_auth::{TokenResponse, TokenSettings};
use roost_domain::model::application::OAuthClient;
use roost_domain::{now, IdGenerator};
use roost_persistence::testing::TestDatabase;
use roost_persistence::DieselStore;

fn form(pairs: &[(&str, &str)]) -> FormParams {
    FormParams(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
}

fn body_credentials(id: &str, secret: &str) -> ClientCredentials {
    ClientCredentials::from_request(None, &form(&[("client_id", id), ("client_secret", secret)])).unwrap()
}

/// What every test of the flow starts from: an application "Chat" on a fresh store, and one
/// token issued to it by the client credentials grant.
struct Issued {
    store: DieselStore,
    ids: IdGenerator,
    hasher: SecretHasher,
    app: Provisioned,
    response: TokenResponse,
    /// The token as an `Authorization` header.
    header: String,
}

impl Issued {
    fn new(db: &TestDatabase) -> Self {
        let store = db.store();
        let ids = IdGenerator::new(0).unwrap();
        let hasher = SecretHasher::for_tests().unwrap();
        let app = create_application(&store, &ids, &hasher, "Chat", now()).unwrap();
        let response = issue(&store, &hasher, &app.client_id, &app.client_secret).unwrap();
        let header = format!("Bearer {}", response.access_token);
        Self { store, ids, hasher, app, response, header }
    }

    fn issue(&self, id: &str, secret: &str) -> Result<TokenResponse, OAuthError> {
        issue(&self.store, &self.hasher, id, secret)
    }

    /// The client of `app`, authenticated by its secret.
    fn client(&self, app: &Provisioned) -> OAuthClient {
        authenticate_client(&self.store, &self.hasher, &body_credentials(&app.client_id, &app.client_secret)).unwrap()
    }
}

/// Asks for a token with the client credentials grant, the credentials in the form body.
fn issue(store: &DieselStore, hasher: &SecretHasher, id: &str, secret: &str) -> Result<TokenResponse, OAuthError> {
    let grant = form(&[("grant_type", "client_credentials")]);
    issue_token(store, hasher, &TokenSettings::default(), &body_credentials(id, secret), &grant, now())
}

#[test]
fn the_grant_issues_a_bearer_token_for_the_application() {
    for db in TestDatabase::all() {
        let s = Issued::new(&db);
        assert_eq!(s.response.token_type, "bearer");
        assert_eq!(s.response.expires_in, 12 * 3600);
        assert_eq!(s.response.scope, format!("org:{}:app", s.app.application.organization_id), "{}", db.label);
    }
}

#[test]
fn a_wrong_or_unknown_client_gets_no_token() {
    for db in TestDatabase::all() {
        let s = Issued::new(&db);
        let wrong = s.issue(&s.app.client_id, "rcs_wrong");
        assert!(matches!(wrong, Err(OAuthError::Protocol { code: OAuthErrorCode::InvalidClient, .. })));
        let unknown = s.issue("nobody", "x");
        assert!(
            matches!(unknown, Err(OAuthError::Protocol { code: OAuthErrorCode::InvalidClient, .. })),
            "{}",
            db.label
        );
    }
}

#[test]
fn a_bearer_token_authenticates_its_application_until_it_expires() {
    for db in TestDatabase::all() {
        let s = Issued::new(&db);
        let cache = TokenCache::new(100, Duration::seconds(60));
        let principal = authenticate_bearer(&s.store, &cache, Some(&s.header), now()).unwrap();
        assert_eq!(principal.application_id(), s.app.application.id, "{}", db.label);
        // Expired at its expiry instant, though the cache remembers it.
        let later = now() + Duration::hours(12) + Duration::seconds(1);
        assert!(matches!(
            authenticate_bearer(&s.store, &cache, Some(&s.header), later),
            Err(BearerError::InvalidToken(_))
        ));
    }
}

#[test]
fn missing_unknown_or_malformed_bearers_are_refused() {
    for db in TestDatabase::all() {
        let s = Issued::new(&db);
        let cache = TokenCache::new(100, Duration::seconds(60));
        assert!(matches!(authenticate_bearer(&s.store, &cache, None, now()), Err(BearerError::Missing)));
        assert!(matches!(
            authenticate_bearer(&s.store, &cache, Some("Bearer rat_nope"), now()),
            Err(BearerError::InvalidToken(_))
        ));
        assert!(matches!(authenticate_bearer(&s.store, &cache, Some("Basic abc"), now()), Err(BearerError::Missing)));
    }
}

#[test]
fn introspection_shows_a_token_only_to_its_own_client() {
    for db in TestDatabase::all() {
        let s = Issued::new(&db);
        let token_form = form(&[("token", &s.response.access_token)]);
        assert!(introspect_token(&s.store, &s.client(&s.app), &token_form, now()).unwrap().active);
        let other = create_application(&s.store, &s.ids, &s.hasher, "Other", now()).unwrap();
        let other_client = s.client(&other);
        assert!(
            !introspect_token(&s.store, &other_client, &token_form, now()).unwrap().active,
            "other apps see nothing"
        );
    }
}

#[test]
fn only_the_owning_client_revokes_a_token_and_at_once() {
    for db in TestDatabase::all() {
        let s = Issued::new(&db);
        // Checked tokens are remembered: revocation must still take effect at once.
        let cache = TokenCache::new(100, Duration::seconds(60));
        authenticate_bearer(&s.store, &cache, Some(&s.header), now()).unwrap();
        let (client, token_form) = (s.client(&s.app), form(&[("token", &s.response.access_token)]));
        let other = create_application(&s.store, &s.ids, &s.hasher, "Other", now()).unwrap();
        revoke_token(&s.store, &cache, &s.client(&other), &token_form).unwrap();
        assert!(
            authenticate_bearer(&s.store, &cache, Some(&s.header), now()).is_ok(),
            "another client cannot revoke it"
        );
        revoke_token(&s.store, &cache, &client, &token_form).unwrap();
        assert!(matches!(
            authenticate_bearer(&s.store, &cache, Some(&s.header), now()),
            Err(BearerError::InvalidToken(_))
        ));
        assert_eq!(
            serde_json::to_value(introspect_token(&s.store, &client, &token_form, now()).unwrap()).unwrap(),
            serde_json::json!({"active": false}),
            "{}",
            db.label
        );
    }
}

#[test]
fn rotation_retires_the_old_secret_and_its_tokens() {
    for db in TestDatabase::all() {
        let s = Issued::new(&db);
        let cache = TokenCache::new(100, Duration::seconds(60));
        let fresh = s.issue(&s.app.client_id, &s.app.client_secret).unwrap();
        let rotated = rotate_client_secret(&s.store, &s.store, &s.hasher, s.app.application.id).unwrap();
        assert_eq!(rotated.client_id, s.app.client_id);
        let fresh_header = format!("Bearer {}", fresh.access_token);
        assert!(authenticate_bearer(&s.store, &cache, Some(&fresh_header), now()).is_err());
        assert!(s.issue(&s.app.client_id, &s.app.client_secret).is_err());
        assert!(s.issue(&s.app.client_id, &rotated.client_secret).is_ok(), "{}", db.label);
    }
}
