//! Stage 4, limit: a channel's `rate_per_minute` (configured, else the receiver's documented
//! limit) caps its messages per minute; what it does not allow yet stays queued (never
//! dropped), oldest first through, and becomes due when the window moves on.

use std::collections::{HashMap, VecDeque};

use balance_alert_core::store::StoreError;

use super::{Deliverer, Ready};
use crate::channel::SendError;

/// Sends per channel in the last minute (rate limits, storm guard), per process.
#[derive(Default)]
pub(super) struct Recent(HashMap<String, VecDeque<i64>>);

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

/// How many of the messages wanted may go now; the rest wait until `retry_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Grant {
    pub granted: usize,
    pub retry_at: i64,
}

impl Deliverer {
    /// Messages `channel` got in the current window (the storm guard's count).
    pub(super) async fn sent_in_window(
        &self,
        channel: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        Ok(self
            .recent
            .lock()
            .map(|mut r| r.count(channel, now))
            .unwrap_or(0))
    }

    /// Grants up to `wanted` messages on `r` at `now` under its rate limit.
    pub(super) async fn grant(
        &self,
        r: &Ready,
        wanted: usize,
        now: i64,
    ) -> Result<Grant, StoreError> {
        let name = &r.config.name;
        let Some(limit) = r.config.effective_rate_per_minute() else {
            return Ok(Grant {
                granted: wanted,
                retry_at: now,
            });
        };
        let Ok(mut recent) = self.recent.lock() else {
            return Ok(Grant {
                granted: wanted,
                retry_at: now,
            });
        };
        let used = recent.count(name, now);
        Ok(Grant {
            granted: wanted.min((limit as usize).saturating_sub(used)),
            retry_at: recent.oldest(name).map_or(now + 60, |t| t + 60),
        })
    }

    /// Counts a message that went through on `channel`.
    pub(super) fn note_sent(&self, channel: &str, now: i64, result: &Result<(), SendError>) {
        if result.is_ok() {
            if let Ok(mut r) = self.recent.lock() {
                r.push(channel, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_minutes_sends_are_counted_and_older_ones_forgotten() {
        let mut r = Recent::default();
        r.push("ops", 100);
        r.push("ops", 130);
        assert_eq!(r.count("ops", 150), 2);
        assert_eq!(r.oldest("ops"), Some(100));
        assert_eq!(r.count("ops", 160), 1);
        assert_eq!(r.count("other", 160), 0);
    }
}
