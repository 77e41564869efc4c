//! The one run sequence, shared by `check`, the `serve` scheduler and the checker function:
//! pick the projects to check (all, or those due under the adaptive schedule, claimed in the
//! store so two processes never check one project twice), check them, schedule each one's
//! next check, evaluate subscriptions (hourly) and prune history (daily).

use balance_alert_model::forecast::Point;
use balance_alert_model::schedule::{next_interval, IntervalPolicy};

use crate::config::{Config, ProjectConfig, Settings};
use crate::engine::{CacheMode, Engine};
use crate::money::to_f64;
use crate::monitor::{
    forecast_alert, prune_expired, run_checks, run_subscriptions, CheckRun, SubscriptionCheck,
    WriteMode,
};
use crate::providers::ProviderError;
use crate::store::{Store, StoreError};

/// History consulted to pick a project's next interval.
const TREND_POINTS: usize = 12;
/// How often subscriptions are evaluated and history pruned, at most.
const SUBSCRIPTIONS_EVERY: i64 = 3600;
const PRUNE_EVERY: i64 = 86_400;
/// Cooldown keys in the store for the periodic parts.
const SUBSCRIPTIONS_KEY: &str = "run:subscriptions";
const PRUNE_KEY: &str = "run:prune";

/// Which projects a run checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every enabled project, due or not (`check`).
    All,
    /// Enabled projects whose next check time has come (the scheduler, the checker function).
    Due,
    /// The given projects (by id), enabled or not (a manual refresh).
    Only(Vec<String>),
}

/// When a run also evaluates subscriptions and prunes history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Housekeeping {
    /// Not at all (a manual refresh).
    Never,
    /// Subscriptions hourly and pruning daily, across every process sharing the store
    /// (the scheduler, the checker function).
    Periodic,
    /// Every run (`check` from cron: its output lists the subscriptions).
    Always,
}

/// How a run behaves.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub cache: CacheMode,
    pub write: WriteMode,
    pub housekeeping: Housekeeping,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The checks (empty when nothing was due).
    pub checks: CheckRun,
    /// Subscriptions evaluated in this run (empty when not their hour).
    pub subscriptions: Vec<SubscriptionCheck>,
    /// History rows pruned.
    pub pruned: u64,
    /// The earliest next check time among enabled projects after this run (unix s), when
    /// known: when to run again.
    pub next_due_at: Option<i64>,
}

/// Seconds `n` claimed projects stay reserved for the checker that claimed them: longer than
/// the run can take in the worst case (every attempt timing out, every retry waiting its
/// longest backoff or Retry-After, the projects queued behind the concurrency bound), so no
/// other process picks them up meanwhile; a crashed checker's projects come back after it.
pub fn lease_seconds(s: &Settings, n: usize) -> i64 {
    let retries = i64::from(s.max_retries);
    let attempt = s.request_timeout_seconds.ceil() as i64;
    // Backoff is capped at 10 s per wait (the engine's max delay) or starts at the base delay,
    // and jitter can double it; a Retry-After longer than max_retry_after_seconds gives up
    // instead of waiting.
    let backoff = (s.retry_base_delay_ms.div_ceil(1000) as i64).max(10) * 2;
    let wait = (s.max_retry_after_seconds as i64).max(backoff);
    let per_check = attempt
        .saturating_mul(retries + 1)
        .saturating_add(wait.saturating_mul(retries));
    let waves = n.div_ceil(s.max_concurrent_checks.max(1)).max(1) as i64;
    per_check.saturating_mul(waves).saturating_add(60)
}

/// Runs the sequence once at `now` (unix s).
pub async fn run_due(
    engine: &Engine,
    store: &dyn Store,
    config: &Config,
    selection: &Selection,
    options: RunOptions,
    now: i64,
) -> Result<RunReport, StoreError> {
    let settings = &config.settings;
    let persist = options.write == WriteMode::Persist;
    let schedules: std::collections::HashMap<String, i64> = match selection {
        Selection::Due => store.schedules().await?.into_iter().collect(),
        _ => Default::default(),
    };
    let candidates: Vec<&ProjectConfig> = match selection {
        Selection::All => config.projects.iter().filter(|p| p.enabled).collect(),
        Selection::Due => config
            .projects
            .iter()
            .filter(|p| p.enabled && schedules.get(&p.id()).is_none_or(|t| *t <= now))
            .collect(),
        Selection::Only(ids) => config
            .projects
            .iter()
            .filter(|p| ids.contains(&p.id()))
            .collect(),
    };
    // Claim what is due, so a second checker running now leaves these projects alone.
    let projects: Vec<&ProjectConfig> =
        if *selection == Selection::Due && persist && !candidates.is_empty() {
            let ids = candidates.iter().map(|p| p.id()).collect();
            let claimed = store
                .claim_due(
                    ids,
                    now,
                    now.saturating_add(lease_seconds(settings, candidates.len())),
                )
                .await?;
            candidates
                .into_iter()
                .zip(claimed)
                .filter_map(|(p, ok)| ok.then_some(p))
                .collect()
        } else {
            candidates
        };
    let checks = run_checks(
        engine,
        store,
        settings,
        &projects,
        options.cache,
        options.write,
        now,
    )
    .await?;
    let mut next_checks = Vec::with_capacity(projects.len());
    let mut forecasts = Vec::new();
    if persist {
        let done = chrono::Utc::now().timestamp().max(now);
        for (p, o) in projects.iter().zip(&checks.outcomes) {
            let forecasting = settings.forecast_alert_days > 0 && o.result.is_ok();
            let recent = if settings.enable_smart_refresh || forecasting {
                recent_points(store, p, done).await
            } else {
                // The fixed interval needs no history: no store read (a Query per project
                // on DynamoDB).
                Vec::new()
            };
            if forecasting {
                if let Some(a) = forecast_alert(store, p, &recent, settings, now).await? {
                    forecasts.push(a);
                }
            }
            let next = match &o.result {
                // Not attempted (its key's breaker is open): try again when the breaker lets a
                // trial through, not a whole interval later.
                Err(ProviderError::CircuitOpen { retry_in, .. }) => {
                    done.saturating_add(retry_in.as_secs().max(1) as i64)
                }
                // The pace looks at the newest few readings; the forecast at its whole window.
                _ => next_check_at(
                    settings,
                    p,
                    &recent[recent.len().saturating_sub(TREND_POINTS)..],
                    done,
                ),
            };
            next_checks.push((p.id(), next));
        }
        store.set_next_checks(next_checks.clone()).await?;
    }
    let next_due_at = config
        .projects
        .iter()
        .filter(|p| p.enabled)
        .map(|p| {
            let id = p.id();
            next_checks
                .iter()
                .find(|(n, _)| *n == id)
                .map(|(_, t)| *t)
                .or_else(|| schedules.get(&id).copied())
                .unwrap_or(now)
        })
        .min();

    let mut subscriptions = Vec::new();
    let mut pruned = 0;
    if options.housekeeping != Housekeeping::Never {
        let periodic = options.housekeeping == Housekeeping::Periodic;
        let due = |key: &'static str, every: i64| async move {
            if !persist || !periodic {
                return Ok::<bool, StoreError>(true);
            }
            Ok(store
                .claim_cooldown(key, now, now.saturating_add(every))
                .await?
                .is_none())
        };
        if due(SUBSCRIPTIONS_KEY, SUBSCRIPTIONS_EVERY).await? {
            let today = settings
                .timezone
                .date_at(chrono::DateTime::from_timestamp(now, 0).unwrap_or_else(chrono::Utc::now));
            subscriptions = run_subscriptions(store, config, today, options.write, now).await?;
        }
        if persist && due(PRUNE_KEY, PRUNE_EVERY).await? {
            pruned = prune_expired(store, settings, now).await?;
        }
    }
    let mut checks = checks;
    checks.alerts.extend(forecasts);
    Ok(RunReport {
        checks,
        subscriptions,
        pruned,
        next_due_at,
    })
}

/// A project's recent readings (oldest first), for its schedule and its forecast (the one
/// forecast's window, see [`crate::forecast`]).
async fn recent_points(store: &dyn Store, p: &ProjectConfig, now: i64) -> Vec<Point> {
    match crate::forecast::readings(store, &p.id(), now).await {
        Ok(points) => crate::forecast::points(&points),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read history for scheduling");
            Vec::new()
        }
    }
}

/// When to check `p` next: its interval, adapted to its recent balances.
fn next_check_at(settings: &Settings, p: &ProjectConfig, recent: &[Point], now: i64) -> i64 {
    let base = p
        .check_interval
        .unwrap_or(settings.balance_refresh_interval_seconds);
    let policy = IntervalPolicy {
        base,
        min: settings.min_refresh_interval_seconds.min(base),
        smart: settings.enable_smart_refresh,
        threshold: to_f64(p.threshold),
    };
    if !policy.smart {
        return now.saturating_add(i64::try_from(base.max(1)).unwrap_or(i64::MAX));
    }
    let (secs, pace) = next_interval(&policy, recent, now);
    tracing::debug!(project = %p.name, next_in = secs, ?pace, "scheduled");
    now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_outlasts_the_slowest_possible_run() {
        let s = Settings::default(); // 10 s timeout, 3 retries, Retry-After up to 30 s, 100 at once
                                     // One wave: 4 attempts of 10 s and 3 waits of 30 s, plus a margin.
        assert_eq!(lease_seconds(&s, 1), 4 * 10 + 3 * 30 + 60);
        // 1,000 projects queue in 10 waves behind the bound of 100.
        assert_eq!(lease_seconds(&s, 1000), 10 * (4 * 10 + 3 * 30) + 60);
        // Without Retry-After waits, jittered backoff (up to twice 10 s) still counts.
        let no_retry_after = Settings {
            max_retry_after_seconds: 0,
            ..Settings::default()
        };
        assert_eq!(lease_seconds(&no_retry_after, 1), 4 * 10 + 3 * 20 + 60);
    }
}
