//! `channels[]`: one receiver each. The fields every channel has (name, type, quiet hours, rate,
//! source, enabled) are [`ChannelConfig`]; each type's own fields are declared and validated in
//! its file here, as a provider's options are beside its adapter. They live in core, not beside
//! the senders in `balance-alert-notify`, because `config validate` (core) must check them and
//! core cannot depend on notify.
//!
//! In config.json every field of a channel stays flat in its object: `{"name": "ops", "type":
//! "telegram", "token": "…", "chat_id": "…"}`.

mod chat;
mod email;
mod telegram;
mod webhook;

pub use chat::ChatOptions;
pub use email::{SmtpSecurity, SmtpSettings};
pub use telegram::TelegramOptions;
pub use webhook::WebhookOptions;

use serde_json::{Map, Value};

use super::delivery::{quiet_hours, QuietHours};
use super::fields::Fields;
use super::{Problem, Secret, Webhook};

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

/// One receiver (`channels[]`): the fields every type has, and its type's own.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConfig {
    /// Unique name; routes refer to it.
    pub name: String,
    /// The type (`type`) and the fields only it has.
    pub options: ChannelOptions,
    pub quiet_hours: Option<QuietHours>,
    /// Messages per minute; beyond it messages queue (never dropped). Default: the receiver's
    /// documented limit, if any.
    pub rate_per_minute: Option<u32>,
    /// Sender label shown in messages (default `balance-alert`).
    pub source: String,
    pub enabled: bool,
}

impl ChannelConfig {
    /// The receiver type.
    pub fn kind(&self) -> ChannelKind {
        self.options.kind()
    }

    /// The rate limit that applies: the configured one, else the documented one.
    pub fn effective_rate_per_minute(&self) -> Option<u32> {
        self.rate_per_minute
            .or_else(|| self.kind().documented_rate_per_minute())
    }
}

/// A channel's type with the fields only that type has. On a disabled entry the required ones
/// may be missing (they are checked only when it is enabled).
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelOptions {
    Feishu(ChatOptions),
    Lark(ChatOptions),
    Dingtalk(ChatOptions),
    Wecom(ChatOptions),
    Slack(ChatOptions),
    Discord(ChatOptions),
    Telegram(TelegramOptions),
    /// The SMTP settings; None on a disabled entry (its fields are not read).
    Email(Option<SmtpSettings>),
    Webhook(WebhookOptions),
    Custom(ChatOptions),
}

impl ChannelOptions {
    /// The options of a `kind` channel with only its URL set (email has none): the Python
    /// tool's `webhook`, and hand-built channels.
    pub fn with_url(kind: ChannelKind, url: Option<Secret>) -> ChannelOptions {
        let chat = ChatOptions {
            url: url.clone(),
            secret: None,
        };
        match kind {
            ChannelKind::Feishu => ChannelOptions::Feishu(chat),
            ChannelKind::Lark => ChannelOptions::Lark(chat),
            ChannelKind::Dingtalk => ChannelOptions::Dingtalk(chat),
            ChannelKind::Wecom => ChannelOptions::Wecom(chat),
            ChannelKind::Slack => ChannelOptions::Slack(chat),
            ChannelKind::Discord => ChannelOptions::Discord(chat),
            ChannelKind::Custom => ChannelOptions::Custom(chat),
            ChannelKind::Telegram => ChannelOptions::Telegram(TelegramOptions {
                api_url: url,
                token: None,
                chat_id: None,
            }),
            ChannelKind::Email => ChannelOptions::Email(None),
            ChannelKind::Webhook => ChannelOptions::Webhook(WebhookOptions {
                url,
                secret: None,
                format: None,
            }),
        }
    }

    /// The receiver type these options belong to.
    pub fn kind(&self) -> ChannelKind {
        match self {
            ChannelOptions::Feishu(_) => ChannelKind::Feishu,
            ChannelOptions::Lark(_) => ChannelKind::Lark,
            ChannelOptions::Dingtalk(_) => ChannelKind::Dingtalk,
            ChannelOptions::Wecom(_) => ChannelKind::Wecom,
            ChannelOptions::Slack(_) => ChannelKind::Slack,
            ChannelOptions::Discord(_) => ChannelKind::Discord,
            ChannelOptions::Telegram(_) => ChannelKind::Telegram,
            ChannelOptions::Email(_) => ChannelKind::Email,
            ChannelOptions::Webhook(_) => ChannelKind::Webhook,
            ChannelOptions::Custom(_) => ChannelKind::Custom,
        }
    }

    /// The receiver's URL: a chat bot's or webhook's `url`, Telegram's Bot API base (`url`);
    /// None for email.
    pub fn url(&self) -> Option<&Secret> {
        match self {
            ChannelOptions::Feishu(c)
            | ChannelOptions::Lark(c)
            | ChannelOptions::Dingtalk(c)
            | ChannelOptions::Wecom(c)
            | ChannelOptions::Slack(c)
            | ChannelOptions::Discord(c)
            | ChannelOptions::Custom(c) => c.url.as_ref(),
            ChannelOptions::Telegram(t) => t.api_url.as_ref(),
            ChannelOptions::Webhook(w) => w.url.as_ref(),
            ChannelOptions::Email(_) => None,
        }
    }

    /// Every secret value among the options (URLs, signing secrets, tokens, the SMTP
    /// password): what a sender must redact from the replies it reports.
    pub fn secrets(&self) -> Vec<&Secret> {
        let found = match self {
            ChannelOptions::Feishu(c)
            | ChannelOptions::Lark(c)
            | ChannelOptions::Dingtalk(c)
            | ChannelOptions::Wecom(c)
            | ChannelOptions::Slack(c)
            | ChannelOptions::Discord(c)
            | ChannelOptions::Custom(c) => [&c.url, &c.secret],
            ChannelOptions::Telegram(t) => [&t.api_url, &t.token],
            ChannelOptions::Webhook(w) => [&w.url, &w.secret],
            ChannelOptions::Email(smtp) => [&None, smtp.as_ref().map_or(&None, |s| &s.password)],
        };
        found.into_iter().flatten().collect()
    }

    /// The fields of a channel entry that this type reads.
    fn fields(&self) -> &'static [&'static str] {
        match self {
            ChannelOptions::Telegram(_) => TelegramOptions::FIELDS,
            ChannelOptions::Email(_) => SmtpSettings::FIELDS,
            ChannelOptions::Webhook(_) => WebhookOptions::FIELDS,
            _ => ChatOptions::FIELDS,
        }
    }

    /// Reads a `kind` entry's own fields.
    fn parse(kind: ChannelKind, f: &mut Fields<'_>, enabled: bool) -> ChannelOptions {
        let first = f.problems.len();
        let chat = |f: &mut Fields<'_>| ChatOptions::parse(f, enabled);
        let options = match kind {
            ChannelKind::Feishu => ChannelOptions::Feishu(chat(f)),
            ChannelKind::Lark => ChannelOptions::Lark(chat(f)),
            ChannelKind::Dingtalk => ChannelOptions::Dingtalk(chat(f)),
            ChannelKind::Wecom => ChannelOptions::Wecom(chat(f)),
            ChannelKind::Slack => ChannelOptions::Slack(chat(f)),
            ChannelKind::Discord => ChannelOptions::Discord(chat(f)),
            ChannelKind::Custom => ChannelOptions::Custom(chat(f)),
            ChannelKind::Telegram => ChannelOptions::Telegram(TelegramOptions::parse(f, enabled)),
            ChannelKind::Email => ChannelOptions::Email(enabled.then(|| email::smtp(f)).flatten()),
            ChannelKind::Webhook => ChannelOptions::Webhook(WebhookOptions::parse(f, enabled)),
        };
        check_unread(f, options.fields());
        let prefix = format!("{}.", f.path);
        f.problems[first..].sort_by_key(|p| report_rank(p.path.strip_prefix(&prefix)));
        options
    }
}

/// Where a problem with a type's field is listed: in the order the fields were read when one
/// struct held them all (`url`, `token`, `chat_id`, `format`, the SMTP fields, `secret`), so
/// `config validate` lists them as it always did whatever order a type reads them in.
fn report_rank(key: Option<&str>) -> u8 {
    match key {
        Some("url") => 0,
        Some("token") => 1,
        Some("chat_id") => 2,
        Some("format") => 3,
        Some("secret") => 5,
        _ => 4,
    }
}

/// `url`, `format` and `secret` were once read for every type: a type that does not use one
/// still refuses a value of the wrong shape there, so a config refused before is refused now.
fn check_unread(f: &mut Fields<'_>, read: &[&str]) {
    for key in ["url", "format", "secret"] {
        if read.contains(&key) {
            continue;
        }
        match key {
            "url" => drop(http_url(f, key, false)),
            _ => drop(f.string(key)),
        }
    }
}

/// An `http(s)://` URL field (`required`: a problem when missing). Secret: a chat webhook
/// carries its token in it.
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

/// A non-blank secret field.
fn secret(f: &mut Fields<'_>, key: &str) -> Option<Secret> {
    f.string(key)
        .filter(|s| !s.trim().is_empty())
        .map(Secret::new)
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
    let options = ChannelOptions::parse(kind?, &mut f, enabled);
    Some(ChannelConfig {
        options,
        quiet_hours: quiet_hours(&mut f),
        rate_per_minute: f.integer("rate_per_minute", 1, 100_000).map(|n| n as u32),
        source: f
            .string("source")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "balance-alert".into()),
        name,
        enabled,
    })
}

/// The Python tool's single `webhook` as a channel named `webhook`.
pub fn legacy_channel(w: &Webhook) -> ChannelConfig {
    let kind = ChannelKind::parse(&w.kind).unwrap_or(ChannelKind::Custom);
    ChannelConfig {
        name: "webhook".into(),
        options: ChannelOptions::with_url(kind, Some(w.url.clone())),
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

    /// The problems of one `channels[]` entry, as `path: message`.
    pub(super) fn problems_of(entry: Value) -> Vec<String> {
        let mut problems = Vec::new();
        channel(
            "channels[0]".into(),
            entry.as_object().expect("object"),
            &mut problems,
        );
        problems.iter().map(ToString::to_string).collect()
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
            assert_eq!(ChannelOptions::with_url(*k, None).kind(), *k);
        }
    }

    #[test]
    fn a_field_another_type_uses_is_still_checked_for_its_shape() {
        // `url`, `format` and `secret` were read for every type before each type had its own
        // options: a bad value there is still named.
        let got = problems_of(json!({"name": "mail", "type": "email", "enabled": false,
            "url": "ftp://x", "format": ["a"], "secret": {"k": 1}}));
        assert_eq!(
            got,
            [
                "channels[0].url: must start with http:// or https://",
                "channels[0].format: must be a string, got [\"a\"]",
                "channels[0].secret: must be a string, got {\"k\":1}",
            ]
        );
        // Listed in the order the fields were always reported, whatever order a type reads
        // them in.
        let got = problems_of(json!({"name": "mail", "type": "email", "url": "ftp://x",
            "smtp_host": "h", "to": "x", "from": "y", "secret": true}));
        assert_eq!(
            got,
            [
                "channels[0].url: must start with http:// or https://",
                "channels[0].from: must be an email address, got \"y\"",
                "channels[0].to: \"x\" is not an email address",
                "channels[0].secret: must be a string, got true",
            ]
        );
        assert!(problems_of(json!({"name": "s", "type": "slack",
            "url": "https://hooks.slack.com/x", "format": "xml", "token": 5}))
        .is_empty());
    }

    #[test]
    fn each_type_keeps_only_its_own_fields() {
        let mut problems = Vec::new();
        let entry = json!({"name": "tg", "type": "telegram", "token": "123:abc",
            "chat_id": "-100", "secret": "unused", "rate_per_minute": 5});
        let c = channel(
            "channels[0]".into(),
            entry.as_object().expect("object"),
            &mut problems,
        )
        .expect("parses");
        assert!(problems.is_empty(), "{problems:?}");
        let ChannelOptions::Telegram(t) = &c.options else {
            panic!("telegram options, got {:?}", c.options)
        };
        assert_eq!(t.chat_id.as_deref(), Some("-100"));
        assert_eq!(c.options.secrets().len(), 1, "the token only");
        assert_eq!(c.effective_rate_per_minute(), Some(5));
    }
}
