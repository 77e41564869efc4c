//! The contract every [`Store`] backend must meet, as one suite: call
//! [`store_contract`] on an empty store from the backend crate's tests.

use crate::model::alert::ProjectState;
use crate::model::{AlertKind, AlertRecord, AlertState, AlertStatus, Decimal};
use crate::store::{
    AlertQuery, BalancePoint, CheckWrite, Claimant, Lease, NextCheck, Store, SubscriptionState,
};

/// A state for tests: project `id` at `version`.
pub fn state(id: &str, version: u64, state: AlertState) -> ProjectState {
    ProjectState {
        project_id: id.into(),
        project_name: format!("name-{id}"),
        provider: "openrouter".into(),
        state,
        balance: Some(Decimal::new(505, 2)),
        currency: "USD".into(),
        consecutive_failures: 0,
        last_alert_at: None,
        last_checked_at: 100 * version as i64,
        last_success_at: Some(100),
        last_error: None,
        version,
        stale_reason: None,
        cached: false,
        snooze: None,
        forecast_for: None,
        prior_state: None,
    }
}

/// A pending LOW alert for tests.
pub fn alert(id: &str, project: &str, at: i64) -> AlertRecord {
    AlertRecord {
        id: id.into(),
        project_id: project.into(),
        project_name: format!("name-{project}"),
        provider: "openrouter".into(),
        kind: AlertKind::Low,
        state: AlertState::Low,
        balance: Some(Decimal::new(99, 2)),
        threshold: Decimal::new(1000, 2),
        currency: "USD".into(),
        message: "low".into(),
        status: AlertStatus::Pending,
        created_at: at,
        details: Default::default(),
        deliveries: Vec::new(),
    }
}

/// A reading for tests.
pub fn point(project: &str, balance: f64, at: i64) -> BalancePoint {
    BalancePoint {
        project_id: project.into(),
        project_name: format!("name-{project}"),
        provider: "openrouter".into(),
        balance: Decimal::try_from(balance).expect("a finite test amount"),
        threshold: Decimal::new(1000, 2),
        currency: "USD".into(),
        timestamp: at,
        ..Default::default()
    }
}

/// A conditional write for tests.
pub fn write(
    expected: Option<u64>,
    s: ProjectState,
    a: Option<AlertRecord>,
    p: Option<BalancePoint>,
) -> CheckWrite {
    CheckWrite {
        expected_version: expected,
        state: s,
        alert: a,
        point: p,
        next: None,
    }
}

/// The behaviour every [`Store`] backend must have. Call it on an empty store.
pub async fn store_contract(store: &dyn Store) {
    // GIVEN an empty store
    assert!(store.list_states().await.expect("list").is_empty());
    assert_eq!(store.get_state("p1").await.expect("get"), None);

    // WHEN a first write expects "absent", it applies with its alert and point
    let applied = store
        .commit_checks(vec![write(
            None,
            state("p1", 1, AlertState::Low),
            Some(alert("a1", "p1", 100)),
            Some(point("p1", 5.0, 100)),
        )])
        .await
        .expect("commit");
    assert_eq!(applied, vec![true]);
    assert_eq!(
        store.get_state("p1").await.expect("get"),
        Some(state("p1", 1, AlertState::Low))
    );

    // THEN a second "absent" write for the same project loses, leaving no trace
    let applied = store
        .commit_checks(vec![write(
            None,
            state("p1", 1, AlertState::Ok),
            Some(alert("a-lost", "p1", 101)),
            Some(point("p1", 99.0, 101)),
        )])
        .await
        .expect("commit");
    assert_eq!(applied, vec![false]);
    assert_eq!(
        store.get_state("p1").await.expect("get").map(|s| s.state),
        Some(AlertState::Low)
    );

    // Version-checked updates: stale loses, current wins; a batch mixes both independently.
    let applied = store
        .commit_checks(vec![
            write(Some(7), state("p1", 8, AlertState::Ok), None, None),
            write(
                Some(1),
                state("p1", 2, AlertState::Critical),
                Some(alert("a2", "p1", 200)),
                Some(point("p1", 1.0, 200)),
            ),
            write(
                None,
                state("p2", 1, AlertState::Ok),
                None,
                Some(point("p2", 50.0, 200)),
            ),
        ])
        .await
        .expect("commit");
    assert_eq!(applied, vec![false, true, true]);
    let states = store.list_states().await.expect("list");
    assert_eq!(states.len(), 2);
    assert_eq!(
        store
            .get_state("p1")
            .await
            .expect("get")
            .expect("exists")
            .version,
        2
    );

    // History: only applied points, oldest first, limited to the most recent.
    let history = store.balance_history("p1", 0, 10).await.expect("history");
    assert_eq!(
        history.iter().map(|p| p.balance).collect::<Vec<_>>(),
        vec![Decimal::from(5), Decimal::from(1)]
    );
    let latest = store.balance_history("p1", 0, 1).await.expect("history");
    assert_eq!(
        latest.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
        vec![200]
    );
    assert!(store
        .balance_history("p1", 150, 10)
        .await
        .expect("history")
        .iter()
        .all(|p| p.timestamp >= 150));

    // Readings across projects: the newest, oldest first, by provider.
    let recent = store.recent_readings(None, 0, 2).await.expect("recent");
    assert_eq!(
        recent.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
        vec![200, 200],
        "{recent:?}"
    );
    // Ties (one run, one second) are ordered by project id, on every backend.
    let newest = store.recent_readings(None, 0, 1).await.expect("recent");
    assert_eq!(newest[0].project_id, "p2", "{newest:?}");
    let all = store.recent_readings(None, 0, 10).await.expect("recent");
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert!(store
        .recent_readings(Some("deepseek"), 0, 10)
        .await
        .expect("recent")
        .is_empty());
    assert_eq!(
        store
            .recent_readings(Some("openrouter"), 150, 10)
            .await
            .expect("recent")
            .len(),
        2
    );

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

    // Subscriptions: one reminder per renewal date.
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

    // Retention.
    let removed = store.prune(150).await.expect("prune");
    assert!(removed >= 2, "old point and alert removed, got {removed}");
    assert_eq!(
        store
            .balance_history("p1", 0, 10)
            .await
            .expect("history")
            .len(),
        1
    );
    assert!(store
        .alerts(AlertQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("alerts")
        .iter()
        .all(|a| a.created_at >= 150));
    runtime_contract(store).await;
    send_window_contract(store).await;
    stale_and_cached_round_trip(store).await;
    delivery_contract(store).await;
    readings_contract(store).await;
}

/// The outbox's per-channel outcomes, stand-alone alerts, alert details and snoozes.
async fn delivery_contract(store: &dyn Store) {
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

/// Schedules, cooldowns, the outbox and the config document.
/// Send counters: grants never pass the limit, fewer are granted when fewer are left, and
/// concurrent takers share the window (every process's rate limit counts here).
async fn send_window_contract(store: &dyn Store) {
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

async fn runtime_contract(store: &dyn Store) {
    // Leases: free, then held by its taker (who renews it) until it expires; of two takers at
    // once exactly one gets it; released by its owner only; a node's leases freed at once.
    let (a, b) = (Claimant::of_node("node-a"), Claimant::anonymous());
    let lease = |by: &Claimant, now: i64, until: i64| {
        let by = by.clone();
        async move {
            store
                .take_lease(&Lease::Checks, &by, now, until)
                .await
                .expect("lease")
        }
    };
    assert!(lease(&a, 1_000, 1_030).await);
    assert!(!lease(&b, 1_010, 1_040).await, "held by a until 1030");
    assert!(lease(&a, 1_020, 1_050).await, "a renews its own");
    assert!(!lease(&b, 1_049, 1_080).await, "renewed until 1050");
    assert!(lease(&b, 1_050, 1_080).await, "expired: b takes it");
    assert!(!lease(&a, 1_060, 1_090).await, "a's lease is gone");
    store
        .release_lease(&Lease::Checks, &a.owner)
        .await
        .expect("release");
    assert!(!lease(&a, 1_061, 1_090).await, "only the owner releases");
    store
        .release_lease(&Lease::Checks, &b.owner)
        .await
        .expect("release");
    assert!(lease(&a, 1_062, 1_090).await, "released: free at once");
    assert!(
        store
            .take_lease(&Lease::Prune, &b, 1_062, 1_090)
            .await
            .expect("lease"),
        "leases are independent"
    );
    assert_eq!(store.release_node_leases("node-a").await.expect("free"), 1);
    assert_eq!(store.release_node_leases("node-a").await.expect("free"), 0);
    assert!(lease(&b, 1_063, 1_090).await, "node-a's lease freed");
    assert!(!store
        .take_lease(&Lease::Prune, &a, 1_063, 1_090)
        .await
        .expect("lease"));

    // Each next check keeps the fingerprint given with it; a repeated id keeps its last entry.
    let fingerprinted = |id: &str, at, f: &str| NextCheck {
        fingerprint: Some(f.into()),
        ..NextCheck::at(id, at)
    };
    store
        .set_next_checks(vec![
            fingerprinted("c1", 1_900, "old"),
            fingerprinted("c1", 2_000, "f1"),
            NextCheck::at("c2", 1_200),
        ])
        .await
        .expect("set");
    let mut schedules = store.schedules().await.expect("schedules");
    schedules.sort();
    assert_eq!(
        schedules,
        vec![fingerprinted("c1", 2_000, "f1"), NextCheck::at("c2", 1_200)]
    );
    // A scheduled project is not checked yet: it has no state.
    assert_eq!(store.get_state("c1").await.expect("get"), None);
    assert!(store
        .list_states()
        .await
        .expect("list")
        .iter()
        .all(|s| s.project_id != "c1"));

    // A check written with its next check: state and schedule in one write, the state's other
    // fields and the schedule of others untouched; a lost race writes neither.
    let n = |at| NextCheck {
        fingerprint: Some("fp".into()),
        ..NextCheck::at("c1", at)
    };
    let mut c1 = state("c1", 1, AlertState::Ok);
    c1.last_error = Some("was failing".into());
    assert_eq!(
        store
            .commit_checks(vec![CheckWrite {
                next: Some(n(3_000)),
                ..write(None, c1.clone(), None, None)
            }])
            .await
            .expect("commit"),
        vec![true]
    );
    assert_eq!(store.get_state("c1").await.expect("get"), Some(c1.clone()));
    let schedule_of = |id: &'static str| async move {
        store
            .schedules()
            .await
            .expect("schedules")
            .into_iter()
            .find(|s| s.project_id == id)
    };
    assert_eq!(schedule_of("c1").await, Some(n(3_000)));
    let mut c1b = state("c1", 2, AlertState::Ok);
    c1b.last_error = None;
    let lost = CheckWrite {
        next: Some(n(9_000)),
        ..write(Some(7), c1b.clone(), None, None)
    };
    assert_eq!(
        store.commit_checks(vec![lost]).await.expect("commit"),
        vec![false]
    );
    assert_eq!(
        schedule_of("c1").await,
        Some(n(3_000)),
        "a lost write schedules nothing"
    );
    // Without a next check, a commit keeps the schedule; a field the state lost is gone.
    assert_eq!(
        store
            .commit_checks(vec![write(Some(1), c1b.clone(), None, None)])
            .await
            .expect("commit"),
        vec![true]
    );
    assert_eq!(store.get_state("c1").await.expect("get"), Some(c1b));
    assert_eq!(schedule_of("c1").await, Some(n(3_000)));

    // Cooldowns: free, then held until it expires, then free again.
    assert_eq!(
        store
            .claim(&Lease::Refresh, 100, 130)
            .await
            .expect("cooldown"),
        None
    );
    assert_eq!(
        store
            .claim(&Lease::Refresh, 110, 140)
            .await
            .expect("cooldown"),
        Some(130)
    );
    assert_eq!(
        store
            .claim(&Lease::Prune, 110, 140)
            .await
            .expect("cooldown"),
        None
    );
    assert_eq!(
        store
            .claim(&Lease::Refresh, 130, 160)
            .await
            .expect("cooldown"),
        None
    );
    // Released: free at once; releasing what is not held is no error.
    store.release_claim(&Lease::Refresh).await.expect("release");
    assert_eq!(
        store
            .claim(&Lease::Refresh, 131, 170)
            .await
            .expect("cooldown"),
        None
    );
    store
        .release_claim(&Lease::MailScan)
        .await
        .expect("release");

    // The outbox: pending alerts oldest first; a delivered one leaves it.
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

    // The config document: created once, then versioned conditional updates; its version
    // reads alone as it stands.
    assert_eq!(store.config_document().await.expect("doc"), None);
    assert_eq!(store.config_version().await.expect("version"), None);
    let v1 = store
        .put_config_document("{\"projects\":[]}".into(), None, 10)
        .await
        .expect("put")
        .expect("created");
    assert_eq!(store.config_version().await.expect("version"), Some(v1));
    assert_eq!(
        store
            .put_config_document("{}".into(), None, 11)
            .await
            .expect("put"),
        None,
        "a second create loses"
    );
    let v2 = store
        .put_config_document("{\"projects\":[1]}".into(), Some(v1), 12)
        .await
        .expect("put")
        .expect("current version wins");
    assert!(v2 > v1);
    assert_eq!(
        store
            .put_config_document("{}".into(), Some(v1), 13)
            .await
            .expect("put"),
        None,
        "a stale version loses"
    );
    let doc = store.config_document().await.expect("doc").expect("exists");
    assert_eq!(
        (doc.text.as_str(), doc.version, doc.updated_at),
        ("{\"projects\":[1]}", v2, 12)
    );
    assert_eq!(
        store.config_version().await.expect("version"),
        Some(v2),
        "the version of the document as it stands, after a lost write too"
    );
}

/// The stale mark and cache flag survive a round trip.
async fn stale_and_cached_round_trip(store: &dyn Store) {
    let mut s = state("st", 1, AlertState::Ok);
    s.stale_reason = Some("not checked: circuit open".into());
    s.cached = true;
    assert_eq!(
        store
            .commit_checks(vec![write(None, s.clone(), None, None)])
            .await
            .expect("commit"),
        vec![true]
    );
    assert_eq!(store.get_state("st").await.expect("get"), Some(s.clone()));
    assert!(store.ping().await.is_ok());
    let newest = store
        .list_states()
        .await
        .expect("states")
        .iter()
        .map(|s| s.last_checked_at)
        .max();
    assert_eq!(store.newest_check().await.expect("newest"), newest);
}

/// Each project's newest reading with its facts, and sparkline thinning: at most `points`
/// readings per project in the window, each span's newest, oldest first.
async fn readings_contract(store: &dyn Store) {
    // GIVEN project r1 with readings at 1000..1900 every 100 s, the last one noted and unlimited
    let mut version = None;
    for (i, t) in (1000..2000).step_by(100).enumerate() {
        let mut p = point("r1", 100.0 - i as f64, t);
        if t == 1900 {
            p.note = Some("also 500.00 CNY".into());
            p.unlimited = true;
            p.estimate = true;
        }
        let next = version.map_or(1, |v| v + 1);
        let applied = store
            .commit_checks(vec![write(
                version,
                state("r1", next, AlertState::Ok),
                None,
                Some(p),
            )])
            .await
            .expect("commit");
        assert_eq!(applied, vec![true]);
        version = Some(next);
    }
    // AND project r2 with one reading outside the window
    store
        .commit_checks(vec![write(
            None,
            state("r2", 1, AlertState::Ok),
            None,
            Some(point("r2", 7.0, 500)),
        )])
        .await
        .expect("commit");

    // THEN the newest reading of r1 carries its facts
    let latest = store.latest_readings().await.expect("latest");
    let r1: Vec<&BalancePoint> = latest.iter().filter(|p| p.project_id == "r1").collect();
    assert_eq!(r1.len(), 1, "one newest reading per project");
    assert_eq!(
        (
            r1[0].timestamp,
            r1[0].note.as_deref(),
            r1[0].estimate,
            r1[0].unlimited
        ),
        (1900, Some("also 500.00 CNY"), true, true)
    );
    assert!(latest
        .iter()
        .any(|p| p.project_id == "r2" && p.timestamp == 500));

    // WHEN the window [1000, 2000) is thinned to 4 points
    let ids = vec!["r1".to_owned(), "r2".to_owned()];
    let thinned = store
        .downsampled_history(&ids, 1000, 2000, 4)
        .await
        .expect("thinned");
    // THEN r1 keeps each 250 s span's newest reading, oldest first; r2 has none in the window
    let times: Vec<i64> = thinned
        .iter()
        .filter(|p| p.project_id == "r1")
        .map(|p| p.timestamp)
        .collect();
    assert_eq!(times, vec![1200, 1400, 1700, 1900]);
    assert!(thinned.iter().all(|p| p.project_id == "r1"));
    // AND a project not asked for is left out
    let only_r2 = store
        .downsampled_history(&["r2".to_owned()], 0, 2000, 4)
        .await
        .expect("thinned");
    assert_eq!(only_r2.len(), 1);
    assert_eq!(only_r2[0].project_id, "r2");
}
