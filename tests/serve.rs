//! The real `balance-alert serve` process: start, first data, config hot reload (broken file
//! keeps the last good config and turns /health to 503), metrics port, graceful shutdown.

use std::time::{Duration, Instant};

use fake_providers::FakeServer;
use serde_json::{json, Value};

use crate::util::{eventually, spawn_serve, spawn_serve_limited};

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    match client.get(url).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let bytes = r.bytes().await.unwrap_or_default();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        }
        Err(_) => (0, Value::Null),
    }
}

fn project(name: &str, url: &str) -> Value {
    json!({"name": name, "provider": "openrouter", "api_key": "bal:42", "threshold": 1, "base_url": url})
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_and_survives_a_broken_config_file() {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"projects": [project("A", &fake.base_url())]}).to_string(),
    )
    .expect("write");

    let (mut child, api, metrics) = spawn_serve(&config, &dir.path().join("state.db")).await;
    let client = reqwest::Client::new();

    // First data arrives from the scheduler's first pass.
    eventually("first data", || async {
        let (status, body) = get(&client, &format!("{api}/health")).await;
        (status == 200 && body["has_data"] == true).then_some(())
    })
    .await;
    let (_, credits) = get(&client, &format!("{api}/api/credits")).await;
    assert_eq!(credits["projects"][0]["credits"], 42.0);

    // A broken edit keeps the last good config and degrades /health with the reason.
    std::fs::write(&config, "{\"projects\": [").expect("break");
    let health = eventually("503 after a broken config", || async {
        let (status, body) = get(&client, &format!("{api}/health")).await;
        (status == 503).then_some(body)
    })
    .await;
    assert!(
        health["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid JSON"),
        "{health}"
    );
    let (status, credits) = get(&client, &format!("{api}/api/credits")).await;
    assert_eq!((status, &credits["summary"]["total"]), (200, &json!(1)));

    // Fixing the file (now with two projects) is picked up.
    let fixed =
        json!({"projects": [project("A", &fake.base_url()), project("B", &fake.base_url())]});
    std::fs::write(&config, fixed.to_string()).expect("fix");
    eventually("reload of the fixed file", || async {
        let (status, body) = get(&client, &format!("{api}/api/credits")).await;
        let (health, _) = get(&client, &format!("{api}/health")).await;
        (status == 200 && body["summary"]["total"] == 2 && health == 200).then_some(())
    })
    .await;

    let text = client
        .get(format!("http://{metrics}"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(text.contains("balance_alert_project_balance{"), "{text}");

    // SAFETY: sending SIGTERM to our own child process.
    unsafe { libc::kill(child.id().expect("running") as i32, libc::SIGTERM) };
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_follows_a_configmap_swap_and_reports_the_config_hash() {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let dir = tempfile::tempdir().expect("dir");
    let write_version = |version: &str, names: &[&str]| {
        let v = dir.path().join(version);
        std::fs::create_dir(&v).expect("version dir");
        let doc = json!({"projects": names.iter().map(|n| project(n, &fake.base_url())).collect::<Vec<_>>()});
        let text = doc.to_string();
        std::fs::write(v.join("config.json"), &text).expect("write");
        text
    };
    let first = write_version("..v1", &["A"]);
    std::os::unix::fs::symlink("..v1", dir.path().join("..data")).expect("link");
    let config = dir.path().join("config.json");
    std::os::unix::fs::symlink("..data/config.json", &config).expect("link");
    let (_child, api, _) = spawn_serve(&config, &dir.path().join("state.db")).await;
    let client = reqwest::Client::new();
    let hash = |text: &str| balance_alert_core::config::content_hash(text);
    let (_, health) = eventually("ready", || async {
        let (status, body) = get(&client, &format!("{api}/ready")).await;
        (status == 200).then_some((status, body))
    })
    .await;
    assert_eq!(health["config_sha256"], hash(&first).as_str());
    // WHEN ..data is re-pointed atomically to a new version
    let second = write_version("..v2", &["A", "B"]);
    let tmp = dir.path().join("..data_tmp");
    std::os::unix::fs::symlink("..v2", &tmp).expect("tmp link");
    std::fs::rename(&tmp, dir.path().join("..data")).expect("swap");
    // THEN the new config is served and /health shows its hash
    eventually("the swapped config", || async {
        let (_, health) = get(&client, &format!("{api}/health")).await;
        let (_, credits) = get(&client, &format!("{api}/api/credits")).await;
        (health["config_sha256"] == hash(&second).as_str() && credits["summary"]["total"] == 2)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_mid_check_is_checked_again_at_once_after_restart_and_ready_only_then() {
    // GIVEN twenty projects at a provider answering in 2 s, checked ten at a time (a lease of
    // 30 s: three default request timeouts)
    let fake = FakeServer::start(Duration::from_secs(2))
        .await
        .expect("fake");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    let projects: Vec<Value> = (0..20)
        .map(|i| {
            json!({"name": format!("p{i}"), "provider": "openrouter",
                        "api_key": format!("bal:{i}"), "threshold": 1, "base_url": fake.base_url()})
        })
        .collect();
    let doc = json!({"settings": {"max_concurrent_checks": 10}, "projects": projects});
    std::fs::write(&config, doc.to_string()).expect("write");
    let db = dir.path().join("state.db");
    let hits = || (0..20).map(|i| fake.hits(&format!("bal:{i}"))).sum::<u64>();
    let (mut child, _, _) = spawn_serve(&config, &db).await;
    // WHEN it is killed while its first checks are in flight
    eventually("checks in flight", || async { (hits() > 0).then_some(()) }).await;
    child.start_kill().expect("kill -9");
    child.wait().await.expect("reaped");
    // AND restarted on the same data directory
    let (_child, api, _) = spawn_serve(&config, &db).await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    // THEN it is not ready while the projects have no result since its start
    let (status, body) = get(&client, &format!("{api}/ready")).await;
    assert_eq!(status, 503, "{body}");
    // AND every project is checked at once (two waves of 2 s), not after the lease: ready then
    eventually("ready after the restart", || async {
        let (status, _) = get(&client, &format!("{api}/ready")).await;
        (status == 200).then_some(())
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let (_, credits) = get(&client, &format!("{api}/api/credits")).await;
    assert_eq!(credits["summary"]["total"], 20, "{credits}");
    let unread = credits["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .filter(|p| p["credits"].is_null())
        .count();
    assert_eq!(unread, 0, "{credits}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_on_a_table_that_hangs_answers_503_at_once_and_recovers_when_it_answers() {
    use crate::dynamodb::{command, run};
    use crate::util::{moto, silent::Silent, stderr};
    use std::sync::{Arc, Mutex};
    use tokio::io::AsyncBufReadExt;
    // GIVEN a table holding a config document
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let table = moto::unique_table("hang");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"projects": [project("A", &fake.base_url())]}).to_string(),
    )
    .expect("write");
    let config = config.to_str().expect("utf-8");
    for args in [
        vec!["table", "create", "--table", &table],
        vec!["config", "push", "--table", &table, "--config", config],
    ] {
        let out = run(&args, &[]).await;
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    // AND a DynamoDB endpoint that accepts connections and never answers
    let endpoint = Silent::start().await;
    let secret = "never-logged-3f9a";
    // WHEN serve --table starts on it, each store call within 1 s
    let started = Instant::now();
    let unused_db = dir.path().join("unused.db");
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
            ("DYNAMODB_TIMEOUT_SECONDS", "1"),
            ("RUST_LOG", "info,balance_alert::cli::serve=debug"),
            ("DATABASE_PATH", unused_db.to_str().expect("utf-8")),
            ("AWS_ENDPOINT_URL", &endpoint.url()),
            ("AWS_SECRET_ACCESS_KEY", secret),
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .expect("serve starts");
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut err_lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    tokio::spawn({
        let log = log.clone();
        async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                log.lock().expect("log lock").push(line);
            }
        }
    });
    let lines_with = |text: &str| -> Vec<String> {
        let log = log.lock().expect("log lock");
        log.iter().filter(|l| l.contains(text)).cloned().collect()
    };
    let mut out_lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let banner = tokio::time::timeout(Duration::from_secs(10), out_lines.next_line())
        .await
        .expect("the server listens although the store hangs")
        .expect("read")
        .expect("banner");
    let api = banner
        .split_whitespace()
        .find(|w| w.contains("http://"))
        .expect("url")
        .to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    // THEN /health answers at once, from memory: 503 with the reason; /live is 200
    let (status, health) = get(&client, &format!("{api}/health")).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "/health took {:?}",
        started.elapsed()
    );
    assert_eq!(status, 503, "{health}");
    let reason = health["reason"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("the store cannot be read"), "{health}");
    assert_eq!(get(&client, &format!("{api}/live")).await.0, 200);
    // AND /ready and the API answer 503 with the same reason
    let (status, ready) = get(&client, &format!("{api}/ready")).await;
    assert_eq!((status, ready["reason"].as_str()), (503, Some(&*reason)));
    let (status, credits) = get(&client, &format!("{api}/api/credits")).await;
    assert_eq!((status, credits["message"].as_str()), (503, Some(&*reason)));
    // AND the outage is logged once, as one readable line, while the store is tried again
    eventually("a second try of the store", || async {
        (!lines_with("the store still cannot be read").is_empty()).then_some(())
    })
    .await;
    let outage = lines_with("the store cannot be read at start");
    assert_eq!(outage.len(), 1, "{outage:?}");
    assert!(outage[0].contains("timed out"), "{}", outage[0]);
    for dump in ["TimeoutError(", "DispatchFailure(", "{ source"] {
        assert!(!outage[0].contains(dump), "{}", outage[0]);
    }
    // WHEN the endpoint answers again
    endpoint.forward_to(moto::endpoint());
    // THEN the server reads the table and serves, and says so once
    eventually("the table to be read", || async {
        let (status, credits) = get(&client, &format!("{api}/api/credits")).await;
        (status == 200 && credits["summary"]["total"] == 1).then_some(())
    })
    .await;
    eventually("/health to be healthy", || async {
        (get(&client, &format!("{api}/health")).await.0 == 200).then_some(())
    })
    .await;
    assert_eq!(lines_with("the store answers again").len(), 1);
    assert_eq!(lines_with("the store cannot be read at start").len(), 1);
    assert!(lines_with(secret).is_empty(), "a secret was logged");
}

/// Opens `count` connections to `addr` that never finish a request: every other one sends a
/// partial header.
async fn idle_connections(addr: &str, count: usize) -> Vec<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut open = Vec::with_capacity(count);
    for i in 0..count {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        if i % 2 == 1 {
            stream
                .write_all(b"GET /live HTTP/1.1\r\nHost: localhost\r\n")
                .await
                .expect("partial header");
        }
        open.push(stream);
    }
    open
}

/// `serve` checking one project "A" on a fake provider, with `env`, under a descriptor limit
/// when `nofile` is given: (the fake, the temp dir holding config.json, the child, API URL,
/// metrics address).
async fn serve_one_project(
    env: &[(&str, &str)],
    nofile: Option<u64>,
) -> (
    FakeServer,
    tempfile::TempDir,
    tokio::process::Child,
    String,
    String,
) {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    let doc = json!({"projects": [project("A", &fake.base_url())]});
    std::fs::write(&config, doc.to_string()).expect("write");
    let (child, api, metrics) =
        spawn_serve_limited(&config, &dir.path().join("state.db"), env, nofile).await;
    (fake, dir, child, api, metrics)
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_and_trickling_connections_are_closed_and_live_keeps_answering() {
    // GIVEN serve holding at most 50 connections per port, with a 2 s header-read timeout
    let env = [
        ("MAX_CONNECTIONS", "50"),
        ("HEADER_READ_TIMEOUT_SECONDS", "2"),
    ];
    let (_fake, _dir, _child, api, metrics) = serve_one_project(&env, None).await;
    // WHEN 200 connections on each port send nothing or half a header
    let mut idle = idle_connections(api.trim_start_matches("http://"), 200).await;
    let metrics_addr = metrics.trim_end_matches("/metrics");
    idle.extend(idle_connections(metrics_addr, 200).await);
    // THEN /live and /metrics still answer, /live within 100 ms every time
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    for _ in 0..20 {
        let started = Instant::now();
        let (status, _) = get(&client, &format!("{api}/live")).await;
        let took = started.elapsed();
        assert_eq!(status, 200, "/live did not answer");
        assert!(took < Duration::from_millis(100), "/live took {took:?}");
        let scrape = client
            .get(format!("http://{metrics}"))
            .send()
            .await
            .expect("/metrics answers");
        assert_eq!(scrape.status(), 200);
    }
    // AND every idle connection is closed by the server (shed or timed out), none left open
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 512];
    for (i, stream) in idle.iter_mut().enumerate() {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
        assert!(
            !matches!(read, Err(_) | Ok(Ok(1..))),
            "idle connection {i} still open, or answered, 10 s after the 2 s header timeout: {read:?}"
        );
    }
}

/// Reads from `stream` until the server closes it (Ok) or `within` passes (Err).
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Err(format!("still open after {within:?}")),
            Ok(Ok(0) | Err(_)) => return Ok(()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// Sends one `GET /live` on `stream` and reads its whole (small) response.
async fn live_on(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /live HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("request");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer within 5 s")
        .expect("read");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_alive_connection_waits_the_keep_alive_timeout_and_a_started_request_the_header_timeout(
) {
    // GIVEN serve with a 1 s header-read timeout and a 4 s keep-alive timeout
    let env = [
        ("HEADER_READ_TIMEOUT_SECONDS", "1"),
        ("KEEP_ALIVE_TIMEOUT_SECONDS", "4"),
    ];
    let (_fake, _dir, _child, api, _) = serve_one_project(&env, None).await;
    let addr = api.trim_start_matches("http://").to_owned();
    use tokio::io::AsyncWriteExt;

    // WHEN a client waits 2 s (past the header timeout, within keep-alive) between requests
    let mut kept = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    assert!(live_on(&mut kept).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    // THEN its second request is served on the same connection
    let second = live_on(&mut kept).await;
    assert!(second.starts_with("HTTP/1.1 200"), "{second:?}");
    // AND a connection that then sends nothing is closed after the keep-alive timeout, not before
    let waited = Instant::now();
    closed_within(&mut kept, Duration::from_secs(8))
        .await
        .expect("closed after the keep-alive timeout");
    let idle = waited.elapsed();
    assert!(idle >= Duration::from_millis(3500), "closed after {idle:?}");

    // WHEN a kept-alive client starts its next request and never finishes its headers
    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    assert!(live_on(&mut slow).await.starts_with("HTTP/1.1 200"));
    slow.write_all(b"GET /live HTTP/1.1\r\nHost: loc")
        .await
        .expect("half a header");
    let started = Instant::now();
    // THEN it is closed within the header timeout of its first byte, not the keep-alive one
    closed_within(&mut slow, Duration::from_secs(3))
        .await
        .expect("closed after the header timeout");
    assert!(started.elapsed() < Duration::from_secs(3));

    // AND a new connection that sends nothing is closed after the header timeout
    let mut silent = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    closed_within(&mut silent, Duration::from_secs(3))
        .await
        .expect("a silent new connection closed after the header timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_flood_under_a_low_descriptor_limit_leaves_live_and_reload_working() {
    // GIVEN serve under `ulimit -n 320`, its connection cap derived from that limit
    let (fake, dir, _child, api, metrics) = serve_one_project(&[], Some(320)).await;
    let config = dir.path().join("config.json");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    eventually("first data", || async {
        let (status, body) = get(&client, &format!("{api}/health")).await;
        (status == 200 && body["has_data"] == true).then_some(())
    })
    .await;
    // WHEN 600 connections on each port (more than the limit) send nothing or half a header
    let mut idle = idle_connections(api.trim_start_matches("http://"), 600).await;
    idle.extend(idle_connections(metrics.trim_end_matches("/metrics"), 600).await);
    // THEN /live answers within 100 ms and /metrics answers
    for _ in 0..10 {
        let started = Instant::now();
        let (status, _) = get(&client, &format!("{api}/live")).await;
        let took = started.elapsed();
        assert_eq!(status, 200, "/live did not answer");
        assert!(took < Duration::from_millis(100), "/live took {took:?}");
        let scrape = client.get(format!("http://{metrics}")).send().await;
        assert_eq!(scrape.expect("/metrics answers").status(), 200);
    }
    // AND an edit of the config file is reloaded (the reload can open the file)
    let two = json!({"projects": [project("A", &fake.base_url()), project("B", &fake.base_url())]});
    std::fs::write(&config, two.to_string()).expect("edit");
    eventually("the edited config reloaded during the flood", || async {
        let (status, body) = get(&client, &format!("{api}/api/credits")).await;
        let (health, _) = get(&client, &format!("{api}/health")).await;
        (status == 200 && body["summary"]["total"] == 2 && health == 200).then_some(())
    })
    .await;
    drop(idle);
}
