//! Idempotent requests: claiming a key, recording and releasing its answer.

use super::Service;
use crate::error::DomainError;
use crate::model::idempotency::{validate_key, Claim, KeyClaim, RecordedResponse};
use crate::model::now;
use crate::model::principal::Principal;

impl Service {
    /// Claims `key` for a request with this `fingerprint`, for the principal's application.
    pub fn claim_idempotency_key(
        &self,
        principal: &Principal,
        key: &str,
        fingerprint: &str,
    ) -> Result<Claim, DomainError> {
        validate_key(key)?;
        let application_id = principal.application_id();
        let claim = KeyClaim { key, fingerprint, now: now() };
        match self.ports.idempotency.claim_key(application_id, &claim) {
            // Another node inserted the key between this claim's read and write: read again.
            Err(crate::error::StoreError::Conflict(_)) => {
                Ok(self.ports.idempotency.claim_key(application_id, &claim)?)
            }
            other => Ok(other?),
        }
    }

    /// Records the answer to the request that claimed `key`.
    pub fn record_idempotent_response(
        &self,
        principal: &Principal,
        key: &str,
        response: &RecordedResponse,
    ) -> Result<(), DomainError> {
        Ok(self.ports.idempotency.record_response(principal.application_id(), key, response)?)
    }

    /// Frees `key` after its request failed in a way a retry should run again.
    pub fn release_idempotency_key(&self, principal: &Principal, key: &str) -> Result<(), DomainError> {
        Ok(self.ports.idempotency.release_key(principal.application_id(), key)?)
    }

    /// Deletes expired records (housekeeping; no principal).
    pub fn purge_idempotency_keys(&self) -> Result<u64, DomainError> {
        Ok(self.ports.idempotency.purge_keys(now())?)
    }
}
