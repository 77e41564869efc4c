//! Stage 4, limit: a channel's `rate_per_minute` (configured, else the receiver's documented
//! limit) caps its messages; what it does not allow yet stays queued (never dropped), oldest
//! first through, and becomes due when the window moves on.
//!
//! The count lives in the store ([`Outbox::take_sends`]), one counter per channel and UTC
//! minute, so every process sharing the store (`serve`, `check`, the checker's outbox pass,
//! each notifier Lambda instance) shares one window. Guaranteed: at most `rate_per_minute`
//! messages per channel in each UTC minute. The previous minute's count is carried over in
//! proportion to how much of that minute still lies in the last 60 seconds, so a burst late in
//! one minute holds back the start of the next (over any 60 seconds the count stays near the
//! limit, and only reaches toward twice the limit if one minute's messages all went in its
//! last seconds and the next minute's trickled out across it). Every message taken counts,
//! whether its send then succeeds or not (a failed attempt reached the receiver too); a grant
//! whose alert another process then claims is not given back (the limit errs on the safe side).
//!
//! [`Outbox::take_sends`]: balance_alert_core::store::Outbox::take_sends

use balance_alert_core::store::StoreError;

use super::{Deliverer, Ready};

/// The UTC minute a message sent at `now` counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    /// Unix seconds / 60.
    pub minute: i64,
    /// Seconds into the minute.
    second: i64,
}

impl Window {
    pub fn at(now: i64) -> Self {
        Window {
            minute: now.div_euclid(60),
            second: now.rem_euclid(60),
        }
    }

    /// The unix second the window ends (and the next one starts).
    pub fn end(&self) -> i64 {
        (self.minute + 1) * 60
    }

    /// The part of `previous` (the previous minute's count) carried into this one: the share
    /// of that minute still within the last 60 seconds.
    fn carried(&self, previous: u32) -> u32 {
        (i64::from(previous) * (60 - self.second) / 60) as u32
    }
}

/// Messages a channel got around `now`, as every process sharing the store counted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counted {
    pub window: Window,
    /// Taken in the current minute.
    pub current: u32,
    /// Taken in the previous minute.
    pub previous: u32,
}

impl Counted {
    /// Messages within the last minute, as the limit and the storm guard count them.
    pub fn recent(&self) -> usize {
        (self.current + self.window.carried(self.previous)) as usize
    }

    /// How many of `wanted` the limit allows now: the limit less the carried share of the
    /// previous minute (the store takes away what the current minute already has).
    fn cap(&self, limit: u32) -> u32 {
        limit.saturating_sub(self.window.carried(self.previous))
    }

    /// When messages the limit refused may go, `granted` having just been taken: at the
    /// window's end when the minute is full, sooner when only the carried share of the
    /// previous minute held them back (it shrinks by one every 60 / previous seconds).
    fn retry_at(&self, limit: u32, granted: u32, now: i64) -> i64 {
        let end = self.window.end();
        if self.window.carried(self.previous) == 0 || self.current + granted >= limit {
            end
        } else {
            (now + (60 / i64::from(self.previous)).max(1)).min(end)
        }
    }
}

/// How many of the messages wanted may go now; the rest wait until `retry_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Grant {
    pub granted: usize,
    pub retry_at: i64,
}

impl Deliverer {
    /// What `channel` got in the current and previous minute, from the store.
    pub(super) async fn counted(&self, channel: &str, now: i64) -> Result<Counted, StoreError> {
        let window = Window::at(now);
        Ok(Counted {
            window,
            current: self.outbox.sends_taken(channel, window.minute).await?,
            previous: self.outbox.sends_taken(channel, window.minute - 1).await?,
        })
    }

    /// Takes up to `wanted` messages on `r` from its window in the store (every channel
    /// counts there, for the storm guard; a rate limit caps what it grants).
    pub(super) async fn grant(
        &self,
        r: &Ready,
        counted: &Counted,
        wanted: usize,
        now: i64,
    ) -> Result<Grant, StoreError> {
        let wanted = u32::try_from(wanted).unwrap_or(u32::MAX);
        let limit = r.config.effective_rate_per_minute();
        let cap = limit.map_or(u32::MAX, |l| counted.cap(l));
        let granted = self
            .outbox
            .take_sends(&r.config.name, counted.window.minute, wanted, cap)
            .await?;
        let retry_at = match limit {
            Some(l) if granted < wanted => counted.retry_at(l, granted, now),
            _ => now,
        };
        Ok(Grant {
            granted: granted as usize,
            retry_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(now: i64, current: u32, previous: u32) -> Counted {
        Counted {
            window: Window::at(now),
            current,
            previous,
        }
    }

    #[test]
    fn a_window_is_the_utc_minute() {
        let w = Window::at(6_030);
        assert_eq!((w.minute, w.end()), (100, 6_060));
        assert_eq!(Window::at(6_000).minute, 100);
        assert_eq!(Window::at(5_999).minute, 99);
    }

    #[test]
    fn the_previous_minute_counts_for_the_share_still_within_the_last_60_seconds() {
        // At the minute's start the whole previous minute is within the last 60 s.
        assert_eq!(counted(6_000, 0, 20).recent(), 20);
        assert_eq!(counted(6_030, 3, 20).recent(), 13);
        assert_eq!(counted(6_059, 3, 20).recent(), 3);
        // The limit less the carried share: a burst at :59 holds back the start of the next.
        assert_eq!(counted(6_000, 0, 20).cap(20), 0);
        assert_eq!(counted(6_045, 0, 20).cap(20), 15);
    }

    #[test]
    fn refused_messages_wait_for_the_window_end_when_the_minute_is_full() {
        assert_eq!(counted(6_030, 20, 0).retry_at(20, 0, 6_030), 6_060);
        assert_eq!(counted(6_030, 15, 0).retry_at(20, 5, 6_030), 6_060);
        // Held back only by the carried share: retried as it shrinks.
        assert_eq!(counted(6_000, 0, 20).retry_at(20, 0, 6_000), 6_003);
        assert_eq!(counted(6_058, 0, 2).retry_at(20, 0, 6_058), 6_060);
    }
}
