//! The one run sequence, shared by `check`, the `serve` scheduler and the checker function:
//! pick the projects to check (all, or those due under the adaptive schedule), check them,
//! schedule each one's next check, evaluate subscriptions (hourly) and prune history (daily).
//!
//! Due projects are checked by one process at a time: a scheduled run first takes the store's
//! checking lease ([`CHECK_LEASE`]), so two processes sharing a store (two `serve`, the checker
//! function) never check one project twice, and the lease costs one write per run, not one per
//! project. It is short (a few request timeouts, whatever the number of projects) and renewed
//! while the run works, so the work of a process that died mid-check comes back within one
//! lease — at once for its restart, which frees its node's leases on start.

use balance_alert_model::alert::ProjectState;
use balance_alert_model::forecast::Point;
use balance_alert_model::schedule::{next_interval, IntervalPolicy};

use crate::config::{Config, ProjectConfig, Settings};
use crate::engine::{CacheMode, Engine};
use crate::money::to_f64;
use crate::monitor::{
    commit_deferred, forecast_alert, prune_expired, run_checks_deferring, run_subscriptions,
    CheckRun, SubscriptionCheck, WriteMode,
};
use crate::providers::ProviderError;
use crate::store::{Claimant, NextCheck, Store, StoreError};

/// History consulted to pick a project's next interval.
const TREND_POINTS: usize = 12;
/// How often subscriptions are evaluated and history pruned, at most.
const SUBSCRIPTIONS_EVERY: i64 = 3600;
const PRUNE_EVERY: i64 = 86_400;
/// The lease a scheduled run holds while it checks due projects.
pub const CHECK_LEASE: &str = "run:checks";
/// Cooldown keys in the store for the periodic parts.
const SUBSCRIPTIONS_KEY: &str = "run:subscriptions";
const PRUNE_KEY: &str = "run:prune";

/// Which projects a run checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every enabled project, due or not (`check`).
    All,
    /// Enabled projects whose next check time has come, or whose check-relevant config
    /// changed since their last check ([`ProjectConfig::check_fingerprint`]): the scheduler,
    /// the checker function.
    Due,
    /// As `Due`, and the enabled projects without a result since the given time (unix s),
    /// even when scheduled later: the scheduler's runs after start, until every project has
    /// one.
    DueOrUncheckedSince(i64),
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
    /// With [`Selection::DueOrUncheckedSince`]: the enabled projects that already had a result
    /// (by any process) since that time, so were not checked again.
    pub current: Vec<String>,
    /// The projects checked (ids), in the order of `checks.outcomes`.
    pub checked: Vec<String>,
}

impl RunReport {
    /// A run that checked nothing (another process holds the checking lease); look again at
    /// `again`.
    fn idle(again: i64) -> Self {
        RunReport {
            checks: CheckRun::empty(),
            subscriptions: Vec::new(),
            pruned: 0,
            next_due_at: Some(again),
            current: Vec::new(),
            checked: Vec::new(),
        }
    }
}

/// Seconds the checking lease stays with the run that took it, from its last renewal: a few
/// request timeouts (at least [`MIN_LEASE`]), whatever the number of projects. The run renews
/// it every third of it while it works ([`renew_every`]), so a run may take as long as its
/// retries need; a process that dies stops renewing, and its work comes back one lease later
/// (at once for its restart, which frees its node's leases).
pub fn lease_seconds(s: &Settings) -> i64 {
    let timeout = s.request_timeout_seconds.ceil().max(1.0) as i64;
    timeout.saturating_mul(LEASE_TIMEOUTS).max(MIN_LEASE)
}

/// Request timeouts per lease.
const LEASE_TIMEOUTS: i64 = 3;
/// Shortest lease, seconds.
pub const MIN_LEASE: i64 = 10;

/// How often a run renews its lease: a third of it, so two renewals may fail or run late
/// before it lapses.
pub fn renew_every(s: &Settings) -> std::time::Duration {
    std::time::Duration::from_secs((lease_seconds(s) / 3).max(1) as u64)
}

/// Runs the sequence once at `now` (unix s), leasing as this process's anonymous claimant.
pub async fn run_due(
    engine: &Engine,
    store: &dyn Store,
    config: &Config,
    selection: &Selection,
    options: RunOptions,
    now: i64,
) -> Result<RunReport, StoreError> {
    run_due_by(
        engine,
        store,
        config,
        selection,
        options,
        now,
        Claimant::process(),
    )
    .await
}

/// Runs the sequence once at `now` (unix s); the checking lease is taken as `by`.
pub async fn run_due_by(
    engine: &Engine,
    store: &dyn Store,
    config: &Config,
    selection: &Selection,
    options: RunOptions,
    now: i64,
    by: &Claimant,
) -> Result<RunReport, StoreError> {
    let settings = &config.settings;
    let persist = options.write == WriteMode::Persist;
    let scheduled = matches!(
        selection,
        Selection::Due | Selection::DueOrUncheckedSince(_)
    );
    // Taken before the schedules are read, so what this run finds due is what no other run is
    // checking. Held elsewhere: that run checks and schedules them; look again a little later.
    let leasing = scheduled && persist;
    // Each run holds the lease as itself: a second run of this process waits for it too.
    let by = &Claimant {
        owner: crate::store::random_id(),
        node: by.node.clone(),
    };
    if leasing
        && !store
            .take_lease(
                CHECK_LEASE,
                by,
                now,
                now.saturating_add(lease_seconds(settings)),
            )
            .await?
    {
        tracing::debug!("another process is checking due projects");
        let again = now.saturating_add(renew_every(settings).as_secs() as i64);
        return Ok(RunReport::idle(again));
    }
    let report = run_leased(engine, store, config, selection, options, now, by, leasing).await;
    if leasing {
        if let Err(e) = store.release_lease(CHECK_LEASE, &by.owner).await {
            tracing::warn!(error = %e, "cannot release the checking lease (it expires by itself)");
        }
    }
    report
}

/// [`run_due_by`] once the checking lease is held (when `leasing`): the lease is renewed while
/// the projects are checked.
#[allow(clippy::too_many_arguments)]
async fn run_leased(
    engine: &Engine,
    store: &dyn Store,
    config: &Config,
    selection: &Selection,
    options: RunOptions,
    now: i64,
    by: &Claimant,
    leasing: bool,
) -> Result<RunReport, StoreError> {
    let settings = &config.settings;
    let persist = options.write == WriteMode::Persist;
    let scheduled = matches!(
        selection,
        Selection::Due | Selection::DueOrUncheckedSince(_)
    );
    // The adaptive schedule holds an unchanged project's interval (see `held_interval`): it
    // needs the schedules too.
    let holding = persist && settings.enable_smart_refresh;
    let schedules: std::collections::HashMap<String, NextCheck> = if scheduled || holding {
        store
            .schedules()
            .await?
            .into_iter()
            .map(|n| (n.project_id.clone(), n))
            .collect()
    } else {
        Default::default()
    };
    let on_time = |id: &String| schedules.get(id).is_none_or(|n| n.at <= now);
    // When each project last had a result (a reading or a failure), for the run after start.
    let since = match selection {
        Selection::DueOrUncheckedSince(since) => Some(*since),
        _ => None,
    };
    let last_result: std::collections::HashMap<String, i64> = match since {
        Some(_) => store
            .list_states()
            .await?
            .into_iter()
            .map(|s| (s.project_id, s.last_checked_at))
            .collect(),
        None => Default::default(),
    };
    let current_since =
        |id: &String| since.is_some_and(|since| last_result.get(id).is_some_and(|t| *t >= since));
    let current: Vec<String> = config
        .projects
        .iter()
        .filter(|p| p.enabled)
        .map(|p| p.id())
        .filter(|id| current_since(id))
        .collect();
    let candidates: Vec<&ProjectConfig> = match selection {
        Selection::All => config.projects.iter().filter(|p| p.enabled).collect(),
        Selection::Due | Selection::DueOrUncheckedSince(_) => config
            .projects
            .iter()
            .filter(|p| {
                let id = p.id();
                p.enabled
                    && (on_time(&id)
                        || config_changed(schedules.get(&id), p)
                        || (since.is_some() && !current_since(&id)))
            })
            .collect(),
        Selection::Only(ids) => config
            .projects
            .iter()
            .filter(|p| ids.contains(&p.id()))
            .collect(),
    };
    let projects = candidates;
    // Check, then schedule each project's next check; the lease is renewed until then.
    let work = async {
        // A check that changes nothing is written with its next check, as one write.
        let mut checks = run_checks_deferring(
            engine,
            store,
            settings,
            &projects,
            options.cache,
            options.write,
            now,
            persist,
        )
        .await?;
        let mut next_checks = Vec::with_capacity(projects.len());
        let mut forecasts = Vec::new();
        if persist {
            let done = chrono::Utc::now().timestamp().max(now);
            for (i, p) in projects.iter().enumerate() {
                let (o, w) = (&checks.outcomes[i], &checks.writes[i]);
                // A reading stored no row: the balance is the one already stored, in the same
                // span of `history_resolution_minutes`. Its history gained nothing, so the
                // forecast stands and the interval is held: no history read.
                let unchanged = o.result.is_ok() && w.point.is_none();
                let forecasting =
                    settings.forecast_alert_days > 0 && o.result.is_ok() && !unchanged;
                let held = if unchanged && settings.enable_smart_refresh {
                    held_interval(
                        settings,
                        p,
                        checks.previous[i].as_ref(),
                        schedules.get(&p.id()),
                    )
                } else {
                    None
                };
                let recent = if (settings.enable_smart_refresh && held.is_none()) || forecasting {
                    recent_points(store, p, &w.state, done).await
                } else {
                    // The fixed or held interval needs no history: no store read (a Query per
                    // project on DynamoDB).
                    Vec::new()
                };
                if forecasting {
                    if let Some(a) = forecast_alert(store, p, &recent, settings, now).await? {
                        forecasts.push(a);
                    }
                }
                let next = match &o.result {
                    // Not attempted (its key's breaker is open): try again when the breaker
                    // lets a trial through, not a whole interval later.
                    Err(ProviderError::CircuitOpen { retry_in, .. }) => {
                        done.saturating_add(retry_in.as_secs().max(1) as i64)
                    }
                    _ => match held {
                        Some(interval) => done.saturating_add(interval),
                        // The pace looks at the newest few readings; the forecast at its window.
                        None => next_check_at(
                            settings,
                            p,
                            &recent[recent.len().saturating_sub(TREND_POINTS)..],
                            done,
                        ),
                    },
                };
                next_checks.push(NextCheck {
                    project_id: p.id(),
                    at: next,
                    fingerprint: Some(p.check_fingerprint()),
                });
            }
            let with_state: std::collections::HashMap<usize, NextCheck> = checks
                .deferred
                .iter()
                .map(|&i| (i, next_checks[i].clone()))
                .collect();
            let mut rest: Vec<NextCheck> = next_checks
                .iter()
                .enumerate()
                .filter(|(i, _)| !with_state.contains_key(i))
                .map(|(_, n)| n.clone())
                .collect();
            rest.extend(
                commit_deferred(store, &mut checks, &projects, settings, now, &with_state).await?,
            );
            if !rest.is_empty() {
                store.set_next_checks(rest).await?;
            }
        }
        Ok::<_, StoreError>((checks, next_checks, forecasts))
    };
    let (checks, next_checks, forecasts) = if leasing && !projects.is_empty() {
        keep_leased(store, settings, by, now, work).await?
    } else {
        work.await?
    };
    let next_due_at = config
        .projects
        .iter()
        .filter(|p| p.enabled)
        .map(|p| {
            let id = p.id();
            next_checks
                .iter()
                .chain(schedules.get(&id))
                .find(|n| n.project_id == id)
                .map_or(now, |n| n.at)
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
        current,
        checked: projects.iter().map(|p| p.id()).collect(),
    })
}

/// Whether `p`'s check-relevant config differs from the one its last check ran with (as
/// recorded with its schedule). Unknown (no schedule, or one recorded without a fingerprint)
/// is no change.
fn config_changed(schedule: Option<&NextCheck>, p: &ProjectConfig) -> bool {
    schedule
        .and_then(|n| n.fingerprint.as_deref())
        .is_some_and(|f| f != p.check_fingerprint())
}

/// Drives `work` while renewing the checking lease every [`renew_every`], so the lease stays
/// short however long the work takes. A lease found lost (this process stalled past it and
/// another took it) is logged; the checks' writes stay safe (versioned).
async fn keep_leased<T>(
    store: &dyn Store,
    settings: &Settings,
    by: &Claimant,
    now: i64,
    work: impl std::future::Future<Output = T>,
) -> T {
    let started = std::time::Instant::now();
    let period = renew_every(settings);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            biased;
            out = &mut work => return out,
            _ = ticks.tick() => {
                // The run's clock (`now` may be simulated) advanced by the real time spent.
                let at = now.saturating_add(started.elapsed().as_secs() as i64);
                let until = at.saturating_add(lease_seconds(settings));
                match store.take_lease(CHECK_LEASE, by, at, until).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!("checking lease lost while checking: another process took it after it expired"),
                    Err(e) => tracing::warn!(error = %e, "cannot renew the checking lease"),
                }
            }
        }
    }
}

/// A project's recent readings (oldest first), for its schedule and its forecast (the one
/// forecast's window, see [`crate::forecast`]).
async fn recent_points(
    store: &dyn Store,
    p: &ProjectConfig,
    state: &ProjectState,
    now: i64,
) -> Vec<Point> {
    match crate::forecast::stored_readings(store, &p.id(), Some(state), now).await {
        Ok(points) => crate::forecast::points(&points),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read history for scheduling");
            Vec::new()
        }
    }
}

/// The interval (seconds) the adaptive schedule gave `p` at its previous check, when that check
/// was a successful reading and the project is scheduled from it: what an unchanged balance
/// keeps (the pace is decided again at the next stored reading). The interval is recovered from
/// the schedule (`next check − previous check`, the run's own duration added) as the largest
/// of the schedule's paces (urgent, base, relaxed) it covers; None when it matches none (a
/// lease, a breaker's retry), and the history decides.
fn held_interval(
    settings: &Settings,
    p: &ProjectConfig,
    previous: Option<&ProjectState>,
    schedule: Option<&NextCheck>,
) -> Option<i64> {
    let (previous, schedule) = (previous?, schedule?);
    if previous.last_success_at != Some(previous.last_checked_at) {
        return None;
    }
    let scheduled = schedule.at.checked_sub(previous.last_checked_at)?;
    let base = p
        .check_interval
        .unwrap_or(settings.balance_refresh_interval_seconds)
        .max(1);
    let paces = balance_alert_model::schedule::paces(base, settings.min_refresh_interval_seconds);
    // Near the threshold is read off the balance itself: urgent, as the pace would say.
    let near = previous
        .balance
        .is_some_and(|b| to_f64(b) <= to_f64(p.threshold) * 1.2);
    if near {
        return i64::try_from(paces[0]).ok();
    }
    paces
        .into_iter()
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
        .filter(|s| *s <= scheduled && scheduled - s < s / 2 + 1)
        .max()
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
    fn a_lease_is_a_few_request_timeouts_whatever_the_number_of_projects() {
        let s = Settings::default(); // 10 s timeout
        assert_eq!(lease_seconds(&s), 30);
        assert_eq!(renew_every(&s), std::time::Duration::from_secs(10));
        let quick = Settings {
            request_timeout_seconds: 0.5,
            ..Settings::default()
        };
        assert_eq!(lease_seconds(&quick), MIN_LEASE);
    }

    #[test]
    fn an_unchanged_project_keeps_the_interval_its_last_reading_was_given() {
        // Base 3600 s, minimum 60 s: paces 900 / 3600 / 7200.
        let s = Settings::default();
        let p = ProjectConfig {
            threshold: rust_decimal::Decimal::from(10),
            ..crate::config::test_project()
        };
        let read_at = |t: i64, balance: i64| ProjectState {
            balance: Some(rust_decimal::Decimal::from(balance)),
            last_checked_at: t,
            last_success_at: Some(t),
            ..crate::store::contract::state("a", 1, balance_alert_model::AlertState::Ok)
        };
        let at = |t: i64| NextCheck::at("a", t);
        let held =
            |prev: &ProjectState, next: i64| held_interval(&s, &p, Some(prev), Some(&at(next)));
        // Scheduled from a check at 1000 that took 2 s: relaxed, base.
        assert_eq!(held(&read_at(1000, 50), 1000 + 7200 + 2), Some(7200));
        assert_eq!(held(&read_at(1000, 50), 1000 + 3600 + 2), Some(3600));
        // A schedule that matches no pace (an older lease, a retry): the history decides.
        assert_eq!(held(&read_at(1000, 50), 1000 + 30), None);
        // Near the threshold (within 20 %): urgent, read off the balance.
        assert_eq!(held(&read_at(1000, 12), 1000 + 3600), Some(900));
        // The last check was no reading (a failure, a breaker's retry): the history decides.
        let failed = ProjectState {
            last_checked_at: 2000,
            ..read_at(1000, 50)
        };
        assert_eq!(held(&failed, 2000 + 3600), None);
    }
}
