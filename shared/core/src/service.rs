//! The checker service shared by the scheduler and the API: live config, store, an engine that
//! follows config reloads, and the bookkeeping the API reports (last update, cache flags).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::config::{LiveConfig, LookupError, ProjectConfig};
use crate::engine::{CacheMode, CheckObserver, Engine, EngineOptions};
use crate::monitor::{run_checks, run_subscriptions, CheckRun, SubscriptionCheck, WriteMode};
use crate::store::{Store, StoreError};

/// Metrics about whole runs, on top of the engine's per-request hooks.
pub trait RunObserver: CheckObserver {
    /// A check run finished; `active_projects` is the number of enabled projects configured.
    fn run_finished(
        &self,
        _run: &CheckRun,
        _elapsed: std::time::Duration,
        _active_projects: usize,
    ) {
    }
}

/// Why a run could not be started or finished.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The project reference names no project, or several.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs checks on demand; one per process.
pub struct Checker {
    pub config: Arc<LiveConfig>,
    pub store: Arc<dyn Store>,
    observer: Arc<dyn RunObserver>,
    engine: Mutex<Option<(EngineOptions, Arc<Engine>)>>,
    last_update: AtomicI64,
    generation: AtomicU64,
    cached: RwLock<HashMap<String, bool>>,
    last_manual: Mutex<Option<Instant>>,
    /// A check run (of whatever was due) has completed in this process.
    first_run_done: AtomicBool,
    /// The latest store probe: when, and whether the store answered.
    store_probe: Mutex<Option<(Instant, bool)>>,
}

/// How long a store probe's answer is reused by [`Checker::store_ok`].
const STORE_PROBE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl Checker {
    pub fn new(
        config: Arc<LiveConfig>,
        store: Arc<dyn Store>,
        observer: Arc<dyn RunObserver>,
    ) -> Self {
        Checker {
            config,
            store,
            observer,
            engine: Mutex::new(None),
            last_update: AtomicI64::new(0),
            generation: AtomicU64::new(0),
            cached: RwLock::new(HashMap::new()),
            last_manual: Mutex::new(None),
            first_run_done: AtomicBool::new(false),
            store_probe: Mutex::new(None),
        }
    }

    /// Reads what the store already knows (the newest check time) once at start, so health
    /// can answer from memory afterwards.
    pub async fn prime(&self) -> Result<(), StoreError> {
        let newest = self
            .store
            .list_states()
            .await?
            .iter()
            .map(|s| s.last_checked_at)
            .max()
            .unwrap_or(0);
        self.last_update.fetch_max(newest, Ordering::Relaxed);
        Ok(())
    }

    /// Marks the first run complete when there was nothing to check.
    pub fn mark_run_done(&self) {
        self.first_run_done.store(true, Ordering::Release);
    }

    /// True once a check run has completed in this process (readiness).
    pub fn has_run(&self) -> bool {
        self.first_run_done.load(Ordering::Acquire)
    }

    /// Whether the store answers: a cheap probe at most every few seconds, and the outcome of
    /// the latest run in between, so polling health never loads the store.
    pub async fn store_ok(&self) -> bool {
        let cached = *self
            .store_probe
            .lock()
            .expect("probe lock is never poisoned");
        if let Some((at, ok)) = cached {
            if at.elapsed() < STORE_PROBE_TTL {
                return ok;
            }
        }
        let ok = match self.store.ping().await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "store probe failed");
                false
            }
        };
        self.note_store(ok);
        ok
    }

    fn note_store(&self, ok: bool) {
        *self
            .store_probe
            .lock()
            .expect("probe lock is never poisoned") = Some((Instant::now(), ok));
    }

    /// The engine for the current settings; rebuilt when a reload changed them.
    pub fn engine(&self) -> Result<Arc<Engine>, RunError> {
        let options = EngineOptions::from(&self.config.get().config.settings);
        let mut slot = self.engine.lock().expect("engine lock is never poisoned");
        if let Some((current, engine)) = slot.as_ref() {
            if *current == options {
                return Ok(engine.clone());
            }
        }
        let observer: Arc<dyn CheckObserver> = self.observer.clone();
        let engine = Arc::new(
            Engine::new(options.clone(), observer).map_err(|e| RunError::Client(e.to_string()))?,
        );
        *slot = Some((options, engine.clone()));
        Ok(engine)
    }

    /// Checks the referenced project (id, `provider:name` or unique name), or every enabled
    /// project, and records the results.
    pub async fn run(&self, project: Option<&str>, cache: CacheMode) -> Result<CheckRun, RunError> {
        let loaded = self.config.get();
        let projects: Vec<&ProjectConfig> = match project {
            Some(reference) => vec![loaded.config.find_project(reference)?],
            None => loaded
                .config
                .projects
                .iter()
                .filter(|p| p.enabled)
                .collect(),
        };
        self.run_projects(&projects, cache).await
    }

    /// Checks the given projects and records the results.
    pub async fn run_projects(
        &self,
        projects: &[&ProjectConfig],
        cache: CacheMode,
    ) -> Result<CheckRun, RunError> {
        let engine = self.engine()?;
        let settings = self.config.get().config.settings.clone();
        let started = Instant::now();
        let now = chrono::Utc::now().timestamp();
        let run = run_checks(
            &engine,
            &*self.store,
            &settings,
            projects,
            cache,
            WriteMode::Persist,
            now,
        )
        .await
        .inspect_err(|_| self.note_store(false))?;
        self.note_store(true);
        {
            let mut cached = self
                .cached
                .write()
                .expect("cache-flag lock is never poisoned");
            for (p, o) in projects.iter().zip(&run.outcomes) {
                cached.insert(p.id(), o.cached);
            }
        }
        self.last_update.fetch_max(now, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Release);
        self.mark_run_done();
        let active = self
            .config
            .get()
            .config
            .projects
            .iter()
            .filter(|p| p.enabled)
            .count();
        self.observer.run_finished(&run, started.elapsed(), active);
        Ok(run)
    }

    /// Evaluates subscriptions and records due reminders.
    pub async fn run_subscriptions(&self) -> Result<Vec<SubscriptionCheck>, RunError> {
        let loaded = self.config.get();
        let now = chrono::Utc::now();
        Ok(run_subscriptions(
            &*self.store,
            &loaded.config,
            loaded.config.settings.timezone.date_at(now),
            WriteMode::Persist,
            now.timestamp(),
        )
        .await?)
    }

    /// Increases after every run in this process: views derived from the store can be reused
    /// while it is unchanged.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Unix seconds of the latest completed run in this process (0 = none yet).
    pub fn last_update(&self) -> i64 {
        self.last_update.load(Ordering::Relaxed)
    }

    /// Whether the project's latest result in this process came from the response cache.
    pub fn was_cached(&self, project_id: &str) -> bool {
        self.cached
            .read()
            .expect("cache-flag lock is never poisoned")
            .get(project_id)
            .copied()
            .unwrap_or(false)
    }

    /// Claims the manual-refresh slot: `Err(seconds left)` while the cooldown runs.
    pub fn claim_manual_refresh(&self, cooldown: std::time::Duration) -> Result<(), u64> {
        let mut last = self
            .last_manual
            .lock()
            .expect("refresh lock is never poisoned");
        if let Some(at) = *last {
            let elapsed = at.elapsed();
            if elapsed < cooldown {
                return Err((cooldown - elapsed).as_secs_f64().ceil() as u64);
            }
        }
        *last = Some(Instant::now());
        Ok(())
    }
}
