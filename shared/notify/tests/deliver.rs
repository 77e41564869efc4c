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
        v.iter()
            .map(|(p, k)| (p.to_string(), k.to_string()))
            .collect()
    };
    assert_eq!(
        arrivals(&fake, "ops"),
        pairs(&[
            ("a", "low"),
            ("a", "critical"),
            ("b", "low"),
            ("b", "critical")
        ])
    );
    let held = get(&store, &format!("c-{}-low", t0 + 10)).await;
    assert!(delivery(&held, "ops").is_some_and(|d| d.held && d.status == AlertStatus::Pending));

    // AND after the window everything held is delivered
    d.pass(&cfg, t0 + 3 * 3600).await.expect("pass");
    assert!(store.pending_alerts(10).await.expect("outbox").is_empty());
    assert_eq!(
        arrivals(&fake, "ops").last(),
        Some(&("c".into(), "low".into()))
    );
}

#[tokio::test]
async fn deliverers_sharing_a_store_share_a_channels_rate_limit_across_the_minute_boundary() {
    // GIVEN two deliverers (two processes) on one store, a channel limited to 3 a minute,
    // ten alerts of ten projects, and a clock 50 s into a UTC minute
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let cfg = config(json!({
        "settings": {"language": "en", "storm_threshold": 1000},
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops"),
                      "rate_per_minute": 3}],
    }));
    let store = store();
    let one = deliverer(&store, Duration::from_secs(5));
    let two = deliverer(&store, Duration::from_secs(5));
    let minute = 29_944_000 * 60;
    for i in 0..10 {
        insert(&store, alert(&format!("p{i}"), AlertKind::Low, minute + i)).await;
    }
    let arrived = || fake.received("ops").len();

    // WHEN both pass in that minute THEN three go out in all; the rest wait until its end
    let first = one.pass(&cfg, minute + 50).await.expect("pass");
    assert_eq!((first.sent, first.waiting), (3, 7));
    let second = two.pass(&cfg, minute + 55).await.expect("pass");
    assert_eq!((second.sent, second.waiting), (0, 10 - 3));
    assert_eq!(first.next_due, Some(minute + 60));
    assert_eq!(arrived(), 3);
    // At the next minute's start the previous minute's sends still count in full …
    assert_eq!(two.pass(&cfg, minute + 60).await.expect("pass").sent, 0);
    // … and less as they fall out of the last 60 s: 3 × 20 / 60 = 1 carried at +40 s
    assert_eq!(one.pass(&cfg, minute + 100).await.expect("pass").sent, 2);
    assert_eq!(two.pass(&cfg, minute + 119).await.expect("pass").sent, 1);
    assert_eq!(arrived(), 6, "at most 3 in each UTC minute");
    assert_eq!(
        store.pending_alerts(20).await.expect("outbox").len(),
        4,
        "none dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_delays_no_other_channel_and_the_drain_ends_by_its_deadline()
{
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
        insert(
            &store,
            alert(&format!("p{i}"), AlertKind::Low, now - 20 + i),
        )
        .await;
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
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
}

mod invariants {
    //! Random channel sets (enabled or not, quiet hours, Alertmanager or JSON, receivers that
    //! fail every other request), routes (also to disabled or unknown channels: the run-time
    //! fallback), and random LOW / CRITICAL / RECOVERED sequences over simulated time.

    use super::*;
    use balance_alert_core::config::delivery::QuietHours;
    use chrono::NaiveTime;
    use proptest::prelude::*;

    /// 2026-11-26T00:00:00Z: the run crosses the 01:00–05:00 UTC quiet window.
    const START: i64 = 1_795_651_200;

    #[derive(Debug, Clone)]
    struct ChannelCase {
        enabled: bool,
        quiet: bool,
        alertmanager: bool,
        /// The receiver fails every other request (503).
        flaky: bool,
    }

    #[derive(Debug, Clone)]
    struct RouteCase {
        severity: Option<&'static str>,
        /// Channel indices; 3 names a channel that does not exist.
        channels: Vec<usize>,
        cont: bool,
        quiet: bool,
    }

    #[derive(Debug, Clone)]
    struct Case {
        channels: Vec<ChannelCase>,
        routes: Vec<RouteCase>,
        /// (project, 0 low / 1 critical / 2 recovered, minutes after the previous event).
        events: Vec<(usize, u8, i64)>,
    }

    fn case() -> impl Strategy<Value = Case> {
        let channel = (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(0.3),
        )
            .prop_map(|(enabled, quiet, alertmanager, flaky)| ChannelCase {
                enabled,
                quiet,
                alertmanager,
                flaky,
            });
        let route = (
            prop::option::of(prop::sample::select(vec!["critical", "warning", "info"])),
            prop::collection::vec(0usize..4, 1..3),
            any::<bool>(),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(severity, channels, cont, quiet)| RouteCase {
                severity,
                channels,
                cont,
                quiet,
            });
        (
            prop::collection::vec(channel, 1..4),
            prop::collection::vec(route, 0..3),
            prop::collection::vec((0usize..2, 0u8..3, 1i64..90), 1..9),
        )
            .prop_map(|(mut channels, routes, events)| {
                if !channels.iter().any(|c| c.enabled) {
                    channels[0].enabled = true;
                }
                Case {
                    channels,
                    routes,
                    events,
                }
            })
    }

    fn quiet_window() -> QuietHours {
        QuietHours {
            start: NaiveTime::from_hms_opt(1, 0, 0).expect("01:00"),
            end: NaiveTime::from_hms_opt(5, 0, 0).expect("05:00"),
            timezone: None,
        }
    }

    fn name(i: usize) -> String {
        format!("c{i}")
    }

    /// The receiver's hook for channel `i` (`half…` hooks fail every other request).
    fn hook(case: &Case, i: usize) -> String {
        if case.channels[i].flaky {
            format!("half-c{i}")
        } else {
            format!("c{i}")
        }
    }

    fn build_config(case: &Case, fake: &FakeServer) -> Config {
        let channels: Vec<Value> = case
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({"name": name(i), "type": "webhook", "url": fake.hook_url(&hook(case, i)),
                       "enabled": c.enabled,
                       "format": if c.alertmanager { "alertmanager" } else { "json" }})
            })
            .collect();
        let mut cfg = config(json!({
            "settings": {"language": "en", "timezone": "UTC", "request_timeout_seconds": 5},
            "channels": channels,
        }));
        for (i, c) in case.channels.iter().enumerate() {
            cfg.channels[i].quiet_hours = c.quiet.then(quiet_window);
        }
        // Built directly: validation refuses routes to disabled or unknown channels.
        cfg.routes = case
            .routes
            .iter()
            .map(|r| Route {
                matcher: RouteMatch {
                    severity: r.severity.map(|s| vec![s.to_owned()]),
                    ..RouteMatch::default()
                },
                channels: r
                    .channels
                    .iter()
                    .map(|&i| {
                        if i < case.channels.len() {
                            name(i)
                        } else {
                            "gone".to_owned()
                        }
                    })
                    .collect(),
                continue_matching: r.cont,
                quiet_hours: r.quiet.then(quiet_window),
            })
            .collect();
        cfg
    }

    fn kind_of(k: u8) -> AlertKind {
        match k {
            0 => AlertKind::Low,
            1 => AlertKind::Critical,
            _ => AlertKind::Recovered,
        }
    }

    /// Runs the case; returns a description of the first broken invariant.
    async fn run(case: Case) -> Result<(), String> {
        let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
        let cfg = build_config(&case, &fake);
        let store = store();
        let d = deliverer(&store, Duration::from_secs(5));
        let mut t = START;
        let mut ids: Vec<(usize, AlertKind, String)> = Vec::new();
        for (i, (project, kind, step)) in case.events.iter().enumerate() {
            t += step * 60;
            let kind = kind_of(*kind);
            let id = format!("p{project}-{i:02}");
            let a = AlertRecord {
                id: id.clone(),
                ..alert(&format!("p{project}"), kind, t)
            };
            insert(&store, a).await;
            ids.push((*project, kind, id.clone()));
            d.pass(&cfg, t).await.map_err(|e| e.to_string())?;
            // A critical alert is never held by quiet hours.
            for (_, k, id) in &ids {
                let a = get(&store, id).await;
                if *k == AlertKind::Critical && a.deliveries.iter().any(|d| d.held) {
                    return Err(format!("critical {id} held: {:?}", a.deliveries));
                }
            }
            // With receivers that never fail, it goes out in the pass that found it.
            let healthy = case.channels.iter().all(|c| !c.enabled || !c.flaky);
            let a = get(&store, &id).await;
            if kind == AlertKind::Critical && healthy && a.status != AlertStatus::Sent {
                return Err(format!("critical {id} not sent at once: {a:?}"));
            }
        }
        // Simulated time goes on: quiet windows end, backoffs pass.
        for k in 1..=80 {
            d.pass(&cfg, t + k * 300).await.map_err(|e| e.to_string())?;
        }
        let enabled: Vec<String> = (0..case.channels.len())
            .filter(|&i| case.channels[i].enabled)
            .map(name)
            .collect();
        for (_, _, id) in &ids {
            let a = get(&store, id).await;
            let reached = a
                .deliveries
                .iter()
                .any(|d| d.status == AlertStatus::Sent && enabled.contains(&d.channel));
            let failed_with_reason = a.deliveries.iter().any(|d| {
                d.status == AlertStatus::Failed && d.error.as_deref().is_some_and(|e| !e.is_empty())
            });
            match a.status {
                AlertStatus::Sent if reached => {}
                AlertStatus::Failed if failed_with_reason => {}
                _ => return Err(format!("{id} neither reached a channel nor failed: {a:?}")),
            }
        }
        // Alertmanager receivers: a recovery delivered last resolves all the project fired.
        for (i, c) in case.channels.iter().enumerate() {
            if !c.enabled || !c.alertmanager {
                continue;
            }
            let mut firing: HashMap<String, String> = HashMap::new();
            for r in fake.received(&hook(&case, i)) {
                let body = r.json();
                for a in body["alerts"].as_array().into_iter().flatten() {
                    let fp = a["fingerprint"].as_str().unwrap_or("").to_owned();
                    let project = a["labels"]["project"].as_str().unwrap_or("").to_owned();
                    if a["status"] == "firing" {
                        firing.insert(fp, project);
                    } else {
                        firing.remove(&fp);
                    }
                }
            }
            for p in 0..2 {
                let Some((_, kind, id)) = ids.iter().rev().find(|(q, _, _)| *q == p) else {
                    continue;
                };
                let last = get(&store, id).await;
                let delivered =
                    delivery(&last, &name(i)).is_some_and(|d| d.status == AlertStatus::Sent);
                let project = format!("p{p}");
                if *kind == AlertKind::Recovered
                    && delivered
                    && firing.values().any(|q| *q == project)
                {
                    return Err(format!(
                        "{project} recovered on {} but still firing there: {firing:?}",
                        name(i)
                    ));
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn every_alert_reaches_an_enabled_channel_or_fails_visibly_and_critical_is_never_held(
            case in case()
        ) {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            let outcome = rt.block_on(run(case));
            prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
        }
    }
}
