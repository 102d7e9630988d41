//! Prometheus metrics: requests, errors by code, latency by operation, SQL statements and
//! database pool use. Rendered in the text exposition format at GET /metrics.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    /// Records one GraphQL request: its operation name, duration and error codes.
    pub fn record(&self, operation: &str, elapsed: Duration, codes: &[String]) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if !codes.is_empty() {
            let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
            for c in codes {
                *errors.entry(c.clone()).or_default() += 1;
            }
        }
        let secs = elapsed.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        // Bound the label set: operation names are client-chosen.
        let key = if latency.contains_key(operation) || latency.len() < 200 {
            operation.to_owned()
        } else {
            "other".to_owned()
        };
        let h = latency.entry(key).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The text exposition format.
    pub fn render(&self, statements: u64, pool_size: u32, pool_idle: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP lianxin_graphql_requests_total GraphQL requests handled."
        );
        let _ = writeln!(out, "# TYPE lianxin_graphql_requests_total counter");
        let _ = writeln!(
            out,
            "lianxin_graphql_requests_total {}",
            self.requests.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP lianxin_graphql_errors_total GraphQL errors by code."
        );
        let _ = writeln!(out, "# TYPE lianxin_graphql_errors_total counter");
        for (code, n) in self.errors.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "lianxin_graphql_errors_total{{code=\"{code}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP lianxin_graphql_request_duration_seconds Latency by operation name."
        );
        let _ = writeln!(
            out,
            "# TYPE lianxin_graphql_request_duration_seconds histogram"
        );
        for (op, h) in self
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let op = escape(op);
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "lianxin_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "lianxin_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "lianxin_graphql_request_duration_seconds_sum{{operation=\"{op}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "lianxin_graphql_request_duration_seconds_count{{operation=\"{op}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP lianxin_sql_statements_total SQL statements executed."
        );
        let _ = writeln!(out, "# TYPE lianxin_sql_statements_total counter");
        let _ = writeln!(out, "lianxin_sql_statements_total {statements}");
        let _ = writeln!(
            out,
            "# HELP lianxin_db_pool_connections Database pool connections (open and idle)."
        );
        let _ = writeln!(out, "# TYPE lianxin_db_pool_connections gauge");
        let _ = writeln!(
            out,
            "lianxin_db_pool_connections{{state=\"open\"}} {pool_size}"
        );
        let _ = writeln!(
            out,
            "lianxin_db_pool_connections{{state=\"idle\"}} {pool_idle}"
        );
        out
    }
}

fn escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '"' || c == '\\' { '_' } else { c })
        .take(64)
        .collect()
}
