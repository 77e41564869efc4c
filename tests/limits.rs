//! A channel's rate limit and storm guard shared by processes (issue 20): `balance-alert check`
//! processes on one SQLite file, and on one DynamoDB table (moto), one after another and two at
//! once, count the channel's messages in one window held by the store. Real processes, the
//! real receiver (`fake_providers::receiver`), arrivals counted per UTC minute.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use balance_alert_core::model::AlertStatus;
use balance_alert_core::store::{AlertQuery, Store};
use fake_providers::FakeServer;
use serde_json::{json, Value};

use crate::util::{moto, run_binary, stderr, Workspace};

/// The channel's `rate_per_minute`.
const RATE: usize = 20;
/// Alerts raised: half by the first process, half by the two after it.
const ALERTS: usize = 60;

/// Where the processes keep their state.
enum Backend {
    Sqlite(Workspace),
    Dynamo {
        table: String,
        dir: tempfile::TempDir,
    },
}

impl Backend {
    fn sqlite() -> Self {
        Backend::Sqlite(Workspace::new(&json!({})))
    }

    async fn dynamodb() -> Self {
        let table = moto::unique_table("limits");
        let out = crate::dynamodb::run(&["table", "create", "--table", &table], &[]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        Backend::Dynamo {
            table,
            dir: tempfile::tempdir().expect("dir"),
        }
    }

    fn config_path(&self) -> std::path::PathBuf {
        match self {
            Backend::Sqlite(ws) => ws.config_path(),
            Backend::Dynamo { dir, .. } => dir.path().join("config.json"),
        }
    }

    /// Writes the configuration every process after this reads.
    async fn configure(&self, doc: &Value) {
        let path = self.config_path();
        std::fs::write(&path, doc.to_string()).expect("write config");
        if let Backend::Dynamo { table, .. } = self {
            let cfg = path.to_str().expect("utf-8 path");
            let args = ["config", "push", "--table", table, "--config", cfg];
            let out = crate::dynamodb::run(&args, &[]).await;
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        }
    }

    /// One `check` process: checks, then drains the outbox.
    async fn check(&self) {
        let out = match self {
            Backend::Sqlite(ws) => {
                run_binary(&["check"], &ws.config_path(), &ws.db_path(), &[]).await
            }
            Backend::Dynamo { table, .. } => {
                crate::dynamodb::run(&["check", "--table", table], &[]).await
            }
        };
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "check ran: {}",
            stderr(&out)
        );
    }

    fn store(&self) -> Box<dyn Store> {
        match self {
            Backend::Sqlite(ws) => Box::new(
                balance_alert_store_sqlite::SqliteStore::open(&ws.db_path()).expect("database"),
            ),
            Backend::Dynamo { table, .. } => Box::new(
                balance_alert_store_dynamodb::DynamoStore::new(moto::client(), table, 36_500),
            ),
        }
    }
}

/// `projects` low projects (an alert each), one webhook channel limited to [`RATE`] a minute.
fn config(fake: &FakeServer, projects: usize, storm_threshold: u32) -> Value {
    let projects: Vec<Value> = (0..projects)
        .map(|i| {
            json!({"name": format!("p{i:02}"), "provider": "openrouter", "api_key": "bal:1",
                   "threshold": 10, "base_url": fake.base_url()})
        })
        .collect();
    json!({
        "settings": {"request_timeout_seconds": 2, "retry_base_delay_ms": 5, "max_retries": 0,
                     "language": "en", "delivery_timeout_seconds": 10, "forecast_alert_days": 0,
                     "storm_threshold": storm_threshold},
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops"),
                      "rate_per_minute": RATE}],
        "projects": projects,
    })
}

/// Waits for the next UTC minute when less than 40 s are left of this one, so the runs below
/// fall in one window (alignment only: nothing asserted depends on how long this waits).
async fn early_in_a_minute() {
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second > 20 {
        tokio::time::sleep(Duration::from_secs((61 - second) as u64)).await;
    }
}

/// A first process raises and delivers half the alerts; then two processes at once raise and
/// deliver the other half.
async fn three_processes(backend: &Backend, fake: &FakeServer, storm_threshold: u32) {
    early_in_a_minute().await;
    backend
        .configure(&config(fake, ALERTS / 2, storm_threshold))
        .await;
    backend.check().await;
    backend
        .configure(&config(fake, ALERTS, storm_threshold))
        .await;
    tokio::join!(backend.check(), backend.check());
}

/// What arrived: the alert ids each message carried (one, or a summary's).
fn arrived(fake: &FakeServer) -> Vec<(i64, Vec<String>, bool)> {
    fake.received("ops")
        .iter()
        .map(|r| {
            let body = r.json();
            let summary = body["type"] == "summary";
            let ids = if summary {
                body["alerts"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| x["id"].as_str().unwrap_or("").to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                vec![body["id"].as_str().unwrap_or("").to_owned()]
            };
            (r.at_unix, ids, summary)
        })
        .collect()
}

/// Every alert either arrived once (and is recorded sent) or waits in the outbox (pending:
/// not sent yet, or sent by a pass cut before it recorded so), none failed, none arrived
/// twice; returns how many wait.
async fn none_lost(backend: &Backend, arrivals: &[(i64, Vec<String>, bool)]) -> usize {
    let received: Vec<&String> = arrivals.iter().flat_map(|(_, ids, _)| ids).collect();
    let unique: HashSet<&String> = received.iter().copied().collect();
    assert_eq!(
        unique.len(),
        received.len(),
        "an alert arrived twice: {received:?}"
    );
    let alerts = backend
        .store()
        .alerts(AlertQuery {
            limit: 1_000,
            ..AlertQuery::default()
        })
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), ALERTS, "one alert per project");
    let mut pending = 0;
    for a in &alerts {
        match a.status {
            AlertStatus::Sent => assert!(unique.contains(&a.id), "{} sent but not received", a.id),
            // Received but still pending: its pass was cut (the delivery timeout on a slow
            // emulator) after the send and before the record; at least once, it goes again.
            AlertStatus::Pending => pending += 1,
            AlertStatus::Failed => panic!("{} failed: {:?}", a.id, a.deliveries),
        }
    }
    pending
}

async fn at_most_the_rate_per_minute_across_processes(backend: Backend) {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    three_processes(&backend, &fake, 10_000).await;
    let arrivals = arrived(&fake);
    let mut per_minute: BTreeMap<i64, usize> = BTreeMap::new();
    for (at, _, _) in &arrivals {
        *per_minute.entry(at / 60).or_default() += 1;
    }
    assert!(!arrivals.is_empty(), "something was sent");
    assert!(
        per_minute.values().all(|n| *n <= RATE),
        "at most {RATE} messages per UTC minute, all processes together: {per_minute:?}"
    );
    let pending = none_lost(&backend, &arrivals).await;
    assert_eq!(pending, ALERTS - arrivals.len(), "the rest queued");
}

async fn one_storm_summary_per_minute_across_processes(backend: Backend) {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    three_processes(&backend, &fake, 5).await;
    let arrivals = arrived(&fake);
    let summaries: Vec<i64> = arrivals
        .iter()
        .filter(|(_, _, summary)| *summary)
        .map(|(at, _, _)| at / 60)
        .collect();
    assert_eq!(
        summaries.len(),
        1,
        "one storm summary in the minute, whichever process sent it: {arrivals:?}"
    );
    let pending = none_lost(&backend, &arrivals).await;
    assert!(pending > 0, "the later storm waits for the next minute");
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_on_one_sqlite_file_share_a_channels_rate_limit() {
    at_most_the_rate_per_minute_across_processes(Backend::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_on_one_sqlite_file_send_one_storm_summary_a_minute() {
    one_storm_summary_per_minute_across_processes(Backend::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_on_one_dynamodb_table_share_a_channels_rate_limit() {
    at_most_the_rate_per_minute_across_processes(Backend::dynamodb().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_on_one_dynamodb_table_send_one_storm_summary_a_minute() {
    one_storm_summary_per_minute_across_processes(Backend::dynamodb().await).await;
}
