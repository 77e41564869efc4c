//! Stage 6, send: every channel sends on its own, all at the same time — a summary, or up to
//! [`PER_CHANNEL`] projects at once with one project's messages in order (a send that does not
//! go through holds that project's later messages back). A receiver that times out gets no
//! more of this pass's messages; what is still in flight at the pass's deadline is cut and
//! counted as an attempt to retry.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use balance_alert_core::store::StoreError;
use balance_alert_model::{AlertRecord, AlertStatus};
use futures::{StreamExt, TryStreamExt};
use tokio::time::Instant;

use super::pass::Shared;
use super::record::settle;
use super::{Deliverer, PassReport, Ready, PER_CHANNEL};
use crate::channel::SendError;
use crate::message::Message;

/// Whether a retry reason says the receiver did not answer in time.
fn timed_out(reason: &str) -> bool {
    reason.contains("timed out") || reason.contains("timeout")
}

fn short_hash(s: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(s.as_bytes())[..8])
}

/// The idempotency key of a summary of `ids` on `channel`: the same set, the same key.
fn summary_key(channel: &str, ids: &[&str]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    format!("summary:{channel}:{}", short_hash(&sorted.join(",")))
}

impl Deliverer {
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
            r.config.kind().as_str(),
            outcome,
            timed_out,
            started.elapsed(),
        );
        result
    }

    /// Sends `ids` (oldest first) on one channel: up to [`PER_CHANNEL`] projects at once,
    /// each project's messages one after another; a send that does not go through holds that
    /// project's later messages on this channel back, so they cannot overtake it.
    pub(super) async fn send_channel(
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

    /// Sends one summary of `ids` (all due on one channel) and records it on every alert.
    pub(super) async fn send_summary(
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
        let ids: Vec<&str> = alerts.iter().map(|a| a.id.as_str()).collect();
        let key = summary_key(name, &ids);
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

    /// The deadline passed: every send still in flight counts as an attempt that timed out
    /// (retried with backoff; nothing is lost), and every record is written as it stands.
    pub(super) async fn cut_at_deadline(
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
                    .delivery(&channel, r.config.kind().as_str(), outcome, true, waited);
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
        self.record_touched(shared).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_key_names_its_channel_and_set_in_any_order() {
        let one = summary_key("ops", &["b", "a"]);
        assert_eq!(one, summary_key("ops", &["a", "b"]));
        assert!(one.starts_with("summary:ops:"), "{one}");
        assert_ne!(one, summary_key("ops", &["a"]));
        assert_ne!(one, summary_key("team", &["a", "b"]));
    }

    #[test]
    fn timeouts_are_told_from_other_retries() {
        assert!(timed_out("operation timed out"));
        assert!(timed_out("request timeout"));
        assert!(!timed_out("HTTP 503"));
    }
}
