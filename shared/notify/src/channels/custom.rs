//! The Python tool's `webhook.type = "custom"` payloads, field for field
//! (itswl/balance-alert `services/webhook_adapter.py`), so receivers written for it keep
//! working: `AlarmNotification` for balance alerts, `SubscriptionReminder` for renewals, and
//! `{title, content, source, timestamp}` for everything else (its `send_custom_alert`).

use balance_alert_core::config::channels::{ChannelConfig, ChatOptions};
use balance_alert_core::config::delivery::Language;
use balance_alert_model::{AlertKind, AlertState, Decimal};
use serde_json::{json, Value};

use super::http::{Endpoint, Reply};
use super::JsonPost;
use crate::channel::SendError;
use crate::message::{AlertFacts, Message, MessageKind};

/// The channel: posts [`payload`] and judges the reply with [`judge`].
pub(crate) fn channel(
    config: &ChannelConfig,
    chat: &ChatOptions,
    http: reqwest::Client,
) -> Result<JsonPost, String> {
    JsonPost::new(config, chat, http, payload, judge)
}

/// Whether the receiver accepted the message.
fn judge(endpoint: &Endpoint, reply: &Reply) -> Result<(), SendError> {
    endpoint.check_status(reply)
}

/// The payload the Python tool would have posted for this message.
fn payload(message: &Message) -> Value {
    match (message.kind, message.alerts.as_slice()) {
        (MessageKind::Alert, [facts]) if is_balance_alarm(facts) => alarm(facts, message.language),
        (MessageKind::Alert, [facts]) if facts.kind == AlertKind::Renewal => {
            subscription(facts, message.language)
        }
        _ => json!({
            "title": message.title,
            "content": message.markdown_body(),
            "source": message.source,
            "timestamp": chrono::DateTime::from_timestamp(message.timestamp, 0)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }),
    }
}

/// LOW or CRITICAL (first alert or reminder): what the Python tool's `send_balance_alert`
/// covered.
fn is_balance_alarm(facts: &AlertFacts) -> bool {
    match facts.kind {
        AlertKind::Low | AlertKind::Critical => true,
        AlertKind::Reminder => matches!(facts.state, AlertState::Low | AlertState::Critical),
        _ => false,
    }
}

/// `{"Type":"AlarmNotification","RuleName","Level","Resources":[{…}]}`. `Level` is always
/// `critical`, as in the Python tool; `Unit` carries the currency (the tool sent `""`).
fn alarm(facts: &AlertFacts, lang: Language) -> Value {
    // The value and its threshold to the same places: a value below the line never prints
    // equal to it.
    let places = facts.value.map_or(2, |v| {
        balance_alert_core::model::text::places_against(v, &[facts.threshold])
    });
    let current = facts
        .value
        .map(|v| money_places(v, &facts.currency, places));
    let threshold = money_places(facts.threshold, &facts.currency, places);
    let (rule, balance_type, text) = match lang {
        Language::Zh => (
            format!("{}余额告警", facts.project),
            "余额",
            format!(
                "项目 [{}] 余额不足，当前: {}，阈值: {threshold}",
                facts.project,
                current.as_deref().unwrap_or("-")
            ),
        ),
        Language::En => (
            format!("{} balance alert", facts.project),
            "balance",
            format!(
                "Project [{}] balance is low, current: {}, threshold: {threshold}",
                facts.project,
                current.as_deref().unwrap_or("-")
            ),
        ),
    };
    json!({
        "Type": "AlarmNotification",
        "RuleName": rule,
        "Level": "critical",
        "Resources": [{
            "ProjectName": facts.project,
            "OwnerProject": facts.owner_project,
            "Provider": facts.provider,
            "BalanceType": balance_type,
            "CurrentValue": facts.value.map(float),
            "Threshold": float(facts.threshold),
            "Unit": facts.currency,
            "Message": text,
        }],
    })
}

/// `{"Type":"SubscriptionReminder",…}`. The record has the renewal date, not the cycle:
/// `RenewalDay` is its day of the month and `CycleType` is null.
fn subscription(facts: &AlertFacts, lang: Language) -> Value {
    let days = facts.days_left.unwrap_or(0);
    let amount = facts.value.unwrap_or(facts.threshold);
    let due = facts.due_date.clone().unwrap_or_default();
    let renewal_day = chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d")
        .ok()
        .map(|d| chrono::Datelike::day(&d));
    let (rule, text) = match lang {
        Language::Zh => (
            format!("{}续费提醒", facts.project),
            format!(
                "订阅 [{}] 将在 {days} 天后（{due}）续费，金额: {}",
                facts.project,
                money(amount, &facts.currency)
            ),
        ),
        Language::En => (
            format!("{} renewal reminder", facts.project),
            format!(
                "Subscription [{}] renews in {days} days ({due}), amount: {}",
                facts.project,
                money(amount, &facts.currency)
            ),
        ),
    };
    json!({
        "Type": "SubscriptionReminder",
        "RuleName": rule,
        "Level": if days > 0 { "warning" } else { "critical" },
        "Resources": [{
            "SubscriptionName": facts.project,
            "OwnerProject": facts.owner_project,
            "RenewalDay": renewal_day,
            "CycleType": Value::Null,
            "DaysUntilRenewal": days,
            "Amount": float(amount),
            "Message": text,
        }],
    })
}

/// A JSON number, as the Python tool's floats.
fn float(v: Decimal) -> Value {
    v.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// `1,234.50 USD`: Python's `{:,.2f}` plus the currency.
fn money(v: Decimal, currency: &str) -> String {
    money_places(v, currency, 2)
}

/// [`money`] with `places` decimals (half-even).
fn money_places(v: Decimal, currency: &str, places: u32) -> String {
    let width = places as usize;
    let fixed = format!(
        "{:.width$}",
        v.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointNearestEven)
    );
    let (sign, digits) = fixed
        .strip_prefix('-')
        .map_or(("", fixed.as_str()), |d| ("-", d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let amount = format!("{sign}{grouped}.{frac}");
    if currency.is_empty() {
        amount
    } else {
        format!("{amount} {currency}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_like_python() {
        assert_eq!(
            money(Decimal::new(123_456_789, 2), "USD"),
            "1,234,567.89 USD"
        );
        assert_eq!(money(Decimal::new(-512, 2), ""), "-5.12");
        assert_eq!(money(Decimal::from(100), "CNY"), "100.00 CNY");
    }
}
