//! The overview's summary counts (each a filter button) and its search box and selects.

use leptos::prelude::*;

use super::state::Overview;
use crate::components::widgets::Load;
use crate::ctx::ctx;
use crate::i18n::{state_text, t, K};
use crate::overview_rows::{counts, distinct, Row};

/// Projects per state; a count's button filters by its state (again: shows all).
#[component]
pub(super) fn Summary(state: Overview) -> impl IntoView {
    let ctx = ctx();
    let Overview {
        rows, filter, page, ..
    } = state;
    move || {
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
                        <span class="count total"><span class="n">{c.total}</span>" "{t(lang, K::sum_total)}</span>
                        {item("ok", c.ok)}{item("low", c.low)}{item("critical", c.critical)}
                        {item("failing", c.failing)}{item("snoozed", c.snoozed)}{item("unknown", c.unknown)}
                    </div>
                }
                .into_any()
            }
            _ => ().into_any(),
        })
    }
}

/// The search box and the state, owner and provider selects; each change goes to page 1.
#[component]
pub(super) fn Controls(state: Overview) -> impl IntoView {
    let ctx = ctx();
    let Overview {
        rows, filter, page, ..
    } = state;
    let options = move |field: fn(&Row) -> &str| {
        rows.with(|r| match r {
            Load::Ready(r) => distinct(r, field),
            _ => Vec::new(),
        })
    };
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
}
