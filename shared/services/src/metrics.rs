//! Prometheus metrics. Two parts, one exposition:
//! - the state-derived series (the Python tool's `balance_alert_balance`, `_ratio`, `_status`,
//!   subscriptions, last check, …), computed from the config and the store at scrape time by
//!   [`balance_alert_core::exposition`], so removed projects disappear and every process sharing
//!   the store reports the same figures;
//! - counters and histograms of what this process did (checks, provider calls, deliveries,
//!   mailbox scans, API requests), recorded through the `metrics` crate into a recorder owned
//!   by the app (not the global one), so tests and several apps in one process do not share
//!   counters.
//!
//! Names follow Prometheus conventions (`_total` counters, `_seconds` durations); the README's
//! metrics table lists each series and what changed from the architecture document's names.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use balance_alert_core::check::engine::CheckObserver;
use balance_alert_core::check::CheckRun;
use balance_alert_core::check::RunObserver;
use balance_alert_core::config::Config;
use balance_alert_core::exposition::{self, Inputs};
use balance_alert_core::observe::NotifyObserver;
use balance_alert_core::store::{Store, StoreError};
use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The Python tool's histogram names and buckets.
const MONITOR: &str = "balance_alert_monitor_execution_time_seconds";
const MONITOR_BUCKETS: &[f64] = &[0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0];
const API_LATENCY: &str = "balance_alert_provider_api_latency_seconds";
const API_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0];
const MAIL_DURATION: &str = "balance_alert_email_scan_duration_seconds";
const MAIL_BUCKETS: &[f64] = &[0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];
const WEBHOOK: &str = "balance_alert_webhook_delivery_time_seconds";
const WEBHOOK_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0];

/// The app's metrics registry.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    config_reloads: AtomicU64,
    /// The newest mailbox scan round: when, and whether every mailbox was read.
    mail_scan: Mutex<Option<(i64, bool)>>,
    /// Increases with every recording: the exposition is re-rendered only when it changed.
    version: AtomicU64,
    /// Expositions rendered so far.
    renders: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn describe() {
    describe_counter!(
        "balance_alert_alerts_total",
        "Alert records written, by type"
    );
    describe_histogram!(
        MONITOR,
        Unit::Seconds,
        "Monitor execution time distribution"
    );
    describe_histogram!(API_LATENCY, Unit::Seconds, "Provider API call latency");
    describe_counter!(
        "balance_alert_provider_api_calls_total",
        "Total provider API calls"
    );
    describe_histogram!(
        "balance_alert_http_request_duration_seconds",
        Unit::Seconds,
        "API request duration"
    );
    describe_counter!("balance_alert_cache_hits_total", "Cache hits");
    describe_counter!("balance_alert_cache_misses_total", "Cache misses");
    describe_counter!(
        "balance_alert_failed_checks_total",
        "Total failed checks, by kind of error"
    );
    describe_counter!("balance_alert_email_scan_total", "Total emails scanned");
    describe_counter!(
        "balance_alert_email_alerts_total",
        "Total alert emails found"
    );
    describe_histogram!(MAIL_DURATION, Unit::Seconds, "Email scan duration");
    describe_histogram!(WEBHOOK, Unit::Seconds, "Webhook delivery time");
    describe_counter!(
        "balance_alert_deliveries_total",
        "Alert delivery attempts per channel, by outcome (sent, retry, failed)"
    );
}

impl Metrics {
    pub fn new() -> Self {
        let builder = [
            (MONITOR, MONITOR_BUCKETS),
            (API_LATENCY, API_BUCKETS),
            (MAIL_DURATION, MAIL_BUCKETS),
            (WEBHOOK, WEBHOOK_BUCKETS),
        ]
        .into_iter()
        .fold(
            PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .expect("bucket list is non-empty"),
            |b, (name, buckets)| {
                b.set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets)
                    .expect("bucket list is non-empty")
            },
        );
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let m = Metrics {
            recorder,
            handle,
            config_reloads: AtomicU64::new(0),
            mail_scan: Mutex::new(None),
            version: AtomicU64::new(0),
            renders: AtomicU64::new(0),
        };
        m.with(describe);
        m
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        let out = metrics::with_local_recorder(&self.recorder, f);
        self.version.fetch_add(1, Ordering::Release);
        out
    }

    /// The counters and histograms of this process, in the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// The whole exposition: the state-derived series of `config` and `store`, then this
    /// process's counters and histograms.
    pub async fn render_all(
        &self,
        config: &Config,
        store: &dyn Store,
    ) -> Result<String, StoreError> {
        let now = chrono::Utc::now().timestamp();
        let inputs = Inputs {
            mail_scan: self.mail_scan.lock().ok().and_then(|m| *m),
            config_reloads: self.config_reloads.load(Ordering::Relaxed),
            ..Inputs::read(store, true, now).await?
        };
        let mut text = exposition::render(&exposition::snapshot(config, &inputs, now));
        text.push_str(&self.render());
        self.renders.fetch_add(1, Ordering::Relaxed);
        Ok(text)
    }

    /// Increases with every recording (and config reload): an exposition rendered at one
    /// version is current until it changes.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// How many expositions this process has rendered (scrapes served from memory do not
    /// count).
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// A new configuration was loaded from the file or the store.
    pub fn note_config_reload(&self) {
        self.config_reloads.fetch_add(1, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Records one API request (`path` is the route template, not the raw URL).
    pub fn http_request(&self, method: &str, path: &str, status: u16, elapsed: Duration) {
        let (method, path, status) = (method.to_owned(), path.to_owned(), status.to_string());
        self.with(|| {
            histogram!("balance_alert_http_request_duration_seconds", "method" => method, "path" => path, "status" => status)
                .record(elapsed.as_secs_f64())
        });
    }
}

/// The Python tool's `status` values for a provider call, extended with two of ours.
fn call_status(outcome: &str) -> &'static str {
    match outcome {
        "ok" => "success",
        "timeout" => "timeout",
        "auth" => "auth",
        "rate_limited" => "rate_limited",
        _ => "error",
    }
}

impl CheckObserver for Metrics {
    fn api_call(&self, provider: &str, outcome: &str, latency: Duration) {
        let (provider, status) = (provider.to_owned(), call_status(outcome));
        self.with(|| {
            counter!("balance_alert_provider_api_calls_total", "provider" => provider.clone(), "status" => status).increment(1);
            histogram!(API_LATENCY, "provider" => provider, "status" => status)
                .record(latency.as_secs_f64());
        });
    }

    fn cache(&self, hit: bool) {
        self.with(|| {
            if hit {
                counter!("balance_alert_cache_hits_total", "cache_type" => "response_cache")
                    .increment(1);
            } else {
                counter!("balance_alert_cache_misses_total", "cache_type" => "response_cache")
                    .increment(1);
            }
        });
    }
}

impl RunObserver for Metrics {
    fn run_finished(&self, run: &CheckRun, elapsed: Duration, _active_projects: usize) {
        self.with(|| {
            histogram!(MONITOR).record(elapsed.as_secs_f64());
            for (p, o) in run.report.projects.iter().zip(&run.outcomes) {
                if let Err(e) = &o.result {
                    if !e.not_attempted() {
                        counter!("balance_alert_failed_checks_total", "project" => p.project.clone(),
                                 "provider" => p.provider.clone(), "error_type" => e.label())
                        .increment(1);
                    }
                }
            }
            for a in &run.alerts {
                counter!("balance_alert_alerts_total", "type" => a.kind.as_str()).increment(1);
            }
        });
    }
}

impl NotifyObserver for Metrics {
    fn delivery(
        &self,
        channel: &str,
        kind: &str,
        outcome: &str,
        timed_out: bool,
        elapsed: Duration,
    ) {
        let status = match (outcome, timed_out) {
            ("sent", _) => "success",
            (_, true) => "timeout",
            _ => "error",
        };
        let (channel, kind, outcome) = (channel.to_owned(), kind.to_owned(), outcome.to_owned());
        self.with(|| {
            counter!("balance_alert_deliveries_total", "channel" => channel, "outcome" => outcome)
                .increment(1);
            histogram!(WEBHOOK, "webhook_type" => kind, "status" => status)
                .record(elapsed.as_secs_f64());
        });
    }

    fn mail_scan(&self, mailbox: &str, read: usize, alerts: usize, ok: bool, elapsed: Duration) {
        let mailbox = mailbox.to_owned();
        self.with(|| {
            counter!("balance_alert_email_scan_total", "mailbox" => mailbox.clone())
                .increment(read as u64);
            counter!("balance_alert_email_alerts_total", "mailbox" => mailbox.clone())
                .increment(alerts as u64);
            histogram!(MAIL_DURATION, "mailbox" => mailbox).record(elapsed.as_secs_f64());
        });
        if let Ok(mut m) = self.mail_scan.lock() {
            let now = chrono::Utc::now().timestamp();
            // One round covers every mailbox: a failure within the same minute sticks.
            let all_ok = match *m {
                Some((t, prev_ok)) if now - t < 60 => prev_ok && ok,
                _ => ok,
            };
            *m = Some((now, all_ok));
        }
    }
}
