//! Adaptive refresh: how long until a project's next check, from its recent balances.
//!
//! Check more often when the balance nears the threshold or falls fast (so the alert goes out
//! early), less often when it does not move (saving API calls and rate limit).

use crate::forecast::{forecast, Point};

/// Inputs of [`next_interval`].
#[derive(Debug, Clone, Copy)]
pub struct IntervalPolicy {
    /// The configured interval in seconds.
    pub base: u64,
    /// Never check more often than this, in seconds.
    pub min: u64,
    /// Adapt at all (`settings.enable_smart_refresh`).
    pub smart: bool,
    /// The project's alert threshold.
    pub threshold: f64,
}

/// Why an interval was chosen, for logs and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// The configured interval.
    Base,
    /// Near or below the threshold, or falling fast: a quarter of the base interval.
    Urgent,
    /// No change over the recent checks: twice the base interval.
    Relaxed,
}

/// The intervals [`next_interval`] chooses from for a base interval and a minimum: urgent,
/// base, relaxed (seconds).
pub fn paces(base: u64, min: u64) -> [u64; 3] {
    let base = base.max(1);
    [(base / 4).max(min).min(base), base, base.saturating_mul(2)]
}

/// Seconds until the next check, and why. `recent` is oldest first; `now` is unix seconds.
pub fn next_interval(policy: &IntervalPolicy, recent: &[Point], now: i64) -> (u64, Pace) {
    let [urgent, base, _] = paces(policy.base, policy.min);
    let Some(latest) = recent.last() else {
        return (base, Pace::Base);
    };
    if !policy.smart {
        return (base, Pace::Base);
    }
    // Within 20 % of the threshold (or below it): watch closely.
    if latest.balance <= policy.threshold * 1.2 {
        return (urgent, Pace::Urgent);
    }
    if let Some(f) = forecast(recent, policy.threshold) {
        // The trend crosses the threshold within two base intervals.
        if f.threshold_at.is_some_and(|t| t - now <= 2 * base as i64) {
            return (urgent, Pace::Urgent);
        }
    }
    let flat = recent.len() >= 3
        && recent.iter().all(|p| {
            (p.balance - latest.balance).abs() < f64::EPSILON * latest.balance.abs().max(1.0)
        });
    if flat {
        return (base.saturating_mul(2), Pace::Relaxed);
    }
    (base, Pace::Base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> IntervalPolicy {
        IntervalPolicy {
            base: 3600,
            min: 60,
            smart: true,
            threshold: 100.0,
        }
    }

    fn pts(v: &[(i64, f64)]) -> Vec<Point> {
        v.iter()
            .map(|&(timestamp, balance)| Point { timestamp, balance })
            .collect()
    }

    #[test]
    fn near_threshold_checks_four_times_as_often() {
        assert_eq!(
            next_interval(&policy(), &pts(&[(0, 110.0)]), 0),
            (900, Pace::Urgent)
        );
    }

    #[test]
    fn fast_fall_towards_threshold_is_urgent() {
        // Falls 100 an hour from 500: crosses 100 within two hours of the last point.
        let recent = pts(&[(0, 500.0), (3600, 400.0), (7200, 300.0)]);
        assert_eq!(next_interval(&policy(), &recent, 7200).1, Pace::Urgent);
    }

    #[test]
    fn flat_balance_relaxes_and_slow_fall_keeps_base() {
        let flat = pts(&[(0, 500.0), (3600, 500.0), (7200, 500.0)]);
        assert_eq!(next_interval(&policy(), &flat, 7200), (7200, Pace::Relaxed));
        let slow = pts(&[(0, 500.0), (3600, 499.0), (7200, 498.0)]);
        assert_eq!(next_interval(&policy(), &slow, 7200), (3600, Pace::Base));
    }

    #[test]
    fn min_interval_and_disabled_smart_refresh_are_respected() {
        let p = IntervalPolicy {
            base: 120,
            min: 60,
            ..policy()
        };
        assert_eq!(next_interval(&p, &pts(&[(0, 1.0)]), 0).0, 60);
        let off = IntervalPolicy {
            smart: false,
            ..policy()
        };
        assert_eq!(
            next_interval(&off, &pts(&[(0, 1.0)]), 0),
            (3600, Pace::Base)
        );
    }
}
