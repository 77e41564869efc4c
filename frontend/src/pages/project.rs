//! Project detail: the trend chart for 1/7/30/90 days with thresholds, alert markers and the
//! forecast; min/max/avg/change; recent alerts with each channel's delivery; the threshold
//! edited in place; acknowledge and snooze.

use crate::router::Link;
use balance_alert_model::wire::{AlertHistory, AlertRow, CreditRow, Credits, EditResponse, Trend};
use leptos::prelude::*;

use crate::api::{self, enc, Method};
use crate::app::{ctx, now, utc_offset_minutes, Ctx};
use crate::components::trend_chart::TrendChart;
use crate::components::widgets::{ErrorNote, Load, Loading, StateBadge};
use crate::format::{amount, date_time, group_digits, parse_rfc3339, percent, runs_out};
use crate::i18n::{alert_type_text, delivery_text, fill, state_text, t, K};
use crate::overview::Row;
use crate::pages::overview::plain;

/// Everything the page shows for one window.
#[derive(Clone)]
struct Detail {
    trend: balance_alert_model::wire::TrendData,
    alerts: Vec<AlertRow>,
    credit: Option<CreditRow>,
}

fn dec(d: balance_alert_model::Decimal) -> f64 {
    d.to_string().parse().unwrap_or(f64::NAN)
}

async fn load(ctx: Ctx, id: String, days: u32) -> Result<Detail, api::ApiErr> {
    let trend: Trend = api::get(
        &ctx,
        &format!("/api/history/trend/{}?days={days}", enc(&id)),
    )
    .await?;
    let alerts: AlertHistory = api::get(
        &ctx,
        &format!(
            "/api/history/alerts?project_id={}&days={days}&limit=200&lang={}",
            enc(&id),
            ctx.lang.get_untracked().code()
        ),
    )
    .await?;
    let credits: Credits = api::get(&ctx, "/api/credits").await?;
    let credit = credits
        .projects
        .into_iter()
        .find(|c| c.project_id == trend.data.project_id);
    Ok(Detail {
        trend: trend.data,
        alerts: alerts.data,
        credit,
    })
}

/// Each channel's delivery of an alert, as chips.
pub fn deliveries(a: &AlertRow, lang: crate::i18n::Lang) -> impl IntoView {
    if a.deliveries.is_empty() {
        return view! { <span class="muted">{t(lang, K::delivery_none)}</span> }.into_any();
    }
    a.deliveries
        .iter()
        .map(|d| {
            let status = d.status.as_str();
            let title = format!(
                "{}{}",
                fill(t(lang, K::attempts), &[&d.attempts.to_string()]),
                d.error
                    .as_ref()
                    .map(|e| format!(" — {e}"))
                    .unwrap_or_default()
            );
            view! {
                <span class=format!("chip d-{status}") title=title>
                    {d.channel.clone()}": "{delivery_text(lang, status)}
                </span>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
pub fn ProjectPage(
    /// The project: its id, `provider:name` or unique name.
    id: String,
) -> impl IntoView {
    let ctx = ctx();
    let id = StoredValue::new(id);
    let days = RwSignal::new(7u32);
    let detail: RwSignal<Load<Detail>> = RwSignal::new(Load::Loading);
    let message = RwSignal::new(None::<(bool, String)>);
    let reload = move || {
        let (id, days) = (id.get_value(), days.get_untracked());
        leptos::task::spawn_local(async move {
            let result = load(ctx, id, days).await;
            detail.set(match result {
                Ok(d) => Load::Ready(d),
                Err(e) => Load::Failed(e),
            });
        });
    };
    Effect::new(move |_| {
        let _ = days.get();
        detail.set(Load::Loading);
        reload();
    });

    let threshold_input = RwSignal::new(String::new());
    let save_threshold = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let lang = ctx.lang.get_untracked();
        let raw = threshold_input.get_untracked();
        let value: Option<f64> = raw
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| *v >= 0.0 && v.is_finite());
        let Some(value) = value else {
            message.set(Some((
                true,
                fill(t(lang, K::val_number), &[t(lang, K::col_threshold)]),
            )));
            return;
        };
        let body = serde_json::json!({ "project_name": id.get_value(), "new_threshold": value });
        leptos::task::spawn_local(async move {
            match api::send::<EditResponse, _>(&ctx, Method::Post, "/api/config/threshold", &body)
                .await
            {
                Ok(_) => {
                    message.set(Some((false, t(lang, K::saved).to_owned())));
                    reload();
                }
                Err(e) => message.set(Some((true, e.text(lang)))),
            }
        });
    };

    let act = move |path: String, body: serde_json::Value| {
        let lang = ctx.lang.get_untracked();
        leptos::task::spawn_local(async move {
            match api::send::<serde_json::Value, _>(&ctx, Method::Post, &path, &body).await {
                Ok(_) => {
                    message.set(Some((false, t(lang, K::saved).to_owned())));
                    reload();
                }
                Err(e) => message.set(Some((true, e.text(lang)))),
            }
        });
    };

    let retry = Callback::new(move |_| {
        detail.set(Load::Loading);
        reload();
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
                let money = |v: Option<balance_alert_model::Decimal>| {
                    v.map_or_else(|| "—".to_owned(), |v| amount(dec(v), &cur, lang))
                };
                let row = d.credit.as_ref().map(|c| Row::new(c, &[], now()));
                let critical = d
                    .credit
                    .as_ref()
                    .and_then(|c| c.critical_threshold)
                    .map(dec);
                let threshold = tr.threshold.map(dec).unwrap_or(0.0);
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
                let project_ref = tr.project_id.clone();
                let (p1, p2, p3) = (project_ref.clone(), project_ref.clone(), project_ref);
                let fc = tr.forecast.clone();
                let alerts_view = if d.alerts.is_empty() {
                    view! { <p class="muted">{t(lang, K::no_alerts)}</p> }.into_any()
                } else {
                    view! {
                        <table class="alerts">
                            <thead><tr>
                                <th scope="col">{t(lang, K::col_time)}</th><th scope="col">{t(lang, K::col_type)}</th>
                                <th scope="col">{t(lang, K::col_message)}</th><th scope="col">{t(lang, K::col_delivery)}</th><th scope="col">{t(lang, K::col_actions)}</th>
                            </tr></thead>
                            <tbody>{d.alerts.iter().take(20).map(|a| {
                                let ts = parse_rfc3339(&a.timestamp).map_or_else(|| a.timestamp.clone(), |s| date_time(s, offset, lang));
                                let alert_id = a.id.clone();
                                let acked = a.acknowledged;
                                view! {
                                    <tr>
                                        <td>{ts}</td>
                                        <td>{alert_type_text(lang, &a.alert_type)}</td>
                                        <td class="msg">{a.message.clone()}</td>
                                        <td>{deliveries(a, lang)}</td>
                                        <td>{if acked { view! { <span class="muted">{t(lang, K::acked)}</span> }.into_any() } else {
                                            view! { <button class="ack" on:click=move |_| act(format!("/api/alerts/{}/ack", enc(&alert_id)), serde_json::json!({}))>{t(lang, K::ack)}</button> }.into_any()
                                        }}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any()
                };
                view! {
                    <div class="detail-head">
                        <h1 id="project-name">{tr.project_name.clone().unwrap_or_default()}</h1>
                        <span class="muted">{tr.provider.clone().unwrap_or_default()}
                            {d.credit.as_ref().and_then(|c| c.owner_project.clone()).map(|o| format!(" · {o}"))}</span>
                        {row.as_ref().map(|r| view! { <StateBadge state=r.shown_state().to_owned()/> })}
                    </div>
                    <div class="ranges" role="group" aria-label=t(lang, K::range_label)>{ranges}</div>
                    <TrendChart trend=tr.clone() alerts=d.alerts.clone() critical=critical/>
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
                    <form class="threshold" on:submit=save_threshold>
                        <label for="threshold-input">{t(lang, K::threshold_edit)}" ("{cur.clone()}")"</label>
                        <input id="threshold-input" type="number" min="0" step="any" required
                            prop:value=move || threshold_input.get()
                            on:input=move |ev| threshold_input.set(event_target_value(&ev))/>
                        <button type="submit" class="primary" id="threshold-save">{t(lang, K::save)}</button>
                        <span class="muted">{t(lang, K::col_threshold)}": "{amount(threshold, &cur, lang)}
                            {critical.map(|c| format!(" · {}: {}", t(lang, K::legend_critical), group_digits(c, 2)))}</span>
                    </form>
                    <div class="snooze">
                        <span id="state-text">{row.as_ref().map(|r| state_text(lang, r.shown_state()))}</span>
                        {snooze_text.map(|s| view! { <span class="muted">" "{s}</span> })}
                        <button on:click=move |_| act(format!("/api/projects/{}/snooze", enc(&p1)), serde_json::json!({"until": now() + 86_400}))>{t(lang, K::snooze_24h)}</button>
                        <button on:click=move |_| act(format!("/api/projects/{}/snooze", enc(&p2)), serde_json::json!({"until_topped_up": true}))>{t(lang, K::snooze_topup)}</button>
                        <button on:click=move |_| act(format!("/api/projects/{}/snooze", enc(&p3)), serde_json::json!({"clear": true}))>{t(lang, K::snooze_clear)}</button>
                    </div>
                    <h2>{t(lang, K::recent_alerts)}</h2>
                    {alerts_view}
                }
                .into_any()
            }
        }
    };

    view! {
        <section class="project">
            <Link href="/".to_owned() exact=true>{move || ctx.t(K::detail_back)}</Link>
            {move || message.get().map(|(bad, m)| view! { <p id="message" class=if bad { "error" } else { "ok-note" } role="status">{m}</p> })}
            {content}
        </section>
    }
}
