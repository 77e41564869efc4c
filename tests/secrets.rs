//! Secrets a provider echoes back never leave the process: the real binary's `check --json`,
//! its alert history (`alerts list`) and the FAILING message posted to a channel, for secrets
//! that are not the API key (a header, a URL query value, a base URL password).

use std::time::Duration;

use fake_providers::FakeServer;
use serde_json::json;

use crate::util::{
    assert_no_echoed_secret, echo_provider, echoing_project, run_binary, stderr, stdout, Workspace,
    ECHOED_SECRETS,
};

#[tokio::test(flavor = "multi_thread")]
async fn an_echoed_header_query_or_url_password_is_never_shown_by_the_cli_or_channels() {
    let (addr, _echo) = echo_provider().await;
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let ws = Workspace::new(&json!({
        "settings": {"request_timeout_seconds": 2, "retry_base_delay_ms": 5, "max_retries": 0,
                     "failure_alert_threshold": 1, "language": "en"},
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops")}],
        "projects": [echoing_project(&addr)],
    }));
    let (config, db) = (ws.config_path(), ws.db_path());
    let run = |args: &'static [&'static str]| run_binary(args, &config, &db, &ECHOED_SECRETS);
    let out = run(&["check", "--json"]).await;
    let report = stdout(&out);
    // The provider did answer with the echo (so there was something to scrub).
    assert!(
        report.contains("HTTP 500") && report.contains("***"),
        "{report} {}",
        stderr(&out)
    );
    assert_no_echoed_secret("check --json", &report);
    assert_no_echoed_secret("check's log", &stderr(&out));
    let got = fake.received("ops");
    assert_eq!(got.len(), 1, "the FAILING alert was posted");
    assert!(got[0].text().contains("HTTP 500"), "{}", got[0].text());
    assert_no_echoed_secret("the channel message", &got[0].text());
    let list = run(&["alerts", "list"]).await;
    assert!(stdout(&list).contains("HTTP 500"), "{}", stdout(&list));
    assert_no_echoed_secret("alerts list", &stdout(&list));
}
