//! What a message says, independent of where it goes: a title, labelled lines and the
//! structured facts of each alert it carries, in Chinese or English. Channels only wrap this
//! into their payloads (card, markdown, HTML, JSON).

use balance_alert_core::config::delivery::Language;
use balance_alert_model::{AlertKind, AlertRecord, AlertState, Decimal};
use serde::Serialize;

mod text;

use text::t;
pub use text::{alert_lines, amount, kind_label, state_label};

/// How urgent a message is: routes match on it, quiet hours let `critical` through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Below the critical threshold.
    Critical,
    /// Low balance, failing checks, renewals, forecasts, billing mails.
    Warning,
    /// Recoveries, digests, tests.
    Info,
}

impl Severity {
    /// The lowercase name (routes, JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// The severity of an alert record.
    pub fn of(alert: &AlertRecord) -> Severity {
        match (alert.kind, alert.state) {
            (AlertKind::Recovered, _) => Severity::Info,
            (AlertKind::Critical, _) | (AlertKind::Reminder, AlertState::Critical) => {
                Severity::Critical
            }
            _ => Severity::Warning,
        }
    }
}

/// The colour a card or embed carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    /// Low or critical balance.
    Red,
    /// Renewals, forecasts, billing mails.
    Orange,
    /// Recovered.
    Green,
    /// Failing checks (the figure is unknown), tests.
    Grey,
    /// Digests.
    Blue,
}

impl Tone {
    /// The tone of an alert record.
    pub fn of(alert: &AlertRecord) -> Tone {
        match alert.kind {
            AlertKind::Recovered => Tone::Green,
            AlertKind::Failing => Tone::Grey,
            AlertKind::Reminder if alert.state == AlertState::Failing => Tone::Grey,
            AlertKind::Renewal | AlertKind::Forecast | AlertKind::Email => Tone::Orange,
            _ => Tone::Red,
        }
    }

    /// `#rrggbb`.
    pub fn hex(self) -> &'static str {
        match self {
            Tone::Red => "#d93025",
            Tone::Orange => "#f29900",
            Tone::Green => "#1e8e3e",
            Tone::Grey => "#80868b",
            Tone::Blue => "#1a73e8",
        }
    }
}

/// What the message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// One alert.
    Alert,
    /// Several alerts folded into one (quiet hours ended, storm guard).
    Summary,
    /// The daily digest.
    Digest,
    /// `balance-alert alerts test`.
    Test,
}

/// The structured facts of one alert: the generic webhook's JSON body, field for field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertFacts {
    /// The alert record's id.
    pub id: String,
    /// Always `alert`.
    #[serde(rename = "type")]
    pub kind_of_payload: &'static str,
    pub severity: Severity,
    pub project: String,
    pub owner_project: Option<String>,
    pub provider: String,
    /// `low`, `critical`, `failing`, `recovered`, `reminder`, `renewal`, `forecast`, `email`.
    pub kind: AlertKind,
    /// The balance (or renewal amount) when known.
    #[serde(with = "rust_decimal::serde::float_option")]
    pub value: Option<Decimal>,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::float")]
    pub threshold: Decimal,
    pub state: AlertState,
    /// The one-line summary stored with the alert.
    pub message: String,
    /// Unix seconds the alert was raised.
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// What kind of figure `value` is (`prepaid_balance`, `budget_spend`, `quota_window`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figure: Option<balance_alert_core::model::BalanceKind>,
}

impl AlertFacts {
    /// The facts of a stored alert, its one-line text in `lang`.
    pub fn of(alert: &AlertRecord, lang: Language) -> AlertFacts {
        AlertFacts {
            id: alert.id.clone(),
            kind_of_payload: "alert",
            severity: Severity::of(alert),
            project: alert.project_name.clone(),
            owner_project: alert.details.owner_project.clone(),
            provider: alert.provider.clone(),
            kind: alert.kind,
            value: alert.balance,
            currency: alert.currency.clone(),
            threshold: alert.threshold,
            state: alert.state,
            message: balance_alert_core::model::text::alert_text(alert, lang),
            timestamp: alert.created_at,
            days_left: alert.details.days_left,
            due_date: alert.details.due_date.clone(),
            figure: alert.details.figure,
        }
    }
}

/// One line of a message body: an optional label and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub label: Option<String>,
    pub text: String,
}

/// A message ready for any channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Idempotency key: `<alert id>:<channel>` for one alert, a summary's own key otherwise.
    /// Receivers that de-duplicate get it as `Idempotency-Key` / the payload's `id`.
    pub key: String,
    pub kind: MessageKind,
    pub severity: Severity,
    pub tone: Tone,
    pub language: Language,
    /// Sender label (`source` of the channel).
    pub source: String,
    pub title: String,
    pub lines: Vec<Line>,
    /// The alerts carried (one for [`MessageKind::Alert`], several for a summary).
    pub alerts: Vec<AlertFacts>,
    /// Unix seconds the message was built.
    pub timestamp: i64,
}
impl Message {
    /// The message for one alert sent to one channel.
    pub fn for_alert(
        alert: &AlertRecord,
        channel: &str,
        source: &str,
        lang: Language,
        tz: &balance_alert_core::config::TimeZone,
    ) -> Message {
        let title = format!(
            "{} · {}",
            kind_label(alert.kind, alert.state, lang),
            alert.project_name
        );
        Message {
            key: format!("{}:{}", alert.id, channel),
            kind: MessageKind::Alert,
            severity: Severity::of(alert),
            tone: Tone::of(alert),
            language: lang,
            source: source.to_owned(),
            title,
            lines: alert_lines(alert, lang, tz),
            alerts: vec![AlertFacts::of(alert, lang)],
            timestamp: alert.created_at,
        }
    }

    /// One message folding several alerts (quiet hours ended, storm guard).
    pub fn summary(
        alerts: &[AlertRecord],
        key: String,
        source: &str,
        lang: Language,
        now: i64,
    ) -> Message {
        let severity = if alerts.iter().any(|a| Severity::of(a) == Severity::Critical) {
            Severity::Critical
        } else if alerts.iter().all(|a| Severity::of(a) == Severity::Info) {
            Severity::Info
        } else {
            Severity::Warning
        };
        let title = match lang {
            Language::Zh => format!("余额告警汇总（{} 条）", alerts.len()),
            Language::En => format!("Balance alert summary ({} alerts)", alerts.len()),
        };
        let lines = alerts
            .iter()
            .map(|a| Line {
                label: Some(kind_label(a.kind, a.state, lang).to_owned()),
                text: match a.balance {
                    Some(v) if a.kind != AlertKind::Renewal => {
                        format!("{} — {}", a.project_name, amount(v, &a.currency))
                    }
                    _ => balance_alert_core::model::text::alert_text(a, lang),
                },
            })
            .collect();
        Message {
            key,
            kind: MessageKind::Summary,
            severity,
            tone: if severity == Severity::Info {
                Tone::Green
            } else {
                Tone::Red
            },
            language: lang,
            source: source.to_owned(),
            title,
            lines,
            alerts: alerts.iter().map(|a| AlertFacts::of(a, lang)).collect(),
            timestamp: now,
        }
    }

    /// `balance-alert alerts test --channel NAME`.
    pub fn test(channel: &str, source: &str, lang: Language, now: i64) -> Message {
        Message {
            key: format!("test:{channel}:{now}"),
            kind: MessageKind::Test,
            severity: Severity::Info,
            tone: Tone::Grey,
            language: lang,
            source: source.to_owned(),
            title: t(lang, "Balance Alert 测试消息", "Balance Alert test message").to_owned(),
            lines: vec![Line {
                label: None,
                text: match lang {
                    Language::Zh => format!("渠道 {channel} 配置正确，告警将发送到这里。"),
                    Language::En => {
                        format!("Channel {channel} works: alerts will arrive here.")
                    }
                },
            }],
            alerts: Vec::new(),
            timestamp: now,
        }
    }

    /// The body as plain text, one line per [`Line`].
    pub fn plain_body(&self) -> String {
        self.lines
            .iter()
            .map(|l| match &l.label {
                Some(label) => format!("{label}: {}", l.text),
                None => l.text.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Title and body as plain text.
    pub fn plain(&self) -> String {
        format!("{}\n{}", self.title, self.plain_body())
    }

    /// The body as Markdown (`**label**: text`); text is escaped so a project name cannot
    /// inject formatting or links.
    pub fn markdown_body(&self) -> String {
        self.lines
            .iter()
            .map(|l| match &l.label {
                Some(label) => format!(
                    "**{}**: {}",
                    escape_markdown(label),
                    escape_markdown(&l.text)
                ),
                None => escape_markdown(&l.text),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The body as HTML (`<b>label</b>: text<br>`), escaped.
    pub fn html_body(&self) -> String {
        self.lines
            .iter()
            .map(|l| match &l.label {
                Some(label) => format!("<b>{}</b>: {}", escape_html(label), escape_html(&l.text)),
                None => escape_html(&l.text),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Escapes `& < > "` for HTML bodies.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes Markdown's active characters and drops control characters.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use balance_alert_model::{AlertDetails, AlertStatus};

    pub(crate) fn low_alert() -> AlertRecord {
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

    #[test]
    fn a_budget_or_window_is_labelled_as_such_with_its_note() {
        let tz = balance_alert_core::config::TimeZone::parse("UTC").expect("utc");
        let mut a = low_alert();
        a.details.figure = Some(balance_alert_core::model::BalanceKind::BudgetSpend);
        a.details.note = Some("spent 94.88 of 100 USD budget this month".into());
        let en = Message::for_alert(&a, "ops", "balance-alert", Language::En, &tz).plain();
        assert!(en.contains("Budget left: 5.12 USD"), "{en}");
        assert!(
            en.contains("Note: spent 94.88 of 100 USD budget this month"),
            "{en}"
        );
        a.details.figure = Some(balance_alert_core::model::BalanceKind::QuotaWindow);
        let zh = Message::for_alert(&a, "ops", "balance-alert", Language::Zh, &tz).plain();
        assert!(zh.contains("窗口剩余"), "{zh}");
        assert_eq!(AlertFacts::of(&a, Language::En).figure, a.details.figure);
    }

    #[test]
    fn an_alert_message_names_project_owner_value_threshold_and_state_in_both_languages() {
        let tz = balance_alert_core::config::TimeZone::parse("UTC").expect("utc");
        let zh = Message::for_alert(&low_alert(), "ops", "balance-alert", Language::Zh, &tz);
        let body = zh.plain();
        for want in [
            "余额不足",
            "Main",
            "Team A",
            "openrouter",
            "5.12 USD",
            "10.00 USD",
        ] {
            assert!(body.contains(want), "{want} in {body}");
        }
        assert_eq!(zh.key, "p1-100-2:ops");
        let en = Message::for_alert(&low_alert(), "ops", "balance-alert", Language::En, &tz);
        assert!(en.plain().contains("Low balance"), "{}", en.plain());
        assert_eq!(en.severity, Severity::Warning);
        assert_eq!(en.tone, Tone::Red);
    }

    #[test]
    fn markdown_and_html_escape_what_a_project_name_could_inject() {
        let mut a = low_alert();
        a.project_name = "[x](http://evil) <script>\u{1b}[31m".into();
        let tz = balance_alert_core::config::TimeZone::parse("UTC").expect("utc");
        let m = Message::for_alert(&a, "c", "s", Language::En, &tz);
        assert!(
            !m.markdown_body().contains("[x](http"),
            "{}",
            m.markdown_body()
        );
        assert!(!m.html_body().contains("<script>"));
        assert!(!m.html_body().contains('\u{1b}'));
    }
}
