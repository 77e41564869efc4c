//! The subscription form: add, or edit the one picked in the table. Checked before sending
//! (`crate::validate`), each problem shown under its field.

use leptos::prelude::*;

use super::state::Subscriptions;
use crate::client;
use crate::ctx::ctx;
use crate::i18n::{cycle_text, fill, K};
use crate::validate::{subscription, Problem, SubForm};

/// One labelled input of the form, with its problem (if any) tied to it for screen readers.
fn field(
    id: &'static str,
    label: K,
    kind: &'static str,
    form: RwSignal<SubForm>,
    get: fn(&SubForm) -> String,
    set: fn(&mut SubForm, String),
    problems: RwSignal<Vec<Problem>>,
) -> impl IntoView {
    let ctx = ctx();
    let problem =
        move || problems.with(|p| p.iter().find(|(f, _)| *f == id).map(|(_, m)| m.clone()));
    let input_id = format!("sub-{id}");
    let err_id = format!("sub-{id}-error");
    view! {
        <div class="field" class:invalid=move || problem().is_some()>
            <label for=input_id.clone()>{move || ctx.t(label)}</label>
            <input id=input_id type=kind name=id
                aria-invalid=move || problem().is_some().to_string()
                aria-describedby=err_id.clone()
                prop:value=move || form.with(get)
                on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| set(f, v)); }/>
            <span class="field-error" id=err_id>{problem}</span>
        </div>
    }
}

/// The form; its title and button say whether it adds or saves an edit.
#[component]
pub(super) fn SubscriptionForm(page: Subscriptions) -> impl IntoView {
    let Subscriptions {
        ctx,
        form,
        editing,
        problems,
        ..
    } = page;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let lang = ctx.lang.get_untracked();
        let input = match subscription(&form.get_untracked(), lang) {
            Ok(b) => b,
            Err(p) => {
                problems.set(p);
                return;
            }
        };
        problems.set(Vec::new());
        let old_name = editing.get_untracked();
        let done = if old_name.is_some() {
            K::sub_updated
        } else {
            K::sub_added
        };
        let name = input.name.clone();
        page.edit(name, done, async move {
            let saved = client::save_subscription(&ctx, old_name.as_deref(), &input).await;
            if saved.is_ok() {
                form.set(SubForm::default());
                editing.set(None);
            }
            saved
        });
    };
    view! {
        <form class="sub-form" id="sub-form" on:submit=submit novalidate>
            <h2>{move || match editing.get() { Some(n) => fill(ctx.t(K::sub_edit_title), &[&n]), None => ctx.t(K::sub_add).to_owned() }}</h2>
            {field("name", K::sub_name, "text", form, |f| f.name.clone(), |f, v| f.name = v, problems)}
            {field("owner_project", K::sub_owner, "text", form, |f| f.owner_project.clone(), |f, v| f.owner_project = v, problems)}
            <div class="field">
                <label for="sub-cycle_type">{move || ctx.t(K::sub_cycle)}</label>
                <select id="sub-cycle_type" prop:value=move || form.with(|f| f.cycle_type.clone())
                    on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.cycle_type = v); }>
                    {["weekly", "monthly", "yearly", "every_n_days"].into_iter().map(|c| view! {
                        <option value=c selected=move || form.with(|f| f.cycle_type == c)>{move || cycle_text(ctx.lang.get(), c)}</option>
                    }).collect_view()}
                </select>
            </div>
            {field("renewal_day", K::sub_renewal_day, "text", form, |f| f.renewal_day.clone(), |f, v| f.renewal_day = v, problems)}
            <p class="hint">{move || ctx.t(K::hint_renewal_day)}</p>
            {move || (form.with(|f| f.cycle_type == "every_n_days")).then(|| view! {
                {field("interval_days", K::sub_interval, "text", form, |f| f.interval_days.clone(), |f, v| f.interval_days = v, problems)}
                {field("start_date", K::sub_start, "date", form, |f| f.start_date.clone(), |f, v| f.start_date = v, problems)}
            })}
            {field("alert_days_before", K::sub_alert_days, "text", form, |f| f.alert_days_before.clone(), |f, v| f.alert_days_before = v, problems)}
            {field("amount", K::sub_amount, "text", form, |f| f.amount.clone(), |f, v| f.amount = v, problems)}
            {field("currency", K::sub_currency, "text", form, |f| f.currency.clone(), |f, v| f.currency = v, problems)}
            <div class="field check">
                <input id="sub-enabled" type="checkbox" prop:checked=move || form.with(|f| f.enabled)
                    on:change=move |ev| { let v = event_target_checked(&ev); form.update(|f| f.enabled = v); }/>
                <label for="sub-enabled">{move || ctx.t(K::sub_enabled)}</label>
            </div>
            <div class="buttons">
                <button type="submit" class="primary" id="sub-submit">{move || if editing.get().is_some() { ctx.t(K::save) } else { ctx.t(K::sub_add) }}</button>
                {move || editing.get().is_some().then(|| view! {
                    <button type="button" on:click=move |_| { editing.set(None); form.set(SubForm::default()); problems.set(Vec::new()); }>{ctx.t(K::cancel)}</button>
                })}
            </div>
        </form>
    }
}
