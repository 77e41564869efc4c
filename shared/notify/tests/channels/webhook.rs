//! The generic JSON webhook and its Alertmanager format.

use crate::support::*;

const HOOK_SECRET: &str = "webhook-hmac-secret-7";

#[tokio::test]
async fn webhook_posts_the_alert_facts_signed_over_the_raw_body() {
    let rx = Receiver::start().await;
    rx.reply(202, "");
    let mut cfg = config(ChannelKind::Webhook, Some(rx.url("/alerts")));
    cfg = with_secret(cfg, HOOK_SECRET);
    let msg = low(Language::En);

    channel(&cfg).send(&msg).await.expect("accepted");

    let seen = rx.last();
    let expected = format!(
        "sha256={}",
        hex::encode(hmac(HOOK_SECRET.as_bytes(), &seen.body))
    );
    assert_eq!(seen.header("x-signature"), Some(expected));
    assert_eq!(
        seen.header("idempotency-key").as_deref(),
        Some("p1-100-2:ops")
    );
    assert_eq!(
        seen.header("content-type").as_deref(),
        Some("application/json")
    );
    let body = seen.json();
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "type",
            "severity",
            "project",
            "owner_project",
            "provider",
            "kind",
            "value",
            "currency",
            "threshold",
            "state",
            "message",
            "timestamp"
        ]
    );
    assert_eq!(body["type"], "alert");
    assert_eq!(body["value"], 5.12);
    assert_eq!(body["threshold"], 10.0);
    assert_eq!(body["severity"], "warning");
}

#[tokio::test]
async fn webhook_renewals_carry_days_left_and_due_date() {
    let rx = Receiver::start().await;
    let cfg = config(ChannelKind::Webhook, Some(rx.url("/alerts")));
    channel(&cfg)
        .send(&message_for(&renewal_alert(), Language::En))
        .await
        .expect("accepted");
    let body = rx.last().json();
    assert_eq!(body["days_left"], 3);
    assert_eq!(body["due_date"], "2025-11-28");
    assert!(
        rx.last().header("x-signature").is_none(),
        "no secret, no signature"
    );
}

#[tokio::test]
async fn webhook_summaries_and_tests_post_type_title_text_alerts_and_timestamp() {
    let rx = Receiver::start().await;
    let ch = channel(&config(ChannelKind::Webhook, Some(rx.url("/alerts"))));
    let summary = Message::summary(
        &[low_alert(), recovered_alert()],
        "sum-42".into(),
        "balance-alert",
        Language::En,
        1_764_010_000,
    );
    ch.send(&summary).await.expect("accepted");
    let body = rx.last().json();
    assert_eq!(body["type"], "summary");
    assert_eq!(body["alerts"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["timestamp"], 1_764_010_000);
    assert!(body["text"]
        .as_str()
        .expect("text")
        .contains("Main — 5.12 USD"));
    assert_eq!(
        rx.last().header("idempotency-key").as_deref(),
        Some("sum-42")
    );

    ch.send(&Message::test("ops", "balance-alert", Language::En, 5))
        .await
        .expect("ok");
    let body = rx.last().json();
    assert_eq!(body["type"], "test");
    assert_eq!(body["title"], "Balance Alert test message");
    assert_eq!(body["alerts"], json!([]));
}

#[tokio::test]
async fn alertmanager_format_matches_the_v4_webhook_schema() {
    let rx = Receiver::start().await;
    let mut cfg = config(ChannelKind::Webhook, Some(rx.url("/am")));
    cfg = with_format(cfg, "alertmanager");
    let ch = channel(&cfg);

    ch.send(&low(Language::En)).await.expect("accepted");
    let firing = rx.last().json();
    assert_eq!(firing["version"], "4");
    assert_eq!(firing["status"], "firing");
    assert_eq!(firing["receiver"], "ops");
    assert_eq!(firing["truncatedAlerts"], 0);
    assert_eq!(firing["groupKey"], "{}:{alertname=\"BalanceLow\"}");
    assert_eq!(firing["groupLabels"], json!({ "alertname": "BalanceLow" }));
    for key in ["commonLabels", "commonAnnotations", "externalURL"] {
        assert!(firing.get(key).is_some(), "{key}");
    }
    let alert = &firing["alerts"][0];
    assert_eq!(alert["status"], "firing");
    assert_eq!(
        alert["labels"],
        json!({
            "alertname": "BalanceLow", "kind": "low", "owner_project": "Team A",
            "project": "Main", "provider": "openrouter", "severity": "warning"
        })
    );
    assert_eq!(alert["annotations"]["summary"], "Low balance · Main");
    assert!(alert["annotations"]["description"]
        .as_str()
        .expect("d")
        .contains("Threshold"));
    assert_eq!(alert["startsAt"], "2025-11-24T16:00:00Z");
    assert_eq!(alert["endsAt"], "0001-01-01T00:00:00Z");
    assert!(alert.get("generatorURL").is_some());
    let fp = alert["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    assert!(
        fp.len() == 16 && fp.chars().all(|c| c.is_ascii_hexdigit()),
        "{fp}"
    );

    ch.send(&message_for(&recovered_alert(), Language::En))
        .await
        .expect("accepted");
    let resolved = rx.last().json();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["alerts"][0]["status"], "resolved");
    assert_eq!(resolved["alerts"][0]["endsAt"], "2025-11-24T17:00:00Z");
    assert_eq!(
        resolved["alerts"][0]["fingerprint"], fp,
        "the recovery resolves the same alert"
    );
}

#[tokio::test]
async fn an_unknown_webhook_format_fails_fatal() {
    let mut cfg = config(ChannelKind::Webhook, Some("http://127.0.0.1:9/x".into()));
    cfg = with_format(cfg, "xml");
    assert_fatal(
        channel(&cfg).send(&low(Language::En)).await,
        "unknown webhook format",
    );
}
