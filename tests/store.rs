//! The store contract: every backend must pass `store_contract`.

use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::{AlertKind, AlertRecord, AlertState, AlertStatus};
use balance_alert_core::store::{
    AlertQuery, BalancePoint, CheckWrite, SqliteStore, Store, SubscriptionState,
};

fn state(id: &str, version: u64, state: AlertState) -> ProjectState {
    ProjectState {
        project_id: id.into(),
        project_name: format!("name-{id}"),
        provider: "openrouter".into(),
        state,
        balance: Some(5.0),
        currency: "USD".into(),
        consecutive_failures: 0,
        last_alert_at: None,
        last_checked_at: 100 * version as i64,
        last_success_at: Some(100),
        last_error: None,
        version,
        stale_reason: None,
    }
}

fn alert(id: &str, project: &str, at: i64) -> AlertRecord {
    AlertRecord {
        id: id.into(),
        project_id: project.into(),
        project_name: format!("name-{project}"),
        provider: "openrouter".into(),
        kind: AlertKind::Low,
        state: AlertState::Low,
        balance: Some(1.0),
        threshold: 10.0,
        currency: "USD".into(),
        message: "low".into(),
        status: AlertStatus::Pending,
        created_at: at,
    }
}

fn point(project: &str, balance: f64, at: i64) -> BalancePoint {
    BalancePoint {
        project_id: project.into(),
        project_name: format!("name-{project}"),
        provider: "openrouter".into(),
        balance,
        threshold: 10.0,
        currency: "USD".into(),
        timestamp: at,
    }
}

fn write(
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
    }
}

/// The behaviour every [`Store`] backend must have.
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
        vec![5.0, 1.0]
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
}

#[tokio::test]
async fn sqlite_file_store_passes_the_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("nested/dir/state.db")).expect("opens");
    store_contract(&store).await;
}

#[tokio::test]
async fn sqlite_in_memory_store_passes_the_contract() {
    store_contract(&SqliteStore::in_memory().expect("opens")).await;
}

#[tokio::test]
async fn sqlite_reopen_keeps_data_and_does_not_rerun_migrations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).expect("opens");
    store
        .commit_checks(vec![write(None, state("p", 1, AlertState::Ok), None, None)])
        .await
        .expect("commit");
    drop(store);
    let again = SqliteStore::open(&path).expect("reopens");
    assert_eq!(again.list_states().await.expect("list").len(), 1);
}

#[tokio::test]
async fn a_version_one_database_is_migrated_in_place() {
    // GIVEN a database created by the first schema only
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("v1.db");
    let conn = rusqlite::Connection::open(&path).expect("create");
    conn.execute_batch(include_str!(
        "../shared/core/src/store/migrations/001_initial.sql"
    ))
    .expect("v1 schema");
    conn.execute_batch("PRAGMA user_version = 1")
        .expect("version");
    drop(conn);
    // WHEN the store opens it THEN later migrations run and the data contract holds
    let store = SqliteStore::open(&path).expect("opens and migrates");
    let conn = rusqlite::Connection::open(&path).expect("reopen");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 3);
    let indexes: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'idx_balance_ts'",
            [],
            |r| r.get(0),
        )
        .expect("index");
    assert_eq!(indexes, 1);
    store_contract(&store).await;
}
