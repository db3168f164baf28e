//! The token endpoint's rate limit, per client id and per source address, so argon2 cannot be
//! used to exhaust the CPU (standards-notes §6, item 3; OWASP API4).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Keyed limiters for the token endpoint.
#[derive(Debug)]
pub struct TokenRateLimiter {
    per_client: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl TokenRateLimiter {
    /// `per_second` attempts per second sustained, with bursts of `burst`, for each source
    /// address and for each client id from one address. Keying the client limit on the address
    /// too means nobody can lock a client out by spending its allowance with wrong secrets.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self::with_quotas(quota, quota)
    }

    /// Limits with a quota per key (from one address) and one per address: end users' logins
    /// (`per_key` per account) share an address behind a NAT more often than back ends do.
    pub fn with_quotas(per_key: Quota, per_address: Quota) -> Self {
        Self {
            per_client: RateLimiter::keyed(per_key),
            per_address: RateLimiter::keyed(per_address),
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` when an attempt may proceed, else the seconds to wait (at least 1).
    pub fn check(&self, client_id: Option<&str>, address: Option<IpAddr>) -> Result<(), u64> {
        let wait = |not_until: governor::NotUntil<_>| not_until.wait_time_from(self.clock.now()).as_secs().max(1);
        if let Some(address) = address {
            self.per_address.check_key(&address).map_err(wait)?;
        }
        if let Some(client_id) = client_id {
            let key = address.map_or_else(|| client_id.to_owned(), |a| format!("{client_id}|{a}"));
            self.per_client.check_key(&key).map_err(wait)?;
        }
        Ok(())
    }

    /// Forgets keys whose allowance is full again, bounding memory.
    pub fn retain_recent(&self) {
        self.per_client.retain_recent();
        self.per_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_are_allowed_then_limited_per_key() {
        let limiter = TokenRateLimiter::new(NonZeroU32::MIN, NonZeroU32::new(3).unwrap());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(Some("a"), None).is_ok());
        }
        let wait = limiter.check(Some("a"), None).unwrap_err();
        assert!(wait >= 1);
        assert!(limiter.check(Some("b"), Some(ip)).is_ok(), "other keys are unaffected");
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..2 {
            assert!(limiter.check(Some("c"), Some(other)).is_ok());
        }
        assert!(limiter.check(Some("c"), Some(ip)).is_ok(), "another address keeps its own allowance for the client");
    }
}
