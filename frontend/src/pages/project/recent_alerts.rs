//! The project's latest alerts, each with its deliveries and an "acknowledge" button.

use balance_alert_model::wire::AlertRow;
use leptos::prelude::*;

use super::state::Project;
use crate::client;
use crate::components::deliveries::deliveries;
use crate::format::{date_time, parse_rfc3339};
use crate::i18n::{alert_type_text, t, Lang, K};

/// The window's 20 latest alerts (newest first), or "no alerts".
#[component]
pub(super) fn RecentAlerts(
    page: Project,
    alerts: Vec<AlertRow>,
    lang: Lang,
    /// The reader's offset from UTC, minutes east.
    offset: i32,
) -> impl IntoView {
    let acknowledge = move |alert_id: String| {
        let ctx = page.ctx;
        page.edit(async move { client::acknowledge(&ctx, &alert_id).await });
    };
    if alerts.is_empty() {
        return view! { <p class="muted">{t(lang, K::no_alerts)}</p> }.into_any();
    }
    view! {
        <table class="alerts">
            <thead><tr>
                <th scope="col">{t(lang, K::col_time)}</th><th scope="col">{t(lang, K::col_type)}</th>
                <th scope="col">{t(lang, K::col_message)}</th><th scope="col">{t(lang, K::col_delivery)}</th><th scope="col">{t(lang, K::col_actions)}</th>
            </tr></thead>
            <tbody>{alerts.iter().take(20).map(|a| {
                let ts = parse_rfc3339(&a.timestamp).map_or_else(|| a.timestamp.clone(), |s| date_time(s, offset, lang));
                let alert_id = a.id.clone();
                let acked = a.acknowledged;
                view! {
                    <tr>
                        <td>{ts}</td>
                        <td>{alert_type_text(lang, &a.alert_type)}</td>
                        <td class="msg">{a.message.clone()}</td>
                        <td>{deliveries(a, lang)}</td>
                        <td>{if acked { view! { <span class="muted">{t(lang, K::acked)}</span> }.into_any() } else {
                            view! { <button class="ack" on:click=move |_| acknowledge(alert_id.clone())>{t(lang, K::ack)}</button> }.into_any()
                        }}</td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}
