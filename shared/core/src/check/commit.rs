//! Applying checks: each outcome moves its project's state machine through the store's
//! conditional writes (a lost race is recomputed from the fresh state, so each transition
//! alerts exactly once), with the history row and the next check it needs.

use std::collections::HashMap;

use balance_alert_model::alert::ProjectState;
use balance_alert_model::transition::{transition, AlertPolicy, Observation, ProjectRef};
use balance_alert_model::{AlertRecord, CheckReport, ProjectReport};
use futures::StreamExt;

use crate::check::engine::{CacheMode, CheckOutcome, Engine};
use crate::config::{ProjectConfig, Settings};
use crate::store::{BalancePoint, CheckWrite, NextCheck, Store, StoreError};

/// Conditional-write attempts per project before giving up on a hot race.
const MAX_CAS_ATTEMPTS: usize = 8;
/// Most results written in one transaction.
const COMMIT_BATCH: usize = 1024;

/// What a run produced.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub report: CheckReport,
    /// Alerts written by this run (empty in dry-run mode: nothing is written).
    pub alerts: Vec<AlertRecord>,
    /// Per project, in report order: the engine's outcome (cache flag, timing).
    pub outcomes: Vec<CheckOutcome>,
    /// Per project, in report order: its state before the check (None: never checked).
    pub previous: Vec<Option<ProjectState>>,
    /// Per project, in report order: what the check wrote (or would write in dry-run mode):
    /// its new state, and whether it stored a reading row.
    pub writes: Vec<CheckWrite>,
    /// Indices (report order) of writes not yet committed: checks that changed nothing, held
    /// back by [`run_checks_deferring`] to be written with their next check by
    /// [`commit_deferred`].
    pub deferred: Vec<usize>,
}

impl CheckRun {
    /// A run of no checks.
    pub fn empty() -> Self {
        CheckRun {
            report: CheckReport::new(Vec::new()),
            alerts: Vec::new(),
            outcomes: Vec::new(),
            previous: Vec::new(),
            writes: Vec::new(),
            deferred: Vec::new(),
        }
    }
}

/// Whether a run persists its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Persist,
    DryRun,
}

fn policy(p: &ProjectConfig, s: &Settings) -> AlertPolicy {
    AlertPolicy {
        threshold: p.threshold,
        critical_threshold: p.critical_threshold,
        failure_threshold: s.failure_alert_threshold,
        cooldown_seconds: s.alert_cooldown_seconds,
        recovery_margin_percent: rust_decimal::Decimal::from_f64_retain(s.recovery_margin_percent)
            .unwrap_or_default(),
        figure: crate::providers::figure(p),
        language: s.language,
    }
}

fn observation(o: &CheckOutcome) -> Observation {
    match &o.result {
        Ok(b) => Observation::Balance {
            amount: b.amount,
            currency: b.currency.clone(),
        },
        Err(e) if e.not_attempted() => Observation::Skipped {
            reason: e.to_string(),
        },
        Err(e) => Observation::Failure {
            message: e.to_string(),
        },
    }
}

/// A reading that no threshold applies to: a key without a spending limit.
fn unlimited(o: &CheckOutcome) -> bool {
    o.result.as_ref().is_ok_and(|b| b.unlimited)
}

/// What [`write_for`] needs of an outcome besides its observation: cached, unlimited, note,
/// estimate.
type Flags<'a> = (bool, bool, Option<&'a str>, bool);

fn flags(o: &CheckOutcome) -> Flags<'_> {
    (
        o.cached,
        unlimited(o),
        o.result.as_ref().ok().and_then(|b| b.note.as_deref()),
        o.result.as_ref().is_ok_and(|b| b.estimate),
    )
}

fn write_for(
    p: &ProjectConfig,
    prev: Option<&ProjectState>,
    obs: &Observation,
    (cached, unlimited, note, estimate): Flags<'_>,
    settings: &Settings,
    now: i64,
) -> CheckWrite {
    let id = p.id();
    let project = ProjectRef {
        project_id: &id,
        project_name: &p.name,
        provider: &p.provider,
    };
    let mut policy = policy(p, settings);
    if unlimited {
        // The figure is usage, not what is left: nothing to be low against.
        policy.threshold = rust_decimal::Decimal::ZERO;
        policy.critical_threshold = None;
    }
    let (mut state, mut alert) = transition(project, prev, obs, &policy, now);
    if let Some(a) = alert.as_mut() {
        a.details.owner_project = p.owner_project.clone();
        a.details.figure = crate::providers::figure(p);
        a.details.note = note.map(str::to_owned);
    }
    if !matches!(obs, Observation::Skipped { .. }) {
        state.cached = cached;
    }
    let point = match obs {
        Observation::Balance { amount, currency }
            if !plain_reading(note, estimate, unlimited)
                || history_row_due(prev, *amount, currency, settings, now) =>
        {
            Some(BalancePoint {
                project_id: id.clone(),
                project_name: p.name.clone(),
                provider: p.provider.clone(),
                balance: *amount,
                threshold: p.threshold,
                currency: currency.clone(),
                timestamp: now,
                note: note.map(str::to_owned),
                estimate,
                unlimited,
            })
        }
        Observation::Balance { .. } | Observation::Failure { .. } | Observation::Skipped { .. } => {
            None
        }
    };
    CheckWrite {
        expected_version: prev.map(|s| s.version),
        state,
        alert,
        point,
        next: None,
    }
}

/// Whether a reading is plain: no note, not an estimate, not unlimited. Only those are thinned
/// by [`history_row_due`]: the state keeps no note or flags, so a reading carrying them is
/// stored at every check, and the newest row (what `/api/credits` shows) stays current.
fn plain_reading(note: Option<&str>, estimate: bool, unlimited: bool) -> bool {
    note.is_none() && !estimate && !unlimited
}

/// Whether a successful reading of `amount` at `now` is stored as a history row: when it differs
/// from the last one (or there is none), else at most once per `history_resolution_minutes`
/// (the first reading of each such span of the clock). The state keeps the latest reading's
/// value and time ([`ProjectState::last_success_at`]), so histories still end at it
/// ([`crate::forecast::with_latest`]).
fn history_row_due(
    prev: Option<&ProjectState>,
    amount: rust_decimal::Decimal,
    currency: &str,
    settings: &Settings,
    now: i64,
) -> bool {
    let span = i64::from(settings.history_resolution_minutes) * 60;
    let Some((prev, last)) = prev.and_then(|p| Some(p).zip(p.last_success_at)) else {
        return true;
    };
    span == 0
        || prev.balance != Some(amount)
        || prev.currency != currency
        || last.div_euclid(span) != now.div_euclid(span)
}

/// Checks `projects` and applies the results to the store.
///
/// Results are written as they come in, in batches of whatever has completed together (one
/// transaction for the many checks that finish at once, a small one for a straggler), so a
/// slow provider does not hold back the others' results. A write that lost a race (another
/// checker moved the project first) is recomputed from the fresh state, so each transition
/// alerts exactly once.
pub async fn run_checks(
    engine: &Engine,
    store: &dyn Store,
    settings: &Settings,
    projects: &[&ProjectConfig],
    cache: CacheMode,
    mode: WriteMode,
    now: i64,
) -> Result<CheckRun, StoreError> {
    run_checks_deferring(engine, store, settings, projects, cache, mode, now, false).await
}

/// [`run_checks`], holding back (with `defer`) the writes of checks that changed nothing: a
/// successful reading with no history row and no alert. Their state only moves its check
/// times, so the caller writes it with the project's next check, one write instead of two
/// (see [`commit_deferred`]); they are listed in [`CheckRun::deferred`].
#[allow(clippy::too_many_arguments)]
pub async fn run_checks_deferring(
    engine: &Engine,
    store: &dyn Store,
    settings: &Settings,
    projects: &[&ProjectConfig],
    cache: CacheMode,
    mode: WriteMode,
    now: i64,
    defer: bool,
) -> Result<CheckRun, StoreError> {
    tracing::info!(projects = projects.len(), "checking");
    let known: HashMap<String, ProjectState> = store
        .list_states()
        .await?
        .into_iter()
        .map(|s| (s.project_id.clone(), s))
        .collect();
    // Longest-unchecked first (then fewest failures): when projects share a key whose breaker
    // lets one trial through, the one skipped last time gets it this time, so each of them
    // still reaches its K real attempts.
    let mut order: Vec<usize> = (0..projects.len()).collect();
    order.sort_by_key(|&i| {
        known.get(&projects[i].id()).map_or((i64::MIN, 0), |s| {
            (s.last_checked_at, s.consecutive_failures)
        })
    });
    let ordered: Vec<&ProjectConfig> = order.iter().map(|&i| projects[i]).collect();
    let last_currency: Vec<Option<String>> = ordered
        .iter()
        .map(|p| {
            known
                .get(&p.id())
                .map(|s| s.currency.clone())
                .filter(|c| !c.is_empty())
        })
        .collect();
    let mut results: Vec<Option<(CheckOutcome, CheckWrite)>> = vec![None; projects.len()];
    let mut deferred = Vec::new();
    // Checks feed a channel; the writer drains whatever has arrived in one transaction. Both
    // run in this task, so checks keep progressing while a batch is being written, and a
    // batch grows to whatever completed during the previous write.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<CheckOutcome>();
    let produce = async move {
        let mut stream = std::pin::pin!(engine.check_stream(&ordered, &last_currency, cache));
        while let Some(mut outcome) = stream.next().await {
            outcome.index = order[outcome.index];
            // The writer only stops early on a store error, which the caller gets anyway.
            let _ = tx.send(outcome);
        }
    };
    let consume = async {
        let mut batch = Vec::with_capacity(COMMIT_BATCH);
        while rx.recv_many(&mut batch, COMMIT_BATCH).await > 0 {
            let observations: Vec<Observation> = batch.iter().map(observation).collect();
            let mut writes: Vec<CheckWrite> = batch
                .iter()
                .zip(&observations)
                .map(|(o, obs)| {
                    let p = projects[o.index];
                    write_for(p, known.get(&p.id()), obs, flags(o), settings, now)
                })
                .collect();
            if mode == WriteMode::Persist {
                let held: Vec<bool> = batch
                    .iter()
                    .zip(&writes)
                    .map(|(o, w)| defer && unchanged(o, w))
                    .collect();
                let now_writes: Vec<usize> = (0..writes.len()).filter(|i| !held[*i]).collect();
                deferred.extend(
                    (0..writes.len())
                        .filter(|i| held[*i])
                        .map(|i| batch[i].index),
                );
                let applied = store
                    .commit_checks(now_writes.iter().map(|i| writes[*i].clone()).collect())
                    .await?;
                tracing::debug!(writes = applied.len(), "results stored");
                for (i, ok) in now_writes.into_iter().zip(applied) {
                    if !ok {
                        let p = projects[batch[i].index];
                        writes[i] = retry_write(
                            store,
                            p,
                            &observations[i],
                            flags(&batch[i]),
                            settings,
                            now,
                        )
                        .await?;
                    }
                }
            }
            for (o, w) in batch.drain(..).zip(writes) {
                let index = o.index;
                results[index] = Some((o, w));
            }
        }
        Ok::<(), StoreError>(())
    };
    let ((), written) = futures::join!(produce, consume);
    written?;
    tracing::info!("checks done");

    let (outcomes, writes): (Vec<CheckOutcome>, Vec<CheckWrite>) = results
        .into_iter()
        .map(|r| r.expect("the stream yields one outcome per project"))
        .unzip();
    let reports = projects
        .iter()
        .zip(&outcomes)
        .zip(&writes)
        .map(|((p, o), w)| report_line(p, o, &w.state))
        .collect();
    let alerts = match mode {
        WriteMode::Persist => writes.iter().filter_map(|w| w.alert.clone()).collect(),
        WriteMode::DryRun => Vec::new(),
    };
    Ok(CheckRun {
        report: CheckReport::new(reports),
        alerts,
        previous: projects
            .iter()
            .map(|p| known.get(&p.id()).cloned())
            .collect(),
        outcomes,
        writes,
        deferred,
    })
}

/// Whether a check changed nothing worth writing at once: a successful reading that stores no
/// history row and makes no alert.
fn unchanged(o: &CheckOutcome, w: &CheckWrite) -> bool {
    o.result.is_ok() && w.point.is_none() && w.alert.is_none()
}

/// Commits the writes [`run_checks_deferring`] held back, each with its project's next check
/// from `next` (by report index) in the same write. A write that lost a race (another process
/// moved the project meanwhile) is recomputed from the fresh state as any write is, without
/// its next check: those are returned, for [`States::set_next_checks`](crate::store::States::set_next_checks). An alert such a retry
/// makes is added to the run's.
pub async fn commit_deferred(
    store: &dyn Store,
    run: &mut CheckRun,
    projects: &[&ProjectConfig],
    settings: &Settings,
    now: i64,
    next: &HashMap<usize, NextCheck>,
) -> Result<Vec<NextCheck>, StoreError> {
    let deferred = std::mem::take(&mut run.deferred);
    let writes: Vec<CheckWrite> = deferred
        .iter()
        .map(|&i| CheckWrite {
            next: next.get(&i).cloned(),
            ..run.writes[i].clone()
        })
        .collect();
    let applied = store.commit_checks(writes).await?;
    let mut unscheduled = Vec::new();
    for (i, ok) in deferred.into_iter().zip(applied) {
        if ok {
            continue;
        }
        let o = &run.outcomes[i];
        let w = retry_write(store, projects[i], &observation(o), flags(o), settings, now).await?;
        run.alerts.extend(w.alert.clone());
        unscheduled.extend(next.get(&i).cloned());
        run.writes[i] = w;
    }
    Ok(unscheduled)
}

async fn retry_write(
    store: &dyn Store,
    p: &ProjectConfig,
    obs: &Observation,
    flags: Flags<'_>,
    settings: &Settings,
    now: i64,
) -> Result<CheckWrite, StoreError> {
    let id = p.id();
    for _ in 0..MAX_CAS_ATTEMPTS {
        let prev = store.get_state(&id).await?;
        let w = write_for(p, prev.as_ref(), obs, flags, settings, now);
        if store.commit_checks(vec![w.clone()]).await?.first() == Some(&true) {
            return Ok(w);
        }
    }
    Err(StoreError::Conflict {
        op: "commit_checks",
        message: format!(
            "project {:?} kept changing under us; gave up after {MAX_CAS_ATTEMPTS} attempts",
            p.name
        ),
    })
}

/// The report line for one project. A check that was not attempted reports the last reading
/// (if any), marked stale with the reason.
pub fn report_line(p: &ProjectConfig, o: &CheckOutcome, state: &ProjectState) -> ProjectReport {
    let fallback_currency = || {
        Some(state.currency.clone())
            .filter(|c| !c.is_empty())
            .or_else(|| p.currency.clone())
            .unwrap_or_default()
    };
    let (credits, currency, error) = match &o.result {
        Ok(b) => (Some(b.amount), b.currency.clone(), None),
        Err(e) if e.not_attempted() => (
            state.balance.filter(|_| state.consecutive_failures == 0),
            fallback_currency(),
            Some(e.to_string()),
        ),
        Err(e) => (None, fallback_currency(), Some(e.to_string())),
    };
    let stale_reason = state.stale_reason.clone().filter(|_| o.result.is_err());
    ProjectReport {
        project: p.name.clone(),
        owner_project: p.owner_project.clone(),
        provider: p.provider.clone(),
        success: o.result.is_ok(),
        credits,
        currency,
        threshold: p.threshold,
        need_alarm: balance_alert_model::need_alarm(state.state, unlimited(o)),
        state: state.state,
        error,
        stale: stale_reason.is_some(),
        stale_reason,
        kind: crate::providers::figure(p),
        note: o.result.as_ref().ok().and_then(|b| b.note.clone()),
        estimate: o.result.as_ref().is_ok_and(|b| b.estimate),
        resets_at: o.result.as_ref().ok().and_then(|b| b.resets_at),
        unlimited: unlimited(o),
    }
}
