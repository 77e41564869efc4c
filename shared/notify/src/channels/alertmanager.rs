//! Alertmanager's webhook payload (`version: "4"`), so receivers written for Alertmanager
//! (`webhook_config`) accept our alerts: `receiver`, `status`, `alerts[]` with labels,
//! annotations, `startsAt`/`endsAt`, `fingerprint`, and the group's common labels.

use std::collections::BTreeMap;

use balance_alert_model::{AlertKind, AlertState};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::message::{AlertFacts, Message, MessageKind};

/// `endsAt` of a firing alert, as Alertmanager writes it (Go's zero time).
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

type Labels = BTreeMap<String, String>;

/// The whole payload for `message`, posted to the receiver named `receiver`.
pub(crate) fn payload(message: &Message, receiver: &str) -> Value {
    let alerts: Vec<Value> = if message.alerts.is_empty() {
        vec![synthetic_alert(message)]
    } else {
        let single = message.alerts.len() == 1;
        message
            .alerts
            .iter()
            .flat_map(|f| fact_alerts(f, single.then_some(message)))
            .collect()
    };
    let resolved = alerts.iter().all(|a| a["status"] == "resolved");
    let common_labels = common(&alerts, "labels");
    let group_labels: Labels = common_labels
        .get("alertname")
        .map(|n| [("alertname".to_owned(), n.clone())].into())
        .unwrap_or_default();
    json!({
        "version": "4",
        "groupKey": group_key(&group_labels),
        "truncatedAlerts": 0,
        "status": if resolved { "resolved" } else { "firing" },
        "receiver": receiver,
        "groupLabels": group_labels,
        "commonLabels": common_labels,
        "commonAnnotations": common(&alerts, "annotations"),
        "externalURL": "",
        "alerts": alerts,
    })
}

/// The names a project's balance alerts fire under. A recovery resolves all of them: the
/// record does not say which were firing (LOW, then CRITICAL, or FAILING), and resolving a
/// name that is not firing is a no-op for Alertmanager and its receivers.
const BALANCE_ALERTNAMES: [&str; 3] = ["BalanceLow", "BalanceCritical", "BalanceCheckFailing"];

/// `alertname` by kind (a recovery: see [`BALANCE_ALERTNAMES`]).
fn alertname(kind: AlertKind, state: AlertState) -> &'static str {
    match kind {
        AlertKind::Low | AlertKind::Recovered => "BalanceLow",
        AlertKind::Critical => "BalanceCritical",
        AlertKind::Failing => "BalanceCheckFailing",
        AlertKind::Reminder => match state {
            AlertState::Critical => "BalanceCritical",
            AlertState::Failing => "BalanceCheckFailing",
            _ => "BalanceLow",
        },
        AlertKind::Renewal => "SubscriptionRenewal",
        AlertKind::Forecast => "BalanceForecast",
        AlertKind::Email => "BillingEmail",
    }
}

/// The alerts of the payload for one fact: one firing alert, or for a recovery one resolved
/// alert per balance alert name, each with the fingerprint it fired under.
fn fact_alerts(facts: &AlertFacts, whole: Option<&Message>) -> Vec<Value> {
    if facts.kind == AlertKind::Recovered {
        BALANCE_ALERTNAMES
            .iter()
            .map(|name| fact_alert(facts, name, whole))
            .collect()
    } else {
        vec![fact_alert(facts, alertname(facts.kind, facts.state), whole)]
    }
}

/// One alert of the payload, named `name`. `whole` is the message when it carries only this
/// fact: its title and body then serve as summary and description.
fn fact_alert(facts: &AlertFacts, name: &str, whole: Option<&Message>) -> Value {
    let mut labels = Labels::new();
    labels.insert("alertname".into(), name.into());
    labels.insert("project".into(), facts.project.clone());
    labels.insert("provider".into(), facts.provider.clone());
    if let Some(owner) = &facts.owner_project {
        labels.insert("owner_project".into(), owner.clone());
    }
    // The fingerprint leaves out severity and kind so that a reminder, an escalation to
    // CRITICAL and the recovery all address the same alert, as a receiver expects.
    let fingerprint = fingerprint(&labels);
    labels.insert("severity".into(), facts.severity.as_str().into());
    labels.insert("kind".into(), facts.kind.as_str().into());

    let mut annotations = Labels::new();
    let (summary, description) = match whole {
        Some(m) => (m.title.clone(), m.plain_body()),
        None => (facts.message.clone(), facts.message.clone()),
    };
    annotations.insert("summary".into(), summary);
    annotations.insert("description".into(), description);
    if let Some(v) = facts.value {
        annotations.insert("value".into(), v.to_string());
    }
    annotations.insert("threshold".into(), facts.threshold.to_string());
    annotations.insert("currency".into(), facts.currency.clone());

    let resolved = facts.kind == AlertKind::Recovered;
    let at = rfc3339(facts.timestamp);
    json!({
        "status": if resolved { "resolved" } else { "firing" },
        "labels": labels,
        "annotations": annotations,
        "startsAt": at,
        "endsAt": if resolved { at.clone() } else { ZERO_TIME.to_owned() },
        "generatorURL": "",
        "fingerprint": fingerprint,
    })
}

/// The one alert of a message that carries none (a test, an empty digest).
fn synthetic_alert(message: &Message) -> Value {
    let name = match message.kind {
        MessageKind::Test => "BalanceAlertTest",
        MessageKind::Digest => "BalanceAlertDigest",
        MessageKind::Alert | MessageKind::Summary => "BalanceAlertSummary",
    };
    let labels: Labels = [
        ("alertname".to_owned(), name.to_owned()),
        ("severity".to_owned(), message.severity.as_str().to_owned()),
    ]
    .into();
    let annotations: Labels = [
        ("summary".to_owned(), message.title.clone()),
        ("description".to_owned(), message.plain_body()),
    ]
    .into();
    json!({
        "status": "firing",
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(message.timestamp),
        "endsAt": ZERO_TIME,
        "generatorURL": "",
        "fingerprint": fingerprint(&labels),
    })
}

/// The label (or annotation) pairs every alert has with the same value.
fn common(alerts: &[Value], field: &str) -> Labels {
    let maps: Vec<&serde_json::Map<String, Value>> =
        alerts.iter().filter_map(|a| a[field].as_object()).collect();
    let Some((first, rest)) = maps.split_first() else {
        return Labels::new();
    };
    first
        .iter()
        .filter(|(k, v)| rest.iter().all(|m| m.get(k.as_str()) == Some(v)))
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

/// `{}:{alertname="BalanceLow"}`, the shape of Alertmanager's group key for a route
/// grouping by those labels.
fn group_key(group_labels: &Labels) -> String {
    let inner = group_labels
        .iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{{}}:{{{inner}}}")
}

/// 16 hex digits of a hash over the sorted labels: stable across sends and processes.
fn fingerprint(labels: &Labels) -> String {
    let mut hasher = Sha256::new();
    for (k, v) in labels {
        hasher.update(k.as_bytes());
        hasher.update([0xff]);
        hasher.update(v.as_bytes());
        hasher.update([0xff]);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// Unix seconds as RFC 3339 in UTC.
fn rfc3339(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use balance_alert_core::config::delivery::Language;
    use balance_alert_core::config::TimeZone;
    use balance_alert_model::{AlertDetails, AlertRecord, AlertStatus, Decimal};

    fn message(kind: AlertKind, state: AlertState) -> Message {
        let alert = AlertRecord {
            id: format!("p-{}", kind.as_str()),
            project_id: "p".into(),
            project_name: "Main".into(),
            provider: "openrouter".into(),
            kind,
            state,
            balance: Some(Decimal::ONE),
            threshold: Decimal::TEN,
            currency: "USD".into(),
            message: String::new(),
            status: AlertStatus::Pending,
            created_at: 1_764_000_000,
            details: AlertDetails {
                owner_project: Some("Team A".into()),
                ..AlertDetails::default()
            },
            deliveries: Vec::new(),
        };
        let utc = TimeZone::parse("UTC").expect("UTC is a zone");
        Message::for_alert(&alert, "am", "balance-alert", Language::En, &utc)
    }

    #[test]
    fn a_recovery_resolves_every_balance_alert_that_may_be_firing_with_its_fingerprint() {
        let firing: Vec<Value> = [
            (AlertKind::Low, AlertState::Low),
            (AlertKind::Critical, AlertState::Critical),
            (AlertKind::Failing, AlertState::Failing),
            (AlertKind::Reminder, AlertState::Critical),
        ]
        .into_iter()
        .map(|(k, s)| payload(&message(k, s), "am")["alerts"][0].clone())
        .collect();
        let recovery = payload(&message(AlertKind::Recovered, AlertState::Ok), "am");
        assert_eq!(recovery["status"], "resolved", "{recovery}");
        let resolved = recovery["alerts"].as_array().expect("alerts");
        for f in &firing {
            assert_eq!(f["status"], "firing");
            assert!(
                resolved.iter().any(|r| r["status"] == "resolved"
                    && r["fingerprint"] == f["fingerprint"]
                    && r["labels"]["alertname"] == f["labels"]["alertname"]),
                "{} is not resolved by {recovery}",
                f["labels"]["alertname"]
            );
        }
    }
}
