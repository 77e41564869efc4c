//! The Python tool's `custom` payloads, field for field.

use crate::support::*;

#[tokio::test]
async fn custom_balance_alerts_are_the_python_tools_alarm_notification() {
    let rx = Receiver::start().await;
    let ch = channel(&config(ChannelKind::Custom, Some(rx.url("/hook"))));
    ch.send(&low(Language::Zh)).await.expect("accepted");
    assert_eq!(
        rx.last().json(),
        json!({
            "Type": "AlarmNotification",
            "RuleName": "Main余额告警",
            "Level": "critical",
            "Resources": [{
                "ProjectName": "Main",
                "OwnerProject": "Team A",
                "Provider": "openrouter",
                "BalanceType": "余额",
                "CurrentValue": 5.12,
                "Threshold": 10.0,
                "Unit": "USD",
                "Message": "项目 [Main] 余额不足，当前: 5.12 USD，阈值: 10.00 USD"
            }]
        })
    );
}

#[tokio::test]
async fn custom_renewals_are_a_subscription_reminder_and_the_rest_title_and_content() {
    let rx = Receiver::start().await;
    let ch = channel(&config(ChannelKind::Custom, Some(rx.url("/hook"))));
    ch.send(&message_for(&renewal_alert(), Language::Zh))
        .await
        .expect("accepted");
    let body = rx.last().json();
    assert_eq!(body["Type"], "SubscriptionReminder");
    assert_eq!(body["RuleName"], "Cursor Pro续费提醒");
    assert_eq!(body["Level"], "warning");
    let r = &body["Resources"][0];
    assert_eq!(r["SubscriptionName"], "Cursor Pro");
    assert_eq!(r["RenewalDay"], 28);
    assert_eq!(r["DaysUntilRenewal"], 3);
    assert_eq!(r["Amount"], 20.0);

    ch.send(&message_for(&recovered_alert(), Language::Zh))
        .await
        .expect("accepted");
    let body = rx.last().json();
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["title", "content", "source", "timestamp"]);
    assert_eq!(body["source"], "balance-alert");
    assert_eq!(body["timestamp"], "2025-11-24T17:00:00Z");
}
