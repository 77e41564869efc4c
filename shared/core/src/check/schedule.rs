//! When each project is checked next: its interval (`check_interval` or the global one),
//! adapted to its recent balances by the smart refresh, held while its balance does not
//! change (no history read), or a breaker's retry time.

use balance_alert_model::alert::ProjectState;
use balance_alert_model::forecast::Point;
use balance_alert_model::schedule::{next_interval, IntervalPolicy};

use crate::config::{ProjectConfig, Settings};
use crate::money::to_f64;
use crate::store::{NextCheck, Readings};

/// History consulted to pick a project's next interval.
pub const TREND_POINTS: usize = 12;

/// A project's recent readings (oldest first), for its schedule and its forecast (the one
/// forecast's window, see [`crate::forecast`]).
pub(super) async fn recent_points(
    store: &dyn Readings,
    p: &ProjectConfig,
    state: &ProjectState,
    now: i64,
) -> Vec<Point> {
    match crate::forecast::stored_readings(store, &p.id(), Some(state), now).await {
        Ok(points) => crate::forecast::points(&points),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read history for scheduling");
            Vec::new()
        }
    }
}

/// The interval (seconds) the adaptive schedule gave `p` at its previous check, when that check
/// was a successful reading and the project is scheduled from it: what an unchanged balance
/// keeps (the pace is decided again at the next stored reading). The interval is recovered from
/// the schedule (`next check − previous check`, the run's own duration added) as the largest
/// of the schedule's paces (urgent, base, relaxed) it covers; None when it matches none (a
/// lease, a breaker's retry), and the history decides.
pub(super) fn held_interval(
    settings: &Settings,
    p: &ProjectConfig,
    previous: Option<&ProjectState>,
    schedule: Option<&NextCheck>,
) -> Option<i64> {
    let (previous, schedule) = (previous?, schedule?);
    if previous.last_success_at != Some(previous.last_checked_at) {
        return None;
    }
    let scheduled = schedule.at.checked_sub(previous.last_checked_at)?;
    let base = p
        .check_interval
        .unwrap_or(settings.balance_refresh_interval_seconds)
        .max(1);
    let paces = balance_alert_model::schedule::paces(base, settings.min_refresh_interval_seconds);
    // Near the threshold is read off the balance itself: urgent, as the pace would say.
    let near = previous
        .balance
        .is_some_and(|b| to_f64(b) <= to_f64(p.threshold) * 1.2);
    if near {
        return i64::try_from(paces[0]).ok();
    }
    paces
        .into_iter()
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
        .filter(|s| *s <= scheduled && scheduled - s < s / 2 + 1)
        .max()
}

/// When to check `p` next: its interval, adapted to its recent balances.
pub(super) fn next_check_at(
    settings: &Settings,
    p: &ProjectConfig,
    recent: &[Point],
    now: i64,
) -> i64 {
    let base = p
        .check_interval
        .unwrap_or(settings.balance_refresh_interval_seconds);
    let policy = IntervalPolicy {
        base,
        min: settings.min_refresh_interval_seconds.min(base),
        smart: settings.enable_smart_refresh,
        threshold: to_f64(p.threshold),
    };
    if !policy.smart {
        return now.saturating_add(i64::try_from(base.max(1)).unwrap_or(i64::MAX));
    }
    let (secs, pace) = next_interval(&policy, recent, now);
    tracing::debug!(project = %p.name, next_in = secs, ?pace, "scheduled");
    now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_project_keeps_the_interval_its_last_reading_was_given() {
        // Base 3600 s, minimum 60 s: paces 900 / 3600 / 7200.
        let s = Settings::default();
        let p = ProjectConfig {
            threshold: rust_decimal::Decimal::from(10),
            ..crate::project::test_project()
        };
        let read_at = |t: i64, balance: i64| ProjectState {
            balance: Some(rust_decimal::Decimal::from(balance)),
            last_checked_at: t,
            last_success_at: Some(t),
            ..crate::store::contract::state("a", 1, balance_alert_model::AlertState::Ok)
        };
        let at = |t: i64| NextCheck::at("a", t);
        let held =
            |prev: &ProjectState, next: i64| held_interval(&s, &p, Some(prev), Some(&at(next)));
        // Scheduled from a check at 1000 that took 2 s: relaxed, base.
        assert_eq!(held(&read_at(1000, 50), 1000 + 7200 + 2), Some(7200));
        assert_eq!(held(&read_at(1000, 50), 1000 + 3600 + 2), Some(3600));
        // A schedule that matches no pace (an older lease, a retry): the history decides.
        assert_eq!(held(&read_at(1000, 50), 1000 + 30), None);
        // Near the threshold (within 20 %): urgent, read off the balance.
        assert_eq!(held(&read_at(1000, 12), 1000 + 3600), Some(900));
        // The last check was no reading (a failure, a breaker's retry): the history decides.
        let failed = ProjectState {
            last_checked_at: 2000,
            ..read_at(1000, 50)
        };
        assert_eq!(held(&failed, 2000 + 3600), None);
    }
}
