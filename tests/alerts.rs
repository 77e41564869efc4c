//! Check runs driving the alert state machine through a real store.

use balance_alert_core::check::engine::CacheMode;
use balance_alert_core::check::{commit::run_checks, WriteMode};
use balance_alert_core::config::{ProjectConfig, Settings};
use balance_alert_core::model::{AlertKind, AlertState, AlertStatus};
use balance_alert_core::store::{AlertQuery, Outbox, Readings, States, Store};
use balance_alert_store_sqlite::SqliteStore;
use fake_providers::FakeServer;

use crate::util::{dec, engine, fast_settings, project};

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
    p.critical_threshold = Some(dec(2.0));
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
        [50.0, 5.0, 4.0, 1.0, 30.0].map(dec).to_vec()
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
    use balance_alert_core::check::housekeeping::run_subscriptions;
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
    // Stored in the configured language (zh by default); rendered in either from its facts.
    assert_eq!(
        alerts[0].message,
        "Cloud：2 天后续费（2026-11-28，9.00 USD）"
    );
    assert_eq!(
        balance_alert_core::model::text::alert_text(
            &alerts[0],
            balance_alert_core::model::Language::En
        ),
        "Cloud: renews in 2 days on 2026-11-28 (9.00 USD)"
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

/// Runs every project once through `engine` and returns the run.
async fn run_all(
    engine: &balance_alert_core::check::engine::Engine,
    store: &dyn Store,
    settings: &Settings,
    projects: &[ProjectConfig],
    now: i64,
) -> balance_alert_core::check::CheckRun {
    let refs: Vec<&ProjectConfig> = projects.iter().collect();
    run_checks(
        engine,
        store,
        settings,
        &refs,
        CacheMode::Bypass,
        WriteMode::Persist,
        now,
    )
    .await
    .expect("run succeeds")
}

#[tokio::test]
async fn one_keys_errors_never_fail_a_healthy_project_on_the_same_endpoint() {
    // GIVEN five projects whose key gets HTTP 500 and a healthy one on the same endpoint,
    // checked one at a time without retries (the reproduction in the issue)
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let url = s.base_url();
    let mut settings = fast_settings();
    settings.max_concurrent_checks = 1;
    settings.max_retries = 0;
    let mut projects: Vec<ProjectConfig> = (0..5)
        .map(|i| project(&format!("bad{i}"), "openrouter", &url, "status:500", 1.0))
        .collect();
    projects.push(project("healthy", "openrouter", &url, "bal:50", 10.0));
    let store = SqliteStore::in_memory().expect("store");
    let long_lived = engine(&settings);
    // WHEN it runs three times as `check` does (a fresh engine each run) and three times as
    // `serve` does (one engine whose breakers remember)
    for round in 0..6 {
        let fresh = engine(&settings);
        let e = if round < 3 { &fresh } else { &long_lived };
        let run = run_all(e, &store, &settings, &projects, 100 + round).await;
        // THEN the healthy project is really checked every time and never alerts
        let healthy = &run.report.projects[5];
        assert!(
            healthy.success && !healthy.stale,
            "round {round}: {healthy:?}"
        );
        assert_eq!(healthy.state, AlertState::Ok);
        assert!(
            run.alerts.iter().all(|a| a.project_name != "healthy"),
            "round {round}: {:?}",
            run.alerts
        );
    }
    // AND the failing key's projects are FAILING after K = 3 real attempts each
    let states = store.list_states().await.expect("states");
    for st in states
        .iter()
        .filter(|st| st.project_name.starts_with("bad"))
    {
        assert_eq!(st.state, AlertState::Failing, "{st:?}");
    }
}

#[tokio::test]
async fn a_provider_that_is_really_down_fails_every_project_after_k_attempts() {
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let url = s.base_url();
    let mut settings = fast_settings();
    settings.max_retries = 0;
    settings.max_concurrent_checks = 1;
    let projects: Vec<ProjectConfig> = (0..8)
        .map(|i| {
            project(
                &format!("p{i}"),
                "moonshot",
                &url,
                &format!("status:503:{i}"),
                1.0,
            )
        })
        .collect();
    let store = SqliteStore::in_memory().expect("store");
    let e = engine(&settings);
    let mut failing_alerts = 0;
    for round in 0..3 {
        let run = run_all(&e, &store, &settings, &projects, 100 + round).await;
        assert_eq!(run.report.summary.skipped, 0, "every key is tried");
        failing_alerts += run
            .alerts
            .iter()
            .filter(|a| a.kind == AlertKind::Failing)
            .count();
    }
    assert_eq!(failing_alerts, 8, "one FAILING alert per project");
    for i in 0..8 {
        assert_eq!(s.hits(&format!("status:503:{i}")), 3);
    }
}

#[tokio::test]
async fn a_check_not_attempted_keeps_the_last_reading_marked_stale() {
    // GIVEN a project read OK earlier, sharing its key with one that now fails
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let url = s.base_url();
    let mut settings = fast_settings();
    settings.max_retries = 0;
    settings.max_concurrent_checks = 1;
    settings.circuit_breaker_failures = 1;
    let store = SqliteStore::in_memory().expect("store");
    let earlier = project("shared", "moonshot", &url, "bal:42", 10.0);
    run_all(&engine(&settings), &store, &settings, &[earlier], 10).await;
    let first = project("first", "moonshot", &url, "status:503", 1.0);
    let second = project("shared", "moonshot", &url, "status:503", 10.0);
    // WHEN the first check opens the key's breaker and the second is therefore skipped
    let run = run_all(
        &engine(&settings),
        &store,
        &settings,
        &[first, second.clone()],
        20,
    )
    .await;
    // THEN the second keeps its reading and state, marked stale, with no failure counted
    let line = &run.report.projects[1];
    assert!(line.stale, "{line:?}");
    assert_eq!(line.credits, Some(dec(42.0)));
    assert_eq!(line.state, AlertState::Ok);
    assert!(line
        .stale_reason
        .as_deref()
        .is_some_and(|r| r.contains("circuit open")));
    assert_eq!(run.report.summary.skipped, 1);
    assert_eq!(run.report.summary.failed, 1);
    let st = store
        .get_state(&second.id())
        .await
        .expect("get")
        .expect("state");
    assert_eq!((st.consecutive_failures, st.last_checked_at), (0, 10));
    assert!(st.stale_reason.is_some());
    assert!(run.alerts.is_empty());
}

#[tokio::test]
async fn deepseek_without_a_currency_reports_a_debt_and_stays_in_its_currency() {
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let url = s.base_url();
    let settings = fast_settings();
    let store = SqliteStore::in_memory().expect("store");
    let e = engine(&settings);
    // A negative CNY balance next to an empty USD row is LOW, not "0 USD, ok".
    let debt = project("ds", "deepseek", &url, "rows:0.00:-5.00", 1.0);
    let run = run_all(&e, &store, &settings, &[debt], 10).await;
    let line = &run.report.projects[0];
    assert_eq!(
        (line.credits, line.currency.as_str()),
        (Some(dec(-5.0)), "CNY")
    );
    assert_eq!(line.state, AlertState::Low);
    // An account seen in CNY that falls to zero is reported as 0 CNY, not 0 USD.
    let funded = project("cn", "deepseek", &url, "rows:0.00:3.00", 1.0);
    run_all(&e, &store, &settings, &[funded], 20).await;
    let dry = project("cn", "deepseek", &url, "rows:0.00:0.00", 1.0);
    let run = run_all(&e, &store, &settings, &[dry], 30).await;
    assert_eq!(run.report.projects[0].currency, "CNY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_checkers_on_one_store_check_each_due_project_once() {
    use balance_alert_core::check::{run_due, Housekeeping, RunOptions, Selection};
    use balance_alert_core::config::Config;
    // GIVEN two processes (own engines, own connections) sharing one database file
    let s = FakeServer::start(std::time::Duration::from_millis(20))
        .await
        .expect("fake");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("state.db");
    let (a, b) = (
        SqliteStore::open(&path).expect("a"),
        SqliteStore::open(&path).expect("b"),
    );
    let settings = fast_settings();
    let config = Config {
        settings: settings.clone(),
        projects: (0..10)
            .map(|i| {
                project(
                    &format!("p{i}"),
                    "openrouter",
                    &s.base_url(),
                    &format!("bal:{i}"),
                    5.0,
                )
            })
            .collect(),
        ..Config::default()
    };
    let options = RunOptions {
        cache: CacheMode::Bypass,
        write: WriteMode::Persist,
        housekeeping: Housekeeping::Periodic,
    };
    // WHEN both run the due checks at the same moment
    let (ea, eb) = (engine(&settings), engine(&settings));
    let (ra, rb) = tokio::join!(
        run_due(&ea, &a, &config, &Selection::Due, options, 1_000),
        run_due(&eb, &b, &config, &Selection::Due, options, 1_000),
    );
    let (ra, rb) = (ra.expect("a runs"), rb.expect("b runs"));
    // THEN every project was checked exactly once between them
    assert_eq!(ra.checks.outcomes.len() + rb.checks.outcomes.len(), 10);
    for i in 0..10 {
        assert_eq!(s.hits(&format!("bal:{i}")), 1, "p{i} checked once");
    }
    // AND each LOW project (balance < 5) alerted exactly once
    assert_eq!(ra.checks.alerts.len() + rb.checks.alerts.len(), 5);
    // AND nothing is due again right away, for either of them
    let again = run_due(&ea, &a, &config, &Selection::Due, options, 1_001)
        .await
        .expect("runs");
    assert!(again.checks.outcomes.is_empty());
    assert!(again.next_due_at.is_some_and(|t| t > 1_001));
    // AND subscriptions/pruning ran once for both (the periodic claim)
    assert!(ra.pruned + rb.pruned == 0);
}

#[tokio::test]
async fn a_manual_refresh_cooldown_holds_across_processes() {
    use balance_alert_core::check::{Checker, RunError};
    use balance_alert_core::config::{Config, LiveConfig, Loaded, Mode};
    use balance_alert_core::health::Status;
    use std::sync::Arc;
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("state.db");
    let mut settings = fast_settings();
    settings.refresh_cooldown_seconds = 600;
    let config = Config {
        settings,
        projects: vec![project("p", "openrouter", &s.base_url(), "bal:9", 1.0)],
        ..Config::default()
    };
    let checker = |store: SqliteStore| {
        let loaded = Loaded {
            config: config.clone(),
            mode: Mode::Env,
            path: None,
            raw: None,
            warnings: Vec::new(),
            content_hash: None,
        };
        let live = Arc::new(LiveConfig::from_loaded(
            std::path::Path::new("/nonexistent"),
            loaded,
            crate::util::env_map(&[]),
        ));
        Checker::new(
            live,
            Arc::new(store),
            Arc::new(Status::default()),
            Arc::new(balance_alert_services::Metrics::new()),
        )
    };
    let first = checker(SqliteStore::open(&path).expect("a"));
    let second = checker(SqliteStore::open(&path).expect("b"));
    first.refresh(None).await.expect("first refresh runs");
    match second.refresh(None).await {
        Err(RunError::CoolingDown(left)) => assert!(left > 500 && left <= 600, "{left}"),
        other => panic!("expected the cooldown, got {other:?}"),
    }
    assert_eq!(s.hits("bal:9"), 1);
}

#[tokio::test]
async fn amounts_are_exact_so_a_balance_equal_to_the_threshold_is_not_low() {
    // In f64, 100.1 − 90.1 = 9.999999999999986, which would be LOW at a threshold of 10.
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let settings = fast_settings();
    let store = SqliteStore::in_memory().expect("store");
    let p = project(
        "exact",
        "openrouter",
        &s.base_url(),
        "credits:100.1:90.1",
        10.0,
    );
    let run = run_all(
        &engine(&settings),
        &store,
        &settings,
        std::slice::from_ref(&p),
        10,
    )
    .await;
    let line = &run.report.projects[0];
    assert_eq!(line.credits, Some(dec(10.0)));
    assert_eq!(line.state, AlertState::Ok);
    assert!(run.alerts.is_empty(), "{:?}", run.alerts);
    // Stored and read back exactly, and serialised as the plain number.
    let history = store
        .balance_history(&p.id(), 0, 10)
        .await
        .expect("history");
    assert_eq!(history[0].balance, dec(10.0));
    let json = serde_json::to_value(line).expect("json");
    assert_eq!(json["credits"], serde_json::json!(10.0));
    let odd = project("odd", "openrouter", &s.base_url(), "credits:84.75:10", 1.0);
    let run = run_all(&engine(&settings), &store, &settings, &[odd], 20).await;
    assert_eq!(
        serde_json::to_string(&run.report.projects[0].credits).expect("json"),
        "74.75",
        "not 74.75000000000001"
    );
}

#[tokio::test]
async fn projects_sharing_a_key_each_reach_failing_in_a_long_lived_process() {
    // GIVEN three projects on one key at a provider that is down, checked by one long-lived
    // engine (as `serve` does) whose breaker opens after two failures and lets one trial
    // through a second later
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let url = s.base_url();
    let mut settings = fast_settings();
    settings.max_retries = 0;
    settings.max_concurrent_checks = 1;
    settings.circuit_breaker_failures = 2;
    settings.circuit_breaker_reset_seconds = 1;
    let projects: Vec<ProjectConfig> = ["a", "b", "c"]
        .iter()
        .map(|n| project(n, "moonshot", &url, "status:503", 1.0))
        .collect();
    let store = SqliteStore::in_memory().expect("store");
    let e = engine(&settings);
    // WHEN it checks them round after round (each round after the breaker's reset delay)
    let mut rounds = 0;
    loop {
        rounds += 1;
        run_all(&e, &store, &settings, &projects, 100 + rounds).await;
        let states = store.list_states().await.expect("states");
        let failing = states
            .iter()
            .filter(|st| st.state == AlertState::Failing && st.consecutive_failures >= 3)
            .count();
        if failing == 3 || rounds == 12 {
            break;
        }
        // The breaker's reset delay is wall time: let it pass.
        tokio::time::sleep(std::time::Duration::from_millis(1_050)).await;
    }
    // THEN each one got its own K = 3 real attempts (the trial rotates) and is FAILING
    let states = store.list_states().await.expect("states");
    for st in &states {
        assert_eq!(st.state, AlertState::Failing, "{st:?}");
        assert_eq!(st.consecutive_failures, 3, "{st:?}");
    }
    assert_eq!(s.hits("status:503"), 9, "three real attempts each, no more");
    assert!(rounds <= 8, "took {rounds} rounds");
}

#[tokio::test]
async fn without_smart_refresh_each_project_is_next_due_one_interval_later() {
    use balance_alert_core::check::{run_due, Housekeeping, RunOptions, Selection};
    use balance_alert_core::config::Config;
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let mut settings = fast_settings();
    settings.enable_smart_refresh = false;
    settings.balance_refresh_interval_seconds = 600;
    let mut p = project("p", "openrouter", &s.base_url(), "bal:1", 5.0);
    p.check_interval = Some(120);
    let config = Config {
        settings: settings.clone(),
        projects: vec![p, project("q", "openrouter", &s.base_url(), "bal:50", 5.0)],
        ..Config::default()
    };
    let store = SqliteStore::in_memory().expect("store");
    let options = RunOptions {
        cache: CacheMode::Bypass,
        write: WriteMode::Persist,
        housekeeping: Housekeeping::Never,
    };
    let now = chrono::Utc::now().timestamp();
    run_due(
        &engine(&settings),
        &store,
        &config,
        &Selection::Due,
        options,
        now,
    )
    .await
    .expect("runs");
    let mut schedules = store.schedules().await.expect("schedules");
    schedules.sort_by_key(|n| n.at);
    let ids = [config.projects[0].id(), config.projects[1].id()];
    assert_eq!(schedules[0].project_id, ids[0]);
    assert!(
        (120..=122).contains(&(schedules[0].at - now)),
        "{schedules:?}"
    );
    assert_eq!(schedules[1].project_id, ids[1]);
    assert!(
        (600..=602).contains(&(schedules[1].at - now)),
        "{schedules:?}"
    );
}

#[tokio::test]
async fn a_provider_failing_every_other_request_never_raises_failing() {
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let store = SqliteStore::in_memory().expect("store");
    let p = project("half", "openrouter", &s.base_url(), "half:50", 10.0);
    // Without retries every other check fails, but never K = 3 in a row: no alert at all.
    let mut settings = fast_settings();
    settings.max_retries = 0;
    let mut kinds = Vec::new();
    for round in 0..8 {
        kinds.extend(run(&store, &settings, &p, 100 + round).await);
    }
    assert!(kinds.is_empty(), "{kinds:?}");
    let st = store.get_state(&p.id()).await.expect("get").expect("state");
    assert_eq!(st.state, AlertState::Ok);
    assert!(st.consecutive_failures <= 1);
    // With one retry, every check succeeds.
    settings.max_retries = 1;
    for round in 0..4 {
        let run = run_all(
            &engine(&settings),
            &store,
            &settings,
            std::slice::from_ref(&p),
            200 + round,
        )
        .await;
        assert!(run.report.projects[0].success, "round {round}");
    }
}

#[tokio::test]
async fn a_falling_balance_raises_one_forecast_alert_per_run_out_date() {
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let store = SqliteStore::in_memory().expect("store");
    let day = 86_400;
    let t0 = 1_800_000_000;
    let config_with = |token: &str| {
        crate::util::parse_config(
            &serde_json::json!({
                "settings": {"max_retries": 0, "forecast_alert_days": 3, "timezone": "UTC",
                             "response_cache_ttl": 0},
                "projects": [{"name": "Main", "provider": "openrouter", "api_key": token,
                              "threshold": 10, "base_url": s.base_url(), "owner_project": "Team"}],
            }),
            &[],
        )
        .expect("config")
    };
    // 100 → 80 → 60 over two days: 20 a day, zero in three days.
    assert!(crate::util::run_at(&store, &config_with("bal:100"), t0)
        .await
        .is_empty());
    assert!(
        crate::util::run_at(&store, &config_with("bal:80"), t0 + day)
            .await
            .is_empty(),
        "5 days left"
    );
    let alerts = crate::util::run_at(&store, &config_with("bal:60"), t0 + 2 * day).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.kind, AlertKind::Forecast);
    assert_eq!(a.details.days_left, Some(3));
    assert_eq!(a.details.owner_project.as_deref(), Some("Team"));
    let date = chrono::DateTime::from_timestamp(t0 + 5 * day, 0)
        .expect("date")
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(a.details.due_date.as_deref(), Some(date.as_str()));
    assert!(a.message.contains(&date), "{}", a.message);
    // The same date next day: no repeat. A top-up is not spending: no forecast after it.
    assert!(
        crate::util::run_at(&store, &config_with("bal:40"), t0 + 3 * day)
            .await
            .is_empty()
    );
    assert!(
        crate::util::run_at(&store, &config_with("bal:500"), t0 + 4 * day)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn an_unchanged_balance_is_one_history_row_per_span_and_histories_end_at_the_latest_reading()
{
    // GIVEN a project read every 5 minutes, with the default 60-minute resolution
    let s = FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("fake");
    let store = SqliteStore::in_memory().expect("store");
    let settings = fast_settings();
    assert_eq!(settings.history_resolution_minutes, 60);
    let p = project("Main", "openrouter", &s.base_url(), "bal:50", 10.0);
    let hour = 1_764_000_000 / 3600 * 3600;
    // WHEN its balance stays at 50 for 50 minutes of one hour
    for minute in (0..55).step_by(5) {
        run(&store, &settings, &p, hour + minute * 60).await;
    }
    let id = p.id();
    let rows = || store.balance_history(&id, 0, 1000);
    // THEN the hour has one row, and the forecast's readings end at the last check
    assert_eq!(rows().await.expect("history").len(), 1);
    let readings = balance_alert_core::forecast::readings(&store, &p.id(), hour + 3000)
        .await
        .expect("readings");
    let times: Vec<i64> = readings.iter().map(|r| r.timestamp).collect();
    assert_eq!(times, vec![hour, hour + 3000]);
    // AND the next hour's first check stores a row, as does a changed balance at once
    run(&store, &settings, &p, hour + 3600).await;
    assert_eq!(rows().await.expect("history").len(), 2);
    let lower = project("Main", "openrouter", &s.base_url(), "bal:40", 10.0);
    run(&store, &settings, &lower, hour + 3900).await;
    let history = rows().await.expect("history");
    assert_eq!(history.len(), 3);
    assert_eq!(history.last().map(|r| r.balance), Some(dec(40.0)));
}
