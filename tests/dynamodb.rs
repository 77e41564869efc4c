//! The real binary on a DynamoDB table (moto_server): `table create`, `config push`/`pull`,
//! `check --table` and `serve --table` behave as they do on SQLite.

use std::process::Stdio;
use std::time::Duration;

use fake_providers::FakeServer;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::util::{moto, stderr, stdout};

/// Runs the binary against the test DynamoDB endpoint with a clean environment.
pub(crate) async fn run(args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
    command(args, extra).output().await.expect("binary runs")
}

pub(crate) fn command(args: &[&str], extra: &[(&str, &str)]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_balance-alert"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", moto::endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let bytes = client
        .get(url)
        .send()
        .await
        .expect("response")
        .bytes()
        .await
        .expect("body");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_with_only_a_dynamodb_endpoint_gets_the_same_results() {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let table = moto::unique_table("cli");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"settings": {"max_retries": 0, "refresh_cooldown_seconds": 0, "history_resolution_minutes": 0},
               "projects": [
                   {"name": "Main", "provider": "openrouter", "api_key": "${KEY_MAIN}", "threshold": 10, "base_url": fake.base_url()},
                   {"name": "Low", "provider": "deepseek", "api_key": "bal:3", "threshold": 10, "base_url": fake.base_url()}
               ]})
        .to_string(),
    )
    .expect("write");
    let key = [("KEY_MAIN", "bal:50")];

    // table create (twice: idempotent), config push, config pull
    for _ in 0..2 {
        let out = run(&["table", "create", "--table", &table], &[]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let cfg = config.to_str().expect("utf-8 path");
    let out = run(
        &["config", "push", "--table", &table, "--config", cfg],
        &key,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&["config", "pull", "--table", &table], &[]).await;
    let pulled: Value = serde_json::from_str(&stdout(&out)).expect("the document");
    assert_eq!(
        pulled["projects"][0]["api_key"], "${KEY_MAIN}",
        "placeholders kept"
    );

    // check --table, twice: one LOW alert, then none (one per transition)
    let out = run(&["check", "--table", &table, "--json"], &key).await;
    assert_eq!(out.status.code(), Some(1), "Low is below: {}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["projects"][0]["credits"], 50.0);
    assert_eq!(report["projects"][1]["state"], "low");
    let out = run(&["check", "--table", &table], &key).await;
    let text = stdout(&out);
    assert!(!text.contains("alert recorded (low)"), "{text}");

    // serve --table: the API reads the same table
    let mut child = command(
        &[
            "serve",
            "--table",
            &table,
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
        &[
            ("KEY_MAIN", "bal:50"),
            (
                "DATABASE_PATH",
                dir.path().join("unused.db").to_str().expect("utf-8"),
            ),
        ],
    )
    .stdout(Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .expect("serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let banner = lines.next_line().await.expect("read").expect("banner");
    let api = banner
        .split_whitespace()
        .find(|w| w.contains("http://"))
        .expect("url")
        .to_owned();
    let client = reqwest::Client::new();
    // (a start slower than a second answers 503 until the table has been read)
    let credits: Value = crate::util::eventually("the table to be read", || async {
        let credits = get_json(&client, &format!("{api}/api/credits")).await;
        (credits["status"] != "error").then_some(credits)
    })
    .await;
    assert_eq!(credits["summary"]["total"], 2);
    assert_eq!(credits["projects"][1]["state"], "low");
    let alerts: Value = get_json(
        &client,
        &format!("{api}/api/history/alerts?project_id=deepseek:Low"),
    )
    .await;
    assert_eq!(alerts["data"].as_array().map(Vec::len), Some(1), "{alerts}");
    let trend: Value = get_json(&client, &format!("{api}/api/history/trend/openrouter:Main")).await;
    assert!(
        trend["data"]["data_points"]
            .as_u64()
            .is_some_and(|n| n >= 2),
        "{trend}"
    );
    // An edit through the API lands in the table's document.
    let edit = client
        .post(format!("{api}/api/config/threshold"))
        .header("content-type", "application/json")
        .body(json!({"project_name": "deepseek:Low", "new_threshold": 2}).to_string())
        .send()
        .await
        .expect("edit");
    assert_eq!(edit.status(), 200);
    let out = run(&["config", "pull", "--table", &table], &[]).await;
    let pulled: Value = serde_json::from_str(&stdout(&out)).expect("the document");
    assert_eq!(pulled["projects"][1]["threshold"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_table_says_how_to_create_it() {
    let table = moto::unique_table("missing");
    let out = run(&["check", "--table", &table], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("balance-alert table create"), "{err}");
    // No region at all is named too.
    let out = command(&["check", "--table", &table], &[])
        .env_remove("AWS_REGION")
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("AWS_REGION"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn check_on_a_table_that_hangs_fails_in_time_with_one_readable_line_and_exit_1() {
    // GIVEN a DynamoDB endpoint that accepts connections and never answers
    let endpoint = crate::util::silent::Silent::start().await;
    // WHEN check runs on it, each store call within 1 s
    let out = command(
        &["check", "--table", "t"],
        &[
            ("AWS_ENDPOINT_URL", &endpoint.url()),
            ("DYNAMODB_TIMEOUT_SECONDS", "1"),
        ],
    )
    .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .expect("check gives up on a store that never answers")
        .expect("runs");
    // THEN it fails as "try again" (1), not as a usage error (2), saying why in one line
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--table t") && err.contains("timed out"),
        "{err}"
    );
    assert!(!err.contains("TimeoutError("), "{err}");
}

/// `scripts/dynamodb_counting_proxy.py` in front of the test DynamoDB endpoint: counts the
/// calls and the capacity units DynamoDB would bill, from the requests and responses alone.
struct CountingProxy {
    url: String,
    _child: tokio::process::Child,
}

impl CountingProxy {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = tokio::process::Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/dynamodb_counting_proxy.py"
            ))
            .args(["--port", &port.to_string(), "--upstream", moto::endpoint()])
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the proxy");
        let url = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{url}/__counts")).send().await.is_ok() {
                return CountingProxy { url, _child: child };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the counting proxy did not start");
    }

    async fn reset(&self) {
        reqwest::Client::new()
            .post(format!("{}/__reset", self.url))
            .send()
            .await
            .expect("reset");
    }

    /// Totals since the last reset: calls, write units (index writes included), read units,
    /// and the counts per operation.
    async fn totals(&self) -> (u64, f64, f64, Value) {
        let c: Value = get_json(&reqwest::Client::new(), &format!("{}/__counts", self.url)).await;
        let ops = c.as_object().expect("counts").values();
        let sum = |k: &str| {
            ops.clone()
                .map(|op| op[k].as_f64().unwrap_or(0.0))
                .sum::<f64>()
        };
        (
            sum("calls") as u64,
            sum("wcu") + sum("index_wcu"),
            sum("rcu"),
            c,
        )
    }

    /// Sets the proxy's injected faults (see the script); `{}` turns them off.
    async fn faults(&self, spec: Value) {
        reqwest::Client::new()
            .post(format!("{}/__faults", self.url))
            .body(spec.to_string())
            .send()
            .await
            .expect("faults set");
    }

    /// How many calls each injected fault hit.
    async fn fault_hits(&self) -> Value {
        get_json(&reqwest::Client::new(), &format!("{}/__faults", self.url)).await
    }
}

/// A config of `n` openrouter projects on the fake server, the first `low` of them below their
/// threshold of 10.
fn balances_config(fake: &FakeServer, n: usize, low: usize) -> String {
    let projects: Vec<Value> = (0..n)
        .map(|i| {
            let balance = if i < low { 5 } else { 50 + i };
            json!({"name": format!("p{i}"), "provider": "openrouter",
                   "api_key": format!("bal:{balance}"), "threshold": 10,
                   "base_url": fake.base_url()})
        })
        .collect();
    json!({"settings": {"max_retries": 0}, "projects": projects}).to_string()
}

/// Creates `table` and pushes `config` (a file path) to it, directly on the emulator.
async fn table_with_config(table: &str, config: &std::path::Path) {
    for args in [
        vec!["table", "create", "--table", table],
        vec![
            "config",
            "push",
            "--table",
            table,
            "--config",
            config.to_str().expect("utf-8"),
        ],
    ] {
        let out = command(&args, &[]).output().await.expect("binary runs");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
}

/// Issue 20: throttling, 5xx answers, answers lost after the write applied, and slow calls from
/// DynamoDB (injected by the proxy in front of the emulator). Each run either finishes or
/// fails with a clear exit, never panics; when DynamoDB is healthy again, one run completes
/// the rest: every project's state is right and each transition made exactly one alert.
#[tokio::test(flavor = "multi_thread")]
async fn throttled_failing_and_lost_dynamodb_calls_never_duplicate_or_lose_an_alert() {
    const PROJECTS: usize = 20;
    const LOW: usize = 5;
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let proxy = CountingProxy::start().await;
    let table = moto::unique_table("faults");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    std::fs::write(&config, balances_config(&fake, PROJECTS, 0)).expect("write");
    table_with_config(&table, &config).await;
    let out = command(&["check", "--table", &table], &[])
        .output()
        .await
        .expect("binary runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The first LOW projects fall below their threshold while DynamoDB misbehaves.
    std::fs::write(&config, balances_config(&fake, PROJECTS, LOW)).expect("write");
    table_with_config(&table, &config).await;
    proxy
        .faults(
            json!({"throttle": 0.2, "fail": 0.1, "lose": 0.1, "slow": 0.1,
                       "slow_ms": 50, "seed": 7}),
        )
        .await;
    let through_proxy = || {
        let mut c = command(
            &["check", "--table", &table],
            &[("DYNAMODB_TIMEOUT_SECONDS", "5")],
        );
        c.env("AWS_ENDPOINT_URL", &proxy.url);
        c
    };
    let mut exits = Vec::new();
    for _ in 0..4 {
        let out = through_proxy().output().await.expect("binary runs");
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{:?}: {err}",
            out.status
        );
        exits.push(out.status.code());
    }
    let hits = proxy.fault_hits().await;
    let hit = |k: &str| hits[k].as_u64().unwrap_or(0);
    assert!(
        hit("throttle") > 0 && hit("fail") > 0 && hit("lose") > 0,
        "the faults were injected: {hits}"
    );
    proxy.faults(json!({})).await;
    let mut healthy = through_proxy();
    healthy.arg("--json");
    let out = healthy.output().await.expect("binary runs");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("healthy again, a JSON report: {e}: {}", stderr(&out)));
    assert_eq!(
        (&report["summary"]["low"], &report["summary"]["failing"]),
        (&json!(LOW), &json!(0)),
        "healthy again: {report}"
    );

    let (_, store) = moto::store_on(&table).await;
    let states = balance_alert_core::store::States::list_states(&store)
        .await
        .expect("states");
    assert_eq!(states.len(), PROJECTS, "every project has its state");
    for s in &states {
        let i: usize = s.project_name[1..].parse().expect("p<i>");
        let want = if i < LOW { "low" } else { "ok" };
        assert_eq!(s.state.as_str(), want, "{s:?} (runs exited {exits:?})");
    }
    let alerts = balance_alert_core::store::Outbox::alerts(
        &store,
        balance_alert_core::store::AlertQuery {
            limit: 1000,
            ..Default::default()
        },
    )
    .await
    .expect("alerts");
    for i in 0..PROJECTS {
        let lows = alerts
            .iter()
            .filter(|a| {
                a.project_name == format!("p{i}")
                    && a.kind == balance_alert_core::model::AlertKind::Low
            })
            .count();
        assert_eq!(
            lows,
            usize::from(i < LOW),
            "p{i}: {lows} LOW alerts (runs exited {exits:?}, faults {hits})"
        );
    }
}

/// The write diet (issue 20): a check run that changes nothing writes each project's item once
/// (state and next check in one UpdateItem, no index), with no transaction and no reading row,
/// and reads no history: at most 1 write unit and 0.3 read units per project (before: 5 write
/// units in one TransactWriteItems, its schedule, their index writes, and a history Query).
#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_check_run_costs_one_write_unit_and_under_a_third_of_a_read_unit_per_project()
{
    const PROJECTS: usize = 20;
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let proxy = CountingProxy::start().await;
    let table = moto::unique_table("diet");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    let projects: Vec<Value> = (0..PROJECTS)
        .map(|i| {
            json!({"name": format!("p{i}"), "provider": "openrouter",
                   "api_key": format!("bal:{}", 50 + i), "threshold": 10,
                   "base_url": fake.base_url()})
        })
        .collect();
    std::fs::write(
        &config,
        json!({"settings": {"max_retries": 0}, "projects": projects}).to_string(),
    )
    .expect("write");
    for args in [
        vec!["table", "create", "--table", &table],
        vec![
            "config",
            "push",
            "--table",
            &table,
            "--config",
            config.to_str().expect("utf-8"),
        ],
        vec!["check", "--table", &table],
    ] {
        let out = command(&args, &[]).output().await.expect("binary runs");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    proxy.reset().await;
    let mut unchanged = command(&["check", "--table", &table], &[]);
    unchanged.env("AWS_ENDPOINT_URL", &proxy.url);
    let out = unchanged.output().await.expect("binary runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (calls, wcu, rcu, by_op) = proxy.totals().await;
    let n = PROJECTS as f64;
    assert!(
        wcu <= n && rcu <= 0.3 * n,
        "{calls} calls, {wcu} write units, {rcu} read units for {PROJECTS} unchanged projects: {by_op}"
    );
    assert!(
        by_op.get("TransactWriteItems").is_none(),
        "no transaction without an alert: {by_op}"
    );
}
