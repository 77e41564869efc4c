//! Check runs driving the alert state machine through a real store.

use balance_alert_core::config::{ProjectConfig, Settings};
use balance_alert_core::engine::CacheMode;
use balance_alert_core::model::{AlertKind, AlertState, AlertStatus};
use balance_alert_core::monitor::{run_checks, WriteMode};
use balance_alert_core::store::{AlertQuery, SqliteStore, Store};
use fake_providers::FakeServer;

use crate::util::{engine, fast_settings, project};

async fn run(
    store: &dyn Store,
    settings: &Settings,
    p: &ProjectConfig,
    now: i64,
) -> Vec<AlertKind> {
    let run = run_checks(
        &engine(settings),
        store,
        settings,
        &[p],
        CacheMode::Bypass,
        WriteMode::Persist,
        now,
    )
    .await
    .expect("run succeeds");
    run.alerts.iter().map(|a| a.kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_fires_once_when_two_checks_race() {
    // GIVEN two checkers with their own connections to one database file
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("state.db");
    let settings = fast_settings();
    let p = project("Main", "openrouter", &s.base_url(), "bal:2", 10.0);
    for round in 0..20 {
        let (a, b) = (
            SqliteStore::open(&path).expect("a"),
            SqliteStore::open(&path).expect("b"),
        );
        let now = 1_000 + round;
        // WHEN both check the same low project at the same time
        let (ea, eb, projects) = (engine(&settings), engine(&settings), [&p]);
        let (ra, rb) = tokio::join!(
            run_checks(
                &ea,
                &a,
                &settings,
                &projects,
                CacheMode::Bypass,
                WriteMode::Persist,
                now
            ),
            run_checks(
                &eb,
                &b,
                &settings,
                &projects,
                CacheMode::Bypass,
                WriteMode::Persist,
                now
            ),
        );
        let produced = ra.expect("a runs").alerts.len() + rb.expect("b runs").alerts.len();
        // THEN exactly one LOW alert exists over all rounds (the first round raises it)
        assert_eq!(produced, usize::from(round == 0), "round {round}");
    }
    let store = SqliteStore::open(&path).expect("open");
    let alerts = store
        .alerts(AlertQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].kind, alerts[0].status),
        (AlertKind::Low, AlertStatus::Pending)
    );
    assert_eq!(
        store
            .get_state(&p.id())
            .await
            .expect("state")
            .expect("exists")
            .version,
        40
    );
}

#[tokio::test]
async fn a_project_walks_low_critical_recovered_and_failing() {
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let store = SqliteStore::in_memory().expect("store");
    let mut settings = fast_settings();
    settings.max_retries = 0;
    let url = s.base_url();
    let mut p = project("Main", "deepseek", &url, "bal:50", 10.0);
    p.critical_threshold = Some(2.0);
    let mut step = |token: &str| {
        p.api_key = balance_alert_core::config::Secret::new(token);
        p.clone()
    };
    assert!(run(&store, &settings, &step("bal:50"), 1).await.is_empty());
    assert_eq!(
        run(&store, &settings, &step("bal:5"), 2).await,
        vec![AlertKind::Low]
    );
    assert!(
        run(&store, &settings, &step("bal:4"), 3).await.is_empty(),
        "still low: no repeat"
    );
    assert_eq!(
        run(&store, &settings, &step("bal:1"), 4).await,
        vec![AlertKind::Critical]
    );
    assert_eq!(
        run(&store, &settings, &step("bal:30"), 5).await,
        vec![AlertKind::Recovered]
    );
    for t in 6..8 {
        assert!(
            run(&store, &settings, &step("status:500"), t)
                .await
                .is_empty(),
            "below K"
        );
    }
    assert_eq!(
        run(&store, &settings, &step("status:500"), 8).await,
        vec![AlertKind::Failing]
    );
    let state = store
        .get_state(&p.id())
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(state.state, AlertState::Failing);
    assert_eq!(state.consecutive_failures, 3);
    assert!(state
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("HTTP 500")));
    assert!(
        !state.last_error.unwrap_or_default().contains("status:500"),
        "key redacted"
    );
    // Balance history holds only the successful readings.
    let history = store
        .balance_history(&p.id(), 0, 100)
        .await
        .expect("history");
    assert_eq!(
        history.iter().map(|h| h.balance).collect::<Vec<_>>(),
        vec![50.0, 5.0, 4.0, 1.0, 30.0]
    );
}

#[tokio::test]
async fn still_low_project_is_reminded_after_the_cooldown() {
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let store = SqliteStore::in_memory().expect("store");
    let settings = Settings {
        alert_cooldown_seconds: 100,
        ..fast_settings()
    };
    let p = project("Main", "moonshot", &s.base_url(), "bal:1", 10.0);
    assert_eq!(run(&store, &settings, &p, 0).await, vec![AlertKind::Low]);
    assert!(run(&store, &settings, &p, 99).await.is_empty());
    assert_eq!(
        run(&store, &settings, &p, 100).await,
        vec![AlertKind::Reminder]
    );
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let store = SqliteStore::in_memory().expect("store");
    let settings = fast_settings();
    let p = project("Main", "openrouter", &s.base_url(), "bal:1", 10.0);
    let run = run_checks(
        &engine(&settings),
        &store,
        &settings,
        &[&p],
        CacheMode::Bypass,
        WriteMode::DryRun,
        1,
    )
    .await
    .expect("runs");
    assert_eq!(run.report.projects[0].state, AlertState::Low);
    assert!(run.alerts.is_empty());
    assert!(store.list_states().await.expect("list").is_empty());
}

#[tokio::test]
async fn renewal_reminder_is_recorded_once_per_renewal_date() {
    use balance_alert_core::monitor::run_subscriptions;
    let doc = serde_json::json!({"projects": [], "subscriptions": [
        {"name": "Cloud", "cycle_type": "monthly", "renewal_day": 28, "alert_days_before": 3, "amount": 9, "currency": "USD"},
        {"name": "Paid", "cycle_type": "monthly", "renewal_day": 28, "alert_days_before": 3, "last_renewed_date": "2026-11-25"},
        {"name": "Later", "cycle_type": "monthly", "renewal_day": 15}
    ]});
    let config = crate::util::parse_config(&doc, &[]).expect("config");
    let store = SqliteStore::in_memory().expect("store");
    let today: chrono::NaiveDate = "2026-11-26".parse().expect("date");
    let first = run_subscriptions(&store, &config, today, WriteMode::Persist, 100)
        .await
        .expect("run");
    let reminded: Vec<&str> = first
        .iter()
        .filter(|c| c.reminder.is_some())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        reminded,
        vec!["Cloud"],
        "Paid renewed this cycle; Later is not due"
    );
    let again = run_subscriptions(&store, &config, today, WriteMode::Persist, 200)
        .await
        .expect("run");
    assert!(
        again.iter().all(|c| c.reminder.is_none()),
        "one reminder per renewal date"
    );
    let alerts = store
        .alerts(AlertQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, AlertKind::Renewal);
    assert_eq!(
        alerts[0].message,
        "Cloud: renews in 2 day(s) on 2026-11-28 (9.00 USD)"
    );
}

#[tokio::test]
async fn a_slow_provider_does_not_hold_back_the_others_results() {
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let store = SqliteStore::in_memory().expect("store");
    let settings = Settings {
        request_timeout_seconds: 10.0,
        ..fast_settings()
    };
    let slow = project("Slow", "openrouter", &s.base_url(), "slow:3000:50", 10.0);
    let fast = project("Fast", "deepseek", &s.base_url(), "bal:50", 10.0);
    let e = engine(&settings);
    let started = std::time::Instant::now();
    let fast_id = fast.id();
    let both = [&slow, &fast];
    // WHEN both run in one check run, THEN Fast's result is stored long before Slow answers.
    let (run, fast_stored) = tokio::join!(
        run_checks(
            &e,
            &store,
            &settings,
            &both,
            CacheMode::Bypass,
            WriteMode::Persist,
            1
        ),
        async {
            while store.get_state(&fast_id).await.expect("get").is_none() {
                tokio::task::yield_now().await;
            }
            started.elapsed()
        }
    );
    let finished = started.elapsed();
    assert_eq!(run.expect("run").report.summary.success, 2);
    assert!(finished >= std::time::Duration::from_millis(3000));
    assert!(
        fast_stored < std::time::Duration::from_millis(2000),
        "fast stored after {fast_stored:?}"
    );
}
