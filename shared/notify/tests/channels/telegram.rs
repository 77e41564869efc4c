//! Telegram: HTML `sendMessage`, `ok:false` classification, the 4096-character cut.

use crate::support::*;

const BOT_TOKEN: &str = "123456789:AAE-telegram-secret-token";

fn telegram(rx: &Receiver) -> Box<dyn Channel> {
    let mut cfg = config(ChannelKind::Telegram, Some(rx.url("/")));
    let ChannelOptions::Telegram(t) = &mut cfg.options else {
        panic!("telegram options")
    };
    t.token = Some(Secret::new(BOT_TOKEN));
    t.chat_id = Some("-100200300".into());
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
