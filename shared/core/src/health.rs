//! The process's view of health: the data's freshness and the store's health, kept in memory
//! as runs complete, so `/health`, `/ready` and the metrics never scan the store.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::{Config, Settings};
use crate::store::{States, Store, StoreError};

/// How old a store probe's answer may be before [`Status::store_ok`] starts another.
const STORE_PROBE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// How often the probe also learns the newest check by other processes (on DynamoDB that reads
/// every state, so not every 5 s).
const NEWEST_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Shortest refresh interval [`stale_after`] counts with, seconds.
pub const STALE_MIN_INTERVAL: u64 = 60;

/// Seconds after which the newest reading is stale: three refresh intervals
/// (`balance_refresh_interval_seconds`), counting an interval under a minute as a minute, so
/// a tiny interval does not report staleness while a slow check (retries, timeouts) is still
/// running.
pub fn stale_after(settings: &Settings) -> i64 {
    let interval = settings
        .balance_refresh_interval_seconds
        .max(STALE_MIN_INTERVAL);
    i64::try_from(interval.saturating_mul(3)).unwrap_or(i64::MAX)
}

/// What this process knows about the data's freshness and the store's health, updated as runs
/// complete so that health checks never scan the store.
pub struct Status {
    last_update: AtomicI64,
    generation: AtomicU64,
    first_run_done: AtomicBool,
    store_probe: Mutex<Option<(Instant, bool)>>,
    /// A probe of the store is under way ([`Status::store_ok`] starts one at a time).
    probing: AtomicBool,
    /// When the newest check by any process was last read from the store.
    newest_learned: Mutex<Option<Instant>>,
    /// Unix seconds of this process's start.
    started_at: i64,
    /// Projects (ids) with a result — a reading or a failure, by any process — since start.
    results: Mutex<std::collections::HashSet<String>>,
    /// Set once every project had a result since start (readiness does not flap back).
    ready: AtomicBool,
}

impl Default for Status {
    fn default() -> Self {
        Status::starting_at(chrono::Utc::now().timestamp())
    }
}

impl Status {
    /// A process that started at `started_at` (unix s).
    pub fn starting_at(started_at: i64) -> Self {
        Status {
            last_update: AtomicI64::new(0),
            generation: AtomicU64::new(0),
            first_run_done: AtomicBool::new(false),
            store_probe: Mutex::new(None),
            probing: AtomicBool::new(false),
            newest_learned: Mutex::new(None),
            started_at,
            results: Mutex::new(Default::default()),
            ready: AtomicBool::new(false),
        }
    }

    /// Unix seconds of this process's start.
    pub fn start_time(&self) -> i64 {
        self.started_at
    }

    /// Records that these projects (ids) have a result since start.
    pub fn note_results<'a>(&self, ids: impl IntoIterator<Item = &'a String>) {
        let mut results = self.results.lock().expect("results lock is never poisoned");
        results.extend(ids.into_iter().cloned());
    }

    /// How many of `config`'s enabled projects have no result since start yet.
    pub fn missing_results(&self, config: &Config) -> usize {
        if self.ready.load(Ordering::Acquire) {
            return 0;
        }
        let results = self.results.lock().expect("results lock is never poisoned");
        config
            .projects
            .iter()
            .filter(|p| p.enabled && !results.contains(&p.id()))
            .count()
    }

    /// Readiness: a run has completed and every enabled project of `config` has had a
    /// reading or a failure since start. Once true, stays true (a project added later does
    /// not take the process out of service).
    pub fn ready_for(&self, config: &Config) -> bool {
        if self.ready.load(Ordering::Acquire) {
            return true;
        }
        let ready = self.has_run() && self.missing_results(config) == 0;
        if ready {
            self.ready.store(true, Ordering::Release);
        }
        ready
    }

    /// Reads what the store already knows (the newest check time) once at start, noting
    /// whether it answered.
    pub async fn prime(&self, store: &dyn States) -> Result<(), StoreError> {
        let newest = store.newest_check().await;
        self.note_store(newest.as_ref().map(|_| ()));
        self.last_update
            .fetch_max(newest?.unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }

    /// Records a completed run at `now`.
    pub fn run_done(&self, now: i64, checked: usize) {
        if checked > 0 {
            self.last_update.fetch_max(now, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
        }
        self.first_run_done.store(true, Ordering::Release);
    }

    /// Marks data changed by something other than a run (an edit), for derived views.
    pub fn touch(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// True once a run has completed in this process (readiness).
    pub fn has_run(&self) -> bool {
        self.first_run_done.load(Ordering::Acquire)
    }

    /// Increases whenever the data may have changed: views derived from the store can be
    /// reused while it is unchanged.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Unix seconds of the latest check known to this process (0 = none).
    pub fn last_update(&self) -> i64 {
        self.last_update.load(Ordering::Relaxed)
    }

    /// Whether the store answers, from memory: never waits on the store (a hung endpoint must
    /// not hang `/health`). The answer is the latest probe's or operation's (true before the
    /// first). When it is older than a few seconds — or, to learn the newest check made by
    /// *any* process sharing the store, on every call until this process knows of data and
    /// once a minute after — one probe starts in the background (never two at once), and
    /// later calls see its result.
    pub fn store_ok(self: &Arc<Self>, store: &Arc<dyn Store>) -> bool {
        let known = *self
            .store_probe
            .lock()
            .expect("probe lock is never poisoned");
        let learn = self.last_update() == 0
            || self
                .newest_learned
                .lock()
                .expect("probe lock is never poisoned")
                .is_none_or(|at| at.elapsed() >= NEWEST_CHECK_EVERY);
        let due = learn || known.is_none_or(|(at, _)| at.elapsed() >= STORE_PROBE_TTL);
        if due && !self.probing.swap(true, Ordering::AcqRel) {
            let (status, store) = (self.clone(), store.clone());
            tokio::spawn(async move {
                status.probe(&*store, learn).await;
                status.probing.store(false, Ordering::Release);
            });
        }
        known.is_none_or(|(_, ok)| ok)
    }

    /// Asks the store whether it answers; with `learn`, by reading the newest check by any
    /// process (on DynamoDB that reads every state), else by the cheapest read.
    async fn probe(&self, store: &dyn States, learn: bool) {
        let result = if learn {
            *self
                .newest_learned
                .lock()
                .expect("probe lock is never poisoned") = Some(Instant::now());
            store.newest_check().await.map(|newest| {
                self.last_update
                    .fetch_max(newest.unwrap_or(0), Ordering::Relaxed);
            })
        } else {
            store.ping().await
        };
        self.note_store(result.as_ref().map(|_| ()));
    }

    /// Records the store's health as seen by an operation or a probe. An outage is logged when
    /// it starts and when it ends, not at every failed call.
    pub fn note_store(&self, outcome: Result<(), &StoreError>) {
        let ok = outcome.is_ok();
        let previous = self
            .store_probe
            .lock()
            .expect("probe lock is never poisoned")
            .replace((Instant::now(), ok))
            .map(|(_, ok)| ok);
        match (previous, outcome) {
            (Some(false), Ok(())) => tracing::info!("the store answers again"),
            (None | Some(true), Err(e)) => tracing::error!(
                error = %e,
                "the store cannot be read: /health answers 503 until it can (logged again when it recovers)"
            ),
            _ => {}
        }
    }
}
