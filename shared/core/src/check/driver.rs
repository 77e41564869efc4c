//! The local server's scheduler: runs [`crate::check::run_due`] whenever a project falls due.
//!
//! The schedule itself lives in the store (each project's next check time), so this loop only
//! decides when to look: at the earliest next check time it knows, at least every
//! [`MAX_SLEEP`], and at once after a config change. Each run is its own task; due projects
//! are checked under the store's checking lease ([`crate::store::Lease::Checks`]), so a run that
//! starts while another (of this or another process) still checks waits for it.
//!
//! On start it frees the leases its node's previous process left (a crash mid-check), and
//! until every project has had a result since start its runs also check the projects without
//! one, whatever their schedule says: readiness waits for exactly that.

use std::sync::Arc;
use std::time::Duration;

use crate::check::{CacheMode, Checker, Housekeeping, RunError, RunOptions, WriteMode};

const TICK: Duration = Duration::from_secs(1);
/// Longest wait between two looks at the schedule (new projects, other processes).
const MAX_SLEEP: i64 = 30;

/// Runs until `shutdown` flips to true.
pub async fn run(checker: Arc<Checker>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    release_predecessor_leases(&checker).await;
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Option<i64>>();
    let mut next_look = 0i64;
    let mut config = checker.config.get();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            Some(next_due) = done_rx.recv() => {
                let now = chrono::Utc::now().timestamp();
                next_look = next_look.min(next_due.unwrap_or(now + MAX_SLEEP).min(now + MAX_SLEEP));
                continue;
            }
            _ = shutdown.changed() => {
                if *shutdown.borrow() { return; }
            }
        }
        let now = chrono::Utc::now().timestamp();
        let current = checker.config.get();
        if !Arc::ptr_eq(&current, &config) {
            // New or changed projects are due at once.
            config = current;
            next_look = now;
        }
        if now < next_look {
            continue;
        }
        // Until this run reports, look again only after a while (its lease keeps the projects
        // it checks from being picked up twice meanwhile).
        next_look = now + MAX_SLEEP;
        let (checker, done) = (checker.clone(), done_tx.clone());
        tokio::spawn(async move {
            let options = RunOptions {
                cache: CacheMode::Use,
                write: WriteMode::Persist,
                housekeeping: Housekeeping::Periodic,
            };
            let selection = checker.scheduled_selection();
            let next = match checker.run(&selection, options).await {
                Ok(report) => {
                    let s = report.checks.report.summary;
                    if s.total > 0 {
                        tracing::info!(
                            checked = s.total,
                            failed = s.failed,
                            alerts = report.checks.alerts.len(),
                            "scheduled check done"
                        );
                    }
                    report.next_due_at
                }
                // The store's outage is logged once by the status, when it starts and ends.
                Err(RunError::Store(e)) if e.is_retryable() => {
                    tracing::debug!(error = %e, "scheduled check failed");
                    None
                }
                Err(e) => {
                    tracing::error!(error = %e, "scheduled check failed");
                    None
                }
            };
            let _ = done.send(next);
        });
    }
}

/// Frees the leases a previous process of this node left (it died mid-check): this process
/// holds the node, so no live process can be holding them.
pub async fn release_predecessor_leases(checker: &Checker) {
    let Some(node) = checker.claimant().node.as_deref() else {
        return;
    };
    match checker.store.release_node_leases(node).await {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(
                leases = n,
                "freed the checking lease a previous process left unfinished"
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot free the previous process's leases; they expire by themselves")
        }
    }
}
