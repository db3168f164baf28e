//! Idempotent requests: claiming a key, recording and releasing its answer.

use super::Service;
use crate::error::DomainError;
use crate::model::idempotency::{validate_key, Claim, KeyClaim, RecordedResponse};
use chrono::SubsecRound;

use crate::model::principal::Principal;
use crate::model::{now, Timestamp};

impl Service {
    /// Claims `key` for a request with this `fingerprint`, for the principal's application.
    pub fn claim_idempotency_key(
        &self,
        principal: &Principal,
        key: &str,
        fingerprint: &str,
    ) -> Result<Claim, DomainError> {
        validate_key(key)?;
        let key = &scoped(principal, key);
        let application_id = principal.application_id();
        // Whole microseconds: the claim's time is its ownership token, compared with what the
        // database kept (PostgreSQL keeps microseconds).
        let claim = KeyClaim { key, fingerprint, now: now().trunc_subsecs(6) };
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
        claimed: Timestamp,
        response: &RecordedResponse,
    ) -> Result<(), DomainError> {
        Ok(self.ports.idempotency.record_response(
            principal.application_id(),
            &scoped(principal, key),
            claimed,
            response,
        )?)
    }

    /// Frees `key` after its request failed in a way a retry should run again.
    pub fn release_idempotency_key(
        &self,
        principal: &Principal,
        key: &str,
        claimed: Timestamp,
    ) -> Result<(), DomainError> {
        Ok(self.ports.idempotency.release_key(principal.application_id(), &scoped(principal, key), claimed)?)
    }

    /// Deletes expired records (housekeeping; no principal).
    pub fn purge_idempotency_keys(&self) -> Result<u64, DomainError> {
        Ok(self.ports.idempotency.purge_keys(now())?)
    }
}

/// The key as stored: an application's keys as sent, a user's in a namespace of their own, so
/// no one replays another's recorded answer by reusing its key.
fn scoped(principal: &Principal, key: &str) -> String {
    match principal.user_id() {
        None => key.to_owned(),
        Some(user) => format!("user:{user}:{key}"),
    }
}
