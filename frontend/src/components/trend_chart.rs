//! The project's trend chart, drawn as SVG by the app: balance line, threshold lines, alert
//! markers and the forecast line to zero. Geometry comes from `crate::chart`.

use balance_alert_model::to_f64;
use balance_alert_model::wire::{AlertRow, TrendData};
use leptos::prelude::*;

use crate::chart::{path, time_ticks, value_axis, Linear};
use crate::ctx::{ctx, now, utc_offset_minutes};
use crate::format::{amount, date_time, group_digits, parse_rfc3339, short_date};
use crate::i18n::{alert_type_text, fill, K};

const W: f64 = 720.0;
const H: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// The chart of one window.
#[component]
pub fn TrendChart(
    /// The trend of the window (points oldest first, forecast).
    trend: TrendData,
    /// Alerts of the window, drawn as markers.
    alerts: Vec<AlertRow>,
    /// The critical threshold, when the project has one.
    critical: Option<f64>,
) -> impl IntoView {
    let ctx = ctx();
    let offset = utc_offset_minutes();
    let points: Vec<(i64, f64)> = trend
        .history
        .iter()
        .filter_map(|p| Some((parse_rfc3339(&p.timestamp)?, to_f64(p.balance))))
        .collect();
    let currency = trend.currency.clone().unwrap_or_default();
    let threshold = trend.threshold.map(to_f64);
    let t_now = now();
    let window = i64::from(trend.days) * 86_400;
    let t0 = t_now - window;
    // The forecast may run past now: show up to half a window ahead so its slope is visible.
    let zero_at = trend
        .forecast
        .as_ref()
        .and_then(|f| f.zero_date.as_deref())
        .and_then(parse_rfc3339);
    let t1 = match zero_at {
        Some(z) if z > t_now => z.min(t_now + window / 2).max(t_now),
        _ => t_now,
    };
    let mut values: Vec<f64> = points.iter().map(|p| p.1).collect();
    values.extend(threshold);
    values.extend(critical);
    let (lo, hi, ticks) = value_axis(&values, 5);
    let x = Linear::new(t0 as f64, t1 as f64, LEFT, W - RIGHT);
    let y = Linear::new(lo, hi, H - BOTTOM, TOP);
    let line = path(
        &points
            .iter()
            .map(|&(t, v)| (x.map(t as f64), y.map(v)))
            .collect::<Vec<_>>(),
    );
    let last = points.last().copied();
    // Forecast: from the latest reading towards zero, cut at the chart's right edge.
    let forecast_line = match (last, zero_at) {
        (Some((tl, vl)), Some(z)) if z > tl && vl > 0.0 => {
            let end_t = z.min(t1);
            let end_v = vl * (1.0 - (end_t - tl) as f64 / (z - tl) as f64);
            Some(path(&[
                (x.map(tl as f64), y.map(vl)),
                (x.map(end_t as f64), y.map(end_v)),
            ]))
        }
        _ => None,
    };
    let hline = |v: f64| {
        format!(
            "M{LEFT:.1} {:.1} L{:.1} {:.1}",
            y.map(v),
            W - RIGHT,
            y.map(v)
        )
    };
    let y_ticks = ticks
        .iter()
        .map(|&v| {
            let yy = y.map(v);
            view! {
                <g class="tick">
                    <line x1=LEFT x2=W - RIGHT y1=yy y2=yy/>
                    <text x=LEFT - 6.0 y=yy + 4.0 text-anchor="end">{group_digits(v, if hi - lo < 10.0 { 1 } else { 0 })}</text>
                </g>
            }
        })
        .collect_view();
    let lang = ctx.lang.get_untracked();
    let x_ticks = time_ticks(t0, t1, 7, i64::from(offset) * 60)
        .into_iter()
        .map(|t| {
            let xx = x.map(t as f64);
            let label = if window <= 86_400 {
                date_time(t, offset, lang)
                    .rsplit(' ')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            } else {
                short_date(t, offset, lang)
            };
            view! { <text class="xtick" x=xx y=H - 8.0 text-anchor="middle">{label}</text> }
        })
        .collect_view();
    let markers = alerts
        .iter()
        .filter_map(|a| {
            let ts = parse_rfc3339(&a.timestamp)?;
            (ts >= t0).then_some(())?;
            let xx = x.map(ts as f64);
            let title = format!(
                "{} · {} · {}",
                date_time(ts, offset, lang),
                alert_type_text(lang, &a.alert_type),
                a.message
            );
            let class = format!("marker m-{}", a.alert_type);
            Some(view! {
                <g class=class>
                    <line x1=xx x2=xx y1=TOP y2=H - BOTTOM/>
                    <circle cx=xx cy=TOP + 4.0 r="4"><title>{title}</title></circle>
                </g>
            })
        })
        .collect_view();
    let dots = points
        .iter()
        .rev()
        .take(1)
        .map(|&(t, v)| view! { <circle class="last" cx=x.map(t as f64) cy=y.map(v) r="3.5"><title>{amount(v, &currency, lang)}</title></circle> })
        .collect_view();
    let name = trend
        .project_name
        .clone()
        .unwrap_or_else(|| trend.project_id.clone());
    let label = fill(ctx.t(K::chart_title), &[&name]);
    let aria = label.clone();
    let empty = points.is_empty();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=aria preserveAspectRatio="xMidYMid meet">
                <title>{label}</title>
                {y_ticks}
                {x_ticks}
                {threshold.map(|v| view! { <path class="threshold" d=hline(v)/> })}
                {critical.map(|v| view! { <path class="critical" d=hline(v)/> })}
                {markers}
                {forecast_line.map(|d| view! { <path class="forecast" d=d/> })}
                <path class="balance" d=line/>
                {dots}
            </svg>
            {empty.then(|| view! { <p class="muted">{move || ctx.t(K::chart_empty)}</p> })}
            <figcaption class="legend">
                <span class="l-balance">{move || ctx.t(K::legend_balance)}</span>
                {threshold.map(|_| view! { <span class="l-threshold">{move || ctx.t(K::legend_threshold)}</span> })}
                {critical.map(|_| view! { <span class="l-critical">{move || ctx.t(K::legend_critical)}</span> })}
                {zero_at.map(|_| view! { <span class="l-forecast">{move || ctx.t(K::legend_forecast)}</span> })}
                <span class="l-alert">{move || ctx.t(K::legend_alert)}</span>
            </figcaption>
        </figure>
    }
}
