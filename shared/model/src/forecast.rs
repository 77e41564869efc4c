//! Run-out forecast from balance history: the burn rate since the last top-up (least squares),
//! applied to the latest reading.
//!
//! One forecast for every surface: [`run_out`] looks at the readings of the last
//! [`WINDOW_SECONDS`] (at most [`WINDOW_POINTS`], the newest), and [`whole_days`] is the one
//! rounding rule. The forecast alert, the trend API, `/api/credits`, `/metrics`, the digest and
//! the dashboard all show its result, so they agree to the day on the same data.

use serde::{Deserialize, Serialize};

/// One history point: unix seconds and the balance then.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub timestamp: i64,
    pub balance: f64,
}

/// When the balance crosses the threshold and zero, from the latest reading and the current
/// burn rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Units spent per day since the last top-up (positive when the balance falls; 0 when it
    /// does not fall).
    pub burn_rate_per_day: f64,
    /// The latest reading the dates count from.
    pub current: f64,
    /// Unix seconds of that reading.
    pub as_of: i64,
    /// The latest reading is already below the threshold (or at/below zero).
    pub already_below: bool,
    /// The latest reading is already at or below zero.
    pub already_empty: bool,
    /// Unix seconds when the balance reaches the threshold at the burn rate (None when already
    /// below it, or when it is not falling).
    pub threshold_at: Option<i64>,
    /// Unix seconds when the balance reaches zero (None when already empty or not falling).
    pub zero_at: Option<i64>,
}

/// How far back a forecast looks: a week of readings.
pub const WINDOW_SECONDS: i64 = 7 * 86_400;
/// At most this many readings of that week (the newest): hourly for the week, about a day at
/// five-minute checks. Bounded so every surface can afford the same read.
pub const WINDOW_POINTS: usize = 336;
const DAY: i64 = 86_400;

/// Whole days from `now` until `at`, rounded down and never negative: 0 means "less than a
/// day", 1 means "1 day" (between 24 and 48 hours).
pub fn whole_days(at: i64, now: i64) -> i64 {
    (at.saturating_sub(now)).max(0) / DAY
}

/// The whole days a forecast shows at `now` ([`whole_days`] until zero; 0 when already empty;
/// None when the balance is not falling).
pub fn days_left(f: &Forecast, now: i64) -> Option<i64> {
    if f.already_empty {
        Some(0)
    } else {
        f.zero_at.map(|z| whole_days(z, now))
    }
}

/// The forecast of `points` as of `now`: only the readings of the window before `now` count
/// (see [`WINDOW_SECONDS`]); the rest is [`forecast`].
pub fn run_out(points: &[Point], threshold: f64, now: i64) -> Option<Forecast> {
    let since = now.saturating_sub(WINDOW_SECONDS);
    let window: Vec<Point> = points
        .iter()
        .filter(|p| p.timestamp >= since && p.timestamp <= now)
        .copied()
        .collect();
    forecast(&window, threshold)
}

/// Least-squares slope (units per second) of `points`; None without two distinct timestamps.
fn slope(points: &[Point]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    // Centre the time axis on the first point so large unix timestamps keep f64 precision.
    let t0 = points[0].timestamp;
    let xs = points.iter().map(|p| (p.timestamp - t0) as f64);
    let mean_x = xs.clone().sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.balance).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, p) in xs.zip(points) {
        sxy += (x - mean_x) * (p.balance - mean_y);
        sxx += (x - mean_x) * (x - mean_x);
    }
    let slope = sxy / sxx;
    (sxx > 0.0 && slope.is_finite()).then_some(slope)
}

/// Splits `points` (oldest first) into spending segments: an upward jump (a top-up) starts a
/// new segment, so a top-up inside the window neither cancels nor distorts the burn rate.
fn segments(points: &[Point]) -> Vec<&[Point]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        let (prev, cur) = (points[i - 1].balance, points[i].balance);
        let noise = prev.abs().max(1.0) * 1e-9;
        if cur > prev + noise {
            out.push(&points[start..i]);
            start = i;
        }
    }
    if !points.is_empty() {
        out.push(&points[start..]);
    }
    out
}

/// Forecasts from the latest reading and the burn rate of the segment since the last top-up
/// (or, right after a top-up, the segment before it).
///
/// Returns None without data, and when the balance is neither falling nor already below the
/// threshold: there is no date to promise.
pub fn forecast(points: &[Point], threshold: f64) -> Option<Forecast> {
    let latest = *points.iter().max_by_key(|p| p.timestamp)?;
    let mut sorted = points.to_vec();
    sorted.sort_by_key(|p| p.timestamp);
    let segs = segments(&sorted);
    let rate_per_second = segs
        .iter()
        .rev()
        .take(2)
        .find_map(|s| slope(s))
        .map(|s| -s)
        .unwrap_or(0.0);
    // A fall of less than a billionth of the balance per day is rounding noise from a flat
    // series, not a trend: promising a run-out date millions of years away helps no one.
    let scale = latest.balance.abs().max(1.0);
    let falling = rate_per_second * 86_400.0 > scale * 1e-9;
    let already_empty = latest.balance <= 0.0;
    let already_below = latest.balance < threshold || already_empty;
    if !falling && !already_below {
        return None;
    }
    // Crossing times that do not fit a timestamp (beyond ±1e12 s, ~31,700 years) are None.
    let cross = |level: f64| {
        if !falling || latest.balance < level {
            return None;
        }
        if latest.balance == level {
            // Exactly at the level and still falling: crossing now, not "never".
            return Some(latest.timestamp);
        }
        let t = latest.timestamp as f64 + (latest.balance - level) / rate_per_second;
        (t.is_finite() && t.abs() < 1e12).then(|| t.round() as i64)
    };
    Some(Forecast {
        burn_rate_per_day: if falling {
            rate_per_second * 86_400.0
        } else {
            0.0
        },
        current: latest.balance,
        as_of: latest.timestamp,
        already_below,
        already_empty,
        threshold_at: if already_below {
            None
        } else {
            cross(threshold)
        },
        zero_at: if already_empty { None } else { cross(0.0) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<Point> {
        v.iter()
            .map(|&(timestamp, balance)| Point { timestamp, balance })
            .collect()
    }

    const DAY: i64 = 86_400;
    const T: i64 = 1_764_000_000;

    #[test]
    fn steady_burn_predicts_exact_crossings() {
        // 10 units a day from 100, starting at a realistic unix time.
        let f = forecast(
            &pts(&[(T, 100.0), (T + DAY, 90.0), (T + 2 * DAY, 80.0)]),
            50.0,
        )
        .expect("falling trend has a forecast");
        assert!((f.burn_rate_per_day - 10.0).abs() < 1e-9);
        assert_eq!(f.threshold_at, Some(T + 5 * DAY));
        assert_eq!(f.zero_at, Some(T + 10 * DAY));
        assert!(!f.already_below);
    }

    #[test]
    fn dates_count_from_the_latest_reading_not_the_fitted_line() {
        // Noisy readings whose fitted line ends above the real latest balance.
        let f = forecast(
            &pts(&[
                (T, 100.0),
                (T + DAY, 80.0),
                (T + 2 * DAY, 78.0),
                (T + 3 * DAY, 60.0),
            ]),
            0.0,
        )
        .expect("falling");
        let rate = f.burn_rate_per_day;
        let expected = T + 3 * DAY + (60.0 / rate * DAY as f64).round() as i64;
        assert_eq!(f.zero_at, Some(expected));
    }

    #[test]
    fn already_below_the_threshold_says_so_instead_of_a_date() {
        let f = forecast(&pts(&[(T, 10.0), (T + DAY, 8.0)]), 50.0).expect("falling");
        assert!(f.already_below);
        assert_eq!(f.threshold_at, None, "not 'tomorrow'");
        assert_eq!(f.zero_at, Some(T + 5 * DAY));
        let flat_below = forecast(&pts(&[(T, 8.0), (T + DAY, 8.0)]), 50.0).expect("below");
        assert!(flat_below.already_below);
        assert_eq!(flat_below.burn_rate_per_day, 0.0);
    }

    #[test]
    fn falling_exactly_onto_the_threshold_crosses_it_now() {
        let f = forecast(&pts(&[(T, 60.0), (T + DAY, 50.0)]), 50.0).expect("falling");
        assert!(!f.already_below);
        assert_eq!(f.threshold_at, Some(T + DAY));
        assert_eq!(f.zero_at, Some(T + 6 * DAY));
    }

    #[test]
    fn a_top_up_starts_a_new_segment() {
        // Steady 10/day, topped up from 70 to 200, then steady again.
        let f = forecast(
            &pts(&[
                (T, 100.0),
                (T + DAY, 90.0),
                (T + 2 * DAY, 80.0),
                (T + 3 * DAY, 200.0),
                (T + 4 * DAY, 190.0),
            ]),
            50.0,
        )
        .expect("steady spending still forecasts");
        assert!((f.burn_rate_per_day - 10.0).abs() < 1e-9);
        assert!(!f.already_below, "above the threshold after the top-up");
        assert_eq!(f.threshold_at, Some(T + 4 * DAY + 14 * DAY));
    }

    #[test]
    fn right_after_a_top_up_the_previous_burn_rate_applies() {
        let f = forecast(
            &pts(&[(T, 100.0), (T + DAY, 90.0), (T + 2 * DAY, 300.0)]),
            0.0,
        )
        .expect("previous segment's rate");
        assert!((f.burn_rate_per_day - 10.0).abs() < 1e-9);
        assert_eq!(f.zero_at, Some(T + 2 * DAY + 30 * DAY));
    }

    #[test]
    fn a_negative_balance_is_already_empty_not_a_past_date() {
        let f = forecast(&pts(&[(T, 5.0), (T + DAY, -5.0)]), 10.0).expect("below");
        assert!(f.already_empty && f.already_below);
        assert_eq!(f.zero_at, None);
        assert_eq!(f.threshold_at, None);
    }

    #[test]
    fn whole_days_round_down_and_never_go_negative() {
        assert_eq!(whole_days(T + DAY - 1, T), 0);
        assert_eq!(whole_days(T + DAY, T), 1);
        assert_eq!(whole_days(T + 3 * DAY - 1, T), 2);
        assert_eq!(whole_days(T - 5, T), 0);
    }

    #[test]
    fn only_the_window_before_now_counts() {
        // A fast fall two weeks ago, then a slow one this week: this week's rate applies.
        let mut v = vec![(T, 1000.0), (T + DAY, 500.0)];
        let week = T + 14 * DAY;
        v.extend([(week, 100.0), (week + DAY, 99.0), (week + 2 * DAY, 98.0)]);
        let f = run_out(&pts(&v), 0.0, week + 2 * DAY).expect("falling");
        assert!((f.burn_rate_per_day - 1.0).abs() < 1e-9);
        assert_eq!(
            run_out(&pts(&v), 0.0, week + 30 * DAY),
            None,
            "nothing recent"
        );
    }

    #[test]
    fn flat_or_rising_history_has_no_forecast() {
        assert_eq!(forecast(&pts(&[(0, 5.0), (10, 5.0)]), 1.0), None);
        assert_eq!(forecast(&pts(&[(0, 5.0), (10, 6.0)]), 1.0), None);
        assert_eq!(forecast(&pts(&[(0, 5.0)]), 1.0), None);
        assert_eq!(forecast(&pts(&[(7, 5.0), (7, 3.0)]), 1.0), None);
    }

    #[test]
    fn flat_series_with_rounding_noise_has_no_forecast() {
        // 12.34 is not exact in binary: the fitted slope comes out as ~-1e-37, not 0.
        let t = 1_764_000_000;
        let flat = pts(&[
            (t, 12.34),
            (t + 977, 12.34),
            (t + 86_400, 12.34),
            (t + 90_001, 12.34),
        ]);
        assert_eq!(forecast(&flat, 10.0), None);
    }
}
