//! The HTTP API through `app(state).oneshot(...)`: every endpoint, auth, 304, 429, bad bodies,
//! write-back to config.json and hot reload with a broken file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use balance_alert_api::{app, metrics_app, ApiOptions, AppState, AuthConfig, Metrics};
use balance_alert_core::config::{LiveConfig, Secret};
use balance_alert_core::engine::CacheMode;
use balance_alert_core::service::Checker;
use balance_alert_store_sqlite::SqliteStore;
use fake_providers::FakeServer;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Harness {
    _fake: FakeServer,
    dir: tempfile::TempDir,
    state: AppState,
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
        self.state
            .checker
            .run(None, CacheMode::Bypass)
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
    store: Arc<SqliteStore>,
    auth: AuthConfig,
    options: ApiOptions,
) -> AppState {
    let live = Arc::new(LiveConfig::load(config, env).expect("config loads"));
    let metrics = Arc::new(Metrics::new());
    let checker = Arc::new(Checker::new(live, store, metrics.clone()));
    AppState::new(checker, metrics, auth, options)
}

/// A config file with placeholders, comments and three projects, served by a fake provider.
async fn harness_with(auth: AuthConfig, options: ApiOptions) -> Harness {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let url = fake.base_url();
    let doc = json!({
        "_comment": "kept as written",
        "settings": {"retry_base_delay_ms": 5, "max_retries": 0, "request_timeout_seconds": 2},
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
    let store = Arc::new(SqliteStore::in_memory().expect("store"));
    let state = state_for(&path, env(), store, auth, options);
    Harness {
        _fake: fake,
        dir,
        app: app(state.clone()),
        state,
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

#[tokio::test]
async fn credits_lists_every_project_with_state_and_masked_errors() {
    let h = harness().await;
    let (status, _, before) = h.get("/api/credits").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["projects"][0]["state"], "unknown");
    assert_eq!(before["projects"][0]["error"], "not checked yet");
    h.check_all().await;
    let (_, _, body) = h.get("/api/credits").await;
    assert_eq!(
        body["summary"],
        json!({"total": 3, "success": 2, "failed": 1, "need_alarm": 1})
    );
    let main = &body["projects"][0];
    assert_eq!(main["project"], "Main");
    assert_eq!(main["credits"], 120.0);
    assert_eq!(main["balance"], 120.0);
    assert_eq!(main["currency"], "USD");
    assert_eq!(main["state"], "ok");
    assert_eq!(main["owner_project"], "bot");
    assert_eq!(
        main["project_id"],
        balance_alert_core::model::project_id("openrouter", "Main")
    );
    assert_eq!(body["projects"][1]["state"], "low");
    assert_eq!(body["projects"][1]["need_alarm"], true);
    assert_eq!(body["projects"][1]["type"], "balance");
    assert_eq!(body["projects"][1]["kind"], "prepaid_balance");
    assert_eq!(main["kind"], "remaining_credit");
    let broken = &body["projects"][2];
    assert_eq!(broken["credits"], Value::Null);
    assert!(broken["error"]
        .as_str()
        .unwrap_or_default()
        .contains("HTTP 401"));
    assert!(
        !body.to_string().contains("sk-broken"),
        "no key in the response"
    );
    assert!(body["last_update"].is_string());
}

#[tokio::test]
async fn health_is_healthy_with_data_and_live_always_answers() {
    let h = harness().await;
    let (status, _, body) = h.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["has_data"], false);
    let expected_hash = balance_alert_core::config::content_hash(
        &std::fs::read_to_string(h.config_path()).expect("read"),
    );
    assert_eq!(body["config_sha256"], expected_hash.as_str());
    // Not ready until the first check run completed.
    let (status, _, body) = h.get("/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false);
    h.check_all().await;
    let (status, _, body) = h.get("/ready").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["has_data"], true);
    assert_eq!(body["is_stale"], false);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let (status, _, body) = h.get("/live").await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "alive"})));
}

#[tokio::test]
async fn broken_config_reload_keeps_last_good_config_and_turns_health_503() {
    let h = harness().await;
    h.check_all().await;
    std::fs::write(h.config_path(), "{ \"projects\": [ oops").expect("break the file");
    assert!(!h.state.checker.config.reload(), "reload must fail");
    let (status, _, body) = h.get("/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "degraded");
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid JSON"),
        "{body}"
    );
    // The last good config still serves.
    let (_, _, credits) = h.get("/api/credits").await;
    assert_eq!(credits["summary"]["total"], 3);
    // Fixing the file clears the error.
    std::fs::write(h.config_path(), json!({"projects": []}).to_string()).expect("fix");
    assert!(h.state.checker.config.reload());
    assert_eq!(h.get("/health").await.0, StatusCode::OK);
}

#[tokio::test]
async fn refresh_checks_now_then_cools_down() {
    let h = harness().await;
    let (status, _, body) = h
        .post("/api/refresh", json!({"project_name": "Main"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["summary"]["total"], 1);
    assert_eq!(body["report"]["projects"][0]["credits"], 120.0);
    let (status, headers, body) = h.call(request(Method::POST, "/api/refresh", None)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["status"], "error");
    let left = body["retry_after"].as_u64().expect("seconds left");
    assert!((1..=30).contains(&left));
    assert_eq!(headers[header::RETRY_AFTER], left.to_string().as_str());
}

#[tokio::test]
async fn refresh_rejects_bad_bodies_and_unknown_projects() {
    let h = harness().await;
    let bad = Request::builder()
        .method(Method::POST)
        .uri("/api/refresh")
        .body(Body::from("{not json"))
        .expect("req");
    let (status, _, body) = h.call(bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");
    let (status, _, body) = h
        .post("/api/refresh", json!({"project_name": "nope"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"],
        "no project \"nope\"; known: openrouter:Main, deepseek:Low, moonshot:Broken"
    );
    let (status, _, _) = h.post("/api/refresh", json!({"project": "typo"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn threshold_edit_writes_back_keeping_every_project_and_placeholder() {
    let h = harness().await;
    let before = h.file();
    let (status, _, body) = h
        .post(
            "/api/config/threshold",
            json!({"project_name": "Low", "new_threshold": 3.5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = h.file();
    // GIVEN the edit THEN only that field changed: placeholders, comments, order all intact.
    let mut expected = before.clone();
    expected["projects"][1]["threshold"] = json!(3.5);
    assert_eq!(after, expected);
    assert_eq!(after["projects"][0]["api_key"], "${KEY_MAIN}");
    assert_eq!(after["email"][0]["password"], "${UNSET_BUT_DISABLED}");
    let keys: Vec<&String> = after.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        vec!["_comment", "settings", "projects", "subscriptions", "email"]
    );
    // The running config follows.
    let (_, _, projects) = h.get("/api/config/projects").await;
    assert_eq!(projects["projects"][1]["threshold"], 3.5);
}

#[tokio::test]
async fn threshold_edit_rejects_bad_values_without_writing() {
    let h = harness().await;
    let before = std::fs::read_to_string(h.config_path()).expect("read");
    for (body, code) in [
        (
            json!({"project_name": "Low", "new_threshold": -1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"project_name": "Low", "new_threshold": "abc"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"project_name": "Low"}), StatusCode::BAD_REQUEST),
        (
            json!({"project_name": "Nope", "new_threshold": 1}),
            StatusCode::NOT_FOUND,
        ),
        // Below critical_threshold (2): the whole config is validated before saving.
        (
            json!({"project_name": "Low", "new_threshold": 1}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, _, resp) = h.post("/api/config/threshold", body.clone()).await;
        assert_eq!(status, code, "{body} → {resp}");
        assert_eq!(resp["status"], "error");
    }
    let (_, _, resp) = h
        .post(
            "/api/config/threshold",
            json!({"project_name": "Low", "new_threshold": 1}),
        )
        .await;
    assert!(
        resp["message"]
            .as_str()
            .unwrap_or_default()
            .contains("projects[1].critical_threshold"),
        "{resp}"
    );
    assert_eq!(
        std::fs::read_to_string(h.config_path()).expect("read"),
        before
    );
}

#[tokio::test]
async fn config_projects_masks_keys() {
    let h = harness().await;
    let (status, _, body) = h.get("/api/config/projects").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["projects"][2]["api_key"], "sk-b***0401");
    assert_eq!(
        body["projects"][0]["api_key"], "***",
        "short keys fully masked"
    );
    assert!(!body.to_string().contains("sk-broken-000000401"));
}

#[tokio::test]
async fn subscriptions_crud_round_trips_through_the_file() {
    let h = harness().await;
    let (_, _, list) = h.get("/api/subscriptions").await;
    assert_eq!(list["subscriptions"][0]["name"], "Copilot");
    assert!(list["subscriptions"][0]["days_until_renewal"].is_i64());

    let add = json!({"name": "Cloud", "cycle_type": "monthly", "renewal_day": 31, "alert_days_before": 3, "amount": 9.5, "currency": "USD"});
    assert_eq!(
        h.post("/api/subscription/add", add.clone()).await.0,
        StatusCode::OK
    );
    assert_eq!(
        h.post("/api/subscription/add", add).await.0,
        StatusCode::CONFLICT
    );
    let (status, _, body) = h
        .post(
            "/api/subscription/add",
            json!({"name": "Bad", "cycle_type": "weekly", "renewal_day": 9}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("renewal_day"),
        "{body}"
    );
    assert_eq!(
        h.post(
            "/api/subscription/add",
            json!({"name": "X", "cycle_type": "monthly"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        h.post("/api/subscription/add", json!({"name": "X", "bogus": 1}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    let (status, _, body) = h
        .post(
            "/api/config/subscription",
            json!({"name": "Cloud", "amount": 12, "new_name": "Cloud2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        h.post(
            "/api/config/subscription",
            json!({"name": "Nope", "amount": 1})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    let (status, _, _) = h
        .post(
            "/api/subscription/mark_renewed",
            json!({"name": "Cloud2", "renewed_date": "2026-11-20"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        h.post(
            "/api/subscription/mark_renewed",
            json!({"name": "Cloud2", "renewed_date": "20/11"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let file = h.file();
    assert_eq!(
        file["subscriptions"][1],
        json!({"name": "Cloud2", "cycle_type": "monthly", "renewal_day": 31,
        "alert_days_before": 3, "amount": 12.0, "currency": "USD", "last_renewed_date": "2026-11-20"})
    );
    assert_eq!(
        h.post("/api/subscription/clear_renewed", json!({"name": "Cloud2"}))
            .await
            .0,
        StatusCode::OK
    );
    assert!(h.file()["subscriptions"][1]
        .get("last_renewed_date")
        .is_none());

    let del = request(
        Method::DELETE,
        "/api/subscription/delete",
        Some(json!({"name": "Cloud2"})),
    );
    assert_eq!(h.call(del).await.0, StatusCode::OK);
    let again = request(
        Method::DELETE,
        "/api/subscription/delete",
        Some(json!({"name": "Cloud2"})),
    );
    assert_eq!(h.call(again).await.0, StatusCode::NOT_FOUND);
    let (_, _, list) = h.get("/api/subscriptions").await;
    assert_eq!(list["subscriptions"].as_array().map(Vec::len), Some(1));
    // Projects and placeholders survived all of it.
    assert_eq!(h.file()["projects"].as_array().map(Vec::len), Some(3));
    assert_eq!(h.file()["projects"][1]["api_key"], "${KEY_LOW}");
}

#[tokio::test]
async fn history_balance_trend_alerts_and_stats() {
    let h = harness().await;
    for _ in 0..3 {
        h.check_all().await;
    }
    let (status, _, body) = h.get("/api/history/balance?days=7&limit=100").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["count"], 6,
        "two readable projects × three runs: {body}"
    );
    let (_, _, by_provider) = h.get("/api/history/balance?provider=deepseek").await;
    assert!(by_provider["data"]
        .as_array()
        .expect("data")
        .iter()
        .all(|p| p["provider"] == "deepseek"));
    let (_, _, one) = h
        .get("/api/history/balance?project_id=openrouter:Main&limit=2")
        .await;
    assert_eq!(one["count"], 2);

    let id = balance_alert_core::model::project_id("deepseek", "Low");
    let (status, _, trend) = h.get(&format!("/api/history/trend/{id}?days=30")).await;
    assert_eq!(status, StatusCode::OK, "{trend}");
    let d = &trend["data"];
    assert_eq!(d["current_balance"], 4.0);
    assert_eq!(d["min_balance"], 4.0);
    assert_eq!(d["data_points"], 3);
    assert_eq!(d["change"], 0.0);
    // Flat at 4 under a threshold of 10: no run-out date, but already below, said plainly.
    assert_eq!(d["forecast"]["already_below"], true, "{d}");
    assert_eq!(d["forecast"]["burn_rate_per_day"], 0.0);
    assert_eq!(d["forecast"]["days_until_threshold"], 0.0);
    assert_eq!(d["forecast"]["zero_date"], Value::Null);
    let (status, _, by_name) = h.get("/api/history/trend/deepseek:Low").await;
    assert_eq!(
        (status, &by_name["data"]["project_id"]),
        (StatusCode::OK, &json!(id))
    );
    assert_eq!(
        h.get("/api/history/trend/nothing-here").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get("/api/history/trend/deepseek:Low?days=0").await.0,
        StatusCode::BAD_REQUEST
    );

    let (_, _, alerts) = h.get("/api/history/alerts?days=7&limit=50").await;
    // Low went LOW on the first run; Broken reached K = 3 failures on the third.
    assert_eq!(alerts["count"], 2, "{alerts}");
    let kinds: Vec<&str> = alerts["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|a| a["alert_type"].as_str())
        .collect();
    assert_eq!(kinds, vec!["failing", "low"]);
    assert_eq!(alerts["data"][0]["status"], "pending");
    let (_, _, only_low) = h.get("/api/history/alerts?project_id=deepseek:Low").await;
    assert_eq!(only_low["count"], 1);
    let (_, _, stats) = h.get("/api/history/stats?days=30").await;
    assert_eq!(stats["data"]["total_alerts"], 2);
    assert_eq!(stats["data"]["by_type"], json!({"failing": 1, "low": 1}));
    assert_eq!(
        stats["data"]["projects_by_state"],
        json!({"failing": 1, "low": 1, "ok": 1})
    );
    let (status, _, body) = h.get("/api/history/alerts?limit=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");
}

#[tokio::test]
async fn trend_forecasts_when_the_balance_falls() {
    let h = harness().await;
    let store = &h.state.checker.store;
    let id = balance_alert_core::model::project_id("openrouter", "Main");
    let now = chrono::Utc::now().timestamp();
    let points: Vec<_> = (0..4)
        .map(|i| {
            let mut state = balance_alert_core::model::alert::ProjectState {
                project_id: id.clone(),
                project_name: "Main".into(),
                provider: "openrouter".into(),
                state: balance_alert_core::model::AlertState::Ok,
                balance: Some(100.0),
                currency: "USD".into(),
                consecutive_failures: 0,
                last_alert_at: None,
                last_checked_at: now,
                last_success_at: Some(now),
                last_error: None,
                stale_reason: None,
                cached: false,
                version: i + 1,
            };
            state.balance = Some(100.0 - 10.0 * i as f64);
            balance_alert_core::store::CheckWrite {
                expected_version: if i == 0 { None } else { Some(i) },
                state,
                alert: None,
                point: Some(balance_alert_core::store::BalancePoint {
                    project_id: id.clone(),
                    project_name: "Main".into(),
                    provider: "openrouter".into(),
                    balance: 100.0 - 10.0 * i as f64,
                    threshold: 10.0,
                    currency: "USD".into(),
                    timestamp: now - (3 - i as i64) * 86_400,
                }),
            }
        })
        .collect();
    for w in points {
        assert_eq!(
            store.commit_checks(vec![w]).await.expect("commit"),
            vec![true]
        );
    }
    let (_, _, trend) = h.get("/api/history/trend/Main").await;
    let f = &trend["data"]["forecast"];
    assert!(
        (f["burn_rate_per_day"].as_f64().expect("rate") - 10.0).abs() < 1e-6,
        "{f}"
    );
    assert!(
        (f["days_until_threshold"].as_f64().expect("days") - 6.0).abs() < 0.01,
        "{f}"
    );
    assert!(
        (f["days_until_zero"].as_f64().expect("days") - 7.0).abs() < 0.01,
        "{f}"
    );
    assert_eq!(trend["data"]["change"], -30.0);
    assert_eq!(trend["data"]["change_percent"], -30.0);
}

#[tokio::test]
async fn api_key_is_required_when_configured() {
    let auth = AuthConfig {
        api_key: Some(Secret::new("web-secret-key-123")),
        jwt_secret: None,
    };
    let h = harness_with(
        auth,
        ApiOptions {
            rate_limit_per_minute: 0,
            ..Default::default()
        },
    )
    .await;
    let (status, headers, body) = h.get("/api/credits").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("X-API-Key"));
    let wrong = Request::get("/api/credits")
        .header("x-api-key", "nope")
        .body(Body::empty())
        .expect("req");
    let (status, _, body) = h.call(wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "invalid API key or token");
    let bearer = Request::get("/api/credits")
        .header(header::AUTHORIZATION, "Bearer web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(bearer).await.0, StatusCode::OK);
    let header_key = Request::get("/api/credits")
        .header("x-api-key", "web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(header_key).await.0, StatusCode::OK);
    // Health and the docs page stay public; the OpenAPI document, like all of /api, does not.
    assert_eq!(h.get("/health").await.0, StatusCode::OK);
    assert_eq!(h.get("/docs").await.0, StatusCode::OK);
    assert_eq!(h.get("/api/openapi.json").await.0, StatusCode::UNAUTHORIZED);
    // JWT is off: no token endpoint.
    let token = Request::post("/api/auth/token")
        .header("x-api-key", "web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(token).await.0, StatusCode::NOT_FOUND);
    // /health is public: with a key configured it does not echo the config error's text.
    std::fs::write(h.config_path(), "{ \"projects\": [ oops").expect("break");
    assert!(!h.state.checker.config.reload());
    let (status, _, health) = h.get("/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        health["reason"],
        "config reload failed, running on the last good config; see the server log"
    );
}

#[tokio::test]
async fn jwt_tokens_are_issued_for_the_key_and_refreshed() {
    let auth = AuthConfig {
        api_key: Some(Secret::new("web-secret-key-123")),
        jwt_secret: Some(Secret::new("jwt-signing-secret")),
    };
    let h = harness_with(
        auth,
        ApiOptions {
            rate_limit_per_minute: 0,
            ..Default::default()
        },
    )
    .await;
    let token = Request::post("/api/auth/token")
        .header("x-api-key", "web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    let (status, _, pair) = h.call(token).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    assert_eq!(pair["expires_in"], 3600);
    let access = pair["access_token"].as_str().expect("token");
    let with_jwt = Request::get("/api/credits")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(with_jwt).await.0, StatusCode::OK);
    // A refresh token is not an access token.
    let refresh = pair["refresh_token"].as_str().expect("token");
    let misuse = Request::get("/api/credits")
        .header(header::AUTHORIZATION, format!("Bearer {refresh}"))
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(misuse).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, again) = h
        .post("/api/auth/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(again["access_token"].is_string());
    // Only the key mints tokens: an access token cannot chain itself a new pair.
    let chained = Request::post("/api/auth/token")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::empty())
        .expect("req");
    let (status, _, body) = h.call(chained).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        h.post("/api/auth/refresh", json!({"refresh_token": "garbage"}))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn get_responses_carry_an_etag_and_answer_304() {
    let h = harness().await;
    h.check_all().await;
    let (status, headers, _) = h.get("/api/credits").await;
    assert_eq!(status, StatusCode::OK);
    let etag = headers[header::ETAG].to_str().expect("ascii").to_owned();
    let conditional = Request::get("/api/credits")
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .expect("req");
    let (status, headers, body) = h.call(conditional).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(headers[header::ETAG], etag.as_str());
    assert_eq!(body, Value::Null);
    let stale = Request::get("/api/credits")
        .header(header::IF_NONE_MATCH, "\"other\"")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(stale).await.0, StatusCode::OK);
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let h = harness().await;
    let req = Request::get("/api/openapi.json")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .expect("req");
    let response = h.app.clone().oneshot(req).await.expect("response");
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn credits_are_served_pre_gzipped_with_their_own_etag() {
    let h = harness().await;
    h.check_all().await;
    let (_, plain_headers, plain) = h.get("/api/credits").await;
    let gz = Request::get("/api/credits")
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .body(Body::empty())
        .expect("req");
    let response = h.app.clone().oneshot(gz).await.expect("response");
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let etag = response.headers()[header::ETAG].clone();
    assert_ne!(etag, plain_headers[header::ETAG]);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    let mut json = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut json)
        .expect("valid gzip");
    assert_eq!(serde_json::from_str::<Value>(&json).expect("JSON"), plain);
    let again = Request::get("/api/credits")
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::IF_NONE_MATCH, etag)
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(again).await.0, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn clients_over_the_rate_limit_get_429() {
    let h = harness_with(
        AuthConfig::default(),
        ApiOptions {
            rate_limit_per_minute: 3,
            ..Default::default()
        },
    )
    .await;
    let from = |ip: [u8; 4]| {
        let mut req = Request::get("/api/subscriptions")
            .body(Body::empty())
            .expect("req");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 5555))));
        req
    };
    for _ in 0..3 {
        assert_eq!(h.call(from([10, 0, 0, 1])).await.0, StatusCode::OK);
    }
    let (status, headers, body) = h.call(from([10, 0, 0, 1])).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key(header::RETRY_AFTER));
    assert_eq!(body["status"], "error");
    assert_eq!(
        h.call(from([10, 0, 0, 2])).await.0,
        StatusCode::OK,
        "limits are per client"
    );
    // Behind a proxy (no socket peer) the proxy-appended last X-Forwarded-For entry counts:
    // a client cannot dodge its quota by inventing earlier entries.
    for spoof in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"] {
        let req = Request::get("/api/subscriptions")
            .header("x-forwarded-for", format!("{spoof}, 10.9.9.9"))
            .body(Body::empty())
            .expect("req");
        let status = h.call(req).await.0;
        if spoof == "4.4.4.4" {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        } else {
            assert_eq!(status, StatusCode::OK);
        }
    }
}

#[tokio::test]
async fn cors_allows_only_listed_origins() {
    let options = ApiOptions {
        rate_limit_per_minute: 0,
        cors_origins: vec!["http://dash.example".into()],
        ..Default::default()
    };
    let h = harness_with(AuthConfig::default(), options).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/credits")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .body(Body::empty())
            .expect("req")
    };
    let (_, headers, _) = h.call(preflight("http://dash.example")).await;
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://dash.example"
    );
    let (_, headers, _) = h.call(preflight("http://evil.example")).await;
    assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
}

#[tokio::test]
async fn errors_share_one_shape() {
    let h = harness().await;
    let (status, _, body) = h.get("/api/nope").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::NOT_FOUND, Some("error"))
    );
    let wrong_type = Request::post("/api/config/threshold")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("x"))
        .expect("req");
    let (status, _, body) = h.call(wrong_type).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("Content-Type: application/json"));
    let huge = json!({"project_name": "x".repeat(100_000), "new_threshold": 1});
    assert_eq!(
        h.post("/api/config/threshold", huge).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let (status, _, body) = h.call(request(Method::GET, "/api/refresh", None)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["status"], "error");
    let (status, _, body) = h.get("/api/history/trend/%FF").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");
}

#[tokio::test]
async fn status_page_lists_projects_and_escapes_names() {
    let h = harness().await;
    h.check_all().await;
    let (status, _, page) = h.get("/").await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().expect("html").to_owned();
    assert!(
        page.contains("<td>Main</td>") && page.contains("120.00") && page.contains("LOW"),
        "{page}"
    );
}

#[tokio::test]
async fn a_store_failure_is_a_logged_500_without_detail() {
    // GIVEN a real SQLite store whose table disappears under it (a broken or foreign file)
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("state.db");
    let store = Arc::new(SqliteStore::open(&db).expect("store"));
    rusqlite::Connection::open(&db)
        .expect("open")
        .execute_batch("DROP TABLE project_state")
        .expect("drop");
    let config = dir.path().join("config.json");
    std::fs::write(&config, json!({"projects": []}).to_string()).expect("write");
    let router = app(state_for(
        &config,
        env(),
        store,
        AuthConfig::default(),
        ApiOptions::default(),
    ));
    // WHEN a handler needs it
    let response = router
        .clone()
        .oneshot(
            Request::get("/api/credits")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("response");
    // THEN 500 with the error shape and no SQL detail
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        body,
        json!({"status": "error", "message": "internal error; see the server log"})
    );
    // …and /health says the service is unavailable (503), not broken.
    let (status, _, health) = call_router(
        &router,
        Request::get("/health").body(Body::empty()).expect("req"),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        health["reason"],
        "the store cannot be read; see the server log"
    );
}

#[tokio::test]
async fn python_tool_compat_routes_answer() {
    let h = harness().await;
    let (status, _, body) = h.get("/api/features").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["features"],
        json!({"subscriptions": true, "dynamic_config": true, "history": true, "jwt": false})
    );
    let (_, _, a) = h.get("/api/subscriptions").await;
    let (_, _, b) = h.get("/api/config/subscriptions").await;
    assert_eq!(a, b);
    // POST works for delete too, as in the Python tool.
    assert_eq!(
        h.post("/api/subscription/delete", json!({"name": "Copilot"}))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn openapi_document_and_docs_page_are_served() {
    let h = harness().await;
    let (status, _, doc) = h.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3."));
    for path in [
        "/api/credits",
        "/api/refresh",
        "/api/subscriptions",
        "/api/history/trend/{id}",
        "/api/config/threshold",
        "/health",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    let (status, headers, page) = h.get("/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/html"));
    assert!(page
        .as_str()
        .unwrap_or_default()
        .contains("/api/openapi.json"));
    assert!(
        !page.as_str().unwrap_or_default().contains("https://"),
        "works offline: no CDN assets"
    );
}

#[tokio::test]
async fn metrics_endpoint_exposes_every_metric_after_activity() {
    let h = harness().await;
    h.check_all().await;
    // Second run hits the cache for Main and Low.
    h.state
        .checker
        .run(None, CacheMode::Use)
        .await
        .expect("run");
    h.get("/api/credits").await;
    let metrics = metrics_app(h.state.metrics.clone());
    let response = metrics
        .oneshot(Request::get("/metrics").body(Body::empty()).expect("req"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body")
            .to_vec(),
    )
    .expect("utf8");
    for name in [
        "balance_alert_project_balance{",
        "balance_alert_active_projects 3",
        "balance_alert_alerts_total{type=\"low\"} 1",
        "balance_alert_monitor_execution_time_count 2",
        "balance_alert_provider_api_latency_bucket{",
        "balance_alert_http_request_duration_count{method=\"GET\",path=\"/api/credits\",status=\"200\"} 1",
        "balance_alert_cache_hits 2",
        "balance_alert_cache_misses 4",
        "balance_alert_provider_api_calls{provider=\"moonshot\",status=\"auth\"} 2",
    ] {
        assert!(text.contains(name), "missing {name} in:\n{text}");
    }
}

#[tokio::test]
async fn edits_are_refused_where_the_environment_supplies_the_list() {
    // GIVEN hybrid mode where PROJECT_n_* and SUBSCRIPTION_n_* supply the lists
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    let file = json!({"projects": [{"name": "F", "provider": "openrouter", "api_key": "k", "threshold": 1}]});
    std::fs::write(&path, file.to_string()).expect("write");
    let env = crate::util::env_map(&[
        ("PROJECT_1_NAME", "E"),
        ("PROJECT_1_API_KEY", "k"),
        ("SUBSCRIPTION_1_NAME", "S"),
        ("SUBSCRIPTION_1_CYCLE_TYPE", "monthly"),
        ("SUBSCRIPTION_1_RENEWAL_DAY", "5"),
    ]);
    let store = Arc::new(SqliteStore::in_memory().expect("store"));
    let router = app(state_for(
        &path,
        env,
        store,
        AuthConfig::default(),
        ApiOptions::default(),
    ));
    // WHEN edits arrive THEN they are refused with the variable to change, and the file is kept
    let (status, _, body) = call_router(
        &router,
        request(
            Method::POST,
            "/api/config/threshold",
            Some(json!({"project_name": "E", "new_threshold": 2})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("PROJECT_n_THRESHOLD"),
        "{body}"
    );
    let add = json!({"name": "N", "cycle_type": "monthly", "renewal_day": 3});
    let (status, _, _) = call_router(
        &router,
        request(Method::POST, "/api/subscription/add", Some(add)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let kept: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert_eq!(kept, file);
}

#[tokio::test]
async fn a_name_two_providers_share_is_a_conflict_never_a_guess() {
    // GIVEN "Main" under two providers
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let url = fake.base_url();
    let doc = json!({
        "settings": {"retry_base_delay_ms": 5, "max_retries": 0, "refresh_cooldown_seconds": 0},
        "projects": [
            {"name": "Main", "provider": "openrouter", "api_key": "bal:20", "threshold": 10, "base_url": url},
            {"name": "Main", "provider": "deepseek", "api_key": "bal:30", "threshold": 10, "base_url": url}
        ]
    });
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, doc.to_string()).expect("write");
    let store = Arc::new(SqliteStore::in_memory().expect("store"));
    let options = ApiOptions {
        rate_limit_per_minute: 0,
        ..Default::default()
    };
    let state = state_for(&path, HashMap::new(), store, AuthConfig::default(), options);
    let router = app(state.clone());
    let post =
        |uri: &str, body: Value| call_router(&router, request(Method::POST, uri, Some(body)));
    // WHEN a bare name is used THEN every lookup answers 409 naming both candidates
    let (status, _, body) = post(
        "/api/config/threshold",
        json!({"project_name": "Main", "new_threshold": 5}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("openrouter:Main") && message.contains("deepseek:Main"),
        "{message}"
    );
    let (status, _, _) = post("/api/refresh", json!({"project_name": "Main"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    for uri in [
        "/api/history/trend/Main",
        "/api/history/balance?project_id=Main",
        "/api/history/alerts?project_id=Main",
    ] {
        let (status, _, _) = call_router(&router, request(Method::GET, uri, None)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{uri}");
    }
    // AND provider:name picks exactly that project, in memory and in the file
    let (status, _, body) = post(
        "/api/config/threshold",
        json!({"project_name": "deepseek:Main", "new_threshold": 5}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert_eq!(
        file["projects"][0]["threshold"], 10,
        "openrouter's untouched"
    );
    assert_eq!(file["projects"][1]["threshold"], 5.0);
    let (status, _, body) = post("/api/refresh", json!({"project_name": "deepseek:Main"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["projects"][0]["provider"], "deepseek");
    let id = balance_alert_core::model::project_id("openrouter", "Main");
    let (status, _, body) = post("/api/refresh", json!({"project_name": id})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["projects"][0]["provider"], "openrouter");
}

#[tokio::test]
async fn calendar_dates_follow_settings_timezone_not_utc() {
    // UTC+14 and UTC−11 are always on different dates: a renewal due "today" in one zone is
    // never due today in the other, whatever the server's clock zone.
    use balance_alert_core::config::TimeZone;
    use chrono::Datelike;
    let east = "Pacific/Kiritimati";
    let today_east = TimeZone::parse(east).expect("zone").today();
    for (zone, due_today) in [(east, true), ("Pacific/Pago_Pago", false)] {
        let doc = json!({
            "settings": {"timezone": zone},
            "projects": [],
            "subscriptions": [{"name": "S", "cycle_type": "monthly",
                               "renewal_day": today_east.day(), "alert_days_before": 0,
                               "amount": 1, "currency": "USD"}]
        });
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, doc.to_string()).expect("write");
        let store = Arc::new(SqliteStore::in_memory().expect("store"));
        let options = ApiOptions {
            rate_limit_per_minute: 0,
            ..Default::default()
        };
        let state = state_for(&path, HashMap::new(), store, AuthConfig::default(), options);
        let router = app(state);
        let (_, _, body) =
            call_router(&router, request(Method::GET, "/api/subscriptions", None)).await;
        let row = &body["subscriptions"][0];
        assert_eq!(
            row["next_renewal_date"],
            today_east.to_string(),
            "{zone}: {row}"
        );
        let days = row["days_until_renewal"].as_i64().expect("days");
        assert_eq!(days == 0, due_today, "{zone}: {row}");
        assert_eq!(row["need_alert"], due_today, "{zone}: {row}");
        // mark_renewed without a date records the zone's today.
        let (status, _, _) = call_router(
            &router,
            request(
                Method::POST,
                "/api/subscription/mark_renewed",
                Some(json!({"name": "S"})),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
        let zone_today = TimeZone::parse(zone).expect("zone").today();
        assert_eq!(
            file["subscriptions"][0]["last_renewed_date"],
            zone_today.to_string()
        );
    }
}

#[tokio::test]
async fn edits_write_through_a_symlinked_config_and_refuse_a_read_only_one() {
    // GIVEN config.json → ..data/config.json with ..data → ..v1 (a ConfigMap-style mount)
    let dir = tempfile::tempdir().expect("dir");
    let v1 = dir.path().join("..v1");
    std::fs::create_dir(&v1).expect("v1");
    let doc = json!({"projects": [{"name": "A", "provider": "openrouter", "api_key": "k", "threshold": 1}]});
    std::fs::write(v1.join("config.json"), doc.to_string()).expect("write");
    std::os::unix::fs::symlink("..v1", dir.path().join("..data")).expect("link");
    let path = dir.path().join("config.json");
    std::os::unix::fs::symlink("..data/config.json", &path).expect("link");
    let store = Arc::new(SqliteStore::in_memory().expect("store"));
    let options = ApiOptions {
        rate_limit_per_minute: 0,
        ..Default::default()
    };
    let state = state_for(&path, HashMap::new(), store, AuthConfig::default(), options);
    let router = app(state.clone());
    let set = |t: f64| {
        call_router(
            &router,
            request(
                Method::POST,
                "/api/config/threshold",
                Some(json!({"project_name": "A", "new_threshold": t})),
            ),
        )
    };
    // WHEN a threshold is edited THEN the target changes and the link stays a link
    let (status, _, body) = set(7.0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(std::fs::symlink_metadata(&path)
        .expect("meta")
        .file_type()
        .is_symlink());
    let target: Value =
        serde_json::from_str(&std::fs::read_to_string(v1.join("config.json")).expect("read"))
            .expect("JSON");
    assert_eq!(target["projects"][0]["threshold"], 7);
    // WHEN the target's directory is read-only THEN 409 saying so, and nothing changes
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&v1, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let (status, _, body) = set(9.0).await;
    std::fs::set_permissions(&v1, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("read-only"),
        "{body}"
    );
    assert_eq!(state.checker.config.get().config.projects[0].threshold, 7.0);
    let target: Value =
        serde_json::from_str(&std::fs::read_to_string(v1.join("config.json")).expect("read"))
            .expect("JSON");
    assert_eq!(
        target["projects"][0]["threshold"], 7,
        "nothing half-applied"
    );
}

#[tokio::test]
async fn values_sent_through_the_api_are_literal_text_never_placeholders() {
    // GIVEN a server whose environment holds a secret
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, json!({"projects": []}).to_string()).expect("write");
    let store = Arc::new(SqliteStore::in_memory().expect("store"));
    let options = ApiOptions {
        rate_limit_per_minute: 0,
        ..Default::default()
    };
    let env = crate::util::env_map(&[("SERVER_SECRET", "hunter2-secret")]);
    let state = state_for(&path, env, store, AuthConfig::default(), options);
    let router = app(state);
    let post =
        |uri: &str, body: Value| call_router(&router, request(Method::POST, uri, Some(body)));
    // WHEN a client sends placeholders in values
    let (status, _, body) = post(
        "/api/subscription/add",
        json!({"name": "leak-${SERVER_SECRET}", "owner_project": "${SERVER_SECRET:-x}",
               "cycle_type": "monthly", "renewal_day": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // THEN they read back as written, and the secret appears nowhere
    let (_, _, list) = call_router(&router, request(Method::GET, "/api/subscriptions", None)).await;
    assert_eq!(list["subscriptions"][0]["name"], "leak-${SERVER_SECRET}");
    assert_eq!(
        list["subscriptions"][0]["owner_project"],
        "${SERVER_SECRET:-x}"
    );
    assert!(!list.to_string().contains("hunter2"), "{list}");
    // AND the file loads again without that variable (a restart elsewhere)
    let reloaded = balance_alert_core::config::load(&path, &HashMap::<String, String>::new())
        .expect("literal values need no variable");
    assert_eq!(
        reloaded.config.subscriptions[0].name,
        "leak-${SERVER_SECRET}"
    );
    // AND the entry is found again by the name the API shows
    let (status, _, body) = post(
        "/api/config/subscription",
        json!({"name": "leak-${SERVER_SECRET}", "amount": 5}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = post(
        "/api/subscription/delete",
        json!({"name": "leak-${SERVER_SECRET}"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn without_a_key_only_our_own_host_names_and_origins_are_served() {
    let h = harness().await;
    let with = |method: Method, host: &str, origin: Option<&str>, body: Option<Value>| {
        let mut b = Request::builder()
            .method(method)
            .uri("/api/config/threshold")
            .header(header::HOST, host);
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Body::empty, |v| Body::from(v.to_string())))
            .expect("req")
    };
    let read = |host: &str| {
        Request::get("/api/credits")
            .header(header::HOST, host)
            .body(Body::empty())
            .expect("req")
    };
    // A rebound name is refused; loopback names and addresses are served.
    let (status, _, body) = h.call(read("attacker.example:8080")).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    for host in [
        "localhost:8080",
        "127.0.0.1:8080",
        "[::1]:8080",
        "app.localhost",
    ] {
        assert_eq!(h.call(read(host)).await.0, StatusCode::OK, "{host}");
    }
    // A change from another origin's page is refused and nothing is written.
    let before = h.file();
    let edit = json!({"project_name": "Main", "new_threshold": 99});
    let (status, _, _) = h
        .call(with(
            Method::POST,
            "localhost:8080",
            Some("http://attacker.example"),
            Some(edit.clone()),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(h.file(), before);
    let (status, _, body) = h
        .call(with(
            Method::POST,
            "localhost:8080",
            Some("http://localhost:8080"),
            Some(edit),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn with_a_key_any_host_name_may_be_used() {
    let auth = AuthConfig {
        api_key: Some(Secret::new("web-secret-key-123")),
        jwt_secret: None,
    };
    let h = harness_with(auth, ApiOptions::default()).await;
    let req = Request::get("/api/credits")
        .header(header::HOST, "balance.example.com")
        .header("x-api-key", "web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(req).await.0, StatusCode::OK);
}
