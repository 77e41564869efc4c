//! The composition root: every host — the `serve`, `check` and `alerts` commands and the three
//! Lambda functions — builds what it runs here, from its config source and store, so a
//! behaviour is wired once: the checker (with the process's health and metrics), the notifier
//! (reporting to the same metrics, or to the host's observer), and the metrics themselves.

pub mod metrics;

use std::sync::Arc;
use std::time::Duration;

use balance_alert_core::check::Checker;
use balance_alert_core::config::ConfigSource;
use balance_alert_core::health::Status;
use balance_alert_core::observe::NotifyObserver;
use balance_alert_core::store::{Claimant, Store};
use balance_alert_notify::Notifier;

pub use metrics::Metrics;

/// What a host runs, built by [`Services::build`] (or [`Services::builder`]).
pub struct Services {
    pub config: Arc<dyn ConfigSource>,
    pub store: Arc<dyn Store>,
    /// The process's health, updated as runs complete.
    pub status: Arc<Status>,
    /// The process's metrics: the checker's and (by default) the notifier's hooks record here.
    pub metrics: Arc<Metrics>,
    pub checker: Arc<Checker>,
    /// Sends time out after the settings' `request_timeout_seconds` (as they were at build).
    pub notifier: Notifier,
}

impl Services {
    /// Every part, with their defaults: anonymous leases, the notifier reporting to the
    /// metrics, a digest sent whenever it is due.
    pub fn build(config: Arc<dyn ConfigSource>, store: Arc<dyn Store>) -> Services {
        Services::builder(config, store).build()
    }

    /// [`Services::build`] with the host's choices.
    pub fn builder(config: Arc<dyn ConfigSource>, store: Arc<dyn Store>) -> Builder {
        Builder {
            config,
            store,
            metrics: None,
            claimant: Claimant::anonymous(),
            notify_observer: None,
            digest_after_first_run: false,
        }
    }
}

/// A host's choices for [`Services`].
pub struct Builder {
    config: Arc<dyn ConfigSource>,
    store: Arc<dyn Store>,
    metrics: Option<Arc<Metrics>>,
    claimant: Claimant,
    notify_observer: Option<Arc<dyn NotifyObserver>>,
    digest_after_first_run: bool,
}

impl Builder {
    /// Record into these metrics (shared with another part of the host) instead of new ones.
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Take leases as `claimant` (a node's process: see `balance_alert_core::node`).
    pub fn claimant(mut self, claimant: Claimant) -> Self {
        self.claimant = claimant;
        self
    }

    /// Report deliveries and mailbox scans to `observer` (EMF in a function) instead of the
    /// metrics.
    pub fn notify_observer(mut self, observer: Arc<dyn NotifyObserver>) -> Self {
        self.notify_observer = Some(observer);
        self
    }

    /// Hold a digest due at start until this process's first check run is done, so it shows
    /// current readings (a long-lived `serve`).
    pub fn digest_after_first_run(mut self) -> Self {
        self.digest_after_first_run = true;
        self
    }

    pub fn build(self) -> Services {
        let metrics = self.metrics.unwrap_or_else(|| Arc::new(Metrics::new()));
        let status = Arc::new(Status::default());
        let timeout = self.config.get().config.settings.request_timeout_seconds;
        let observer: Arc<dyn NotifyObserver> = match self.notify_observer {
            Some(o) => o,
            None => metrics.clone(),
        };
        let mut notifier = Notifier::new(self.store.clone(), Duration::from_secs_f64(timeout))
            .with_observer(observer);
        if self.digest_after_first_run {
            notifier = notifier.with_ready(status.clone());
        }
        let checker = Checker::new(
            self.config.clone(),
            self.store.clone(),
            status.clone(),
            metrics.clone(),
        )
        .with_claimant(self.claimant);
        Services {
            config: self.config,
            store: self.store,
            status,
            metrics,
            checker: Arc::new(checker),
            notifier,
        }
    }
}
