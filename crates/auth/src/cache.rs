//! Bearer tokens recently found valid, kept in memory so that most API requests are authorized
//! without a storage round trip (issue 4: the bearer lookup was one of two storage hops per page).
//!
//! An entry is trusted for a short while (`trust_for`, 10 s by default) and never past the
//! token's own expiry. Revocation through this node's `/oauth/revoke` drops the entry at once;
//! a revocation this node does not see (another node, or `roost clients rotate`) takes effect
//! when the entry's trust runs out.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Duration;
use quick_cache::sync::Cache;
use roost_domain::model::application::AccessTokenRecord;
use roost_domain::Timestamp;

use roost_domain::Principal;

/// Tokens most recently seen valid, by their hex SHA-256.
pub struct TokenCache {
    entries: Option<Cache<String, Remembered>>,
    trust_for: Duration,
    /// Revocations seen so far. A check that read storage before a revocation committed must
    /// not remember the token after that revocation's `forget` (it would undo it).
    revocations: AtomicU64,
}

#[derive(Clone)]
struct Remembered {
    principal: Principal,
    /// The earlier of the token's expiry and the end of this entry's trust.
    usable_until: Timestamp,
}

impl TokenCache {
    /// Remembers up to `capacity` tokens, each for `trust_for`; a zero duration disables it.
    pub fn new(capacity: usize, trust_for: Duration) -> Self {
        let entries = (trust_for > Duration::zero() && capacity > 0).then(|| Cache::new(capacity));
        Self { entries, trust_for, revocations: AtomicU64::new(0) }
    }

    /// The principal of a token seen valid recently, if its trust has not run out.
    pub fn principal(&self, token_hash: &str, now: Timestamp) -> Option<Principal> {
        let entries = self.entries.as_ref()?;
        let remembered = entries.get(token_hash)?;
        if now < remembered.usable_until {
            Some(remembered.principal)
        } else {
            entries.remove(token_hash);
            None
        }
    }

    /// The revocation count to hand to [`Self::remember`]: read it before looking the token up
    /// in storage.
    pub fn revocations(&self) -> u64 {
        self.revocations.load(Ordering::SeqCst)
    }

    /// Records a token just found active in storage, unless a revocation happened since
    /// `revocations_before` was read (the lookup may predate it).
    pub fn remember(&self, record: &AccessTokenRecord, principal: &Principal, now: Timestamp, revocations_before: u64) {
        self.remember_until(&record.token_hash, record.expires_time, principal, now, revocations_before);
    }

    /// [`Self::remember`] for any token (a user session's too) that expires at `expires`.
    pub fn remember_until(
        &self,
        token_hash: &str,
        expires: Timestamp,
        principal: &Principal,
        now: Timestamp,
        revocations_before: u64,
    ) {
        let Some(entries) = &self.entries else { return };
        if self.revocations() != revocations_before {
            return;
        }
        let usable_until = expires.min(now + self.trust_for);
        entries.insert(token_hash.to_owned(), Remembered { principal: principal.clone(), usable_until });
        // A revocation between the check above and the insert: `forget` counts before it
        // removes, so either it removed this entry or the count differs now.
        if self.revocations() != revocations_before {
            entries.remove(token_hash);
        }
    }

    /// Drops a token after it was revoked.
    pub fn forget(&self, token_hash: &str) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.remove(token_hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roost_domain::{ApplicationId, OrganizationId};

    fn record(expires_in: Duration, now: Timestamp) -> (AccessTokenRecord, Principal) {
        let record = AccessTokenRecord {
            token_hash: "h".into(),
            client_id: "c".into(),
            application_id: ApplicationId(1),
            organization_id: OrganizationId(2),
            created_time: now,
            expires_time: now + expires_in,
            revoked: false,
        };
        let principal = Principal::Application {
            application_id: record.application_id,
            organization_id: record.organization_id,
            client_id: record.client_id.clone(),
        };
        (record, principal)
    }

    #[test]
    fn trusted_for_a_while_never_past_expiry_and_forgotten_on_request() {
        let now = roost_domain::now();
        let cache = TokenCache::new(10, Duration::seconds(10));
        let (long, principal) = record(Duration::hours(1), now);
        cache.remember(&long, &principal, now, cache.revocations());
        assert_eq!(cache.principal("h", now + Duration::seconds(9)), Some(principal.clone()));
        assert_eq!(cache.principal("h", now + Duration::seconds(10)), None, "trust runs out");

        let (short, principal) = record(Duration::seconds(2), now);
        cache.remember(&short, &principal, now, cache.revocations());
        assert_eq!(cache.principal("h", now + Duration::seconds(2)), None, "never past the token's expiry");

        cache.remember(&long, &principal, now, cache.revocations());
        cache.forget("h");
        assert_eq!(cache.principal("h", now), None);
    }

    #[test]
    fn a_lookup_older_than_a_revocation_is_not_remembered() {
        let now = roost_domain::now();
        let cache = TokenCache::new(10, Duration::seconds(10));
        let (record, principal) = record(Duration::hours(1), now);
        let before_lookup = cache.revocations();
        cache.forget("h"); // the revocation commits while the lookup is in flight
        cache.remember(&record, &principal, now, before_lookup);
        assert_eq!(cache.principal("h", now), None);
    }

    #[test]
    fn a_disabled_cache_remembers_nothing() {
        let now = roost_domain::now();
        // `ROOST_TOKEN_CACHE_SECONDS=0`.
        let cache = TokenCache::new(10, Duration::zero());
        let (long, principal) = record(Duration::hours(1), now);
        cache.remember(&long, &principal, now, cache.revocations());
        assert_eq!(cache.principal("h", now), None);
    }
}
