//! Feishu and Lark: the card, its signature, `code` classification.

use crate::support::*;

const FEISHU_SECRET: &str = "feishu-signing-secret-42";

#[tokio::test]
async fn feishu_posts_a_red_interactive_card_signed_with_the_timestamp_and_secret() {
    let rx = Receiver::start().await;
    rx.reply(200, r#"{"code":0,"msg":"success","data":{}}"#);
    let mut cfg = config(
        ChannelKind::Feishu,
        Some(rx.url("/open-apis/bot/v2/hook/abc-token-123")),
    );
    cfg = with_secret(cfg, FEISHU_SECRET);

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
    cfg = with_secret(cfg, FEISHU_SECRET);
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
