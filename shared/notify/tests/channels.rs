//! Every channel type against a local receiver: the payload's shape, its signature
//! (recomputed here, independently), and how each answer is classified.

mod util;

use std::time::Duration;

use balance_alert_core::config::delivery::{
    ChannelConfig, ChannelKind, Language, SmtpSecurity, SmtpSettings,
};
use balance_alert_core::config::{Secret, TimeZone};
use balance_alert_model::{AlertDetails, AlertKind, AlertRecord, AlertState, AlertStatus, Decimal};
use balance_alert_notify::channels::build;
use balance_alert_notify::{Channel, Message, SendError};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use util::receiver::Receiver;
use util::smtp;

// ---------------------------------------------------------------- fixtures

fn low_alert() -> AlertRecord {
    AlertRecord {
        id: "p1-100-2".into(),
        project_id: "p1".into(),
        project_name: "Main".into(),
        provider: "openrouter".into(),
        kind: AlertKind::Low,
        state: AlertState::Low,
        balance: Some(Decimal::new(512, 2)),
        threshold: Decimal::from(10),
        currency: "USD".into(),
        message: "Main: balance 5.12 USD is LOW (threshold 10.00)".into(),
        status: AlertStatus::Pending,
        created_at: 1_764_000_000,
        details: AlertDetails {
            owner_project: Some("Team A".into()),
            ..AlertDetails::default()
        },
        deliveries: Vec::new(),
    }
}

fn recovered_alert() -> AlertRecord {
    AlertRecord {
        id: "p1-200-3".into(),
        kind: AlertKind::Recovered,
        state: AlertState::Ok,
        balance: Some(Decimal::from(50)),
        message: "Main: balance 50.00 USD is OK again".into(),
        created_at: 1_764_003_600,
        ..low_alert()
    }
}

fn renewal_alert() -> AlertRecord {
    AlertRecord {
        id: "s1-300-1".into(),
        project_name: "Cursor Pro".into(),
        provider: String::new(),
        kind: AlertKind::Renewal,
        state: AlertState::Ok,
        balance: None,
        threshold: Decimal::from(20),
        message: "Cursor Pro renews on 2025-11-28".into(),
        details: AlertDetails {
            owner_project: Some("Team A".into()),
            days_left: Some(3),
            due_date: Some("2025-11-28".into()),
            source: None,
        },
        ..low_alert()
    }
}

fn message_for(alert: &AlertRecord, lang: Language) -> Message {
    let tz = TimeZone::parse("UTC").expect("UTC is a zone");
    Message::for_alert(alert, "ops", "balance-alert", lang, &tz)
}

fn low(lang: Language) -> Message {
    message_for(&low_alert(), lang)
}

fn config(kind: ChannelKind, url: Option<String>) -> ChannelConfig {
    ChannelConfig {
        name: "ops".into(),
        kind,
        url: url.map(Secret::new),
        secret: None,
        token: None,
        chat_id: None,
        format: None,
        smtp: None,
        quiet_hours: None,
        rate_per_minute: None,
        source: "balance-alert".into(),
        enabled: true,
    }
}

fn channel(config: &ChannelConfig) -> Box<dyn Channel> {
    build(config, reqwest::Client::new())
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[track_caller]
fn assert_fatal(result: Result<(), SendError>, contains: &str) -> String {
    match result {
        Err(SendError::Fatal { reason }) => {
            assert!(
                reason.contains(contains),
                "{reason:?} should mention {contains:?}"
            );
            reason
        }
        other => panic!("expected Fatal mentioning {contains:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_retry(result: Result<(), SendError>, after: Option<Duration>) -> String {
    match result {
        Err(SendError::Retry { reason, after: a }) => {
            assert_eq!(a, after, "retry-after of {reason:?}");
            reason
        }
        other => panic!("expected Retry, got {other:?}"),
    }
}

// ---------------------------------------------------------------- feishu / lark

const FEISHU_SECRET: &str = "feishu-signing-secret-42";

#[tokio::test]
async fn feishu_posts_a_red_interactive_card_signed_with_the_timestamp_and_secret() {
    let rx = Receiver::start().await;
    rx.reply(200, r#"{"code":0,"msg":"success","data":{}}"#);
    let mut cfg = config(
        ChannelKind::Feishu,
        Some(rx.url("/open-apis/bot/v2/hook/abc-token-123")),
    );
    cfg.secret = Some(Secret::new(FEISHU_SECRET));

    channel(&cfg)
        .send(&low(Language::Zh))
        .await
        .expect("feishu accepted it");

    let seen = rx.last();
    assert_eq!(seen.path, "/open-apis/bot/v2/hook/abc-token-123");
    let body = seen.json();
    assert_eq!(body["msg_type"], "interactive");
    assert_eq!(body["card"]["header"]["template"], "red");
    assert_eq!(
        body["card"]["header"]["title"]["content"],
        "余额不足 · Main"
    );
    let markdown = body["card"]["elements"][0]["content"]
        .as_str()
        .expect("markdown");
    assert!(markdown.contains("**所属项目**: Team A"), "{markdown}");
    // GIVEN the timestamp the channel sent, THEN sign = base64(HMAC(ts + "\n" + secret, "")).
    let ts = body["timestamp"].as_str().expect("timestamp is a string");
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - ts.parse::<i64>().expect("seconds")).abs() < 60,
        "{ts}"
    );
    let key = format!("{ts}\n{FEISHU_SECRET}");
    assert_eq!(body["sign"], b64(&hmac(key.as_bytes(), b"")));
}

#[tokio::test]
async fn lark_uses_the_same_card_without_signing_when_no_secret_is_set() {
    let rx = Receiver::start().await;
    rx.reply(200, r#"{"StatusCode":0,"StatusMessage":"success"}"#);
    let cfg = config(ChannelKind::Lark, Some(rx.url("/hook")));
    let recovered = message_for(&recovered_alert(), Language::En);

    channel(&cfg)
        .send(&recovered)
        .await
        .expect("lark accepted it");

    let body = rx.last().json();
    assert_eq!(body["card"]["header"]["template"], "green");
    assert!(body.get("sign").is_none() && body.get("timestamp").is_none());
}

#[tokio::test]
async fn feishu_bad_signature_is_fatal_throttling_retries_and_other_codes_are_fatal() {
    let rx = Receiver::start().await;
    let mut cfg = config(ChannelKind::Feishu, Some(rx.url("/hook/t")));
    cfg.secret = Some(Secret::new(FEISHU_SECRET));
    let ch = channel(&cfg);
    let msg = low(Language::En);

    rx.reply(200, r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#);
    let reason = assert_fatal(ch.send(&msg).await, "19021");
    assert!(reason.contains("sign match fail"), "{reason}");

    rx.reply(200, r#"{"code":11232,"msg":"frequency limited psm"}"#);
    assert_retry(ch.send(&msg).await, None);

    rx.reply(200, r#"{"StatusCode":9499,"StatusMessage":"Bad Request"}"#);
    assert_fatal(ch.send(&msg).await, "Bad Request");
}

// ---------------------------------------------------------------- dingtalk

const DING_SECRET: &str = "SECdingtalk-signing-secret-0123456789";

#[tokio::test]
async fn dingtalk_posts_markdown_signed_in_the_query_string() {
    let rx = Receiver::start().await;
    rx.reply(200, r#"{"errcode":0,"errmsg":"ok"}"#);
    let mut cfg = config(
        ChannelKind::Dingtalk,
        Some(rx.url("/robot/send?access_token=tok-abc-123")),
    );
    cfg.secret = Some(Secret::new(DING_SECRET));

    channel(&cfg)
        .send(&low(Language::Zh))
        .await
        .expect("dingtalk accepted it");

    let seen = rx.last();
    assert_eq!(seen.path, "/robot/send");
    let query = seen.query.clone().expect("a query");
    let pairs: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{query}"))
        .expect("valid query")
        .query_pairs()
        .into_owned()
        .collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("access_token").as_deref(), Some("tok-abc-123"));
    let ts = get("timestamp").expect("timestamp");
    let now = chrono::Utc::now().timestamp_millis();
    assert!(
        (now - ts.parse::<i64>().expect("millis")).abs() < 60_000,
        "{ts}"
    );
    let expected = b64(&hmac(
        DING_SECRET.as_bytes(),
        format!("{ts}\n{DING_SECRET}").as_bytes(),
    ));
    assert_eq!(get("sign"), Some(expected.clone()));
    // The raw query carries the URL-encoded form (base64's + / = escaped).
    assert!(!query.contains('+') || !expected.contains('+'), "{query}");
    let body = seen.json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body["markdown"]["title"], "余额不足 · Main");
    let text = body["markdown"]["text"].as_str().expect("text");
    assert!(
        text.starts_with("### 余额不足 · Main") && text.contains("5.12 USD"),
        "{text}"
    );
}

#[tokio::test]
async fn dingtalk_throttling_retries_after_a_minute_and_security_rejections_are_fatal() {
    let rx = Receiver::start().await;
    let ch = channel(&config(
        ChannelKind::Dingtalk,
        Some(rx.url("/robot/send?access_token=t")),
    ));
    let msg = low(Language::En);

    rx.reply(
        200,
        r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#,
    );
    assert_retry(ch.send(&msg).await, Some(Duration::from_secs(60)));

    rx.reply(
        200,
        r#"{"errcode":310000,"errmsg":"keywords not in content"}"#,
    );
    assert_fatal(ch.send(&msg).await, "310000");

    rx.reply(200, r#"{"errcode":300001,"errmsg":"token is not exist"}"#);
    assert_fatal(ch.send(&msg).await, "token is not exist");
}

// ---------------------------------------------------------------- wecom

#[tokio::test]
async fn wecom_cuts_a_long_chinese_message_to_4096_bytes_of_valid_utf8() {
    let rx = Receiver::start().await;
    rx.reply(200, r#"{"errcode":0,"errmsg":"ok"}"#);
    let mut alert = low_alert();
    alert.project_name = "余额监控项目".repeat(400); // ~7 KB in the title and the body
    let msg = message_for(&alert, Language::Zh);

    channel(&config(
        ChannelKind::Wecom,
        Some(rx.url("/cgi-bin/webhook/send?key=k")),
    ))
    .send(&msg)
    .await
    .expect("wecom accepted it");

    let seen = rx.last();
    std::str::from_utf8(&seen.body).expect("the body is valid UTF-8");
    let body = seen.json();
    assert_eq!(body["msgtype"], "markdown");
    let content = body["markdown"]["content"].as_str().expect("content");
    assert!(content.len() <= 4096, "{} bytes", content.len());
    assert!(
        content.len() > 4000,
        "cut near the limit, not far below: {}",
        content.len()
    );
    assert!(content.ends_with('…'));
    assert!(
        content.starts_with("### <font color=\"warning\">"),
        "{}",
        &content[..60]
    );
}

#[tokio::test]
async fn wecom_frequency_limit_retries_and_an_invalid_webhook_is_fatal() {
    let rx = Receiver::start().await;
    let ch = channel(&config(ChannelKind::Wecom, Some(rx.url("/send?key=k"))));
    let msg = low(Language::Zh);

    rx.reply(200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#);
    assert_retry(ch.send(&msg).await, Some(Duration::from_secs(60)));

    rx.reply(200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#);
    assert_fatal(ch.send(&msg).await, "93000");
}

// ---------------------------------------------------------------- slack

#[tokio::test]
async fn slack_posts_header_and_mrkdwn_blocks_with_a_text_fallback() {
    let rx = Receiver::start().await;
    rx.reply(200, "ok");
    let mut alert = low_alert();
    alert.project_name = "Main <!channel>".into();

    channel(&config(
        ChannelKind::Slack,
        Some(rx.url("/services/T0/B0/xyz")),
    ))
    .send(&message_for(&alert, Language::En))
    .await
    .expect("slack accepted it");

    let body = rx.last().json();
    assert_eq!(body["blocks"][0]["type"], "header");
    assert_eq!(body["blocks"][0]["text"]["type"], "plain_text");
    assert_eq!(body["blocks"][1]["text"]["type"], "mrkdwn");
    let section = body["blocks"][1]["text"]["text"].as_str().expect("mrkdwn");
    assert!(section.contains("*Balance*: 5.12 USD"), "{section}");
    let text = body["text"].as_str().expect("fallback");
    assert!(
        text.contains("Low balance") && text.contains("&lt;!channel&gt;"),
        "{text}"
    );
    assert!(!section.contains("<!channel>"), "{section}");
}

#[tokio::test]
async fn slack_no_service_is_fatal_and_429_retries_after_the_header() {
    let rx = Receiver::start().await;
    let ch = channel(&config(
        ChannelKind::Slack,
        Some(rx.url("/services/T0/B0/xyz")),
    ));
    let msg = low(Language::En);

    rx.reply(404, "no_service");
    let reason = assert_fatal(ch.send(&msg).await, "HTTP 404: no_service");
    assert!(!reason.contains("/services"), "{reason}");

    rx.reply(403, "invalid_token");
    assert_fatal(ch.send(&msg).await, "invalid_token");

    rx.reply_with(429, &[("retry-after", "30")], "rate_limited");
    assert_retry(ch.send(&msg).await, Some(Duration::from_secs(30)));
}

// ---------------------------------------------------------------- discord

#[tokio::test]
async fn discord_posts_one_embed_coloured_by_tone_without_mentions() {
    let rx = Receiver::start().await;
    rx.reply(204, "");

    channel(&config(
        ChannelKind::Discord,
        Some(rx.url("/api/webhooks/1/tok")),
    ))
    .send(&low(Language::En))
    .await
    .expect("discord accepted it");

    let body = rx.last().json();
    let embed = &body["embeds"][0];
    assert_eq!(embed["title"], "Low balance · Main");
    assert_eq!(embed["color"], 0xd9_30_25);
    assert!(embed["description"]
        .as_str()
        .expect("text")
        .contains("5.12 USD"));
    assert_eq!(embed["footer"]["text"], "balance-alert");
    assert_eq!(body["allowed_mentions"], json!({ "parse": [] }));
    let total: usize = ["title", "description"]
        .iter()
        .map(|k| embed[k].as_str().map_or(0, |s| s.chars().count()))
        .sum();
    assert!(total <= 6000);
}

#[tokio::test]
async fn discord_429_retries_after_the_bodys_fractional_retry_after() {
    let rx = Receiver::start().await;
    let ch = channel(&config(
        ChannelKind::Discord,
        Some(rx.url("/api/webhooks/1/tok")),
    ));
    rx.reply(
        429,
        r#"{"message":"You are being rate limited.","retry_after":1.5,"global":false}"#,
    );
    assert_retry(
        ch.send(&low(Language::En)).await,
        Some(Duration::from_millis(1500)),
    );
    rx.reply(401, r#"{"message":"Invalid Webhook Token","code":50027}"#);
    assert_fatal(ch.send(&low(Language::En)).await, "401");
}

// ---------------------------------------------------------------- telegram

const BOT_TOKEN: &str = "123456789:AAE-telegram-secret-token";

fn telegram(rx: &Receiver) -> Box<dyn Channel> {
    let mut cfg = config(ChannelKind::Telegram, Some(rx.url("/")));
    cfg.token = Some(Secret::new(BOT_TOKEN));
    cfg.chat_id = Some("-100200300".into());
    channel(&cfg)
}

#[tokio::test]
async fn telegram_sends_escaped_html_to_the_bots_send_message() {
    let rx = Receiver::start().await;
    rx.reply(200, r#"{"ok":true,"result":{"message_id":1}}"#);
    let mut alert = low_alert();
    alert.project_name = "Main <b>&".into();

    telegram(&rx)
        .send(&message_for(&alert, Language::En))
        .await
        .expect("sent");

    let seen = rx.last();
    assert_eq!(seen.path, format!("/bot{BOT_TOKEN}/sendMessage"));
    let body = seen.json();
    assert_eq!(body["chat_id"], "-100200300");
    assert_eq!(body["parse_mode"], "HTML");
    assert_eq!(body["disable_web_page_preview"], true);
    let text = body["text"].as_str().expect("text");
    assert!(
        text.starts_with("<b>Low balance · Main &lt;b&gt;&amp;</b>\n"),
        "{text}"
    );
    assert!(text.contains("<b>Balance</b>: 5.12 USD"), "{text}");
    assert!(text.chars().count() <= 4096);
}

#[tokio::test]
async fn telegram_retry_after_retries_and_auth_errors_are_fatal_without_the_token() {
    let rx = Receiver::start().await;
    let ch = telegram(&rx);
    let msg = low(Language::En);

    rx.reply(429, r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#);
    assert_retry(ch.send(&msg).await, Some(Duration::from_secs(5)));

    rx.reply(
        401,
        r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
    );
    assert_fatal(ch.send(&msg).await, "Unauthorized");

    let echo = format!(
        r#"{{"ok":false,"error_code":400,"description":"Bad Request: chat not found for bot{BOT_TOKEN}"}}"#
    );
    rx.reply(400, &echo);
    let reason = assert_fatal(ch.send(&msg).await, "chat not found");
    assert!(!reason.contains("AAE-telegram-secret-token"), "{reason}");
    assert!(!reason.contains("123456789"), "{reason}");
}

#[tokio::test]
async fn telegram_text_of_a_huge_message_stays_within_4096_characters() {
    let rx = Receiver::start().await;
    rx.reply(200, r#"{"ok":true}"#);
    let alerts: Vec<AlertRecord> = (0..400)
        .map(|i| AlertRecord {
            id: format!("p{i}"),
            project_name: format!("项目 <{i}> 余额监控"),
            ..low_alert()
        })
        .collect();
    let msg = Message::summary(
        &alerts,
        "sum-1".into(),
        "balance-alert",
        Language::Zh,
        1_764_000_000,
    );

    telegram(&rx).send(&msg).await.expect("sent");

    let text = rx.last().json()["text"].as_str().expect("text").to_owned();
    assert!(text.chars().count() <= 4096, "{}", text.chars().count());
    assert!(text.ends_with("\n…"));
    assert_eq!(
        text.matches("<b>").count(),
        text.matches("</b>").count(),
        "no tag cut in half"
    );
}

#[tokio::test]
async fn telegram_without_a_token_fails_fatal_naming_what_is_missing() {
    let ch = channel(&config(ChannelKind::Telegram, None));
    assert_fatal(ch.send(&low(Language::En)).await, "no token");
}

// ---------------------------------------------------------------- generic webhook

const HOOK_SECRET: &str = "webhook-hmac-secret-7";

#[tokio::test]
async fn webhook_posts_the_alert_facts_signed_over_the_raw_body() {
    let rx = Receiver::start().await;
    rx.reply(202, "");
    let mut cfg = config(ChannelKind::Webhook, Some(rx.url("/alerts")));
    cfg.secret = Some(Secret::new(HOOK_SECRET));
    let msg = low(Language::En);

    channel(&cfg).send(&msg).await.expect("accepted");

    let seen = rx.last();
    let expected = format!(
        "sha256={}",
        hex::encode(hmac(HOOK_SECRET.as_bytes(), &seen.body))
    );
    assert_eq!(seen.header("x-signature"), Some(expected));
    assert_eq!(
        seen.header("idempotency-key").as_deref(),
        Some("p1-100-2:ops")
    );
    assert_eq!(
        seen.header("content-type").as_deref(),
        Some("application/json")
    );
    let body = seen.json();
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "type",
            "severity",
            "project",
            "owner_project",
            "provider",
            "kind",
            "value",
            "currency",
            "threshold",
            "state",
            "message",
            "timestamp"
        ]
    );
    assert_eq!(body["type"], "alert");
    assert_eq!(body["value"], 5.12);
    assert_eq!(body["threshold"], 10.0);
    assert_eq!(body["severity"], "warning");
}

#[tokio::test]
async fn webhook_renewals_carry_days_left_and_due_date() {
    let rx = Receiver::start().await;
    let cfg = config(ChannelKind::Webhook, Some(rx.url("/alerts")));
    channel(&cfg)
        .send(&message_for(&renewal_alert(), Language::En))
        .await
        .expect("accepted");
    let body = rx.last().json();
    assert_eq!(body["days_left"], 3);
    assert_eq!(body["due_date"], "2025-11-28");
    assert!(
        rx.last().header("x-signature").is_none(),
        "no secret, no signature"
    );
}

#[tokio::test]
async fn webhook_summaries_and_tests_post_type_title_text_alerts_and_timestamp() {
    let rx = Receiver::start().await;
    let ch = channel(&config(ChannelKind::Webhook, Some(rx.url("/alerts"))));
    let summary = Message::summary(
        &[low_alert(), recovered_alert()],
        "sum-42".into(),
        "balance-alert",
        Language::En,
        1_764_010_000,
    );
    ch.send(&summary).await.expect("accepted");
    let body = rx.last().json();
    assert_eq!(body["type"], "summary");
    assert_eq!(body["alerts"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["timestamp"], 1_764_010_000);
    assert!(body["text"]
        .as_str()
        .expect("text")
        .contains("Main — 5.12 USD"));
    assert_eq!(
        rx.last().header("idempotency-key").as_deref(),
        Some("sum-42")
    );

    ch.send(&Message::test("ops", "balance-alert", Language::En, 5))
        .await
        .expect("ok");
    let body = rx.last().json();
    assert_eq!(body["type"], "test");
    assert_eq!(body["title"], "Balance Alert test message");
    assert_eq!(body["alerts"], json!([]));
}

#[tokio::test]
async fn alertmanager_format_matches_the_v4_webhook_schema() {
    let rx = Receiver::start().await;
    let mut cfg = config(ChannelKind::Webhook, Some(rx.url("/am")));
    cfg.format = Some("alertmanager".into());
    let ch = channel(&cfg);

    ch.send(&low(Language::En)).await.expect("accepted");
    let firing = rx.last().json();
    assert_eq!(firing["version"], "4");
    assert_eq!(firing["status"], "firing");
    assert_eq!(firing["receiver"], "ops");
    assert_eq!(firing["truncatedAlerts"], 0);
    assert_eq!(firing["groupKey"], "{}:{alertname=\"BalanceLow\"}");
    assert_eq!(firing["groupLabels"], json!({ "alertname": "BalanceLow" }));
    for key in ["commonLabels", "commonAnnotations", "externalURL"] {
        assert!(firing.get(key).is_some(), "{key}");
    }
    let alert = &firing["alerts"][0];
    assert_eq!(alert["status"], "firing");
    assert_eq!(
        alert["labels"],
        json!({
            "alertname": "BalanceLow", "kind": "low", "owner_project": "Team A",
            "project": "Main", "provider": "openrouter", "severity": "warning"
        })
    );
    assert_eq!(alert["annotations"]["summary"], "Low balance · Main");
    assert!(alert["annotations"]["description"]
        .as_str()
        .expect("d")
        .contains("Threshold"));
    assert_eq!(alert["startsAt"], "2025-11-24T16:00:00Z");
    assert_eq!(alert["endsAt"], "0001-01-01T00:00:00Z");
    assert!(alert.get("generatorURL").is_some());
    let fp = alert["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    assert!(
        fp.len() == 16 && fp.chars().all(|c| c.is_ascii_hexdigit()),
        "{fp}"
    );

    ch.send(&message_for(&recovered_alert(), Language::En))
        .await
        .expect("accepted");
    let resolved = rx.last().json();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["alerts"][0]["status"], "resolved");
    assert_eq!(resolved["alerts"][0]["endsAt"], "2025-11-24T17:00:00Z");
    assert_eq!(
        resolved["alerts"][0]["fingerprint"], fp,
        "the recovery resolves the same alert"
    );
}

#[tokio::test]
async fn an_unknown_webhook_format_fails_fatal() {
    let mut cfg = config(ChannelKind::Webhook, Some("http://127.0.0.1:9/x".into()));
    cfg.format = Some("xml".into());
    assert_fatal(
        channel(&cfg).send(&low(Language::En)).await,
        "unknown webhook format",
    );
}

// ---------------------------------------------------------------- custom (the Python tool)

#[tokio::test]
async fn custom_balance_alerts_are_the_python_tools_alarm_notification() {
    let rx = Receiver::start().await;
    let ch = channel(&config(ChannelKind::Custom, Some(rx.url("/hook"))));
    ch.send(&low(Language::Zh)).await.expect("accepted");
    assert_eq!(
        rx.last().json(),
        json!({
            "Type": "AlarmNotification",
            "RuleName": "Main余额告警",
            "Level": "critical",
            "Resources": [{
                "ProjectName": "Main",
                "OwnerProject": "Team A",
                "Provider": "openrouter",
                "BalanceType": "余额",
                "CurrentValue": 5.12,
                "Threshold": 10.0,
                "Unit": "USD",
                "Message": "项目 [Main] 余额不足，当前: 5.12 USD，阈值: 10.00 USD"
            }]
        })
    );
}

#[tokio::test]
async fn custom_renewals_are_a_subscription_reminder_and_the_rest_title_and_content() {
    let rx = Receiver::start().await;
    let ch = channel(&config(ChannelKind::Custom, Some(rx.url("/hook"))));
    ch.send(&message_for(&renewal_alert(), Language::Zh))
        .await
        .expect("accepted");
    let body = rx.last().json();
    assert_eq!(body["Type"], "SubscriptionReminder");
    assert_eq!(body["RuleName"], "Cursor Pro续费提醒");
    assert_eq!(body["Level"], "warning");
    let r = &body["Resources"][0];
    assert_eq!(r["SubscriptionName"], "Cursor Pro");
    assert_eq!(r["RenewalDay"], 28);
    assert_eq!(r["DaysUntilRenewal"], 3);
    assert_eq!(r["Amount"], 20.0);

    ch.send(&message_for(&recovered_alert(), Language::Zh))
        .await
        .expect("accepted");
    let body = rx.last().json();
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["title", "content", "source", "timestamp"]);
    assert_eq!(body["source"], "balance-alert");
    assert_eq!(body["timestamp"], "2025-11-24T17:00:00Z");
}

// ---------------------------------------------------------------- shared HTTP rules

#[tokio::test]
async fn status_classification_is_the_same_for_every_http_channel() {
    let rx = Receiver::start().await;
    let ch = channel(&config(ChannelKind::Custom, Some(rx.url("/hook"))));
    let msg = low(Language::En);

    rx.reply(401, "unauthorized");
    assert_fatal(ch.send(&msg).await, "HTTP 401");
    rx.reply(500, "boom");
    assert_retry(ch.send(&msg).await, None);
    rx.reply_with(503, &[("retry-after", "12")], "");
    assert_retry(ch.send(&msg).await, Some(Duration::from_secs(12)));
    rx.reply(408, "");
    assert_retry(ch.send(&msg).await, None);
    rx.reply(400, "bad json");
    assert_fatal(ch.send(&msg).await, "HTTP 400: bad json");
}

#[tokio::test]
async fn no_reason_shows_the_url_token_or_signing_secret() {
    let rx = Receiver::start().await;
    let token = "hook-token-0123456789abcdef";
    let mut cfg = config(
        ChannelKind::Webhook,
        Some(rx.url(&format!("/hook/{token}?key={token}"))),
    );
    cfg.secret = Some(Secret::new(HOOK_SECRET));
    let ch = channel(&cfg);
    // GIVEN a receiver that echoes the request's URL and the secret back.
    rx.reply(
        403,
        &format!("denied {} for {token} with {HOOK_SECRET}", rx.url("/hook")),
    );
    let reason = assert_fatal(ch.send(&low(Language::En)).await, "HTTP 403");
    for leak in [token, HOOK_SECRET, "127.0.0.1"] {
        assert!(!reason.contains(leak), "{leak} leaked into {reason:?}");
    }
}

#[tokio::test]
async fn an_unreachable_receiver_retries_without_its_url_in_the_reason() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        l.local_addr().expect("bound").port()
    };
    let url = format!("http://127.0.0.1:{port}/hook/secret-token-abcdef123");
    let reason = assert_retry(
        channel(&config(ChannelKind::Slack, Some(url)))
            .send(&low(Language::En))
            .await,
        None,
    );
    assert!(reason.contains("connection failed"), "{reason}");
    assert!(
        !reason.contains("secret-token") && !reason.contains("127.0.0.1"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_channel_without_a_url_fails_fatal_naming_what_is_missing() {
    for kind in [
        ChannelKind::Feishu,
        ChannelKind::Dingtalk,
        ChannelKind::Wecom,
        ChannelKind::Custom,
    ] {
        let ch = channel(&config(kind, None));
        assert_eq!(ch.name(), "ops");
        assert_fatal(ch.send(&low(Language::En)).await, "has no url");
    }
}

// ---------------------------------------------------------------- email

const SMTP_PASSWORD: &str = "smtp-password-do-not-show";

fn email_config(port: u16, username: Option<&str>) -> ChannelConfig {
    let mut cfg = config(ChannelKind::Email, None);
    cfg.smtp = Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        username: username.map(str::to_owned),
        password: username.map(|_| Secret::new(SMTP_PASSWORD)),
        security: SmtpSecurity::None,
        from: "Balance Alert <alerts@example.com>".into(),
        to: vec!["ops@example.com".into(), "cto@example.com".into()],
    });
    cfg
}

#[tokio::test]
async fn email_sends_one_multipart_mail_with_text_and_html_to_every_recipient() {
    let (port, transcript) = smtp::start(smtp::Script::default()).await;

    channel(&email_config(port, None))
        .send(&low(Language::En))
        .await
        .expect("mail accepted");

    let t = transcript.await.expect("the sink saw a session");
    let rcpts: Vec<&String> = t
        .commands
        .iter()
        .filter(|c| c.starts_with("RCPT TO"))
        .collect();
    assert_eq!(rcpts.len(), 2, "{:?}", t.commands);
    assert!(
        t.commands
            .iter()
            .any(|c| c == "MAIL FROM:<alerts@example.com>"),
        "{:?}",
        t.commands
    );
    let data = &t.data;
    assert!(data.contains("Subject: Low balance"), "{data}");
    assert!(
        data.contains("Message-ID: <p1-100-2-ops@example.com>"),
        "{data}"
    );
    assert!(
        data.contains("From: \"Balance Alert\" <alerts@example.com>"),
        "{data}"
    );
    assert!(
        data.contains("To: ops@example.com, cto@example.com"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: multipart/alternative"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: text/plain; charset=utf-8"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: text/html; charset=utf-8"),
        "{data}"
    );
    assert!(data.contains("Balance: 5.12 USD"), "the text part: {data}");
    assert!(
        data.contains("<b>Balance</b>: 5.12 USD"),
        "the HTML part: {data}"
    );
}

#[tokio::test]
async fn email_chinese_subjects_are_encoded_and_the_session_ends_with_quit() {
    let (port, transcript) = smtp::start(smtp::Script::default()).await;
    channel(&email_config(port, None))
        .send(&low(Language::Zh))
        .await
        .expect("accepted");
    let t = transcript.await.expect("session");
    assert!(t.data.contains("Subject: =?utf-8?b?"), "{}", t.data);
    assert_eq!(t.commands.last().map(String::as_str), Some("QUIT"));
}

#[tokio::test]
async fn email_rejected_login_is_fatal_and_never_shows_the_password() {
    let script = smtp::Script {
        reject_login: true,
        ..smtp::Script::default()
    };
    let (port, transcript) = smtp::start(script).await;
    let result = channel(&email_config(port, Some("alerts")))
        .send(&low(Language::En))
        .await;
    let reason = assert_fatal(result, "535");
    assert!(!reason.contains(SMTP_PASSWORD), "{reason}");
    let t = transcript.await.expect("session");
    assert!(
        t.commands.iter().any(|c| c.starts_with("AUTH")),
        "{:?}",
        t.commands
    );
}

#[tokio::test]
async fn email_temporary_refusal_retries() {
    let script = smtp::Script {
        busy: true,
        ..smtp::Script::default()
    };
    let (port, _transcript) = smtp::start(script).await;
    let reason = assert_retry(
        channel(&email_config(port, None))
            .send(&low(Language::En))
            .await,
        None,
    );
    assert!(reason.contains("451"), "{reason}");
}

#[tokio::test]
async fn email_starttls_and_implicit_tls_transports_build_and_insist_on_tls() {
    // GIVEN a plain-text sink, WHEN the channel wants TLS, THEN it refuses to go on without
    // it (proving the TLS transport was built, not replaced by a config error).
    for security in [SmtpSecurity::StartTls, SmtpSecurity::Tls] {
        let (port, transcript) = smtp::start(smtp::Script::default()).await;
        let mut cfg = email_config(port, Some("alerts"));
        if let Some(smtp) = cfg.smtp.as_mut() {
            smtp.security = security;
        }
        let result = channel(&cfg).send(&low(Language::En)).await;
        let reason = result.expect_err("no TLS, no mail").reason().to_owned();
        assert!(
            !reason.contains("setup failed") && !reason.contains("has no"),
            "{reason}"
        );
        assert!(!reason.contains(SMTP_PASSWORD), "{reason}");
        let t = transcript.await.expect("session");
        assert!(
            !t.commands
                .iter()
                .any(|c| c.starts_with("AUTH") || c.starts_with("MAIL")),
            "{security:?} sent {:?} in the clear",
            t.commands
        );
    }
}

#[tokio::test]
async fn email_with_a_bad_sender_address_fails_fatal_naming_it() {
    let mut bad = email_config(25, None);
    if let Some(smtp) = bad.smtp.as_mut() {
        smtp.from = "not an address".into();
    }
    assert_fatal(channel(&bad).send(&low(Language::En)).await, "smtp.from");
}
