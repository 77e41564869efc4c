//! The daily digest (`settings.digest`): one summary per channel with every project's value
//! and state, the week's lowest, upcoming renewals and forecast run-out dates.
//!
//! Renewals come from the configuration as it is now (enabled subscriptions, their next
//! renewal computed today), not from stored evaluations, which outlive a removed, disabled or
//! renewed subscription until the next pass.

use balance_alert_core::check::housekeeping::renewal_spec;
use balance_alert_core::config::delivery::Digest;
use balance_alert_core::config::delivery::Language;
use balance_alert_core::config::Config;
use balance_alert_core::store::{Lease, Leases, Readings, StoreError};
use balance_alert_model::subscription::renewal_status;
use chrono::DateTime;

use crate::message::{amount, state_label, Line, Message, MessageKind, Severity, Tone};

const WEEK: i64 = 7 * 86_400;

/// Whether today's digest is due at `now`: past the configured time (in `settings.timezone`)
/// and not yet claimed today by any process sharing the store. Claims it when due.
pub async fn claim_if_due(
    store: &dyn Leases,
    config: &Config,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let Digest::Daily(at) = config.settings.digest else {
        return Ok(None);
    };
    let Some(now_utc) = DateTime::from_timestamp(now, 0) else {
        return Ok(None);
    };
    let local = config.settings.timezone.local_at(now_utc);
    if local.time() < at {
        return Ok(None);
    }
    let date = local.date().format("%Y-%m-%d").to_string();
    // Held for two days: the claim is per date, the expiry only cleans up.
    let claimed = store
        .claim(&Lease::Digest(date.clone()), now, now + 2 * 86_400)
        .await?
        .is_none();
    Ok(claimed.then_some(date))
}

fn t(lang: Language, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::Zh => zh,
        Language::En => en,
    }
}

/// Builds the digest for `date` from the store.
pub async fn build(
    store: &dyn Readings,
    config: &Config,
    date: &str,
    now: i64,
) -> Result<Message, StoreError> {
    let lang = config.settings.language;
    let tz = config.settings.timezone;
    let mut lines = Vec::new();
    let mut forecasts = Vec::new();
    let states = store.list_states().await?;
    for p in config.projects.iter().filter(|p| p.enabled) {
        let id = p.id();
        let Some(s) = states.iter().find(|s| s.project_id == id) else {
            continue;
        };
        let week = store.balance_history(&id, now - WEEK, 2_000).await?;
        let lowest = week.iter().map(|h| h.balance).min();
        let mut text = match s.balance {
            Some(b) => format!(
                "{} ({})",
                amount(b, &s.currency),
                state_label(s.state, lang)
            ),
            None => state_label(s.state, lang).to_owned(),
        };
        if let Some(l) = lowest {
            text.push_str(&format!(
                "; {} {}",
                t(lang, "本周最低", "week's lowest"),
                amount(l, &s.currency)
            ));
        }
        lines.push(Line {
            label: Some(format!("{} ({})", p.name, p.provider)),
            text,
        });
        // The one forecast, as the alert, the API and the dashboard show it.
        let f = balance_alert_core::forecast::view(store, &id, p.threshold, now).await?;
        if let Some(f) = f.filter(|f| !f.already_empty) {
            let zero = f
                .zero_date
                .as_deref()
                .and_then(|z| DateTime::parse_from_rfc3339(z).ok());
            if let (Some(days), Some(zero)) = (f.days_left, zero) {
                forecasts.push(format!(
                    "{}: {} ({})",
                    p.name,
                    tz.date_at(zero.with_timezone(&chrono::Utc)),
                    balance_alert_core::model::text::days(days, lang)
                ));
            }
        }
    }
    let today = DateTime::from_timestamp(now, 0)
        .map(|d| tz.date_at(d))
        .unwrap_or_else(|| tz.today());
    let renewals: Vec<String> = config
        .subscriptions
        .iter()
        .filter(|s| s.enabled)
        .map(|s| (s, renewal_status(&renewal_spec(s), today)))
        .filter(|(_, r)| (0..=7).contains(&r.days_until_renewal) && !r.already_renewed)
        .map(|(s, r)| {
            format!(
                "{}: {} ({} d)",
                s.name, r.next_renewal_date, r.days_until_renewal
            )
        })
        .collect();
    if !renewals.is_empty() {
        lines.push(Line {
            label: Some(t(lang, "即将续费", "Upcoming renewals").to_owned()),
            text: renewals.join("; "),
        });
    }
    if !forecasts.is_empty() {
        lines.push(Line {
            label: Some(t(lang, "预计耗尽", "Forecast run-out").to_owned()),
            text: forecasts.join("; "),
        });
    }
    if lines.is_empty() {
        lines.push(Line {
            label: None,
            text: t(lang, "暂无项目数据", "No project has been checked yet").to_owned(),
        });
    }
    Ok(Message {
        key: format!("digest:{date}"),
        kind: MessageKind::Digest,
        severity: Severity::Info,
        tone: Tone::Blue,
        language: lang,
        source: "balance-alert".into(),
        title: match lang {
            Language::Zh => format!("余额日报 {date}"),
            Language::En => format!("Balance digest {date}"),
        },
        lines,
        alerts: Vec::new(),
        timestamp: now,
    })
}
