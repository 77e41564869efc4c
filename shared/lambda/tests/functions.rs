//! The three functions' handlers on a real DynamoDB API (moto_server, started by the helper
//! when `BALANCE_ALERT_TEST_DYNAMODB_ENDPOINT` is unset), the fake provider and the fake
//! receiver: the checker writes the alert, the notifier delivers it from its stream record
//! (once, however often the record comes), leaves a failing channel's retry to the outbox,
//! reports back only a record the store failed on, and reads nothing for a batch without an
//! alert insert; the api router answers from the same table.

#[path = "../../store-dynamodb/tests/moto/mod.rs"]
#[allow(dead_code)]
mod moto;
mod proxy;
mod secrets;

use std::sync::Arc;
use std::time::Duration;

use balance_alert_core::store::Store;
use balance_alert_lambda::checker::CheckerFunction;
use balance_alert_lambda::notifier::{NotifierFunction, StreamEvent};
use balance_alert_lambda::Env;
use fake_providers::{FakeServer, HookMode};
use proxy::Proxy;
use serde_json::json;

/// A fresh table holding `config` as its document.
async fn env_with(config: serde_json::Value) -> Env {
    let (_, store) = moto::fresh_store("fn", 90).await;
    let store: Arc<dyn Store> = Arc::new(store);
    store
        .put_config_document(config.to_string(), None, chrono::Utc::now().timestamp())
        .await
        .expect("put config")
        .expect("created");
    Env::over(store).await.expect("env")
}

fn stream_event(ids: &[(&str, &str)]) -> StreamEvent {
    let records: Vec<serde_json::Value> = ids
        .iter()
        .map(|(id, seq)| {
            json!({"eventName": "INSERT", "dynamodb": {
                "Keys": {"pk": {"S": format!("ALERT#{id}")}, "sk": {"S": "ALERT"}},
                "SequenceNumber": seq}})
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("event")
}

fn metrics() -> Arc<balance_alert_services::Metrics> {
    Arc::new(balance_alert_services::Metrics::new())
}

#[tokio::test(flavor = "multi_thread")]
async fn checker_writes_the_alert_and_the_notifier_delivers_it_once() {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let env = env_with(json!({
        "settings": {"max_retries": 0, "language": "en", "forecast_alert_days": 0},
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops")}],
        "projects": [{"name": "Low", "provider": "openrouter", "api_key": "bal:2",
                      "threshold": 10, "base_url": fake.base_url()}],
    }))
    .await;
    // The checker: one due project, one LOW alert; its own outbox sweep sends it too, so the
    // notifier below must not resend.
    let checker = CheckerFunction::new(env.clone(), metrics());
    let out = checker.handle().await.expect("checker");
    assert_eq!((out.checked, out.alerts), (1, 1));
    let alerts = env
        .store
        .alerts(balance_alert_core::store::AlertQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("alerts");
    let id = alerts[0].id.clone();
    // A second invocation right away: nothing is due, nothing alerts twice.
    assert_eq!(checker.handle().await.expect("again").checked, 0);

    let notifier = NotifierFunction::new(env.clone(), metrics());
    for _ in 0..2 {
        let r = notifier
            .handle(stream_event(&[(&id, "100")]))
            .await
            .expect("notifier");
        assert!(r.batch_item_failures.is_empty(), "{r:?}");
    }
    assert_eq!(fake.received("ops").len(), 1, "delivered once");
    let a = env
        .store
        .get_alert(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(a.status.as_str(), "sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_receiver_leaves_the_retry_to_the_outbox_and_its_record_succeeds() {
    // GIVEN two alerts routed to two channels, one of which answers 503
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    fake.set_hook("down", HookMode::Status(503));
    let env = env_with(json!({
        "settings": {"language": "en"},
        "channels": [
            {"name": "down", "type": "webhook", "url": fake.hook_url("down")},
            {"name": "up", "type": "webhook", "url": fake.hook_url("up")},
        ],
        "routes": [
            {"match": {"project": "name-a"}, "channels": ["down"]},
            {"match": {"project": "name-b"}, "channels": ["up"]},
        ],
        "projects": [],
    }))
    .await;
    insert_alerts(&env, &["a", "b"]).await;
    // WHEN their stream records arrive in one batch
    let before = chrono::Utc::now().timestamp();
    let notifier = NotifierFunction::new(env.clone(), metrics());
    let r = notifier
        .handle(stream_event(&[("x0", "1"), ("x1", "2")]))
        .await
        .expect("notifier");
    // THEN no record failed: the stream does not spend its retries (and send the record to
    // the dead-letter queue) while the outbox retries with backoff
    assert!(r.batch_item_failures.is_empty(), "{r:?}");
    assert_eq!(fake.received("up").len(), 1);
    let down = env.store.get_alert("x0").await.expect("get").expect("x0");
    assert_eq!(down.status.as_str(), "pending");
    let d = &down.deliveries[0];
    assert_eq!((d.channel.as_str(), d.attempts), ("down", 1));
    assert!(
        d.next_attempt_at.is_some_and(|t| t > before) && d.error.is_some(),
        "the outbox holds the retry: {d:?}"
    );
    let empty = notifier
        .handle(stream_event(&[]))
        .await
        .expect("empty batch");
    assert!(empty.batch_item_failures.is_empty());
}

/// Inserts one pending alert per project (`x0`, `x1`, … in order).
async fn insert_alerts(env: &Env, projects: &[&str]) {
    for (i, project) in projects.iter().enumerate() {
        let mut a = balance_alert_core::store::contract::alert(&format!("x{i}"), project, 0);
        a.created_at = chrono::Utc::now().timestamp() + i as i64;
        assert!(env.store.insert_alert(a).await.expect("insert"));
    }
}

/// A fresh table holding `config`, whose store talks to moto_server through a [`Proxy`].
async fn env_through_proxy(config: serde_json::Value) -> (Env, Proxy) {
    let proxy = Proxy::start(moto::endpoint()).await;
    let (_, direct) = moto::fresh_store("proxied", 90).await;
    let store: Arc<dyn Store> = Arc::new(balance_alert_store_dynamodb::DynamoStore::new(
        proxy.client(),
        direct.table(),
        90,
    ));
    store
        .put_config_document(config.to_string(), None, chrono::Utc::now().timestamp())
        .await
        .expect("put config")
        .expect("created");
    (Env::over(store).await.expect("env"), proxy)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_store_write_reports_its_record_and_the_redelivery_sends_it() {
    // GIVEN an alert for a working receiver, and a store whose writes of that alert's
    // deliveries fail (DynamoDB answers 500)
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let (env, proxy) = env_through_proxy(json!({
        "channels": [{"name": "up", "type": "webhook", "url": fake.hook_url("up")}],
        "projects": [],
    }))
    .await;
    insert_alerts(&env, &["a"]).await;
    proxy.fail_when(|op, body| {
        op == "UpdateItem" && body.contains("#deliveries") && body.contains("ALERT#x0")
    });
    let notifier = NotifierFunction::new(env.clone(), metrics());
    // WHEN its record arrives
    let r = notifier
        .handle(stream_event(&[("x0", "7")]))
        .await
        .expect("a failed write is a record's failure, not the invocation's");
    // THEN the record is reported, so the stream brings it again
    let seqs: Vec<&str> = r
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(seqs, ["7"]);
    // AND once the store answers again, the redelivered record is sent and recorded
    proxy.heal();
    let r = notifier
        .handle(stream_event(&[("x0", "7")]))
        .await
        .expect("notifier");
    assert!(r.batch_item_failures.is_empty(), "{r:?}");
    assert_eq!(fake.received("up").len(), 1);
    let a = env.store.get_alert("x0").await.expect("get").expect("x0");
    assert_eq!(a.status.as_str(), "sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_without_an_alert_insert_reads_neither_the_config_nor_the_table() {
    // GIVEN a notifier whose table is reached through a counting proxy
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let (env, proxy) = env_through_proxy(json!({
        "channels": [{"name": "up", "type": "webhook", "url": fake.hook_url("up")}],
        "projects": [],
    }))
    .await;
    let notifier = NotifierFunction::new(env, metrics());
    proxy.clear();
    // WHEN a batch holds only records that are no alert insert (an alert's update, a
    // reading's insert, a removal)
    let event: StreamEvent = serde_json::from_value(json!({"Records": [
        {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "ALERT#x0"}, "sk": {"S": "ALERT"}}, "SequenceNumber": "1"}},
        {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "READING#p1"}, "sk": {"S": "1764000000"}}, "SequenceNumber": "2"}},
        {"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": "ALERT#x1"}, "sk": {"S": "ALERT"}}, "SequenceNumber": "3"}},
    ]}))
    .expect("event");
    let r = notifier.handle(event).await.expect("notifier");
    // THEN nothing was read: no config document, no alert
    assert!(r.batch_item_failures.is_empty(), "{r:?}");
    assert_eq!(proxy.operations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_router_answers_from_the_table_and_is_ready_without_a_check_run() {
    use tower::ServiceExt;
    let env = env_with(
        json!({"projects": [{"name": "Main", "provider": "openrouter",
                                            "api_key": "bal:5", "threshold": 1}]}),
    )
    .await;
    let vars: std::collections::HashMap<String, String> =
        [("WEB_API_KEY".to_owned(), "k".to_owned())].into();
    let router = balance_alert_lambda::api::router_with(&env, &vars)
        .await
        .expect("router");
    for path in ["/health", "/ready"] {
        let response = router
            .clone()
            .oneshot(
                axum::http::Request::get(path)
                    .header("host", "localhost")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        // The checker function checks, not this one: ready means config and store answer.
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_refuses_to_start_without_a_key_unless_told_it_is_open() {
    let env = env_with(json!({"projects": []})).await;
    let vars = |pairs: &[(&str, &str)]| -> std::collections::HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let err = balance_alert_lambda::api::router_with(&env, &vars(&[]))
        .await
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("API_KEY_SECRET_ARN") && err.contains("ALLOW_OPEN_WITHOUT_KEY=true"),
        "{err}"
    );
    let open =
        balance_alert_lambda::api::router_with(&env, &vars(&[("ALLOW_OPEN_WITHOUT_KEY", "true")]))
            .await;
    assert!(open.is_ok(), "open when told so");
}

/// A Secrets Manager client on the same moto_server.
fn secrets_client() -> aws_sdk_secretsmanager::Client {
    secrets::client(moto::endpoint())
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_references_resolve_from_secrets_manager_and_a_missing_one_is_named() {
    use balance_alert_lambda::secrets::SecretsManager;
    let client = secrets_client();
    let name = moto::unique_table("secret");
    client
        .create_secret()
        .name(&name)
        .secret_string(
            r#"{"openrouter": "sk-or-v1-from-the-secret", "hook": "https://hooks.example/x"}"#,
        )
        .send()
        .await
        .expect("create secret");
    let (_, store) = moto::fresh_store("sec", 90).await;
    let store: Arc<dyn Store> = Arc::new(store);
    let doc = json!({
        "channels": [{"name": "ops", "type": "webhook", "url": format!("secretsmanager://{name}#hook")}],
        "projects": [{"name": "Main", "provider": "openrouter", "threshold": 1,
                      "api_key": format!("secretsmanager://{name}#openrouter")}],
    });
    store
        .put_config_document(doc.to_string(), None, 1)
        .await
        .expect("put")
        .expect("created");
    let env = Env::over_with(store.clone(), Arc::new(SecretsManager::new(client.clone())))
        .await
        .expect("env");
    let loaded = env.config.get();
    assert_eq!(
        loaded.config.projects[0].api_key.expose(),
        "sk-or-v1-from-the-secret"
    );
    assert_eq!(
        loaded.config.channels[0].options.url().map(|u| u.expose()),
        Some("https://hooks.example/x")
    );

    // A reference to a secret that does not exist: the path and the id, no value.
    let bad = json!({"projects": [{"name": "Main", "provider": "openrouter", "threshold": 1,
                                   "api_key": "secretsmanager://no-such-secret"}]});
    let (_, other) = moto::fresh_store("sec2", 90).await;
    let other: Arc<dyn Store> = Arc::new(other);
    other
        .put_config_document(bad.to_string(), None, 1)
        .await
        .expect("put")
        .expect("created");
    let err = Env::over_with(other, Arc::new(SecretsManager::new(client)))
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("projects[0].api_key") && err.contains("no-such-secret"),
        "{err}"
    );
}

#[path = "../../../tests/util/prometheus.rs"]
#[allow(dead_code)]
mod prometheus;

#[tokio::test(flavor = "multi_thread")]
async fn the_checker_remote_writes_the_metrics_series_to_a_real_prometheus() {
    // GIVEN a Prometheus that accepts remote writes, and a checker pointed at it
    let prom = prometheus::Prometheus::remote_write_receiver().await;
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let env = env_with(json!({
        "settings": {"max_retries": 0, "forecast_alert_days": 0},
        "projects": [{"name": "Main", "provider": "openrouter", "api_key": "bal:42.5",
                      "threshold": 10, "base_url": fake.base_url()}],
    }))
    .await;
    let rw = balance_alert_lambda::remote_write::RemoteWrite {
        url: format!("{}/api/v1/write", prom.url),
        basic: None,
        bearer: None,
        http: reqwest::Client::new(),
    };
    // WHEN it runs
    CheckerFunction::new(env, metrics())
        .with_remote_write(rw)
        .handle()
        .await
        .expect("checker");
    // THEN Prometheus holds the same series as /metrics, names and labels included
    assert_eq!(
        prom.value(r#"balance_alert_balance{project="Main",provider="openrouter",type="credits",job="balance-alert"}"#)
            .await,
        42.5
    );
    assert_eq!(
        prom.value(r#"balance_alert_status{project="Main"}"#).await,
        1.0
    );
    assert_eq!(prom.value("balance_alert_active_projects_count").await, 1.0);
}

/// One request to the warm router; the status and the JSON body.
async fn call(router: &axum::Router, method: &str, path: &str) -> (u16, serde_json::Value) {
    use tower::ServiceExt;
    let response = router
        .clone()
        .oneshot(
            axum::http::Request::builder()
                .method(method)
                .uri(path)
                .header("host", "localhost")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

/// The kinds of every alert in the table, oldest first.
async fn alert_kinds(store: &dyn Store) -> Vec<&'static str> {
    let mut alerts = store
        .alerts(balance_alert_core::store::AlertQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("alerts");
    alerts.reverse();
    alerts.iter().map(|a| a.kind.as_str()).collect()
}

/// `config push` from elsewhere: a new version of the table's document.
async fn push(store: &dyn Store, config: serde_json::Value) {
    balance_alert_core::config::push_document(
        store,
        &config.to_string(),
        &std::collections::HashMap::<String, String>::new(),
        chrono::Utc::now().timestamp(),
    )
    .await
    .expect("pushed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_warm_api_uses_a_config_pushed_since_its_last_request() {
    // GIVEN a warm api function (it has answered a request) loaded with threshold 20, and a
    // project whose balance stays 22
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let project = |threshold: u32| {
        json!({
            "settings": {"max_retries": 0, "language": "en", "forecast_alert_days": 0},
            "projects": [{"name": "Main", "provider": "openrouter", "api_key": "bal:22",
                          "threshold": threshold, "base_url": fake.base_url()}],
        })
    };
    let env = env_with(project(20)).await;
    let open: std::collections::HashMap<String, String> =
        [("ALLOW_OPEN_WITHOUT_KEY".to_owned(), "true".to_owned())].into();
    let api = balance_alert_lambda::api::router_with(&env, &open)
        .await
        .expect("router");
    assert_eq!(call(&api, "GET", "/health").await.0, 200);
    // WHEN the threshold is raised to 25 by `config push`, a (cold) checker finds 22 low,
    // and a request reaches the warm api after its config look-up period
    push(&*env.store, project(25)).await;
    let cold = Env::over(env.store.clone()).await.expect("cold env");
    let out = CheckerFunction::new(cold, metrics())
        .handle()
        .await
        .expect("checker");
    assert_eq!((out.checked, out.alerts), (1, 1));
    // The look-up period, not a race: the api looks at most once per period.
    tokio::time::sleep(balance_alert_lambda::api::CONFIG_CHECK_EVERY).await;
    let (status, body) = call(&api, "POST", "/api/refresh").await;
    assert_eq!(status, 200, "{body}");
    // THEN the api's refresh judges 22 against 25 too: still low, no "recovered"
    assert_eq!(alert_kinds(&*env.store).await, ["low"]);
    let (_, projects) = call(&api, "GET", "/api/config/projects").await;
    assert!(
        projects.to_string().contains("\"threshold\":25"),
        "{projects}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checker_right_after_a_config_change_checks_exactly_the_changed_projects() {
    // GIVEN three projects checked moments ago, so none is due
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let config = |a_threshold: u32, c_owner: &str| {
        json!({
            "settings": {"max_retries": 0, "language": "en", "forecast_alert_days": 0},
            "projects": [
                {"name": "A", "provider": "openrouter", "api_key": "bal:30",
                 "threshold": a_threshold, "base_url": fake.base_url()},
                {"name": "B", "provider": "openrouter", "api_key": "bal:31",
                 "threshold": 10, "base_url": fake.base_url()},
                {"name": "C", "provider": "openrouter", "api_key": "bal:32",
                 "threshold": 10, "base_url": fake.base_url(), "owner_project": c_owner},
            ],
        })
    };
    let env = env_with(config(10, "team-1")).await;
    let warm = CheckerFunction::new(env.clone(), metrics());
    assert_eq!(warm.handle().await.expect("first").checked, 3);
    assert_eq!(warm.handle().await.expect("second").checked, 0);
    // WHEN A's threshold changes and C's grouping label (display only), and a cold checker
    // (a new container: no previous config in memory) runs right after
    push(&*env.store, config(40, "team-2")).await;
    let cold = Env::over(env.store.clone()).await.expect("cold env");
    let checker = CheckerFunction::new(cold, metrics());
    let out = checker.handle().await.expect("after the change");
    // THEN only A is checked (and found low under its new threshold), once
    assert_eq!((out.checked, out.alerts), (1, 1));
    assert_eq!(
        ["bal:30", "bal:31", "bal:32"].map(|t| fake.hits(t)),
        [2, 1, 1]
    );
    assert_eq!(alert_kinds(&*env.store).await, ["low"]);
    assert_eq!(checker.handle().await.expect("again").checked, 0);
    assert_eq!(warm.handle().await.expect("warm again").checked, 0);
}
