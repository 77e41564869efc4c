//! Renewal-date maths for subscriptions: weekly, monthly, yearly and every-N-days cycles.
//!
//! All functions take `today` explicitly; none reads a clock.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// How often a subscription renews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "cycle_type")]
pub enum Cycle {
    /// `renewal_day` 1–7 = Monday–Sunday.
    Weekly { renewal_day: u32 },
    /// `renewal_day` 1–31, clamped to the month's last day.
    Monthly { renewal_day: u32 },
    /// Fixed month and day (from `renewal_day` as MMDD, e.g. 1231), clamped in short Februaries.
    Yearly { month: u32, day: u32 },
    /// The Python tool's yearly meaning (`renewal_day` ≤ 31): the anniversary of
    /// `last_renewed_date`, or a year from today when that is unknown.
    YearlyAnniversary,
    /// Every `days` days counted from `start_date`.
    EveryNDays { days: u32, start_date: NaiveDate },
}

/// A subscription's cycle and reminder settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewalSpec {
    /// The renewal cycle.
    pub cycle: Cycle,
    /// Remind when the renewal is this many days away or fewer.
    pub alert_days_before: i64,
    /// When the user last renewed; suppresses the reminder for the current cycle.
    pub last_renewed_date: Option<NaiveDate>,
}

/// Where a subscription stands today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalStatus {
    /// The next renewal on or after today.
    pub next_renewal_date: NaiveDate,
    /// Days from today to `next_renewal_date` (0 = renews today).
    pub days_until_renewal: i64,
    /// The start of the current cycle (the previous renewal date).
    pub cycle_start: NaiveDate,
    /// `last_renewed_date` pays for `next_renewal_date` (it lies in the later half of the
    /// current cycle).
    pub already_renewed: bool,
    /// A reminder is due: 0 ≤ days ≤ alert_days_before and not already renewed.
    pub need_alert: bool,
}

/// Days in `month` of `year`.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// `day` of the given month, clamped to the month's last day.
pub fn clamped(year: i32, month: u32, day: u32) -> NaiveDate {
    let day = day.clamp(1, days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day).expect("day was clamped into the month")
}

fn add_months(year: i32, month: u32, delta: i32) -> (i32, u32) {
    let idx = year * 12 + month as i32 - 1 + delta;
    (idx.div_euclid(12), idx.rem_euclid(12) as u32 + 1)
}

fn same_day_in_year(date: NaiveDate, year: i32) -> NaiveDate {
    clamped(year, date.month(), date.day())
}

/// The next renewal date on or after `today`, and the start of the current cycle.
pub fn next_renewal(spec: &RenewalSpec, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    match spec.cycle {
        Cycle::Weekly { renewal_day } => {
            let target = renewal_day.clamp(1, 7) as i64 - 1;
            let current = today.weekday().num_days_from_monday() as i64;
            let ahead = (target - current).rem_euclid(7) as u64;
            let next = today + Days::new(ahead);
            (next, next - Days::new(7))
        }
        Cycle::Monthly { renewal_day } => {
            let this_month = clamped(today.year(), today.month(), renewal_day);
            let next = if this_month >= today {
                this_month
            } else {
                let (y, m) = add_months(today.year(), today.month(), 1);
                clamped(y, m, renewal_day)
            };
            let (py, pm) = add_months(next.year(), next.month(), -1);
            (next, clamped(py, pm, renewal_day))
        }
        Cycle::Yearly { month, day } => {
            let this_year = clamped(today.year(), month, day);
            let next = if this_year >= today {
                this_year
            } else {
                clamped(today.year() + 1, month, day)
            };
            (next, clamped(next.year() - 1, month, day))
        }
        Cycle::YearlyAnniversary => match spec.last_renewed_date {
            // Every year's date is clamped from the original day, so a 29 February renewal
            // comes back on the 29th in leap years instead of drifting to the 28th for good.
            // The anniversary itself is due (0 days), not pushed to next year.
            Some(last) => {
                let mut year = today.year().max(last.year() + 1);
                if same_day_in_year(last, year) < today {
                    year += 1;
                }
                (
                    same_day_in_year(last, year),
                    same_day_in_year(last, year - 1),
                )
            }
            None => {
                let next = same_day_in_year(today, today.year() + 1);
                (next, today)
            }
        },
        Cycle::EveryNDays { days, start_date } => {
            let n = days.max(1) as i64;
            let next = if today <= start_date {
                start_date
            } else {
                let elapsed = (today - start_date).num_days();
                let cycles = (elapsed + n - 1) / n;
                start_date + Days::new((cycles * n) as u64)
            };
            (next, next - Days::new(n as u64))
        }
    }
}

/// Next renewal, days left, and whether a reminder is due today.
pub fn renewal_status(spec: &RenewalSpec, today: NaiveDate) -> RenewalStatus {
    let (next, cycle_start) = next_renewal(spec, today);
    let days = (next - today).num_days();
    // A payment covers the renewal date it is nearest to: one in the later half of the current
    // cycle (paid early, ahead of `next`) counts for `next`; one on or just after the previous
    // renewal date paid that one and must not silence the reminder for `next`.
    let midpoint = cycle_start + Days::new(((next - cycle_start).num_days() / 2) as u64);
    let already_renewed = spec.last_renewed_date.is_some_and(|d| d > midpoint);
    RenewalStatus {
        next_renewal_date: next,
        days_until_renewal: days,
        cycle_start,
        already_renewed,
        need_alert: (0..=spec.alert_days_before).contains(&days) && !already_renewed,
    }
}

/// The inclusive (min, max) each numeric subscription field is held to: by the config check,
/// the API's schema (`wire::SubscriptionInput`) and the dashboard's form alike.
pub mod bounds {
    /// `renewal_day`: weekly 1–7, monthly 1–31, yearly MMDD up to 1231 (31 December).
    pub const RENEWAL_DAY: (u32, u32) = (1, 1231);
    /// `interval_days` of an `every_n_days` cycle: up to a century.
    pub const INTERVAL_DAYS: (u32, u32) = (1, 36_500);
    /// `alert_days_before`: up to ten years.
    pub const ALERT_DAYS_BEFORE: (u32, u32) = (0, 3650);
}

/// Builds a [`Cycle`] from the config's `cycle_type` and `renewal_day` fields.
///
/// Errors are short phrases naming the fix; the caller prefixes the field path.
pub fn cycle_from_config(
    cycle_type: &str,
    renewal_day: u32,
    interval_days: Option<u32>,
    start_date: Option<NaiveDate>,
) -> Result<Cycle, String> {
    match cycle_type {
        "weekly" if (1..=7).contains(&renewal_day) => Ok(Cycle::Weekly { renewal_day }),
        "weekly" => Err(format!(
            "weekly renewal_day must be 1–7 (Mon–Sun), got {renewal_day}"
        )),
        "monthly" if (1..=31).contains(&renewal_day) => Ok(Cycle::Monthly { renewal_day }),
        "monthly" => Err(format!(
            "monthly renewal_day must be 1–31, got {renewal_day}"
        )),
        "yearly" if renewal_day <= 31 => Ok(Cycle::YearlyAnniversary),
        "yearly" => {
            let (month, day) = (renewal_day / 100, renewal_day % 100);
            if (1..=12).contains(&month) && day >= 1 && day <= days_in_month(2000, month) {
                Ok(Cycle::Yearly { month, day })
            } else {
                Err(format!(
                    "yearly renewal_day must be MMDD such as 1231, got {renewal_day}"
                ))
            }
        }
        "every_n_days" => match (interval_days, start_date) {
            (Some(days), Some(start_date)) if days >= 1 => {
                Ok(Cycle::EveryNDays { days, start_date })
            }
            _ => Err("every_n_days needs interval_days ≥ 1 and start_date (YYYY-MM-DD)".into()),
        },
        other => Err(format!(
            "unknown cycle_type {other:?}; use weekly, monthly, yearly or every_n_days"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("test dates are valid")
    }

    fn spec(cycle: Cycle) -> RenewalSpec {
        RenewalSpec {
            cycle,
            alert_days_before: 3,
            last_renewed_date: None,
        }
    }

    #[test]
    fn monthly_day_31_clamps_to_the_end_of_february() {
        let s = spec(Cycle::Monthly { renewal_day: 31 });
        assert_eq!(next_renewal(&s, d("2025-02-10")).0, d("2025-02-28"));
        assert_eq!(next_renewal(&s, d("2024-02-10")).0, d("2024-02-29"));
        assert_eq!(next_renewal(&s, d("2025-03-01")).0, d("2025-03-31"));
    }

    #[test]
    fn monthly_rolls_into_next_year_in_december() {
        let s = spec(Cycle::Monthly { renewal_day: 5 });
        let (next, start) = next_renewal(&s, d("2025-12-20"));
        assert_eq!(next, d("2026-01-05"));
        assert_eq!(start, d("2025-12-05"));
    }

    #[test]
    fn weekly_renewal_day_one_is_monday() {
        // 2026-11-26 is a Thursday.
        let s = spec(Cycle::Weekly { renewal_day: 1 });
        assert_eq!(next_renewal(&s, d("2026-11-26")).0, d("2026-11-30"));
        let s = spec(Cycle::Weekly { renewal_day: 4 });
        assert_eq!(renewal_status(&s, d("2026-11-26")).days_until_renewal, 0);
    }

    #[test]
    fn yearly_mmdd_uses_that_month_and_day() {
        let s = spec(Cycle::Yearly { month: 12, day: 31 });
        assert_eq!(next_renewal(&s, d("2026-11-26")).0, d("2026-12-31"));
        let leap = spec(Cycle::Yearly { month: 2, day: 29 });
        assert_eq!(next_renewal(&leap, d("2025-03-01")).0, d("2026-02-28"));
        assert_eq!(next_renewal(&leap, d("2027-03-01")).0, d("2028-02-29"));
    }

    #[test]
    fn yearly_anniversary_is_due_on_the_day_itself() {
        let s = RenewalSpec {
            cycle: Cycle::YearlyAnniversary,
            alert_days_before: 0,
            last_renewed_date: Some(d("2025-11-26")),
        };
        let st = renewal_status(&s, d("2026-11-26"));
        assert_eq!(st.next_renewal_date, d("2026-11-26"));
        assert_eq!(st.days_until_renewal, 0);
        assert!(st.need_alert, "due today with alert_days_before 0: remind");
        assert_eq!(next_renewal(&s, d("2026-11-27")).0, d("2027-11-26"));
    }

    #[test]
    fn leap_day_anniversary_returns_to_the_29th_in_leap_years() {
        let s = RenewalSpec {
            cycle: Cycle::YearlyAnniversary,
            alert_days_before: 0,
            last_renewed_date: Some(d("2024-02-29")),
        };
        assert_eq!(next_renewal(&s, d("2025-01-01")).0, d("2025-02-28"));
        assert_eq!(next_renewal(&s, d("2027-03-01")).0, d("2028-02-29"));
        assert_eq!(next_renewal(&s, d("2028-02-29")).1, d("2027-02-28"));
    }

    #[test]
    fn yearly_small_renewal_day_keeps_the_python_anniversary_meaning() {
        let mut s = spec(Cycle::YearlyAnniversary);
        s.last_renewed_date = Some(d("2025-01-01"));
        let st = renewal_status(&s, d("2026-11-26"));
        assert_eq!(st.next_renewal_date, d("2027-01-01"));
        assert!(!st.already_renewed);
    }

    #[test]
    fn reminder_fires_inside_the_window_and_not_after_renewal() {
        let mut s = spec(Cycle::Monthly { renewal_day: 28 });
        let st = renewal_status(&s, d("2026-11-26"));
        assert_eq!(st.days_until_renewal, 2);
        assert!(st.need_alert);
        s.last_renewed_date = Some(d("2026-11-25"));
        let st = renewal_status(&s, d("2026-11-26"));
        assert!(st.already_renewed);
        assert!(!st.need_alert);
        // A renewal from the previous cycle does not suppress this one…
        s.last_renewed_date = Some(d("2026-10-20"));
        assert!(renewal_status(&s, d("2026-11-26")).need_alert);
        // …nor does paying the previous renewal on its due date (or a little late).
        for paid in ["2026-10-28", "2026-10-30"] {
            s.last_renewed_date = Some(d(paid));
            assert!(
                renewal_status(&s, d("2026-11-26")).need_alert,
                "paid {paid}"
            );
        }
    }

    #[test]
    fn python_style_yearly_reminds_before_the_first_anniversary() {
        let s = RenewalSpec {
            cycle: Cycle::YearlyAnniversary,
            alert_days_before: 7,
            last_renewed_date: Some(d("2025-01-01")),
        };
        let st = renewal_status(&s, d("2025-12-30"));
        assert_eq!(st.next_renewal_date, d("2026-01-01"));
        assert!(st.need_alert);
    }

    #[test]
    fn every_n_days_counts_from_the_start_date() {
        let s = spec(Cycle::EveryNDays {
            days: 10,
            start_date: d("2026-11-01"),
        });
        assert_eq!(next_renewal(&s, d("2026-11-26")).0, d("2026-12-01"));
        assert_eq!(next_renewal(&s, d("2026-11-21")).0, d("2026-11-21"));
        assert_eq!(next_renewal(&s, d("2026-10-01")).0, d("2026-11-01"));
    }

    #[test]
    fn cycle_from_config_names_the_fix() {
        assert!(cycle_from_config("weekly", 8, None, None)
            .unwrap_err()
            .contains("1–7"));
        assert!(cycle_from_config("yearly", 1332, None, None)
            .unwrap_err()
            .contains("MMDD"));
        assert!(cycle_from_config("daily", 1, None, None)
            .unwrap_err()
            .contains("every_n_days"));
        assert_eq!(
            cycle_from_config("yearly", 229, None, None),
            Ok(Cycle::Yearly { month: 2, day: 29 })
        );
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        // 1999-01-01 .. 2101-01-01 covers the 2000 (leap) and 2100 (not leap) century rules.
        (0i64..37_000).prop_map(|n| d("1999-01-01") + chrono::Duration::days(n))
    }

    proptest! {
        #[test]
        fn monthly_next_is_on_or_after_today_and_within_a_month(
            today in any_date(), day in 1u32..=31
        ) {
            let s = spec(Cycle::Monthly { renewal_day: day });
            let (next, start) = next_renewal(&s, today);
            prop_assert!(next >= today);
            prop_assert!(start < today);
            prop_assert!((next - today).num_days() <= 31);
            prop_assert_eq!(next.day(), day.min(days_in_month(next.year(), next.month())));
            prop_assert_eq!(start.day(), day.min(days_in_month(start.year(), start.month())));
            let (y, m) = add_months(start.year(), start.month(), 1);
            prop_assert_eq!((y, m), (next.year(), next.month()));
        }

        #[test]
        fn weekly_next_is_the_requested_weekday_within_six_days(
            today in any_date(), day in 1u32..=7
        ) {
            let s = spec(Cycle::Weekly { renewal_day: day });
            let (next, start) = next_renewal(&s, today);
            prop_assert!(next >= today && (next - today).num_days() <= 6);
            prop_assert_eq!(next.weekday().number_from_monday(), day);
            prop_assert_eq!((next - start).num_days(), 7);
        }

        #[test]
        fn yearly_next_is_within_a_year_on_the_clamped_day(
            today in any_date(), month in 1u32..=12, day in 1u32..=31
        ) {
            let day = day.min(days_in_month(2000, month));
            let s = spec(Cycle::Yearly { month, day });
            let (next, start) = next_renewal(&s, today);
            prop_assert!(next >= today && (next - today).num_days() <= 366);
            prop_assert_eq!(next.month(), month);
            prop_assert_eq!(next.day(), day.min(days_in_month(next.year(), month)));
            prop_assert_eq!(start.year() + 1, next.year());
        }

        #[test]
        fn status_days_match_dates_and_alert_only_in_window(
            today in any_date(), day in 1u32..=31, before in 0i64..10
        ) {
            let s = RenewalSpec {
                cycle: Cycle::Monthly { renewal_day: day },
                alert_days_before: before,
                last_renewed_date: None,
            };
            let st = renewal_status(&s, today);
            prop_assert_eq!(today + chrono::Duration::days(st.days_until_renewal), st.next_renewal_date);
            prop_assert_eq!(st.need_alert, st.days_until_renewal <= before);
        }

        #[test]
        fn every_n_days_next_is_aligned_to_the_start(
            today in any_date(), start in any_date(), n in 1u32..400
        ) {
            let s = spec(Cycle::EveryNDays { days: n, start_date: start });
            let (next, _) = next_renewal(&s, today);
            prop_assert!(next >= today);
            prop_assert_eq!((next - start).num_days() % n as i64, 0);
            if today > start { prop_assert!((next - today).num_days() < n as i64); }
        }
    }
}
