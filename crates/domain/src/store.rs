//! Storage ports: narrow, synchronous traits that `roost-persistence` implements. Callers in
//! async code run them on a blocking pool (DESIGN.md, "Storage").

use std::sync::Arc;

use serde_json::Value;

use crate::application::{AccessTokenRecord, Application, ApplicationSettings, OAuthClient, Organization};
use crate::error::StoreError;
use crate::ids::{ApplicationId, UserId};
use crate::page::{Page, PageRequest};
use crate::user::{User, UserFilter, UserSort};
use crate::Timestamp;

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Organizations, applications and their settings.
pub trait ApplicationStore: Send + Sync {
    /// The first organization, if any exists (an empty database has none).
    fn first_organization(&self) -> StoreResult<Option<Organization>>;
    /// Creates an application (and its organization when `new_organization` is given) with its
    /// first OAuth client, in one transaction.
    fn create_application(
        &self,
        new_organization: Option<&Organization>,
        application: &Application,
        client: &OAuthClient,
    ) -> StoreResult<()>;
    /// One application.
    fn find_application(&self, id: ApplicationId) -> StoreResult<Option<Application>>;
    /// All applications, oldest first.
    fn list_applications(&self) -> StoreResult<Vec<Application>>;
    /// Replaces the settings; `None` when the application does not exist.
    fn update_settings(&self, id: ApplicationId, settings: ApplicationSettings) -> StoreResult<Option<Application>>;
}

/// OAuth clients and access tokens.
pub trait CredentialStore: Send + Sync {
    /// A client by its public id.
    fn find_client(&self, client_id: &str) -> StoreResult<Option<OAuthClient>>;
    /// The clients of an application.
    fn clients_of(&self, application_id: ApplicationId) -> StoreResult<Vec<OAuthClient>>;
    /// Replaces a client's secret hash and revokes every token issued to it, in one transaction.
    /// `false` when the client does not exist.
    fn rotate_client_secret(&self, client_id: &str, secret_hash: &str) -> StoreResult<bool>;
    /// Stores a newly issued token.
    fn insert_token(&self, token: &AccessTokenRecord) -> StoreResult<()>;
    /// A token by the SHA-256 of its bearer string.
    fn find_token(&self, token_hash: &str) -> StoreResult<Option<AccessTokenRecord>>;
    /// Revokes a token if it belongs to `client_id`; `false` when no such token exists.
    fn revoke_token(&self, token_hash: &str, client_id: &str) -> StoreResult<bool>;
    /// Deletes tokens that expired before `before`; returns how many.
    fn purge_expired_tokens(&self, before: Timestamp) -> StoreResult<u64>;
}

/// Chat users and their secrets.
pub trait UserStore: Send + Sync {
    /// Inserts a new user; [`StoreError::Conflict`] when the name is taken.
    fn insert_user(&self, user: &User) -> StoreResult<()>;
    /// One user of the application.
    fn find_user(&self, application_id: ApplicationId, id: UserId) -> StoreResult<Option<User>>;
    /// One user of the application by username.
    fn find_user_by_name(&self, application_id: ApplicationId, name: &str) -> StoreResult<Option<User>>;
    /// A page of users.
    fn list_users(
        &self,
        application_id: ApplicationId,
        filter: &UserFilter,
        page: &PageRequest<UserSort>,
    ) -> StoreResult<Page<User>>;
    /// Writes every mutable field of an existing user.
    fn update_user(&self, user: &User) -> StoreResult<()>;
    /// Deletes a user with its secrets; `false` when it did not exist.
    fn delete_user(&self, application_id: ApplicationId, id: UserId) -> StoreResult<bool>;
    /// A user's named secret.
    fn get_secret(&self, application_id: ApplicationId, user_id: UserId, name: &str) -> StoreResult<Option<Value>>;
    /// Creates or replaces a user's named secret.
    fn put_secret(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        name: &str,
        value: &Value,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Removes a user's named secret; `false` when it did not exist.
    fn delete_secret(&self, application_id: ApplicationId, user_id: UserId, name: &str) -> StoreResult<bool>;
}

/// Every port, as shared handles. Cheap to clone.
#[derive(Clone)]
pub struct Ports {
    /// Applications.
    pub applications: Arc<dyn ApplicationStore>,
    /// Clients and tokens.
    pub credentials: Arc<dyn CredentialStore>,
    /// Users.
    pub users: Arc<dyn UserStore>,
}

impl Ports {
    /// All ports served by one store.
    pub fn from_store<S>(store: Arc<S>) -> Self
    where
        S: ApplicationStore + CredentialStore + UserStore + 'static,
    {
        Self { applications: store.clone(), credentials: store.clone(), users: store }
    }
}
