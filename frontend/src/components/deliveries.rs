//! Each channel's delivery of an alert, as chips (the alerts page and a project's recent
//! alerts).

use balance_alert_model::wire::AlertRow;
use leptos::prelude::*;

use crate::i18n::{delivery_text, fill, t, Lang, K};

/// The chips of `a`'s deliveries, or "none" when it was sent nowhere.
pub fn deliveries(a: &AlertRow, lang: Lang) -> impl IntoView {
    if a.deliveries.is_empty() {
        return view! { <span class="muted">{t(lang, K::delivery_none)}</span> }.into_any();
    }
    a.deliveries
        .iter()
        .map(|d| {
            let status = d.status.as_str();
            let title = format!(
                "{}{}",
                fill(t(lang, K::attempts), &[&d.attempts.to_string()]),
                d.error
                    .as_ref()
                    .map(|e| format!(" — {e}"))
                    .unwrap_or_default()
            );
            view! {
                <span class=format!("chip d-{status}") title=title>
                    {d.channel.clone()}": "{delivery_text(lang, status)}
                </span>
            }
        })
        .collect_view()
        .into_any()
}
