//! The real `balance-alert` binary: JSON shape, exit codes, config errors, dry run.

use std::time::Duration;

use fake_providers::FakeServer;
use serde_json::{json, Value};

use crate::util::{config_doc, run_binary, stderr, stdout, Workspace};

async fn fake() -> FakeServer {
    FakeServer::start(Duration::ZERO)
        .await
        .expect("fake server")
}

fn proj(name: &str, provider: &str, url: &str, token: &str, threshold: f64) -> Value {
    json!({"name": name, "provider": provider, "api_key": token, "threshold": threshold, "base_url": url})
}

#[tokio::test(flavor = "multi_thread")]
async fn check_json_reports_balances_and_exits_zero_when_all_ok() {
    let s = fake().await;
    let url = s.base_url();
    let ws = Workspace::new(&config_doc(json!([
        proj("OR", "openrouter", &url, "bal:120.5", 10.0),
        proj("DS", "deepseek", &url, "bal:80", 10.0),
        proj("MS", "moonshot", &url, "bal:20", 5.0),
        proj("SF", "siliconflow", &url, "bal:15.5", 5.0),
    ])));
    let out = ws.run(&["check", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    assert_eq!(
        report["summary"],
        json!({"total": 4, "success": 4, "failed": 0, "need_alarm": 0, "skipped": 0,
               "ok": 4, "low": 0, "critical": 0, "failing": 0})
    );
    let first = &report["projects"][0];
    assert_eq!(
        first,
        &json!({"project": "OR", "owner_project": null, "provider": "openrouter", "success": true,
                "credits": 120.5, "currency": "USD", "threshold": 10.0, "need_alarm": false,
                "state": "ok", "error": null, "stale": false, "stale_reason": null,
                "kind": "remaining_credit"})
    );
    assert_eq!(report["projects"][1]["currency"], "CNY");
    assert_eq!(report["projects"][3]["credits"], 15.5);
    assert!(ws.db_path().exists(), "state persisted");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_exits_one_when_a_project_is_low_or_failing() {
    let s = fake().await;
    let url = s.base_url();
    let ws = Workspace::new(&config_doc(json!([
        proj("ok", "openrouter", &url, "bal:100", 10.0),
        proj("low", "deepseek", &url, "bal:3", 10.0),
        proj("broken", "moonshot", &url, "status:401", 10.0),
    ])));
    let out = ws.run(&["check", "--json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(
        report["summary"],
        json!({"total": 3, "success": 2, "failed": 1, "need_alarm": 1, "skipped": 0,
               "ok": 1, "low": 1, "critical": 0, "failing": 1})
    );
    assert_eq!(report["projects"][1]["state"], "low");
    assert_eq!(report["projects"][1]["need_alarm"], true);
    let broken = &report["projects"][2];
    assert_eq!(broken["credits"], Value::Null);
    assert_eq!(broken["state"], "failing");
    assert_eq!(
        broken["error"],
        "authentication failed (HTTP 401): check the project's api_key"
    );

    // The table output names the failure and never the key.
    let out = ws.run(&["check"]).await;
    let text = stdout(&out);
    assert!(
        text.contains("PROJECT")
            && text.contains("LOW")
            && text.contains("broken: authentication failed"),
        "{text}"
    );
    assert!(!text.contains("status:401") && !stderr(&out).contains("status:401"));
}

#[tokio::test(flavor = "multi_thread")]
async fn check_exits_two_on_config_errors_naming_the_field() {
    let ws = Workspace::new(&json!({"projects": [
        {"name": "a", "provider": "openrouter", "api_key": "k", "threshold": "abc"}
    ]}));
    let out = ws.run(&["check"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(r#"projects[0].threshold: must be a number ≥ 0, got "abc""#),
        "{}",
        stderr(&out)
    );

    let out = ws.run(&["config", "validate"]).await;
    assert_eq!(out.status.code(), Some(2));

    let missing = run_binary(
        &["check"],
        std::path::Path::new("/nonexistent/c.json"),
        &ws.db_path(),
        &[],
    )
    .await;
    assert_eq!(missing.status.code(), Some(2));
    let err = stderr(&missing);
    assert!(
        err.contains("/nonexistent/c.json") && err.contains("PROJECT_1_NAME"),
        "{err}"
    );
    // With projects in the environment, a missing file falls back to them (the Python tool's way).
    let from_env = run_binary(
        &["config", "validate"],
        std::path::Path::new("/nonexistent/c.json"),
        &ws.db_path(),
        &[("PROJECT_1_NAME", "E"), ("PROJECT_1_API_KEY", "k")],
    )
    .await;
    assert_eq!(from_env.status.code(), Some(0), "{}", stderr(&from_env));
    assert!(stdout(&from_env).contains("1 project(s)"));

    let bad_json = tempfile::tempdir().expect("dir");
    let path = bad_json.path().join("c.json");
    std::fs::write(&path, "{ \"projects\": [ }").expect("write");
    let out = run_binary(&["check"], &path, &ws.db_path(), &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not valid JSON at line 1"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_to_watch_is_a_usage_error_naming_the_likely_cause() {
    // GIVEN a file with no project, subscription or mailbox
    let ws = Workspace::new(&json!({"projects": []}));
    for args in [&["check"][..], &["config", "validate"][..]] {
        let out = ws.run(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("nothing to watch") && stderr(&out).contains("\"projects\""),
            "{}",
            stderr(&out)
        );
    }
    // GIVEN env-only mode whose numbering starts at 2 (a slip)
    let out = run_binary(
        &["check"],
        std::path::Path::new("/nonexistent/c.json"),
        &ws.db_path(),
        &[
            ("USE_ENV_CONFIG", "true"),
            ("PROJECT_2_NAME", "E"),
            ("PROJECT_2_API_KEY", "k"),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("PROJECT_2_NAME")
            && err.contains("PROJECT_1_NAME")
            && err.contains("starts at 1"),
        "{err}"
    );
    // …and env-only mode with nothing at all
    let out = run_binary(
        &["config", "validate"],
        std::path::Path::new("/nonexistent/c.json"),
        &ws.db_path(),
        &[("USE_ENV_CONFIG", "true")],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no PROJECT_1_NAME"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_named_web_never_takes_the_servers_own_key() {
    let s = fake().await;
    let ws = Workspace::new(&json!({"projects": [
        proj("web", "openrouter", &s.base_url(), "bal:50", 10.0)
    ]}));
    // WHEN the server's WEB_API_KEY is set (the hybrid rule would read it for "web")
    let out = run_binary(
        &["check", "--json"],
        &ws.config_path(),
        &ws.db_path(),
        &[("WEB_API_KEY", "dashboard-secret-key")],
    )
    .await;
    // THEN the project keeps its own key, and validation names the collision
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(report["projects"][0]["credits"], 50.0, "{report}");
    assert!(
        stderr(&out).contains("WEB_API_KEY") && stderr(&out).contains("projects[0].name"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("dashboard-secret-key"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_project_and_bad_flags_are_usage_errors() {
    let s = fake().await;
    let ws = Workspace::new(&config_doc(json!([proj(
        "a",
        "openrouter",
        &s.base_url(),
        "bal:1",
        0.0
    )])));
    let out = ws.run(&["check", "--project", "nope"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no project \"nope\"; known: openrouter:a"),
        "{}",
        stderr(&out)
    );
    let out = ws.run(&["check", "--bogus"]).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn project_filter_and_dry_run() {
    let s = fake().await;
    let url = s.base_url();
    let ws = Workspace::new(&config_doc(json!([
        proj("a", "openrouter", &url, "bal:1", 10.0),
        proj("b", "deepseek", &url, "bal:100", 10.0),
    ])));
    let out = ws
        .run(&["check", "--project", "b", "--json", "--dry-run"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["summary"]["total"], 1);
    assert_eq!(report["projects"][0]["project"], "b");
    assert!(!ws.db_path().exists(), "dry run creates no database");
    assert_eq!(s.hits("bal:1"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_state_persists_across_cron_runs() {
    let s = fake().await;
    let mut doc = config_doc(json!([proj(
        "p",
        "openrouter",
        &s.base_url(),
        "bal:50",
        10.0
    )]));
    let ws = Workspace::new(&doc);
    assert_eq!(ws.run(&["check"]).await.status.code(), Some(0));
    doc["projects"][0]["api_key"] = json!("status:500");
    doc["settings"]["failure_alert_threshold"] = json!(2);
    std::fs::write(ws.config_path(), doc.to_string()).expect("rewrite");
    let first: Value =
        serde_json::from_str(&stdout(&ws.run(&["check", "--json"]).await)).expect("JSON");
    assert_eq!(
        first["projects"][0]["state"], "ok",
        "one failure after OK is not yet FAILING"
    );
    let second = ws.run(&["check"]).await;
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stdout(&second).contains("FAILING") && stdout(&second).contains("alert recorded (failing)"),
        "{}",
        stdout(&second)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn config_validate_summarises_a_good_file() {
    let ws = Workspace::new(&config_doc(json!([proj(
        "a",
        "openrouter",
        "http://127.0.0.1:9",
        "k",
        1.0
    )])));
    let out = ws.run(&["config", "validate"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("config OK:"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_check_run_prunes_history_past_retention() {
    let s = fake().await;
    let mut doc = config_doc(json!([proj(
        "p",
        "openrouter",
        &s.base_url(),
        "bal:50",
        10.0
    )]));
    doc["settings"]["history_retention_days"] = json!(30);
    // A row per check, so the second run adds one whatever the clock.
    doc["settings"]["history_resolution_minutes"] = json!(0);
    let ws = Workspace::new(&doc);
    assert_eq!(ws.run(&["check"]).await.status.code(), Some(0));
    // GIVEN a reading from 40 days ago next to today's
    let conn = rusqlite::Connection::open(ws.db_path()).expect("open db");
    let old = chrono::Utc::now().timestamp() - 40 * 86_400;
    conn.execute(
        "INSERT INTO balance_history (project_id, project_name, provider, balance, threshold, currency, timestamp) \
         SELECT project_id, project_name, provider, balance, threshold, currency, ?1 FROM balance_history",
        [old],
    )
    .expect("insert old point");
    let count = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT COUNT(*) FROM balance_history", [], |r| r.get(0))
            .expect("count")
    };
    assert_eq!(count(&conn), 2);
    // WHEN cron runs the next check THEN the old reading is gone and the new ones stay
    assert_eq!(ws.run(&["check"]).await.status.code(), Some(0));
    assert_eq!(count(&conn), 2, "one old removed, one new added");
    let oldest: i64 = conn
        .query_row("SELECT MIN(timestamp) FROM balance_history", [], |r| {
            r.get(0)
        })
        .expect("min");
    assert!(oldest > old);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_reads_an_existing_database_without_changing_it() {
    let s = fake().await;
    let mut doc = config_doc(json!([proj(
        "p",
        "openrouter",
        &s.base_url(),
        "bal:50",
        10.0
    )]));
    let ws = Workspace::new(&doc);
    assert_eq!(ws.run(&["check"]).await.status.code(), Some(0));
    let snapshot = || {
        let c = rusqlite::Connection::open(ws.db_path()).expect("open");
        let version: i64 = c
            .query_row("SELECT version FROM project_state", [], |r| r.get(0))
            .expect("state");
        let points: i64 = c
            .query_row("SELECT COUNT(*) FROM balance_history", [], |r| r.get(0))
            .expect("count");
        let alerts: i64 = c
            .query_row("SELECT COUNT(*) FROM alert_history", [], |r| r.get(0))
            .expect("count");
        (version, points, alerts)
    };
    let before = snapshot();
    // GIVEN the project is now low, WHEN a dry run checks it
    doc["projects"][0]["api_key"] = json!("bal:1");
    std::fs::write(ws.config_path(), doc.to_string()).expect("rewrite");
    let out = ws.run(&["check", "--dry-run", "--json"]).await;
    // THEN it reports LOW from the stored state's point of view, and the database is unchanged
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["projects"][0]["state"], "low");
    assert!(
        stderr(&out).is_empty(),
        "read-only open works: {}",
        stderr(&out)
    );
    assert_eq!(snapshot(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_in_names_cannot_forge_log_lines() {
    // GIVEN a project name carrying BEL, an ANSI colour and a newline with a fake log line
    let s = fake().await;
    let evil = "evil\u{7}\u{1b}[31m\n2026-01-01T00:00:00Z ERROR forged line";
    let ws = Workspace::new(&config_doc(json!([proj(
        evil,
        "openrouter",
        &s.base_url(),
        "status:503",
        1.0
    )])));
    // WHEN its failing check is logged at debug level to a file (not a terminal)
    let out = run_binary(
        &["check"],
        &ws.config_path(),
        &ws.db_path(),
        &[("RUST_LOG", "debug")],
    )
    .await;
    let err = &out.stderr;
    // THEN the log holds the name, escaped, with no raw control byte and no forged line
    let text = String::from_utf8_lossy(err);
    assert!(text.contains("evil"), "the event was logged: {text}");
    assert!(!err.contains(&0x1b), "no ESC (colour or injected): {text}");
    assert!(!err.contains(&0x07), "no BEL: {text}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("2026-01-01T00:00:00Z ERROR forged")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_refuses_to_open_a_keyless_api_to_the_network() {
    let ws = Workspace::new(&config_doc(json!([])));
    let out = ws
        .run(&[
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("WEB_API_KEY") && err.contains("--allow-open-without-key"),
        "{err}"
    );
}
