//! Where alerts go: `channels[]` (one entry per receiver), `routes[]` (which alerts go to which
//! channels) and the quiet hours either may carry. The Python tool's single `webhook` becomes a
//! channel named `webhook` (see [`Config::delivery_channels`](super::Config::delivery_channels)).

use chrono::NaiveTime;
use serde_json::{Map, Value};

use super::validate::{describe, Fields};
use super::{Problem, Secret, TimeZone, Webhook};

/// The receiver types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// Feishu custom bot (interactive card).
    Feishu,
    /// Lark (Feishu's international edition): the same payload.
    Lark,
    /// DingTalk custom robot (markdown).
    Dingtalk,
    /// WeCom (企业微信) group robot (markdown).
    Wecom,
    /// Slack incoming webhook (blocks + text).
    Slack,
    /// Discord webhook (embeds).
    Discord,
    /// Telegram bot `sendMessage`.
    Telegram,
    /// SMTP email.
    Email,
    /// Generic JSON webhook (or Alertmanager's payload with `format: "alertmanager"`).
    Webhook,
    /// The Python tool's `webhook.type = "custom"` payload (`{"Type":"AlarmNotification",…}`).
    Custom,
}

impl ChannelKind {
    /// Every type, as written in config.
    pub const ALL: &'static [(&'static str, ChannelKind)] = &[
        ("feishu", ChannelKind::Feishu),
        ("lark", ChannelKind::Lark),
        ("dingtalk", ChannelKind::Dingtalk),
        ("wecom", ChannelKind::Wecom),
        ("slack", ChannelKind::Slack),
        ("discord", ChannelKind::Discord),
        ("telegram", ChannelKind::Telegram),
        ("email", ChannelKind::Email),
        ("webhook", ChannelKind::Webhook),
        ("custom", ChannelKind::Custom),
    ];

    /// Parses a config `type` (case-insensitive; `weixin`/`wechat` mean WeCom, `generic` the
    /// JSON webhook).
    pub fn parse(s: &str) -> Option<Self> {
        let lower = s.trim().to_ascii_lowercase();
        let lower = match lower.as_str() {
            "weixin" | "wechat" | "wechat_work" | "qywx" => "wecom",
            "generic" | "json" => "webhook",
            other => other,
        };
        Self::ALL.iter().find(|(n, _)| *n == lower).map(|(_, k)| *k)
    }

    /// The name as written in config.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("webhook", |(n, _)| n)
    }

    /// Messages per minute the receiver accepts, when its documentation states a limit.
    pub fn documented_rate_per_minute(self) -> Option<u32> {
        match self {
            ChannelKind::Dingtalk | ChannelKind::Wecom => Some(20),
            ChannelKind::Feishu | ChannelKind::Lark => Some(100),
            ChannelKind::Telegram => Some(20),
            ChannelKind::Discord => Some(30),
            _ => None,
        }
    }
}

/// How SMTP connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on localhost or a test server.
    None,
}

/// SMTP settings of an `email` channel.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub security: SmtpSecurity,
    /// The sender address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
}

/// A daily window in which non-critical messages wait (and go out as one summary at its end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// The zone of `start`/`end`; default `settings.timezone`.
    pub timezone: Option<TimeZone>,
}

/// One receiver (`channels[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConfig {
    /// Unique name; routes refer to it.
    pub name: String,
    pub kind: ChannelKind,
    /// Webhook URL (every type but `email` and `telegram`; for `telegram`, an optional API
    /// base URL). Secret: chat webhooks carry their token in it.
    pub url: Option<Secret>,
    /// Signing secret (`feishu`, `lark`, `dingtalk`, `webhook`).
    pub secret: Option<Secret>,
    /// Bot token (`telegram`).
    pub token: Option<Secret>,
    /// Chat id (`telegram`).
    pub chat_id: Option<String>,
    /// `webhook` payload: `json` (default) or `alertmanager`.
    pub format: Option<String>,
    /// SMTP (`email`).
    pub smtp: Option<SmtpSettings>,
    pub quiet_hours: Option<QuietHours>,
    /// Messages per minute; beyond it messages queue (never dropped). Default: the receiver's
    /// documented limit, if any.
    pub rate_per_minute: Option<u32>,
    /// Sender label shown in messages (default `balance-alert`).
    pub source: String,
    pub enabled: bool,
}

impl ChannelConfig {
    /// The rate limit that applies: the configured one, else the documented one.
    pub fn effective_rate_per_minute(&self) -> Option<u32> {
        self.rate_per_minute
            .or_else(|| self.kind.documented_rate_per_minute())
    }
}

/// Which alerts a route matches: every given field must match (case-insensitive); `*` or a
/// missing field matches anything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteMatch {
    pub owner_project: Option<Vec<String>>,
    pub project: Option<Vec<String>>,
    pub provider: Option<Vec<String>>,
    /// `critical`, `warning`, `info` (recovered) — see the notifier's severity.
    pub severity: Option<Vec<String>>,
    /// Alert kinds: `low`, `critical`, `failing`, `recovered`, `reminder`, `renewal`,
    /// `forecast`, `email`.
    pub kind: Option<Vec<String>>,
}

/// A route's match as `field=value|value, …` (`every alert` when it has none), for messages
/// that name a route.
pub fn describe_match(m: &RouteMatch) -> String {
    let fields = [
        ("owner_project", &m.owner_project),
        ("project", &m.project),
        ("provider", &m.provider),
        ("severity", &m.severity),
        ("kind", &m.kind),
    ];
    let parts: Vec<String> = fields
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", v.join("|"))))
        .collect();
    if parts.is_empty() {
        "every alert".to_owned()
    } else {
        parts.join(", ")
    }
}

/// One entry of `routes[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub matcher: RouteMatch,
    /// Channel names.
    pub channels: Vec<String>,
    /// Keep looking at later routes after this one matched.
    pub continue_matching: bool,
    /// Quiet hours for the alerts this route sends (in addition to the channel's own).
    pub quiet_hours: Option<QuietHours>,
}

/// The language of messages (the model's, so the dashboard and the stored texts share it).
pub use balance_alert_model::text::Language;

/// `settings.digest`: a daily summary at a time of day, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Digest {
    #[default]
    Off,
    /// Daily at this local time (`settings.timezone`).
    Daily(NaiveTime),
}

impl Digest {
    /// Parses `off`, `daily` (09:00), `daily HH:MM`, `daily@HH:MM` or a bare `HH:MM`.
    pub fn parse(text: &str) -> Option<Digest> {
        let t = text.trim().to_ascii_lowercase();
        if t.is_empty() || t == "off" || t == "false" || t == "none" {
            return Some(Digest::Off);
        }
        let time = t
            .strip_prefix("daily")
            .map(|r| r.trim_start_matches(['@', ' ', ':']).trim())
            .unwrap_or(&t);
        if time.is_empty() {
            return NaiveTime::from_hms_opt(9, 0, 0).map(Digest::Daily);
        }
        parse_time(time).map(Digest::Daily)
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M:%S"))
        .ok()
}

fn strings(f: &mut Fields<'_>, key: &str) -> Option<Vec<String>> {
    let v = f.present(key)?;
    let list: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        other => {
            f.problem(
                key,
                format!(
                    "must be a string or a list of strings, got {}",
                    describe(other)
                ),
            );
            return None;
        }
    };
    Some(list)
}

fn quiet_hours(f: &mut Fields<'_>) -> Option<QuietHours> {
    let v = f.present("quiet_hours")?;
    let Value::Object(obj) = v else {
        f.problem(
            "quiet_hours",
            format!(
                "must be an object like {{\"start\": \"22:00\", \"end\": \"08:00\"}}, got {}",
                describe(v)
            ),
        );
        return None;
    };
    let path = format!("{}.quiet_hours", f.path);
    let mut q = Fields {
        obj,
        path,
        problems: f.problems,
    };
    let time = |q: &mut Fields<'_>, key: &str| {
        let s = q.string(key);
        match s.as_deref().map(parse_time) {
            Some(Some(t)) => Some(t),
            Some(None) => {
                q.problem(
                    key,
                    format!("must be a time like 22:00, got {:?}", s.unwrap_or_default()),
                );
                None
            }
            None => {
                q.problem(key, "is required: a time like 22:00".into());
                None
            }
        }
    };
    let start = time(&mut q, "start");
    let end = time(&mut q, "end");
    let timezone = match q.string("timezone") {
        None => None,
        Some(z) => match TimeZone::parse(&z) {
            Some(z) => Some(z),
            None => {
                q.problem(
                    "timezone",
                    format!("unknown time zone {z:?}; use an IANA name such as Asia/Shanghai"),
                );
                None
            }
        },
    };
    Some(QuietHours {
        start: start?,
        end: end?,
        timezone,
    })
}

fn http_url(f: &mut Fields<'_>, key: &str, required: bool) -> Option<Secret> {
    match f.string(key).filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                // The URL may carry a token: name the problem without echoing the value.
                f.problem(key, "must start with http:// or https://".into());
            }
            Some(Secret::new(url.trim()))
        }
        None if required => {
            f.problem(key, "is required: the receiver's webhook URL".into());
            None
        }
        None => None,
    }
}

fn secret(f: &mut Fields<'_>, key: &str) -> Option<Secret> {
    f.string(key)
        .filter(|s| !s.trim().is_empty())
        .map(Secret::new)
}

/// `localhost`, `*.localhost` or a loopback address (the only places a plaintext login stays on
/// this machine).
fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.to_ascii_lowercase().ends_with(".localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn smtp(f: &mut Fields<'_>) -> Option<SmtpSettings> {
    let host = f.required_string("smtp_host", "the SMTP server, e.g. smtp.gmail.com");
    let security = match f.string("smtp_security").map(|s| s.to_ascii_lowercase()) {
        None => None,
        Some(s) => match s.as_str() {
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" | "ssl" => Some(SmtpSecurity::Tls),
            "none" | "plain" => Some(SmtpSecurity::None),
            _ => {
                f.problem(
                    "smtp_security",
                    format!("must be starttls, tls or none, got {s:?}"),
                );
                None
            }
        },
    };
    let port = f.integer("smtp_port", 1, 65_535).map(|p| p as u16);
    let security = security.unwrap_or(match port {
        Some(465) => SmtpSecurity::Tls,
        _ => SmtpSecurity::StartTls,
    });
    let port = port.unwrap_or(match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::None => 25,
    });
    let username = f.string("smtp_user").filter(|s| !s.is_empty());
    let password = secret(f, "smtp_password");
    // A login over an unencrypted connection crosses the network readable by anyone on the
    // path: only to this machine, or when the config says so explicitly.
    let allow_plaintext = f.boolean("allow_plaintext").unwrap_or(false);
    if security == SmtpSecurity::None
        && (username.is_some() || password.is_some())
        && !is_loopback_host(&host)
    {
        if allow_plaintext {
            tracing::warn!(
                host = %host,
                "smtp_security none with allow_plaintext: the SMTP login goes to this host unencrypted"
            );
        } else {
            f.problem(
                "smtp_security",
                format!("none would send the SMTP login (smtp_user, smtp_password) unencrypted to {host:?}: use starttls or tls, or set \"allow_plaintext\": true if every network hop to it is trusted"),
            );
        }
    }
    let from = f
        .string("from")
        .filter(|s| !s.is_empty())
        .or_else(|| username.clone());
    let from = match from {
        Some(a) if a.contains('@') => a,
        Some(a) => {
            f.problem("from", format!("must be an email address, got {a:?}"));
            String::new()
        }
        None => {
            f.problem("from", "is required: the sender address".into());
            String::new()
        }
    };
    let to = strings(f, "to").unwrap_or_default();
    if to.is_empty() {
        f.problem("to", "is required: one recipient address or a list".into());
    }
    for a in &to {
        if !a.contains('@') {
            f.problem("to", format!("{a:?} is not an email address"));
        }
    }
    (!host.is_empty()).then_some(SmtpSettings {
        host,
        port,
        username,
        password,
        security,
        from,
        to,
    })
}

/// Parses one `channels[]` entry.
pub(super) fn channel(
    path: String,
    obj: &Map<String, Value>,
    problems: &mut Vec<Problem>,
) -> Option<ChannelConfig> {
    let mut f = Fields {
        obj,
        path,
        problems,
    };
    let name = f.required_string("name", "a unique name that routes can refer to");
    if name.chars().any(char::is_control) {
        f.problem(
            "name",
            "must not contain control characters (newlines, escapes): use letters, digits, - or _"
                .into(),
        );
    }
    let types: Vec<&str> = ChannelKind::ALL.iter().map(|(n, _)| *n).collect();
    let written = f.required_string("type", &format!("one of {}", types.join(", ")));
    let kind = ChannelKind::parse(&written);
    if kind.is_none() && !written.is_empty() {
        f.problem(
            "type",
            format!(
                "unknown channel type {written:?}; use one of {}",
                types.join(", ")
            ),
        );
    }
    let enabled = f.boolean("enabled").unwrap_or(true);
    let kind = kind?;
    let needs_url = !matches!(kind, ChannelKind::Email | ChannelKind::Telegram);
    let url = http_url(&mut f, "url", needs_url && enabled);
    let mut token = None;
    let mut chat_id = None;
    if kind == ChannelKind::Telegram {
        token = secret(&mut f, "token");
        chat_id = f.string("chat_id").filter(|s| !s.is_empty());
        if enabled && token.is_none() {
            f.problem("token", "is required: the bot token from @BotFather".into());
        }
        if enabled && chat_id.is_none() {
            f.problem("chat_id", "is required: the chat to post in".into());
        }
    }
    let format = f.string("format").map(|s| s.to_ascii_lowercase());
    if let Some(fmt) = &format {
        if kind == ChannelKind::Webhook && !matches!(fmt.as_str(), "json" | "alertmanager") {
            f.problem(
                "format",
                format!("must be json or alertmanager, got {fmt:?}"),
            );
        }
    }
    let smtp = if kind == ChannelKind::Email && enabled {
        smtp(&mut f)
    } else {
        None
    };
    Some(ChannelConfig {
        secret: secret(&mut f, "secret"),
        quiet_hours: quiet_hours(&mut f),
        rate_per_minute: f.integer("rate_per_minute", 1, 100_000).map(|n| n as u32),
        source: f
            .string("source")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "balance-alert".into()),
        name,
        kind,
        url,
        token,
        chat_id,
        format,
        smtp,
        enabled,
    })
}

/// Parses one `routes[]` entry; channel names are checked by the caller.
pub(super) fn route(
    path: String,
    obj: &Map<String, Value>,
    problems: &mut Vec<Problem>,
) -> Option<Route> {
    let mut f = Fields {
        obj,
        path,
        problems,
    };
    let before = f.problems.len();
    let source: &Map<String, Value> = match f.present("match") {
        Some(Value::Object(m)) => m,
        Some(other) => {
            f.problem(
                "match",
                format!("must be an object, got {}", describe(other)),
            );
            obj
        }
        None => obj,
    };
    let mut m = Fields {
        obj: source,
        path: if std::ptr::eq(source, obj) {
            f.path.clone()
        } else {
            format!("{}.match", f.path)
        },
        problems: f.problems,
    };
    let matcher = RouteMatch {
        owner_project: strings(&mut m, "owner_project"),
        project: strings(&mut m, "project"),
        provider: strings(&mut m, "provider"),
        severity: strings(&mut m, "severity"),
        kind: strings(&mut m, "kind"),
    };
    if let Some(sev) = &matcher.severity {
        for s in sev {
            if !matches!(
                s.to_ascii_lowercase().as_str(),
                "critical" | "warning" | "info" | "*"
            ) {
                m.problem(
                    "severity",
                    format!("{s:?} is not a severity; use critical, warning or info"),
                );
            }
        }
    }
    if let Some(kinds) = &matcher.kind {
        for k in kinds {
            if k != "*" && balance_alert_model::AlertKind::parse(&k.to_ascii_lowercase()).is_none()
            {
                m.problem(
                    "kind",
                    format!(
                        "{k:?} is not an alert kind; use low, critical, failing, recovered, reminder, renewal, forecast or email"
                    ),
                );
            }
        }
    }
    let channels = strings(&mut f, "channels").unwrap_or_default();
    if channels.is_empty() {
        f.problem(
            "channels",
            "is required: the names of the channels this route sends to".into(),
        );
    }
    let route = Route {
        matcher,
        channels,
        continue_matching: f.boolean("continue").unwrap_or(false),
        quiet_hours: quiet_hours(&mut f),
    };
    (f.problems.len() == before).then_some(route)
}

/// The Python tool's single `webhook` as a channel named `webhook`.
pub fn legacy_channel(w: &Webhook) -> ChannelConfig {
    let kind = ChannelKind::parse(&w.kind).unwrap_or(ChannelKind::Custom);
    ChannelConfig {
        name: "webhook".into(),
        kind,
        url: Some(w.url.clone()),
        secret: None,
        token: None,
        chat_id: None,
        format: None,
        smtp: None,
        quiet_hours: None,
        rate_per_minute: None,
        source: w.source.clone(),
        enabled: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digest_forms() {
        let t = |h, m| Some(Digest::Daily(NaiveTime::from_hms_opt(h, m, 0).unwrap()));
        assert_eq!(Digest::parse("off"), Some(Digest::Off));
        assert_eq!(Digest::parse("daily"), t(9, 0));
        assert_eq!(Digest::parse("daily 18:30"), t(18, 30));
        assert_eq!(Digest::parse("daily@07:05"), t(7, 5));
        assert_eq!(Digest::parse("08:00"), t(8, 0));
        assert_eq!(Digest::parse("weekly"), None);
    }

    #[test]
    fn an_smtp_login_in_clear_to_another_host_is_refused_unless_allowed() {
        let email = |host: &str, extra: Value| {
            let mut c = json!({"name": "mail", "type": "email", "smtp_host": host,
                "smtp_security": "none", "smtp_user": "ops@example.com",
                "smtp_password": "pw-123456", "to": "ops@example.com", "from": "ops@example.com"});
            for (k, v) in extra.as_object().expect("object") {
                c[k] = v.clone();
            }
            let mut problems = Vec::new();
            let parsed = channel(
                "channels[0]".into(),
                c.as_object().expect("object"),
                &mut problems,
            );
            (parsed.is_some(), problems)
        };
        let (_, problems) = email("smtp.example.com", json!({}));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "channels[0].smtp_security");
        assert!(
            problems[0].message.contains("allow_plaintext")
                && !problems[0].message.contains("pw-123456")
        );
        for ok in [
            email("smtp.example.com", json!({"allow_plaintext": true})),
            email("127.0.0.1", json!({})),
            email("localhost", json!({})),
            email("smtp.example.com", json!({"smtp_security": "starttls"})),
            email(
                "smtp.example.com",
                json!({"smtp_user": "", "smtp_password": ""}),
            ),
        ] {
            assert_eq!(ok, (true, Vec::new()));
        }
    }

    #[test]
    fn a_channel_name_with_control_characters_is_refused() {
        let mut problems = Vec::new();
        let obj = serde_json::json!({"name": "ops\u{1b}[31m\nFAKE", "type": "webhook", "url": "http://x"});
        channel(
            "channels[0]".into(),
            obj.as_object().expect("object"),
            &mut problems,
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "channels[0].name");
    }

    #[test]
    fn channel_types_parse_with_aliases() {
        assert_eq!(ChannelKind::parse("WeCom"), Some(ChannelKind::Wecom));
        assert_eq!(ChannelKind::parse("weixin"), Some(ChannelKind::Wecom));
        assert_eq!(ChannelKind::parse("generic"), Some(ChannelKind::Webhook));
        assert_eq!(ChannelKind::parse("pager"), None);
        for (n, k) in ChannelKind::ALL {
            assert_eq!(k.as_str(), *n);
        }
    }
}
