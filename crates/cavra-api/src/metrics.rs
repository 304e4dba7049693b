//! Prometheus metrics at `/metrics`: requests and latency per route, and
//! decisions by outcome.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    requests: Option<IntCounterVec>,
    latency: Option<HistogramVec>,
    decisions: Option<IntCounterVec>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("cavra".into()), None).unwrap_or_default();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )
        .ok();
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5,
            ]),
            &["method", "route"],
        )
        .ok();
        let decisions = IntCounterVec::new(
            Opts::new(
                "decisions_total",
                "Decisions made by POST /decisions, by outcome",
            ),
            &["decision"],
        )
        .ok();
        if let Some(c) = &requests {
            let _ = registry.register(Box::new(c.clone()));
        }
        if let Some(h) = &latency {
            let _ = registry.register(Box::new(h.clone()));
        }
        if let Some(c) = &decisions {
            let _ = registry.register(Box::new(c.clone()));
        }
        Metrics {
            registry,
            requests,
            latency,
            decisions,
        }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        if let Some(c) = &self.requests {
            c.with_label_values(&[method, route, &status.to_string()])
                .inc();
        }
        if let Some(h) = &self.latency {
            h.with_label_values(&[method, route])
                .observe(took.as_secs_f64());
        }
    }

    pub fn decision(&self, outcome: &str) {
        if let Some(c) = &self.decisions {
            c.with_label_values(&[outcome]).inc();
        }
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}
