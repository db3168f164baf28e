//! The application itself and its settings.

use super::{check, Guard, Service};
use crate::error::DomainError;
use crate::model::application::{Application, SettingsUpdate};
use crate::model::ids::ApplicationId;
use crate::model::now;
use crate::model::principal::Principal;

impl Service {
    /// The principal's application (`GET /v1/application`).
    pub fn get_application(&self, principal: &Principal) -> Result<Application, DomainError> {
        self.application(principal.read_application()?)
    }

    /// The application's settings (`GET /v1/application/settings`): for its back end only.
    pub fn application_settings(&self, principal: &Principal) -> Result<Application, DomainError> {
        self.application(principal.manage()?)
    }

    /// Replaces the settings given in `update`; the others keep their values.
    pub fn replace_settings(
        &self,
        principal: &Principal,
        update: SettingsUpdate,
        guard: Guard<'_, Application>,
    ) -> Result<Application, DomainError> {
        let id = principal.manage()?;
        let current = self.application(id)?;
        check(guard, &current)?;
        // A conditional PUT matches only the revision its precondition was checked on.
        let revision = guard.map(|_| current.version);
        match self.ports.applications.update_settings(id, revision, current.settings.with(update), now())? {
            Some(updated) => Ok(updated),
            None if revision.is_some() => Err(DomainError::PreconditionFailed),
            None => Err(DomainError::NotFound("application")),
        }
    }

    /// Whether this node can serve: its database answers and is migrated. Needs no principal:
    /// readiness probes carry no token, and the answer tells nothing of any tenant.
    pub fn readiness(&self) -> Result<(), DomainError> {
        Ok(self.ports.health.check_ready()?)
    }

    /// The store's counters and gauges, for monitoring (no query, no principal: nothing of any
    /// tenant is in them).
    pub fn store_stats(&self) -> crate::ports::StoreStats {
        self.ports.health.stats()
    }

    /// The application by id: what deletions answer with (spec 2.41.9).
    pub(super) fn application(&self, id: ApplicationId) -> Result<Application, DomainError> {
        self.ports.applications.find_application(id)?.ok_or(DomainError::NotFound("application"))
    }
}
