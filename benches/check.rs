//! `cargo bench --bench check`: the real `balance-alert check` process against the local fake
//! provider server, 1,000 projects, at 200 ms and 0 ms provider latency.
//!
//! Reports wall time (process start included), checks/s and CPU per check (user + system time
//! of the child process, from getrusage). Each scenario runs several times; the median is shown.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::Arc;

use balance_alert_core::check::engine::{CacheMode, Engine, EngineOptions, NoopObserver};
use balance_alert_core::check::{commit::run_checks, WriteMode};
use balance_alert_core::config::{ProjectConfig, Settings};
use balance_alert_store_sqlite::SqliteStore;
use fake_providers::FakeServer;
use serde_json::{json, Value};

const PROVIDERS: [&str; 4] = ["openrouter", "deepseek", "moonshot", "siliconflow"];
const RUNS: usize = 5;

fn config(base_url: &str, n: usize, bound: usize, db: &Path) -> Value {
    let projects: Vec<Value> = (0..n)
        .map(|i| {
            json!({"name": format!("p{i}"), "provider": PROVIDERS[i % 4], "api_key": format!("bal:{}", 100 + i),
                   "threshold": 10, "base_url": base_url})
        })
        .collect();
    json!({"settings": {"max_concurrent_checks": bound, "database_path": db, "max_retries": 0},
           "projects": projects})
}

fn children_cpu() -> Duration {
    cpu(libc::RUSAGE_CHILDREN)
}

fn cpu(who: libc::c_int) -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

struct Sample {
    wall: Duration,
    cpu: Duration,
}

fn run_once(config_path: &Path, extra: &[&str]) -> Sample {
    let cpu_before = children_cpu();
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_balance-alert"))
        .args(["check", "--json", "--config"])
        .arg(config_path)
        .args(extra)
        .env_remove("USE_ENV_CONFIG")
        .stdout(Stdio::null())
        .status()
        .expect("balance-alert runs");
    let wall = started.elapsed();
    assert!(
        status.code() == Some(0),
        "every project is OK in the bench config, got {status}"
    );
    Sample {
        wall,
        cpu: children_cpu() - cpu_before,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `check --bench --serve-fake`: this binary doubles as the fake server process, so the
/// in-process scenario measures only the checker's CPU.
fn serve_fake() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = FakeServer::start(Duration::ZERO)
            .await
            .expect("fake starts");
        println!("{}", server.base_url());
        // Run until the parent closes our stdin.
        let _ = tokio::io::AsyncReadExt::read(&mut tokio::io::stdin(), &mut [0u8; 1]).await;
    });
}

/// The long-running server's steady state: the engine's keep-alive pool already holds the
/// connections, so a run costs requests, parsing and the store's writes, not TCP setup.
fn warm_in_process(n: usize) {
    use std::io::BufRead;
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--serve-fake")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("fake server process starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut line)
        .expect("reads URL");
    let base_url = line.trim().to_owned();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let doc = config(&base_url, n, 1000, Path::new(":memory:"));
    let loaded =
        balance_alert_core::config::parse(&doc.to_string(), &std::collections::HashMap::new())
            .expect("config");
    let settings = Settings {
        response_cache_ttl: 0,
        ..loaded.config.settings.clone()
    };
    let engine =
        Engine::new(EngineOptions::from(&settings), Arc::new(NoopObserver)).expect("engine");
    let store = SqliteStore::in_memory().expect("store");
    let projects: Vec<&ProjectConfig> = loaded.config.projects.iter().collect();
    let once = |now: i64| {
        rt.block_on(run_checks(
            &engine,
            &store,
            &settings,
            &projects,
            CacheMode::Bypass,
            WriteMode::Persist,
            now,
        ))
        .expect("run")
    };
    once(0); // opens the connections
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    for i in 0..RUNS {
        let (c0, t0) = (cpu(libc::RUSAGE_SELF), Instant::now());
        let run = once(1 + i as i64);
        walls.push(t0.elapsed());
        cpus.push(cpu(libc::RUSAGE_SELF) - c0);
        assert_eq!(run.report.summary.success, n);
    }
    drop(child.stdin.take());
    let _ = child.wait();
    let wall = median(walls);
    println!(
        "| 0 ms | {n} | 1000 | in-process, warm pool, persist | {:.0} ms | — | {:.0} | {:.1} µs |",
        wall.as_secs_f64() * 1000.0,
        n as f64 / wall.as_secs_f64(),
        median(cpus).as_secs_f64() * 1e6 / n as f64
    );
}

fn main() {
    if std::env::args().any(|a| a == "--serve-fake") {
        return serve_fake();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    println!("| latency | projects | bound | mode | wall (median of {RUNS}) | target | checks/s | CPU/check |");
    println!("|---|---|---|---|---|---|---|---|");
    for (latency_ms, n, bound) in [
        (200u64, 1000usize, 1000usize),
        (200, 1000, 100),
        (0, 1000, 1000),
    ] {
        let server = rt
            .block_on(FakeServer::start(Duration::from_millis(latency_ms)))
            .expect("fake starts");
        for (mode, extra) in [("persist", &[][..]), ("dry-run", &["--dry-run"][..])] {
            let db = dir
                .path()
                .join(format!("bench-{latency_ms}-{bound}-{mode}.db"));
            let path = dir.path().join("config.json");
            std::fs::write(&path, config(&server.base_url(), n, bound, &db).to_string())
                .expect("write config");
            run_once(&path, extra); // warm-up: page cache, database creation
            let samples: Vec<Sample> = (0..RUNS).map(|_| run_once(&path, extra)).collect();
            let wall = median(samples.iter().map(|s| s.wall).collect());
            let cpu = median(samples.iter().map(|s| s.cpu).collect());
            let ideal = Duration::from_millis(latency_ms * n.div_ceil(bound) as u64);
            let target = if latency_ms == 0 {
                "—".to_string()
            } else {
                format!("≤ {:.0} ms", ideal.as_secs_f64() * 1200.0)
            };
            println!(
                "| {latency_ms} ms | {n} | {bound} | {mode} | {:.0} ms | {target} | {:.0} | {:.1} µs |",
                wall.as_secs_f64() * 1000.0,
                n as f64 / wall.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / n as f64,
            );
        }
        drop(server);
    }
    warm_in_process(1000);
}
