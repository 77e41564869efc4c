//! The metrics as existing Prometheus set-ups use them: `serve` scraped by a real Prometheus
//! (Debian `prometheus`, loopback, temp storage, 1 s scrape) answering every query of the Python
//! tool's Grafana dashboard, and `promtool check metrics` finding nothing to report beyond the
//! two Python-tool names its naming lint dislikes.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fake_providers::FakeServer;
use serde_json::{json, Value};

use crate::util::prometheus::Prometheus;
use crate::util::Workspace;

/// Starts `serve`; returns the process and its metrics address.
async fn serve(ws: &Workspace) -> (tokio::process::Child, String) {
    let (child, _, metrics) = crate::util::spawn_serve(&ws.config_path(), &ws.db_path()).await;
    (child, metrics.trim_end_matches("/metrics").to_owned())
}

fn fixture(fake: &FakeServer) -> Value {
    let today = chrono::Utc::now().date_naive();
    let start = (today - chrono::Days::new(5))
        .format("%Y-%m-%d")
        .to_string();
    json!({
        "settings": {"request_timeout_seconds": 2, "max_retries": 0, "timezone": "UTC"},
        "projects": [
            {"name": "Main", "provider": "openrouter", "api_key": "bal:120", "threshold": 10,
             "type": "credits", "base_url": fake.base_url()},
            {"name": "Low", "provider": "deepseek", "api_key": "bal:4", "threshold": 10,
             "type": "balance", "base_url": fake.base_url()},
            {"name": "Broken", "provider": "moonshot", "api_key": "status:401", "threshold": 1,
             "base_url": fake.base_url()},
        ],
        "subscriptions": [
            {"name": "Weekly tool", "cycle_type": "weekly", "renewal_day": 1, "alert_days_before": 7, "amount": 9.9},
            {"name": "Backup", "cycle_type": "every_n_days", "interval_days": 30, "start_date": start,
             "alert_days_before": 3, "amount": 50},
        ],
    })
}

async fn scrape(metrics: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = reqwest::get(format!("http://{metrics}/metrics"))
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text");
        if text.contains("balance_alert_balance{") {
            return text;
        }
        assert!(Instant::now() < deadline, "no balances exported:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn promtool_finds_nothing_to_report_in_the_exposition() {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let ws = Workspace::new(&fixture(&fake));
    let (_serve, metrics) = serve(&ws).await;
    let text = scrape(&metrics).await;
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (apt-get install prometheus)");
    std::io::Write::write_all(&mut promtool.stdin.take().expect("stdin"), text.as_bytes())
        .expect("write");
    let out = promtool.wait_with_output().expect("promtool");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Two names promtool's naming lint dislikes are the Python tool's own, kept verbatim so
    // its dashboard and rules keep working (README, "Metrics"); anything else is a finding.
    const PYTHON_NAMES: [&str; 2] = [
        "balance_alert_active_projects_count non-histogram and non-summary metrics should not have \"_count\" suffix",
        "balance_alert_subscription_days use base unit \"seconds\" instead of \"days\"",
    ];
    let findings: Vec<&str> = report
        .lines()
        .filter(|l| !l.trim().is_empty() && !PYTHON_NAMES.contains(&l.trim()))
        .collect();
    assert!(findings.is_empty(), "{report}\n{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_tools_dashboard_queries_return_data_from_a_real_prometheus() {
    // GIVEN serve with two readable projects (one low), one failing, two subscriptions (one
    // due within the week), scraped every second by Prometheus
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let ws = Workspace::new(&fixture(&fake));
    let (_serve, metrics) = serve(&ws).await;
    scrape(&metrics).await;
    let prom = Prometheus::scraping(&metrics).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while prom.query("balance_alert_balance").await.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "prometheus never scraped the balances"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // THEN the dashboard's stat panels
    assert_eq!(prom.value("count(balance_alert_balance)").await, 2.0);
    assert_eq!(prom.value("count(balance_alert_status == 1)").await, 1.0);
    assert_eq!(
        prom.value("count(balance_alert_status == 0) or vector(0)")
            .await,
        1.0
    );
    assert_eq!(
        prom.value("count(balance_alert_subscription_days)").await,
        2.0
    );
    assert_eq!(
        prom.value("count(balance_alert_subscription_days <= 7 and balance_alert_subscription_status == 0) or vector(0)")
            .await,
        1.0
    );
    let last = prom
        .query("balance_alert_last_check_timestamp * 1000")
        .await;
    assert!(!last.is_empty(), "last check time");
    // … its project panels (the $project variable at "All")
    let sorted = prom
        .query(r#"sort_desc(balance_alert_balance{project=~".*"})"#)
        .await;
    let names: Vec<&str> = sorted
        .iter()
        .filter_map(|s| s["metric"]["project"].as_str())
        .collect();
    assert_eq!(names, ["Main", "Low"]);
    let ratio = prom.query(r#"balance_alert_ratio{project=~".*"}"#).await;
    assert_eq!(ratio.len(), 2);
    assert_eq!(
        prom.value(r#"balance_alert_ratio{project="Low"}"#).await,
        0.4
    );
    assert_eq!(
        prom.query(r#"balance_alert_balance{project=~".*"}"#)
            .await
            .len(),
        2
    );
    // … the details table: four series with identical label sets, so Grafana can merge them
    let mut label_sets = Vec::new();
    for m in ["balance", "threshold", "ratio", "status"] {
        let r = prom
            .query(&format!(r#"balance_alert_{m}{{project=~".*"}}"#))
            .await;
        let mut sets: Vec<String> = r
            .iter()
            .map(|s| {
                let mut l = s["metric"].as_object().cloned().unwrap_or_default();
                l.remove("__name__");
                serde_json::to_string(&l).unwrap_or_default()
            })
            .collect();
        sets.sort();
        assert!(
            sets.iter()
                .all(|s| s.contains("\"type\"") && s.contains("\"provider\"")),
            "{m}: {sets:?}"
        );
        label_sets.push(sets);
    }
    assert!(
        label_sets.windows(2).all(|w| w[0] == w[1]),
        "{label_sets:?}"
    );
    // … the subscription panels
    let days = prom
        .query(r#"sort(balance_alert_subscription_days{name=~".*"})"#)
        .await;
    assert_eq!(days.len(), 2);
    assert_eq!(days[0]["metric"]["name"], "Weekly tool");
    assert_eq!(
        prom.value(r#"balance_alert_subscription_amount{name="Backup"}"#)
            .await,
        50.0
    );
    assert_eq!(
        prom.value(r#"balance_alert_subscription_status{name="Backup"}"#)
            .await,
        1.0
    );
    // … and the variables' label_values queries
    let values: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/label/project/values", prom.url))
        .query(&[("match[]", "balance_alert_balance")])
        .send()
        .await
        .expect("labels")
        .json()
        .await
        .expect("json");
    assert_eq!(values["data"], json!(["Low", "Main"]));
}
