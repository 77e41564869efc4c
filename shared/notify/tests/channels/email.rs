//! SMTP against the local sink in `util/smtp.rs`.

use crate::support::*;

const SMTP_PASSWORD: &str = "smtp-password-do-not-show";

fn email_config(port: u16, username: Option<&str>) -> ChannelConfig {
    let mut cfg = config(ChannelKind::Email, None);
    cfg.options = ChannelOptions::Email(Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        username: username.map(str::to_owned),
        password: username.map(|_| Secret::new(SMTP_PASSWORD)),
        security: SmtpSecurity::None,
        from: "Balance Alert <alerts@example.com>".into(),
        to: vec!["ops@example.com".into(), "cto@example.com".into()],
    }));
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
async fn email_rejected_login_echoing_auth_plain_is_summarised() {
    let script = smtp::Script {
        reject_login: true,
        echo_login: true,
        ..smtp::Script::default()
    };
    let (port, transcript) = smtp::start(script).await;
    let result = channel(&email_config(port, Some("alerts")))
        .send(&low(Language::En))
        .await;
    let reason = assert_fatal(result, "535");
    assert!(reason.contains("authentication failed (535)"), "{reason}");
    let t = transcript.await.expect("session");
    let auth = t
        .commands
        .iter()
        .find(|c| c.starts_with("AUTH"))
        .expect("the channel logged in");
    let echoed = auth.rsplit(' ').next().unwrap_or_default();
    assert!(echoed.len() > 10, "{auth}");
    assert!(!reason.contains(echoed), "{reason}");
    assert!(!reason.contains(SMTP_PASSWORD), "{reason}");
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
        if let ChannelOptions::Email(Some(smtp)) = &mut cfg.options {
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
    if let ChannelOptions::Email(Some(smtp)) = &mut bad.options {
        smtp.from = "not an address".into();
    }
    assert_fatal(channel(&bad).send(&low(Language::En)).await, "smtp.from");
}
