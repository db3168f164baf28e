//! Configuration: built-in defaults, then an optional `roost.toml`, then `ROOST_*` environment
//! variables (style-anchors §9, item 18). Loaded once here and passed down as narrow structs.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use roost_persistence::{DatabaseUrl, PoolSettings};
use serde::{Deserialize, Serialize};

/// Raw settings as read; [`Settings::validate`] turns them into a [`Config`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub bind: String,
    /// Base of absolute links; derived from the request's `Host` when unset.
    pub public_url: Option<String>,
    /// This node's number (0–30: 31 is imported history's), part of every id it generates.
    pub node_id: u16,
    /// Create an application and print its credentials on the first start.
    pub bootstrap: bool,
    /// Access token lifetime in seconds.
    pub token_lifetime_seconds: i64,
    /// Token requests per second per client id and per source address.
    pub token_rate_per_second: u32,
    /// Burst allowance of the token rate limit.
    pub token_rate_burst: u32,
    /// Database connections per node, and storage threads; default 8 on SQLite, 16 on PostgreSQL.
    pub pool_size: Option<u32>,
    /// HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Longest message body, in characters.
    pub message_max_length: usize,
    /// Seconds a node trusts a bearer token it has checked (0: check storage every time).
    pub token_cache_seconds: i64,
    /// MiB of rendered newest message pages kept until the next write; default 16 on SQLite and 0
    /// (off) on PostgreSQL, where another node's writes would not invalidate them.
    pub response_cache_mib: Option<u64>,
    /// Seconds to wait at start-up for a PostgreSQL server that cannot be reached yet.
    pub database_wait_seconds: u64,
    /// Comma-separated origins whose browser scripts may call the API (CORS), e.g.
    /// `https://app.example.com`; `*` for any; none by default.
    pub cors_allowed_origins: String,
    /// Serve `GET /metrics` (Prometheus text format).
    pub metrics: bool,
    /// Serve `/metrics` on this address instead of the API's (e.g. `127.0.0.1:9090`).
    pub metrics_bind: Option<String>,
    /// Refuse a `PUT`, `PATCH` or `DELETE` without `If-Match` / `If-Unmodified-Since` (428).
    pub require_preconditions: bool,
    /// API requests per second sustained, per application and per source address (0: no limit).
    pub rate_limit_per_second: u32,
    /// Requests allowed at once on top of that rate (at least 1).
    pub rate_limit_burst: u32,
    /// Limit loopback clients too (exempt by default, so local benchmarks are not limited).
    pub rate_limit_loopback: bool,
    /// The data directory: hosted files go to `files/` under it.
    pub data_dir: String,
    /// Largest display picture, in bytes.
    pub picture_max_bytes: u64,
    /// Where hosted files go: `s3://bucket/prefix` for an S3-compatible store (credentials,
    /// region and endpoint from the `AWS_*` variables); unset: `files/` under the data directory.
    pub files_url: Option<String>,
    /// Largest file a message may carry, in bytes.
    pub files_max_bytes: u64,
    /// Largest import file, in bytes.
    pub imports_max_bytes: u64,
    /// Shortest password an end user may choose, in characters.
    pub password_min_length: usize,
    /// Seconds a password reset token may be used.
    pub password_reset_seconds: i64,
    /// Consecutive failed logins that lock an account.
    pub login_lockout_failures: u32,
    /// Seconds such a lockout lasts.
    pub login_lockout_seconds: i64,
    /// Login and password reset attempts per minute for one account from one source.
    pub login_attempts_per_minute: u32,
    /// Login and password reset attempts per minute from one source.
    pub login_attempts_per_source_per_minute: u32,
    /// Where mail to end users goes: `smtp://host:port`, `smtps://user:pass@host`; unset: the
    /// outbox (`roost outbox list`).
    pub smtp_url: Option<String>,
    /// The sender of that mail.
    pub mail_from: String,
    /// Seconds the event log keeps events (resume points older than that have expired).
    pub event_retention_seconds: u64,
    /// Seconds between heartbeats of an idle stream.
    pub heartbeat_seconds: u64,
    /// Events a stream's client may leave unread before it is dropped as too slow.
    pub stream_buffer: usize,
    /// Seconds after which a silent node is dead and its streams' presence ends.
    pub node_timeout_seconds: u64,
    /// Hosts (`host` or `host:port`, comma-separated) webhooks may call at private addresses.
    pub webhook_allowed_hosts: String,
    /// Seconds before a failed webhook delivery's first retry (doubling after each failure).
    pub webhook_retry_base_seconds: u64,
    /// Seconds a rotated-out webhook secret still signs deliveries.
    pub webhook_secret_overlap_seconds: u64,
    /// NATS (`nats://host:4222`) relaying events between nodes; unset: PostgreSQL LISTEN/NOTIFY.
    pub nats_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/roost.db".into(),
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            node_id: 0,
            bootstrap: true,
            token_lifetime_seconds: 12 * 3600,
            token_rate_per_second: 20,
            token_rate_burst: 40,
            pool_size: None,
            workers: None,
            message_max_length: roost_domain::model::message::DEFAULT_MAX_BODY_CHARS,
            token_cache_seconds: 10,
            response_cache_mib: None,
            database_wait_seconds: 30,
            cors_allowed_origins: String::new(),
            metrics: true,
            metrics_bind: None,
            require_preconditions: false,
            // A busy back end from one address: far above what a person causes, well below
            // what one node serves (docs/benchmarks.md), so one tenant cannot take it all.
            rate_limit_per_second: 1000,
            rate_limit_burst: 2000,
            rate_limit_loopback: false,
            data_dir: "data".into(),
            picture_max_bytes: 5 << 20,
            files_url: None,
            files_max_bytes: 50 << 20,
            imports_max_bytes: 4 << 30,
            password_min_length: roost_domain::model::account::DEFAULT_PASSWORD_MIN_LENGTH,
            password_reset_seconds: roost_domain::model::account::DEFAULT_RESET_SECONDS,
            login_lockout_failures: roost_domain::model::account::DEFAULT_LOCKOUT_FAILURES,
            login_lockout_seconds: roost_domain::model::account::DEFAULT_LOCKOUT_SECONDS,
            login_attempts_per_minute: 10,
            login_attempts_per_source_per_minute: 60,
            smtp_url: None,
            mail_from: "Roost <noreply@localhost>".into(),
            event_retention_seconds: 86_400,
            heartbeat_seconds: 15,
            stream_buffer: 1_000,
            node_timeout_seconds: 30,
            webhook_allowed_hosts: String::new(),
            webhook_retry_base_seconds: 5,
            webhook_secret_overlap_seconds: 86_400,
            nats_url: None,
        }
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseUrl,
    pub bind: SocketAddr,
    pub public_url: Option<String>,
    pub node_id: u16,
    pub bootstrap: bool,
    pub token_lifetime: chrono::Duration,
    pub token_rate_per_second: NonZeroU32,
    pub token_rate_burst: NonZeroU32,
    pub pool: PoolSettings,
    pub workers: Option<usize>,
    pub messages: roost_domain::model::message::MessageRules,
    pub token_cache: chrono::Duration,
    pub response_cache_bytes: u64,
    pub database_wait: std::time::Duration,
    pub cors_allowed_origins: Vec<String>,
    pub metrics: bool,
    pub metrics_bind: Option<SocketAddr>,
    pub require_preconditions: bool,
    pub rate_limits: Option<roost_http::rate_limit::RateLimitSettings>,
    /// Where hosted files go: `s3://bucket/prefix`, or a folder.
    pub files: String,
    pub picture_max_bytes: u64,
    pub files_max_bytes: u64,
    pub imports_max_bytes: u64,
    pub accounts: roost_domain::model::account::AccountRules,
    pub login_attempts_per_minute: NonZeroU32,
    pub login_attempts_per_source_per_minute: NonZeroU32,
    /// SMTP server and sender, when mail goes out.
    pub mail: Option<(String, String)>,
    /// Streams and the event log.
    pub realtime: roost_http::realtime::RealtimeSettings,
    /// Webhook delivery.
    pub webhooks: roost_http::webhooks::WebhookSettings,
    /// How nodes relay events to each other (none on SQLite).
    pub broker: Option<crate::broker::BrokerUrl>,
}

/// The file read when no `--config` / `ROOST_CONFIG` names one; it may be absent.
pub const DEFAULT_FILE: &str = "roost.toml";

/// `ROOST_*` variables that are not settings: read elsewhere (the config file's path, the log
/// filter) or by the test and benchmark harnesses.
const NOT_SETTINGS: &[&str] = &[
    "config",
    "log",
    "log_format",
    "test_postgres_url",
    "bench_postgres_url",
    "bench_seconds",
    "bench_only",
    "bench_skip_sqlite",
    "bin",
];

/// A configuration, and what about it deserves a warning at start-up.
#[derive(Debug)]
pub struct Loaded {
    /// The validated configuration.
    pub config: Config,
    /// E.g. `ROOST_*` variables that are no setting.
    pub warnings: Vec<String>,
}

/// The setting names: `Settings`' fields, as the file and (upper-cased, `ROOST_` before) the
/// environment spell them.
fn setting_names() -> Vec<String> {
    match serde_json::to_value(Settings::default()) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Reads defaults, the TOML file and the environment. `file` is the path given with `--config`
/// or `ROOST_CONFIG`, which must exist; without one, `roost.toml` is read when present. A key of
/// the file that is no setting is an error (a typo would otherwise be ignored); an unknown
/// `ROOST_*` variable only a warning, since platforms set some (Kubernetes: `ROOST_PORT`, …).
pub fn load(file: Option<&Path>) -> anyhow::Result<Loaded> {
    let known = setting_names();
    let file = match file {
        Some(path) if !path.exists() => {
            let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
            bail!("the configuration file {} does not exist", shown.display())
        }
        Some(path) => Some(path),
        None => Some(Path::new(DEFAULT_FILE)).filter(|p| p.exists()),
    };
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = file {
        let keys: figment::value::Dict = Figment::from(Toml::file_exact(path))
            .extract()
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let mut unknown: Vec<&String> = keys.keys().filter(|key| !known.contains(key)).collect();
        unknown.sort();
        if !unknown.is_empty() {
            let unknown: Vec<&str> = unknown.iter().map(|k| k.as_str()).collect();
            bail!(
                "unknown setting(s) in {}: {} (settings are: {})",
                path.display(),
                unknown.join(", "),
                known.join(", ")
            );
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let mut warnings: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter_map(|name| name.strip_prefix("ROOST_").map(str::to_ascii_lowercase))
        .filter(|name| !known.contains(name) && !NOT_SETTINGS.contains(&name.as_str()))
        .map(|name| format!("ROOST_{} is not a Roost setting and is ignored", name.to_ascii_uppercase()))
        .collect();
    warnings.sort();
    let settings: Settings =
        figment.merge(Env::prefixed("ROOST_").ignore(NOT_SETTINGS)).extract().context("invalid configuration")?;
    Ok(Loaded { config: settings.validate()?, warnings })
}

impl Settings {
    /// Checks every value; a bad one stops start-up with a message naming it.
    pub fn validate(self) -> anyhow::Result<Config> {
        let database = DatabaseUrl::parse(&self.database_url).context("invalid ROOST_DATABASE_URL / database_url")?;
        let broker = match (self.nats_url.filter(|url| !url.trim().is_empty()), database.kind()) {
            (Some(url), _) if url.starts_with("nats://") || url.starts_with("tls://") => {
                Some(crate::broker::BrokerUrl::Nats(url))
            }
            (Some(url), _) => bail!("invalid ROOST_NATS_URL '{url}': expected nats://host:port"),
            (None, roost_persistence::DatabaseKind::Postgres) => {
                Some(crate::broker::BrokerUrl::Postgres(database.to_url_string()))
            }
            (None, _) => None,
        };
        let bind: SocketAddr = self.bind.parse().with_context(|| {
            format!("invalid ROOST_BIND / bind '{}': expected an IP address and port, e.g. 127.0.0.1:8080", self.bind)
        })?;
        let public_url = match self.public_url.filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => {
                let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
                if rest.is_none_or(|r| r.is_empty() || r.contains(['?', '#', ' '])) {
                    bail!("invalid ROOST_PUBLIC_URL / public_url '{url}': expected http(s)://host[:port][/path]");
                }
                Some(url.trim_end_matches('/').to_owned())
            }
        };
        if self.node_id > roost_domain::model::ids::MAX_NODE_ID {
            bail!(
                "invalid ROOST_NODE_ID / node_id {}: must be 0 to {}",
                self.node_id,
                roost_domain::model::ids::MAX_NODE_ID
            );
        }
        if !(60..=30 * 24 * 3600).contains(&self.token_lifetime_seconds) {
            bail!("invalid ROOST_TOKEN_LIFETIME_SECONDS {}: must be 60 to 2592000", self.token_lifetime_seconds);
        }
        let positive = |name: &str, v: u32| {
            NonZeroU32::new(v).with_context(|| format!("invalid ROOST_{name}: must be at least 1"))
        };
        let at_least_one = |name: &str, v: i64| {
            if v >= 1 {
                Ok(v)
            } else {
                bail!("invalid ROOST_{name}: must be at least 1")
            }
        };
        // A storage thread on SQLite runs the engine itself, so a few per core keep the CPU
        // busy; on PostgreSQL it mostly waits on a socket while the server works, and twice as
        // many keep more posts in flight, so group commits grow (issue 4: POST +17–22 % on average).
        let pool_size = match (self.pool_size, database.kind()) {
            (Some(0), _) => bail!("invalid ROOST_POOL_SIZE: must be at least 1"),
            (Some(size), _) => size,
            (None, roost_persistence::DatabaseKind::Sqlite) => 8,
            (None, roost_persistence::DatabaseKind::Postgres) => 16,
        };
        if !(1..=1_000_000).contains(&self.message_max_length) {
            bail!("invalid ROOST_MESSAGE_MAX_LENGTH {}: must be 1 to 1000000", self.message_max_length);
        }
        if !(0..=300).contains(&self.token_cache_seconds) {
            bail!("invalid ROOST_TOKEN_CACHE_SECONDS {}: must be 0 to 300", self.token_cache_seconds);
        }
        let response_cache_mib = match (self.response_cache_mib, database.kind()) {
            (Some(mib), _) if mib > 4096 => bail!("invalid ROOST_RESPONSE_CACHE_MIB {mib}: must be 0 to 4096"),
            (Some(mib), _) => mib,
            (None, roost_persistence::DatabaseKind::Sqlite) => 16,
            (None, roost_persistence::DatabaseKind::Postgres) => 0,
        };
        if self.database_wait_seconds > 3600 {
            bail!("invalid ROOST_DATABASE_WAIT_SECONDS {}: must be 0 to 3600", self.database_wait_seconds);
        }
        if self.workers == Some(0) {
            bail!("invalid ROOST_WORKERS: must be at least 1");
        }
        let cors_allowed_origins = cors_origins(&self.cors_allowed_origins)?;
        let metrics_bind = match self.metrics_bind.filter(|b| !b.is_empty()) {
            None => None,
            Some(bind) => Some(bind.parse::<SocketAddr>().with_context(|| {
                format!("invalid ROOST_METRICS_BIND / metrics_bind '{bind}': expected an IP address and port, e.g. 127.0.0.1:9090")
            })?),
        };
        Ok(Config {
            database,
            bind,
            public_url,
            node_id: self.node_id,
            bootstrap: self.bootstrap,
            token_lifetime: chrono::Duration::seconds(self.token_lifetime_seconds),
            token_rate_per_second: positive("TOKEN_RATE_PER_SECOND", self.token_rate_per_second)?,
            token_rate_burst: positive("TOKEN_RATE_BURST", self.token_rate_burst)?,
            pool: PoolSettings { max_size: pool_size, ..PoolSettings::default() },
            workers: self.workers,
            messages: roost_domain::model::message::MessageRules { max_body_chars: self.message_max_length },
            token_cache: chrono::Duration::seconds(self.token_cache_seconds),
            response_cache_bytes: response_cache_mib << 20,
            database_wait: std::time::Duration::from_secs(self.database_wait_seconds),
            cors_allowed_origins,
            metrics: self.metrics,
            metrics_bind,
            require_preconditions: self.require_preconditions,
            files: match self.files_url.filter(|url| !url.trim().is_empty()) {
                Some(url) if url.starts_with("s3://") => url,
                Some(url) => bail!("invalid ROOST_FILES_URL '{url}': expected s3://bucket/prefix"),
                None => Path::new(&self.data_dir).join("files").display().to_string(),
            },
            accounts: roost_domain::model::account::AccountRules {
                password_min_length: match self.password_min_length {
                    length @ 1..=roost_domain::model::account::MAX_PASSWORD_CHARS => length,
                    _ => bail!(
                        "invalid ROOST_PASSWORD_MIN_LENGTH: must be 1 to {}",
                        roost_domain::model::account::MAX_PASSWORD_CHARS
                    ),
                },
                reset_seconds: at_least_one("PASSWORD_RESET_SECONDS", self.password_reset_seconds)?,
                lockout_failures: positive("LOGIN_LOCKOUT_FAILURES", self.login_lockout_failures)?.get(),
                lockout_seconds: at_least_one("LOGIN_LOCKOUT_SECONDS", self.login_lockout_seconds)?,
            },
            login_attempts_per_minute: positive("LOGIN_ATTEMPTS_PER_MINUTE", self.login_attempts_per_minute)?,
            login_attempts_per_source_per_minute: positive(
                "LOGIN_ATTEMPTS_PER_SOURCE_PER_MINUTE",
                self.login_attempts_per_source_per_minute,
            )?,
            realtime: roost_http::realtime::RealtimeSettings {
                retention: seconds("EVENT_RETENTION_SECONDS", self.event_retention_seconds)?,
                heartbeat: seconds("HEARTBEAT_SECONDS", self.heartbeat_seconds)?,
                buffer: match self.stream_buffer {
                    buffer @ 1..=1_000_000 => buffer,
                    _ => bail!("invalid ROOST_STREAM_BUFFER: must be 1 to 1000000"),
                },
                node_timeout: seconds("NODE_TIMEOUT_SECONDS", self.node_timeout_seconds)?,
                node: i64::from(self.node_id),
                ..roost_http::realtime::RealtimeSettings::default()
            },
            broker,
            webhooks: roost_http::webhooks::WebhookSettings {
                allowed_hosts: self
                    .webhook_allowed_hosts
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
                    .collect(),
                retry_base_seconds: seconds("WEBHOOK_RETRY_BASE_SECONDS", self.webhook_retry_base_seconds)?.as_secs(),
                secret_overlap: seconds("WEBHOOK_SECRET_OVERLAP_SECONDS", self.webhook_secret_overlap_seconds)?,
                ..roost_http::webhooks::WebhookSettings::default()
            },
            mail: match self.smtp_url.filter(|url| !url.trim().is_empty()) {
                None => None,
                Some(url) => {
                    roost_mail::Mailer::open(&url, &self.mail_from).map_err(|e| anyhow::anyhow!("{e}"))?;
                    Some((url, self.mail_from))
                }
            },
            files_max_bytes: match self.files_max_bytes {
                0 => bail!("invalid ROOST_FILES_MAX_BYTES: must be at least 1"),
                bytes => bytes,
            },
            imports_max_bytes: match self.imports_max_bytes {
                0 => bail!("invalid ROOST_IMPORTS_MAX_BYTES: must be at least 1"),
                bytes => bytes,
            },
            picture_max_bytes: match self.picture_max_bytes {
                0 => bail!("invalid ROOST_PICTURE_MAX_BYTES: must be at least 1"),
                bytes => bytes,
            },
            rate_limits: match NonZeroU32::new(self.rate_limit_per_second) {
                None => None,
                Some(per_second) => Some(roost_http::rate_limit::RateLimitSettings {
                    per_second,
                    burst: positive("RATE_LIMIT_BURST", self.rate_limit_burst)?,
                    loopback: self.rate_limit_loopback,
                }),
            },
        })
    }
}

/// `ROOST_CORS_ALLOWED_ORIGINS`: `*`, or origins as browsers send them (`scheme://host[:port]`,
/// no path, no trailing slash: anything else would never match an `Origin` header).
fn cors_origins(list: &str) -> anyhow::Result<Vec<String>> {
    let mut origins = Vec::new();
    for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        let valid = origin == "*" || host.is_some_and(|h| !h.is_empty() && !h.contains(['/', '?', '#', ' ', '*']));
        if !valid {
            bail!(
                "invalid ROOST_CORS_ALLOWED_ORIGINS / cors_allowed_origins entry '{origin}': expected * or an origin such as https://app.example.com (scheme, host and port only)"
            );
        }
        origins.push(origin.to_owned());
    }
    Ok(origins)
}

/// A positive number of seconds as a duration.
fn seconds(name: &str, value: u64) -> anyhow::Result<std::time::Duration> {
    // A year at most: time arithmetic on such spans never overflows.
    match value {
        1..=31_536_000 => Ok(std::time::Duration::from_secs(value)),
        _ => bail!("invalid ROOST_{name}: must be 1 to 31536000"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = Settings::default().validate().unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database.sqlite_path(), Some("data/roost.db"));
        assert_eq!(config.token_lifetime.num_hours(), 12);
        assert_eq!(config.pool.max_size, 8);
    }

    #[test]
    fn cors_origins_are_a_comma_separated_list() {
        let origins = |list: &str| {
            Settings { cors_allowed_origins: list.into(), ..Settings::default() }
                .validate()
                .unwrap()
                .cors_allowed_origins
        };
        assert!(origins("").is_empty());
        assert_eq!(origins("https://a.example, http://localhost:3000"), ["https://a.example", "http://localhost:3000"]);
        assert_eq!(origins("*"), ["*"]);
    }

    #[test]
    fn postgres_defaults_to_more_connections_unless_set() {
        let postgres = |pool_size| {
            let settings = Settings { database_url: "postgres://u@h/db".into(), pool_size, ..Settings::default() };
            settings.validate().unwrap().pool.max_size
        };
        assert_eq!(postgres(None), 16);
        assert_eq!(postgres(Some(4)), 4);
    }

    #[test]
    fn bad_values_are_named() {
        let bad = |f: fn(&mut Settings)| {
            let mut s = Settings::default();
            f(&mut s);
            format!("{:#}", s.validate().unwrap_err())
        };
        assert!(bad(|s| s.database_url = "mysql://x".into()).contains("unsupported database URL scheme 'mysql'"));
        assert!(bad(|s| s.bind = "nowhere".into()).contains("ROOST_BIND"));
        assert!(bad(|s| s.public_url = Some("ftp://x".into())).contains("ROOST_PUBLIC_URL"));
        assert!(bad(|s| s.node_id = 32).contains("ROOST_NODE_ID"));
        assert!(bad(|s| s.node_id = 31).contains("must be 0 to 30"));
        assert!(bad(|s| s.token_lifetime_seconds = 5).contains("TOKEN_LIFETIME"));
        assert!(bad(|s| s.pool_size = Some(0)).contains("ROOST_POOL_SIZE"));
        assert!(bad(|s| s.cors_allowed_origins = "https://a.example/".into()).contains("CORS_ALLOWED_ORIGINS"));
        assert!(bad(|s| s.cors_allowed_origins = "a.example".into()).contains("'a.example'"));
        assert!(bad(|s| s.metrics_bind = Some("9090".into())).contains("ROOST_METRICS_BIND"));
    }

    #[test]
    #[allow(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
    fn file_then_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("roost.toml", "bind = \"127.0.0.1:9000\"\nnode_id = 3\n")?;
            jail.set_env("ROOST_NODE_ID", "4");
            let config = load(Some(Path::new("roost.toml"))).map_err(|e| e.to_string())?.config;
            assert_eq!(config.bind.port(), 9000);
            assert_eq!(config.node_id, 4);
            // Without --config, roost.toml is read when present.
            assert_eq!(load(None).map_err(|e| e.to_string())?.config.bind.port(), 9000);
            jail.set_env("ROOST_NODE_ID", "abc");
            let error = format!("{:#}", load(Some(Path::new("roost.toml"))).unwrap_err());
            assert!(error.contains("NODE_ID") && error.contains("ROOST_"), "{error}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
    fn a_named_file_must_exist_and_hold_only_settings() {
        figment::Jail::expect_with(|jail| {
            let missing = format!("{:#}", load(Some(Path::new("missing.toml"))).unwrap_err());
            assert!(missing.contains("does not exist") && missing.contains("/missing.toml"), "{missing}");
            // Without --config a missing roost.toml is fine: defaults.
            assert_eq!(load(None).map_err(|e| e.to_string())?.config.bind.port(), 8080);
            jail.create_file("typo.toml", "bind = \"127.0.0.1:9000\"\nnod_id = 3\npool = 2\n")?;
            let typo = format!("{:#}", load(Some(Path::new("typo.toml"))).unwrap_err());
            assert!(typo.contains("unknown setting(s) in typo.toml: nod_id, pool"), "{typo}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
    fn unknown_environment_variables_are_warned_about_not_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("ROOST_PORT", "tcp://10.0.0.1:8080");
            jail.set_env("ROOST_NODEID", "3");
            jail.set_env("ROOST_LOG", "debug");
            let loaded = load(None).map_err(|e| e.to_string())?;
            for name in ["ROOST_NODEID", "ROOST_PORT"] {
                assert!(loaded.warnings.contains(&format!("{name} is not a Roost setting and is ignored")));
            }
            assert!(!loaded.warnings.iter().any(|w| w.contains("ROOST_LOG")), "{:?}", loaded.warnings);
            Ok(())
        });
    }
}
