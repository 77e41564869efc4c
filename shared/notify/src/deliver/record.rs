//! Stage 7, record: applies a send's outcome to its delivery (sent, retry with exponential
//! backoff and jitter honouring Retry-After, or failed) and writes the alert's record under
//! its lock, so that another channel's outcome for the same alert is never lost.

use std::sync::atomic::Ordering;
use std::time::Duration;

use balance_alert_core::store::StoreError;
use balance_alert_model::{AlertStatus, Delivery};
use rand::Rng;

use super::pass::Shared;
use super::{Deliverer, PassReport};
use crate::channel::SendError;

/// First retry delay; doubles per attempt up to [`MAX_BACKOFF`].
const BASE_BACKOFF: i64 = 5;
/// Longest wait between two attempts.
const MAX_BACKOFF: i64 = 600;

impl Deliverer {
    /// Applies a send's outcome to the claimed record and writes it; returns what it counts.
    pub(super) async fn record(
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
        shared.settled(id, channel);
        let status = overall(&rec.deliveries);
        rec.status = status;
        // Written under the record's lock: another channel's outcome for the same alert is
        // applied to this state, never to a stale copy.
        self.outbox
            .record_deliveries(id, status, rec.deliveries.clone())
            .await?;
        Ok(sub)
    }

    /// Writes every claimed record an outcome was applied to (after a pass cut at its
    /// deadline); returns the first error after trying them all.
    pub(super) async fn record_touched(&self, shared: &Shared<'_>) -> Result<(), StoreError> {
        let mut first_error = Ok(());
        for (id, c) in &shared.claimed {
            if !c.touched.load(Ordering::Relaxed) {
                continue;
            }
            let mut rec = c.record.lock().await;
            let status = overall(&rec.deliveries);
            rec.status = status;
            if let Err(e) = self
                .outbox
                .record_deliveries(id, status, rec.deliveries.clone())
                .await
            {
                first_error = first_error.and(Err(e));
            }
        }
        first_error
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
pub(super) fn settle(
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
        assert_eq!((r.retrying, r.failed), (1, 2));
    }
}
