//! WeCom: Markdown cut to 4096 bytes, `errcode` classification.

use crate::support::*;

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
