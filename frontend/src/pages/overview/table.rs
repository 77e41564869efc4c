//! The overview's table (sortable headers, one row per project on the current page) and its
//! pager.

use leptos::prelude::*;

use super::state::{Overview, PER_PAGE};
use crate::components::widgets::{Load, Sparkline, StateBadge};
use crate::ctx::ctx;
use crate::format::{amount, runs_out};
use crate::i18n::{figure_text, fill, t, K};
use crate::navigation::Link;
use crate::overview_rows::{page_bounds, Col};

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

/// The column headers: a button per sortable column (again: the other direction), and the
/// sparkline's column.
fn header(state: Overview) -> Vec<AnyView> {
    let ctx = ctx();
    let sort = state.sort;
    let sortable = Col::ALL.into_iter().map(|c| {
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
}

/// The rows of the current page (a card each on a phone).
fn body(state: Overview) -> AnyView {
    let ctx = ctx();
    let idx = state.selected.get();
    let lang = ctx.lang.get();
    let (start, end, _, _) = page_bounds(idx.len(), state.page.get(), PER_PAGE);
    state.rows.with(|r| {
        let Load::Ready(r) = r else { return ().into_any() };
        if idx.is_empty() {
            return view! { <tr><td colspan="9" class="muted">{t(lang, K::no_projects)}</td></tr> }.into_any();
        }
        idx[start..end]
            .iter()
            .map(|&i| {
                let row = &r[i];
                let href = format!("/projects/{}", row.id);
                let value = row.value.map_or_else(|| "—".to_owned(), |v| amount(v, &row.currency, lang));
                let threshold = if row.unlimited {
                    t(lang, K::no_limit).to_owned()
                } else {
                    amount(row.threshold, &row.currency, lang)
                };
                // An estimate is marked as such; the reading's note sits under the figure.
                let estimate = row.estimate.then(|| view! {
                    <span class="estimate" title=t(lang, K::estimate_hint)>{format!(" ~ {}", t(lang, K::estimate))}</span>
                });
                let reading_note = row.note.clone().map(|n| view! { <div class="note reading-note">{n}</div> });
                let note = row.error.clone().or_else(|| row.stale_reason.as_ref().map(|s| fill(t(lang, K::stale), &[s])));
                let t = |k| t(lang, k);
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
}

/// The projects table.
#[component]
pub(super) fn ProjectTable(state: Overview) -> impl IntoView {
    view! {
        <table class="projects" id="projects">
            <thead><tr>{move || header(state)}</tr></thead>
            <tbody>{move || body(state)}</tbody>
        </table>
    }
}

/// "Showing 1–50 of 120", previous and next.
#[component]
pub(super) fn Pager(state: Overview) -> impl IntoView {
    let ctx = ctx();
    let Overview {
        rows,
        page,
        selected,
        ..
    } = state;
    move || {
        let len = selected.with(Vec::len);
        let total = rows.with(|r| if let Load::Ready(r) = r { r.len() } else { 0 });
        let (start, end, p, pages) = page_bounds(len, page.get(), PER_PAGE);
        let lang = ctx.lang.get();
        view! {
            <div class="pager">
                <span id="showing" role="status">{fill(t(lang, K::showing), &[&format!("{}–{}", if len == 0 { 0 } else { start + 1 }, end), &total.to_string()])}
                    {if len != total { format!(" ({len})") } else { String::new() }}</span>
                <button id="page-prev" disabled=move || p == 0 on:click=move |_| page.set(p.saturating_sub(1))>{t(lang, K::page_prev)}</button>
                <span>{fill(t(lang, K::page_of), &[&(p + 1).to_string(), &pages.to_string()])}</span>
                <button id="page-next" disabled=move || { p + 1 >= pages } on:click=move |_| page.set(p + 1)>{t(lang, K::page_next)}</button>
            </div>
        }
    }
}
