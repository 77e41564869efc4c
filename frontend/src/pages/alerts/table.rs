//! The alerts the filters keep, newest first: time, project, type, state, figure, message
//! and each channel's delivery.

use balance_alert_model::to_f64;
use balance_alert_model::wire::AlertRow;
use leptos::prelude::*;

use crate::components::deliveries::deliveries;
use crate::components::widgets::StateBadge;
use crate::format::{amount, date_time, parse_rfc3339};
use crate::i18n::{alert_type_text, fill, t, Lang, K};
use crate::navigation::Link;

/// The table of `shown` with its count, or "no alerts".
pub(super) fn alert_table(shown: Vec<AlertRow>, lang: Lang, offset: i32) -> AnyView {
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
                        <td class="num" data-label=t(lang, K::col_value)>{a.balance.map(|b| amount(to_f64(b), &a.currency, lang))}</td>
                        <td class="msg" data-label=t(lang, K::col_message)>{a.message.clone()}</td>
                        <td data-label=t(lang, K::col_delivery)>{deliveries(a, lang)}</td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}
