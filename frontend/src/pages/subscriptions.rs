//! Subscriptions: days until renewal and status; add, edit, delete (confirmed in place) and
//! mark renewed. The form is checked before sending, each message naming its field.

use balance_alert_model::wire::{EditResponse, SubscriptionList, SubscriptionRow};
use leptos::prelude::*;

use crate::api::{self, Method};
use crate::app::{ctx, Ctx};
use crate::components::widgets::{ErrorNote, Load, Loading};
use crate::format::{amount, date, days_from_today, parse_date};
use crate::i18n::{cycle_text, fill, t, Lang, K};
use crate::validate::{subscription, Problem, SubForm};

fn dec(d: balance_alert_model::Decimal) -> f64 {
    d.to_string().parse().unwrap_or(f64::NAN)
}

fn form_of(s: &SubscriptionRow) -> SubForm {
    SubForm {
        name: s.name.clone(),
        owner_project: s.owner_project.clone().unwrap_or_default(),
        cycle_type: s.cycle_type.clone(),
        renewal_day: s.renewal_day.to_string(),
        alert_days_before: s.alert_days_before.to_string(),
        amount: s.amount.to_string(),
        currency: s.currency.clone(),
        interval_days: s.interval_days.map(|d| d.to_string()).unwrap_or_default(),
        start_date: s.start_date.clone().unwrap_or_default(),
        enabled: s.enabled,
    }
}

fn status_text(s: &SubscriptionRow, lang: Lang) -> (&'static str, &'static str) {
    if !s.enabled {
        ("disabled", t(lang, K::sub_status_disabled))
    } else if s.already_renewed {
        ("renewed", t(lang, K::sub_status_renewed))
    } else if s.need_alert {
        ("due", t(lang, K::sub_status_due))
    } else {
        ("upcoming", t(lang, K::sub_status_ok))
    }
}

async fn load(ctx: Ctx, list: RwSignal<Load<Vec<SubscriptionRow>>>) {
    match api::get::<SubscriptionList>(&ctx, "/api/subscriptions").await {
        Ok(l) => list.set(Load::Ready(l.subscriptions)),
        Err(e) => list.set(Load::Failed(e)),
    }
}

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

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let ctx = ctx();
    let list: RwSignal<Load<Vec<SubscriptionRow>>> = RwSignal::new(Load::Loading);
    let form = RwSignal::new(SubForm::default());
    // The name of the subscription being edited; None while adding.
    let editing = RwSignal::new(None::<String>);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let confirm_delete = RwSignal::new(None::<String>);
    leptos::task::spawn_local(load(ctx, list));

    let done = move |text: String| {
        message.set(Some((false, text)));
        leptos::task::spawn_local(load(ctx, list));
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let lang = ctx.lang.get_untracked();
        let body = match subscription(&form.get_untracked(), lang) {
            Ok(b) => b,
            Err(p) => {
                problems.set(p);
                return;
            }
        };
        problems.set(Vec::new());
        let mut json = serde_json::to_value(&body).unwrap_or_default();
        let editing_name = editing.get_untracked();
        let (path, key) = match &editing_name {
            Some(old) => {
                json["name"] = old.clone().into();
                if *old != body.name {
                    json["new_name"] = body.name.clone().into();
                }
                ("/api/config/subscription", K::sub_updated)
            }
            None => {
                json["name"] = body.name.clone().into();
                ("/api/subscription/add", K::sub_added)
            }
        };
        leptos::task::spawn_local(async move {
            match api::send::<EditResponse, _>(&ctx, Method::Post, path, &json).await {
                Ok(_) => {
                    form.set(SubForm::default());
                    editing.set(None);
                    done(fill(t(lang, key), &[&body.name]));
                }
                Err(e) => message.set(Some((true, e.text(lang)))),
            }
        });
    };

    let act = move |path: &'static str, method: Method, name: String, key: K| {
        let lang = ctx.lang.get_untracked();
        leptos::task::spawn_local(async move {
            let body = serde_json::json!({ "name": name });
            match api::send::<serde_json::Value, _>(&ctx, method, path, &body).await {
                Ok(_) => done(fill(t(lang, key), &[&name])),
                Err(e) => message.set(Some((true, e.text(lang)))),
            }
        });
    };

    let table = move || {
        let lang = ctx.lang.get();
        match list.get() {
            Load::Loading => view! { <Loading/> }.into_any(),
            Load::Failed(e) => view! { <ErrorNote err=e retry=Callback::new(move |_| leptos::task::spawn_local(load(ctx, list)))/> }.into_any(),
            Load::Ready(subs) if subs.is_empty() => view! { <p class="muted">{t(lang, K::sub_none)}</p> }.into_any(),
            Load::Ready(subs) => view! {
                <table class="subs" id="subscriptions">
                    <thead><tr>
                        <th scope="col">{t(lang, K::sub_name)}</th><th scope="col">{t(lang, K::sub_cycle)}</th>
                        <th scope="col">{t(lang, K::sub_amount)}</th><th scope="col">{t(lang, K::sub_next)}</th>
                        <th scope="col">{t(lang, K::sub_days_left)}</th><th scope="col">{t(lang, K::sub_status)}</th>
                        <th scope="col">{t(lang, K::col_actions)}</th>
                    </tr></thead>
                    <tbody>{subs.into_iter().map(|s| {
                        let (class, status) = status_text(&s, lang);
                        let next = parse_date(&s.next_renewal_date).map_or_else(|| s.next_renewal_date.clone(), |d| date(d, lang));
                        let (n1, n2, n3, n4) = (s.name.clone(), s.name.clone(), s.name.clone(), s.name.clone());
                        let edit_form = form_of(&s);
                        let asking = confirm_delete.get().as_deref() == Some(s.name.as_str());
                        view! {
                            <tr data-sub=s.name.clone()>
                                <td data-label=t(lang, K::sub_name)>{s.name.clone()}{s.owner_project.clone().map(|o| view! { <div class="muted">{o}</div> })}</td>
                                <td data-label=t(lang, K::sub_cycle)>{cycle_text(lang, &s.cycle_type)}</td>
                                <td class="num" data-label=t(lang, K::sub_amount)>{amount(dec(s.amount), &s.currency, lang)}</td>
                                <td data-label=t(lang, K::sub_next)>{next}</td>
                                <td data-label=t(lang, K::sub_days_left)>{days_from_today(s.days_until_renewal, lang)}</td>
                                <td data-label=t(lang, K::sub_status)><span class=format!("badge r-{class}")>{status}</span></td>
                                <td class="actions"><div class="acts">{if asking {
                                    view! {
                                        <span role="alert">{fill(t(lang, K::sub_confirm_delete), &[&n1])}</span>
                                        <button class="danger confirm-delete" on:click=move |_| { confirm_delete.set(None); act("/api/subscription/delete", Method::Delete, n2.clone(), K::sub_deleted) }>{t(lang, K::sub_delete)}</button>
                                        <button on:click=move |_| confirm_delete.set(None)>{t(lang, K::cancel)}</button>
                                    }.into_any()
                                } else {
                                    view! {
                                        <button class="edit" on:click=move |_| { form.set(edit_form.clone()); editing.set(Some(n3.clone())); problems.set(Vec::new()); }>{t(lang, K::sub_edit)}</button>
                                        <button class="renew" on:click=move |_| act("/api/subscription/mark_renewed", Method::Post, n4.clone(), K::sub_renewed)>{t(lang, K::sub_mark_renewed)}</button>
                                        <button class="danger delete" on:click=move |_| confirm_delete.set(Some(n1.clone()))>{t(lang, K::sub_delete)}</button>
                                    }.into_any()
                                }}</div></td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }
    };

    view! {
        <section class="subscriptions">
            <h1>{move || ctx.t(K::nav_subscriptions)}</h1>
            {move || message.get().map(|(bad, m)| view! { <p id="message" class=if bad { "error" } else { "ok-note" } role="status">{m}</p> })}
            {table}
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
        </section>
    }
}
