//! Slack: blocks with a text fallback, status classification.

use crate::support::*;

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
