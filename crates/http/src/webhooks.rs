//! Webhook delivery, driven from the event log: each enabled webhook's new events become
//! deliveries (rendered once, recorded with the webhook's cursor in one transaction), then due
//! deliveries are claimed, signed and POSTed, and each attempt is recorded. At least once: a
//! process killed between commit and delivery leaves the delivery pending (or the cursor
//! behind), and the next run sends it; receivers dedupe on `Roost-Event-Id`.
//!
//! Outbound calls never reach loopback, private, link-local or other non-public addresses,
//! checked after DNS resolution and pinned for the connection (no second lookup to rebind),
//! and redirects are not followed, unless the host is allowed (`ROOST_WEBHOOK_ALLOWED_HOSTS`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web;
use hmac::{Hmac, Mac};
use roost_domain::model::webhook::{next_attempt, AttemptOutcome, DeliveryStatus, Webhook, WebhookDelivery};
use roost_domain::{DomainError, Service, Timestamp};
use sha2::Sha256;

use crate::casing::Casing;
use crate::realtime::Outgoing;
use crate::state::AppState;
use crate::urls::Urls;

/// Settings of webhook delivery.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Hosts (`host` or `host:port`) that may be called even at a private address.
    pub allowed_hosts: Vec<String>,
    /// The first retry's delay, doubling after each failure (`ROOST_WEBHOOK_RETRY_BASE_SECONDS`).
    pub retry_base_seconds: u64,
    /// How long a rotated-out secret still signs (`ROOST_WEBHOOK_SECRET_OVERLAP_SECONDS`).
    pub secret_overlap: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            retry_base_seconds: 5,
            secret_overlap: Duration::from_secs(86_400),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Deliveries claimed per round, and how long a claim lasts (longer than a round can take).
const CLAIM: u32 = 16;
const LEASE: Duration = Duration::from_secs(120);
/// Rounds run at least this often (other nodes' events, retries coming due).
const ROUND: Duration = Duration::from_secs(1);

/// Runs webhook delivery until the process ends.
///
/// Woken after every commit of this node, so it must cost nothing when there is nothing to do:
/// the list of enabled webhooks is read once a second (none: no work on a wake), and due
/// deliveries are looked for once a second or right after new ones were made.
pub async fn run(state: web::Data<AppState>) {
    let urls = Urls::fixed(state.settings.public_url.as_deref().unwrap_or("http://localhost"));
    let mut hooks: Vec<Webhook> = Vec::new();
    let mut listed: Option<Instant> = None;
    let mut claimed: Option<Instant> = None;
    loop {
        if let Err(error) = round(&state, &urls, &mut hooks, &mut listed, &mut claimed).await {
            tracing::warn!(%error, "webhook delivery round failed");
        }
        tokio::select! {
            () = state.realtime.wake.notified() => {},
            () = tokio::time::sleep(ROUND) => {},
        }
    }
}

async fn on_storage<T: Send + 'static>(
    state: &web::Data<AppState>,
    call: impl FnOnce(&Service) -> Result<T, DomainError> + Send + 'static,
) -> Result<T, crate::error::ApiError> {
    let service = state.service.clone();
    crate::extract::blocking(state, None, move || Ok(call(&service)?)).await
}

fn due(last: Option<Instant>) -> bool {
    last.is_none_or(|at| at.elapsed() >= ROUND)
}

/// One round: enqueue what the log holds for each enabled webhook, then send what is due.
async fn round(
    state: &web::Data<AppState>,
    urls: &Urls,
    hooks: &mut Vec<Webhook>,
    listed: &mut Option<Instant>,
    claimed: &mut Option<Instant>,
) -> Result<(), crate::error::ApiError> {
    if due(*listed) {
        *hooks = on_storage(state, Service::enabled_webhooks).await?;
        *listed = Some(Instant::now());
    }
    let mut made = 0;
    if !hooks.is_empty() {
        let (urls, mut working) = (urls.clone(), std::mem::take(hooks));
        let (worked, count) = on_storage(state, move |service| {
            let count = enqueue(service, &urls, &mut working)?;
            Ok((working, count))
        })
        .await?;
        *hooks = worked;
        made = count;
    }
    if made == 0 && !due(*claimed) {
        return Ok(());
    }
    *claimed = Some(Instant::now());
    let lease_until = roost_domain::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let claimed = on_storage(state, move |service| service.claim_deliveries(lease_until, CLAIM)).await?;
    let settings = Arc::new(state.settings.webhooks.clone());
    let mut attempts: futures_util::stream::FuturesUnordered<_> = claimed
        .into_iter()
        .map(|(delivery, hook)| {
            let settings = Arc::clone(&settings);
            async move {
                // The whole attempt, DNS included, ends well inside the claim's lease.
                let limit = settings.timeout.saturating_add(Duration::from_secs(5)).min(LEASE / 2);
                let fallback = delivery.clone();
                match tokio::time::timeout(limit, attempt(delivery, hook, &settings)).await {
                    Ok(done) => done,
                    Err(_) => failed_attempt(fallback, &settings, "the attempt timed out"),
                }
            }
        })
        .collect();
    // Each result is recorded as it comes: a slow receiver does not hold the others' back.
    while let Some(done) = futures_util::StreamExt::next(&mut attempts).await {
        if let Err(error) = on_storage(state, move |service| service.record_attempt(&done, lease_until)).await {
            tracing::warn!(%error, "cannot record a webhook attempt");
        }
    }
    Ok(())
}

/// Turns the webhooks' new events into deliveries; how many were made. Each webhook's cursor
/// moves with its deliveries; one another node moved first is left for the next listing.
fn enqueue(service: &Service, urls: &Urls, hooks: &mut [Webhook]) -> Result<usize, DomainError> {
    let mut made = 0;
    for hook in hooks.iter_mut() {
        loop {
            let view = service.log_after(hook.application_id, hook.cursor)?;
            let Some(to) = view.value.last().map(|e| e.seq) else { break };
            let read = view.value.len();
            let related = Arc::new(view.related);
            let created = roost_domain::now();
            let deliveries: Vec<WebhookDelivery> = view
                .value
                .into_iter()
                .filter(|event| hook.wants(event.draft.event_type))
                .map(|event| {
                    let (event_id, event_type) = (event.seq, event.draft.event_type);
                    let rendered = Outgoing::stored(event, Arc::clone(&related)).json(urls, Casing::Camel);
                    WebhookDelivery {
                        id: service.new_id(),
                        webhook_id: hook.id,
                        application_id: hook.application_id,
                        event_id,
                        event_type,
                        payload: rendered.to_string(),
                        status: DeliveryStatus::Pending,
                        attempts: 0,
                        response_code: None,
                        last_error: None,
                        next_attempt_time: Some(created),
                        created_time: created,
                    }
                })
                .collect();
            if !service.enqueue_deliveries(hook, to, &deliveries)? {
                break;
            }
            made += deliveries.len();
            hook.cursor = to;
            if read < usize::try_from(roost_domain::service::LOG_BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
    }
    Ok(made)
}

fn schedule_retry(delivery: &mut WebhookDelivery, settings: &WebhookSettings, error: String, now: Timestamp) {
    delivery.last_error = Some(error);
    let jitter = rand::random::<f64>();
    delivery.next_attempt_time =
        next_attempt(delivery.attempts, settings.retry_base_seconds, jitter, delivery.created_time, now);
    if delivery.next_attempt_time.is_none() {
        delivery.status = DeliveryStatus::Failed;
    }
}

/// An attempt that ran out of time: counted and retried like any failure.
fn failed_attempt(mut delivery: WebhookDelivery, settings: &WebhookSettings, why: &str) -> WebhookDelivery {
    delivery.attempts += 1;
    delivery.response_code = None;
    schedule_retry(&mut delivery, settings, why.to_owned(), roost_domain::now());
    delivery
}

/// `Roost-Signature`: `t=UNIX_SECONDS`, then `v1=` HMAC-SHA256 of `t + "." + body` in hex per key.
pub fn signature(keys: &[&str], timestamp: i64, body: &str) -> String {
    let mut header = format!("t={timestamp}");
    for key in keys {
        // HMAC takes a key of any length.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else { continue };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        let digest = mac.finalize().into_bytes();
        header.push_str(",v1=");
        for byte in digest {
            header.push_str(&format!("{byte:02x}"));
        }
    }
    header
}

/// One attempt of a claimed delivery; the delivery as it stands after it.
async fn attempt(mut delivery: WebhookDelivery, hook: Option<Webhook>, settings: &WebhookSettings) -> WebhookDelivery {
    let now = roost_domain::now();
    let outcome = match &hook {
        Some(hook) if hook.enabled => post(hook, &delivery, settings, now).await,
        Some(_) => AttemptOutcome::Refused("the webhook is disabled".into()),
        None => AttemptOutcome::Refused("the webhook was deleted".into()),
    };
    delivery.attempts += 1;
    match outcome {
        AttemptOutcome::Delivered(code) => {
            delivery.status = DeliveryStatus::Delivered;
            delivery.response_code = Some(code);
            delivery.last_error = None;
            delivery.next_attempt_time = None;
        }
        AttemptOutcome::Failed { code, error } => {
            delivery.response_code = code;
            schedule_retry(&mut delivery, settings, error, now);
        }
        AttemptOutcome::Refused(why) => {
            delivery.status = DeliveryStatus::Failed;
            delivery.last_error = Some(why);
            delivery.next_attempt_time = None;
        }
    }
    delivery
}

async fn post(
    hook: &Webhook,
    delivery: &WebhookDelivery,
    settings: &WebhookSettings,
    now: Timestamp,
) -> AttemptOutcome {
    let failed = |error: String| AttemptOutcome::Failed { code: None, error };
    let url = match reqwest::Url::parse(&hook.url) {
        Ok(url) => url,
        Err(e) => return AttemptOutcome::Refused(format!("invalid url: {e}")),
    };
    let (Some(host), Some(port)) = (url.host_str().map(str::to_owned), url.port_or_known_default()) else {
        return AttemptOutcome::Refused("the url names no host".into());
    };
    let addresses: Vec<SocketAddr> = match tokio::net::lookup_host((host.trim_matches(['[', ']']), port)).await {
        Ok(found) => found.collect(),
        Err(e) => return failed(format!("cannot resolve {host}: {e}")),
    };
    let allowed = allowed(&settings.allowed_hosts, &host, port);
    let Some(address) = addresses.iter().find(|a| allowed || is_public(a.ip())).copied() else {
        return AttemptOutcome::Refused(format!(
            "{host} resolves to a loopback, private or link-local address (allow it with ROOST_WEBHOOK_ALLOWED_HOSTS)"
        ));
    };
    if !allowed && addresses.iter().any(|a| !is_public(a.ip())) {
        return AttemptOutcome::Refused(format!("{host} resolves to a non-public address among others"));
    }
    // The connection goes to the address checked, not to a second lookup's answer.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve the host itself, past the address check.
        .no_proxy()
        .timeout(settings.timeout)
        .resolve(&host, address)
        .build();
    let client = match client {
        Ok(client) => client,
        Err(e) => return failed(format!("cannot build the HTTP client: {e}")),
    };
    let timestamp = now.timestamp();
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("Roost-Webhooks/", env!("CARGO_PKG_VERSION")))
        .header("roost-event-id", delivery.event_id.to_string())
        .header("roost-event-type", delivery.event_type.as_str())
        .header("roost-signature", signature(&hook.signing_keys(now), timestamp, &delivery.payload))
        .body(delivery.payload.clone())
        .send()
        .await;
    match sent {
        Ok(answer) if answer.status().is_success() => AttemptOutcome::Delivered(i32::from(answer.status().as_u16())),
        Ok(answer) => AttemptOutcome::Failed {
            code: Some(i32::from(answer.status().as_u16())),
            error: format!("answered {}", answer.status()),
        },
        Err(e) => failed(format!("no answer: {e}")),
    }
}

fn allowed(allowed_hosts: &[String], host: &str, port: u16) -> bool {
    let with_port = format!("{host}:{port}");
    allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(host) || a.eq_ignore_ascii_case(&with_port))
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, RFC 4193),
/// link-local, shared (RFC 6598), unspecified, multicast, broadcast, documentation or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let first = s[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        // Link-local and the deprecated site-local.
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || first == 0x2001 && s[1] == 0x0db8
        // NAT64 and 6to4 wrap IPv4 addresses; the discard prefix; IPv4-compatible `::a.b.c.d`.
        || first == 0x0064 && s[1] == 0xff9b
        || first == 0x2002
        || first == 0x0100 && s[1..4] == [0, 0, 0]
        || s[..6] == [0, 0, 0, 0, 0, 0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_called() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::7f00:1",
            "2002:7f00:1::1",
            "fec0::1",
            "64:ff9b::a00:1",
            "::",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn allowed_hosts_match_by_host_or_host_and_port() {
        let list = vec!["localhost".to_owned(), "127.0.0.1:9000".to_owned()];
        assert!(allowed(&list, "localhost", 80));
        assert!(allowed(&list, "127.0.0.1", 9000));
        assert!(!allowed(&list, "127.0.0.1", 9001));
    }

    #[test]
    fn signatures_are_hmac_sha256_of_time_dot_body_per_key() {
        // RFC 4231 style check against a value computed independently (Python's hmac module).
        let header = signature(&["whsec_test"], 1_700_000_000, "{\"a\":1}");
        assert_eq!(header, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
        let two = signature(&["a", "b"], 1, "x");
        assert_eq!(two.matches("v1=").count(), 2);
    }
}
