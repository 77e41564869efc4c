//! Small widgets: the state badge, the sparkline, loading and error notes, and the outcome
//! of an action.

use leptos::prelude::*;

use crate::chart::sparkline;
use crate::client::ApiErr;
use crate::ctx::ctx;
use crate::i18n::{state_text, K};

/// A project's state as a coloured badge with its text (never colour alone).
#[component]
pub fn StateBadge(
    /// `ok`, `low`, `critical`, `failing`, `unknown` or `snoozed`.
    state: String,
) -> impl IntoView {
    let ctx = ctx();
    let class = format!("badge s-{state}");
    view! { <span class=class>{move || state_text(ctx.lang.get(), &state)}</span> }
}

/// A 7-day sparkline; empty when there are fewer than two readings.
#[component]
pub fn Sparkline(
    /// Balances, oldest first.
    values: Vec<f64>,
) -> impl IntoView {
    let d = sparkline(&values, 80.0, 22.0);
    let falling = values.len() > 1 && values[values.len() - 1] < values[0];
    view! {
        <svg class="spark" class:falling=falling width="80" height="22" viewBox="0 0 80 22" aria-hidden="true">
            <path d=d fill="none" stroke-width="1.5"/>
        </svg>
    }
}

/// "Loading…", announced to screen readers.
#[component]
pub fn Loading() -> impl IntoView {
    let ctx = ctx();
    view! { <p class="loading" role="status">{move || ctx.t(K::loading)}</p> }
}

/// A failed call as a readable message with a retry button.
#[component]
pub fn ErrorNote(
    /// What failed.
    err: ApiErr,
    /// Runs the call again.
    retry: Callback<()>,
) -> impl IntoView {
    let ctx = ctx();
    view! {
        <div class="error" role="alert">
            <span>{move || err.text(ctx.lang.get())}</span>
            " "
            <button on:click=move |_| retry.run(())>{move || ctx.t(K::retry)}</button>
        </div>
    }
}

/// The outcome of the page's last action, when there is one: `(failed, text)`.
#[component]
pub fn ActionMessage(
    /// Set by the page's actions.
    message: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    move || {
        message.get().map(|(bad, m)| {
            view! { <p id="message" class=if bad { "error" } else { "ok-note" } role="status">{m}</p> }
        })
    }
}

/// Where an async load stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(ApiErr),
}
