//! Circuit breakers per provider endpoint and API key: after N consecutive transient failures
//! that key is not used for a while, so a dead upstream costs one fast error instead of a
//! timeout per check, and one bad key never blocks the others.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial request is in flight since `since`; others fail fast until it reports. A
    /// trial that never reports (its caller went away) is replaced after the reset delay.
    HalfOpen {
        since: Instant,
    },
}

/// Breakers keyed by provider endpoint and key fingerprint.
#[derive(Debug)]
pub struct Breakers {
    states: Mutex<HashMap<String, State>>,
    threshold: u32,
    reset_after: Duration,
}

impl Breakers {
    /// Opens after `threshold` consecutive failures; lets one trial through after `reset_after`.
    pub fn new(threshold: u32, reset_after: Duration) -> Self {
        Breakers {
            states: Mutex::new(HashMap::new()),
            threshold: threshold.max(1),
            reset_after,
        }
    }

    /// May this endpoint be called now? `Err` holds how long until it may.
    pub fn allow(&self, key: &str) -> Result<(), Duration> {
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut states = self.states.lock().expect("breaker lock is never poisoned");
        match states.get(key).copied() {
            None | Some(State::Closed { .. }) => Ok(()),
            Some(State::Open { until }) if until > now => Err(until - now),
            Some(State::Open { .. }) => {
                states.insert(key.to_owned(), State::HalfOpen { since: now });
                Ok(())
            }
            Some(State::HalfOpen { since }) if now.duration_since(since) >= self.reset_after => {
                states.insert(key.to_owned(), State::HalfOpen { since: now });
                Ok(())
            }
            Some(State::HalfOpen { since }) => Err(self.reset_after - now.duration_since(since)),
        }
    }

    /// Records an attempt's outcome: `failed` means a failure that says the provider is unwell.
    pub fn record(&self, key: &str, failed: bool) {
        self.record_at(key, failed, Instant::now());
    }

    fn record_at(&self, key: &str, failed: bool, now: Instant) {
        let mut states = self.states.lock().expect("breaker lock is never poisoned");
        let next = match (states.get(key).copied(), failed) {
            (_, false) => State::Closed { failures: 0 },
            (Some(State::HalfOpen { .. }), true) => State::Open {
                until: now + self.reset_after,
            },
            (Some(State::Closed { failures }), true) if failures + 1 >= self.threshold => {
                State::Open {
                    until: now + self.reset_after,
                }
            }
            (None, true) if self.threshold <= 1 => State::Open {
                until: now + self.reset_after,
            },
            (Some(State::Closed { failures }), true) => State::Closed {
                failures: failures + 1,
            },
            (None, true) => State::Closed { failures: 1 },
            (Some(open @ State::Open { .. }), true) => open,
        };
        states.insert(key.to_owned(), next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_failures_and_success_closes_it() {
        let b = Breakers::new(3, Duration::from_secs(60));
        for _ in 0..2 {
            b.record("p", true);
            assert!(b.allow("p").is_ok());
        }
        b.record("p", true);
        assert!(b.allow("p").is_err());
        assert!(b.allow("other").is_ok(), "breakers are per endpoint");
    }

    #[test]
    fn half_open_lets_one_trial_through_after_the_reset_delay() {
        let b = Breakers::new(1, Duration::from_secs(30));
        let t0 = Instant::now();
        b.record_at("p", true, t0);
        assert!(
            b.allow_at("p", t0 + Duration::from_secs(29)).is_err(),
            "still open"
        );
        let t1 = t0 + Duration::from_secs(30);
        assert!(b.allow_at("p", t1).is_ok(), "reset delay passed: one trial");
        assert!(
            b.allow_at("p", t1 + Duration::from_secs(1)).is_err(),
            "others wait for it"
        );
        b.record_at("p", false, t1 + Duration::from_secs(2));
        assert!(
            b.allow_at("p", t1 + Duration::from_secs(3)).is_ok(),
            "trial succeeded: closed"
        );
    }

    #[test]
    fn a_trial_that_never_reports_is_replaced_after_the_reset_delay() {
        let b = Breakers::new(1, Duration::from_secs(30));
        let t0 = Instant::now();
        b.record_at("p", true, t0);
        let t1 = t0 + Duration::from_secs(30);
        assert!(b.allow_at("p", t1).is_ok(), "trial");
        // The trial's caller went away: no record() ever comes. Without this rule the
        // breaker would stay half-open, failing every call until a restart.
        assert!(b.allow_at("p", t1 + Duration::from_secs(10)).is_err());
        assert!(
            b.allow_at("p", t1 + Duration::from_secs(30)).is_ok(),
            "a new trial"
        );
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let b = Breakers::new(2, Duration::from_secs(60));
        b.record("p", true);
        b.record("p", false);
        b.record("p", true);
        assert!(b.allow("p").is_ok());
    }
}
