//! Prometheus metrics: requests, errors by code, latency by operation, SQL statements and
//! database pool use, kept in a `prometheus` registry of this server's own (never the
//! process-wide default, so that several servers in one process keep their own counts) and
//! rendered in the text exposition format at GET /metrics.

use std::{collections::HashSet, sync::Mutex, time::Duration};

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Operation labels kept at most: names are client-chosen, the rest are counted as `other`.
const MAX_OPERATIONS: usize = 200;

pub struct Metrics {
    registry: Registry,
    requests: IntCounter,
    errors: IntCounterVec,
    latency: HistogramVec,
    statements: IntGauge,
    pool: IntGaugeVec,
    operations: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new().unwrap_or_else(|e| panic!("the metrics' definitions are fixed: {e}"))
    }
}

impl Metrics {
    fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounter::new(
            "lianxin_graphql_requests_total",
            "GraphQL requests handled.",
        )?;
        let errors = IntCounterVec::new(
            Opts::new("lianxin_graphql_errors_total", "GraphQL errors by code."),
            &["code"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "lianxin_graphql_request_duration_seconds",
                "Latency by operation name.",
            )
            .buckets(BUCKETS.to_vec()),
            &["operation"],
        )?;
        let statements = IntGauge::new("lianxin_sql_statements_total", "SQL statements executed.")?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "lianxin_db_pool_connections",
                "Database pool connections (open and idle).",
            ),
            &["state"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(statements.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Self {
            registry,
            requests,
            errors,
            latency,
            statements,
            pool,
            operations: Mutex::default(),
        })
    }

    /// Records one GraphQL request: its operation name, duration and error codes.
    pub fn record(&self, operation: &str, elapsed: Duration, codes: &[String]) {
        self.requests.inc();
        for c in codes {
            self.errors.with_label_values(&[c.as_str()]).inc();
        }
        let label: String = operation
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect();
        let label = {
            let mut known = self.operations.lock().unwrap_or_else(|e| e.into_inner());
            if known.contains(&label) || known.len() < MAX_OPERATIONS {
                known.insert(label.clone());
                label
            } else {
                "other".to_owned()
            }
        };
        self.latency
            .with_label_values(&[label.as_str()])
            .observe(elapsed.as_secs_f64());
    }

    /// The text exposition format, with the statement count and the pool read now.
    pub fn render(&self, statements: u64, pool_size: u32, pool_idle: usize) -> String {
        self.statements
            .set(i64::try_from(statements).unwrap_or(i64::MAX));
        self.pool
            .with_label_values(&["open"])
            .set(i64::from(pool_size));
        self.pool
            .with_label_values(&["idle"])
            .set(i64::try_from(pool_idle).unwrap_or(i64::MAX));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics not rendered");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
