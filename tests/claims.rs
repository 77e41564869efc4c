//! The checking lease: one run checks due projects at a time, under a short lease renewed while
//! it works, and a restarted server checks at once what its crashed predecessor held — never
//! while another live process holds it.

use std::sync::Arc;
use std::time::Duration;

use balance_alert_core::check::engine::CacheMode;
use balance_alert_core::check::lease::{lease_seconds, renew_every};
use balance_alert_core::check::Checker;
use balance_alert_core::check::WriteMode;
use balance_alert_core::check::{run_due, run_due_by, Housekeeping, RunOptions, Selection};
use balance_alert_core::config::{Config, LiveConfig, ProjectConfig, Settings};
use balance_alert_core::health::Status;
use balance_alert_core::node::NodeLock;
use balance_alert_core::store::{Claimant, Lease, Leases, NextCheck, States, Store};
use balance_alert_services::Metrics;
use balance_alert_store_sqlite::SqliteStore;
use fake_providers::FakeServer;

use crate::util::{engine, fast_settings, project};

const OPTIONS: RunOptions = RunOptions {
    cache: CacheMode::Bypass,
    write: WriteMode::Persist,
    housekeeping: Housekeeping::Never,
};

fn projects(n: usize, url: &str) -> Vec<ProjectConfig> {
    (0..n)
        .map(|i| {
            project(
                &format!("p{i}"),
                "openrouter",
                url,
                &format!("bal:{i}"),
                1.0,
            )
        })
        .collect()
}

/// A `serve`-like checker on `store` over the config file `path`, claiming as `claimant`.
fn checker(path: &std::path::Path, store: Arc<dyn Store>, claimant: Claimant) -> Checker {
    let live = Arc::new(LiveConfig::load(path, crate::util::env_map(&[])).expect("config loads"));
    Checker::new(
        live,
        store,
        Arc::new(Status::default()),
        Arc::new(Metrics::new()),
    )
    .with_claimant(claimant)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_server_checks_at_once_what_its_crashed_predecessor_was_checking() {
    // GIVEN twenty projects on one SQLite file
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    let doc = serde_json::json!({
        "settings": {"retry_base_delay_ms": 5, "max_retries": 0, "request_timeout_seconds": 2},
        "projects": (0..20).map(|i| serde_json::json!({
            "name": format!("p{i}"), "provider": "openrouter", "api_key": format!("bal:{i}"),
            "threshold": 1, "base_url": fake.base_url()})).collect::<Vec<_>>()
    });
    std::fs::write(&config, doc.to_string()).expect("write");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("state.db")).expect("store"));
    // AND a server running as the data directory's node that holds the checking lease (with a
    // long one, as a big config used to get)
    let node = NodeLock::acquire(dir.path())
        .expect("lock")
        .expect("node free");
    let crashed = Claimant::of_node(node.id());
    let now = chrono::Utc::now().timestamp();
    assert!(store
        .take_lease(&Lease::Checks, &crashed, now, now + 1_360)
        .await
        .expect("lease"));
    // AND, while it lives, a second server on the same data directory: it cannot run as the
    // node, and leaves the live lease alone
    assert!(NodeLock::acquire(dir.path()).expect("lock").is_none());
    let sibling = checker(&config, store.clone(), Claimant::anonymous());
    balance_alert_core::check::driver::release_predecessor_leases(&sibling).await;
    let report = sibling
        .run(&Selection::Due, OPTIONS)
        .await
        .expect("sibling runs");
    assert!(report.checked.is_empty(), "{:?}", report.checked);
    assert_eq!(fake.hits("bal:0"), 0);

    // WHEN the first server dies mid-check (its lease stays) and restarts
    drop(node);
    let node = NodeLock::acquire(dir.path())
        .expect("lock")
        .expect("the node is free once its process is gone");
    assert_eq!(node.id(), crashed.node.as_deref().expect("node"));
    let restarted = checker(&config, store.clone(), Claimant::of_node(node.id()));
    balance_alert_core::check::driver::release_predecessor_leases(&restarted).await;
    let report = restarted
        .run(&Selection::Due, OPTIONS)
        .await
        .expect("restarted runs");

    // THEN it checks every one of them at once, each exactly once
    assert_eq!(report.checked.len(), 20);
    for i in 0..20 {
        assert_eq!(fake.hits(&format!("bal:{i}")), 1, "p{i}");
    }
    // AND their next checks are scheduled, the lease ended
    let schedules = store.schedules().await.expect("schedules");
    assert_eq!(schedules.len(), 20);
    assert!(schedules.iter().all(|n| n.at > now), "{schedules:?}");
    assert!(store
        .take_lease(&Lease::Checks, &Claimant::anonymous(), now, now + 1)
        .await
        .expect("lease"));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_run_checks_due_projects_at_a_time_under_a_short_lease_renewed_while_it_works() {
    // GIVEN a config of 1,000 projects of which 10 are due, checked two at a time against a
    // provider answering in 2.5 s (five waves: longer than two renewal periods)
    let fake = FakeServer::start(Duration::from_millis(2_500))
        .await
        .expect("fake");
    let settings = Settings {
        request_timeout_seconds: 5.0,
        max_retries: 0,
        max_concurrent_checks: 2,
        ..fast_settings()
    };
    let lease = lease_seconds(&settings);
    assert_eq!(
        lease, 15,
        "three request timeouts, whatever the number of projects"
    );
    let config = Config {
        settings: settings.clone(),
        projects: projects(1_000, &fake.base_url()),
        ..Config::default()
    };
    let store = SqliteStore::in_memory().expect("store");
    let now = chrono::Utc::now().timestamp();
    let later: Vec<NextCheck> = config.projects[10..]
        .iter()
        .map(|p| NextCheck::at(p.id(), now + 86_400))
        .collect();
    store.set_next_checks(later).await.expect("schedule");

    // WHEN the scheduler's run checks them
    let e = engine(&settings);
    let run = run_due(&e, &store, &config, &Selection::Due, OPTIONS, now);
    let watch = async {
        // AND a second run (another process) starts while the first one checks
        tokio::time::sleep(Duration::from_millis(500)).await;
        let other = run_due_by(
            &e,
            &store,
            &config,
            &Selection::Due,
            OPTIONS,
            now,
            &Claimant::anonymous(),
        )
        .await
        .expect("second run");
        // THEN the second checks nothing and looks again within a renewal period
        assert!(other.checked.is_empty(), "{:?}", other.checked);
        assert!(
            other.next_due_at.is_some_and(|t| t <= now + lease),
            "{:?}",
            other.next_due_at
        );
        // AND the first renews its lease while its checks run: after a renewal, a taker at the
        // first lease's end is refused
        tokio::time::sleep(renew_every(&settings) + Duration::from_millis(2_500)).await;
        assert!(!store
            .take_lease(
                &Lease::Checks,
                &Claimant::anonymous(),
                now + lease,
                now + 2 * lease
            )
            .await
            .expect("lease"));
    };
    let (report, ()) = tokio::join!(run, watch);
    let report = report.expect("run");
    assert_eq!(report.checks.outcomes.len(), 10);
    assert!(report.checks.outcomes.iter().all(|o| o.result.is_ok()));
    for i in 0..10 {
        assert_eq!(fake.hits(&format!("bal:{i}")), 1, "p{i} checked once");
    }
    // AND once it is done, the lease is free
    assert!(store
        .take_lease(&Lease::Checks, &Claimant::anonymous(), now, now + 1)
        .await
        .expect("lease"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_file_edit_makes_the_changed_projects_due_at_the_servers_next_run() {
    // GIVEN a `serve`-like checker over a config file, every project just checked
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    let doc = |p1_threshold: u32| {
        serde_json::json!({
            "settings": {"max_retries": 0},
            "projects": (0..3).map(|i| serde_json::json!({
                "name": format!("p{i}"), "provider": "openrouter",
                "api_key": format!("bal:1{i}"), "base_url": fake.base_url(),
                "threshold": if i == 1 { p1_threshold } else { 1 }})).collect::<Vec<_>>()
        })
        .to_string()
    };
    std::fs::write(&config, doc(1)).expect("write");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("state.db")).expect("store"));
    let server = checker(&config, store, Claimant::anonymous());
    let run = || async {
        server
            .run(&server.scheduled_selection(), OPTIONS)
            .await
            .expect("runs")
            .checked
    };
    assert_eq!(run().await.len(), 3);
    assert!(run().await.is_empty(), "nothing due right after");

    // WHEN the file raises p1's threshold and the watcher installs it
    let edited = dir.path().join("config.json.new");
    std::fs::write(&edited, doc(50)).expect("write");
    std::fs::rename(&edited, &config).expect("replace");
    assert!(server.config.refresh().await, "the edit is installed");

    // THEN the scheduler's next run checks p1, and only p1
    let p1 = balance_alert_core::model::project_id("openrouter", "p1");
    assert_eq!(run().await, [p1]);
    assert_eq!(
        ["bal:10", "bal:11", "bal:12"].map(|t| fake.hits(t)),
        [1, 2, 1]
    );
    assert!(run().await.is_empty(), "its new config is recorded");
}
