//! The grant, bearer checks, revocation, introspection and rotation against a real store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails by panicking")]

use chrono::Duration;
use roost_auth::grant::{authenticate_bearer, authenticate_client, introspect_token, issue_token, revoke_token};
use roost_auth::provision::{create_application, rotate_client_secret};
use roost_auth::TokenCache;
use roost_auth::{BearerError, ClientCredentials, FormParams, OAuthError, OAuthErrorCode, SecretHasher, TokenSettings};
use roost_domain::{now, IdGenerator};
use roost_persistence::testing::TestDatabase;

fn form(pairs: &[(&str, &str)]) -> FormParams {
    FormParams(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
}

fn body_credentials(id: &str, secret: &str) -> ClientCredentials {
    ClientCredentials::from_request(None, &form(&[("client_id", id), ("client_secret", secret)])).unwrap()
}

#[test]
fn client_credentials_flow_end_to_end() {
    for db in TestDatabase::all() {
        let store = db.store();
        let ids = IdGenerator::new(0).unwrap();
        let hasher = SecretHasher::for_tests().unwrap();
        let settings = TokenSettings::default();
        let app = create_application(&store, &ids, &hasher, "Chat", now()).unwrap();
        let grant = form(&[("grant_type", "client_credentials")]);

        let response = issue_token(
            &store,
            &hasher,
            &settings,
            &body_credentials(&app.client_id, &app.client_secret),
            &grant,
            now(),
        )
        .unwrap();
        assert_eq!(response.token_type, "bearer");
        assert_eq!(response.expires_in, 12 * 3600);
        assert_eq!(response.scope, format!("org:{}:app", app.application.organization_id));

        // Checked tokens are remembered: revocation must still take effect at once.
        let cache = TokenCache::new(100, Duration::seconds(60));
        let header = format!("Bearer {}", response.access_token);
        let principal = authenticate_bearer(&store, &cache, Some(&header), now()).unwrap();
        assert_eq!(principal.application_id(), app.application.id, "{}", db.label);

        // Expired at its expiry instant.
        let later = now() + Duration::hours(12) + Duration::seconds(1);
        assert!(matches!(authenticate_bearer(&store, &cache, Some(&header), later), Err(BearerError::InvalidToken(_))));
        assert!(matches!(authenticate_bearer(&store, &cache, None, now()), Err(BearerError::Missing)));
        assert!(matches!(
            authenticate_bearer(&store, &cache, Some("Bearer rat_nope"), now()),
            Err(BearerError::InvalidToken(_))
        ));
        assert!(matches!(
            authenticate_bearer(&store, &cache, Some("Basic abc"), now()),
            Err(BearerError::InvalidRequest(_))
        ));

        let wrong =
            issue_token(&store, &hasher, &settings, &body_credentials(&app.client_id, "rcs_wrong"), &grant, now());
        assert!(matches!(wrong, Err(OAuthError::Protocol { code: OAuthErrorCode::InvalidClient, .. })));
        let unknown = issue_token(&store, &hasher, &settings, &body_credentials("nobody", "x"), &grant, now());
        assert!(matches!(unknown, Err(OAuthError::Protocol { code: OAuthErrorCode::InvalidClient, .. })));

        // Introspection and revocation by the owning client.
        let client =
            authenticate_client(&store, &hasher, &body_credentials(&app.client_id, &app.client_secret)).unwrap();
        let token_form = form(&[("token", &response.access_token)]);
        assert!(introspect_token(&store, &client, &token_form, now()).unwrap().active);
        let other = create_application(&store, &ids, &hasher, "Other", now()).unwrap();
        let other_client =
            authenticate_client(&store, &hasher, &body_credentials(&other.client_id, &other.client_secret)).unwrap();
        assert!(!introspect_token(&store, &other_client, &token_form, now()).unwrap().active, "other apps see nothing");
        revoke_token(&store, &cache, &other_client, &token_form).unwrap();
        assert!(authenticate_bearer(&store, &cache, Some(&header), now()).is_ok(), "another client cannot revoke it");
        revoke_token(&store, &cache, &client, &token_form).unwrap();
        assert!(matches!(authenticate_bearer(&store, &cache, Some(&header), now()), Err(BearerError::InvalidToken(_))));
        assert_eq!(
            serde_json::to_value(introspect_token(&store, &client, &token_form, now()).unwrap()).unwrap(),
            serde_json::json!({"active": false})
        );

        // Rotation: the old secret and its tokens stop working; the new secret works.
        let fresh = issue_token(
            &store,
            &hasher,
            &settings,
            &body_credentials(&app.client_id, &app.client_secret),
            &grant,
            now(),
        )
        .unwrap();
        let rotated = rotate_client_secret(&store, &store, &hasher, app.application.id).unwrap();
        assert_eq!(rotated.client_id, app.client_id);
        let fresh_header = format!("Bearer {}", fresh.access_token);
        assert!(authenticate_bearer(&store, &cache, Some(&fresh_header), now()).is_err());
        let old = issue_token(
            &store,
            &hasher,
            &settings,
            &body_credentials(&app.client_id, &app.client_secret),
            &grant,
            now(),
        );
        assert!(old.is_err());
        assert!(issue_token(
            &store,
            &hasher,
            &settings,
            &body_credentials(&app.client_id, &rotated.client_secret),
            &grant,
            now()
        )
        .is_ok());
    }
}
