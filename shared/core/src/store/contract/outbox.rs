//! The contract of [`Outbox`]: alert history, delivery progress, send counters.

use super::{alert, state, write};
use crate::model::{AlertKind, AlertState, AlertStatus};
use crate::store::{AlertQuery, Outbox, Store};

/// Alerts: newest first, filtered, the lost write's alert absent; status updates.
pub(super) async fn alert_history(store: &dyn Outbox) {
    // Alerts: newest first, filtered, the lost write's alert absent.
    let alerts = store
        .alerts(AlertQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(
        alerts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        vec!["a2", "a1"]
    );
    assert_eq!(alerts[1], alert("a1", "p1", 100));
    let none = store
        .alerts(AlertQuery {
            project_id: Some("p2".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert!(none.is_empty());
    assert!(store
        .set_alert_status("a1", AlertStatus::Sent)
        .await
        .expect("status"));
    assert!(!store
        .set_alert_status("missing", AlertStatus::Sent)
        .await
        .expect("status"));
    let a1 = store
        .alerts(AlertQuery {
            since: Some(0),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(
        a1.iter().find(|a| a.id == "a1").map(|a| a.status),
        Some(AlertStatus::Sent)
    );
}

/// The outbox: pending alerts oldest first; a delivered one leaves it.
pub(super) async fn pending(store: &dyn Outbox) {
    let pending = store.pending_alerts(100).await.expect("pending");
    assert!(pending
        .windows(2)
        .all(|w| w[0].created_at <= w[1].created_at));
    assert!(pending.iter().all(|a| a.status == AlertStatus::Pending));
    if let Some(first) = pending.first() {
        assert!(store
            .set_alert_status(&first.id, AlertStatus::Sent)
            .await
            .expect("status"));
        let after = store.pending_alerts(100).await.expect("pending");
        assert!(after.iter().all(|a| a.id != first.id));
        assert_eq!(after.len(), pending.len() - 1);
    }
    assert!(store.pending_alerts(1).await.expect("pending").len() <= 1);
}

/// Send counters: grants never pass the limit, fewer are granted when fewer are left, and
/// concurrent takers share the window (every process's rate limit counts here).
pub(super) async fn send_windows(store: &dyn Outbox) {
    let minute = 29_600_000;
    assert_eq!(store.sends_taken("ops", minute).await.expect("read"), 0);
    let take = |channel: &'static str, minute: i64, wanted: u32| async move {
        store
            .take_sends(channel, minute, wanted, 5)
            .await
            .expect("take")
    };
    assert_eq!(take("ops", minute, 3).await, 3);
    assert_eq!(take("ops", minute, 3).await, 2, "only what is left");
    assert_eq!(take("ops", minute, 1).await, 0, "full");
    assert_eq!(take("ops", minute, 0).await, 0);
    assert_eq!(store.sends_taken("ops", minute).await.expect("read"), 5);
    // Another channel and the next minute count on their own.
    assert_eq!(take("team", minute, 5).await, 5);
    assert_eq!(take("ops", minute + 1, 4).await, 4);
    assert_eq!(store.sends_taken("ops", minute + 1).await.expect("read"), 4);
    // A limit below what is counted grants nothing (a limit lowered mid-window).
    assert_eq!(
        store.take_sends("ops", minute, 1, 2).await.expect("take"),
        0
    );
    // Concurrent takers: together exactly the limit.
    let takes = (0..12).map(|_| take("storm", minute, 1));
    let granted: u32 = futures::future::join_all(takes).await.into_iter().sum();
    assert_eq!(granted, 5);
    assert_eq!(store.sends_taken("storm", minute).await.expect("read"), 5);
}

/// The outbox's per-channel outcomes, stand-alone alerts, alert details and snoozes.
pub(super) async fn deliveries(store: &dyn Store) {
    use crate::model::alert::Snooze;
    use crate::model::{AlertDetails, Delivery};
    let now = 10_000_000_000 - 1; // far in the future: inside any retention window
    let mut a = alert("mail-1", "mailbox", now);
    a.kind = AlertKind::Email;
    a.details = AlertDetails {
        owner_project: Some("Team".into()),
        days_left: Some(2),
        due_date: Some("2026-12-01".into()),
        source: Some("billing@x — 欠费".into()),
        figure: Some(balance_alert_model::BalanceKind::BudgetSpend),
        note: Some("spent 40 of 100 USD budget this month".into()),
        failures: Some(3),
        reason: Some("HTTP 500".into()),
        recovers_at: Some(rust_decimal::Decimal::new(105, 1)),
    };
    assert!(store.insert_alert(a.clone()).await.expect("insert"));
    assert!(
        !store.insert_alert(a.clone()).await.expect("insert again"),
        "an alert id is written once"
    );
    assert_eq!(
        store.get_alert("mail-1").await.expect("get"),
        Some(a.clone())
    );
    assert_eq!(store.get_alert("nope").await.expect("get"), None);
    assert!(store
        .pending_alerts(1000)
        .await
        .expect("pending")
        .iter()
        .any(|p| p.id == "mail-1"));

    let mut d = vec![
        Delivery {
            channel: "ops".into(),
            status: AlertStatus::Sent,
            attempts: 1,
            next_attempt_at: None,
            error: None,
            sent_at: Some(now),
            summarized: false,
            held: false,
        },
        Delivery {
            channel: "mail".into(),
            status: AlertStatus::Pending,
            attempts: 2,
            next_attempt_at: Some(now + 30),
            error: Some("HTTP 503".into()),
            sent_at: None,
            summarized: false,
            held: true,
        },
    ];
    assert!(store
        .record_deliveries("mail-1", AlertStatus::Pending, d.clone())
        .await
        .expect("record"));
    let got = store
        .get_alert("mail-1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!((got.status, &got.deliveries), (AlertStatus::Pending, &d));
    d[1].status = AlertStatus::Failed;
    assert!(store
        .record_deliveries("mail-1", AlertStatus::Failed, d.clone())
        .await
        .expect("record"));
    let got = store
        .get_alert("mail-1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!((got.status, &got.deliveries), (AlertStatus::Failed, &d));
    assert!(
        store
            .pending_alerts(1000)
            .await
            .expect("pending")
            .iter()
            .all(|p| p.id != "mail-1"),
        "a settled alert leaves the outbox"
    );
    assert!(!store
        .record_deliveries("nope", AlertStatus::Sent, d)
        .await
        .expect("record"));

    let mut s = state("snoozed", 1, AlertState::Low);
    s.snooze = Some(Snooze {
        until: Some(now),
        until_topped_up: true,
        alert_id: Some("mail-1".into()),
        at: 5,
    });
    s.forecast_for = Some("2026-12-03".into());
    assert_eq!(
        store
            .commit_checks(vec![write(None, s.clone(), None, None)])
            .await
            .expect("commit"),
        vec![true]
    );
    assert_eq!(store.get_state("snoozed").await.expect("get"), Some(s));
}
