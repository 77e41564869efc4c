//! A real Prometheus (Debian `prometheus`) in a temp dir on a free loopback port, killed on
//! drop: scraping a target, or receiving remote writes. Shared by the root integration tests
//! and the functions' tests.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A Prometheus server in a temp dir, killed on drop.
pub struct Prometheus {
    child: tokio::process::Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Prometheus {
    /// One scraping `target` every second.
    pub async fn scraping(target: &str) -> Prometheus {
        Self::start(
            &format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
                 scrape_configs:\n  - job_name: balance-alert\n    static_configs:\n      - targets: ['{target}']\n"
            ),
            &[],
        )
        .await
    }

    /// One receiving remote writes (`/api/v1/write`), scraping nothing.
    pub async fn remote_write_receiver() -> Prometheus {
        Self::start("global: {}\n", &["--web.enable-remote-write-receiver"]).await
    }

    async fn start(config_text: &str, args: &[&str]) -> Prometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, config_text).expect("write config");
        let port = free_port();
        let child = tokio::process::Command::new("prometheus")
            .args(args)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus runs (apt-get install prometheus; ./scripts/test.sh does it)");
        let url = format!("http://127.0.0.1:{port}");
        let p = Prometheus {
            child,
            url,
            _dir: dir,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client
                .get(format!("{}/-/ready", p.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return p;
            }
            assert!(Instant::now() < deadline, "prometheus did not become ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The result vector of an instant query.
    pub async fn query(&self, expr: &str) -> Vec<Value> {
        let body: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("json");
        assert_eq!(body["status"], "success", "{expr}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The single value of a query that yields one sample.
    pub async fn value(&self, expr: &str) -> f64 {
        let r = self.query(expr).await;
        assert_eq!(r.len(), 1, "{expr}: {r:?}");
        r[0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("a number")
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
