//! Project detail: the trend chart for 1/7/30/90 days with thresholds, alert markers and the
//! forecast; min/max/avg/change (`stats.rs`); recent alerts with each channel's delivery
//! (`recent_alerts.rs`); the threshold edited in place, acknowledge and snooze (`edits.rs`).

mod edits;
mod recent_alerts;
mod state;
mod stats;

use balance_alert_model::to_f64;
use leptos::prelude::*;

use crate::components::trend_chart::TrendChart;
use crate::components::widgets::{ActionMessage, ErrorNote, Load, Loading, StateBadge};
use crate::ctx::{ctx, now, utc_offset_minutes};
use crate::format::{date_time, plain};
use crate::i18n::{fill, t, K};
use crate::navigation::Link;
use crate::overview_rows::Row;

use edits::{SnoozeBar, ThresholdForm};
use recent_alerts::RecentAlerts;
use state::Project;
use stats::Stats;

#[component]
pub fn ProjectPage(
    /// The project: its id, `provider:name` or unique name.
    id: String,
) -> impl IntoView {
    let ctx = ctx();
    let page = Project {
        ctx,
        id: StoredValue::new(id),
        days: RwSignal::new(7u32),
        detail: RwSignal::new(Load::Loading),
        message: RwSignal::new(None),
    };
    let Project { days, detail, .. } = page;
    Effect::new(move |_| {
        let _ = days.get();
        detail.set(Load::Loading);
        page.reload();
    });
    let threshold_input = RwSignal::new(String::new());

    let retry = Callback::new(move |_| {
        detail.set(Load::Loading);
        page.reload();
    });

    let ranges = move || {
        [1u32, 7, 30, 90]
            .into_iter()
            .map(|d| {
                view! {
                    <button class="range" id=format!("range-{d}") aria-pressed=move || (days.get() == d).to_string()
                        on:click=move |_| days.set(d)>
                        {move || fill(ctx.t(K::range_days), &[&d.to_string()])}
                    </button>
                }
            })
            .collect_view()
    };

    let content = move || {
        let lang = ctx.lang.get();
        match detail.get() {
            Load::Loading => view! { <Loading/> }.into_any(),
            Load::Failed(e) => view! { <ErrorNote err=e retry=retry/> }.into_any(),
            Load::Ready(d) => {
                let offset = utc_offset_minutes();
                let tr = d.trend.clone();
                let cur = tr.currency.clone().unwrap_or_default();
                let row = d.credit.as_ref().map(|c| Row::new(c, &[], now()));
                let critical = d
                    .credit
                    .as_ref()
                    .and_then(|c| c.critical_threshold)
                    .map(to_f64);
                let threshold = tr.threshold.map(to_f64).unwrap_or(0.0);
                if threshold_input.get_untracked().is_empty() {
                    threshold_input.set(plain(threshold));
                }
                let snooze_text = d
                    .credit
                    .as_ref()
                    .and_then(|c| c.snooze.clone())
                    .map(|s| match s.until {
                        Some(u) => fill(t(lang, K::snoozed_until), &[&date_time(u, offset, lang)]),
                        None => t(lang, K::snoozed_topup).to_owned(),
                    });
                view! {
                    <div class="detail-head">
                        <h1 id="project-name">{tr.project_name.clone().unwrap_or_default()}</h1>
                        <span class="muted">{tr.provider.clone().unwrap_or_default()}
                            {d.credit.as_ref().and_then(|c| c.owner_project.clone()).map(|o| format!(" · {o}"))}</span>
                        {row.as_ref().map(|r| view! { <StateBadge state=r.shown_state().to_owned()/> })}
                    </div>
                    <div class="ranges" role="group" aria-label=t(lang, K::range_label)>{ranges}</div>
                    <TrendChart trend=tr.clone() alerts=d.alerts.clone() critical=critical/>
                    <Stats trend=tr.clone() lang=lang offset=offset/>
                    <ThresholdForm page=page input=threshold_input threshold=threshold critical=critical currency=cur lang=lang/>
                    <SnoozeBar page=page project_id=tr.project_id.clone() shown_state=row.map(|r| r.shown_state().to_owned())
                        snooze_text=snooze_text lang=lang/>
                    <h2>{t(lang, K::recent_alerts)}</h2>
                    <RecentAlerts page=page alerts=d.alerts lang=lang offset=offset/>
                }
                .into_any()
            }
        }
    };

    view! {
        <section class="project">
            <Link href="/".to_owned() exact=true>{move || ctx.t(K::detail_back)}</Link>
            <ActionMessage message=page.message/>
            {content}
        </section>
    }
}
