//! The contract of [`Subscriptions`]: one reminder per renewal date.

use super::alert;
use crate::store::{AlertQuery, Store, SubscriptionState};

/// Subscriptions: one reminder per renewal date, each reminder an alert.
pub(super) async fn reminders(store: &dyn Store) {
    let sub = |days: i64, date: &str, at: i64| SubscriptionState {
        subscription_id: "s1".into(),
        name: "Copilot".into(),
        next_renewal_date: date.into(),
        days_until_renewal: days,
        reminded_for: None,
        updated_at: at,
    };
    assert!(store
        .record_subscription(sub(3, "2026-12-01", 300), Some(alert("r1", "s1", 300)))
        .await
        .expect("sub"));
    assert!(!store
        .record_subscription(sub(2, "2026-12-01", 400), Some(alert("r2", "s1", 400)))
        .await
        .expect("sub"));
    assert!(store
        .record_subscription(sub(3, "2027-01-01", 500), Some(alert("r3", "s1", 500)))
        .await
        .expect("sub"));
    let subs = store.subscription_states().await.expect("subs");
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].reminded_for.as_deref(), Some("2027-01-01"));
    let reminders = store
        .alerts(AlertQuery {
            project_id: Some("s1".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(
        reminders.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        vec!["r3", "r1"]
    );
}
