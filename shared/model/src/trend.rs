//! A project's trend over a window of readings: statistics (exact) and the forecast view the
//! API and the dashboard show. Pure: callers pass `now`.

use crate::forecast::{run_out, Point};
use crate::wire::{iso, ForecastView};
use crate::{BalancePoint, Decimal};

/// Statistics of a window of readings (oldest first).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrendStats {
    pub current: Option<Decimal>,
    pub min: Option<Decimal>,
    pub max: Option<Decimal>,
    /// The mean, rounded to 8 decimal places.
    pub avg: Option<Decimal>,
    /// Latest minus first.
    pub change: Option<Decimal>,
    /// `change` as a percentage of the first reading (None when that is zero).
    pub change_percent: Option<f64>,
}

/// Statistics of `balances`, oldest first.
pub fn stats(balances: &[Decimal]) -> TrendStats {
    let first = balances.first().copied();
    let current = balances.last().copied();
    let change = current.zip(first).and_then(|(c, f)| c.checked_sub(f));
    TrendStats {
        current,
        min: balances.iter().copied().min(),
        max: balances.iter().copied().max(),
        // Checked arithmetic: amounts are bounded when parsed, but a view must never panic.
        avg: balances
            .iter()
            .try_fold(Decimal::ZERO, |sum, b| sum.checked_add(*b))
            .filter(|_| !balances.is_empty())
            .and_then(|sum| sum.checked_div(Decimal::from(balances.len())))
            .map(|avg| avg.round_dp(8)),
        change,
        change_percent: change
            .zip(first)
            .filter(|(_, f)| !f.is_zero())
            .and_then(|(c, f)| c.checked_div(f)?.checked_mul(Decimal::ONE_HUNDRED))
            .map(crate::to_f64),
    }
}

/// The forecast of `points` (oldest first) against `threshold` as of `now`: the one forecast
/// (see [`crate::forecast`]: the window before `now`, whole days rounded down), with days
/// counted from `now` (never negative).
pub fn forecast_view(
    points: &[BalancePoint],
    threshold: Option<Decimal>,
    now: i64,
) -> Option<ForecastView> {
    let fit: Vec<Point> = points
        .iter()
        .map(|p| Point {
            timestamp: p.timestamp,
            balance: crate::to_f64(p.balance),
        })
        .collect();
    let threshold = threshold.map_or(0.0, crate::to_f64);
    let days_from_now = |t: i64| ((t - now) as f64 / 86_400.0).max(0.0);
    run_out(&fit, threshold, now).map(|f| ForecastView {
        burn_rate_per_day: f.burn_rate_per_day,
        already_below: f.already_below,
        already_empty: f.already_empty,
        threshold_date: f.threshold_at.map(iso),
        days_until_threshold: if f.already_below {
            Some(0.0)
        } else {
            f.threshold_at.map(days_from_now)
        },
        zero_date: f.zero_at.map(iso),
        days_until_zero: if f.already_empty {
            Some(0.0)
        } else {
            f.zero_at.map(days_from_now)
        },
        days_left: crate::forecast::days_left(&f, now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn statistics_are_exact() {
        let s = stats(&[d("100.1"), d("90.05"), d("80.1")]);
        assert_eq!(s.current, Some(d("80.1")));
        assert_eq!((s.min, s.max), (Some(d("80.1")), Some(d("100.1"))));
        assert_eq!(s.change, Some(d("-20.0")));
        assert_eq!(s.avg, Some(d("90.08333333")));
        assert_eq!(stats(&[]), TrendStats::default());
        assert_eq!(stats(&[d("0"), d("5")]).change_percent, None);
        // Extreme values give no figure instead of a panic.
        let huge = stats(&[d("0.0000000000000000000000000001"), Decimal::MAX]);
        assert_eq!(huge.change_percent, None);
        assert_eq!(stats(&[Decimal::MAX, Decimal::MAX]).avg, None);
    }

    #[test]
    fn forecast_days_are_counted_from_now_and_never_negative() {
        let point = |t: i64, b: &str| BalancePoint {
            project_id: "p".into(),
            project_name: "p".into(),
            provider: "x".into(),
            balance: d(b),
            threshold: d("10"),
            currency: "USD".into(),
            timestamp: t,
            ..Default::default()
        };
        let day = 86_400;
        let pts = [point(0, "100"), point(day, "90")];
        let f = forecast_view(&pts, Some(d("10")), day).expect("falling");
        assert!((f.days_until_zero.expect("date") - 9.0).abs() < 1e-9);
        assert_eq!(f.days_left, Some(9));
        // Past the projected date, still inside the window: 0, never negative.
        let late = forecast_view(&pts, Some(d("10")), 6 * day).expect("falling");
        assert_eq!(late.days_until_zero, Some(4.0));
        let later = forecast_view(&pts, Some(d("10")), day + 9 * day + 5).map(|f| f.days_left);
        assert_eq!(later, None, "readings older than the window say nothing");
        let edge = forecast_view(&pts, Some(d("10")), 7 * day).expect("in window");
        assert_eq!(edge.days_left, Some(3));
        let past = [point(0, "100"), point(day, "90"), point(2 * day, "0.5")];
        let gone = forecast_view(&past, Some(d("10")), 2 * day + 1).expect("below");
        assert_eq!(gone.days_left, Some(0), "less than a day");
    }
}
