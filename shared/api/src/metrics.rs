//! Prometheus metrics with the seed's names, recorded through the `metrics` crate into a
//! recorder owned by the app (not the global one), so tests and several apps in one process
//! do not share counters.

use std::time::Duration;

use balance_alert_core::engine::CheckObserver;
use balance_alert_core::monitor::CheckRun;
use balance_alert_core::service::RunObserver;
use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The app's metrics registry.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("bucket list is non-empty")
            .build_recorder();
        let handle = recorder.handle();
        let m = Metrics { recorder, handle };
        m.with(|| {
            describe_gauge!(
                "balance_alert_project_balance",
                "Latest balance of each project"
            );
            describe_gauge!(
                "balance_alert_active_projects",
                "Enabled projects in the configuration"
            );
            describe_counter!(
                "balance_alert_alerts_total",
                "Alert records written, by type"
            );
            describe_histogram!(
                "balance_alert_monitor_execution_time",
                Unit::Seconds,
                "Duration of a check run"
            );
            describe_histogram!(
                "balance_alert_provider_api_latency",
                Unit::Seconds,
                "Provider API call latency"
            );
            describe_histogram!(
                "balance_alert_http_request_duration",
                Unit::Seconds,
                "API request duration"
            );
            describe_counter!(
                "balance_alert_cache_hits",
                "Checks answered from the response cache"
            );
            describe_counter!(
                "balance_alert_cache_misses",
                "Checks that called the provider"
            );
            describe_counter!(
                "balance_alert_provider_api_calls",
                "Provider API calls, by provider and status"
            );
        });
        m
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Records one API request (`path` is the route template, not the raw URL).
    pub fn http_request(&self, method: &str, path: &str, status: u16, elapsed: Duration) {
        let (method, path, status) = (method.to_owned(), path.to_owned(), status.to_string());
        self.with(|| {
            histogram!("balance_alert_http_request_duration", "method" => method, "path" => path, "status" => status)
                .record(elapsed.as_secs_f64())
        });
    }
}

impl CheckObserver for Metrics {
    fn api_call(&self, provider: &str, outcome: &str, latency: Duration) {
        let (provider, outcome) = (provider.to_owned(), outcome.to_owned());
        self.with(|| {
            counter!("balance_alert_provider_api_calls", "provider" => provider.clone(), "status" => outcome).increment(1);
            histogram!("balance_alert_provider_api_latency", "provider" => provider).record(latency.as_secs_f64());
        });
    }

    fn cache(&self, hit: bool) {
        self.with(|| {
            if hit {
                counter!("balance_alert_cache_hits").increment(1);
            } else {
                counter!("balance_alert_cache_misses").increment(1);
            }
        });
    }
}

impl RunObserver for Metrics {
    fn run_finished(&self, run: &CheckRun, elapsed: Duration, active_projects: usize) {
        self.with(|| {
            histogram!("balance_alert_monitor_execution_time").record(elapsed.as_secs_f64());
            gauge!("balance_alert_active_projects").set(active_projects as f64);
            for p in &run.report.projects {
                if let Some(credits) = p.credits {
                    gauge!("balance_alert_project_balance", "project" => p.project.clone(),
                           "provider" => p.provider.clone(), "currency" => p.currency.clone())
                    .set(balance_alert_core::money::to_f64(credits));
                }
            }
            for a in &run.alerts {
                counter!("balance_alert_alerts_total", "type" => a.kind.as_str()).increment(1);
            }
        });
    }
}
