//! Helpers shared by the integration tests.

/// moto_server for the DynamoDB backend (the store crate's own test helper).
#[path = "../../shared/store-dynamodb/tests/moto/mod.rs"]
#[allow(dead_code)]
pub mod moto;

#[allow(dead_code)]
pub mod prometheus;

/// An endpoint that accepts connections and never answers, switchable to forward to moto.
#[path = "../../shared/store-dynamodb/tests/silent/mod.rs"]
#[allow(dead_code)]
pub mod silent;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use balance_alert_core::check::engine::{Engine, EngineOptions, NoopObserver};
use balance_alert_core::config::{self, Config, ProjectConfig, Secret, Settings};
use serde_json::{json, Value};

/// A project pointed at the fake server with the given behaviour token.
pub fn project(
    name: &str,
    provider: &str,
    base_url: &str,
    token: &str,
    threshold: f64,
) -> ProjectConfig {
    ProjectConfig {
        name: name.into(),
        owner_project: None,
        provider: provider.into(),
        api_key: Secret::new(token),
        threshold: dec(threshold),
        critical_threshold: None,
        kind: "credits".into(),
        enabled: true,
        base_url: Some(base_url.into()),
        currency: None,
        check_interval: None,
        options: Default::default(),
        resolved: Default::default(),
    }
}

/// A test amount as an exact decimal.
pub fn dec(x: f64) -> balance_alert_core::model::Decimal {
    balance_alert_core::model::Decimal::try_from(x).expect("a finite test amount")
}

/// Settings tuned for tests: short delays so retries do not slow the suite.
pub fn fast_settings() -> Settings {
    Settings {
        request_timeout_seconds: 2.0,
        retry_base_delay_ms: 5,
        max_retries: 2,
        response_cache_ttl: 0,
        ..Settings::default()
    }
}

pub fn engine(settings: &Settings) -> Engine {
    Engine::new(EngineOptions::from(settings), Arc::new(NoopObserver)).expect("client builds")
}

/// Parses a config document with a fixed environment.
pub fn parse_config(doc: &Value, env: &[(&str, &str)]) -> Result<Config, config::ConfigError> {
    config::parse(&doc.to_string(), &env_map(env)).map(|l| l.config)
}

/// An environment for [`config::EnvLookup`] from name/value pairs.
pub fn env_map(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A temp dir holding `config.json` and the database.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(config: &Value) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("config.json"),
            serde_json::to_vec_pretty(config).expect("json"),
        )
        .expect("write config");
        Workspace { dir }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.json")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("state.db")
    }

    /// Runs the real binary with a clean, hermetic environment.
    pub async fn run(&self, args: &[&str]) -> Output {
        run_binary(args, &self.config_path(), &self.db_path(), &[]).await
    }
}

pub async fn run_binary(args: &[&str], config: &Path, db: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_balance-alert"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CONFIG_FILE", config)
        .env("DATABASE_PATH", db);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.expect("binary runs")
}

/// A config document with fast settings and the given projects.
pub fn config_doc(projects: Value) -> Value {
    json!({
        "settings": {"request_timeout_seconds": 2, "retry_base_delay_ms": 5, "max_retries": 1},
        "projects": projects,
    })
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The store the API tests run on: SQLite in memory, or a fresh DynamoDB table on moto when
/// `BALANCE_ALERT_TEST_BACKEND=dynamodb` (./scripts/test.sh runs the API tests both ways).
pub async fn test_store() -> Arc<dyn balance_alert_core::store::Store> {
    match std::env::var("BALANCE_ALERT_TEST_BACKEND").as_deref() {
        Ok("dynamodb") => Arc::new(moto::fresh_store("api", 36_500).await.1),
        Ok("sqlite") | Err(_) => {
            Arc::new(balance_alert_store_sqlite::SqliteStore::in_memory().expect("in-memory store"))
        }
        Ok(other) => panic!("BALANCE_ALERT_TEST_BACKEND={other}: use sqlite or dynamodb"),
    }
}

/// Starts `serve` on `config` with loopback ports chosen by the OS; returns the process and
/// the API and metrics addresses from its banner line
/// ("balance-alert X listening on http://ADDR (metrics on http://MADDR/metrics)").
pub async fn spawn_serve(
    config: &std::path::Path,
    db: &std::path::Path,
) -> (tokio::process::Child, String, String) {
    spawn_serve_with(config, db, &[]).await
}

/// [`spawn_serve`] with `env` added to its environment.
pub async fn spawn_serve_with(
    config: &std::path::Path,
    db: &std::path::Path,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String, String) {
    spawn_serve_limited(config, db, env, None).await
}

/// [`spawn_serve_with`] under a soft descriptor limit (`ulimit -n`) when `nofile` is given.
pub async fn spawn_serve_limited(
    config: &std::path::Path,
    db: &std::path::Path,
    env: &[(&str, &str)],
    nofile: Option<u64>,
) -> (tokio::process::Child, String, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_balance-alert"));
    if let Some(limit) = nofile {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let hard = getrlimit(Resource::Nofile).maximum;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(move || {
                setrlimit(
                    Resource::Nofile,
                    Rlimit {
                        current: Some(limit),
                        maximum: hard,
                    },
                )
                .map_err(std::io::Error::from)
            });
        }
    }
    let mut child = command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(config)
        .env_clear()
        .env("DATABASE_PATH", db)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("serve starts");
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let banner = lines.next_line().await.expect("read").expect("banner line");
    let urls: Vec<&str> = banner
        .split_whitespace()
        .filter(|w| w.contains("http://"))
        .collect();
    let api = urls[0].to_owned();
    let metrics = urls[1]
        .trim_start_matches("http://")
        .trim_end_matches(')')
        .to_owned();
    (child, api, metrics)
}

/// Runs the whole sequence (checks, schedule, forecasts) once at `now`.
pub async fn run_at(
    store: &dyn balance_alert_core::store::Store,
    config: &balance_alert_core::config::Config,
    now: i64,
) -> Vec<balance_alert_core::model::AlertRecord> {
    use balance_alert_core::check::{run_due, Housekeeping, RunOptions, Selection};
    let options = RunOptions {
        cache: balance_alert_core::check::engine::CacheMode::Bypass,
        write: balance_alert_core::check::WriteMode::Persist,
        housekeeping: Housekeeping::Never,
    };
    run_due(
        &engine(&config.settings),
        store,
        config,
        &Selection::All,
        options,
        now,
    )
    .await
    .expect("run")
    .checks
    .alerts
}

/// Polls `probe` until it returns Some or the deadline passes.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The secrets of [`echo_provider`] tests: `(variable, value)` for the header, the query and
/// the base URL's password.
pub const ECHOED_SECRETS: [(&str, &str); 4] = [
    ("HDR_TOKEN", "Hdr-Tok3n-Value-9f8e7d"),
    ("QUERY_TOKEN", "Qry-Tok3n-Value-1a2b3c"),
    ("PROXY_PASS", "Pr0xy-Pass-Value-4d5e6f"),
    // In a field not named like a secret (the request body's `account`): secret by its source.
    ("BODY_ACCOUNT", "Body-Acc0unt-Value-7a8b9c"),
];

/// A provider on a free loopback port that answers every request 500, echoing its `X-Token`
/// header, its query, its `Authorization` header and its body in the body (as some providers
/// do).
pub async fn echo_provider() -> (String, tokio::task::JoinHandle<()>) {
    async fn echo(
        headers: axum::http::HeaderMap,
        uri: axum::http::Uri,
        request_body: String,
    ) -> (axum::http::StatusCode, String) {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let body = format!(
            "{{\"error\": \"denied: body={} x-token={} query={} authorization={}\"}}",
            request_body,
            header("x-token"),
            uri.query().unwrap_or(""),
            header("authorization"),
        );
        (axum::http::StatusCode::INTERNAL_SERVER_ERROR, body)
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(echo);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("echo server runs");
    });
    (addr.to_string(), task)
}

/// An `http_json` project whose header, query, base URL password and a request body field are
/// placeholders for [`ECHOED_SECRETS`], calling the [`echo_provider`] at `addr`.
pub fn echoing_project(addr: &str) -> Value {
    json!({"name": "Echo", "provider": "http_json", "api_key": "", "threshold": 10,
           "base_url": format!("http://proxyuser:${{PROXY_PASS}}@{addr}"),
           "url": "/v1/balance?format=json&token=${QUERY_TOKEN}", "method": "POST",
           "body": {"account": "${BODY_ACCOUNT}"},
           "headers": {"X-Token": "${HDR_TOKEN}"}, "value_pointer": "/balance"})
}

/// Fails naming the secret when `text` (what `what` produced) holds one of [`ECHOED_SECRETS`].
pub fn assert_no_echoed_secret(what: &str, text: &str) {
    for (var, value) in ECHOED_SECRETS {
        assert!(!text.contains(value), "{what} shows {var}: {text}");
    }
}
