//! The deliverer: drains the store's outbox. Every message exists only through its stored
//! alert record; each (alert, channel) pair carries its own outcome. One pass:
//!
//! 1. reads the pending alerts (oldest first) and routes each to its channels;
//! 2. holds non-critical messages in quiet hours (they go out as one summary at the end);
//! 3. per channel, folds more than `storm_threshold` messages a minute into one summary, and
//!    queues (never drops) what a channel's rate limit does not allow yet;
//! 4. claims each alert (a store lease: two processes never send the same alert at once),
//!    re-reads it, sends, and records each channel's outcome — retrying with exponential
//!    backoff and jitter (Retry-After honoured), failing fast on errors that cannot succeed.
//!
//! At-least-once: the outcome is recorded after the send, so a crash in between resends that
//! one message once the lease expires; nothing is ever lost. Messages carry the idempotency
//! key `<alert id>:<channel>`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use balance_alert_core::config::delivery::ChannelConfig;
use balance_alert_core::config::Config;
use balance_alert_core::service::{NoopNotifyObserver, NotifyObserver};
use balance_alert_core::store::{Store, StoreError};
use balance_alert_model::{AlertRecord, AlertStatus, Delivery};
use rand::Rng;

use crate::channel::{Channel, SendError};
use crate::channels;
use crate::message::{Message, Severity};
use crate::route::{quiet_until, targets};

/// First retry delay; doubles per attempt up to [`MAX_BACKOFF`].
const BASE_BACKOFF: i64 = 5;
/// Longest wait between two attempts.
const MAX_BACKOFF: i64 = 600;
/// Pending alerts read per pass.
const BATCH: usize = 500;

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
                reason.contains("timed out") || reason.contains("timeout"),
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

    fn lease_seconds(&self, config: &Config) -> i64 {
        // One claim covers the sends of one alert (or one summary): a few request timeouts.
        (config.settings.request_timeout_seconds.ceil() as i64) * 3 + 10
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

    /// One pass over the outbox at `now`.
    pub async fn pass(&self, config: &Config, now: i64) -> Result<PassReport, StoreError> {
        if config.delivery_channels().is_empty() {
            return Ok(PassReport::default());
        }
        let pending = self.store.pending_alerts(BATCH).await?;
        self.pass_over(config, pending, now).await
    }

    /// Delivers the given alerts now (the notifier function, per stream record); returns,
    /// per id, whether a send failed and will be retried (the record to report back). An id
    /// that no longer exists, or whose deliveries are settled or waiting (quiet hours, rate
    /// limit), is not a failure.
    pub async fn deliver_ids(
        &self,
        config: &Config,
        ids: &[String],
        now: i64,
    ) -> Result<Vec<bool>, StoreError> {
        let mut alerts = Vec::new();
        for id in ids {
            if let Some(a) = self.store.get_alert(id).await? {
                if a.status == AlertStatus::Pending {
                    alerts.push(a);
                }
            }
        }
        alerts.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        self.pass_over(config, alerts, now).await?;
        let mut failed = Vec::with_capacity(ids.len());
        for id in ids {
            let a = self.store.get_alert(id).await?;
            failed.push(a.is_some_and(|a| {
                a.deliveries
                    .iter()
                    .any(|d| d.status == AlertStatus::Pending && d.error.is_some() && !d.held)
            }));
        }
        Ok(failed)
    }

    /// One pass over `pending` (oldest first).
    async fn pass_over(
        &self,
        config: &Config,
        pending: Vec<AlertRecord>,
        now: i64,
    ) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        let ready = self.ready(config);
        if ready.is_empty() {
            return Ok(report);
        }
        let names: Vec<String> = ready.keys().cloned().collect();
        let due = self
            .plan(config, &ready, &names, pending, now, &mut report)
            .await?;

        // Per channel: a storm or a quiet window's end folds into one summary.
        let mut by_channel: HashMap<String, Vec<Due>> = HashMap::new();
        for d in due {
            by_channel.entry(d.channel.clone()).or_default().push(d);
        }
        let mut singles: Vec<Due> = Vec::new();
        for (name, list) in by_channel {
            let Some(r) = ready.get(&name) else { continue };
            let recent = self.recent_count(&name, now);
            let held = list.iter().filter(|d| d.held).count();
            let storm = list.len() + recent > config.settings.storm_threshold as usize;
            if list.len() > 1 && (storm || held > 1) {
                self.send_summary(config, r, list, now, &mut report).await?;
            } else {
                singles.extend(list);
            }
        }
        // Oldest first, so one project's messages arrive in order.
        singles.sort_by(|a, b| {
            (a.alert.created_at, &a.alert.id).cmp(&(b.alert.created_at, &b.alert.id))
        });
        let mut by_alert: Vec<(AlertRecord, Vec<String>)> = Vec::new();
        for d in singles {
            match by_alert.iter_mut().find(|(a, _)| a.id == d.alert.id) {
                Some((_, chans)) => chans.push(d.channel),
                None => by_alert.push((d.alert, vec![d.channel])),
            }
        }
        // A send that failed in this pass holds that project's later messages on that
        // channel back, so they cannot overtake it.
        let mut failed: HashSet<(String, String)> = HashSet::new();
        for (alert, mut chans) in by_alert {
            chans.retain(|c| !failed.contains(&(alert.project_id.clone(), c.clone())));
            if chans.is_empty() {
                continue;
            }
            let project = alert.project_id.clone();
            let outcome = self
                .send_alert(config, &ready, alert, chans.clone(), now, &mut report)
                .await?;
            for c in outcome {
                failed.insert((project.clone(), c));
            }
        }
        Ok(report)
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
        // (project, channel) pairs with an earlier alert still unsent: later ones wait.
        let mut blocked: HashSet<(String, String)> = HashSet::new();
        let mut budget: HashMap<String, usize> = HashMap::new();
        for mut alert in pending {
            let mut changed = false;
            let targets = targets(&alert, &config.routes, names);
            for t in &targets {
                if !alert.deliveries.iter().any(|d| d.channel == t.channel) {
                    alert.deliveries.push(Delivery::queued(&t.channel));
                    changed = true;
                }
            }
            let critical = Severity::of(&alert) == Severity::Critical;
            let snapshot = alert.clone();
            for d in alert.deliveries.iter_mut() {
                if d.status != AlertStatus::Pending {
                    continue;
                }
                let Some(r) = ready.get(&d.channel) else {
                    // The channel was removed from the config: nothing can deliver it.
                    d.status = AlertStatus::Failed;
                    d.error = Some(format!("channel {:?} is no longer configured", d.channel));
                    changed = true;
                    continue;
                };
                let key = (alert.project_id.clone(), d.channel.clone());
                if blocked.contains(&key) {
                    report.wait_until(d.next_attempt_at.unwrap_or(now));
                    continue;
                }
                if let Some(at) = d.next_attempt_at.filter(|at| *at > now) {
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
                if let (Some(until), false) = (quiet, critical) {
                    d.next_attempt_at = Some(until);
                    d.held = true;
                    changed = true;
                    blocked.insert(key);
                    report.wait_until(until);
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

    /// Claims an alert for sending; None when another process holds it (or it is gone).
    async fn claim(
        &self,
        config: &Config,
        id: &str,
        now: i64,
    ) -> Result<Option<AlertRecord>, StoreError> {
        let key = format!("deliver:{id}");
        let until = now + self.lease_seconds(config);
        if self.store.claim_cooldown(&key, now, until).await?.is_some() {
            return Ok(None);
        }
        // Re-read under the claim: another process may have sent it since our list.
        self.store.get_alert(id).await
    }

    async fn release(&self, id: &str) -> Result<(), StoreError> {
        self.store.release_cooldown(&format!("deliver:{id}")).await
    }

    /// Sends one alert to the given channels and records the outcomes; returns the channels
    /// whose send failed.
    async fn send_alert(
        &self,
        config: &Config,
        ready: &HashMap<String, Ready>,
        alert: AlertRecord,
        chans: Vec<String>,
        now: i64,
        report: &mut PassReport,
    ) -> Result<Vec<String>, StoreError> {
        let mut failed = Vec::new();
        let Some(mut fresh) = self.claim(config, &alert.id, now).await? else {
            return Ok(failed);
        };
        let snapshot = fresh.clone();
        for name in chans {
            let Some(r) = ready.get(&name) else { continue };
            let Some(d) = fresh.deliveries.iter_mut().find(|d| d.channel == name) else {
                continue;
            };
            if d.status != AlertStatus::Pending
                || d.next_attempt_at.is_some_and(|t| t > now && !d.held)
            {
                continue;
            }
            let msg = Message::for_alert(
                &snapshot,
                &name,
                &r.config.source,
                config.settings.language,
                &config.settings.timezone,
            );
            let result = self
                .send_observed(r, &msg, config.settings.delivery_max_attempts, d.attempts)
                .await;
            self.note_sent(&name, now, &result);
            if result.is_err() {
                failed.push(name.clone());
            }
            settle(
                d,
                result,
                now,
                config.settings.delivery_max_attempts,
                report,
            );
        }
        let status = overall(&fresh.deliveries);
        fresh.status = status;
        self.store
            .record_deliveries(&fresh.id, status, fresh.deliveries)
            .await?;
        self.release(&alert.id).await?;
        Ok(failed)
    }

    fn note_sent(&self, channel: &str, now: i64, result: &Result<(), SendError>) {
        if result.is_ok() {
            if let Ok(mut r) = self.recent.lock() {
                r.push(channel, now);
            }
        }
    }

    /// Sends one summary of `list` (all for one channel) and records it on every alert.
    async fn send_summary(
        &self,
        config: &Config,
        r: &Ready,
        list: Vec<Due>,
        now: i64,
        report: &mut PassReport,
    ) -> Result<(), StoreError> {
        let mut claimed = Vec::new();
        for d in &list {
            if let Some(fresh) = self.claim(config, &d.alert.id, now).await? {
                claimed.push(fresh);
            }
        }
        let name = &r.config.name;
        claimed.retain(|a| {
            a.deliveries
                .iter()
                .any(|d| &d.channel == name && d.status == AlertStatus::Pending)
        });
        if claimed.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<&str> = claimed.iter().map(|a| a.id.as_str()).collect();
        ids.sort_unstable();
        let key = format!("summary:{name}:{}", short_hash(&ids.join(",")));
        let msg = Message::summary(
            &claimed,
            key,
            &r.config.source,
            config.settings.language,
            now,
        );
        let attempts = claimed
            .iter()
            .filter_map(|a| a.deliveries.iter().find(|d| &d.channel == name))
            .map(|d| d.attempts)
            .max()
            .unwrap_or(0);
        let result = self
            .send_observed(r, &msg, config.settings.delivery_max_attempts, attempts)
            .await;
        self.note_sent(name, now, &result);
        let ok = result.is_ok();
        let mut sub = PassReport::default();
        for a in claimed.iter_mut() {
            if let Some(d) = a.deliveries.iter_mut().find(|d| &d.channel == name) {
                settle(
                    d,
                    result.clone(),
                    now,
                    config.settings.delivery_max_attempts,
                    &mut sub,
                );
                d.summarized = ok;
            }
            let status = overall(&a.deliveries);
            self.store
                .record_deliveries(&a.id, status, a.deliveries.clone())
                .await?;
            self.release(&a.id).await?;
        }
        if ok {
            report.sent += 1;
            report.summarized += claimed.len();
        } else {
            report.retrying += sub.retrying;
            report.failed += sub.failed;
        }
        Ok(())
    }

    /// Passes until nothing is due before `deadline` (unix s) or the deadline passes: what
    /// `check` runs before it exits. Returns the last pass's report (what is left waiting).
    pub async fn drain(&self, config: &Config, deadline: i64) -> Result<PassReport, StoreError> {
        let mut total = PassReport::default();
        loop {
            let now = unix_now();
            let r = self.pass(config, now).await?;
            total.sent += r.sent;
            total.summarized += r.summarized;
            total.failed += r.failed;
            total.retrying = r.retrying;
            total.waiting = r.waiting;
            total.next_due = r.next_due;
            match r.next_due {
                Some(at) if at < deadline && r.waiting > 0 => {
                    let wait = (at - unix_now()).clamp(1, 5);
                    tokio::time::sleep(Duration::from_secs(wait as u64)).await;
                }
                _ if r.sent > 0 && unix_now() < deadline => continue,
                _ => return Ok(total),
            }
            if unix_now() >= deadline {
                return Ok(total);
            }
        }
    }
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
