//! Shared state handed to every handler.

use std::num::NonZeroU32;
use std::sync::Arc;

use roost_auth::{AuthServer, SecretHasher, TokenRateLimiter, TokenSettings};
use roost_domain::{IdGenerator, Ports, Service};

use crate::cache::ResponseCache;
use crate::hashing::{HashingQueue, QueueLimits};
use crate::metrics::Metrics;
use crate::rate_limit::{ApiRateLimits, RateLimitSettings};

/// How long a secret check may wait for a hashing thread before it is dropped unrun: longer
/// than a fair turn takes under any flood seen so far, shorter than common client timeouts.
const HASHING_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);
use crate::workers::WorkerPool;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Base of absolute links, e.g. `https://chat.example.com`; `None` derives it from the
    /// request's `Host` (and `X-Forwarded-*` are ignored, so a proxy should set this).
    pub public_url: Option<String>,
    /// Token lifetime.
    pub tokens: TokenSettings,
    /// Token requests per second allowed per client id and per source address.
    pub token_rate_per_second: NonZeroU32,
    /// Burst allowance on top of that rate.
    pub token_rate_burst: NonZeroU32,
    /// argon2 verifications running at once (each holds 19 MiB and a core for ~20 ms).
    pub concurrent_hashes: usize,
    /// Secret checks waiting or running per source address, and in all; more are refused with
    /// 503 and `Retry-After` (see [`crate::hashing`]).
    pub hash_queue_per_source: usize,
    /// See `hash_queue_per_source`.
    pub hash_queue_total: usize,
    /// Message rules (body length).
    pub messages: roost_domain::model::message::MessageRules,
    /// Bytes of rendered responses kept until the next write (see [`ResponseCache`]); zero
    /// (the default) turns the cache off. Only correct when every write goes through this node.
    pub response_cache_bytes: u64,
    /// Storage threads: one per database connection, since each holds one while it works.
    pub storage_threads: usize,
    /// Origins whose browser scripts may call the API (CORS); `*` for any; none by default.
    pub cors_allowed_origins: Vec<String>,
    /// Whether requests are counted and where `GET /metrics` is served.
    pub metrics: MetricsExposure,
    /// Whether every `PUT`, `PATCH` and `DELETE` must carry `If-Match` or
    /// `If-Unmodified-Since` (else `428`); off by default, since no official client sends them.
    pub require_preconditions: bool,
    /// API-wide rate limits per application and per source address; `None`: none.
    pub rate_limits: Option<RateLimitSettings>,
    /// Where hosted files' bytes go; `None` (tests of other things): uploads and downloads fail
    /// with a 500. The server always sets one.
    pub files: Option<roost_files::Files>,
    /// Largest display picture, in bytes.
    pub picture_max_bytes: u64,
    /// Largest file a message may carry, in bytes (`ROOST_FILES_MAX_BYTES`).
    pub files_max_bytes: u64,
    /// Largest import file, in bytes (`ROOST_IMPORTS_MAX_BYTES`).
    pub imports_max_bytes: u64,
    /// What end users' passwords must be (`ROOST_PASSWORD_MIN_LENGTH`), how long a reset
    /// token lasts and when failed logins lock an account.
    pub accounts: roost_domain::model::account::AccountRules,
    /// Login and password reset attempts per minute for one account from one source address
    /// (`ROOST_LOGIN_ATTEMPTS_PER_MINUTE`).
    pub login_attempts_per_minute: NonZeroU32,
    /// Login and password reset attempts per minute from one source address, whatever the
    /// accounts (`ROOST_LOGIN_ATTEMPTS_PER_SOURCE_PER_MINUTE`).
    pub login_attempts_per_source_per_minute: NonZeroU32,
    /// Streams, the event log's retention, presence.
    pub realtime: crate::realtime::RealtimeSettings,
    /// Webhook delivery.
    pub webhooks: crate::webhooks::WebhookSettings,
}

/// Where `GET /metrics` is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsExposure {
    /// Not at all, and nothing is counted.
    Off,
    /// With the API, on its address.
    WithApi,
    /// On an address of its own ([`crate::metrics_app`]).
    Separate,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            public_url: None,
            tokens: TokenSettings::default(),
            token_rate_per_second: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            token_rate_burst: NonZeroU32::new(40).unwrap_or(NonZeroU32::MIN),
            concurrent_hashes: std::thread::available_parallelism().map_or(2, usize::from),
            // A back end asks for a token now and then; four at once from one address leave
            // room for a few processes behind one NAT. Sources are served in turn, so the total
            // only bounds memory (a waiting check is a few hundred bytes).
            hash_queue_per_source: 4,
            hash_queue_total: 4096,
            messages: roost_domain::model::message::MessageRules::default(),
            response_cache_bytes: 0,
            storage_threads: std::thread::available_parallelism().map_or(4, usize::from),
            cors_allowed_origins: Vec::new(),
            metrics: MetricsExposure::WithApi,
            require_preconditions: false,
            rate_limits: None,
            files: None,
            picture_max_bytes: 5 << 20,
            files_max_bytes: 50 << 20,
            imports_max_bytes: 4 << 30,
            accounts: roost_domain::model::account::AccountRules::default(),
            login_attempts_per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            login_attempts_per_source_per_minute: NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN),
            realtime: crate::realtime::RealtimeSettings::default(),
            webhooks: crate::webhooks::WebhookSettings::default(),
        }
    }
}

/// Hashing threads run at the lowest normal scheduling priority (`nice 19`): under load the
/// request workers and storage threads get the CPU first, so token requests wait instead of
/// slowing the rest of the API (issue 4: page reads lost 34–46 % of their throughput while
/// tokens were issued, 13–45 % at nice 9, 8–13 % at nice 19, with ~40 tokens/s still served).
/// Idle cores still run argon2 at full speed.
fn lower_priority() {
    use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};
    // 0 of 0–99 maps to niceness 19 on Linux's normal scheduling policy.
    let lowered = ThreadPriorityValue::try_from(0u8).map_err(|e| e.to_owned()).and_then(|value| {
        set_current_thread_priority(ThreadPriority::Crossplatform(value)).map_err(|e| format!("{e:?}"))
    });
    if let Err(error) = lowered {
        tracing::warn!(%error, "cannot lower the priority of a hashing thread");
    }
}

/// Everything a handler may use, built once per process and handed to [`crate::app`]. It holds
/// every piece of shared machinery, so nothing is process-wide: two apps in one process (tests,
/// an embedding program) never share a pool or a cache by accident.
pub struct AppState {
    /// The use cases.
    pub service: Service,
    /// The OAuth server: bearer checks, token issue, revocation, introspection.
    pub auth: AuthServer,
    /// The storage threads every use case runs on ([`crate::workers`]).
    pub storage: WorkerPool,
    /// Rendered responses of hot reads.
    pub responses: Arc<ResponseCache>,
    /// Token endpoint rate limit.
    pub limiter: Arc<TokenRateLimiter>,
    /// End users' login and password reset attempts, per account and source, and per source.
    pub account_limiter: TokenRateLimiter,
    /// Woken when mail was written, so the SMTP sender (when configured) sends it at once.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Woken when a job was accepted, so the job runner starts it at once.
    pub job_wake: Arc<tokio::sync::Notify>,
    /// The threads that run argon2, one per core, behind a bounded queue: secret checks can
    /// neither exhaust the CPU nor take the threads that serve the rest of the API.
    pub hashing: HashingQueue,
    /// Request and token counts for `/metrics`.
    pub metrics: Metrics,
    /// API-wide rate limits, when set.
    pub rate_limits: Option<ApiRateLimits>,
    /// Removes the bytes of deleted files ([`crate::file_cleanup`]).
    pub file_cleanup: crate::file_cleanup::FileCleanup,
    /// Open streams, their feeds, presence.
    pub realtime: Arc<crate::realtime::Hub>,
    /// Settings.
    pub settings: HttpSettings,
}

/// The state could not be built: a thread pool did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The hashing threads.
    #[error("cannot start the hashing threads: {0}")]
    Hashing(std::io::Error),
    /// The storage threads.
    #[error("cannot start the storage threads: {0}")]
    Storage(#[from] std::io::Error),
    /// The event log's reader.
    #[error("cannot start the event log's reader: {0}")]
    Realtime(std::io::Error),
}

impl AppState {
    /// State over the given ports, drawing ids from `ids` (the generator the store was opened
    /// with); starts the hashing and storage threads.
    pub fn new(
        ports: Ports,
        ids: Arc<IdGenerator>,
        hasher: Arc<SecretHasher>,
        settings: HttpSettings,
    ) -> Result<Self, StartError> {
        let limits = QueueLimits {
            threads: settings.concurrent_hashes,
            per_source: settings.hash_queue_per_source,
            total: settings.hash_queue_total,
            patience: HASHING_PATIENCE,
        };
        let hashing = HashingQueue::start(limits, "roost-hash", lower_priority).map_err(StartError::Hashing)?;
        let storage = WorkerPool::spawn(settings.storage_threads, "roost-db")?;
        let auth = AuthServer::new(ports.credentials.clone(), hasher, settings.tokens.clone());
        let realtime = crate::realtime::Hub::new(settings.realtime.clone());
        let live = Arc::new(crate::realtime::LiveLink::new(&realtime));
        let service = Service::new(ports.with_live(live), ids, settings.messages);
        realtime.start(service.clone()).map_err(StartError::Realtime)?;
        Ok(Self {
            service,
            realtime,
            auth,
            storage,
            responses: Arc::new(ResponseCache::new(settings.response_cache_bytes)),
            limiter: Arc::new(TokenRateLimiter::new(settings.token_rate_per_second, settings.token_rate_burst)),
            account_limiter: TokenRateLimiter::with_quotas(
                governor::Quota::per_minute(settings.login_attempts_per_minute),
                governor::Quota::per_minute(settings.login_attempts_per_source_per_minute),
            ),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            job_wake: Arc::new(tokio::sync::Notify::new()),
            hashing,
            metrics: Metrics::default(),
            rate_limits: settings.rate_limits.map(ApiRateLimits::new),
            file_cleanup: crate::file_cleanup::FileCleanup::default(),
            settings,
        })
    }
}
