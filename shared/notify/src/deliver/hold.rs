//! Stage 2, hold: quiet hours (on the channel or on the route that chose it) hold
//! non-critical messages until the window ends, when they go out together as one summary. A
//! hold does not make the project's later alerts wait: a critical one passes at once, taking
//! the project's held messages on that channel along ahead of it, so the channel still sees
//! the project's messages in order. (Snoozes are the checker's: a snoozed project makes no
//! alert to hold.)

use std::collections::HashMap;

use balance_alert_core::config::delivery::QuietHours;
use balance_alert_core::config::TimeZone;

use super::Due;
use crate::route::quiet_until;

/// A project's messages on one channel: (project id, channel).
pub(super) type Lane = (String, String);

/// When the quiet windows that apply at `now` end (the latest of them), or None outside them.
pub(super) fn quiet_end(
    windows: impl IntoIterator<Item = Option<QuietHours>>,
    tz: &TimeZone,
    now: i64,
) -> Option<i64> {
    windows
        .into_iter()
        .flatten()
        .filter_map(|q| quiet_until(&q, tz, now))
        .max()
}

/// The messages held in this pass, per lane, with the end of their hold.
#[derive(Default)]
pub(super) struct Holds(HashMap<Lane, (i64, Vec<Due>)>);

impl Holds {
    /// Until when a message on `lane` is held: never a critical one; a non-critical one in a
    /// quiet window until its end, or behind an earlier held message of its lane until that
    /// one's end.
    pub fn until(&self, lane: &Lane, quiet: Option<i64>, critical: bool) -> Option<i64> {
        match (quiet, critical) {
            (_, true) => None,
            (Some(end), false) => Some(end),
            (None, false) => self.0.get(lane).map(|(end, _)| *end),
        }
    }

    /// Holds `due` on `lane` until `until`.
    pub fn hold(&mut self, lane: Lane, until: i64, due: Due) {
        let (end, list) = self.0.entry(lane).or_insert((until, Vec::new()));
        *end = (*end).max(until);
        list.push(due);
    }

    /// The lane's held messages, oldest first, taken out to go ahead of a critical one.
    pub fn release(&mut self, lane: &Lane) -> Vec<Due> {
        self.0
            .remove(lane)
            .map(|(_, list)| list)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use balance_alert_core::store::contract::alert;
    use chrono::NaiveTime;

    use super::*;

    fn lane(p: &str) -> Lane {
        (p.to_owned(), "ops".to_owned())
    }

    fn due(id: &str) -> Due {
        Due {
            alert: alert(id, "p", 1),
            channel: "ops".into(),
            held: true,
        }
    }

    #[test]
    fn a_critical_passes_a_hold_and_takes_its_lanes_held_messages_along() {
        let mut holds = Holds::default();
        assert_eq!(holds.until(&lane("p"), Some(500), false), Some(500));
        holds.hold(lane("p"), 500, due("a"));
        // A later non-critical message of the lane waits with it, even outside the window.
        assert_eq!(holds.until(&lane("p"), None, false), Some(500));
        assert_eq!(holds.until(&lane("q"), None, false), None);
        assert_eq!(holds.until(&lane("p"), Some(500), true), None);
        let taken: Vec<String> = holds
            .release(&lane("p"))
            .into_iter()
            .map(|d| d.alert.id)
            .collect();
        assert_eq!(taken, ["a"]);
        assert!(holds.release(&lane("p")).is_empty());
    }

    #[test]
    fn the_latest_of_the_windows_that_apply_ends_the_hold() {
        let utc = TimeZone::parse("UTC").expect("utc");
        let at = |h: u32| QuietHours {
            start: NaiveTime::from_hms_opt(0, 0, 0).expect("time"),
            end: NaiveTime::from_hms_opt(h, 0, 0).expect("time"),
            timezone: None,
        };
        // 1970-01-01 00:30 UTC: inside both 00:00–01:00 and 00:00–02:00.
        assert_eq!(
            quiet_end([Some(at(1)), Some(at(2))], &utc, 1_800),
            Some(7_200)
        );
        assert_eq!(quiet_end([None, Some(at(1))], &utc, 1_800), Some(3_600));
        assert_eq!(quiet_end([Some(at(1))], &utc, 4_000), None);
    }
}
