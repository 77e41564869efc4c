//! Checking: the one run sequence, shared by `check`, the `serve` scheduler and the checker
//! function. A run picks the projects to check ([`select`]: all, or those due), checks them
//! through the [`engine`], applies each outcome to the store ([`commit`]), schedules each
//! one's next check ([`schedule`]), and now and then evaluates subscriptions and prunes
//! history ([`housekeeping`]). Scheduled runs hold the checking [`lease`]; [`checker`] wires a
//! run to the config source, the store and the engine; [`driver`] runs them in a long-lived
//! process (`serve`).

pub mod checker;
pub mod commit;
pub mod driver;
pub mod engine;
pub mod housekeeping;
pub mod lease;
pub mod schedule;
pub mod select;

use crate::config::Config;
use crate::providers::ProviderError;
use crate::store::{Claimant, Lease, NextCheck, Store, StoreError};

pub use checker::{Checker, RunError, RunObserver};
pub use commit::{CheckRun, WriteMode};
pub use engine::{CacheMode, Engine};
pub use housekeeping::{Housekeeping, SubscriptionCheck};
pub use select::Selection;

use commit::{commit_deferred, run_checks_deferring};
use lease::{keep_leased, lease_seconds, renew_every};
use schedule::{held_interval, next_check_at, recent_points, TREND_POINTS};

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
    let scheduled = selection.scheduled();
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
                &Lease::Checks,
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
        if let Err(e) = store.release_lease(&Lease::Checks, &by.owner).await {
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
    let scheduled = selection.scheduled();
    // The run's clock: `now` (which may be simulated) advanced by the real time spent.
    let started = std::time::Instant::now();
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
    let select::Selected { projects, current } =
        select::select(store, config, selection, &schedules, now).await?;
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
            let done = now.saturating_add(started.elapsed().as_secs() as i64);
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
                    let alert = crate::forecast::forecast_alert(store, p, &recent, settings, now);
                    if let Some(a) = alert.await? {
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

    let (subscriptions, pruned) =
        housekeeping::housekeep(store, config, options.housekeeping, options.write, now).await?;
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
