//! The real `balance-alert serve` process: start, first data, config hot reload (broken file
//! keeps the last good config and turns /health to 503), metrics port, graceful shutdown.

use std::time::{Duration, Instant};

use fake_providers::FakeServer;
use serde_json::{json, Value};

use crate::util::spawn_serve;

/// Polls `probe` until it returns Some or the deadline passes.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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
