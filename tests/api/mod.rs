//! The HTTP API through `app(state).oneshot(...)`, one file per topic; the harness is here.

mod credits;
mod edits;
mod forecast;
mod health;
mod history;
mod http;
mod security;
mod site;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use balance_alert_api::{app, metrics_app, ApiOptions, AppState, AuthConfig};
use balance_alert_core::check::engine::CacheMode;
use balance_alert_core::check::Checker;
use balance_alert_core::check::WriteMode;
use balance_alert_core::check::{Housekeeping, RunOptions, Selection};
use balance_alert_core::config::{LiveConfig, Secret};
use balance_alert_core::health::Status;
use balance_alert_core::store::Store;
use balance_alert_services::Metrics;
use balance_alert_store_sqlite::SqliteStore;
use fake_providers::FakeServer;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Harness {
    _fake: FakeServer,
    dir: tempfile::TempDir,
    state: AppState,
    /// The file-backed config source behind `state.config`, for reload tests.
    live: Arc<LiveConfig>,
    app: Router,
}

impl Harness {
    fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("config.json")
    }

    fn file(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.config_path()).expect("read config"))
            .expect("JSON")
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let response = self
            .app
            .clone()
            .oneshot(req)
            .await
            .expect("infallible router");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, headers, value)
    }

    async fn get(&self, uri: &str) -> (StatusCode, HeaderMap, Value) {
        self.call(request(Method::GET, uri, None)).await
    }

    async fn post(&self, uri: &str, body: Value) -> (StatusCode, HeaderMap, Value) {
        self.call(request(Method::POST, uri, Some(body))).await
    }

    async fn check_all(&self) {
        let options = RunOptions {
            cache: CacheMode::Bypass,
            write: WriteMode::Persist,
            housekeeping: Housekeeping::Never,
        };
        self.state
            .refresher
            .as_ref()
            .expect("the harness checks")
            .run(&Selection::All, options)
            .await
            .expect("check run");
    }
}

async fn call_router(router: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let response = router
        .clone()
        .oneshot(req)
        .await
        .expect("infallible router");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn request(method: Method, uri: &str, body: Option<Value>) -> Request<Body> {
    let b = Request::builder().method(method).uri(uri);
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .expect("valid request")
}

fn env() -> HashMap<String, String> {
    crate::util::env_map(&[("KEY_MAIN", "bal:120"), ("KEY_LOW", "bal:4")])
}

/// The app state over a config file, an environment and a store, wired as `serve` does.
fn state_for(
    config: &std::path::Path,
    env: HashMap<String, String>,
    store: Arc<dyn Store>,
    auth: AuthConfig,
    options: ApiOptions,
) -> AppState {
    live_state_for(config, env, store, auth, options).0
}

/// [`state_for`], also returning the file config source.
fn live_state_for(
    config: &std::path::Path,
    env: HashMap<String, String>,
    store: Arc<dyn Store>,
    auth: AuthConfig,
    options: ApiOptions,
) -> (AppState, Arc<LiveConfig>) {
    let live = Arc::new(LiveConfig::load(config, env).expect("config loads"));
    let metrics = Arc::new(Metrics::new());
    let checker = Arc::new(Checker::new(
        live.clone(),
        store,
        Arc::new(Status::default()),
        metrics.clone(),
    ));
    (AppState::new(checker, metrics, auth, options), live)
}

/// The app over a config file and environment, on the test store, without rate limiting.
async fn open_state_for(path: &std::path::Path, env: HashMap<String, String>) -> AppState {
    let options = ApiOptions {
        rate_limit_per_minute: 0,
        ..Default::default()
    };
    state_for(
        path,
        env,
        crate::util::test_store().await,
        AuthConfig::default(),
        options,
    )
}

/// A config file with placeholders, comments and three projects, served by a fake provider.
async fn harness_with(auth: AuthConfig, options: ApiOptions) -> Harness {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let url = fake.base_url();
    let doc = json!({
        "_comment": "kept as written",
        // A history row per check (the runs here fall in one second): the history surfaces
        // are tested on every reading.
        "settings": {"retry_base_delay_ms": 5, "max_retries": 0, "request_timeout_seconds": 2,
                     "history_resolution_minutes": 0},
        "projects": [
            {"name": "Main", "provider": "openrouter", "api_key": "${KEY_MAIN}", "threshold": 10,
             "base_url": url, "owner_project": "bot", "_comment": "main account"},
            {"name": "Low", "provider": "deepseek", "api_key": "${KEY_LOW}", "threshold": 50,
             "critical_threshold": 2, "base_url": url, "type": "balance"},
            {"name": "Broken", "provider": "moonshot", "api_key": "sk-broken-000000401", "threshold": 1,
             "base_url": url}
        ],
        "subscriptions": [
            {"name": "Copilot", "cycle_type": "yearly", "renewal_day": 1231, "alert_days_before": 7,
             "amount": 100, "currency": "USD"}
        ],
        "email": [{"name": "ops", "host": "imap.example.com", "username": "ops@example.com",
                   "password": "${UNSET_BUT_DISABLED}", "enabled": false}]
    });
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("write");
    let store = crate::util::test_store().await;
    let (state, live) = live_state_for(&path, env(), store, auth, options);
    Harness {
        _fake: fake,
        dir,
        app: app(state.clone()),
        state,
        live,
    }
}

async fn harness() -> Harness {
    harness_with(
        AuthConfig::default(),
        ApiOptions {
            rate_limit_per_minute: 0,
            ..Default::default()
        },
    )
    .await
}
