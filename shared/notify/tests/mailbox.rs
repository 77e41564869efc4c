//! The mailbox scan against a real Dovecot started by each test: which mails alert, what is
//! extracted from them, that ids are stable, that nothing is marked read, and that a broken
//! login, an untrusted certificate or a closed port become one FAILING record without the
//! password.

mod dovecot;

use std::collections::BTreeMap;

use balance_alert_core::config::{EmailAccount, Secret};
use balance_alert_model::{AlertKind, AlertRecord, AlertState};
use balance_alert_notify::mailbox::{scan_account, MailSettings};
use chrono::{DateTime, Utc};
use dovecot::{Dovecot, PASSWORD, USER};
use futures::TryStreamExt;
use rust_decimal_macros::dec;

fn account(server: &Dovecot, password: &str) -> EmailAccount {
    EmailAccount {
        name: "billing inbox".into(),
        host: "127.0.0.1".into(),
        port: server.imaps_port,
        username: USER.into(),
        password: Secret::new(password),
        use_ssl: true,
        enabled: true,
        ca_file: Some(server.ca_file().display().to_string()),
    }
}

/// An IMAP INTERNALDATE / RFC 5322 date `hours` before `now`.
fn dates(now: i64, hours: i64) -> (String, String) {
    let t = DateTime::<Utc>::from_timestamp(now - hours * 3600, 0).expect("a valid time");
    (
        format!("\"{}\"", t.format("%d-%b-%Y %H:%M:%S +0000")),
        t.to_rfc2822(),
    )
}

/// The Chinese overdue notice: RFC 2047 base64 subject and sender, a base64 text part and a
/// quoted-printable HTML part whose amount is split by tags.
fn aliyun_mail(date: &str) -> String {
    format!(
        "From: =?utf-8?b?6Zi/6YeM5LqR?= <no-reply@aliyun.com>\r\n\
         To: alice@example.com\r\n\
         Subject: =?utf-8?b?44CQ6Zi/6YeM5LqR44CR5oKo55qE6LSm5oi35bey5qyg6LS5?=\r\n\
         Date: {date}\r\n\
         Message-ID: <overdue-1@aliyun.com>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
         \r\n\
         --b1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         6K+35Y+K5pe25YWF5YC8\r\n\
         --b1\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         <html><body><p>=E6=82=A8=E7=9A=84=E4=BD=99=E9=A2=9D=EF=BC=9A<b>12.50</b>=E5=85=\r\n\
         =83</p></body></html>\r\n\
         --b1--\r\n"
    )
}

fn plain_mail(from: &str, subject: &str, message_id: &str, date: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: alice@example.com\r\nSubject: {subject}\r\nDate: {date}\r\n\
         Message-ID: <{message_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

/// Appends the fixture mails; returns `now`.
async fn seed(server: &Dovecot) -> i64 {
    let now = Utc::now().timestamp();
    let mut s = server.session().await;
    // (hours ago, already read, mail), appended oldest first as a mailbox receives them
    let mails: [(i64, bool, String); 7] = [
        (
            240,
            false,
            plain_mail(
                "DeepSeek <billing@deepseek.com>",
                "[DeepSeek] Payment failed",
                "old-2@deepseek.com",
                &dates(now, 240).1,
                "USD 0",
            ),
        ),
        // Inside SEARCH SINCE's day of slack but outside the one-day window.
        (
            36,
            false,
            plain_mail(
                "DeepSeek <billing@deepseek.com>",
                "[DeepSeek] Low balance",
                "old-1@deepseek.com",
                &dates(now, 36).1,
                "余额：1.00元",
            ),
        ),
        // A notice delivered twice (same Message-ID): here and as the newest mail.
        (
            5,
            false,
            plain_mail(
                "=?utf-8?b?54Gr5bGx5byV5pOO?= <service@volcengine.com>",
                "=?utf-8?b?44CQ54Gr5bGx5byV5pOO44CR57ut6LS55o+Q6YaS?=",
                "renew-1@volcengine.com",
                &dates(now, 5).1,
                "您的实例即将到期",
            ),
        ),
        (
            4,
            false,
            plain_mail(
                "Product News <news@example.com>",
                "Weekly newsletter: new models",
                "news-1@example.com",
                &dates(now, 4).1,
                "Try our new models today, 20% off $10 credit packs.",
            ),
        ),
        (
            3,
            true,
            plain_mail(
                "\"OpenRouter Billing\" <billing@openrouter.ai>",
                "Your balance is low",
                "low-1@openrouter.ai",
                &dates(now, 3).1,
                "Your balance is $3.20. Add credits to keep your keys working.",
            ),
        ),
        (2, false, aliyun_mail(&dates(now, 2).1)),
        (
            1,
            true,
            plain_mail(
                "=?utf-8?b?54Gr5bGx5byV5pOO?= <service@volcengine.com>",
                "=?utf-8?b?44CQ54Gr5bGx5byV5pOO44CR57ut6LS55o+Q6YaS?=",
                "renew-1@volcengine.com",
                &dates(now, 1).1,
                "您的实例即将到期",
            ),
        ),
    ];
    for (hours, seen, mail) in mails {
        let (internal, _) = dates(now, hours);
        let flags = seen.then_some("(\\Seen)");
        s.append("INBOX", flags, Some(&internal), mail)
            .await
            .expect("dovecot accepts the mail");
    }
    s.logout().await.expect("logout");
    now
}

/// Message number → flags, as the server has them.
async fn flags(server: &Dovecot) -> BTreeMap<u32, Vec<String>> {
    let mut s = server.session().await;
    s.examine("INBOX").await.expect("INBOX exists");
    let fetched: Vec<_> = s
        .fetch("1:*", "FLAGS")
        .await
        .expect("FETCH FLAGS")
        .try_collect()
        .await
        .expect("flags read");
    let out = fetched
        .iter()
        .map(|f| {
            let mut names: Vec<String> = f.flags().map(|x| format!("{x:?}")).collect();
            names.sort();
            (f.message, names)
        })
        .collect();
    s.logout().await.expect("logout");
    out
}

fn by_service(records: &[AlertRecord]) -> BTreeMap<&str, &AlertRecord> {
    records
        .iter()
        .map(|r| (r.project_name.as_str(), r))
        .collect()
}

#[tokio::test]
async fn matching_recent_mails_alert_once_each_and_nothing_is_marked_read() {
    // GIVEN a mailbox with two matching recent mails, a newsletter, two old matches and one
    // notice delivered twice
    let server = Dovecot::start();
    let now = seed(&server).await;
    let before = flags(&server).await;
    let settings = MailSettings::default();

    // WHEN it is scanned twice
    let first = scan_account(&account(&server, PASSWORD), &settings, now).await;
    let second = scan_account(&account(&server, PASSWORD), &settings, now).await;

    // THEN exactly the three recent notices alert, with service and amount
    let found = by_service(&first);
    assert_eq!(
        found.keys().copied().collect::<Vec<_>>(),
        vec!["OpenRouter Billing", "火山引擎", "阿里云"],
        "{first:#?}"
    );
    assert_eq!(first.len(), 3, "one record per Message-ID: {first:#?}");
    let aliyun = found["阿里云"];
    assert_eq!(aliyun.balance, Some(dec!(12.50)));
    assert_eq!(aliyun.currency, "CNY");
    assert_eq!(aliyun.message, "【阿里云】您的账户已欠费");
    assert_eq!(
        aliyun.details.source.as_deref(),
        Some("阿里云 <no-reply@aliyun.com> — 【阿里云】您的账户已欠费")
    );
    let openrouter = found["OpenRouter Billing"];
    assert_eq!(openrouter.balance, Some(dec!(3.20)));
    assert_eq!(openrouter.currency, "USD");
    assert_eq!(found["火山引擎"].balance, None);
    for r in &first {
        assert_eq!((r.kind, r.state), (AlertKind::Email, AlertState::Low));
        assert_eq!(r.provider, "email");
        assert!(r.id.starts_with("mail-"), "{}", r.id);
        assert_eq!(r.created_at, now);
    }
    // … the same records, ids included, on the second scan
    assert_eq!(first, second);
    // … and no flag changed
    assert_eq!(flags(&server).await, before);
    assert!(
        before.values().any(|f| !f.iter().any(|x| x == "Seen")),
        "some mails were unread to begin with: {before:?}"
    );
}

#[tokio::test]
async fn the_newest_mails_are_read_first_up_to_the_cap() {
    let server = Dovecot::start();
    let now = seed(&server).await;
    let settings = MailSettings {
        max_emails: 2,
        ..MailSettings::default()
    };
    let records = scan_account(&account(&server, PASSWORD), &settings, now).await;
    // The two newest arrivals: the second volcengine copy (1 h) and aliyun (2 h).
    let names: Vec<_> = records.iter().map(|r| r.project_name.as_str()).collect();
    assert_eq!(names, vec!["火山引擎", "阿里云"]);
}

#[tokio::test]
async fn starttls_on_the_plain_port_finds_the_same_mails() {
    let server = Dovecot::start();
    let now = seed(&server).await;
    let settings = MailSettings::default();
    let tls = scan_account(&account(&server, PASSWORD), &settings, now).await;
    let plain_port = EmailAccount {
        port: server.imap_port,
        use_ssl: false,
        ..account(&server, PASSWORD)
    };
    assert_eq!(scan_account(&plain_port, &settings, now).await, tls);
}

fn assert_one_failure(records: &[AlertRecord], password: &str, expect: &str) {
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!((r.kind, r.state), (AlertKind::Email, AlertState::Failing));
    assert!(r.id.starts_with("mail-login-"), "{}", r.id);
    assert!(r.message.contains(expect), "{}", r.message);
    let everything = format!(
        "{r:?}{}",
        serde_json::to_string(r).expect("records serialise")
    );
    assert!(!everything.contains(password), "{everything}");
}

#[tokio::test]
async fn a_wrong_password_is_one_failing_record_without_the_password() {
    let server = Dovecot::start();
    let now = Utc::now().timestamp();
    let wrong = "Wr0ng-Pa55word-Never-Shown";
    let first = scan_account(&account(&server, wrong), &MailSettings::default(), now).await;
    assert_one_failure(&first, wrong, "login refused");
    // One alert per broken mailbox per day (a retry here would wait out Dovecot's auth penalty;
    // the unit test `a_failure_alerts_once_per_day_and_never_shows_the_password` covers that).
    let day = DateTime::<Utc>::from_timestamp(now, 0)
        .expect("now is a valid time")
        .format("%Y-%m-%d")
        .to_string();
    assert!(first[0].id.ends_with(&day), "{}", first[0].id);
}

#[tokio::test]
async fn an_untrusted_certificate_fails_instead_of_being_accepted() {
    let server = Dovecot::start();
    let no_ca = EmailAccount {
        ca_file: None,
        ..account(&server, PASSWORD)
    };
    let records = scan_account(&no_ca, &MailSettings::default(), 0).await;
    assert_one_failure(&records, PASSWORD, "TLS");
}

#[tokio::test]
async fn a_closed_port_is_one_failing_record() {
    let server = Dovecot::start();
    let mut closed = account(&server, PASSWORD);
    closed.port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        l.local_addr().expect("bound").port()
    };
    let records = scan_account(&closed, &MailSettings::default(), 0).await;
    assert_one_failure(&records, PASSWORD, "cannot connect");
}

#[tokio::test]
async fn billing_mails_become_alerts_once_ever_and_reach_the_channels() {
    use balance_alert_core::store::Store;
    use std::sync::Arc;
    // GIVEN the seeded mailbox, a store and a receiver
    let server = Dovecot::start();
    let now = seed(&server).await;
    let fake = fake_providers::FakeServer::start(std::time::Duration::ZERO)
        .await
        .expect("receiver");
    let doc = serde_json::json!({
        "settings": {"language": "en"},
        "channels": [{"name": "ops", "type": "webhook", "url": fake.hook_url("ops")}],
        "email": [{"name": "billing inbox", "host": "127.0.0.1", "port": server.imaps_port,
                   "username": USER, "password": PASSWORD, "use_ssl": true,
                   "ca_file": server.ca_file().display().to_string()}],
        "projects": [],
    });
    let config = balance_alert_core::config::parse(
        &doc.to_string(),
        &std::collections::HashMap::<String, String>::new(),
    )
    .expect("config")
    .config;
    let store: Arc<dyn Store> =
        Arc::new(balance_alert_store_sqlite::SqliteStore::in_memory().expect("store"));
    let notifier =
        balance_alert_notify::Notifier::new(store.clone(), std::time::Duration::from_secs(5));
    // WHEN it is scanned twice and the outbox drained
    assert_eq!(notifier.scan_mail(&config, now).await.expect("scan"), 3);
    assert_eq!(
        notifier.scan_mail(&config, now).await.expect("rescan"),
        0,
        "once per mail, ever"
    );
    let report = notifier.deliverer.pass(&config, now).await.expect("pass");
    // THEN the three notices arrive (one pass holds three under the storm threshold)
    assert_eq!(report.sent, 3, "{report:?}");
    let got: Vec<serde_json::Value> = fake.received("ops").iter().map(|r| r.json()).collect();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|b| b["kind"] == "email"), "{got:?}");
    assert!(
        got.iter()
            .any(|b| b["project"] == "阿里云" && b["value"] == 12.5),
        "{got:?}"
    );
}
