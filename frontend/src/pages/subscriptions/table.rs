//! The subscriptions table: cycle, amount, next renewal, days left and status, with edit,
//! mark renewed and delete (confirmed in place).

use balance_alert_model::to_f64;
use balance_alert_model::wire::SubscriptionRow;
use leptos::prelude::*;

use super::state::Subscriptions;
use crate::client;
use crate::components::widgets::{ErrorNote, Load, Loading};
use crate::format::{amount, date, days_from_today, parse_date};
use crate::i18n::{cycle_text, fill, t, Lang, K};
use crate::validate::SubForm;

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

/// Every subscription, or "none" (loading and failure notes while there is no list).
#[component]
pub(super) fn SubscriptionTable(page: Subscriptions) -> impl IntoView {
    let Subscriptions {
        ctx,
        list,
        form,
        editing,
        problems,
        confirm_delete,
        ..
    } = page;
    let delete = move |name: String| {
        let call_name = name.clone();
        page.edit(name, K::sub_deleted, async move {
            client::delete_subscription(&ctx, &call_name).await
        });
    };
    let mark_renewed = move |name: String| {
        let call_name = name.clone();
        page.edit(name, K::sub_renewed, async move {
            client::mark_renewed(&ctx, &call_name).await
        });
    };
    move || {
        let lang = ctx.lang.get();
        match list.get() {
            Load::Loading => view! { <Loading/> }.into_any(),
            Load::Failed(e) => view! { <ErrorNote err=e retry=Callback::new(move |_| page.reload())/> }.into_any(),
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
                                <td class="num" data-label=t(lang, K::sub_amount)>{amount(to_f64(s.amount), &s.currency, lang)}</td>
                                <td data-label=t(lang, K::sub_next)>{next}</td>
                                <td data-label=t(lang, K::sub_days_left)>{days_from_today(s.days_until_renewal, lang)}</td>
                                <td data-label=t(lang, K::sub_status)><span class=format!("badge r-{class}")>{status}</span></td>
                                <td class="actions"><div class="acts">{if asking {
                                    view! {
                                        <span role="alert">{fill(t(lang, K::sub_confirm_delete), &[&n1])}</span>
                                        <button class="danger confirm-delete" on:click=move |_| { confirm_delete.set(None); delete(n2.clone()) }>{t(lang, K::sub_delete)}</button>
                                        <button on:click=move |_| confirm_delete.set(None)>{t(lang, K::cancel)}</button>
                                    }.into_any()
                                } else {
                                    view! {
                                        <button class="edit" on:click=move |_| { form.set(edit_form.clone()); editing.set(Some(n3.clone())); problems.set(Vec::new()); }>{t(lang, K::sub_edit)}</button>
                                        <button class="renew" on:click=move |_| mark_renewed(n4.clone())>{t(lang, K::sub_mark_renewed)}</button>
                                        <button class="danger delete" on:click=move |_| confirm_delete.set(Some(n1.clone()))>{t(lang, K::sub_delete)}</button>
                                    }.into_any()
                                }}</div></td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }
    }
}
