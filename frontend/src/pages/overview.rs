//! Overview: every project as a row (a card on a phone), summary counts, search, filters,
//! sorting, 50 rows per page, auto-refresh with ETags and "check now".

use std::time::Duration;

use crate::router::Link;
use balance_alert_model::wire::{CreditRow, Credits, Sparklines};
use leptos::prelude::*;

use crate::api::{self, ApiErr, Method};
use crate::app::{ctx, now, utc_offset_minutes, Ctx};
use crate::components::widgets::{ErrorNote, Load, Loading, Sparkline, StateBadge};
use crate::format::{amount, date_time, group_digits, parse_rfc3339, runs_out};
use crate::i18n::{figure_text, fill, state_text, K};
use crate::overview::{
    counts, distinct, group_sparklines, page_bounds, select, sparkline_forecasts, Col, Filter, Row,
};

const PER_PAGE: usize = 50;
const REFRESH_EVERY: Duration = Duration::from_secs(30);

fn build_rows(credits: &Credits, sparklines: &Sparklines) -> Vec<Row> {
    let grouped = group_sparklines(sparklines);
    let forecasts = sparkline_forecasts(sparklines);
    let t = now();
    credits
        .projects
        .iter()
        .map(|c: &CreditRow| {
            Row::new(
                c,
                grouped.get(&c.project_id).map_or(&[][..], Vec::as_slice),
                t,
            )
            .with_forecast(forecasts.get(&c.project_id).cloned())
        })
        .collect()
}

/// Loads credits (only when changed, unless `force`) and the week's sparklines (one bounded
/// series per project, whatever the history's length).
async fn load(
    ctx: Ctx,
    force: bool,
    rows: RwSignal<Load<Vec<Row>>>,
    updated: RwSignal<Option<String>>,
) {
    let credits = if force {
        api::get::<Credits>(&ctx, "/api/credits").await.map(Some)
    } else {
        api::get_if_changed::<Credits>(&ctx, "/api/credits").await
    };
    let credits = match credits {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => {
            rows.set(Load::Failed(e));
            return;
        }
    };
    let history = api::get::<Sparklines>(&ctx, "/api/history/sparklines?days=7&points=48").await;
    match history {
        Ok(h) => {
            updated.set(credits.last_update.clone());
            rows.set(Load::Ready(build_rows(&credits, &h)));
        }
        Err(e) => rows.set(Load::Failed(e)),
    }
}

fn col_key(c: Col) -> K {
    match c {
        Col::Name => K::col_name,
        Col::Owner => K::col_owner,
        Col::Provider => K::col_provider,
        Col::Figure => K::col_kind,
        Col::Value => K::col_value,
        Col::Threshold => K::col_threshold,
        Col::State => K::col_state,
        Col::Forecast => K::col_forecast,
    }
}

fn col_id(c: Col) -> &'static str {
    match c {
        Col::Name => "name",
        Col::Owner => "owner",
        Col::Provider => "provider",
        Col::Figure => "figure",
        Col::Value => "value",
        Col::Threshold => "threshold",
        Col::State => "state",
        Col::Forecast => "forecast",
    }
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let ctx = ctx();
    let rows: RwSignal<Load<Vec<Row>>> = RwSignal::new(Load::Loading);
    let updated = RwSignal::new(None::<String>);
    let filter = RwSignal::new(Filter::default());
    let sort = RwSignal::new((Col::State, true));
    let page = RwSignal::new(0usize);
    let message = RwSignal::new(None::<(bool, String)>);
    let checking = RwSignal::new(false);

    leptos::task::spawn_local(load(ctx, true, rows, updated));
    if let Ok(handle) = set_interval_with_handle(
        move || leptos::task::spawn_local(load(ctx, false, rows, updated)),
        REFRESH_EVERY,
    ) {
        on_cleanup(move || handle.clear());
    }

    let selected = Memo::new(move |_| {
        let (col, desc) = sort.get();
        let f = filter.get();
        rows.with(|r| match r {
            Load::Ready(r) => select(r, &f, col, desc),
            _ => Vec::new(),
        })
    });

    let check_now = move |_| {
        checking.set(true);
        message.set(None);
        leptos::task::spawn_local(async move {
            // Only the message is shown: the report's own types need not be decoded here.
            let result = api::send::<serde_json::Value, _>(
                &ctx,
                Method::Post,
                "/api/refresh",
                &serde_json::json!({}),
            )
            .await;
            checking.set(false);
            let lang = ctx.lang.get_untracked();
            match result {
                Ok(r) => {
                    let text = r
                        .get("message")
                        .and_then(|m| m.as_str())
                        .unwrap_or_default();
                    message.set(Some((
                        false,
                        fill(crate::i18n::t(lang, K::check_done), &[text]),
                    )));
                    load(ctx, true, rows, updated).await;
                }
                Err(ApiErr {
                    status: 429,
                    retry_after,
                    ..
                }) => {
                    let secs = retry_after.map_or_else(|| "?".to_owned(), |s| s.to_string());
                    message.set(Some((
                        true,
                        fill(crate::i18n::t(lang, K::cooldown), &[&secs]),
                    )));
                }
                Err(e) => message.set(Some((true, e.text(lang)))),
            }
        });
    };

    let summary = move || {
        rows.with(|r| match r {
            Load::Ready(r) => {
                let c = counts(r);
                let lang = ctx.lang.get();
                let item = |state: &'static str, n: usize| {
                    view! {
                        <button class=format!("count s-{state}") aria-pressed=move || (filter.with(|f| f.state == state)).to_string()
                            on:click=move |_| { filter.update(|f| f.state = if f.state == state { String::new() } else { state.to_owned() }); page.set(0); }>
                            <span class="n">{n}</span>" "<span>{state_text(lang, state)}</span>
                        </button>
                    }
                };
                view! {
                    <div class="summary" aria-label="summary">
                        <span class="count total"><span class="n">{c.total}</span>" "{crate::i18n::t(lang, K::sum_total)}</span>
                        {item("ok", c.ok)}{item("low", c.low)}{item("critical", c.critical)}
                        {item("failing", c.failing)}{item("snoozed", c.snoozed)}{item("unknown", c.unknown)}
                    </div>
                }
                .into_any()
            }
            _ => ().into_any(),
        })
    };

    let options = move |field: fn(&Row) -> &str| {
        rows.with(|r| match r {
            Load::Ready(r) => distinct(r, field),
            _ => Vec::new(),
        })
    };

    let controls = move || {
        view! {
            <div class="controls">
                <label>{move || ctx.t(K::search_label)}
                    <input id="search" type="search" placeholder=move || ctx.t(K::search_placeholder)
                        prop:value=move || filter.with(|f| f.text.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); filter.update(|f| f.text = v); page.set(0); }/>
                </label>
                <label>{move || ctx.t(K::filter_state)}
                    <select id="filter-state" on:change=move |ev| { let v = event_target_value(&ev); filter.update(|f| f.state = v); page.set(0); }
                        prop:value=move || filter.with(|f| f.state.clone())>
                        <option value="">{move || ctx.t(K::filter_all)}</option>
                        {["ok", "low", "critical", "failing", "snoozed", "unknown"].into_iter().map(|s| view! {
                            <option value=s>{move || state_text(ctx.lang.get(), s)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>{move || ctx.t(K::filter_owner)}
                    <select id="filter-owner" on:change=move |ev| { let v = event_target_value(&ev); filter.update(|f| f.owner = v); page.set(0); }>
                        <option value="">{move || ctx.t(K::filter_all)}</option>
                        {move || options(|r| r.owner.as_str()).into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>{move || ctx.t(K::filter_provider)}
                    <select id="filter-provider" on:change=move |ev| { let v = event_target_value(&ev); filter.update(|f| f.provider = v); page.set(0); }>
                        <option value="">{move || ctx.t(K::filter_all)}</option>
                        {move || options(|r| r.provider.as_str()).into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                    </select>
                </label>
            </div>
        }
    };

    let header = move || {
        let sortable = Col::ALL
            .into_iter()
            .map(|c| {
                let aria = move || {
                    let (col, desc) = sort.get();
                    if col == c { if desc { "descending" } else { "ascending" } } else { "none" }
                };
                let arrow = move || {
                    let (col, desc) = sort.get();
                    if col == c { if desc { " ▼" } else { " ▲" } } else { "" }
                };
                view! {
                    <th scope="col" aria-sort=aria class=format!("c-{}", col_id(c))>
                        <button class="sort" id=format!("sort-{}", col_id(c))
                            title=move || fill(ctx.t(K::sort_by), &[ctx.t(col_key(c))])
                            on:click=move |_| sort.update(|(col, desc)| { if *col == c { *desc = !*desc } else { *col = c; *desc = false } })>
                            {move || ctx.t(col_key(c))}{arrow}
                        </button>
                    </th>
                }
                .into_any()
            });
        // The sparkline column (not sortable) sits between the state and the forecast.
        let mut cells: Vec<AnyView> = sortable.collect();
        cells.insert(
            7,
            view! { <th scope="col" class="c-trend">{move || ctx.t(K::col_trend)}</th> }.into_any(),
        );
        cells
    };

    let body = move || {
        let idx = selected.get();
        let lang = ctx.lang.get();
        let (start, end, _, _) = page_bounds(idx.len(), page.get(), PER_PAGE);
        rows.with(|r| {
            let Load::Ready(r) = r else { return ().into_any() };
            if idx.is_empty() {
                return view! { <tr><td colspan="9" class="muted">{crate::i18n::t(lang, K::no_projects)}</td></tr> }.into_any();
            }
            idx[start..end]
                .iter()
                .map(|&i| {
                    let row = &r[i];
                    let href = format!("/projects/{}", row.id);
                    let value = row.value.map_or_else(|| "—".to_owned(), |v| amount(v, &row.currency, lang));
                    let threshold = if row.unlimited {
                        crate::i18n::t(lang, K::no_limit).to_owned()
                    } else {
                        amount(row.threshold, &row.currency, lang)
                    };
                    // An estimate is marked as such; the reading's note sits under the figure.
                    let estimate = row.estimate.then(|| view! {
                        <span class="estimate" title=crate::i18n::t(lang, K::estimate_hint)>{format!(" ~ {}", crate::i18n::t(lang, K::estimate))}</span>
                    });
                    let reading_note = row.note.clone().map(|n| view! { <div class="note reading-note">{n}</div> });
                    let note = row.error.clone().or_else(|| row.stale_reason.as_ref().map(|s| fill(crate::i18n::t(lang, K::stale), &[s])));
                    let t = |k| crate::i18n::t(lang, k);
                    let name = row.name.clone();
                    view! {
                        <tr class=format!("row s-{}", row.shown_state()) data-project=row.name.clone()>
                            <td class="c-name" data-label=t(K::col_name)><Link href=href>{name}</Link>
                                {note.map(|n| view! { <div class="note">{n}</div> })}</td>
                            <td class="c-owner" data-label=t(K::col_owner)>{row.owner.clone()}</td>
                            <td class="c-provider" data-label=t(K::col_provider)>{row.provider.clone()}</td>
                            <td class="c-figure" data-label=t(K::col_kind)>{figure_text(lang, row.figure)}</td>
                            <td class="c-value num" data-label=t(K::col_value)>{value}{estimate}{reading_note}</td>
                            <td class="c-threshold num" data-label=t(K::col_threshold)>{threshold}</td>
                            <td class="c-state" data-label=t(K::col_state)><StateBadge state=row.shown_state().to_owned()/></td>
                            <td class="c-trend" data-label=t(K::col_trend)><Sparkline values=row.spark.clone()/></td>
                            <td class="c-forecast" data-label=t(K::col_forecast)>{runs_out(row.forecast.as_ref(), lang)}</td>
                        </tr>
                    }
                })
                .collect_view()
                .into_any()
        })
    };

    let pager = move || {
        let len = selected.with(Vec::len);
        let total = rows.with(|r| if let Load::Ready(r) = r { r.len() } else { 0 });
        let (start, end, p, pages) = page_bounds(len, page.get(), PER_PAGE);
        let lang = ctx.lang.get();
        view! {
            <div class="pager">
                <span id="showing" role="status">{fill(crate::i18n::t(lang, K::showing), &[&format!("{}–{}", if len == 0 { 0 } else { start + 1 }, end), &total.to_string()])}
                    {if len != total { format!(" ({len})") } else { String::new() }}</span>
                <button id="page-prev" disabled=move || p == 0 on:click=move |_| page.set(p.saturating_sub(1))>{crate::i18n::t(lang, K::page_prev)}</button>
                <span>{fill(crate::i18n::t(lang, K::page_of), &[&(p + 1).to_string(), &pages.to_string()])}</span>
                <button id="page-next" disabled=move || { p + 1 >= pages } on:click=move |_| page.set(p + 1)>{crate::i18n::t(lang, K::page_next)}</button>
            </div>
        }
    };

    // The page's frame re-renders only when loading starts, fails or ends, never on a
    // refresh with new figures (that would recreate the search box under the reader's hands).
    let phase = Memo::new(move |_| {
        rows.with(|r| match r {
            Load::Loading => Some(None),
            Load::Failed(e) => Some(Some(e.clone())),
            Load::Ready(_) => None,
        })
    });

    let retry = Callback::new(move |_| {
        rows.set(Load::Loading);
        leptos::task::spawn_local(load(ctx, true, rows, updated));
    });

    view! {
        <section class="overview">
            <div class="titlebar">
                <h1>{move || ctx.t(K::nav_overview)}</h1>
                <span class="muted" id="last-update">{move || {
                    let lang = ctx.lang.get();
                    let when = updated.get().and_then(|u| parse_rfc3339(&u)).map_or_else(
                        || crate::i18n::t(lang, K::never).to_owned(),
                        |ts| date_time(ts, utc_offset_minutes(), lang));
                    fill(crate::i18n::t(lang, K::last_update), &[&when])
                }}</span>
                <button id="check-now" class="primary" disabled=move || checking.get() on:click=check_now>
                    {move || if checking.get() { ctx.t(K::checking) } else { ctx.t(K::check_now) }}
                </button>
            </div>
            {move || message.get().map(|(bad, m)| view! { <p id="message" class=if bad { "error" } else { "ok-note" } role="status">{m}</p> })}
            {move || match phase.get() {
                Some(None) => view! { <Loading/> }.into_any(),
                Some(Some(e)) => view! { <ErrorNote err=e retry=retry/> }.into_any(),
                None => view! {
                    {summary}
                    {controls}
                    <table class="projects" id="projects">
                        <thead><tr>{header}</tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                    {pager}
                }.into_any(),
            }}
        </section>
    }
}

/// Plain number for a threshold input.
pub fn plain(v: f64) -> String {
    group_digits(v, 2).replace(',', "")
}
