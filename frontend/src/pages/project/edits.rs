//! A project's edits: its threshold, changed in place, and its reminders snoozed.

use leptos::prelude::*;

use super::state::Project;
use crate::client::{self, Snooze};
use crate::ctx::now;
use crate::format::{amount, group_digits};
use crate::i18n::{fill, state_text, t, Lang, K};

/// The threshold's input, checked (a number ≥ 0) before it is sent.
#[component]
pub(super) fn ThresholdForm(
    page: Project,
    /// The input as typed.
    input: RwSignal<String>,
    /// The threshold now.
    threshold: f64,
    critical: Option<f64>,
    currency: String,
    lang: Lang,
) -> impl IntoView {
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let lang = page.ctx.lang.get_untracked();
        let value: Option<f64> = input
            .get_untracked()
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| *v >= 0.0 && v.is_finite());
        let Some(value) = value else {
            page.message.set(Some((
                true,
                fill(t(lang, K::val_number), &[t(lang, K::col_threshold)]),
            )));
            return;
        };
        let (ctx, id) = (page.ctx, page.id.get_value());
        page.edit(async move { client::set_threshold(&ctx, &id, value).await });
    };
    view! {
        <form class="threshold" on:submit=save>
            <label for="threshold-input">{t(lang, K::threshold_edit)}" ("{currency.clone()}")"</label>
            <input id="threshold-input" type="number" min="0" step="any" required
                prop:value=move || input.get()
                on:input=move |ev| input.set(event_target_value(&ev))/>
            <button type="submit" class="primary" id="threshold-save">{t(lang, K::save)}</button>
            <span class="muted">{t(lang, K::col_threshold)}": "{amount(threshold, &currency, lang)}
                {critical.map(|c| format!(" · {}: {}", t(lang, K::legend_critical), group_digits(c, 2)))}</span>
        </form>
    }
}

/// The state, the snooze in force, and snooze for a day, until topped up, or no longer.
#[component]
pub(super) fn SnoozeBar(
    page: Project,
    project_id: String,
    /// The state as shown (`snoozed` while a snooze holds), when the project has a reading.
    shown_state: Option<String>,
    /// Until when the reminders are held back, when they are.
    snooze_text: Option<String>,
    lang: Lang,
) -> impl IntoView {
    let id = StoredValue::new(project_id);
    let snooze = move |how: Snooze| {
        let (ctx, id) = (page.ctx, id.get_value());
        page.edit(async move { client::snooze(&ctx, &id, how).await });
    };
    view! {
        <div class="snooze">
            <span id="state-text">{shown_state.map(|s| state_text(lang, &s))}</span>
            {snooze_text.map(|s| view! { <span class="muted">" "{s}</span> })}
            <button on:click=move |_| snooze(Snooze::Until(now() + 86_400))>{t(lang, K::snooze_24h)}</button>
            <button on:click=move |_| snooze(Snooze::UntilToppedUp)>{t(lang, K::snooze_topup)}</button>
            <button on:click=move |_| snooze(Snooze::Clear)>{t(lang, K::snooze_clear)}</button>
        </div>
    }
}
