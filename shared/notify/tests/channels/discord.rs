//! Discord: one embed, 429 with a body `retry_after`.

use crate::support::*;

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
