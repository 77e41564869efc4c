//! Alert history, filtered by type, project, state and days, with each channel's delivery.

use balance_alert_model::wire::{AlertHistory, AlertRow, Credits};
use leptos::prelude::*;

use crate::api::{self, enc};
use crate::app::{ctx, utc_offset_minutes, Ctx};
use crate::components::widgets::{ErrorNote, Load, Loading, StateBadge};
use crate::format::{amount, date_time, parse_rfc3339};
use crate::i18n::{alert_type_text, fill, state_text, t, K};
use crate::pages::project::deliveries;
use crate::router::Link;

const KINDS: [&str; 8] = [
    "low",
    "critical",
    "failing",
    "recovered",
    "reminder",
    "renewal",
    "forecast",
    "email",
];

async fn load(ctx: Ctx, days: u32, project: String, out: RwSignal<Load<Vec<AlertRow>>>) {
    // Messages in the viewer's language (the server renders them from the stored facts).
    let lang = ctx.lang.get_untracked().code();
    let mut path = format!("/api/history/alerts?days={days}&limit=1000&lang={lang}");
    if !project.is_empty() {
        path.push_str(&format!("&project_id={}", enc(&project)));
    }
    out.set(match api::get::<AlertHistory>(&ctx, &path).await {
        Ok(h) => Load::Ready(h.data),
        Err(e) => Load::Failed(e),
    });
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let ctx = ctx();
    let days = RwSignal::new(7u32);
    let project = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let alerts: RwSignal<Load<Vec<AlertRow>>> = RwSignal::new(Load::Loading);
    let projects = RwSignal::new(Vec::<(String, String)>::new());
    leptos::task::spawn_local(async move {
        if let Ok(c) = api::get::<Credits>(&ctx, "/api/credits").await {
            projects.set(
                c.projects
                    .into_iter()
                    .map(|p| (p.project_id, format!("{} ({})", p.project, p.provider)))
                    .collect(),
            );
        }
    });
    Effect::new(move |_| {
        let (d, p) = (days.get(), project.get());
        alerts.set(Load::Loading);
        leptos::task::spawn_local(load(ctx, d, p, alerts));
    });
    let retry = Callback::new(move |_| {
        leptos::task::spawn_local(load(
            ctx,
            days.get_untracked(),
            project.get_untracked(),
            alerts,
        ))
    });

    let rows = move || {
        let lang = ctx.lang.get();
        let offset = utc_offset_minutes();
        let (k, s) = (kind.get(), state.get());
        match alerts.get() {
            Load::Loading => view! { <Loading/> }.into_any(),
            Load::Failed(e) => view! { <ErrorNote err=e retry=retry/> }.into_any(),
            Load::Ready(list) => {
                let shown: Vec<AlertRow> = list
                    .into_iter()
                    .filter(|a| {
                        (k.is_empty() || a.alert_type == k) && (s.is_empty() || a.state == s)
                    })
                    .collect();
                if shown.is_empty() {
                    return view! { <p class="muted">{t(lang, K::no_alerts)}</p> }.into_any();
                }
                view! {
                    <p class="muted" role="status">{fill(t(lang, K::alerts_count), &[&shown.len().to_string()])}</p>
                    <table class="alerts" id="alerts">
                        <thead><tr>
                            <th scope="col">{t(lang, K::col_time)}</th><th scope="col">{t(lang, K::col_name)}</th>
                            <th scope="col">{t(lang, K::col_type)}</th><th scope="col">{t(lang, K::col_state)}</th>
                            <th scope="col">{t(lang, K::col_value)}</th><th scope="col">{t(lang, K::col_message)}</th>
                            <th scope="col">{t(lang, K::col_delivery)}</th>
                        </tr></thead>
                        <tbody>{shown.iter().map(|a| {
                            let ts = parse_rfc3339(&a.timestamp).map_or_else(|| a.timestamp.clone(), |s| date_time(s, offset, lang));
                            view! {
                                <tr>
                                    <td data-label=t(lang, K::col_time)>{ts}</td>
                                    <td data-label=t(lang, K::col_name)>{if a.provider == "subscription" {
                                        view! { <span>{a.project_name.clone()}</span> }.into_any()
                                    } else {
                                        let name = a.project_name.clone();
                                        view! { <Link href=format!("/projects/{}", a.project_id)>{name}</Link> }.into_any()
                                    }}</td>
                                    <td data-label=t(lang, K::col_type)>{alert_type_text(lang, &a.alert_type)}</td>
                                    <td data-label=t(lang, K::col_state)><StateBadge state=a.state.clone()/></td>
                                    <td class="num" data-label=t(lang, K::col_value)>{a.balance.map(|b| amount(b.to_string().parse().unwrap_or(f64::NAN), &a.currency, lang))}</td>
                                    <td class="msg" data-label=t(lang, K::col_message)>{a.message.clone()}</td>
                                    <td data-label=t(lang, K::col_delivery)>{deliveries(a, lang)}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }
                .into_any()
            }
        }
    };

    view! {
        <section class="alerts-page">
            <h1>{move || ctx.t(K::nav_alerts)}</h1>
            <div class="controls">
                <label>{move || ctx.t(K::filter_kind)}
                    <select id="alerts-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="">{move || ctx.t(K::filter_all)}</option>
                        {KINDS.into_iter().map(|k| view! { <option value=k>{move || alert_type_text(ctx.lang.get(), k)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{move || ctx.t(K::filter_project)}
                    <select id="alerts-project" on:change=move |ev| project.set(event_target_value(&ev))>
                        <option value="">{move || ctx.t(K::filter_all)}</option>
                        {move || projects.get().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                </label>
                <label>{move || ctx.t(K::filter_state)}
                    <select id="alerts-state" on:change=move |ev| state.set(event_target_value(&ev))>
                        <option value="">{move || ctx.t(K::filter_all)}</option>
                        {["ok", "low", "critical", "failing"].into_iter().map(|s| view! { <option value=s>{move || state_text(ctx.lang.get(), s)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{move || ctx.t(K::filter_days)}
                    <select id="alerts-days" on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(7))>
                        {[1u32, 7, 30, 90].into_iter().map(|d| view! { <option value=d.to_string() selected=d == 7>{d}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            {rows}
        </section>
    }
}
