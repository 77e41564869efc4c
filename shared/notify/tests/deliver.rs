//! The deliverer over an in-memory store, sending to receivers on loopback: routes that leave
//! no enabled channel, quiet hours against critical alerts, channels delivered concurrently
//! under the delivery deadline (a receiver that accepts and never answers next to a healthy
//! one), and invariants over random configs and alert sequences.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use balance_alert_core::config::delivery::{Route, RouteMatch};
use balance_alert_core::config::{self, Config};
use balance_alert_core::store::Store;
use balance_alert_model::{
    AlertDetails, AlertKind, AlertRecord, AlertState, AlertStatus, Decimal, Delivery,
};
use balance_alert_notify::deliver::unix_now;
use balance_alert_notify::Deliverer;
use balance_alert_store_sqlite::SqliteStore;
use fake_providers::{FakeServer, HookMode};
use serde_json::{json, Value};

/// 2026-11-26T03:00:00Z: inside a 01:00–05:00 UTC quiet window.
const QUIET_NOW: i64 = 1_795_662_000;

fn config(doc: Value) -> Config {
    let mut doc = doc;
    // One project, so the config is valid whatever else the document holds.
    doc["projects"] =
        json!([{"name": "Main", "provider": "openrouter", "api_key": "k", "threshold": 10}]);
    config::parse(&doc.to_string(), &HashMap::<String, String>::new())
        .expect("valid config")
        .config
}

fn store() -> Arc<dyn Store> {
    Arc::new(SqliteStore::in_memory().expect("in-memory store"))
}

fn deliverer(store: &Arc<dyn Store>, timeout: Duration) -> Deliverer {
    Deliverer::new(store.clone(), Deliverer::http_client(timeout))
}

fn alert(project: &str, kind: AlertKind, at: i64) -> AlertRecord {
    let state = match kind {
        AlertKind::Critical => AlertState::Critical,
        AlertKind::Failing => AlertState::Failing,
        AlertKind::Recovered => AlertState::Ok,
        _ => AlertState::Low,
    };
    AlertRecord {
        id: format!("{project}-{at}-{}", kind.as_str()),
        project_id: project.into(),
        project_name: project.into(),
        provider: "openrouter".into(),
        kind,
        state,
        balance: Some(Decimal::ONE),
        threshold: Decimal::TEN,
        currency: "USD".into(),
        message: format!("{project}: {}", kind.as_str()),
        status: AlertStatus::Pending,
        created_at: at,
        details: AlertDetails::default(),
        deliveries: Vec::new(),
    }
}

async fn insert(store: &Arc<dyn Store>, a: AlertRecord) {
    assert!(store.insert_alert(a).await.expect("insert"), "a new id");
}

async fn get(store: &Arc<dyn Store>, id: &str) -> AlertRecord {
    store.get_alert(id).await.expect("read").expect("stored")
}

fn delivery<'a>(a: &'a AlertRecord, channel: &str) -> Option<&'a Delivery> {
    a.deliveries.iter().find(|d| d.channel == channel)
}

/// The `kind`s of what `hook` received, in arrival order.
fn kinds(fake: &FakeServer, hook: &str) -> Vec<String> {
    fake.received(hook)
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// A receiver that accepts every connection and never answers (holds the sockets open).
async fn silent_receiver() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (format!("http://{addr}/hook"), task)
}

#[tokio::test]
async fn an_alert_whose_route_names_only_disabled_or_unknown_channels_goes_to_every_enabled_channel(
) {
    // GIVEN channels `ops` (disabled) and `all`, and routes validation would refuse: critical
    // alerts to `ops`, low ones to a channel that no longer exists
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let mut cfg = config(json!({
        "settings": {"language": "en"},
        "channels": [
            {"name": "ops", "type": "webhook", "url": fake.hook_url("ops"), "enabled": false},
            {"name": "all", "type": "webhook", "url": fake.hook_url("all")},
        ],
    }));
    let route = |severity: &str, channel: &str| Route {
        matcher: RouteMatch {
            severity: Some(vec![severity.into()]),
            ..RouteMatch::default()
        },
        channels: vec![channel.into()],
        continue_matching: false,
        quiet_hours: None,
    };
    cfg.routes = vec![route("critical", "ops"), route("warning", "gone")];
    let store = store();
    let now = unix_now();
    insert(&store, alert("burning", AlertKind::Critical, now)).await;
    insert(&store, alert("low", AlertKind::Low, now)).await;

    // WHEN one pass runs
    deliverer(&store, Duration::from_secs(5))
        .pass(&cfg, now)
        .await
        .expect("pass");

    // THEN both reach the enabled channel, and nothing stays pending
    let mut got = kinds(&fake, "all");
    got.sort();
    assert_eq!(got, ["critical", "low"]);
    assert!(fake.received("ops").is_empty());
    assert!(store.pending_alerts(10).await.expect("outbox").is_empty());
}

/// (project, kind) of what `hook` received, in arrival order.
fn arrivals(fake: &FakeServer, hook: &str) -> Vec<(String, String)> {
    fake.received(hook)
        .iter()
        .map(|r| {
            let b = r.json();
            let field = |k: &str| b[k].as_str().unwrap_or("?").to_owned();
            (field("project"), field("kind"))
        })
        .collect()
}

#[tokio::test]
async fn quiet_hours_hold_a_low_but_never_a_later_critical_of_the_same_project() {
    // GIVEN a channel quiet from 01:00 to 05:00 UTC, and 03:00 UTC
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let cfg = config(json!({
        "settings": {"language": "en", "storm_threshold": 100},
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops"),
                      "quiet_hours": {"start": "01:00", "end": "05:00", "timezone": "UTC"}}],
    }));
    let store = store();
    let d = deliverer(&store, Duration::from_secs(5));
    let t0 = QUIET_NOW;

    // WHEN a LOW is raised (held), then a CRITICAL of the same project in a later pass
    insert(&store, alert("a", AlertKind::Low, t0)).await;
    d.pass(&cfg, t0).await.expect("pass");
    assert!(fake.received("ops").is_empty(), "the LOW is held");
    insert(&store, alert("c", AlertKind::Low, t0 + 10)).await;
    insert(&store, alert("a", AlertKind::Critical, t0 + 60)).await;
    d.pass(&cfg, t0 + 60).await.expect("pass");
    // … and, for another project, a LOW and a CRITICAL in the same pass
    insert(&store, alert("b", AlertKind::Low, t0 + 70)).await;
    insert(&store, alert("b", AlertKind::Critical, t0 + 80)).await;
    d.pass(&cfg, t0 + 90).await.expect("pass");

    // THEN each critical went out at once, taking its project's held LOW along ahead of it
    // (the channel sees the project's messages in order); another project's LOW stays held
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter().map(|(p, k)| (p.to_string(), k.to_string())).collect()
    };
    assert_eq!(
        arrivals(&fake, "ops"),
        pairs(&[("a", "low"), ("a", "critical"), ("b", "low"), ("b", "critical")])
    );
    let held = get(&store, &format!("c-{}-low", t0 + 10)).await;
    assert!(delivery(&held, "ops").is_some_and(|d| d.held && d.status == AlertStatus::Pending));

    // AND after the window everything held is delivered
    d.pass(&cfg, t0 + 3 * 3600).await.expect("pass");
    assert!(store.pending_alerts(10).await.expect("outbox").is_empty());
    assert_eq!(arrivals(&fake, "ops").last(), Some(&("c".into(), "low".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_delays_no_other_channel_and_the_drain_ends_by_its_deadline(
) {
    // GIVEN a healthy channel and one that accepts connections and never answers, a request
    // timeout far beyond the delivery deadline, and ten alerts of ten projects
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let (silent, _task) = silent_receiver().await;
    let cfg = config(json!({
        "settings": {"language": "en", "storm_threshold": 1000, "request_timeout_seconds": 60,
                     "delivery_timeout_seconds": 2},
        "channels": [
            {"name": "silent", "type": "webhook", "url": silent},
            {"name": "healthy", "type": "webhook", "url": fake.hook_url("healthy")},
        ],
    }));
    let store = store();
    let now = unix_now();
    for i in 0..10 {
        insert(&store, alert(&format!("p{i}"), AlertKind::Low, now - 20 + i)).await;
    }
    let d = deliverer(&store, Duration::from_secs(60));

    // WHEN the outbox is drained with a deadline two seconds away
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(20), d.drain(&cfg, now + 2))
        .await
        .expect("the drain returns (it waited on the silent receiver)")
        .expect("store");

    // THEN it returned by the deadline, the healthy channel got every alert
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(fake.received("healthy").len(), 10);
    // AND every silent delivery is still queued: the ones in flight count as an attempt to
    // retry, none is lost or failed
    let pending = store.pending_alerts(100).await.expect("outbox");
    assert_eq!(pending.len(), 10);
    let silent: Vec<&Delivery> = pending
        .iter()
        .filter_map(|a| delivery(a, "silent"))
        .collect();
    assert_eq!(silent.len(), 10);
    assert!(silent.iter().all(|d| d.status == AlertStatus::Pending));
    assert!(
        silent
            .iter()
            .any(|d| d.attempts == 1 && d.error.as_deref().is_some_and(|e| e.contains("deadline"))),
        "{silent:?}"
    );
    assert!(pending
        .iter()
        .all(|a| delivery(a, "healthy").is_some_and(|d| d.status == AlertStatus::Sent)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_projects_messages_reach_a_channel_in_order_while_projects_go_concurrently() {
    // GIVEN three projects with three alerts each and a receiver that takes 100 ms a message
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    fake.set_hook(
        "slow",
        HookMode::Ok {
            delay: Duration::from_millis(100),
        },
    );
    let cfg = config(json!({
        "settings": {"language": "en", "storm_threshold": 1000, "delivery_timeout_seconds": 10},
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("slow")}],
    }));
    let store = store();
    let now = unix_now();
    for (i, kind) in [AlertKind::Low, AlertKind::Critical, AlertKind::Recovered]
        .into_iter()
        .enumerate()
    {
        for p in ["a", "b", "c"] {
            insert(&store, alert(p, kind, now - 30 + i as i64)).await;
        }
    }

    // WHEN one pass delivers them
    let started = Instant::now();
    deliverer(&store, Duration::from_secs(5))
        .pass(&cfg, now)
        .await
        .expect("pass");

    // THEN each project's alerts arrived in the order they were raised
    let got = fake.received("slow");
    assert_eq!(got.len(), 9);
    for p in ["a", "b", "c"] {
        let order: Vec<String> = got
            .iter()
            .map(|r| r.json())
            .filter(|b| b["project"] == p)
            .map(|b| b["kind"].as_str().unwrap_or("?").to_owned())
            .collect();
        assert_eq!(order, ["low", "critical", "recovered"], "project {p}");
    }
    // AND projects were not sent one after another (9 × 100 ms)
    assert!(started.elapsed() < Duration::from_millis(800), "{:?}", started.elapsed());
}
