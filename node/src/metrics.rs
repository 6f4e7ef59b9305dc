//! `/metrics` in the Prometheus text format (issue 17), on a listener of its own
//! (`--metrics-addr`), so that scraping never competes with the API's connection cap and the
//! API port never exposes it.
//!
//! A registry is built once at start. The API's own counters (`ApiMetrics`) are updated as
//! calls are served; everything else is read when a scrape comes: Raft's metrics channel and
//! the watcher's counters (`crate::cluster_metrics`), the scheduler counters the state
//! machine keeps (`colonies_statemachine::counters`), the storage's (`StorageStats`) and the
//! process's own figures from /proc. No label holds a process id, an executor id or a key:
//! labels are payload types, statuses, colony names, executor types, states and node ids.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The address `--metrics-addr` binds when given a bare port: loopback, as the metrics
/// tell about the cluster's load to anyone who can read them.
pub const DEFAULT_METRICS_HOST: &str = "127.0.0.1";

/// `--metrics-addr`: `host:port`, or a bare port on `DEFAULT_METRICS_HOST`.
pub fn parse_metrics_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let full = if text.parse::<u16>().is_ok() { format!("{DEFAULT_METRICS_HOST}:{text}") } else { text.to_string() };
    full.parse().map_err(|_| format!("metrics address {text:?} is neither host:port (an IP address) nor a port"))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    payload: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PayloadLabels {
    payload: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// The payload label of a call whose payload type is not known (its body was refused
/// before it was read, or did not decode).
const UNKNOWN_PAYLOAD: &str = "unknown";

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 100 µs to about 52 s: a cached read to a long-poll held to its limit.
    Histogram::new(exponential_buckets(0.0001, 2.0, 20))
}

/// What the API did: calls by payload type and status, their latency, where calls went
/// instead of being served here, what was refused and why, and who is waiting.
#[derive(Debug)]
pub struct ApiMetrics {
    calls: Family<CallLabels, Counter>,
    latency: HistogramFamily<PayloadLabels>,
    redirects: Counter,
    forwards: Counter,
    rejected: Family<ReasonLabels, Counter>,
    long_polls: Gauge,
    subscribers: Gauge,
}

impl Default for ApiMetrics {
    fn default() -> ApiMetrics {
        ApiMetrics {
            calls: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            redirects: Counter::default(),
            forwards: Counter::default(),
            rejected: Family::default(),
            long_polls: Gauge::default(),
            subscribers: Gauge::default(),
        }
    }
}

/// Why a call or connection was refused before it was served.
#[derive(Clone, Copy, Debug)]
pub enum Rejection {
    /// A signature that does not verify, or a caller not allowed the call.
    Auth,
    /// A body over `--max-body`.
    Size,
    /// The connection cap or the memory budget of bodies in flight.
    Limit,
}

impl ApiMetrics {
    /// Counts one `/api` call answered with `status` after `started`.
    pub fn served(&self, payload: Option<&'static str>, status: StatusCode, started: Instant) {
        let payload = payload.unwrap_or(UNKNOWN_PAYLOAD);
        let status = status.as_u16();
        self.calls.get_or_create(&CallLabels { payload, status }).inc();
        self.latency.get_or_create(&PayloadLabels { payload }).observe(started.elapsed().as_secs_f64());
        let reason = match status {
            401 | 403 => Some(Rejection::Auth),
            413 => Some(Rejection::Size),
            _ => None,
        };
        if let Some(reason) = reason {
            self.rejected(reason);
        }
    }

    pub fn rejected(&self, reason: Rejection) {
        let reason = match reason {
            Rejection::Auth => "auth",
            Rejection::Size => "size",
            Rejection::Limit => "limit",
        };
        self.rejected.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn redirected(&self) {
        self.redirects.inc();
    }

    pub fn forwarded(&self) {
        self.forwards.inc();
    }

    /// Counts a parked long-poll (an assign waiting for work) while the guard lives.
    pub fn long_poll(&self) -> GaugeGuard {
        GaugeGuard::new(&self.long_polls)
    }

    /// Counts a `/pubsub` subscriber while the guard lives.
    pub fn subscriber(&self) -> GaugeGuard {
        GaugeGuard::new(&self.subscribers)
    }

    fn register(&self, registry: &mut Registry) {
        let api = registry.sub_registry_with_prefix("colonies_api");
        api.register("calls", "/api calls answered, by payload type and HTTP status", self.calls.clone());
        api.register_with_unit(
            "call_duration",
            "Time from a call's arrival to its answer, by payload type",
            Unit::Seconds,
            self.latency.clone(),
        );
        api.register("redirects", "Calls answered with a redirect to the leader", self.redirects.clone());
        api.register("forwards", "Calls forwarded to the leader (--forward)", self.forwards.clone());
        api.register("rejected", "Calls and connections refused, by reason (auth, size, limit)", self.rejected.clone());
        api.register(
            "waiting_long_polls",
            "Assign calls parked on this node waiting for work",
            self.long_polls.clone(),
        );
        api.register("pubsub_subscribers", "Open /pubsub websocket subscriptions", self.subscribers.clone());
    }
}

/// Adds one to a gauge, and takes it off when dropped (also when the call's task is).
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    fn new(gauge: &Gauge) -> GaugeGuard {
        gauge.inc();
        GaugeGuard(gauge.clone())
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Open API connections: the connection cap's permits in use (websockets included).
#[derive(Debug)]
struct Connections {
    permits: Arc<tokio::sync::Semaphore>,
    cap: usize,
}

impl Collector for Connections {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let open = self.cap.saturating_sub(self.permits.available_permits()) as i64;
        gauge(&mut encoder, "colonies_api_open_connections", "Open API connections, websockets included", open)?;
        gauge(&mut encoder, "colonies_api_connection_cap", "Connections served at once (--max-connections)", self.cap)
    }
}

/// Writes one gauge without labels.
pub(crate) fn gauge<V: prometheus_client::encoding::EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: V,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// Writes one counter without labels.
pub(crate) fn counter<V: prometheus_client::encoding::EncodeCounterValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: V,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// The node process's memory, open files and CPU time, read from /proc/self at each
/// scrape (the names of Prometheus's standard process collector).
#[derive(Debug)]
struct ProcessFigures {
    started: Instant,
}

impl ProcessFigures {
    fn rss_bytes() -> Option<u64> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf only reads a configuration value.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Some(pages * u64::try_from(page).ok()?)
    }

    fn open_fds() -> Option<usize> {
        Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
    }

    fn cpu_seconds() -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) may hold spaces; the fields after its `)` do not.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        // utime and stime are fields 14 and 15, the 12th and 13th after the name.
        let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: as above.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        Some(ticks as f64 / per_second.max(1) as f64)
    }
}

impl Collector for ProcessFigures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if let Some(rss) = Self::rss_bytes() {
            gauge(&mut encoder, "process_resident_memory_bytes", "Resident memory of the node process", rss)?;
        }
        if let Some(fds) = Self::open_fds() {
            gauge(&mut encoder, "process_open_fds", "Open file descriptors of the node process", fds)?;
        }
        if let Some(cpu) = Self::cpu_seconds() {
            counter(&mut encoder, "process_cpu_seconds", "User and system CPU time of the node process", cpu)?;
        }
        let uptime = self.started.elapsed().as_secs_f64();
        gauge(&mut encoder, "colonies_uptime_seconds", "Time since the node process started", uptime)
    }
}

/// Builds the registry of this node. `extra` registers the parts that exist only once Raft
/// has started (see `crate::cluster_metrics`).
pub fn registry(
    api: &ApiMetrics,
    connections: Arc<tokio::sync::Semaphore>,
    cap: usize,
    started: Instant,
    extra: impl FnOnce(&mut Registry),
) -> Registry {
    let mut registry = Registry::default();
    api.register(&mut registry);
    registry.register_collector(Box::new(Connections { permits: connections, cap }));
    registry.register_collector(Box::new(ProcessFigures { started }));
    extra(&mut registry);
    registry
}

/// Serves `GET /metrics` on `listener` until the task is aborted.
pub async fn serve(listener: tokio::net::TcpListener, registry: Registry) {
    let registry = Arc::new(registry);
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let registry = registry.clone();
            async move { scrape(&registry) }
        }),
    );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("the metrics listener stopped: {e}");
    }
}

fn scrape(registry: &Registry) -> Response {
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, registry) {
        Ok(()) => {
            let kind = HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8");
            (StatusCode::OK, [(header::CONTENT_TYPE, kind)], text).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("encoding the metrics failed: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_addresses_default_to_loopback_and_bad_ones_are_explained() {
        assert_eq!(parse_metrics_addr("9100").unwrap(), "127.0.0.1:9100".parse().unwrap());
        assert_eq!(parse_metrics_addr("0.0.0.0:9100").unwrap(), "0.0.0.0:9100".parse().unwrap());
        assert!(parse_metrics_addr("localhost:x").unwrap_err().contains("neither"));
        assert!(parse_metrics_addr("70000").is_err());
    }

    #[test]
    fn the_process_figures_are_read_from_proc() {
        assert!(ProcessFigures::rss_bytes().unwrap() > 0);
        assert!(ProcessFigures::open_fds().unwrap() >= 3);
        assert!(ProcessFigures::cpu_seconds().unwrap() >= 0.0);
    }

    #[test]
    fn calls_and_refusals_are_counted_by_label() {
        let api = ApiMetrics::default();
        let started = Instant::now();
        api.served(Some("submitfuncspecmsg"), StatusCode::OK, started);
        api.served(Some("submitfuncspecmsg"), StatusCode::FORBIDDEN, started);
        api.served(None, StatusCode::PAYLOAD_TOO_LARGE, started);
        {
            let _parked = api.long_poll();
            assert_eq!(api.long_polls.get(), 1);
        }
        assert_eq!(api.long_polls.get(), 0);
        let mut registry = Registry::default();
        api.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains(r#"colonies_api_calls_total{payload="submitfuncspecmsg",status="403"} 1"#), "{text}");
        assert!(text.contains(r#"colonies_api_rejected_total{reason="size"} 1"#), "{text}");
        assert!(text.contains(r#"colonies_api_rejected_total{reason="auth"} 1"#), "{text}");
    }
}
