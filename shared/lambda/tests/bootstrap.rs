//! The real function binaries (`functions/*`), each started as Lambda starts a `bootstrap`,
//! under cargo-lambda's Lambda emulator (`cargo lambda watch --only-lambda-apis`, on loopback),
//! with `TABLE_NAME` and `AWS_ENDPOINT_URL` pointing at moto_server, and invoked with `cargo
//! lambda invoke` / its function-URL route as a user does locally. A scheduled event to the
//! checker writes the alert, the alert's record read from the table's stream (DynamoDB Streams
//! API) to the notifier delivers it to the receiver, and HTTP requests to the api function
//! answer from the same table (function URL, HTTP API v2, REST API v1 and ALB events, `/ready`
//! included). The api function reads its key from Secrets Manager, follows a rotation, and
//! refuses to start without a key. Each bootstrap asks for its first event without calling AWS
//! first (init is only the runtime loop).
//!
//! The binaries come from `BALANCE_ALERT_FUNCTIONS_DIR` — ./scripts/test.sh points it at the
//! bootstraps `sam build` made from template.yaml (`.aws-sam/build/<Name>Function/bootstrap`:
//! what is tested is what deploys); `cargo lambda build`'s `target/lambda` works too — else the
//! target directory's `debug` (`cargo build -p checker -p api -p notifier`).
//! `cargo-lambda` is taken from `CARGO_LAMBDA`, else `PATH`, else the workspace's `.venv` (which
//! ./scripts/test.sh makes).

#[path = "../../store-dynamodb/tests/moto/mod.rs"]
#[allow(dead_code)]
mod moto;
mod secrets;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use balance_alert_core::store::Store;
use fake_providers::FakeServer;
use serde_json::{json, Value};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn binary(name: &str) -> PathBuf {
    // Relative paths are the workspace's (tests run in the crate's directory): the scripts pass
    // absolute ones, a user typing `target/lambda` means the same directory.
    let from_workspace = |p: PathBuf| {
        if p.is_absolute() {
            p
        } else {
            workspace().join(p)
        }
    };
    let dir = std::env::var("BALANCE_ALERT_FUNCTIONS_DIR")
        .map(PathBuf::from)
        .map(from_workspace)
        .unwrap_or_else(|_| {
            let target = std::env::var("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .map(from_workspace)
                .unwrap_or_else(|_| workspace().join("target"));
            target.join("debug")
        });
    // `sam build` lays out `<dir>/<Name>Function/bootstrap` (the template's logical id),
    // `cargo lambda build` `<dir>/<name>/bootstrap`, `cargo build` `<dir>/<name>`.
    let logical_id = format!("{}{}Function", name[..1].to_uppercase(), &name[1..]);
    let path = [
        dir.join(logical_id).join("bootstrap"),
        dir.join(name).join("bootstrap"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| dir.join(name));
    assert!(
        path.exists(),
        "{} is missing: build the functions first (cargo build -p checker -p api -p notifier), or set BALANCE_ALERT_FUNCTIONS_DIR",
        path.display()
    );
    path
}

fn cargo_lambda() -> PathBuf {
    if let Ok(p) = std::env::var("CARGO_LAMBDA") {
        return PathBuf::from(p);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("cargo-lambda"))
            .find(|p| p.is_file())
    });
    let venv = workspace().join(".venv/bin/cargo-lambda");
    on_path.or(venv.is_file().then_some(venv)).expect(
        "cargo-lambda is missing: ./scripts/test.sh installs it in .venv (pip install cargo-lambda), or set CARGO_LAMBDA",
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// `cargo lambda watch --only-lambda-apis` on a loopback port: the Lambda Runtime API the
/// bootstraps poll, the Invoke API `cargo lambda invoke` calls, and the function-URL route.
struct Emulator {
    port: u16,
    dir: tempfile::TempDir,
    // Dropped (killed) in this order: the functions before the emulator they poll.
    _functions: Vec<tokio::process::Child>,
    _watch: tokio::process::Child,
}

impl Emulator {
    async fn start() -> Emulator {
        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("watch.log")).expect("log");
        // In the workspace (it reads its metadata); --only-lambda-apis --ignore-changes: it
        // builds, starts and watches nothing.
        let watch = tokio::process::Command::new(cargo_lambda())
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(port.to_string())
            .current_dir(workspace())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("cargo lambda watch starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "cargo lambda watch did not listen on {port}: {}",
                std::fs::read_to_string(dir.path().join("watch.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Emulator {
            port,
            dir,
            _watch: watch,
            _functions: Vec::new(),
        }
    }

    /// Starts the function's bootstrap as Lambda does, polling the emulator's runtime API
    /// under its own name.
    fn start_function(&mut self, name: &str, table: &str, extra: &[(&str, &str)]) {
        let child = self
            .command(name, name, table, extra)
            .spawn()
            .expect("function starts");
        self._functions.push(child);
    }

    /// The bootstrap of function `binary_name` as Lambda starts it under `name` (stdout
    /// dropped, stderr inherited).
    fn command(
        &self,
        binary_name: &str,
        name: &str,
        table: &str,
        extra: &[(&str, &str)],
    ) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(binary(binary_name));
        cmd.env_clear()
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt/{name}", self.port),
            )
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
            .stdout(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd
    }

    /// `cargo lambda invoke <name> --data-file <event>`: the function's JSON result.
    async fn invoke(&self, name: &str, event: &Value) -> Value {
        let file = self.dir.path().join(format!("{name}-event.json"));
        std::fs::write(&file, event.to_string()).expect("event file");
        let out = tokio::time::timeout(
            Duration::from_secs(120),
            tokio::process::Command::new(cargo_lambda())
                .args(["lambda", "invoke", name, "--invoke-address", "127.0.0.1"])
                .args([
                    "--invoke-port",
                    &self.port.to_string(),
                    "--output-format",
                    "json",
                ])
                .arg("--data-file")
                .arg(&file)
                .current_dir(self.dir.path())
                .output(),
        )
        .await
        .unwrap_or_else(|_| panic!("cargo lambda invoke {name} timed out"))
        .expect("cargo lambda invoke runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "cargo lambda invoke {name} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{name} answered no JSON ({e}): {stdout}"))
    }

    /// The function-URL route: `http://127.0.0.1:<port>/lambda-url/<name><path>`.
    fn url(&self, name: &str, path: &str) -> String {
        format!("http://127.0.0.1:{}/lambda-url/{name}{path}", self.port)
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
async fn each_bootstrap_asks_for_its_first_event_before_calling_aws() {
    use tokio::io::AsyncReadExt;
    for name in ["checker", "api", "notifier"] {
        // GIVEN a Runtime API, and an AWS endpoint where nothing listens
        let runtime = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = runtime.local_addr().expect("addr").port();
        // WHEN the bootstrap starts as Lambda starts it (with the template's key secret)
        let mut child = tokio::process::Command::new(binary(name))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("TABLE_NAME", "never-read-during-init")
            .env("API_KEY_SECRET_ARN", "balance-alert/api-key")
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", free_port()),
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("function starts");
        // THEN its first request is for an event: the table, the config and the secrets are
        // read on the first invocation, not during init
        let mut stderr = child.stderr.take().expect("stderr");
        let accepted = tokio::time::timeout(Duration::from_secs(60), async {
            tokio::select! {
                accepted = runtime.accept() => accepted.expect("accept").0,
                _ = child.wait() => {
                    let mut err = String::new();
                    stderr.read_to_string(&mut err).await.ok();
                    panic!("{name} exited before asking for an event: {err}");
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{name} did not ask for an event"));
        let mut head = vec![0u8; 256];
        let mut stream = accepted;
        let n = stream.read(&mut head).await.expect("request");
        let head = String::from_utf8_lossy(&head[..n]);
        assert!(
            head.starts_with("GET /2018-06-01/runtime/invocation/next "),
            "{name}: {head}"
        );
    }
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

    let mut emulator = Emulator::start().await;

    // WHEN the checker gets its scheduled event through `cargo lambda invoke`
    let started = Instant::now();
    emulator.start_function("checker", &table, &[]);
    let event: Value =
        serde_json::from_str(include_str!("fixtures/scheduled-event.json")).expect("fixture");
    let out = emulator.invoke("checker", &event).await;
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
    emulator.start_function("notifier", &table, &[]);
    let record = stream_event_for(&table, &format!("ALERT#{id}")).await;
    for round in 0..2 {
        let r = emulator.invoke("notifier", &record).await;
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

    // WHEN the api function gets HTTP requests on its function URL (/health, /api/credits)
    let started = Instant::now();
    emulator.start_function("api", &table, &[("WEB_API_KEY", "e2e-key")]);
    let http = reqwest::Client::new();
    let health = http
        .get(emulator.url("api", "/health"))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("GET /health");
    eprintln!(
        "api: first invocation done {} ms after spawn",
        started.elapsed().as_millis()
    );
    assert_eq!(health.status(), 200);
    let credits = http
        .get(emulator.url("api", "/api/credits"))
        .bearer_auth("e2e-key")
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("GET /api/credits");
    // THEN it answers 200 with the same data
    assert_eq!(credits.status(), 200);
    let body: Value = credits.json().await.expect("json body");
    assert_eq!(body["projects"][0]["name"], "Low", "{body}");
    assert_eq!(body["projects"][0]["credits"], 3.0);
    // and without the key it refuses
    let refused = http
        .get(emulator.url("api", "/api/credits"))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("GET /api/credits");
    assert_eq!(refused.status(), 401);
    // and it is ready: config loaded and store reachable, with no check run of its own
    let ready = http
        .get(emulator.url("api", "/ready"))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("GET /ready");
    assert_eq!(
        ready.status(),
        200,
        "{}",
        ready.text().await.unwrap_or_default()
    );

    // AND the API Gateway (HTTP API v2) event SAM's HttpApi sends answers the same
    let r = emulator
        .invoke(
            "api",
            &serde_json::from_str(include_str!("fixtures/apigw-v2-credits.json")).expect("fixture"),
        )
        .await;
    assert_eq!(r["statusCode"], 200, "{r}");
    let body: Value = serde_json::from_str(r["body"].as_str().unwrap_or("")).expect("json body");
    assert_eq!(body["projects"][0]["credits"], 3.0, "{body}");

    // AND a REST API (v1) event on a named stage and an ALB event, both with multi-value
    // headers and query parameters, answer the same, with multi-value response headers
    for fixture in [
        include_str!("fixtures/apigw-rest-credits.json"),
        include_str!("fixtures/alb-credits.json"),
    ] {
        let event: Value = serde_json::from_str(fixture).expect("fixture");
        let r = emulator.invoke("api", &event).await;
        assert_eq!(r["statusCode"], 200, "{}: {r}", event["path"]);
        let body: Value =
            serde_json::from_str(r["body"].as_str().unwrap_or("")).expect("json body");
        assert_eq!(body["projects"][0]["credits"], 3.0, "{body}");
        let content_type = r["multiValueHeaders"]["content-type"][0]
            .as_str()
            .unwrap_or_default();
        assert!(content_type.starts_with("application/json"), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_function_reads_its_key_from_secrets_manager_and_follows_a_rotation() {
    // GIVEN a table, and the API key in a Secrets Manager secret (as the template makes it)
    let (_, store) = moto::fresh_store("key", 90).await;
    let table = store.table().to_owned();
    let store: Arc<dyn Store> = Arc::new(store);
    store
        .put_config_document(json!({"projects": []}).to_string(), None, 1)
        .await
        .expect("put")
        .expect("created");
    let sm = secrets::client(moto::endpoint());
    let arn = sm
        .create_secret()
        .name(moto::unique_table("api-key"))
        .secret_string("first-key")
        .send()
        .await
        .expect("create secret")
        .arn
        .expect("the secret's ARN");
    let mut emulator = Emulator::start().await;

    // WHEN the api bootstrap starts with neither a key nor ALLOW_OPEN_WITHOUT_KEY
    let open = emulator
        .command("api", "api-keyless", &table, &[])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("function starts");
    let out = tokio::time::timeout(Duration::from_secs(60), open.wait_with_output())
        .await
        .expect("a keyless api function exits instead of serving")
        .expect("exit status");
    // THEN it refuses to start, naming the settings
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("API_KEY_SECRET_ARN") && stderr.contains("ALLOW_OPEN_WITHOUT_KEY"),
        "{stderr}"
    );

    // WHEN it starts with API_KEY_SECRET_ARN (re-reads on a wrong key not rate-limited here)
    emulator.start_function(
        "api",
        &table,
        &[
            ("API_KEY_SECRET_ARN", arn.as_str()),
            ("API_KEY_RECHECK_SECONDS", "0"),
        ],
    );
    let http = reqwest::Client::new();
    let credits = |key: Option<&'static str>| {
        let mut request = http
            .get(emulator.url("api", "/api/credits"))
            .timeout(Duration::from_secs(60));
        if let Some(k) = key {
            request = request.header("x-api-key", k);
        }
        async move { request.send().await.expect("GET /api/credits").status() }
    };
    // THEN the secret's key is required
    assert_eq!(credits(None).await, 401);
    assert_eq!(credits(Some("first-key")).await, 200);
    // AND after a rotation the new key works and the old one no longer does, no redeploy
    sm.put_secret_value()
        .secret_id(&arn)
        .secret_string("second-key")
        .send()
        .await
        .expect("rotate");
    assert_eq!(credits(Some("second-key")).await, 200);
    assert_eq!(credits(Some("first-key")).await, 401);
}
