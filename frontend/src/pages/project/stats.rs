//! The window's figures: current, min, max, average, change, the run-out forecast, the burn
//! rate and the date the balance reaches zero.

use balance_alert_model::to_f64;
use balance_alert_model::wire::TrendData;
use balance_alert_model::Decimal;
use leptos::prelude::*;

use crate::format::{amount, date_time, parse_rfc3339, percent, runs_out};
use crate::i18n::{t, Lang, K};

/// The statistics of `trend`, as a definition list.
#[component]
pub(super) fn Stats(
    /// The window shown.
    trend: TrendData,
    lang: Lang,
    /// The reader's offset from UTC, minutes east.
    offset: i32,
) -> impl IntoView {
    let tr = trend;
    let cur = tr.currency.clone().unwrap_or_default();
    let money =
        |v: Option<Decimal>| v.map_or_else(|| "—".to_owned(), |v| amount(to_f64(v), &cur, lang));
    let fc = tr.forecast.clone();
    view! {
        <dl class="stats">
            <div><dt>{t(lang, K::stat_current)}</dt><dd id="stat-current">{money(tr.current_balance)}</dd></div>
            <div><dt>{t(lang, K::stat_min)}</dt><dd>{money(tr.min_balance)}</dd></div>
            <div><dt>{t(lang, K::stat_max)}</dt><dd>{money(tr.max_balance)}</dd></div>
            <div><dt>{t(lang, K::stat_avg)}</dt><dd>{money(tr.avg_balance)}</dd></div>
            <div><dt>{t(lang, K::stat_change)}</dt><dd>{money(tr.change)}{tr.change_percent.map(|p| format!(" ({})", percent(p)))}</dd></div>
            <div><dt>{t(lang, K::col_forecast)}</dt><dd id="stat-forecast">{
                let s = runs_out(fc.as_ref(), lang);
                if s.is_empty() { t(lang, K::fc_stable).to_owned() } else { s }
            }</dd></div>
            {fc.as_ref().filter(|f| f.burn_rate_per_day > 0.0).map(|f| view! {
                <div><dt>{t(lang, K::stat_burn)}</dt><dd>{amount(f.burn_rate_per_day, &cur, lang)}</dd></div>
            })}
            {fc.as_ref().and_then(|f| f.zero_date.as_deref().and_then(parse_rfc3339)).map(|z| view! {
                <div><dt>{t(lang, K::stat_zero_date)}</dt><dd>{date_time(z, offset, lang)}</dd></div>
            })}
        </dl>
    }
}
