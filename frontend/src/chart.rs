//! Chart geometry for the trend chart and the sparklines: value and time scales with round
//! tick values, and SVG path data. Pure, so the scaling is tested on the host.

/// Maps a domain interval onto a pixel interval (either may be reversed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Linear {
    /// A scale from `[d0, d1]` to `[r0, r1]`; a zero-width domain is widened so nothing divides
    /// by zero (a flat series draws as a level line in the middle).
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Linear {
        let (d0, d1) = if (d1 - d0).abs() < f64::EPSILON * d0.abs().max(1.0) {
            let pad = d0.abs().max(1.0) * 0.5;
            (d0 - pad, d0 + pad)
        } else {
            (d0, d1)
        };
        Linear { d0, d1, r0, r1 }
    }

    /// The pixel position of `v`.
    pub fn map(&self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// A "nice" step (1, 2 or 5 × 10ⁿ) giving about `count` ticks over `span`.
fn nice_step(span: f64, count: usize) -> f64 {
    let raw = span / count.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// The value axis for a chart showing `values` (balances, thresholds): extended to round
/// numbers, always including zero for non-negative data (a balance chart that does not
/// start at zero exaggerates small changes), with its tick values.
pub fn value_axis(values: &[f64], ticks: usize) -> (f64, f64, Vec<f64>) {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (mut lo, mut hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    lo = lo.min(0.0);
    if hi <= lo {
        hi = lo + 1.0;
    }
    let step = nice_step(hi - lo, ticks);
    let lo = (lo / step).floor() * step;
    let hi = (hi / step).ceil() * step;
    let n = ((hi - lo) / step).round() as usize;
    let ticks = (0..=n).map(|i| lo + step * i as f64).collect();
    (lo, hi, ticks)
}

/// SVG path data through `points` (already in pixels): `M x y L x y …`, one decimal.
pub fn path(points: &[(f64, f64)]) -> String {
    let mut out = String::with_capacity(points.len() * 14);
    for (i, (x, y)) in points.iter().enumerate() {
        out.push_str(if i == 0 { "M" } else { " L" });
        out.push_str(&format!("{x:.1} {y:.1}"));
    }
    out
}

/// A sparkline of `values` (oldest first) in a `width` × `height` box with 1 px of margin,
/// scaled to the values' own range. Empty for fewer than two values.
pub fn sparkline(values: &[f64], width: f64, height: f64) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let x = Linear::new(0.0, (values.len() - 1) as f64, 1.0, width - 1.0);
    let y = Linear::new(lo, hi, height - 1.0, 1.0);
    let pts: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (x.map(i as f64), y.map(v)))
        .collect();
    path(&pts)
}

/// Time ticks for a window of `[t0, t1]` unix seconds: at most `count`, on whole hours or
/// days (UTC offset applied so a day tick falls on local midnight).
pub fn time_ticks(t0: i64, t1: i64, count: usize, offset_seconds: i64) -> Vec<i64> {
    if t1 <= t0 || count == 0 {
        return Vec::new();
    }
    let span = t1 - t0;
    let steps = [
        3600,
        3 * 3600,
        6 * 3600,
        12 * 3600,
        86_400,
        2 * 86_400,
        7 * 86_400,
        14 * 86_400,
        30 * 86_400,
    ];
    let step = steps
        .iter()
        .copied()
        .find(|s| span / s <= count as i64)
        .unwrap_or(90 * 86_400);
    let first = ((t0 + offset_seconds) / step + 1) * step - offset_seconds;
    (0..)
        .map(|i| first + i * step)
        .take_while(|&t| t <= t1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_scale_maps_ends_and_middle_and_may_be_reversed() {
        let y = Linear::new(0.0, 100.0, 200.0, 0.0);
        assert_eq!(y.map(0.0), 200.0);
        assert_eq!(y.map(100.0), 0.0);
        assert_eq!(y.map(25.0), 150.0);
    }

    #[test]
    fn a_flat_series_draws_in_the_middle_instead_of_dividing_by_zero() {
        let y = Linear::new(50.0, 50.0, 100.0, 0.0);
        assert_eq!(y.map(50.0), 50.0);
        assert!(y.map(60.0).is_finite());
    }

    #[test]
    fn value_axis_starts_at_zero_and_ends_on_round_ticks() {
        let (lo, hi, ticks) = value_axis(&[182.4, 150.0, 50.0, 10.0], 5);
        assert_eq!(lo, 0.0);
        assert_eq!(hi, 200.0);
        assert_eq!(ticks, vec![0.0, 50.0, 100.0, 150.0, 200.0]);
        let (lo, hi, _) = value_axis(&[-12.0, 7.0], 4);
        assert!(lo <= -12.0 && hi >= 7.0);
        assert_eq!(value_axis(&[], 4).0, 0.0);
        assert_eq!(value_axis(&[f64::NAN], 4).1, 1.0);
    }

    #[test]
    fn path_and_sparkline_fit_their_box() {
        assert_eq!(path(&[(0.0, 1.0), (2.5, 3.26)]), "M0.0 1.0 L2.5 3.3");
        assert_eq!(sparkline(&[1.0], 80.0, 20.0), "");
        // Falling series: starts at the top-left (y=1), ends bottom-right (y=height-1).
        assert_eq!(
            sparkline(&[10.0, 5.0, 0.0], 81.0, 21.0),
            "M1.0 1.0 L40.5 10.5 L80.0 20.0"
        );
    }

    #[test]
    fn time_ticks_fall_on_local_midnight_for_week_windows() {
        let day = 86_400;
        let t0 = 1_795_735_800; // 2026-11-26T23:30Z
        let ticks = time_ticks(t0, t0 + 7 * day, 8, 8 * 3600);
        assert_eq!(ticks.len(), 7);
        for t in &ticks {
            assert_eq!((t + 8 * 3600) % day, 0, "local midnight");
            assert!(*t > t0 && *t <= t0 + 7 * day);
        }
        assert!(time_ticks(t0, t0 + 3600 * 20, 6, 0)
            .iter()
            .all(|t| t % (3 * 3600) == 0));
        assert!(time_ticks(t0, t0, 5, 0).is_empty());
    }
}
