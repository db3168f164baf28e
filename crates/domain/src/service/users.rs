//! Users and their secrets.

use serde_json::Value;

use super::{check, stale, Guard, Service};
use crate::error::{DomainError, FieldErrorCode, StoreError};
use crate::model::application::Application;
use crate::model::ids::{ApplicationId, UserId};
use crate::model::page::{Page, PageRequest};
use crate::model::principal::Principal;
use crate::model::user::{
    already_exists, new_user, validate_secret, validate_secret_name, NewUser, Secret, User, UserFilter, UserPatch,
    UserRef, UserSort,
};
use crate::model::{has_nul, now};

const RESOURCE: &str = "user";

impl Service {
    /// Creates a user (`POST /v1/users`).
    pub fn create_user(&self, principal: &Principal, input: NewUser) -> Result<User, DomainError> {
        let application_id = principal.manage()?;
        let mut user = new_user(UserId(0), application_id, input, now())?;
        if self.ports.users.find_user_by_name(application_id, &user.name)?.is_some() {
            return Err(already_exists(&user.name));
        }
        // Drawn only for a user about to be stored: ids are shared with message appends.
        user.id = UserId(self.next_id());
        match self.ports.users.insert_user(&user) {
            Ok(()) => Ok(user),
            // Another request took the name between the check and the insert.
            Err(StoreError::Conflict(_)) => Err(already_exists(&user.name)),
            Err(e) => Err(e.into()),
        }
    }

    /// One user.
    pub fn get_user(&self, principal: &Principal, id: UserId) -> Result<User, DomainError> {
        self.user(principal.read_application()?, id)
    }

    /// The user with this username, or 404 (`HEAD /v1/users?name=`).
    pub fn find_user_by_name(&self, principal: &Principal, name: &str) -> Result<User, DomainError> {
        let application_id = principal.read_application()?;
        if has_nul(name) {
            return Err(DomainError::NotFound(RESOURCE));
        }
        self.ports.users.find_user_by_name(application_id, name)?.ok_or(DomainError::NotFound(RESOURCE))
    }

    /// A page of users (`GET /v1/users`).
    pub fn list_users(
        &self,
        principal: &Principal,
        filter: &UserFilter,
        page: &PageRequest<UserSort>,
    ) -> Result<Page<User>, DomainError> {
        let application_id = principal.read_application()?;
        if filter.name.as_deref().is_some_and(has_nul) {
            return Ok(Page { items: Vec::new(), number: page.number, size: page.size, total_elements: 0 });
        }
        if filter.unread {
            // Who has unread messages spans channels a user may not see.
            principal.manage()?;
            let with_unread = self.ports.messages.users_with_unread(application_id)?;
            let filter = UserFilter { ids: Some(with_unread), ..filter.clone() };
            return Ok(self.ports.users.list_users(application_id, &filter, page)?);
        }
        Ok(self.ports.users.list_users(application_id, filter, page)?)
    }

    /// Applies an RFC 7396 merge patch to a user (`PATCH /v1/users/{id}`).
    pub fn patch_user(
        &self,
        principal: &Principal,
        id: UserId,
        merge_patch: Value,
        guard: Guard<'_, User>,
    ) -> Result<User, DomainError> {
        let patch = UserPatch::from_merge_patch(merge_patch)?;
        // A user changes itself through `PATCH /v1/me`; this path is the back end's.
        let mut user = self.user(principal.manage()?, id)?;
        check(guard, &user)?;
        user.apply(&patch, now())?;
        self.ports.users.update_user(&user).map_err(|e| stale(guard, e))?;
        Ok(user)
    }

    /// Deletes a user and its secrets (`DELETE /v1/users/{id}`); answers with the application.
    pub fn delete_user(
        &self,
        principal: &Principal,
        id: UserId,
        guard: Guard<'_, User>,
    ) -> Result<Application, DomainError> {
        let application_id = principal.manage()?;
        let user = self.user(application_id, id)?;
        check(guard, &user)?;
        let revision = guard.map(|_| user.version);
        if !self.ports.users.delete_user(application_id, id, revision)? {
            // Gone, or (conditional) changed since it was read.
            return Err(if revision.is_some() {
                DomainError::PreconditionFailed
            } else {
                DomainError::NotFound(RESOURCE)
            });
        }
        self.application(application_id)
    }

    /// Deletes the users `ids` in one transaction, all or none (`DELETE /v1/users?ids=`);
    /// answers with the application. Their hosted pictures are marked removed with them.
    pub fn delete_users(&self, principal: &Principal, ids: &[UserId]) -> Result<Application, DomainError> {
        let application_id = principal.manage()?;
        let ids = super::bulk_ids(ids)?;
        if let Some(missing) = self.ports.users.delete_users(application_id, &ids)? {
            return Err(DomainError::NotFoundId { resource: RESOURCE, id: missing.0 });
        }
        self.application(application_id)
    }

    /// A user's named secret.
    pub fn get_secret(&self, principal: &Principal, id: UserId, name: &str) -> Result<Secret, DomainError> {
        validate_secret_name(name)?;
        let application_id = principal.manage()?;
        self.user(application_id, id)?;
        self.ports.users.get_secret(application_id, id, name)?.ok_or(DomainError::NotFound("secret"))
    }

    /// Sets a user's named secret; answers with the user.
    pub fn put_secret(
        &self,
        principal: &Principal,
        id: UserId,
        name: &str,
        secret: Value,
        guard: Guard<'_, Option<Secret>>,
    ) -> Result<User, DomainError> {
        validate_secret_name(name)?;
        validate_secret(&secret)?;
        let application_id = principal.manage()?;
        let user = self.user(application_id, id)?;
        // A conditional write writes only the secret as its precondition saw it.
        let seen = match guard {
            None => None,
            Some(_) => {
                let current = self.ports.users.get_secret(application_id, id, name)?;
                check(guard, &current)?;
                Some(current.map(|s| s.updated_time))
            }
        };
        match self.ports.users.put_secret(application_id, id, name, &secret, now(), seen) {
            Ok(true) => Ok(user),
            // Changed (or created by another request) since its precondition saw it.
            Ok(false) => Err(DomainError::PreconditionFailed),
            Err(StoreError::Conflict(_)) if seen.is_some() => Err(DomainError::PreconditionFailed),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a user's named secret; answers with the user.
    pub fn delete_secret(
        &self,
        principal: &Principal,
        id: UserId,
        name: &str,
        guard: Guard<'_, Option<Secret>>,
    ) -> Result<User, DomainError> {
        validate_secret_name(name)?;
        let application_id = principal.manage()?;
        let user = self.user(application_id, id)?;
        let seen = match guard {
            None => None,
            Some(_) => {
                // Without its precondition this would be a 404: so it is (RFC 9110 §13.2.1).
                let current = self.ports.users.get_secret(application_id, id, name)?.map(Some);
                let Some(current) = current else { return Err(DomainError::NotFound("secret")) };
                check(guard, &current)?;
                current.map(|s| s.updated_time)
            }
        };
        if self.ports.users.delete_secret(application_id, id, name, seen)? {
            Ok(user)
        } else if seen.is_some() {
            // Set again since its precondition saw it.
            Err(DomainError::PreconditionFailed)
        } else {
            Err(DomainError::NotFound("secret"))
        }
    }

    /// One user of the application, or 404.
    pub(super) fn user(&self, application_id: ApplicationId, id: UserId) -> Result<User, DomainError> {
        self.ports.users.find_user(application_id, id)?.ok_or(DomainError::NotFound(RESOURCE))
    }

    /// Resolves a user reference of a request body; a missing user is a field error on `field`.
    pub(super) fn resolve_user(
        &self,
        application_id: ApplicationId,
        user: &UserRef,
        field: &str,
    ) -> Result<User, DomainError> {
        let found = match user {
            UserRef::Id(id) => self.ports.users.find_user(application_id, *id)?,
            UserRef::Name(name) if has_nul(name) => None,
            UserRef::Name(name) => self.ports.users.find_user_by_name(application_id, name)?,
        };
        found.ok_or_else(|| {
            let what = match user {
                UserRef::Id(id) => format!("no user with id {id}"),
                UserRef::Name(name) => format!("no user named '{name}'"),
            };
            DomainError::field("user", field, FieldErrorCode::Invalid, what)
        })
    }
}
