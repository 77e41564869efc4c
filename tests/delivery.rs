//! Alerts reaching receivers, driven through the real binary against the fake receiver
//! (`fake_providers::receiver`): payload and signature, routing, the storm guard, quiet hours,
//! retries, fail-fast errors, the Python tool's webhook, `alerts test/list/ack/snooze`.

use std::sync::Arc;
use std::time::Duration;

use fake_providers::{FakeServer, HookMode};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::util::{stderr, stdout, Workspace};

fn settings() -> Value {
    json!({"request_timeout_seconds": 2, "retry_base_delay_ms": 5, "max_retries": 0,
           "language": "en", "delivery_timeout_seconds": 10, "forecast_alert_days": 0})
}

fn project(name: &str, fake: &FakeServer, token: &str, threshold: f64) -> Value {
    json!({"name": name, "provider": "openrouter", "api_key": token, "threshold": threshold,
           "base_url": fake.base_url(), "owner_project": "Team A"})
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

async fn fake() -> FakeServer {
    FakeServer::start(Duration::ZERO)
        .await
        .expect("fake server")
}

#[tokio::test(flavor = "multi_thread")]
async fn check_delivers_a_signed_webhook_once_and_lists_it_as_sent() {
    let fake = fake().await;
    let ws = Workspace::new(&json!({
        "settings": settings(),
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops"), "secret": "s3cret"}],
        "projects": [project("Main", &fake, "bal:2", 10.0)],
    }));
    let out = ws.run(&["check"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 message(s) sent"),
        "{}",
        stdout(&out)
    );
    let got = fake.received("ops");
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    for (field, want) in [
        ("type", json!("alert")),
        ("kind", json!("low")),
        ("severity", json!("warning")),
        ("project", json!("Main")),
        ("owner_project", json!("Team A")),
        ("provider", json!("openrouter")),
        ("value", json!(2.0)),
        ("threshold", json!(10.0)),
        ("state", json!("low")),
    ] {
        assert_eq!(body[field], want, "{field} in {body}");
    }
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(
        got[0].headers.get("x-signature").map(String::as_str),
        Some(format!("sha256={}", hmac_hex("s3cret", &got[0].body)).as_str())
    );
    let key = got[0]
        .headers
        .get("idempotency-key")
        .cloned()
        .unwrap_or_default();
    assert!(key.ends_with(":ops"), "idempotency key {key:?}");

    // Listed as sent, per channel; a second run raises and sends nothing new.
    let list = ws.run(&["alerts", "list"]).await;
    let text = stdout(&list);
    // `--config` is also taken after the subcommand (CONFIG_FILE points nowhere here).
    let config = ws.config_path();
    let explicit = crate::util::run_binary(
        &[
            "alerts",
            "list",
            "--config",
            config.to_str().expect("utf-8 path"),
        ],
        std::path::Path::new("/nonexistent/config.json"),
        &ws.db_path(),
        &[],
    )
    .await;
    assert_eq!(stdout(&explicit), text, "{}", stderr(&explicit));
    assert!(
        text.contains("low") && text.contains("→ ops") && text.contains("sent"),
        "{text}"
    );
    ws.run(&["check"]).await;
    assert_eq!(fake.received("ops").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_tools_custom_webhook_still_gets_its_payload() {
    let fake = fake().await;
    let ws = Workspace::new(&json!({
        "settings": settings(),
        "webhook": {"url": fake.hook_url("legacy"), "type": "custom", "source": "ops-team"},
        "projects": [project("Main", &fake, "bal:2", 10.0)],
    }));
    ws.run(&["check"]).await;
    let got = fake.received("legacy");
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["Type"], "AlarmNotification", "{body}");
    assert!(body.get("RuleName").is_some(), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_send_critical_to_one_channel_and_the_rest_to_another() {
    let fake = fake().await;
    let mut critical = project("Burning", &fake, "bal:1", 10.0);
    critical["critical_threshold"] = json!(2);
    let ws = Workspace::new(&json!({
        "settings": settings(),
        "channels": [
            {"name": "pager", "type": "webhook", "url": fake.hook_url("pager")},
            {"name": "team", "type": "webhook", "url": fake.hook_url("team")},
        ],
        "routes": [
            {"match": {"severity": "critical"}, "channels": ["pager"]},
            {"match": {"owner_project": "Team A"}, "channels": ["team"]},
        ],
        "projects": [critical, project("Low", &fake, "bal:5", 10.0)],
    }));
    ws.run(&["check"]).await;
    let pager: Vec<Value> = fake.received("pager").iter().map(|r| r.json()).collect();
    let team: Vec<Value> = fake.received("team").iter().map(|r| r.json()).collect();
    assert_eq!(pager.len(), 1, "{pager:?}");
    assert_eq!(pager[0]["project"], "Burning");
    assert_eq!(team.len(), 1, "{team:?}");
    assert_eq!(team[0]["project"], "Low");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_to_a_disabled_channel_is_refused_by_validation_naming_route_and_channel() {
    let fake = fake().await;
    let ws = Workspace::new(&json!({
        "settings": settings(),
        "channels": [
            {"name": "ops", "type": "webhook", "url": fake.hook_url("ops"), "enabled": false},
            {"name": "all", "type": "webhook", "url": fake.hook_url("all")},
        ],
        "routes": [{"match": {"severity": "critical"}, "channels": ["ops"]}],
        "projects": [project("Main", &fake, "bal:50", 10.0)],
    }));
    let out = ws.run(&["config", "validate"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("routes[0].channels")
            && err.contains("\"ops\" is disabled")
            && err.contains("severity=critical")
            && err.contains("enabled channels: all"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storm_folds_into_one_summary_message() {
    let fake = fake().await;
    let projects: Vec<Value> = (0..8)
        .map(|i| project(&format!("p{i}"), &fake, "bal:1", 10.0))
        .collect();
    let mut s = settings();
    s["storm_threshold"] = json!(3);
    let ws = Workspace::new(&json!({
        "settings": s,
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops")}],
        "projects": projects,
    }));
    ws.run(&["check"]).await;
    let got = fake.received("ops");
    assert_eq!(got.len(), 1, "one summary, not eight messages");
    let body = got[0].json();
    assert_eq!(body["type"], "summary", "{body}");
    assert_eq!(body["alerts"].as_array().map(Vec::len), Some(8));
    let list = stdout(&ws.run(&["alerts", "list"]).await);
    assert_eq!(list.matches("(in a summary)").count(), 8, "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn quiet_hours_hold_warnings_and_let_critical_through() {
    let fake = fake().await;
    let mut critical = project("Burning", &fake, "bal:1", 10.0);
    critical["critical_threshold"] = json!(2);
    // A window covering the whole day in UTC (but the last minute).
    let ws = Workspace::new(&json!({
        "settings": settings(),
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops"),
                      "quiet_hours": {"start": "00:00", "end": "23:59", "timezone": "UTC"}}],
        "projects": [critical, project("Low", &fake, "bal:5", 10.0)],
    }));
    let out = ws.run(&["check"]).await;
    let got: Vec<Value> = fake.received("ops").iter().map(|r| r.json()).collect();
    let now_minute = chrono::Utc::now().format("%H:%M").to_string();
    if now_minute == "23:59" {
        return; // the one minute outside the window: nothing to assert
    }
    assert_eq!(got.len(), 1, "{got:?}\n{}", stdout(&out));
    assert_eq!(got[0]["project"], "Burning");
    let list = stdout(&ws.run(&["alerts", "list"]).await);
    assert!(list.contains("quiet hours until"), "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_is_down_gets_everything_on_a_later_run_and_a_bad_token_fails_fast() {
    let fake = fake().await;
    fake.set_hook("flaky", HookMode::Status(503));
    fake.set_hook("denied", HookMode::Status(401));
    let mut s = settings();
    s["delivery_timeout_seconds"] = json!(0);
    let ws = Workspace::new(&json!({
        "settings": s,
        "channels": [
            {"name": "flaky", "type": "webhook", "url": fake.hook_url("flaky")},
            {"name": "denied", "type": "webhook", "url": fake.hook_url("denied")},
        ],
        "projects": [project("A", &fake, "bal:1", 10.0), project("B", &fake, "bal:2", 10.0)],
    }));
    ws.run(&["check"]).await;
    assert!(fake.received("flaky").is_empty());
    let list = stdout(&ws.run(&["alerts", "list"]).await);
    assert!(
        list.contains("denied") && list.contains("failed") && list.contains("401"),
        "{list}"
    );
    assert!(
        list.contains("503") && list.contains("next try at"),
        "{list}"
    );
    let attempts_denied = list
        .lines()
        .filter(|l| l.contains("→ denied"))
        .all(|l| l.contains("attempts 1"));
    assert!(attempts_denied, "a 401 is not retried: {list}");

    // The receiver recovers; once the backoff has passed, the next run delivers both.
    fake.set_hook("flaky", HookMode::default());
    tokio::time::sleep(Duration::from_secs(7)).await;
    ws.run(&["check"]).await;
    let mut projects: Vec<String> = fake
        .received("flaky")
        .iter()
        .map(|r| r.json()["project"].as_str().unwrap_or("").to_owned())
        .collect();
    projects.sort();
    assert_eq!(projects, ["A", "B"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_test_sends_to_a_named_channel_and_names_the_known_ones() {
    let fake = fake().await;
    let ws = Workspace::new(&json!({
        "settings": settings(),
        "channels": [{"name": "ops", "type": "feishu", "url": fake.hook_url("feishu"), "secret": "sec"}],
        "projects": [project("Main", &fake, "bal:50", 10.0)],
    }));
    let out = ws.run(&["alerts", "test", "--channel", "ops"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = fake.received("feishu");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["msg_type"], "interactive");
    let out = ws.run(&["alerts", "test", "--channel", "nope"]).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("ops"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn snooze_and_ack_stop_reminders_until_recovery() {
    let fake = fake().await;
    let mut s = settings();
    s["alert_cooldown_seconds"] = json!(0);
    let ws = Workspace::new(&json!({
        "settings": s,
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops")}],
        "projects": [project("Main", &fake, "bal:2", 10.0)],
    }));
    ws.run(&["check"]).await;
    ws.run(&["check"]).await;
    assert_eq!(
        fake.received("ops").len(),
        2,
        "low, then a reminder (cooldown 0)"
    );
    let out = ws
        .run(&["alerts", "snooze", "openrouter:Main", "--until-topped-up"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    ws.run(&["check"]).await;
    assert_eq!(fake.received("ops").len(), 2, "no reminder while snoozed");
    assert!(stdout(&ws.run(&["alerts", "list"]).await).contains("snoozed: Main until topped up"));
    let out = ws.run(&["alerts", "ack", "no-such-alert"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no alert"), "{}", stderr(&out));
}

/// Starts `serve` on the workspace; returns the process once its banner is printed.
async fn spawn_serve(ws: &Workspace) -> tokio::process::Child {
    crate::util::spawn_serve(&ws.config_path(), &ws.db_path())
        .await
        .0
}

async fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_killed_mid_delivery_loses_nothing_and_repeats_at_most_the_one_in_flight() {
    // GIVEN ten low projects and a slow receiver (one second per message, no folding)
    let fake = fake().await;
    fake.set_hook(
        "slow",
        HookMode::Ok {
            delay: Duration::from_millis(1000),
        },
    );
    let projects: Vec<Value> = (0..10)
        .map(|i| project(&format!("p{i}"), &fake, "bal:1", 10.0))
        .collect();
    let mut s = settings();
    s["storm_threshold"] = json!(1000);
    s["request_timeout_seconds"] = json!(3);
    let ws = Workspace::new(&json!({
        "settings": s,
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("slow")}],
        "projects": projects,
    }));
    // WHEN serve is SIGKILLed while deliveries are in flight
    let mut first = spawn_serve(&ws).await;
    wait_for("two messages", 30, || fake.received("slow").len() >= 2).await;
    first.start_kill().expect("SIGKILL");
    first.wait().await.expect("reaped");
    let before_restart = fake.received("slow").len();
    assert!(
        before_restart < 10,
        "killed before the end ({before_restart} arrived)"
    );
    // … and restarted
    let _second = spawn_serve(&ws).await;
    // THEN every alert arrives (the in-flight one after its lease expires)
    let ids = || -> Vec<String> {
        fake.received("slow")
            .iter()
            .map(|r| r.json()["id"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    wait_for("all ten alerts", 60, || {
        let mut u = ids();
        u.sort();
        u.dedup();
        u.len() == 10
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = ids();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10);
    // At most the sends in flight at the kill arrive twice (a channel sends for up to
    // PER_CHANNEL projects at once).
    assert!(
        all.len() - unique.len() <= balance_alert_notify::deliver::PER_CHANNEL,
        "duplicates: {all:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_retries_a_receiver_down_for_a_while_and_keeps_each_projects_order() {
    let fake = fake().await;
    fake.set_hook("down", HookMode::Status(503));
    let mut s = settings();
    s["storm_threshold"] = json!(1000);
    s["alert_cooldown_seconds"] = json!(0);
    let ws = Workspace::new(&json!({
        "settings": s,
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("down")}],
        "projects": [project("Main", &fake, "bal:1", 10.0)],
    }));
    let _serve = spawn_serve(&ws).await;
    // Alerts pile up while the receiver is down (a low alert, then reminders each minute's
    // check would add; the first check's alert is enough).
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(fake.received("down").is_empty());
    fake.set_hook("down", HookMode::default());
    wait_for("the queued alert", 40, || !fake.received("down").is_empty()).await;
    let got = fake.received("down");
    assert_eq!(got[0].json()["kind"], "low", "the first alert first");
    let stamps: Vec<i64> = got
        .iter()
        .map(|r| r.json()["timestamp"].as_i64().unwrap_or(0))
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "in order: {stamps:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_channels_rate_limit_queues_messages_and_drops_none() {
    let fake = fake().await;
    let projects: Vec<Value> = (0..4)
        .map(|i| project(&format!("p{i}"), &fake, "bal:1", 10.0))
        .collect();
    let mut s = settings();
    s["storm_threshold"] = json!(100);
    s["delivery_timeout_seconds"] = json!(0);
    let ws = Workspace::new(&json!({
        "settings": s,
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops"), "rate_per_minute": 2}],
        "projects": projects,
    }));
    let out = ws.run(&["check"]).await;
    assert_eq!(fake.received("ops").len(), 2, "{}", stdout(&out));
    assert!(stdout(&out).contains("2 waiting"), "{}", stdout(&out));
    let list = stdout(&ws.run(&["alerts", "list"]).await);
    assert_eq!(
        list.matches("pending").count(),
        4,
        "two alerts queued (alert + channel line each): {list}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_digest_goes_to_every_channel_once_a_day() {
    use balance_alert_notify::Notifier;
    let fake = fake().await;
    let doc = json!({
        "settings": {"digest": "daily 00:00", "timezone": "UTC", "language": "en",
                     "max_retries": 0, "forecast_alert_days": 0},
        "channels": [
            {"name": "a", "type": "webhook", "url": fake.hook_url("a")},
            {"name": "b", "type": "slack", "url": fake.hook_url("b")},
        ],
        "projects": [project("Main", &fake, "bal:5", 10.0)],
    });
    let config = crate::util::parse_config(&doc, &[]).expect("config");
    let store = crate::util::test_store().await;
    let now = chrono::Utc::now().timestamp();
    use balance_alert_core::check::{run_due, Housekeeping, RunOptions, Selection};
    run_due(
        &crate::util::engine(&config.settings),
        &*store,
        &config,
        &Selection::All,
        RunOptions {
            cache: balance_alert_core::check::engine::CacheMode::Bypass,
            write: balance_alert_core::check::WriteMode::Persist,
            housekeeping: Housekeeping::Never,
        },
        now,
    )
    .await
    .expect("run");
    let notifier = Notifier::new(store.clone(), Duration::from_secs(2));
    notifier.tick(&config, now).await.expect("tick");
    notifier.tick(&config, now + 5).await.expect("second tick");
    let digests: Vec<Value> = fake
        .received("a")
        .iter()
        .map(|r| r.json())
        .filter(|b| b["type"] == "digest")
        .collect();
    assert_eq!(digests.len(), 1, "once a day: {digests:?}");
    let text = digests[0]["text"].as_str().unwrap_or("");
    assert!(
        text.contains("Main") && text.contains("5.00") && text.contains("week's lowest"),
        "{text}"
    );
    let slack = fake.received("b");
    assert!(
        slack.iter().any(|r| r.text().contains("Balance digest")),
        "slack got the digest too"
    );
}

/// Checks `config` once at `now`, persisting, as a run of `serve` or `check` does.
async fn check_once(
    store: &dyn balance_alert_core::store::Store,
    config: &balance_alert_core::config::Config,
    now: i64,
) {
    use balance_alert_core::check::{run_due, Housekeeping, RunOptions, Selection};
    run_due(
        &crate::util::engine(&config.settings),
        store,
        config,
        &Selection::All,
        RunOptions {
            cache: balance_alert_core::check::engine::CacheMode::Bypass,
            write: balance_alert_core::check::WriteMode::Persist,
            housekeeping: Housekeeping::Never,
        },
        now,
    )
    .await
    .expect("run");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_digest_lists_only_configured_enabled_subscriptions_not_yet_renewed() {
    use balance_alert_core::store::SubscriptionState;
    // GIVEN three weekly subscriptions renewing in 3 days: one to pay, one disabled, one paid
    // today; and a stored evaluation of a subscription since removed from the config
    let fake = fake().await;
    let now = chrono::Utc::now().timestamp();
    let today = chrono::Utc::now().date_naive();
    let due = today + chrono::Days::new(3);
    let weekday = chrono::Datelike::weekday(&due).number_from_monday();
    let weekly = |name: &str, extra: Value| {
        let mut s = json!({"name": name, "cycle_type": "weekly", "renewal_day": weekday,
                           "alert_days_before": 7, "amount": 10, "currency": "USD"});
        s.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        s
    };
    let doc = json!({
        "settings": {"digest": "daily 00:00", "timezone": "UTC", "language": "en",
                     "max_retries": 0, "forecast_alert_days": 0},
        "projects": [project("Main", &fake, "bal:5", 10.0)],
        "subscriptions": [
            weekly("ToPay", json!({})),
            weekly("Disabled", json!({"enabled": false})),
            weekly("Paid", json!({"last_renewed_date": today.to_string()})),
        ],
    });
    let config = crate::util::parse_config(&doc, &[]).expect("config");
    let store = crate::util::test_store().await;
    for name in ["Gone", "Disabled", "Paid"] {
        store
            .record_subscription(
                SubscriptionState {
                    subscription_id: balance_alert_core::check::housekeeping::subscription_id(name),
                    name: name.into(),
                    next_renewal_date: due.to_string(),
                    days_until_renewal: 3,
                    reminded_for: None,
                    updated_at: now - 86_400,
                },
                None,
            )
            .await
            .expect("record");
    }
    // WHEN the digest is built
    let message = balance_alert_notify::digest::build(&*store, &config, &today.to_string(), now)
        .await
        .expect("digest");
    let renewals = message
        .lines
        .iter()
        .find(|l| l.label.as_deref() == Some("Upcoming renewals"))
        .map(|l| l.text.clone())
        .unwrap_or_default();
    // THEN only the enabled, unpaid, configured one is listed, with its current date
    assert_eq!(renewals, format!("ToPay: {due} (3 d)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn right_after_start_the_digest_waits_for_this_process_to_check() {
    use balance_alert_core::health::Status;
    use balance_alert_notify::Notifier;
    // GIVEN a reading of 5.00 stored by an earlier process
    let fake = fake().await;
    let doc = |token: &str| {
        json!({
            "settings": {"digest": "daily 00:00", "timezone": "UTC", "language": "en",
                         "max_retries": 0, "forecast_alert_days": 0},
            "channels": [{"name": "a", "type": "webhook", "url": fake.hook_url("a")}],
            "projects": [project("Main", &fake, token, 1.0)],
        })
    };
    let before = crate::util::parse_config(&doc("bal:5"), &[]).expect("config");
    let store = crate::util::test_store().await;
    let now = chrono::Utc::now().timestamp();
    check_once(&*store, &before, now - 3_600).await;
    // WHEN a new process starts (the balance is now 50) and its notifier ticks before its
    // first check run completed
    let config = crate::util::parse_config(&doc("bal:50"), &[]).expect("config");
    let status = Arc::new(Status::default());
    let notifier = Notifier::new(store.clone(), Duration::from_secs(2)).with_ready(status.clone());
    notifier.tick(&config, now).await.expect("tick");
    // THEN no digest goes out with the previous reading
    let digests = || -> Vec<String> {
        fake.received("a")
            .iter()
            .map(|r| r.json())
            .filter(|b| b["type"] == "digest")
            .map(|b| b["text"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert!(digests().is_empty(), "{:?}", digests());
    // AND once the first run is done, the digest shows the current reading
    check_once(&*store, &config, now).await;
    status.run_done(now, 1);
    notifier.tick(&config, now + 2).await.expect("tick");
    let sent = digests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("50.00") && !sent[0].contains("5.00 USD ("),
        "{}",
        sent[0]
    );
}
