//! Webhooks: an application's endpoints that receive its events as signed POSTs, and the log of
//! each delivery with its retries.

use std::collections::BTreeSet;

use super::event::EventType;
use super::ids::ApplicationId;
use super::Timestamp;
use crate::error::{DomainError, FieldError, FieldErrorCode};

const RESOURCE: &str = "webhook";

/// Longest webhook URL.
pub const MAX_URL_CHARS: usize = 2_048;

/// Deliveries are retried for at least this long after the event.
pub const RETRY_FOR_HOURS: i64 = 24;

/// Retries are never further apart than this.
pub const MAX_RETRY_GAP_SECONDS: i64 = 3_600;

/// A webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Its id.
    pub id: i64,
    /// The tenant.
    pub application_id: ApplicationId,
    /// Where events are POSTed (`http` or `https`).
    pub url: String,
    /// Only these event types (empty: every event of the log).
    pub events: BTreeSet<EventType>,
    /// Whether events are delivered.
    pub enabled: bool,
    /// The HMAC-SHA256 key signing deliveries.
    pub secret: String,
    /// The key before the last rotation, and until when deliveries carry its signature too.
    pub previous_secret: Option<(String, Timestamp)>,
    /// The newest event of the log turned into deliveries.
    pub cursor: i64,
    /// Creation time.
    pub created_time: Timestamp,
    /// Last change.
    pub updated_time: Timestamp,
}

impl Webhook {
    /// Whether an event of this type is delivered to it.
    pub fn wants(&self, event_type: EventType) -> bool {
        !event_type.is_live_only() && (self.events.is_empty() || self.events.contains(&event_type))
    }

    /// The keys a delivery at `now` is signed with: the current one, and the previous one during
    /// a rotation's overlap.
    pub fn signing_keys(&self, now: Timestamp) -> Vec<&str> {
        let mut keys = vec![self.secret.as_str()];
        if let Some((previous, until)) = &self.previous_secret {
            if *until > now {
                keys.push(previous.as_str());
            }
        }
        keys
    }
}

/// Input of `POST /v1/webhooks` and `PATCH /v1/webhooks/{id}`: what is given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookPatch {
    /// New URL.
    pub url: Option<String>,
    /// New event filter, by wire name.
    pub events: Option<Vec<String>>,
    /// Enabled or not.
    pub enabled: Option<bool>,
}

/// Checks a webhook URL's shape: absolute `http`/`https` with a host, no credentials, bounded.
/// Where it points is checked when it is called (after DNS resolution).
pub fn validate_url(url: &str) -> Result<(), DomainError> {
    let invalid = |why: &str| DomainError::field(RESOURCE, "url", FieldErrorCode::Invalid, why.to_owned());
    if url.chars().count() > MAX_URL_CHARS {
        return Err(invalid("url must be at most 2048 characters"));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid("url must be an absolute http or https URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(invalid("url must name a host"));
    }
    if authority.contains('@') {
        return Err(invalid("url must not carry credentials"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("url must not contain spaces or control characters"));
    }
    Ok(())
}

/// Parses an event filter: known types of the log (live-only ones are not delivered).
pub fn parse_events(names: &[String]) -> Result<BTreeSet<EventType>, DomainError> {
    let mut errors = Vec::new();
    let mut types = BTreeSet::new();
    for name in names {
        match EventType::parse(name) {
            Some(t) if !t.is_live_only() => {
                types.insert(t);
            }
            _ => errors.push(FieldError::new(
                RESOURCE,
                "events",
                FieldErrorCode::Invalid,
                format!("'{name}' is not an event type webhooks receive"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(types)
    } else {
        Err(DomainError::Validation(errors))
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet; retried until delivered or given up.
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Given up (a day of retries, or a refused destination).
    Failed,
}

impl DeliveryStatus {
    /// Wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Delivered => "DELIVERED",
            Self::Failed => "FAILED",
        }
    }

    /// Parses the storage spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PENDING" => Some(Self::Pending),
            "DELIVERED" => Some(Self::Delivered),
            "FAILED" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One event's delivery to one webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// Its id.
    pub id: i64,
    /// The webhook.
    pub webhook_id: i64,
    /// The tenant.
    pub application_id: ApplicationId,
    /// The event's id in the application's log (`Roost-Event-Id`).
    pub event_id: i64,
    /// The event's type.
    pub event_type: EventType,
    /// The body POSTed, rendered once so every attempt sends the same bytes.
    pub payload: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i32,
    /// The last answer's status code.
    pub response_code: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it is tried next (pending only).
    pub next_attempt_time: Option<Timestamp>,
    /// When the event was turned into this delivery.
    pub created_time: Timestamp,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Delivered(i32),
    /// Any other answer (3xx included: redirects are not followed), or no answer.
    Failed {
        /// The answer's status, if one came.
        code: Option<i32>,
        /// What went wrong.
        error: String,
    },
    /// The destination may never be called (a private address): given up at once.
    Refused(String),
}

/// When a delivery whose `attempts`-th attempt just failed is tried again: exponential from
/// `base` seconds, jittered by up to a fifth, at most an hour apart; `None` once a day has
/// passed since it was created (given up).
pub fn next_attempt(
    attempts: i32,
    base_seconds: u64,
    jitter: f64,
    created: Timestamp,
    now: Timestamp,
) -> Option<Timestamp> {
    if now - created >= chrono::Duration::hours(RETRY_FOR_HOURS) {
        return None;
    }
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let base = i64::try_from(base_seconds).unwrap_or(i64::MAX).max(1);
    let gap = base.saturating_mul(1_i64 << exponent).min(MAX_RETRY_GAP_SECONDS);
    // Jitter spreads the retries of many deliveries that failed together (a receiver's outage).
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss, reason = "seconds, bounded by an hour")]
    let jittered = (gap as f64 * (1.0 + jitter.clamp(0.0, 1.0) / 5.0)) as i64;
    Some(now + chrono::Duration::seconds(jittered.min(MAX_RETRY_GAP_SECONDS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_absolute_http_without_credentials() {
        for good in ["https://example.com/hook", "http://10.0.0.1:8080/x?y=1"] {
            assert!(validate_url(good).is_ok(), "{good}");
        }
        for bad in ["ftp://example.com", "example.com/hook", "https://", "https://u:p@example.com/", "https://a b.com"]
        {
            assert!(validate_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters_name_stored_event_types_only() {
        assert_eq!(parse_events(&["message.created".into()]).unwrap().len(), 1);
        assert!(parse_events(&["keystrokes".into()]).is_err());
        assert!(parse_events(&["message.exploded".into()]).is_err());
    }

    #[test]
    fn retries_back_off_exponentially_capped_at_an_hour_for_a_day() {
        let created = crate::model::now();
        let gap =
            |attempts, jitter| (next_attempt(attempts, 5, jitter, created, created).unwrap() - created).num_seconds();
        assert_eq!(gap(1, 0.0), 5);
        assert_eq!(gap(2, 0.0), 10);
        assert_eq!(gap(3, 0.0), 20);
        assert_eq!(gap(3, 1.0), 24, "a fifth of jitter at most");
        assert_eq!(gap(15, 0.0), 3_600, "never more than an hour apart");
        assert_eq!(gap(15, 1.0), 3_600);
        let later = created + chrono::Duration::hours(24);
        assert_eq!(next_attempt(30, 5, 0.0, created, later), None, "given up after a day");
    }

    #[test]
    fn a_rotated_secret_signs_too_until_the_overlap_ends() {
        let now = crate::model::now();
        let mut hook = Webhook {
            id: 1,
            application_id: ApplicationId(1),
            url: "https://example.com".into(),
            events: BTreeSet::new(),
            enabled: true,
            secret: "new".into(),
            previous_secret: Some(("old".into(), now + chrono::Duration::hours(1))),
            cursor: 0,
            created_time: now,
            updated_time: now,
        };
        assert_eq!(hook.signing_keys(now), ["new", "old"]);
        hook.previous_secret = Some(("old".into(), now - chrono::Duration::seconds(1)));
        assert_eq!(hook.signing_keys(now), ["new"]);
        assert!(hook.wants(EventType::MessageCreated));
        assert!(!hook.wants(EventType::Keystrokes));
    }
}
