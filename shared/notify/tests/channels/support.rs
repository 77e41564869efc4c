//! Fixtures and helpers shared by the channel tests.

pub use std::time::Duration;

pub use balance_alert_core::config::channels::{
    ChannelConfig, ChannelKind, ChannelOptions, SmtpSecurity, SmtpSettings,
};
pub use balance_alert_core::config::delivery::Language;
pub use balance_alert_core::config::{Secret, TimeZone};
pub use balance_alert_model::{
    AlertDetails, AlertKind, AlertRecord, AlertState, AlertStatus, Decimal,
};
pub use balance_alert_notify::channels::build;
pub use balance_alert_notify::{Channel, Message, SendError};
pub use base64::Engine as _;
pub use hmac::{Hmac, Mac};
pub use serde_json::json;
pub use sha2::Sha256;

pub use crate::util::receiver::Receiver;
pub use crate::util::smtp;

pub fn low_alert() -> AlertRecord {
    AlertRecord {
        id: "p1-100-2".into(),
        project_id: "p1".into(),
        project_name: "Main".into(),
        provider: "openrouter".into(),
        kind: AlertKind::Low,
        state: AlertState::Low,
        balance: Some(Decimal::new(512, 2)),
        threshold: Decimal::from(10),
        currency: "USD".into(),
        message: "Main: balance 5.12 USD is LOW (threshold 10.00)".into(),
        status: AlertStatus::Pending,
        created_at: 1_764_000_000,
        details: AlertDetails {
            owner_project: Some("Team A".into()),
            ..AlertDetails::default()
        },
        deliveries: Vec::new(),
    }
}

pub fn recovered_alert() -> AlertRecord {
    AlertRecord {
        id: "p1-200-3".into(),
        kind: AlertKind::Recovered,
        state: AlertState::Ok,
        balance: Some(Decimal::from(50)),
        message: "Main: balance 50.00 USD is OK again".into(),
        created_at: 1_764_003_600,
        ..low_alert()
    }
}

pub fn renewal_alert() -> AlertRecord {
    AlertRecord {
        id: "s1-300-1".into(),
        project_name: "Cursor Pro".into(),
        provider: String::new(),
        kind: AlertKind::Renewal,
        state: AlertState::Ok,
        balance: None,
        threshold: Decimal::from(20),
        message: "Cursor Pro renews on 2025-11-28".into(),
        details: AlertDetails {
            owner_project: Some("Team A".into()),
            days_left: Some(3),
            due_date: Some("2025-11-28".into()),
            ..AlertDetails::default()
        },
        ..low_alert()
    }
}

pub fn message_for(alert: &AlertRecord, lang: Language) -> Message {
    let tz = TimeZone::parse("UTC").expect("UTC is a zone");
    Message::for_alert(alert, "ops", "balance-alert", lang, &tz)
}

pub fn low(lang: Language) -> Message {
    message_for(&low_alert(), lang)
}

pub fn config(kind: ChannelKind, url: Option<String>) -> ChannelConfig {
    ChannelConfig {
        name: "ops".into(),
        options: ChannelOptions::with_url(kind, url.map(Secret::new)),
        quiet_hours: None,
        rate_per_minute: None,
        source: "balance-alert".into(),
        enabled: true,
    }
}

/// `cfg` with its signing secret set (a chat bot or the webhook).
pub fn with_secret(mut cfg: ChannelConfig, secret: &str) -> ChannelConfig {
    use ChannelOptions as O;
    let slot = match &mut cfg.options {
        O::Feishu(c)
        | O::Lark(c)
        | O::Dingtalk(c)
        | O::Wecom(c)
        | O::Slack(c)
        | O::Discord(c)
        | O::Custom(c) => &mut c.secret,
        O::Webhook(w) => &mut w.secret,
        other => panic!("{other:?} has no signing secret"),
    };
    *slot = Some(Secret::new(secret));
    cfg
}

/// A webhook `cfg` with its `format` set.
pub fn with_format(mut cfg: ChannelConfig, format: &str) -> ChannelConfig {
    let ChannelOptions::Webhook(w) = &mut cfg.options else {
        panic!("only a webhook has a format")
    };
    w.format = Some(format.into());
    cfg
}

pub fn channel(config: &ChannelConfig) -> Box<dyn Channel> {
    build(config, reqwest::Client::new())
}

pub fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[track_caller]
pub fn assert_fatal(result: Result<(), SendError>, contains: &str) -> String {
    match result {
        Err(SendError::Fatal { reason }) => {
            assert!(
                reason.contains(contains),
                "{reason:?} should mention {contains:?}"
            );
            reason
        }
        other => panic!("expected Fatal mentioning {contains:?}, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_retry(result: Result<(), SendError>, after: Option<Duration>) -> String {
    match result {
        Err(SendError::Retry { reason, after: a }) => {
            assert_eq!(a, after, "retry-after of {reason:?}");
            reason
        }
        other => panic!("expected Retry, got {other:?}"),
    }
}
