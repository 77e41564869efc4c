//! The mailbox scan (the Python tool's email scanner): reads each `email[]` account over IMAP,
//! read-only, and turns billing mails (overdue, low balance, expiring) into alert records.
//!
//! Ids are deterministic so the caller can insert with insert-if-absent: one alert per
//! `Message-ID` ever, and one alert per broken mailbox per day.
//!
//! Logging note: async-imap writes every command, LOGIN included, at `trace` level to the `log`
//! target `async_imap`; a subscriber that enables `trace` for it would record the password.
//! Keep `async_imap` below `trace` in any filter (this module itself never logs a secret).

mod extract;
mod imap;
mod settings;

use balance_alert_core::config::EmailAccount;
use balance_alert_core::scrub::Scrubber;
use balance_alert_model::{
    project_id, AlertDetails, AlertKind, AlertRecord, AlertState, AlertStatus, Decimal,
};
use chrono::DateTime;
use tracing::{info, warn};

pub use extract::{amount, matched_keywords, one_line, service_name, strip_html, ParsedMail};
pub use imap::ScanError;
pub use settings::{MailSettings, DEFAULT_KEYWORDS};

/// The `provider` of every mailbox alert.
pub const PROVIDER: &str = "email";

/// Scans one account: an alert record per matching mail, or one FAILING record when the mailbox
/// cannot be read (login refused, unreachable, timeout). Disabled accounts yield nothing.
pub async fn scan_account(
    account: &EmailAccount,
    settings: &MailSettings,
    now: i64,
) -> Vec<AlertRecord> {
    scan_account_counted(account, settings, now).await.records
}

/// One account's scan: its records, how many mails were read, whether the mailbox could be.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub records: Vec<AlertRecord>,
    pub read: usize,
    pub ok: bool,
}

/// [`scan_account`] with the counts the metrics report.
pub async fn scan_account_counted(
    account: &EmailAccount,
    settings: &MailSettings,
    now: i64,
) -> Scan {
    match try_scan(account, settings, now).await {
        Ok((records, read)) => Scan {
            records,
            read,
            ok: true,
        },
        Err(e) => Scan {
            records: vec![failure_record(account, &e, now)],
            read: 0,
            ok: false,
        },
    }
}

/// Like [`scan_account`], with the failure as an error instead of a record.
pub async fn try_scan_account(
    account: &EmailAccount,
    settings: &MailSettings,
    now: i64,
) -> Result<Vec<AlertRecord>, ScanError> {
    try_scan(account, settings, now)
        .await
        .map(|(records, _)| records)
}

/// The records and the number of mails read.
#[tracing::instrument(skip_all, fields(account = %account.name, host = %account.host))]
async fn try_scan(
    account: &EmailAccount,
    settings: &MailSettings,
    now: i64,
) -> Result<(Vec<AlertRecord>, usize), ScanError> {
    if !account.enabled {
        return Ok((Vec::new(), 0));
    }
    let mails = imap::fetch_recent(account, settings, now)
        .await
        .inspect_err(|e| warn!(error = %scrub(&e.to_string(), account), "mailbox scan failed"))?;
    let window_start = now - i64::from(settings.days) * 86_400;
    let mut records: Vec<AlertRecord> = Vec::new();
    for mail in &mails {
        let Some(parsed) = ParsedMail::parse(&mail.raw) else {
            continue;
        };
        // SEARCH SINCE is day-granular: the exact window is applied here.
        if mail
            .received_at
            .or(parsed.date)
            .is_some_and(|t| t < window_start)
        {
            continue;
        }
        if let Some(record) = mail_record(account, settings, &parsed, now) {
            // Copies of one mail (same Message-ID) alert once; the newest copy wins.
            if !records.iter().any(|r| r.id == record.id) {
                records.push(record);
            }
        }
    }
    info!(
        read = mails.len(),
        alerts = records.len(),
        "mailbox scanned"
    );
    Ok((records, mails.len()))
}

/// The alert for one mail, if it matches a keyword. Pure: no I/O.
pub fn mail_record(
    account: &EmailAccount,
    settings: &MailSettings,
    mail: &ParsedMail,
    now: i64,
) -> Option<AlertRecord> {
    let matched = matched_keywords(&settings.keywords, &mail.subject, &mail.body);
    if matched.is_empty() {
        return None;
    }
    let service = service_name(
        &mail.subject,
        mail.from_name.as_deref(),
        mail.from_addr.as_deref(),
    );
    let found = amount(&format!("{}\n{}", mail.subject, mail.body));
    let subject = if mail.subject.is_empty() {
        format!("({})", matched.join(", "))
    } else {
        mail.subject.clone()
    };
    Some(AlertRecord {
        id: mail.alert_id(),
        project_id: account_id(account),
        project_name: service,
        provider: PROVIDER.to_owned(),
        kind: AlertKind::Email,
        state: AlertState::Low,
        balance: found.map(|(a, _)| a),
        threshold: Decimal::ZERO,
        currency: found.map(|(_, c)| c).unwrap_or_default().to_owned(),
        message: subject.clone(),
        status: AlertStatus::Pending,
        created_at: now,
        details: AlertDetails {
            source: Some(one_line(&format!("{} — {subject}", mail.from))),
            ..Default::default()
        },
        deliveries: Vec::new(),
    })
}

/// The FAILING record for a mailbox that could not be read; its id is per account per UTC day,
/// so a broken mailbox alerts once a day, not on every scan. Never contains the password.
pub fn failure_record(account: &EmailAccount, error: &ScanError, now: i64) -> AlertRecord {
    let id = account_id(account);
    let day = DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d");
    let reason = scrub(&error.to_string(), account);
    AlertRecord {
        id: format!("mail-login-{id}-{day}"),
        project_id: id,
        project_name: account.name.clone(),
        provider: PROVIDER.to_owned(),
        kind: AlertKind::Email,
        state: AlertState::Failing,
        balance: None,
        threshold: Decimal::ZERO,
        currency: String::new(),
        message: one_line(&format!(
            "mailbox {} cannot be read: {reason}",
            account.name
        )),
        status: AlertStatus::Pending,
        created_at: now,
        details: AlertDetails {
            source: Some(one_line(&format!(
                "{}@{}:{}",
                account.username, account.host, account.port
            ))),
            ..Default::default()
        },
        deliveries: Vec::new(),
    }
}

/// The stable project id of an account's alerts.
pub fn account_id(account: &EmailAccount) -> String {
    project_id(PROVIDER, &account.name)
}

/// `text` with the account's password masked in every encoding, should a
/// server ever echo it.
fn scrub(text: &str, account: &EmailAccount) -> String {
    Scrubber::new([account.password.expose()]).scrub(text)
}

#[cfg(test)]
mod tests {
    use balance_alert_core::config::Secret;
    use base64::Engine as _;
    use rust_decimal_macros::dec;

    use super::*;

    fn account() -> EmailAccount {
        EmailAccount {
            name: "billing".into(),
            host: "imap.example.com".into(),
            port: 993,
            username: "alice".into(),
            password: Secret::new("hunter2"),
            use_ssl: true,
            enabled: true,
            ca_file: None,
        }
    }

    fn parsed(raw: &str) -> ParsedMail {
        ParsedMail::parse(raw.as_bytes()).expect("test mail parses")
    }

    #[test]
    fn a_matching_mail_becomes_a_low_email_alert() {
        let mail = parsed(
            "From: Aliyun <no-reply@aliyun.com>\r\nMessage-ID: <1@x>\r\n\
             Subject: =?utf-8?b?44CQ6Zi/6YeM5LqR44CR5qyg6LS56YCa55+l?=\r\n\r\n余额：12.50元\r\n",
        );
        let r = mail_record(&account(), &MailSettings::default(), &mail, 7)
            .expect("the mail matches 欠费");
        assert_eq!(r.kind, AlertKind::Email);
        assert_eq!(r.state, AlertState::Low);
        assert_eq!(r.project_name, "阿里云");
        assert_eq!(r.balance, Some(dec!(12.50)));
        assert_eq!(r.currency, "CNY");
        assert_eq!(r.message, "【阿里云】欠费通知");
        assert_eq!(
            r.details.source.as_deref(),
            Some("Aliyun <no-reply@aliyun.com> — 【阿里云】欠费通知")
        );
        assert_eq!(r.project_id, account_id(&account()));
        assert_eq!(r.created_at, 7);
    }

    #[test]
    fn a_mail_without_keywords_is_no_alert() {
        let mail = parsed("Subject: Our weekly newsletter\r\n\r\nNew features $5 off\r\n");
        assert!(mail_record(&account(), &MailSettings::default(), &mail, 0).is_none());
    }

    #[test]
    fn a_failure_alerts_once_per_day_and_never_shows_the_password() {
        let plain = base64::engine::general_purpose::STANDARD.encode("\0alice\0hunter2");
        let e = ScanError::Login(format!("[AUTHENTICATIONFAILED] bad password {plain}"));
        let a = failure_record(&account(), &e, 1_795_694_400);
        let b = failure_record(&account(), &e, 1_795_694_400 + 3600);
        assert_eq!(a.id, b.id);
        assert!(a.id.ends_with("-2026-11-26"), "{}", a.id);
        assert_eq!(a.state, AlertState::Failing);
        let text = format!("{} {:?}", a.message, a.details);
        assert!(
            !text.contains("hunter2") && !text.contains(&plain),
            "{text}"
        );
        assert!(a.message.contains("login refused"), "{}", a.message);
    }
}
