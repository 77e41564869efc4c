//! The deliverer: drains the store's outbox. Every message exists only through its stored
//! alert record; each (alert, channel) pair carries its own outcome. One pass:
//!
//! 1. reads the pending alerts (oldest first) and routes each to its channels (routes that
//!    leave no enabled channel fall back to every enabled one, logged);
//! 2. holds non-critical messages in quiet hours (they go out as one summary at the end);
//!    a hold does not make the project's later alerts wait: a critical one passes at once,
//!    taking the project's held messages on that channel along ahead of it (in order);
//! 3. per channel, folds more than `storm_threshold` messages a minute into one summary, and
//!    queues (never drops) what a channel's rate limit does not allow yet;
//! 4. claims each due alert (a store lease: two processes never send the same alert at once)
//!    and re-reads it; then every channel sends on its own, all at the same time, up to
//!    [`PER_CHANNEL`] projects at once per channel and one project's messages in order;
//!    each outcome is recorded as it comes — retrying with exponential backoff and jitter
//!    (Retry-After honoured), failing fast on errors that cannot succeed;
//! 5. stops at the pass's deadline: a send still unanswered then counts as an attempt and is
//!    retried later, so a receiver that never answers delays neither other channels nor exit.
//!
//! At-least-once: the outcome is recorded after the send, so a crash in between resends the
//! messages in flight once the lease expires; nothing is ever lost. Messages carry the
//! idempotency key `<alert id>:<channel>`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use balance_alert_core::config::delivery::ChannelConfig;
use balance_alert_core::config::Config;
use balance_alert_core::service::{NoopNotifyObserver, NotifyObserver};
use balance_alert_core::store::{Store, StoreError};
use balance_alert_model::{AlertRecord, AlertStatus, Delivery};
use futures::{StreamExt, TryStreamExt};
use rand::Rng;
use tokio::time::Instant;

use crate::channel::{Channel, SendError};
use crate::channels;
use crate::message::{Message, Severity};
use crate::route::{quiet_until, route};

/// First retry delay; doubles per attempt up to [`MAX_BACKOFF`].
const BASE_BACKOFF: i64 = 5;
/// Longest wait between two attempts.
const MAX_BACKOFF: i64 = 600;
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
        self.next_due = Some(self.next_due.map_or(at, |n| n.min(at)));
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

/// Sends per channel in the last minute (rate limits, storm guard), per process.
#[derive(Default)]
struct Recent(HashMap<String, VecDeque<i64>>);

impl Recent {
    fn count(&mut self, channel: &str, now: i64) -> usize {
        let q = self.0.entry(channel.to_owned()).or_default();
        while q.front().is_some_and(|t| *t <= now - 60) {
            q.pop_front();
        }
        q.len()
    }

    fn oldest(&self, channel: &str) -> Option<i64> {
        self.0.get(channel).and_then(|q| q.front().copied())
    }

    fn push(&mut self, channel: &str, now: i64) {
        self.0.entry(channel.to_owned()).or_default().push_back(now);
    }
}

/// A channel ready to send, with its config.
struct Ready {
    config: ChannelConfig,
    channel: Box<dyn Channel>,
}

/// One (alert, channel) delivery due in this pass.
#[derive(Clone)]
struct Due {
    alert: AlertRecord,
    channel: String,
    /// It was held by quiet hours (those go out together as one summary).
    held: bool,
}

/// Drains the outbox. Cheap to clone; holds per-process rate-limit memory.
#[derive(Clone)]
pub struct Deliverer {
    store: Arc<dyn Store>,
    http: reqwest::Client,
    recent: Arc<Mutex<Recent>>,
    observer: Arc<dyn NotifyObserver>,
}

impl Deliverer {
    /// A deliverer over `store`, sending with `http` (its timeout bounds every send).
    pub fn new(store: Arc<dyn Store>, http: reqwest::Client) -> Self {
        Deliverer {
            store,
            http,
            recent: Arc::default(),
            observer: Arc::new(NoopNotifyObserver),
        }
    }

    /// Reports every send to `observer` (metrics).
    pub fn with_observer(mut self, observer: Arc<dyn NotifyObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// Sends `msg` on `r`, timed and reported.
    async fn send_observed(
        &self,
        r: &Ready,
        msg: &Message,
        max_attempts: u32,
        attempts_before: u32,
    ) -> Result<(), SendError> {
        let started = std::time::Instant::now();
        let result = r.channel.send(msg).await;
        let (outcome, timed_out) = match &result {
            Ok(()) => ("sent", false),
            Err(SendError::Fatal { .. }) => ("failed", false),
            Err(SendError::Retry { reason, .. }) => (
                if attempts_before + 1 >= max_attempts {
                    "failed"
                } else {
                    "retry"
                },
                timed_out(reason),
            ),
        };
        self.observer.delivery(
            &r.config.name,
            r.config.kind.as_str(),
            outcome,
            timed_out,
            started.elapsed(),
        );
        result
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
        let pending = self.store.pending_alerts(BATCH).await?;
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
            match self.store.get_alert(id).await {
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

    /// One pass over `pending` (oldest first): plan, claim what is due, then every channel
    /// sends on its own (summaries, or up to [`PER_CHANNEL`] projects at once, each project's
    /// messages in order), all channels at the same time, until `deadline`.
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

        // One claim per alert for the whole pass: every channel sending it shares it.
        let lease = now + deadline.saturating_duration_since(Instant::now()).as_secs() as i64 + 10;
        let mut claimed: HashMap<String, Claimed> = HashMap::new();
        for d in &due {
            if claimed.contains_key(&d.alert.id) {
                continue;
            }
            if let Some(fresh) = self.claim(&d.alert.id, now, lease).await? {
                claimed.insert(
                    d.alert.id.clone(),
                    Claimed {
                        snapshot: fresh.clone(),
                        record: tokio::sync::Mutex::new(fresh),
                        touched: AtomicBool::new(false),
                    },
                );
            }
        }
        // Per channel: a storm or a quiet window's end folds into one summary.
        let mut by_channel: HashMap<String, Vec<Due>> = HashMap::new();
        for d in due {
            if claimed.contains_key(&d.alert.id) {
                by_channel.entry(d.channel.clone()).or_default().push(d);
            }
        }
        let shared = Shared {
            config,
            now,
            claimed,
            report: Mutex::new(PassReport::default()),
            in_flight: Mutex::new(HashMap::new()),
            started: Mutex::new(HashSet::new()),
            stalled: Mutex::new(HashSet::new()),
        };
        let mut planned = 0;
        let mut work = Vec::new();
        for (name, mut list) in by_channel {
            let Some(r) = ready.get(&name) else { continue };
            planned += list.len();
            // Oldest first, so one project's messages arrive in order.
            list.sort_by(|a, b| {
                (a.alert.created_at, &a.alert.id).cmp(&(b.alert.created_at, &b.alert.id))
            });
            let recent = self.recent_count(&name, now);
            let held = list.iter().filter(|d| d.held).count();
            let storm = list.len() + recent > config.settings.storm_threshold as usize;
            let ids: Vec<String> = list.into_iter().map(|d| d.alert.id).collect();
            let shared = &shared;
            work.push(async move {
                if ids.len() > 1 && (storm || held > 1) {
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
        for id in shared.claimed.keys() {
            self.release(id).await?;
        }
        result?;
        let started = shared.started.lock().map_or(0, |s| s.len());
        let sent = shared.report.into_inner().unwrap_or_default();
        report.sent += sent.sent;
        report.summarized += sent.summarized;
        report.retrying += sent.retrying;
        report.failed += sent.failed;
        if let Some(at) = sent.next_due {
            report.next_due = Some(report.next_due.map_or(at, |n| n.min(at)));
        }
        // Due but not started (the deadline came first, or a stalled receiver): next pass.
        for _ in started..planned {
            report.wait_until(now);
        }
        Ok(report)
    }

    /// The deadline passed: every send still in flight counts as an attempt that timed out
    /// (retried with backoff; nothing is lost), and every record is written as it stands.
    async fn cut_at_deadline(
        &self,
        shared: &Shared<'_>,
        ready: &HashMap<String, Ready>,
    ) -> Result<(), StoreError> {
        let cut: Vec<((String, String), Instant)> = shared
            .in_flight
            .lock()
            .map(|mut m| m.drain().collect())
            .unwrap_or_default();
        let max = shared.config.settings.delivery_max_attempts;
        for ((id, channel), started) in cut {
            let Some(c) = shared.claimed.get(&id) else {
                continue;
            };
            let mut rec = c.record.lock().await;
            let Some(d) = rec.deliveries.iter_mut().find(|d| d.channel == channel) else {
                continue;
            };
            let waited = started.elapsed();
            tracing::warn!(
                alert = %id,
                channel = %channel,
                waited_ms = waited.as_millis() as u64,
                "no answer before the delivery deadline; the send will be retried"
            );
            if let Some(r) = ready.get(&channel) {
                let outcome = if d.attempts + 1 >= max {
                    "failed"
                } else {
                    "retry"
                };
                self.observer
                    .delivery(&channel, r.config.kind.as_str(), outcome, true, waited);
            }
            let mut sub = PassReport::default();
            settle(
                d,
                Err(SendError::Retry {
                    reason: format!(
                        "no answer before the delivery deadline ({} s)",
                        waited.as_secs()
                    ),
                    after: None,
                }),
                shared.now,
                max,
                &mut sub,
            );
            shared.merge(&sub);
            c.touched.store(true, Ordering::Relaxed);
        }
        let mut first_error = Ok(());
        for (id, c) in &shared.claimed {
            if !c.touched.load(Ordering::Relaxed) {
                continue;
            }
            let mut rec = c.record.lock().await;
            let status = overall(&rec.deliveries);
            rec.status = status;
            if let Err(e) = self
                .store
                .record_deliveries(id, status, rec.deliveries.clone())
                .await
            {
                first_error = first_error.and(Err(e));
            }
        }
        first_error
    }

    fn recent_count(&self, channel: &str, now: i64) -> usize {
        self.recent
            .lock()
            .map(|mut r| r.count(channel, now))
            .unwrap_or(0)
    }

    /// Routes every pending alert, records what is new or held, and returns what is due now.
    async fn plan(
        &self,
        config: &Config,
        ready: &HashMap<String, Ready>,
        names: &[String],
        pending: Vec<AlertRecord>,
        now: i64,
        report: &mut PassReport,
    ) -> Result<Vec<Due>, StoreError> {
        let tz = config.settings.timezone;
        let mut due = Vec::new();
        // (project, channel) pairs with an earlier alert waiting to be retried: later ones
        // wait behind it. A quiet-hours hold is not such a wait: later alerts of the project
        // are judged on their own (a critical one passes).
        let mut blocked: HashSet<(String, String)> = HashSet::new();
        // Held by quiet hours in this pass, per (project, channel): a critical alert of the
        // project takes them along, ahead of itself, so the channel still sees the project's
        // messages in order (a held recovery never arrives after the critical it preceded).
        // A later non-critical message of the project waits with them (until the same end).
        let mut held_before: HashMap<(String, String), (i64, Vec<Due>)> = HashMap::new();
        let mut budget: HashMap<String, usize> = HashMap::new();
        for mut alert in pending {
            let mut changed = false;
            let routing = route(&alert, &config.routes, names);
            let mut added = false;
            for t in &routing.targets {
                if !alert.deliveries.iter().any(|d| d.channel == t.channel) {
                    alert.deliveries.push(Delivery::queued(&t.channel));
                    added = true;
                }
            }
            if let (true, Some(f)) = (added, &routing.fallback) {
                tracing::warn!(
                    alert = %alert.id,
                    project = %alert.project_name,
                    kind = alert.kind.as_str(),
                    routes = ?f.routes,
                    named_channels = ?f.named,
                    enabled_channels = ?names,
                    "the routes matching this alert name no enabled channel: sending it to every enabled channel (enable one of the named channels or fix routes[])"
                );
            }
            changed |= added;
            let targets = routing.targets;
            let critical = Severity::of(&alert) == Severity::Critical;
            let snapshot = alert.clone();
            for d in alert.deliveries.iter_mut() {
                if d.status != AlertStatus::Pending {
                    continue;
                }
                let Some(r) = ready.get(&d.channel) else {
                    // The channel was disabled or removed: nothing can deliver it here.
                    d.status = AlertStatus::Failed;
                    d.error = Some(if config.channels.iter().any(|c| c.name == d.channel) {
                        format!("channel {:?} is disabled", d.channel)
                    } else {
                        format!("channel {:?} is no longer configured", d.channel)
                    });
                    changed = true;
                    continue;
                };
                let key = (alert.project_id.clone(), d.channel.clone());
                if blocked.contains(&key) {
                    report.wait_until(d.next_attempt_at.unwrap_or(now));
                    continue;
                }
                // A held delivery's time is the window's end, re-judged below each pass.
                if let Some(at) = d.next_attempt_at.filter(|at| *at > now && !d.held) {
                    blocked.insert(key);
                    report.wait_until(at);
                    continue;
                }
                let route_quiet = targets
                    .iter()
                    .find(|t| t.channel == d.channel)
                    .and_then(|t| t.quiet_hours);
                let quiet = [r.config.quiet_hours, route_quiet]
                    .into_iter()
                    .flatten()
                    .filter_map(|q| quiet_until(&q, &tz, now))
                    .max();
                let hold = match (quiet, critical) {
                    (_, true) => None,
                    (Some(until), false) => Some(until),
                    (None, false) => held_before.get(&key).map(|(until, _)| *until),
                };
                if let Some(until) = hold {
                    if !d.held || d.next_attempt_at != Some(until) {
                        d.next_attempt_at = Some(until);
                        d.held = true;
                        changed = true;
                    }
                    report.wait_until(until);
                    let (end, list) = held_before.entry(key).or_insert((until, Vec::new()));
                    *end = (*end).max(until);
                    list.push(Due {
                        alert: snapshot.clone(),
                        channel: d.channel.clone(),
                        held: true,
                    });
                    continue;
                }
                // Rate limit: queue beyond the channel's messages per minute.
                if let Some(limit) = r.config.effective_rate_per_minute() {
                    let used = budget
                        .entry(d.channel.clone())
                        .or_insert_with(|| self.recent_count(&d.channel, now));
                    if *used >= limit as usize {
                        let at = self
                            .recent
                            .lock()
                            .ok()
                            .and_then(|r| r.oldest(&d.channel))
                            .map_or(now + 60, |t| t + 60);
                        report.wait_until(at);
                        blocked.insert(key);
                        continue;
                    }
                    *used += 1;
                }
                if critical {
                    if let Some((_, earlier)) = held_before.remove(&key) {
                        report.waiting = report.waiting.saturating_sub(earlier.len());
                        due.extend(earlier);
                    }
                }
                due.push(Due {
                    alert: snapshot.clone(),
                    channel: d.channel.clone(),
                    held: d.held,
                });
            }
            if changed {
                let status = overall(&alert.deliveries);
                self.store
                    .record_deliveries(&alert.id, status, alert.deliveries.clone())
                    .await?;
            }
        }
        // The copies in `due` predate this pass's bookkeeping; they are re-read under the claim.
        Ok(due)
    }

    /// Claims an alert for sending until `until`; None when another process holds it (or it
    /// is gone).
    async fn claim(
        &self,
        id: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<AlertRecord>, StoreError> {
        let key = format!("deliver:{id}");
        if self.store.claim_cooldown(&key, now, until).await?.is_some() {
            return Ok(None);
        }
        // Re-read under the claim: another process may have sent it since our list.
        self.store.get_alert(id).await
    }

    async fn release(&self, id: &str) -> Result<(), StoreError> {
        self.store.release_cooldown(&format!("deliver:{id}")).await
    }

    /// Sends `ids` (oldest first) on one channel: up to [`PER_CHANNEL`] projects at once,
    /// each project's messages one after another; a send that does not go through holds that
    /// project's later messages on this channel back, so they cannot overtake it.
    async fn send_channel(
        &self,
        shared: &Shared<'_>,
        r: &Ready,
        ids: Vec<String>,
    ) -> Result<(), StoreError> {
        let mut chains: Vec<(String, Vec<String>)> = Vec::new();
        for id in ids {
            let Some(c) = shared.claimed.get(&id) else {
                continue;
            };
            let project = &c.snapshot.project_id;
            match chains.iter_mut().find(|(p, _)| p == project) {
                Some((_, list)) => list.push(id),
                None => chains.push((project.clone(), vec![id])),
            }
        }
        futures::stream::iter(chains.into_iter().map(|(_, ids)| async move {
            for id in ids {
                if !self.send_one(shared, r, &id).await? {
                    break;
                }
            }
            Ok::<(), StoreError>(())
        }))
        .buffer_unordered(PER_CHANNEL)
        .try_collect::<Vec<()>>()
        .await
        .map(drop)
    }

    /// Sends one claimed alert on `r` and records the outcome; false when it did not go
    /// through (or must wait), so that the project's later messages wait too.
    async fn send_one(&self, shared: &Shared<'_>, r: &Ready, id: &str) -> Result<bool, StoreError> {
        let name = &r.config.name;
        let Some(c) = shared.claimed.get(id) else {
            return Ok(true);
        };
        let attempts = {
            let rec = c.record.lock().await;
            let Some(d) = rec.deliveries.iter().find(|d| &d.channel == name) else {
                return Ok(true);
            };
            if d.status != AlertStatus::Pending {
                return Ok(true);
            }
            if d.next_attempt_at.is_some_and(|t| t > shared.now && !d.held) {
                return Ok(false);
            }
            d.attempts
        };
        if shared.is_stalled(name) {
            return Ok(false);
        }
        let settings = &shared.config.settings;
        let msg = Message::for_alert(
            &c.snapshot,
            name,
            &r.config.source,
            settings.language,
            &settings.timezone,
        );
        shared.start(id, name);
        let result = self
            .send_observed(r, &msg, settings.delivery_max_attempts, attempts)
            .await;
        self.note_sent(name, shared.now, &result);
        if matches!(&result, Err(SendError::Retry { reason, .. }) if timed_out(reason)) {
            // A receiver that does not answer in time is not given this pass's other
            // messages: they wait for the next pass instead of each waiting out a timeout.
            shared.stall(name);
        }
        let ok = result.is_ok();
        let sub = self.record(shared, id, name, result, None).await?;
        shared.merge(&sub);
        Ok(ok)
    }

    /// Applies a send's outcome to the claimed record and writes it; returns what it counts.
    async fn record(
        &self,
        shared: &Shared<'_>,
        id: &str,
        channel: &str,
        result: Result<(), SendError>,
        summarized: Option<bool>,
    ) -> Result<PassReport, StoreError> {
        let mut sub = PassReport::default();
        let Some(c) = shared.claimed.get(id) else {
            return Ok(sub);
        };
        let mut rec = c.record.lock().await;
        if let Some(d) = rec.deliveries.iter_mut().find(|d| d.channel == channel) {
            settle(
                d,
                result,
                shared.now,
                shared.config.settings.delivery_max_attempts,
                &mut sub,
            );
            if let Some(s) = summarized {
                d.summarized = s;
            }
        }
        c.touched.store(true, Ordering::Relaxed);
        if let Ok(mut f) = shared.in_flight.lock() {
            f.remove(&(id.to_owned(), channel.to_owned()));
        }
        let status = overall(&rec.deliveries);
        rec.status = status;
        // Written under the record's lock: another channel's outcome for the same alert is
        // applied to this state, never to a stale copy.
        self.store
            .record_deliveries(id, status, rec.deliveries.clone())
            .await?;
        Ok(sub)
    }

    fn note_sent(&self, channel: &str, now: i64, result: &Result<(), SendError>) {
        if result.is_ok() {
            if let Ok(mut r) = self.recent.lock() {
                r.push(channel, now);
            }
        }
    }

    /// Sends one summary of `ids` (all due on one channel) and records it on every alert.
    async fn send_summary(
        &self,
        shared: &Shared<'_>,
        r: &Ready,
        ids: Vec<String>,
    ) -> Result<(), StoreError> {
        let name = &r.config.name;
        let mut alerts: Vec<AlertRecord> = Vec::new();
        let mut attempts = 0;
        for id in &ids {
            let Some(c) = shared.claimed.get(id) else {
                continue;
            };
            let rec = c.record.lock().await;
            if let Some(d) = rec
                .deliveries
                .iter()
                .find(|d| &d.channel == name && d.status == AlertStatus::Pending)
            {
                attempts = attempts.max(d.attempts);
                alerts.push(c.snapshot.clone());
            }
        }
        if alerts.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<&str> = alerts.iter().map(|a| a.id.as_str()).collect();
        sorted.sort_unstable();
        let key = format!("summary:{name}:{}", short_hash(&sorted.join(",")));
        let settings = &shared.config.settings;
        let msg = Message::summary(
            &alerts,
            key,
            &r.config.source,
            settings.language,
            shared.now,
        );
        for a in &alerts {
            shared.start(&a.id, name);
        }
        let result = self
            .send_observed(r, &msg, settings.delivery_max_attempts, attempts)
            .await;
        self.note_sent(name, shared.now, &result);
        let ok = result.is_ok();
        let mut sub = PassReport::default();
        for a in &alerts {
            let s = self
                .record(shared, &a.id, name, result.clone(), Some(ok))
                .await?;
            sub.retrying += s.retrying;
            sub.failed += s.failed;
            sub.next_due = match (sub.next_due, s.next_due) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
        }
        if ok {
            sub.sent = 1;
            sub.summarized = alerts.len();
        }
        shared.merge(&sub);
        Ok(())
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

/// One alert claimed for this pass, shared by the channels sending it.
struct Claimed {
    /// The record as claimed: what messages say.
    snapshot: AlertRecord,
    /// The record with this pass's outcomes applied; written under this lock.
    record: tokio::sync::Mutex<AlertRecord>,
    /// An outcome was applied (the record must be written).
    touched: AtomicBool,
}

/// What the channels' sends in one pass share.
struct Shared<'a> {
    config: &'a Config,
    now: i64,
    claimed: HashMap<String, Claimed>,
    report: Mutex<PassReport>,
    /// (alert id, channel) sends started and not settled yet, with their start.
    in_flight: Mutex<HashMap<(String, String), Instant>>,
    /// Every (alert id, channel) send started in this pass.
    started: Mutex<HashSet<(String, String)>>,
    /// Channels whose receiver timed out in this pass: no further sends until the next.
    stalled: Mutex<HashSet<String>>,
}

impl Shared<'_> {
    fn start(&self, id: &str, channel: &str) {
        let key = (id.to_owned(), channel.to_owned());
        if let Ok(mut f) = self.in_flight.lock() {
            f.insert(key.clone(), Instant::now());
        }
        if let Ok(mut s) = self.started.lock() {
            s.insert(key);
        }
    }

    fn stall(&self, channel: &str) {
        if let Ok(mut s) = self.stalled.lock() {
            s.insert(channel.to_owned());
        }
    }

    fn is_stalled(&self, channel: &str) -> bool {
        self.stalled.lock().is_ok_and(|s| s.contains(channel))
    }

    fn merge(&self, sub: &PassReport) {
        if let Ok(mut r) = self.report.lock() {
            r.sent += sub.sent;
            r.summarized += sub.summarized;
            r.retrying += sub.retrying;
            r.failed += sub.failed;
            if let Some(at) = sub.next_due {
                r.next_due = Some(r.next_due.map_or(at, |n| n.min(at)));
            }
        }
    }
}

/// Whether a retry reason says the receiver did not answer in time.
fn timed_out(reason: &str) -> bool {
    reason.contains("timed out") || reason.contains("timeout")
}

/// The alert's status from its deliveries: sent when every one is, failed when all settled
/// and one failed, else pending.
pub fn overall(deliveries: &[Delivery]) -> AlertStatus {
    if deliveries.iter().any(|d| d.status == AlertStatus::Pending) {
        AlertStatus::Pending
    } else if deliveries.iter().any(|d| d.status == AlertStatus::Failed) {
        AlertStatus::Failed
    } else if deliveries.is_empty() {
        AlertStatus::Pending
    } else {
        AlertStatus::Sent
    }
}

/// The delay before attempt `attempts + 1`: 5 s doubling to 10 min, ±20 % jitter, never
/// shorter than the receiver's Retry-After.
pub fn backoff(attempts: u32, retry_after: Option<Duration>) -> i64 {
    let exp = BASE_BACKOFF.saturating_mul(1 << attempts.saturating_sub(1).min(20));
    let base = exp.min(MAX_BACKOFF) as f64;
    let jittered = base * rand::rng().random_range(0.8..1.2);
    let after = retry_after.map_or(0, |d| d.as_secs_f64().ceil() as i64);
    (jittered.round() as i64).max(after).max(1)
}

/// Applies a send's outcome to its delivery.
fn settle(
    d: &mut Delivery,
    result: Result<(), SendError>,
    now: i64,
    max_attempts: u32,
    report: &mut PassReport,
) {
    d.attempts += 1;
    d.held = false;
    match result {
        Ok(()) => {
            d.status = AlertStatus::Sent;
            d.sent_at = Some(now);
            d.next_attempt_at = None;
            d.error = None;
            report.sent += 1;
        }
        Err(SendError::Fatal { reason }) => {
            d.status = AlertStatus::Failed;
            d.error = Some(reason);
            d.next_attempt_at = None;
            report.failed += 1;
        }
        Err(SendError::Retry { reason, after }) => {
            if d.attempts >= max_attempts {
                d.status = AlertStatus::Failed;
                d.error = Some(format!("{reason} (gave up after {} attempts)", d.attempts));
                d.next_attempt_at = None;
                report.failed += 1;
            } else {
                let at = now + backoff(d.attempts, after);
                d.error = Some(reason);
                d.next_attempt_at = Some(at);
                report.retrying += 1;
                report.next_due = Some(report.next_due.map_or(at, |n| n.min(at)));
            }
        }
    }
}

fn short_hash(s: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(s.as_bytes())[..8])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_caps_and_honours_retry_after() {
        for attempt in 1..=12u32 {
            let b = backoff(attempt, None);
            let base = (5i64 << (attempt - 1).min(20)).min(600) as f64;
            assert!(
                (base * 0.8 - 1.0..=base * 1.2 + 1.0).contains(&(b as f64)),
                "{attempt}: {b}"
            );
        }
        assert!(backoff(1, Some(Duration::from_secs(90))) >= 90);
    }

    #[test]
    fn an_alert_is_sent_only_when_every_channel_is() {
        let mut a = Delivery::queued("a");
        let mut b = Delivery::queued("b");
        assert_eq!(overall(&[a.clone(), b.clone()]), AlertStatus::Pending);
        a.status = AlertStatus::Sent;
        assert_eq!(overall(&[a.clone(), b.clone()]), AlertStatus::Pending);
        b.status = AlertStatus::Failed;
        assert_eq!(overall(&[a.clone(), b.clone()]), AlertStatus::Failed);
        b.status = AlertStatus::Sent;
        assert_eq!(overall(&[a, b]), AlertStatus::Sent);
    }

    #[test]
    fn retries_stop_at_the_budget_and_fatal_errors_stop_at_once() {
        let mut d = Delivery::queued("c");
        let mut r = PassReport::default();
        let retry = || {
            Err(SendError::Retry {
                reason: "HTTP 503".into(),
                after: None,
            })
        };
        settle(&mut d, retry(), 0, 2, &mut r);
        assert_eq!(d.status, AlertStatus::Pending);
        assert!(d.next_attempt_at.is_some_and(|t| t >= 4));
        settle(&mut d, retry(), 10, 2, &mut r);
        assert_eq!(d.status, AlertStatus::Failed);
        assert!(d
            .error
            .as_deref()
            .is_some_and(|e| e.contains("gave up after 2")));
        let mut d = Delivery::queued("c");
        settle(
            &mut d,
            Err(SendError::Fatal {
                reason: "bad token".into(),
            }),
            0,
            10,
            &mut r,
        );
        assert_eq!((d.status, d.attempts), (AlertStatus::Failed, 1));
    }
}
