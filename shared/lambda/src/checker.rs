//! The checker function (EventBridge schedule): the core's one run sequence over the projects
//! that are due, then the outbox's retries that have come due (fresh alerts are delivered by
//! the notifier as they are written), the daily digest and the mailbox scan when due.

use std::sync::Arc;

use balance_alert_core::check::engine::CacheMode;
use balance_alert_core::check::Checker;
use balance_alert_core::check::WriteMode;
use balance_alert_core::check::{Housekeeping, RunOptions, Selection};
use balance_alert_notify::Notifier;
use balance_alert_services::{Metrics, Services};
use serde::Serialize;

use crate::Env;

/// What one invocation did (the function's result, also logged).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheckerOutput {
    /// Projects checked (those due under the adaptive schedule).
    pub checked: usize,
    /// Alert records written.
    pub alerts: usize,
    /// Messages sent from the outbox (retries come due, summaries, the digest).
    pub delivered: usize,
    /// New alerts from the mailbox scan.
    pub mail_alerts: usize,
    /// The earliest next check time (unix s) among enabled projects.
    pub next_due_at: Option<i64>,
}

impl CheckerFunction {
    /// The table's series: a small set as EMF log lines (see [`crate::emf::for_cloudwatch`]),
    /// all of them by remote write when configured (forecasts left out: they need every
    /// project's readings).
    async fn emit_metrics(&self, config: &balance_alert_core::config::Config, now: i64) {
        use balance_alert_core::exposition::{snapshot, Inputs};
        let inputs = match Inputs::read(&*self.env.store, false, now).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, "metrics not emitted");
                return;
            }
        };
        let families = snapshot(config, &inputs, now);
        let detailed = crate::emf::detailed_from_env();
        let cloudwatch = crate::emf::for_cloudwatch(&families, detailed);
        crate::emf::print(&crate::emf::documents(&cloudwatch, now * 1000));
        if !detailed {
            crate::emf::print(&crate::emf::project_lines(&families));
        }
        if let Some(rw) = &self.remote_write {
            match rw.push(&families, "balance-alert", now * 1000).await {
                Ok(n) => tracing::info!(series = n, "remote write sent"),
                Err(e) => tracing::warn!(error = %e, "remote write failed"),
            }
        }
    }
}

/// The checker, built once per warm function.
pub struct CheckerFunction {
    env: Env,
    checker: Arc<Checker>,
    notifier: Notifier,
    remote_write: Option<crate::remote_write::RemoteWrite>,
}

impl CheckerFunction {
    /// `PROMETHEUS_REMOTE_WRITE_URL` (and its auth variables) enables remote write.
    pub fn new(env: Env, metrics: Arc<Metrics>) -> Self {
        let Services {
            checker, notifier, ..
        } = Services::builder(env.config.clone(), env.store.clone())
            .metrics(metrics)
            .notify_observer(Arc::new(crate::emf::EmfObserver::from_env()))
            .build();
        CheckerFunction {
            env,
            checker,
            notifier,
            remote_write: crate::remote_write::RemoteWrite::from_env(),
        }
    }

    /// The checker over [`Env::from_process`], with its own metrics.
    pub async fn from_process() -> anyhow::Result<Self> {
        Ok(CheckerFunction::new(
            Env::from_process().await?,
            Arc::new(Metrics::new()),
        ))
    }

    /// One scheduled invocation (the event's content does not matter).
    pub async fn handle(&self) -> anyhow::Result<CheckerOutput> {
        // A config pushed since the last invocation applies now.
        self.env.config.refresh().await;
        let options = RunOptions {
            cache: CacheMode::Use,
            write: WriteMode::Persist,
            housekeeping: Housekeeping::Periodic,
        };
        let report = self.checker.run(&Selection::Due, options).await?;
        let loaded = self.env.config.get();
        let now = chrono::Utc::now().timestamp();
        let pass = self.notifier.tick(&loaded.config, now).await?;
        let mail_alerts = self
            .notifier
            .scan_mail_if_due(&loaded.config, now)
            .await?
            .unwrap_or(0);
        let out = CheckerOutput {
            checked: report.checks.report.projects.len(),
            alerts: report.checks.alerts.len()
                + report
                    .subscriptions
                    .iter()
                    .filter(|s| s.reminder.is_some())
                    .count(),
            delivered: pass.sent,
            mail_alerts,
            next_due_at: report.next_due_at,
        };
        self.emit_metrics(&loaded.config, now).await;
        tracing::info!(
            checked = out.checked,
            alerts = out.alerts,
            delivered = out.delivered,
            "checker run"
        );
        Ok(out)
    }
}

impl CheckerFunction {
    /// Sends metrics to `rw` instead of what the environment says (tests).
    pub fn with_remote_write(mut self, rw: crate::remote_write::RemoteWrite) -> Self {
        self.remote_write = Some(rw);
        self
    }
}
