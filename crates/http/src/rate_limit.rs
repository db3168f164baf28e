//! API-wide rate limits, per application and per source address, announced on every answer
//! with the IETF httpapi draft's structured fields (draft-ietf-httpapi-ratelimit-headers):
//!
//! ```text
//! RateLimit-Policy: "address";q=2000;w=2, "application";q=2000;w=2
//! RateLimit: "address";r=1999;t=1, "application";r=1999;t=1
//! ```
//!
//! Each limit is a GCRA bucket (the `governor` crate): `burst` requests at once, refilled at
//! `per_second`. So `q` is the burst, `w` the seconds a full refill takes, `r` what is left and
//! `t` the seconds until the bucket is full again. Past a limit the answer is `429` with
//! `Retry-After` and error `RATE_LIMIT_REACHED`. The address limit is checked before anything
//! else (token requests and unauthenticated calls included); the application limit once the
//! token names the application ([`crate::extract::Authenticated`]).
//!
//! Loopback clients are exempt unless `ROOST_RATE_LIMIT_LOOPBACK=true`, so a benchmark or a
//! sidecar on the same machine is never limited. Health probes and metrics are never limited.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpMessage, HttpRequest};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// The settings: `per_second` sustained with bursts of `burst`; `None` turns limits off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// Requests allowed at once.
    pub burst: NonZeroU32,
    /// Whether loopback clients are limited too.
    pub loopback: bool,
}

/// The limiters of one node.
pub struct ApiRateLimits {
    settings: RateLimitSettings,
    per_application: Keyed<i64>,
    per_address: Keyed<IpAddr>,
    clock: DefaultClock,
    /// `RateLimit-Policy` for the address limit alone, and for both: the same on every answer,
    /// so written once.
    policies: [HeaderValue; 2],
}

/// What the limits a request went through left (`None`: not applied), kept in its extensions
/// until the answer is written.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Standings {
    address: Option<u32>,
    application: Option<u32>,
}

impl ApiRateLimits {
    /// Limiters with these settings.
    pub fn new(settings: RateLimitSettings) -> Self {
        let quota = Quota::per_second(settings.per_second).allow_burst(settings.burst);
        let (burst, window) = (settings.burst.get(), Self::window(settings));
        let policy = |names: &[&str]| {
            let items: Vec<String> = names.iter().map(|n| format!("\"{n}\";q={burst};w={window}")).collect();
            HeaderValue::from_str(&items.join(", ")).unwrap_or(HeaderValue::from_static(""))
        };
        Self {
            settings,
            per_application: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            per_address: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            clock: DefaultClock::default(),
            policies: [policy(&["address"]), policy(&["address", "application"])],
        }
    }

    /// Seconds for a full refill: the policy's window.
    fn window(settings: RateLimitSettings) -> u32 {
        settings.burst.get().div_ceil(settings.per_second.get()).max(1)
    }

    /// Whether requests from `address` are limited at all.
    pub fn applies_to(&self, address: Option<IpAddr>) -> bool {
        address.is_some_and(|a| self.settings.loopback || !a.is_loopback())
    }

    /// What is left of `key`'s allowance after this request, or how long to wait.
    fn check<K: std::hash::Hash + Eq + Clone>(&self, limiter: &Keyed<K>, key: &K) -> Result<u32, u64> {
        match limiter.check_key(key) {
            Ok(snapshot) => Ok(snapshot.remaining_burst_capacity()),
            // Rounded up: a retry after a rounded-down wait would be refused again.
            Err(not_until) => Err(not_until.wait_time_from(self.clock.now()).as_secs_f64().ceil().max(1.0) as u64),
        }
    }

    /// Counts a request from its source address.
    pub fn check_address(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(address) = req.peer_addr().map(|a| a.ip()).filter(|a| self.applies_to(Some(*a))) else {
            return Ok(());
        };
        let checked = self.check(&self.per_address, &address);
        req.extensions_mut().insert(Standings { address: Some(checked.unwrap_or(0)), application: None });
        checked.map(drop).map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
    }

    /// Counts a request for the application its token names.
    pub fn check_application(&self, req: &HttpRequest, application: i64) -> Result<(), ApiError> {
        if !self.applies_to(req.peer_addr().map(|a| a.ip())) {
            return Ok(());
        }
        let checked = self.check(&self.per_application, &application);
        req.extensions_mut().get_or_insert_with(Standings::default).application = Some(checked.unwrap_or(0));
        checked.map(drop).map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
    }

    /// Writes `RateLimit-Policy` and `RateLimit` for the limits `req` went through.
    pub(crate) fn write_headers(&self, req: &HttpRequest, headers: &mut HeaderMap) {
        use std::fmt::Write;
        let Some(standings) = req.extensions().get::<Standings>().copied() else { return };
        let Some(address) = standings.address else { return };
        let (burst, rate) = (self.settings.burst.get(), self.settings.per_second.get());
        // `t`: seconds until the allowance is full again.
        let refill = |remaining: u32| (burst - remaining.min(burst)).div_ceil(rate);
        let mut state = String::with_capacity(64);
        let _ = write!(state, "\"address\";r={address};t={}", refill(address));
        if let Some(application) = standings.application {
            let _ = write!(state, ", \"application\";r={application};t={}", refill(application));
        }
        let policy = &self.policies[usize::from(standings.application.is_some())];
        if let Ok(state) = HeaderValue::from_str(&state) {
            headers.insert(HeaderName::from_static("ratelimit-policy"), policy.clone());
            headers.insert(HeaderName::from_static("ratelimit"), state);
        }
    }

    /// Forgets keys whose allowance is full again, bounding memory.
    pub fn retain_recent(&self) {
        self.per_application.retain_recent();
        self.per_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn limits(burst: u32, loopback: bool) -> ApiRateLimits {
        ApiRateLimits::new(RateLimitSettings {
            per_second: NonZeroU32::MIN,
            burst: NonZeroU32::new(burst).unwrap(),
            loopback,
        })
    }

    fn from(address: &str) -> HttpRequest {
        TestRequest::default().peer_addr(format!("{address}:40000").parse().unwrap()).to_http_request()
    }

    #[test]
    fn a_burst_then_429_per_key_with_headers() {
        let limits = limits(2, false);
        let first = from("192.0.2.1");
        limits.check_address(&first).unwrap();
        let mut headers = HeaderMap::new();
        limits.write_headers(&first, &mut headers);
        assert_eq!(headers.get("ratelimit-policy").unwrap(), "\"address\";q=2;w=2");
        assert_eq!(headers.get("ratelimit").unwrap(), "\"address\";r=1;t=1");
        limits.check_address(&from("192.0.2.1")).unwrap();
        let refused = limits.check_address(&from("192.0.2.1")).unwrap_err();
        assert!(matches!(refused, ApiError::RateLimited { retry_after_secs } if retry_after_secs >= 1));
        limits.check_address(&from("192.0.2.2")).unwrap();
        // Applications are counted apart from addresses.
        let req = from("192.0.2.3");
        limits.check_application(&req, 7).unwrap();
        limits.check_application(&req, 7).unwrap();
        assert!(limits.check_application(&req, 7).is_err());
        assert!(limits.check_application(&req, 8).is_ok());
    }

    #[test]
    fn loopback_is_exempt_unless_asked() {
        let exempt = limits(1, false);
        for _ in 0..5 {
            exempt.check_address(&from("127.0.0.1")).unwrap();
        }
        let mut headers = HeaderMap::new();
        exempt.write_headers(&from("127.0.0.1"), &mut headers);
        assert!(headers.is_empty(), "no policy applies to an exempt client");
        let limited = limits(1, true);
        limited.check_address(&from("127.0.0.1")).unwrap();
        assert!(limited.check_address(&from("127.0.0.1")).is_err());
    }
}
