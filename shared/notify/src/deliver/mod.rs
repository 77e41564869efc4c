//! The deliverer: drains the store's outbox. Every message exists only through its stored
//! alert record; each (alert, channel) pair carries its own outcome. One pass is a pipeline of
//! small stages (as Alertmanager's notify stages), each in its own module:
//!
//! 1. [`plan`]: reads the pending alerts (oldest first) and routes each to its channels
//!    (routes that leave no enabled channel fall back to every enabled one, logged);
//! 2. [`hold`]: holds non-critical messages in quiet hours (they go out as one summary at the
//!    end); a critical one passes at once, taking the project's held messages along;
//! 3. [`fold`]: per channel, folds more than `storm_threshold` messages a minute into one
//!    summary;
//! 4. [`limit`]: queues (never drops) what a channel's rate limit does not allow yet;
//! 5. [`lease`]: claims each due alert (a store lease: two processes never send the same alert
//!    at once) and re-reads it;
//! 6. [`send`]: every channel sends on its own, all at the same time, up to [`PER_CHANNEL`]
//!    projects at once per channel and one project's messages in order; it stops at the
//!    pass's deadline: a send still unanswered then counts as an attempt and is retried later,
//!    so a receiver that never answers delays neither other channels nor exit;
//! 7. [`record`]: each outcome is recorded as it comes — retrying with exponential backoff
//!    and jitter (Retry-After honoured), failing fast on errors that cannot succeed.
//!
//! At-least-once: the outcome is recorded after the send, so a crash in between resends the
//! messages in flight once the lease expires; nothing is ever lost. Messages carry the
//! idempotency key `<alert id>:<channel>`.

mod fold;
mod hold;
mod lease;
mod limit;
mod pass;
mod plan;
mod record;
mod send;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use balance_alert_core::config::channels::ChannelConfig;
use balance_alert_core::config::Config;
use balance_alert_core::observe::{NoopNotifyObserver, NotifyObserver};
use balance_alert_core::store::{Leases, Outbox, Store, StoreError};
use balance_alert_model::{AlertRecord, AlertStatus};
use tokio::time::Instant;

use crate::channel::Channel;
use crate::channels;
use crate::message::Message;
use fold::Fold;
use pass::Shared;
pub use record::{backoff, overall};

/// Pending alerts read per pass.
const BATCH: usize = 500;
/// Sends in flight at once on one channel (different projects: one project's messages on a
/// channel go one after another, in order).
pub const PER_CHANNEL: usize = 4;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Messages sent (a summary counts once).
    pub sent: usize,
    /// Alerts carried inside summaries.
    pub summarized: usize,
    /// Deliveries that failed and will be retried.
    pub retrying: usize,
    /// Deliveries given up (fatal error or retry budget spent).
    pub failed: usize,
    /// Deliveries waiting (backoff, rate limit, quiet hours, an earlier alert of the project).
    pub waiting: usize,
    /// Earliest unix second at which waiting work becomes due.
    pub next_due: Option<i64>,
}

impl PassReport {
    fn wait_until(&mut self, at: i64) {
        self.waiting += 1;
        self.due_at(at);
    }

    fn due_at(&mut self, at: i64) {
        self.next_due = Some(self.next_due.map_or(at, |n| n.min(at)));
    }

    /// Adds what another part of the pass sent, summarized, retried and gave up.
    fn add(&mut self, other: &PassReport) {
        self.sent += other.sent;
        self.summarized += other.summarized;
        self.retrying += other.retrying;
        self.failed += other.failed;
        if let Some(at) = other.next_due {
            self.due_at(at);
        }
    }
}

/// Whether the outbox holds an alert handed to [`Deliverer::deliver_ids`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    /// Its state is in the store: sent, given up, waiting, or scheduled for a retry with
    /// backoff (the outbox's job from here on).
    Recorded,
    /// Reading it or writing its outcome failed: the caller must hand it over again.
    StoreFailed,
}

/// A channel ready to send, with its config.
struct Ready {
    config: ChannelConfig,
    channel: Box<dyn Channel>,
}

/// One channel's due messages in this pass, oldest first, and how they go out.
struct Batch {
    channel: String,
    due: Vec<Due>,
    fold: Fold,
}

/// One (alert, channel) delivery due in this pass.
#[derive(Clone)]
struct Due {
    alert: AlertRecord,
    channel: String,
    /// It was held by quiet hours (those go out together as one summary).
    held: bool,
}

/// Drains the outbox. Cheap to clone; holds no window of its own (rate limits and the storm
/// guard count in the store, shared by every process).
#[derive(Clone)]
pub struct Deliverer {
    /// The alerts it drains, and the send counters.
    outbox: Arc<dyn Outbox>,
    /// The claims on each alert's delivery and on storm summaries.
    leases: Arc<dyn Leases>,
    http: reqwest::Client,
    observer: Arc<dyn NotifyObserver>,
}

impl Deliverer {
    /// A deliverer over `store`, sending with `http` (its timeout bounds every send).
    pub fn new(store: Arc<dyn Store>, http: reqwest::Client) -> Self {
        Deliverer {
            outbox: store.clone(),
            leases: store,
            http,
            observer: Arc::new(NoopNotifyObserver),
        }
    }

    /// Reports every send to `observer` (metrics).
    pub fn with_observer(mut self, observer: Arc<dyn NotifyObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// An HTTP client for channels: `timeout` per request, no redirects to other hosts.
    pub fn http_client(timeout: Duration) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("balance-alert/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    }

    /// The HTTP client channels send with.
    pub fn http(&self) -> reqwest::Client {
        self.http.clone()
    }

    /// The channels of `config`, built.
    fn ready(&self, config: &Config) -> HashMap<String, Ready> {
        config
            .delivery_channels()
            .into_iter()
            .map(|c| {
                let channel = channels::build(&c, self.http.clone());
                (c.name.clone(), Ready { config: c, channel })
            })
            .collect()
    }

    /// Sends a test message to one channel now (`balance-alert alerts test`).
    pub async fn send_test(&self, config: &Config, channel: &str, now: i64) -> Result<(), String> {
        let ready = self.ready(config);
        let Some(r) = ready.get(channel) else {
            let mut known: Vec<&String> = ready.keys().collect();
            known.sort();
            return Err(format!(
                "no channel named {channel:?}; configured: {}",
                if known.is_empty() {
                    "none (add one to channels[])".to_owned()
                } else {
                    known
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
        };
        let msg = Message::test(channel, &r.config.source, config.settings.language, now);
        r.channel.send(&msg).await.map_err(|e| e.to_string())
    }

    /// How long one pass may send: `delivery_timeout_seconds`, and at least one request
    /// timeout so that 0 still lets a pass send.
    fn pass_budget(config: &Config) -> Duration {
        let s = &config.settings;
        Duration::from_secs(s.delivery_timeout_seconds).max(Duration::from_secs_f64(
            s.request_timeout_seconds.max(0.001),
        ))
    }

    /// One pass over the outbox at `now`; its sends end within [`Self::pass_budget`].
    pub async fn pass(&self, config: &Config, now: i64) -> Result<PassReport, StoreError> {
        self.pass_until(config, now, Instant::now() + Self::pass_budget(config))
            .await
    }

    /// One pass whose sends are cut at `deadline` (what is in flight then is recorded as an
    /// attempt to retry).
    async fn pass_until(
        &self,
        config: &Config,
        now: i64,
        deadline: Instant,
    ) -> Result<PassReport, StoreError> {
        if config.delivery_channels().is_empty() {
            return Ok(PassReport::default());
        }
        let pending = self.outbox.pending_alerts(BATCH).await?;
        self.pass_over(config, pending, now, deadline).await
    }

    /// Delivers the given alerts now (the notifier function, per stream record); returns,
    /// per id, whether the outbox holds its state. A send that failed and is scheduled for a
    /// retry is recorded (the outbox retries it with backoff), as is an id that no longer
    /// exists or whose deliveries are settled or waiting (quiet hours, rate limit). Only a
    /// store read or write that failed leaves an id [`Handover::StoreFailed`]: a pass that
    /// fails stops short for every alert it took, so each of them is reported.
    pub async fn deliver_ids(&self, config: &Config, ids: &[String], now: i64) -> Vec<Handover> {
        let mut outcome = vec![Handover::Recorded; ids.len()];
        let mut alerts = Vec::new();
        let mut taken = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            match self.outbox.get_alert(id).await {
                Ok(Some(a)) if a.status == AlertStatus::Pending => {
                    alerts.push(a);
                    taken.push(i);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(alert = %id, error = %e, "cannot read the alert; its record is reported for redelivery");
                    outcome[i] = Handover::StoreFailed;
                }
            }
        }
        alerts.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let deadline = Instant::now() + Self::pass_budget(config);
        if let Err(e) = self.pass_over(config, alerts, now, deadline).await {
            tracing::warn!(error = %e, alerts = taken.len(), "the store failed during delivery; the pass's records are reported for redelivery");
            for i in taken {
                outcome[i] = Handover::StoreFailed;
            }
        }
        outcome
    }

    /// One pass over `pending` (oldest first) through the stages: plan and hold, then per
    /// channel fold and limit, claim what is due, then every channel sends on its own
    /// (summaries, or up to [`PER_CHANNEL`] projects at once, each project's messages in
    /// order), all channels at the same time, until `deadline`.
    async fn pass_over(
        &self,
        config: &Config,
        pending: Vec<AlertRecord>,
        now: i64,
        deadline: Instant,
    ) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        let ready = self.ready(config);
        if ready.is_empty() {
            return Ok(report);
        }
        let mut names: Vec<String> = ready.keys().cloned().collect();
        names.sort();
        let due = self
            .plan(config, &ready, &names, pending, now, &mut report)
            .await?;
        let batches = self
            .fold_and_limit(config, &ready, due, now, &mut report)
            .await?;

        // One claim per alert for the whole pass: every channel sending it shares it.
        let lease = now + deadline.saturating_duration_since(Instant::now()).as_secs() as i64 + 10;
        let ids: Vec<String> = batches
            .iter()
            .flat_map(|b| b.due.iter().map(|d| d.alert.id.clone()))
            .collect();
        let claimed = self.claim_all(ids, now, lease).await?;
        let shared = Shared::new(config, now, claimed);
        let mut planned = 0;
        let mut work = Vec::new();
        for batch in batches {
            let Some(r) = ready.get(&batch.channel) else {
                continue;
            };
            let ids: Vec<String> = batch
                .due
                .into_iter()
                .map(|d| d.alert.id)
                .filter(|id| shared.claimed.contains_key(id))
                .collect();
            planned += ids.len();
            let shared = &shared;
            work.push(async move {
                if ids.len() > 1 && batch.fold != Fold::Each {
                    self.send_summary(shared, r, ids).await
                } else {
                    self.send_channel(shared, r, ids).await
                }
            });
        }
        let finished = tokio::time::timeout_at(deadline, futures::future::join_all(work)).await;
        let result = match finished {
            Ok(results) => results
                .into_iter()
                .collect::<Result<Vec<()>, _>>()
                .map(drop),
            Err(_) => self.cut_at_deadline(&shared, &ready).await,
        };
        self.release_all(&shared.claimed).await?;
        result?;
        let started = shared.started();
        report.add(&shared.report.into_inner().unwrap_or_default());
        // Due but not started (the deadline came first, or a stalled receiver): next pass.
        for _ in started..planned {
            report.wait_until(now);
        }
        Ok(report)
    }

    /// Per channel (oldest first, so one project's messages arrive in order): whether its due
    /// messages fold into a summary, and how many of them its rate limit lets go now; the
    /// rest wait for the window to move on.
    async fn fold_and_limit(
        &self,
        config: &Config,
        ready: &HashMap<String, Ready>,
        due: Vec<Due>,
        now: i64,
        report: &mut PassReport,
    ) -> Result<Vec<Batch>, StoreError> {
        let mut by_channel: HashMap<String, Vec<Due>> = HashMap::new();
        for d in due {
            by_channel.entry(d.channel.clone()).or_default().push(d);
        }
        let mut channels: Vec<(String, Vec<Due>)> = by_channel.into_iter().collect();
        channels.sort_by(|a, b| a.0.cmp(&b.0));
        let mut batches = Vec::new();
        for (channel, mut list) in channels {
            let Some(r) = ready.get(&channel) else {
                continue;
            };
            list.sort_by(|a, b| {
                (a.alert.created_at, &a.alert.id).cmp(&(b.alert.created_at, &b.alert.id))
            });
            let held = list.iter().filter(|d| d.held).count();
            let counted = self.counted(&channel, now).await?;
            let threshold = config.settings.storm_threshold;
            let Some(fold) = self
                .fold_channel(&channel, list.len(), held, &counted, threshold, now)
                .await?
            else {
                // Another pass sent this minute's storm summary: the next minute's folds these.
                for _ in &list {
                    report.wait_until(counted.window.end());
                }
                continue;
            };
            let wanted = match fold {
                Fold::Storm | Fold::Held => 1,
                Fold::Each => list.len(),
            };
            let grant = self.grant(r, &counted, wanted, now).await?;
            let keep = match fold {
                Fold::Each => grant.granted,
                _ if grant.granted == 0 => 0,
                _ => list.len(),
            };
            for _ in keep..list.len() {
                report.wait_until(grant.retry_at);
            }
            list.truncate(keep);
            if !list.is_empty() {
                batches.push(Batch {
                    channel,
                    due: list,
                    fold,
                });
            }
        }
        Ok(batches)
    }

    /// Passes until nothing is due before `deadline` (unix s) or the deadline passes: what
    /// `check` runs before it exits. Sends still unanswered at the deadline are cut and
    /// recorded as attempts to retry, so this returns by the deadline whatever the receivers
    /// do (a deadline already past still makes one pass, bounded by one request timeout).
    /// Returns the last pass's report (what is left waiting).
    pub async fn drain(&self, config: &Config, deadline: i64) -> Result<PassReport, StoreError> {
        let left = deadline as f64 - unix_now_f64();
        let mut until = Instant::now() + Duration::from_secs_f64(left.max(0.0));
        if left <= 0.0 {
            until = Instant::now()
                + Duration::from_secs_f64(config.settings.request_timeout_seconds.max(0.001));
        }
        let mut total = PassReport::default();
        loop {
            let now = unix_now();
            let r = self.pass_until(config, now, until).await?;
            total.sent += r.sent;
            total.summarized += r.summarized;
            total.failed += r.failed;
            total.retrying = r.retrying;
            total.waiting = r.waiting;
            total.next_due = r.next_due;
            if Instant::now() >= until {
                return Ok(total);
            }
            match r.next_due {
                Some(at) if at < deadline && r.waiting > 0 => {
                    let wait = (at - unix_now()).clamp(1, 5);
                    let wake = (Instant::now() + Duration::from_secs(wait as u64)).min(until);
                    tokio::time::sleep_until(wake).await;
                }
                // Sent something: more may have become due (a deadline already past at the
                // start allows just the one pass).
                _ if r.sent > 0 && unix_now_f64() < deadline as f64 => continue,
                _ => return Ok(total),
            }
            if Instant::now() >= until {
                return Ok(total);
            }
        }
    }
}

/// Seconds since the epoch, with their fraction.
fn unix_now_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
