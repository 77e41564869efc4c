//! The local server's scheduler: checks each project when it is due, with adaptive intervals,
//! evaluates subscriptions hourly and prunes old history daily.
//!
//! Each batch of due projects runs as its own task, so a batch stuck on a slow provider (up to
//! its timeout budget) never holds back projects that fall due meanwhile.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use balance_alert_model::forecast::Point;
use balance_alert_model::schedule::{next_interval, IntervalPolicy};

use crate::config::{ProjectConfig, Settings};
use crate::engine::CacheMode;
use crate::service::Checker;

const TICK: Duration = Duration::from_secs(1);
const SUBSCRIPTION_EVERY: i64 = 3600;
const PRUNE_EVERY: i64 = 86_400;
/// History consulted to pick the next interval.
const TREND_POINTS: usize = 12;
/// Marks a project whose check is in flight.
const IN_FLIGHT: i64 = i64::MAX;

/// Runs until `shutdown` flips to true.
pub async fn run(checker: Arc<Checker>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut next_due: HashMap<String, i64> = HashMap::new();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<(String, i64)>>();
    let (mut next_subs, mut next_prune) = (0i64, 0i64);
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            Some(updates) = done_rx.recv() => {
                next_due.extend(updates);
                continue;
            }
            _ = shutdown.changed() => {
                if *shutdown.borrow() { return; }
            }
        }
        let now = chrono::Utc::now().timestamp();
        let loaded = checker.config.get();
        let settings = loaded.config.settings.clone();
        let due: Vec<ProjectConfig> = loaded
            .config
            .projects
            .iter()
            .filter(|p| p.enabled && next_due.get(&p.id()).is_none_or(|t| *t <= now))
            .cloned()
            .collect();
        if due.is_empty() && next_due.is_empty() {
            // Nothing to check at all: the (empty) first run is complete.
            checker.mark_run_done();
        }
        if !due.is_empty() {
            for p in &due {
                next_due.insert(p.id(), IN_FLIGHT);
            }
            let ids: Vec<String> = due.iter().map(ProjectConfig::id).collect();
            let retry_at = now.saturating_add(settings.min_refresh_interval_seconds.max(1) as i64);
            let (checker, done, settings) = (checker.clone(), done_tx.clone(), settings.clone());
            let batch = tokio::spawn(async move { run_batch(&checker, &due, &settings).await });
            tokio::spawn(async move {
                let updates = match batch.await {
                    Ok(updates) => updates,
                    // A panicking batch must not leave its projects "in flight" forever.
                    Err(e) => {
                        tracing::error!(error = %e, "scheduled check task failed");
                        ids.into_iter().map(|id| (id, retry_at)).collect()
                    }
                };
                let _ = done.send(updates);
            });
        }
        if now >= next_subs {
            if let Err(e) = checker.run_subscriptions().await {
                tracing::error!(error = %e, "subscription check failed");
            }
            next_subs = now + SUBSCRIPTION_EVERY;
        }
        if now >= next_prune {
            match crate::monitor::prune_expired(&*checker.store, &settings, now).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "pruned old history"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "prune failed"),
            }
            next_prune = now + PRUNE_EVERY;
        }
    }
}

/// Checks one batch and returns each project's next due time.
async fn run_batch(
    checker: &Checker,
    due: &[ProjectConfig],
    settings: &Settings,
) -> Vec<(String, i64)> {
    let refs: Vec<&ProjectConfig> = due.iter().collect();
    let ok = match checker.run_projects(&refs, CacheMode::Use).await {
        Ok(run) => {
            let s = run.report.summary;
            tracing::info!(
                checked = s.total,
                failed = s.failed,
                alerts = run.alerts.len(),
                "scheduled check done"
            );
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "scheduled check failed");
            false
        }
    };
    let now = chrono::Utc::now().timestamp();
    let mut updates = Vec::with_capacity(due.len());
    for p in due {
        let base = p
            .check_interval
            .unwrap_or(settings.balance_refresh_interval_seconds);
        let policy = IntervalPolicy {
            base,
            min: settings.min_refresh_interval_seconds.min(base),
            smart: settings.enable_smart_refresh,
            threshold: p.threshold,
        };
        let secs = if ok {
            let recent: Vec<Point> = match checker
                .store
                .balance_history(&p.id(), now - 30 * 86_400, TREND_POINTS)
                .await
            {
                Ok(points) => points
                    .iter()
                    .map(|h| Point {
                        timestamp: h.timestamp,
                        balance: h.balance,
                    })
                    .collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read history for scheduling");
                    Vec::new()
                }
            };
            let (secs, pace) = next_interval(&policy, &recent, now);
            tracing::debug!(project = %p.name, next_in = secs, ?pace, "scheduled");
            secs
        } else {
            // The run itself failed (store error): try again soon, not in an hour.
            policy.min.max(1)
        };
        updates.push((
            p.id(),
            now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX)),
        ));
    }
    updates
}
