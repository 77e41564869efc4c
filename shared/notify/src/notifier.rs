//! The notifier: outbox passes, the daily digest and the mailbox scan over one store, for every
//! host: `serve` ticks it in [`crate::worker`]'s loops, `check` drains the outbox once, and
//! the notifier function calls [`Notifier::tick`] per invocation.

use std::sync::Arc;
use std::time::Duration;

use balance_alert_core::config::Config;
use balance_alert_core::health::Status;
use balance_alert_core::observe::{NoopNotifyObserver, NotifyObserver};
use balance_alert_core::store::{Lease, Store, StoreError};

use crate::deliver::{Deliverer, PassReport};
use crate::digest;
use crate::mailbox::{self, MailSettings};

/// Outbox passes, the daily digest (and the mailbox scan) over one store.
#[derive(Clone)]
pub struct Notifier {
    pub deliverer: Deliverer,
    store: Arc<dyn Store>,
    observer: Arc<dyn NotifyObserver>,
    /// The process's check status: no digest before its first run is done (None: the caller
    /// checks before it ticks, as `check` and the checker function do).
    ready: Option<Arc<Status>>,
}

impl Notifier {
    /// A notifier over `store`; sends time out after `timeout`.
    pub fn new(store: Arc<dyn Store>, timeout: Duration) -> Self {
        Notifier {
            deliverer: Deliverer::new(store.clone(), Deliverer::http_client(timeout)),
            store,
            observer: Arc::new(NoopNotifyObserver),
            ready: None,
        }
    }

    /// Holds the digest until `status` says this process has completed a check run, so that
    /// a digest due at start shows the current readings, not the previous process's.
    pub fn with_ready(mut self, status: Arc<Status>) -> Self {
        self.ready = Some(status);
        self
    }

    /// Reports deliveries and mailbox scans to `observer` (metrics).
    pub fn with_observer(mut self, observer: Arc<dyn NotifyObserver>) -> Self {
        self.deliverer = self.deliverer.with_observer(observer.clone());
        self.observer = observer;
        self
    }

    /// One round: deliver what is due, then the digest when it is time.
    pub async fn tick(&self, config: &Config, now: i64) -> Result<PassReport, StoreError> {
        let report = self.deliverer.pass(config, now).await?;
        let checked = self.ready.as_ref().is_none_or(|s| s.has_run());
        if !checked {
            return Ok(report);
        }
        if let Some(date) = digest::claim_if_due(&*self.store, config, now).await? {
            self.send_digest(config, &date, now).await?;
        }
        Ok(report)
    }

    /// Scans the mailboxes when `email_scan_interval_seconds` has passed since the last scan
    /// by any process sharing the store; returns the new alerts (None when not due).
    pub async fn scan_mail_if_due(
        &self,
        config: &Config,
        now: i64,
    ) -> Result<Option<usize>, StoreError> {
        if !config.email.iter().any(|a| a.enabled) {
            return Ok(None);
        }
        let every = config.settings.email_scan_interval_seconds as i64;
        if self
            .store
            .claim(&Lease::MailScan, now, now + every)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        self.scan_mail(config, now).await.map(Some)
    }

    /// Scans every enabled mailbox now and stores what it finds: one alert per mail ever
    /// (ids come from the Message-ID), one per broken mailbox per day.
    pub async fn scan_mail(&self, config: &Config, now: i64) -> Result<usize, StoreError> {
        let settings = match MailSettings::from_config(config.email_settings.as_ref()) {
            Ok(s) => s,
            Err(problems) => {
                for p in &problems {
                    tracing::warn!(problem = %p, "email_settings ignored: using the defaults");
                }
                MailSettings::default()
            }
        };
        let scans = config.email.iter().filter(|a| a.enabled).map(|a| {
            let settings = &settings;
            async move {
                let started = std::time::Instant::now();
                let scan = mailbox::scan_account_counted(a, settings, now).await;
                let alerts = if scan.ok { scan.records.len() } else { 0 };
                self.observer
                    .mail_scan(&a.name, scan.read, alerts, scan.ok, started.elapsed());
                scan
            }
        });
        let mut new = 0;
        for scan in futures::future::join_all(scans).await {
            for r in scan.records {
                if self.store.insert_alert(r).await? {
                    new += 1;
                }
            }
        }
        Ok(new)
    }

    /// Sends the digest for `date` to every channel, all channels at once (a few quick
    /// retries each; a channel that stays down misses that day's digest, which is logged; a
    /// slow one delays no other).
    pub async fn send_digest(
        &self,
        config: &Config,
        date: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        let message = digest::build(&*self.store, config, date, now).await?;
        let sends = config.delivery_channels().into_iter().map(|c| {
            let message = &message;
            async move {
                let channel = crate::channels::build(&c, self.deliverer.http());
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match channel.send(message).await {
                        Ok(()) => return true,
                        Err(crate::SendError::Retry { after, .. }) if attempt < 3 => {
                            let wait = after
                                .unwrap_or(Duration::from_secs(2))
                                .min(Duration::from_secs(30));
                            tokio::time::sleep(wait).await;
                        }
                        Err(e) => {
                            tracing::warn!(channel = %c.name, error = %e, "digest not delivered");
                            return false;
                        }
                    }
                }
            }
        });
        let results = futures::future::join_all(sends).await;
        Ok(results.into_iter().filter(|ok| *ok).count())
    }
}
