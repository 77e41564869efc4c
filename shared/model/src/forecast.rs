//! Trend and run-out forecast from balance history: least squares over the window.

use serde::{Deserialize, Serialize};

/// One history point: unix seconds and the balance then.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub timestamp: i64,
    pub balance: f64,
}

/// When a falling balance crosses the threshold and zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Units spent per day (positive when the balance falls).
    pub burn_rate_per_day: f64,
    /// Unix seconds when the fitted line crosses the threshold (None if already below it).
    pub threshold_at: Option<i64>,
    /// Unix seconds when the fitted line reaches zero.
    pub zero_at: i64,
}

/// Fits `balance = a + b·t` by least squares and extrapolates it.
///
/// Returns None with fewer than two distinct timestamps or when the trend is flat or rising:
/// there is no run-out date to promise.
pub fn forecast(points: &[Point], threshold: f64) -> Option<Forecast> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
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
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx; // units per second
                           // A fall of less than a billionth of the balance per day is rounding noise from a flat
                           // series, not a trend: promising a run-out date millions of years away helps no one.
    let scale = mean_y.abs().max(1.0);
    if !slope.is_finite() || -slope * 86_400.0 <= scale * 1e-9 {
        return None;
    }
    let intercept = mean_y - slope * mean_x;
    // Crossing times that do not fit a timestamp (beyond ±1e12 s, ~31,700 years) are None.
    let cross = |level: f64| {
        let t = t0 as f64 + (level - intercept) / slope;
        (t.is_finite() && t.abs() < 1e12).then(|| t.round() as i64)
    };
    let last = points.iter().map(|p| p.timestamp).max().unwrap_or(t0);
    let latest_fit = intercept + slope * (last - t0) as f64;
    Some(Forecast {
        burn_rate_per_day: -slope * 86_400.0,
        threshold_at: if latest_fit > threshold {
            cross(threshold)
        } else {
            None
        },
        zero_at: cross(0.0)?,
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

    #[test]
    fn steady_burn_predicts_exact_crossings() {
        // 10 units a day from 100, starting at a realistic unix time.
        let day = 86_400;
        let t = 1_764_000_000;
        let f = forecast(
            &pts(&[(t, 100.0), (t + day, 90.0), (t + 2 * day, 80.0)]),
            50.0,
        )
        .expect("falling trend has a forecast");
        assert!((f.burn_rate_per_day - 10.0).abs() < 1e-9);
        assert_eq!(f.threshold_at, Some(t + 5 * day));
        assert_eq!(f.zero_at, t + 10 * day);
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

    #[test]
    fn already_below_threshold_gives_only_the_zero_date() {
        let f = forecast(&pts(&[(0, 10.0), (86_400, 8.0)]), 50.0).expect("falling");
        assert_eq!(f.threshold_at, None);
        assert_eq!(f.zero_at, 5 * 86_400);
    }
}
