//! Alert history, filtered by type, project, state and days, with each channel's delivery
//! (the table is `table.rs`).

mod table;

use balance_alert_model::wire::AlertRow;
use leptos::prelude::*;

use crate::client;
use crate::components::widgets::{ErrorNote, Load, Loading};
use crate::ctx::{ctx, utc_offset_minutes, Ctx};
use crate::i18n::{alert_type_text, state_text, K};

use table::alert_table;

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
    let project = (!project.is_empty()).then_some(project.as_str());
    out.set(
        match client::alert_history(&ctx, project, days, 1000).await {
            Ok(h) => Load::Ready(h.data),
            Err(e) => Load::Failed(e),
        },
    );
}

/// Every project as (id, "name (provider)") for the project filter.
async fn project_options(ctx: Ctx, out: RwSignal<Vec<(String, String)>>) {
    if let Ok(c) = client::credits(&ctx).await {
        out.set(
            c.projects
                .into_iter()
                .map(|p| (p.project_id, format!("{} ({})", p.project, p.provider)))
                .collect(),
        );
    }
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
    leptos::task::spawn_local(project_options(ctx, projects));
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
                alert_table(shown, lang, offset)
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
