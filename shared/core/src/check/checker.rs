//! The runner shared by the scheduler, the API's manual refresh and the checker function: the
//! config source, the store, an engine that follows config changes, and the process's health
//! ([`crate::health::Status`]), updated as runs complete.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::check::engine::{CacheMode, CheckObserver, Engine, EngineOptions};
use crate::check::{
    run_due_by, CheckRun, Housekeeping, RunOptions, RunReport, Selection, WriteMode,
};
use crate::config::{ConfigSource, LookupError};
use crate::health::Status;
use crate::store::{Claimant, Lease, Store, StoreError};

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
    /// A manual refresh within the cooldown; retry after the given seconds.
    #[error("refresh is cooling down: try again in {0} s")]
    CoolingDown(u64),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs checks on demand; one per process.
pub struct Checker {
    pub config: Arc<dyn ConfigSource>,
    pub store: Arc<dyn Store>,
    pub status: Arc<Status>,
    observer: Arc<dyn RunObserver>,
    engine: Mutex<Option<(EngineOptions, Arc<Engine>)>>,
    claimant: Claimant,
}

impl Checker {
    pub fn new(
        config: Arc<dyn ConfigSource>,
        store: Arc<dyn Store>,
        status: Arc<Status>,
        observer: Arc<dyn RunObserver>,
    ) -> Self {
        Checker {
            config,
            store,
            status,
            observer,
            engine: Mutex::new(None),
            claimant: Claimant::anonymous(),
        }
    }

    /// Claims projects as `claimant` (a node's process: see [`crate::node`]).
    pub fn with_claimant(mut self, claimant: Claimant) -> Self {
        self.claimant = claimant;
        self
    }

    /// Who this process's claims belong to.
    pub fn claimant(&self) -> &Claimant {
        &self.claimant
    }

    /// What the scheduler checks next: what is due, and, until every project has had a result
    /// since start (readiness), the projects without one.
    pub fn scheduled_selection(&self) -> Selection {
        if self.status.ready_for(&self.config.get().config) {
            Selection::Due
        } else {
            Selection::DueOrUncheckedSince(self.status.start_time())
        }
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

    /// Runs the sequence ([`run_due`]) once and records it.
    pub async fn run(
        &self,
        selection: &Selection,
        options: RunOptions,
    ) -> Result<RunReport, RunError> {
        let engine = self.engine()?;
        let loaded = self.config.get();
        let started = Instant::now();
        let now = chrono::Utc::now().timestamp();
        let report = run_due_by(
            &engine,
            &*self.store,
            &loaded.config,
            selection,
            options,
            now,
            &self.claimant,
        )
        .await
        .inspect_err(|e| self.status.note_store(Err(e)))?;
        if options.write == WriteMode::Persist {
            self.status
                .note_results(report.checked.iter().chain(&report.current));
        }
        self.status.run_done(now, report.checks.outcomes.len());
        let active = loaded.config.projects.iter().filter(|p| p.enabled).count();
        self.observer
            .run_finished(&report.checks, started.elapsed(), active);
        Ok(report)
    }

    /// A manual refresh of the referenced project (id, `provider:name` or unique name), or of
    /// every enabled one, bypassing the response cache. One per cooldown
    /// (`settings.refresh_cooldown_seconds`) across every process sharing the store.
    pub async fn refresh(&self, reference: Option<&str>) -> Result<RunReport, RunError> {
        let loaded = self.config.get();
        let selection = match reference {
            Some(r) => Selection::Only(vec![loaded.config.find_project(r)?.id()]),
            None => Selection::All,
        };
        let now = chrono::Utc::now().timestamp();
        let cooldown = loaded.config.settings.refresh_cooldown_seconds as i64;
        if let Some(until) = self
            .store
            .claim(&Lease::Refresh, now, now.saturating_add(cooldown))
            .await?
        {
            return Err(RunError::CoolingDown(
                until.saturating_sub(now).max(1) as u64
            ));
        }
        self.run(
            &selection,
            RunOptions {
                cache: CacheMode::Bypass,
                write: WriteMode::Persist,
                housekeeping: Housekeeping::Never,
            },
        )
        .await
    }
}
