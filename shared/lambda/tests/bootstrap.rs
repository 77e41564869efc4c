//! The real function binaries (`functions/*`), each started as Lambda starts a `bootstrap`:
//! against a Lambda Runtime API (a minimal one here, on loopback), with `TABLE_NAME` and
//! `AWS_ENDPOINT_URL` pointing at moto_server. A scheduled event to the checker writes the
//! alert, the alert's record read from the table's stream (DynamoDB Streams API) to the
//! notifier delivers it to the receiver, and an API
//! Gateway (HTTP API v2) request to the api function answers from the same table.
//!
//! The binaries come from `BALANCE_ALERT_FUNCTIONS_DIR` — ./scripts/test.sh points it at the
//! release bootstraps `cargo lambda build --release` made (`target/lambda/<name>/bootstrap`) —
//! else the target directory's `debug` (`cargo build -p checker -p api -p notifier`).

#[path = "../../store-dynamodb/tests/moto/mod.rs"]
#[allow(dead_code)]
mod moto;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use balance_alert_core::store::Store;
use fake_providers::FakeServer;
use serde_json::{json, Value};

/// A Lambda Runtime API for one function: queued events, recorded results.
#[derive(Default)]
struct Runtime {
    queue: Mutex<VecDeque<(String, Value)>>,
    results: Mutex<Vec<(String, Result<Value, Value>)>>,
}

async fn next(State(rt): State<Arc<Runtime>>) -> impl IntoResponse {
    loop {
        if let Some((id, event)) = rt.queue.lock().expect("queue").pop_front() {
            let deadline = (chrono::Utc::now().timestamp_millis() + 60_000).to_string();
            let mut h = HeaderMap::new();
            h.insert("lambda-runtime-aws-request-id", id.parse().expect("id"));
            h.insert("lambda-runtime-deadline-ms", deadline.parse().expect("ms"));
            h.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:e2e"
                    .parse()
                    .expect("arn"),
            );
            h.insert(
                "lambda-runtime-trace-id",
                "Root=1-0-0".parse().expect("trace"),
            );
            return (h, event.to_string());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn response(
    State(rt): State<Arc<Runtime>>,
    Path(id): Path<String>,
    body: String,
) -> &'static str {
    let v = serde_json::from_str(&body).unwrap_or(Value::String(body));
    rt.results.lock().expect("results").push((id, Ok(v)));
    "{}"
}

async fn error(
    State(rt): State<Arc<Runtime>>,
    Path(id): Path<String>,
    body: String,
) -> &'static str {
    let v = serde_json::from_str(&body).unwrap_or(Value::String(body));
    rt.results.lock().expect("results").push((id, Err(v)));
    "{}"
}

async fn init_error(State(rt): State<Arc<Runtime>>, body: String) -> &'static str {
    rt.results
        .lock()
        .expect("results")
        .push(("init".into(), Err(Value::String(body))));
    "{}"
}

/// A running function: its binary under a runtime API.
struct Function {
    runtime: Arc<Runtime>,
    _child: tokio::process::Child,
    next_id: usize,
}

fn binary(name: &str) -> PathBuf {
    let dir = std::env::var("BALANCE_ALERT_FUNCTIONS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            let target = std::env::var("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
            target.join("debug")
        });
    // `cargo lambda build` lays out `<dir>/<name>/bootstrap`; `cargo build`, `<dir>/<name>`.
    let lambda_layout = dir.join(name).join("bootstrap");
    let path = if lambda_layout.exists() {
        lambda_layout
    } else {
        dir.join(name)
    };
    assert!(
        path.exists(),
        "{} is missing: build the functions first (cargo build -p checker -p api -p notifier), or set BALANCE_ALERT_FUNCTIONS_DIR",
        path.display()
    );
    path
}

impl Function {
    async fn start(name: &str, table: &str, extra: &[(&str, &str)]) -> Function {
        let runtime = Arc::new(Runtime::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(runtime.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let mut cmd = tokio::process::Command::new(binary(name));
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "e2e")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("TABLE_NAME", table)
            .env("AWS_ENDPOINT_URL", moto::endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("function starts");
        Function {
            runtime,
            _child: child,
            next_id: 0,
        }
    }

    /// Invokes with `event` and waits for the result.
    async fn invoke(&mut self, event: Value) -> Value {
        self.next_id += 1;
        let id = format!("req-{}", self.next_id);
        self.runtime
            .queue
            .lock()
            .expect("queue")
            .push_back((id.clone(), event));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            {
                let results = self.runtime.results.lock().expect("results");
                if let Some((_, r)) = results.iter().find(|(i, _)| *i == id || i == "init") {
                    return match r {
                        Ok(v) => v.clone(),
                        Err(e) => panic!("the function failed: {e}"),
                    };
                }
            }
            assert!(Instant::now() < deadline, "no result for {id}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The stream's INSERT record of the item with partition key `pk`, as a Lambda event.
async fn stream_event_for(table: &str, pk: &str) -> Value {
    use aws_sdk_dynamodbstreams::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
    let arn = moto::client()
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe")
        .table
        .and_then(|t| t.latest_stream_arn)
        .expect("the table has a stream");
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "moto-test"))
        .endpoint_url(moto::endpoint())
        .http_client(balance_alert_store_dynamodb::http_client())
        .build();
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(config);
    let shards = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .expect("describe stream")
        .stream_description
        .and_then(|d| d.shards)
        .unwrap_or_default();
    for shard in shards {
        let Some(shard_id) = shard.shard_id else {
            continue;
        };
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard_id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("iterator")
            .shard_iterator;
        let records = streams
            .get_records()
            .set_shard_iterator(iterator)
            .send()
            .await
            .expect("records")
            .records
            .unwrap_or_default();
        for r in records {
            let Some(data) = r.dynamodb else { continue };
            let keys = data.keys.unwrap_or_default();
            let found = matches!(keys.get("pk"), Some(AttributeValue::S(v)) if v == pk);
            let insert = r
                .event_name
                .as_ref()
                .is_some_and(|e| e.as_str() == "INSERT");
            if found && insert {
                let keys_json: serde_json::Map<String, Value> = keys
                    .iter()
                    .filter_map(|(k, v)| match v {
                        AttributeValue::S(s) => Some((k.clone(), json!({"S": s}))),
                        _ => None,
                    })
                    .collect();
                return json!({"Records": [{
                    "eventID": r.event_id,
                    "eventName": "INSERT",
                    "eventSource": "aws:dynamodb",
                    "dynamodb": {"Keys": keys_json,
                                 "SequenceNumber": data.sequence_number,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"}}]});
            }
        }
    }
    panic!("no INSERT of {pk} on the stream of {table}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_three_binaries_check_deliver_and_answer_on_one_table() {
    // GIVEN a table whose config has a LOW project on the fake provider and a webhook channel
    // on the fake receiver
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let (_, store) = moto::fresh_store("e2e", 90).await;
    let table = store.table().to_owned();
    let store: Arc<dyn Store> = Arc::new(store);
    let config = json!({
        "settings": {"max_retries": 0, "language": "en", "forecast_alert_days": 0},
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops")}],
        "projects": [{"name": "Low", "provider": "openrouter", "api_key": "bal:3",
                      "threshold": 10, "base_url": fake.base_url()}],
    });
    store
        .put_config_document(config.to_string(), None, 1)
        .await
        .expect("put")
        .expect("created");

    // WHEN the checker gets its scheduled event
    let started = Instant::now();
    let mut checker = Function::start("checker", &table, &[]).await;
    let out = checker
        .invoke(
            serde_json::from_str(include_str!("fixtures/scheduled-event.json")).expect("fixture"),
        )
        .await;
    eprintln!(
        "checker: first invocation done {} ms after spawn",
        started.elapsed().as_millis()
    );
    // THEN it checked the project and wrote one alert (its own outbox sweep may send it)
    assert_eq!(
        (out["checked"].as_u64(), out["alerts"].as_u64()),
        (Some(1), Some(1)),
        "{out}"
    );
    let alerts = store
        .alerts(balance_alert_core::store::AlertQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 1);
    let id = alerts[0].id.clone();

    // WHEN the notifier gets the alert's record, read from the table's stream as Lambda's
    // event source mapping would (twice: a redelivery)
    let started = Instant::now();
    let mut notifier = Function::start("notifier", &table, &[]).await;
    let record = stream_event_for(&table, &format!("ALERT#{id}")).await;
    for round in 0..2 {
        let r = notifier.invoke(record.clone()).await;
        assert_eq!(r["batchItemFailures"], json!([]), "{r}");
        if round == 0 {
            eprintln!(
                "notifier: first invocation done {} ms after spawn",
                started.elapsed().as_millis()
            );
        }
    }
    // THEN the receiver got the message once and the record says sent
    assert_eq!(fake.received("ops").len(), 1);
    assert_eq!(fake.received("ops")[0].json()["project"], "Low");
    let a = store.get_alert(&id).await.expect("get").expect("exists");
    assert_eq!(a.status.as_str(), "sent");

    // WHEN the api function gets an HTTP API request for /api/credits
    let started = Instant::now();
    let mut api = Function::start("api", &table, &[("WEB_API_KEY", "e2e-key")]).await;
    let r = api
        .invoke(
            serde_json::from_str(include_str!("fixtures/apigw-v2-credits.json")).expect("fixture"),
        )
        .await;
    eprintln!(
        "api: first invocation done {} ms after spawn",
        started.elapsed().as_millis()
    );
    // THEN it answers 200 with the same data
    assert_eq!(r["statusCode"], 200, "{r}");
    let body: Value = serde_json::from_str(r["body"].as_str().unwrap_or("")).expect("json body");
    assert_eq!(body["projects"][0]["name"], "Low", "{body}");
    assert_eq!(body["projects"][0]["credits"], 3.0);
}
