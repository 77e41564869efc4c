//! DingTalk: Markdown, query-string signature, `errcode` classification.

use crate::support::*;

const DING_SECRET: &str = "SECdingtalk-signing-secret-0123456789";

#[tokio::test]
async fn dingtalk_posts_markdown_signed_in_the_query_string() {
    let rx = Receiver::start().await;
    rx.reply(200, r#"{"errcode":0,"errmsg":"ok"}"#);
    let mut cfg = config(
        ChannelKind::Dingtalk,
        Some(rx.url("/robot/send?access_token=tok-abc-123")),
    );
    cfg = with_secret(cfg, DING_SECRET);

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
    let encoded = expected
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    assert!(query.ends_with(&format!("&sign={encoded}")), "{query}");
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
