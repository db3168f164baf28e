//! The store's behaviour, run on SQLite and (when `ROOST_TEST_POSTGRES_URL` is set) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails by panicking")]

use std::sync::Arc;

use chrono::Duration;
use roost_domain::model::application::{
    AccessTokenRecord, Application, ApplicationSettings, OAuthClient, Organization, Toggle,
};
use roost_domain::model::page::PageRequest;
use roost_domain::model::user::{NewUser, UserFilter, UserSort};
use roost_domain::ports::{ApplicationStore, CredentialStore, UserStore};
use roost_domain::{
    now, ApplicationId, DomainError, FieldErrorCode, IdGenerator, OrganizationId, Ports, Principal, Service, UserId,
};
use roost_persistence::testing::TestDatabase;
use roost_persistence::DieselStore;
use serde_json::json;

pub(crate) fn seed_application(
    store: &DieselStore,
    ids: &IdGenerator,
    org: Option<&Organization>,
) -> (Application, OAuthClient) {
    let org_id = org.map_or_else(|| store.first_organization().unwrap().unwrap().id, |o| o.id);
    let app = Application {
        id: ApplicationId(ids.next_id()),
        organization_id: org_id,
        key: uuid_like(ids),
        name: "Test".into(),
        created_time: now(),
        version: 1,
        updated_time: None,
        properties: Default::default(),
        settings: ApplicationSettings::default(),
    };
    let client = OAuthClient {
        client_id: format!("client-{}", app.id),
        application_id: app.id,
        organization_id: org_id,
        secret_hash: "$argon2id$fake".into(),
        created_time: now(),
    };
    store.create_application(org, &app, &client).unwrap();
    (app, client)
}

fn uuid_like(ids: &IdGenerator) -> String {
    format!("key-{}", ids.next_id())
}

pub(crate) fn org(ids: &IdGenerator) -> Organization {
    Organization { id: OrganizationId(ids.next_id()), name: "Org".into(), created_time: now() }
}

/// The use cases over `store`, drawing ids from the node's generator `ids`.
pub(crate) fn service(store: &DieselStore, ids: &Arc<IdGenerator>) -> Service {
    Service::new(Ports::from_store(Arc::new(store.clone())), Arc::clone(ids), Default::default())
}

/// Application `app`'s back end.
pub(crate) fn as_app(application_id: ApplicationId) -> Principal {
    Principal::Application { application_id, organization_id: OrganizationId(0), client_id: "test".into() }
}

fn new_user(name: &str) -> NewUser {
    NewUser { name: Some(name.into()), display_name: None, is_guest: None, properties: None }
}

/// A store with one application of a new organization, and the generator its ids came from.
fn with_application(db: &TestDatabase) -> (DieselStore, Arc<IdGenerator>, Application, OAuthClient) {
    let ids = Arc::new(IdGenerator::new(0).unwrap());
    let store = db.store_with_ids(Arc::clone(&ids));
    let (app, client) = seed_application(&store, &ids, Some(&org(&ids)));
    (store, ids, app, client)
}

/// An access token of `client`, valid for an hour.
fn token_of(app: &Application, client: &OAuthClient, hash: &str) -> AccessTokenRecord {
    AccessTokenRecord {
        token_hash: hash.into(),
        client_id: client.client_id.clone(),
        application_id: app.id,
        organization_id: app.organization_id,
        created_time: now(),
        expires_time: now() + Duration::hours(1),
        revoked: false,
    }
}

#[test]
fn applications_and_clients_round_trip() {
    for db in TestDatabase::all() {
        let store = db.store();
        let ids = IdGenerator::new(0).unwrap();
        assert!(store.first_organization().unwrap().is_none(), "{}: empty database has no organization", db.label);
        let organization = org(&ids);
        let (app, client) = seed_application(&store, &ids, Some(&organization));
        assert_eq!(store.first_organization().unwrap().unwrap(), organization);
        assert_eq!(store.find_application(app.id).unwrap().unwrap(), app, "{}", db.label);
        assert_eq!(store.list_applications().unwrap(), vec![app.clone()]);
        assert_eq!(store.find_client(&client.client_id).unwrap().unwrap(), client);
        assert_eq!(store.clients_of(app.id).unwrap(), vec![client.clone()]);
    }
}

#[test]
fn settings_are_updated_for_existing_applications_only() {
    for db in TestDatabase::all() {
        let (store, _, app, _) = with_application(&db);
        let settings = ApplicationSettings {
            guest_users: Toggle::Enabled,
            user_created_channels: Toggle::Disabled,
            user_sign_up: Toggle::Enabled,
        };
        assert_eq!(
            store.update_settings(app.id, None, settings, now()).unwrap().unwrap().settings,
            settings,
            "{}",
            db.label
        );
        assert!(store.update_settings(ApplicationId(1), None, settings, now()).unwrap().is_none());
    }
}

#[test]
fn a_client_revokes_only_its_own_tokens() {
    for db in TestDatabase::all() {
        let (store, _, app, client) = with_application(&db);
        let token = token_of(&app, &client, "abc");
        store.insert_token(&token).unwrap();
        assert_eq!(store.find_token("abc").unwrap().unwrap(), token, "{}", db.label);
        assert!(!store.revoke_token("abc", "someone-else").unwrap(), "a client revokes only its own tokens");
        assert!(store.revoke_token("abc", &client.client_id).unwrap());
        assert!(store.find_token("abc").unwrap().unwrap().revoked);
    }
}

#[test]
fn rotating_a_client_secret_revokes_its_tokens() {
    for db in TestDatabase::all() {
        let (store, _, app, client) = with_application(&db);
        store.insert_token(&token_of(&app, &client, "def")).unwrap();
        assert!(store.rotate_client_secret(&client.client_id, "$argon2id$new").unwrap());
        assert!(store.find_token("def").unwrap().unwrap().revoked, "rotation revokes issued tokens ({})", db.label);
        assert_eq!(store.find_client(&client.client_id).unwrap().unwrap().secret_hash, "$argon2id$new");
        assert!(!store.rotate_client_secret("missing", "x").unwrap());
    }
}

#[test]
fn expired_tokens_are_purged() {
    for db in TestDatabase::all() {
        let (store, _, app, client) = with_application(&db);
        store.insert_token(&token_of(&app, &client, "abc")).unwrap();
        let expired = AccessTokenRecord { expires_time: now() - Duration::hours(1), ..token_of(&app, &client, "old") };
        store.insert_token(&expired).unwrap();
        assert_eq!(store.purge_expired_tokens(now()).unwrap(), 1, "{}", db.label);
        assert!(store.find_token("old").unwrap().is_none());
    }
}

#[test]
fn user_names_are_unique_within_an_application() {
    for db in TestDatabase::all() {
        let (store, ids, app, _) = with_application(&db);
        let jane = service(&store, &ids).create_user(&as_app(app.id), new_user("jane")).unwrap();
        assert_eq!(jane.display_name, "jane");
        assert_eq!(store.find_user(app.id, jane.id).unwrap().unwrap(), jane, "{}", db.label);
        let duplicate = service(&store, &ids).create_user(&as_app(app.id), new_user("jane")).unwrap_err();
        let DomainError::Validation(errors) = duplicate else { panic!("expected validation error") };
        assert_eq!((errors[0].field.as_str(), errors[0].code), ("name", FieldErrorCode::AlreadyExists));
    }
}

#[test]
fn applications_see_only_their_own_users() {
    for db in TestDatabase::all() {
        let (store, ids, app, _) = with_application(&db);
        let (other, _) = seed_application(&store, &ids, None);
        let jane = service(&store, &ids).create_user(&as_app(app.id), new_user("jane")).unwrap();
        // Another application may use the same name, and cannot see this one's user.
        let other_jane = service(&store, &ids).create_user(&as_app(other.id), new_user("jane")).unwrap();
        assert!(store.find_user(other.id, jane.id).unwrap().is_none(), "{}", db.label);
        assert!(matches!(service(&store, &ids).get_user(&as_app(other.id), jane.id), Err(DomainError::NotFound(_))));
        assert!(matches!(
            service(&store, &ids).delete_user(&as_app(other.id), jane.id, None),
            Err(DomainError::NotFound(_))
        ));
        service(&store, &ids).put_secret(&as_app(app.id), jane.id, "token", json!("mine"), None).unwrap();
        assert!(matches!(
            service(&store, &ids).get_secret(&as_app(other.id), jane.id, "token"),
            Err(DomainError::NotFound(_))
        ));
        service(&store, &ids).delete_user(&as_app(app.id), jane.id, None).unwrap();
        assert!(store.find_user(other.id, other_jane.id).unwrap().is_some(), "deleting one leaves the other's");
    }
}

#[test]
fn a_patch_is_stored_with_the_next_version() {
    for db in TestDatabase::all() {
        let (store, ids, app, _) = with_application(&db);
        let jane = service(&store, &ids).create_user(&as_app(app.id), new_user("jane")).unwrap();
        let patch = json!({"displayName": "Jane D", "properties": {"team": "red", "drop": null}});
        let patched = service(&store, &ids).patch_user(&as_app(app.id), jane.id, patch, None).unwrap();
        assert_eq!(patched.version, 2, "{}", db.label);
        assert_eq!(store.find_user(app.id, jane.id).unwrap().unwrap(), patched);
    }
}

#[test]
fn a_secret_put_again_is_replaced_and_goes_with_its_user() {
    for db in TestDatabase::all() {
        let (store, ids, app, _) = with_application(&db);
        let jane = service(&store, &ids).create_user(&as_app(app.id), new_user("jane")).unwrap();
        service(&store, &ids).put_secret(&as_app(app.id), jane.id, "token", json!({"a": 1}), None).unwrap();
        service(&store, &ids).put_secret(&as_app(app.id), jane.id, "token", json!("replaced"), None).unwrap();
        assert_eq!(
            service(&store, &ids).get_secret(&as_app(app.id), jane.id, "token").unwrap().value,
            json!("replaced"),
            "{}",
            db.label
        );
        service(&store, &ids).delete_user(&as_app(app.id), jane.id, None).unwrap();
        assert!(store.find_user(app.id, jane.id).unwrap().is_none());
        assert!(store.get_secret(app.id, jane.id, "token").unwrap().is_none(), "secrets go with the user");
    }
}

/// An application with users carol, alice, bob, Dave and eve, in that order; `even` is true for
/// carol, bob and eve.
fn with_five_users(db: &TestDatabase) -> (DieselStore, Application) {
    let (store, ids, app, _) = with_application(db);
    for (i, name) in ["carol", "alice", "bob", "Dave", "eve"].iter().enumerate() {
        let mut input = new_user(name);
        input.properties = Some(json!({"even": i % 2 == 0}).as_object().cloned().unwrap());
        service(&store, &ids).create_user(&as_app(app.id), input).unwrap();
    }
    (store, app)
}

/// The names on a page of users, and the total.
fn user_names(
    store: &DieselStore,
    app: &Application,
    filter: &UserFilter,
    page: &PageRequest<UserSort>,
) -> (Vec<String>, u64) {
    let page = store.list_users(app.id, filter, page).unwrap();
    (page.items.into_iter().map(|u| u.name).collect(), page.total_elements)
}

#[test]
fn user_pages_sort_bytewise_and_count_every_user() {
    for db in TestDatabase::all() {
        let (store, app) = with_five_users(&db);
        let names = |page: &PageRequest<UserSort>| user_names(&store, &app, &UserFilter::default(), page);
        let by_name = PageRequest::parse(Some(0), Some(2), &["name"]).unwrap();
        // Bytewise order on both engines: upper case first.
        assert_eq!(names(&by_name), (vec!["Dave".into(), "alice".into()], 5), "{}", db.label);
        let last = PageRequest::parse(Some(2), Some(2), &["name"]).unwrap();
        assert_eq!(names(&last), (vec!["eve".into()], 5));
        let beyond = PageRequest::parse(Some(9), Some(2), &["name"]).unwrap();
        assert_eq!(names(&beyond), (vec![], 5));
        let desc = PageRequest::parse(None, None, &["name,desc"]).unwrap();
        assert_eq!(names(&desc).0.first().map(String::as_str), Some("eve"));
        let by_id = PageRequest::parse(None, None, &[]).unwrap();
        assert_eq!(names(&by_id).0, vec!["carol", "alice", "bob", "Dave", "eve"]);
        assert_eq!(store.list_users(ApplicationId(42), &UserFilter::default(), &by_id).unwrap().total_elements, 0);
    }
}

#[test]
fn user_pages_filter_by_name_and_properties_and_count_the_matches() {
    for db in TestDatabase::all() {
        let (store, app) = with_five_users(&db);
        let by_id = PageRequest::parse(None, None, &[]).unwrap();
        let named = UserFilter { name: Some("bob".into()), ..UserFilter::default() };
        assert_eq!(user_names(&store, &app, &named, &by_id), (vec!["bob".into()], 1), "{}", db.label);
        let by_name = PageRequest::parse(Some(0), Some(2), &["name"]).unwrap();
        let even = UserFilter { properties: json!({"even": true}).as_object().cloned(), ..UserFilter::default() };
        assert_eq!(user_names(&store, &app, &even, &by_name), (vec!["bob".into(), "carol".into()], 3));
    }
}

/// SQLite: the pool's connections leave WAL checkpoints to the store's checkpoint thread, which
/// must still start the WAL again while writes go on (issue 4). Unchecked, these commits would
/// leave a WAL of about 50 MB.
#[test]
fn the_sqlite_wal_stays_short_under_a_steady_stream_of_commits() {
    let db = TestDatabase::sqlite();
    let ids = Arc::new(IdGenerator::new(0).unwrap());
    let store = db.store_with_ids(Arc::clone(&ids));
    let (app, _) = seed_application(&store, &ids, Some(&org(&ids)));
    for n in 0..3000 {
        service(&store, &ids).create_user(&as_app(app.id), new_user(&format!("user{n}"))).unwrap();
    }
    let wal = format!("{}-wal", db.url.sqlite_path().unwrap());
    let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert!(wal_bytes < 16 << 20, "the WAL grew to {wal_bytes} bytes");
    assert_eq!(store.find_user_by_name(app.id, "user2999").unwrap().unwrap().name, "user2999");
}

#[test]
fn migrations_come_in_pairs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let list = |backend: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in &names {
            for file in ["up.sql", "down.sql"] {
                assert!(root.join(backend).join(name).join(file).exists(), "{backend}/{name}/{file} is missing");
            }
        }
        names
    };
    assert_eq!(list("sqlite"), list("postgres"));
}

#[test]
fn migrations_are_idempotent_and_tables_match_the_schema() {
    for db in TestDatabase::all() {
        let store = db.store();
        // A second open runs no migration and must not fail.
        drop(store);
        let store = db.store();
        // Every table's columns load through the shared schema (catches drift between the
        // migrations and schema.rs on each engine).
        assert!(store.list_applications().unwrap().is_empty());
        assert!(store.find_client("x").unwrap().is_none());
        assert!(store.find_token("x").unwrap().is_none());
        assert!(store.find_user(ApplicationId(1), UserId(1)).unwrap().is_none());
        assert!(store.get_secret(ApplicationId(1), UserId(1), "x").unwrap().is_none());
    }
}

#[path = "store/chat.rs"]
mod chat;

/// PostgreSQL over TLS works with the bundled libpq and OpenSSL built from source (no system
/// libssl): the session this test opens with `sslmode=require` is encrypted, as PostgreSQL's own
/// `pg_stat_ssl` reports.
#[test]
#[ignore = "needs PostgreSQL with TLS on: ROOST_TEST_POSTGRES_URL (run by .ci/run with --include-ignored)"]
fn postgres_sessions_can_require_tls() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let base = std::env::var(roost_persistence::testing::POSTGRES_ENV)
        .expect("ROOST_TEST_POSTGRES_URL must name the PostgreSQL server for this test");
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut conn = PgConnection::establish(&format!("{base}{separator}sslmode=require"))
        .unwrap_or_else(|e| panic!("no TLS session (is ssl = on on the server?): {e}"));
    let encrypted: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
    ))
    .get_result(&mut conn)
    .unwrap();
    assert!(encrypted, "the session is not encrypted");
}
