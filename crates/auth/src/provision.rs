//! Creating applications with their first client, and rotating client secrets.

use roost_domain::model::application::{
    validate_application_name, Application, ApplicationSettings, OAuthClient, Organization,
};
use roost_domain::ports::{ApplicationStore, CredentialStore};
use roost_domain::{ApplicationId, DomainError, IdGenerator, OrganizationId, StoreError, Timestamp};

use crate::secret::{generate_client_secret, SecretHasher};

/// Name of the organization created for the first application.
pub const DEFAULT_ORGANIZATION_NAME: &str = "Default organization";

/// A new application and its credentials. The plain secret exists only here: show it once.
#[derive(Clone)]
pub struct Provisioned {
    /// The application.
    pub application: Application,
    /// Its client id.
    pub client_id: String,
    /// Its client secret, never stored.
    pub client_secret: String,
}

impl std::fmt::Debug for Provisioned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioned")
            .field("application", &self.application.id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn hash_error(e: impl std::fmt::Display) -> DomainError {
    DomainError::Store(StoreError::Other(e.to_string().into()))
}

/// Creates an application (and the default organization when there is none yet) with one
/// client credential, all in one transaction.
pub fn create_application(
    applications: &dyn ApplicationStore,
    ids: &IdGenerator,
    hasher: &SecretHasher,
    name: &str,
    now: Timestamp,
) -> Result<Provisioned, DomainError> {
    let name = validate_application_name(name)?;
    let (new_organization, organization_id) = match applications.first_organization()? {
        Some(org) => (None, org.id),
        None => {
            let org = Organization {
                id: OrganizationId(ids.next_id()),
                name: DEFAULT_ORGANIZATION_NAME.into(),
                created_time: now,
            };
            let id = org.id;
            (Some(org), id)
        }
    };
    let application = Application {
        id: ApplicationId(ids.next_id()),
        organization_id,
        key: uuid::Uuid::new_v4().to_string(),
        name,
        created_time: now,
        version: 1,
        updated_time: None,
        properties: Default::default(),
        settings: ApplicationSettings::default(),
    };
    let client_secret = generate_client_secret();
    let client = OAuthClient {
        client_id: uuid::Uuid::new_v4().to_string(),
        application_id: application.id,
        organization_id,
        secret_hash: hasher.hash(&client_secret).map_err(hash_error)?,
        created_time: now,
    };
    applications.create_application(new_organization.as_ref(), &application, &client)?;
    Ok(Provisioned { application, client_id: client.client_id, client_secret })
}

/// Issues a new secret for the application's client; the old one and every token issued under
/// it stop working at once.
pub fn rotate_client_secret(
    applications: &dyn ApplicationStore,
    credentials: &dyn CredentialStore,
    hasher: &SecretHasher,
    application_id: ApplicationId,
) -> Result<Provisioned, DomainError> {
    let application = applications.find_application(application_id)?.ok_or(DomainError::NotFound("application"))?;
    let client = credentials.clients_of(application_id)?.into_iter().next().ok_or(DomainError::NotFound("client"))?;
    let client_secret = generate_client_secret();
    let hash = hasher.hash(&client_secret).map_err(hash_error)?;
    if !credentials.rotate_client_secret(&client.client_id, &hash)? {
        return Err(DomainError::NotFound("client"));
    }
    Ok(Provisioned { application, client_id: client.client_id, client_secret })
}

/// Renames application `id` (the name rules of [`create_application`]).
pub fn rename_application(
    store: &dyn ApplicationStore,
    id: ApplicationId,
    name: &str,
) -> Result<Application, DomainError> {
    let name = validate_application_name(name)?;
    store.rename_application(id, &name)?.ok_or(DomainError::NotFound("application"))
}

/// Deletes application `id` and everything of it, in one transaction.
pub fn delete_application(store: &dyn ApplicationStore, id: ApplicationId) -> Result<(), DomainError> {
    if store.delete_application(id)? {
        Ok(())
    } else {
        Err(DomainError::NotFound("application"))
    }
}
