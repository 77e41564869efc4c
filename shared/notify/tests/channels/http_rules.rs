//! The status rules every HTTP channel shares, and what a reason may never show.

use crate::support::*;

/// A signing secret that must never show up in a reason.
const HOOK_SECRET: &str = "http-rules-hmac-secret-9";

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
    cfg = with_secret(cfg, HOOK_SECRET);
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
