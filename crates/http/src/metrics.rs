//! `GET /metrics`: Prometheus metrics in the OpenMetrics text format (which Prometheus asks for
//! first and parses natively), through the official client crate `prometheus-client`.
//!
//! Counted as requests come: requests by route template (never a raw path, so ids cannot
//! explode the series), method and status, and their latency; tokens issued. Read at scrape
//! time from the parts that keep their own counts: the storage threads, the database pool and
//! its group commits, the secret-check queue and the response cache. The operator guide lists
//! every metric.

use std::sync::atomic::Ordering;

use actix_web::http::Method;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::state::AppState;

/// The media type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency bounds in seconds: from a cached read (~0.1 ms) to a slow write under load.
const LATENCY_BUCKETS: [f64; 14] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// What is counted as requests come.
#[derive(Debug)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    tokens_issued: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            tokens_issued: Counter::default(),
        }
    }
}

impl Metrics {
    /// One request answered: `route` is the matched route template, `None` when no route
    /// matched.
    pub fn observe_request(&self, method: &Method, route: Option<String>, status: u16, seconds: f64) {
        let route = route.unwrap_or_else(|| "unmatched".to_owned());
        let method = method.as_str().to_owned();
        self.latency.get_or_create(&RouteLabels { method: method.clone(), route: route.clone() }).observe(seconds);
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    }

    /// One access token issued.
    pub fn token_issued(&self) {
        self.tokens_issued.inc();
    }
}

/// The gauges and counters kept by other parts, read at scrape time.
#[derive(Debug)]
struct Snapshot {
    values: Vec<(&'static str, &'static str, Option<Unit>, Value)>,
    group_commit_sizes: Vec<(u64, u64)>,
    group_commit_writes: u64,
}

#[derive(Debug)]
enum Value {
    Gauge(i64),
    Counter(u64),
    /// A counter by outcome label.
    Outcomes(Vec<(&'static str, u64)>),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (name, help, unit, value) in &self.values {
            match value {
                Value::Gauge(v) => {
                    let gauge = ConstGauge::new(*v);
                    gauge.encode(encoder.encode_descriptor(name, help, unit.as_ref(), gauge.metric_type())?)?;
                }
                Value::Counter(v) => {
                    let counter = ConstCounter::new(*v);
                    counter.encode(encoder.encode_descriptor(name, help, unit.as_ref(), counter.metric_type())?)?;
                }
                Value::Outcomes(outcomes) => {
                    let mut family = encoder.encode_descriptor(name, help, unit.as_ref(), MetricType::Counter)?;
                    for (outcome, v) in outcomes {
                        ConstCounter::new(*v).encode(family.encode_family(&OutcomeLabel { outcome })?)?;
                    }
                }
            }
        }
        // Buckets of the group sizes, as a histogram: `le` bounds in messages per commit.
        let buckets: Vec<(f64, u64)> = self
            .group_commit_sizes
            .iter()
            // The encoder writes f64::MAX as `+Inf`, as its own histograms do.
            .map(|(bound, count)| (if *bound == u64::MAX { f64::MAX } else { *bound as f64 }, *count))
            .collect();
        let count = buckets.last().map_or(0, |(_, c)| *c);
        let mut histogram = encoder.encode_descriptor(
            "roost_group_commit_size",
            "Messages stored per group commit (one transaction each)",
            None,
            MetricType::Histogram,
        )?;
        // The encoder takes per-bucket counts and accumulates them itself.
        let mut previous = 0;
        let per_bucket: Vec<(f64, u64)> = buckets
            .iter()
            .map(|(bound, cumulative)| {
                let own = cumulative - previous;
                previous = *cumulative;
                (*bound, own)
            })
            .collect();
        histogram.encode_histogram::<NoLabelSet>(self.group_commit_writes as f64, count, &per_bucket, None)?;
        Ok(())
    }
}

fn gauge(v: usize) -> Value {
    Value::Gauge(i64::try_from(v).unwrap_or(i64::MAX))
}

fn snapshot(state: &AppState) -> Snapshot {
    let store = state.service.store_stats();
    let hashing = state.hashing.counts();
    let (hits, misses) = state.responses.hits_and_misses();
    let (cached, cache_capacity) = state.responses.size();
    let limits = state.hashing.limits();
    let values = vec![
        ("roost_storage_threads", "Threads running storage work", None, gauge(state.storage.threads())),
        ("roost_storage_jobs_waiting", "Storage jobs waiting for a thread", None, gauge(state.storage.waiting())),
        ("roost_storage_jobs_running", "Storage jobs running", None, gauge(state.storage.running())),
        ("roost_db_connections", "Database connections open", None, Value::Gauge(store.connections.into())),
        ("roost_db_connections_idle", "Open database connections not in use", None, Value::Gauge(store.idle_connections.into())),
        ("roost_db_connections_max", "Most database connections the pool opens", None, Value::Gauge(store.max_connections.into())),
        ("roost_group_commits", "Group commits of new messages", None, Value::Counter(store.group_commits)),
        ("roost_secret_check_threads", "Threads checking client secrets (argon2)", None, gauge(limits.threads)),
        ("roost_secret_checks_queued", "Secret checks waiting or running", None, gauge(state.hashing.len())),
        (
            "roost_secret_checks",
            "Secret checks by outcome: run; refused (queue full, 503); abandoned (client gone); expired (waited too long)",
            None,
            Value::Outcomes(vec![
                ("run", hashing.run.load(Ordering::Relaxed)),
                ("refused", hashing.refused_full.load(Ordering::Relaxed)),
                ("abandoned", hashing.abandoned.load(Ordering::Relaxed)),
                ("expired", hashing.expired.load(Ordering::Relaxed)),
            ]),
        ),
        ("roost_response_cache_hits", "Reads answered from the response cache", None, Value::Counter(hits)),
        ("roost_response_cache_misses", "Cacheable reads not in the response cache", None, Value::Counter(misses)),
        ("roost_response_cache", "Bytes held by the response cache", Some(Unit::Bytes), Value::Gauge(i64::try_from(cached).unwrap_or(i64::MAX))),
        ("roost_response_cache_capacity", "Most bytes the response cache holds", Some(Unit::Bytes), Value::Gauge(i64::try_from(cache_capacity).unwrap_or(i64::MAX))),
    ];
    Snapshot { values, group_commit_sizes: store.group_commit_sizes, group_commit_writes: store.group_committed_writes }
}

/// Every metric, encoded.
pub fn render(state: &AppState) -> Result<String, std::fmt::Error> {
    let metrics = &state.metrics;
    let mut registry = Registry::default();
    registry.register(
        "roost_http_requests",
        "HTTP requests answered, by method, route template and status",
        metrics.requests.clone(),
    );
    registry.register_with_unit(
        "roost_http_request_duration",
        "Time to answer HTTP requests, by method and route template",
        Unit::Seconds,
        metrics.latency.clone(),
    );
    registry.register("roost_tokens_issued", "Access tokens issued", metrics.tokens_issued.clone());
    registry.register_collector(Box::new(snapshot(state)));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}
