//! Telegram bot `sendMessage` in HTML parse mode. Telegram answers `{"ok":true,…}`, or
//! `{"ok":false,"error_code","description","parameters":{"retry_after"}}`.

use async_trait::async_trait;
use balance_alert_core::config::channels::{ChannelConfig, TelegramOptions};
use serde_json::{json, Value};

use super::http::{retryable, seconds, truncate_chars, Endpoint};
use crate::channel::{Channel, SendError};
use crate::message::{escape_html, Message};

/// Telegram's limit on a message's text.
const MAX_TEXT_CHARS: usize = 4096;
/// The longest title kept.
const MAX_TITLE_CHARS: usize = 256;
/// The Bot API when `url` is not set.
const DEFAULT_API: &str = "https://api.telegram.org";

pub(crate) struct Telegram {
    name: String,
    /// `<api>/bot<token>/sendMessage`: holds the token, never shown.
    url: String,
    chat_id: String,
    endpoint: Endpoint,
}

impl Telegram {
    pub(crate) fn new(
        config: &ChannelConfig,
        options: &TelegramOptions,
        http: reqwest::Client,
    ) -> Result<Telegram, String> {
        let token = options
            .token
            .as_ref()
            .map(|t| t.expose().trim())
            .filter(|t| !t.is_empty())
            .ok_or("telegram channel has no token")?;
        let chat_id = options
            .chat_id
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or("telegram channel has no chat_id")?;
        let api = options
            .api_url
            .as_ref()
            .map(|u| u.expose().trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty())
            .unwrap_or(DEFAULT_API);
        Ok(Telegram {
            name: config.name.clone(),
            url: format!("{api}/bot{token}/sendMessage"),
            chat_id: chat_id.trim().to_owned(),
            endpoint: super::endpoint(config, http),
        })
    }
}

#[async_trait]
impl Channel for Telegram {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let body = json!({
            "chat_id": self.chat_id,
            "text": text(message),
            "parse_mode": "HTML",
            "disable_web_page_preview": true,
        });
        let reply = self.endpoint.post_json(&self.url, &body).await?;
        match reply.json() {
            Some(answer) if answer.get("ok").and_then(Value::as_bool).is_some() => {
                check_answer(&self.endpoint, &answer, reply.status.as_u16())
            }
            _ => self.endpoint.check_status(&reply),
        }
    }
}

/// A bold title and the HTML body, cut between lines (never inside a tag) to fit
/// [`MAX_TEXT_CHARS`].
fn text(message: &Message) -> String {
    let mut out = format!(
        "<b>{}</b>",
        escape_html(&truncate_chars(&message.title, MAX_TITLE_CHARS))
    );
    let mut len = out.chars().count();
    for line in message.html_body().split('\n') {
        let n = line.chars().count();
        // Room for this line plus a final "\n…" if a later one does not fit.
        if len + 1 + n > MAX_TEXT_CHARS - 2 {
            out.push_str("\n…");
            break;
        }
        out.push('\n');
        out.push_str(line);
        len += 1 + n;
    }
    out
}

/// `ok:false` with `retry_after`, 429 or 5xx → Retry; any other `ok:false` → Fatal with the
/// `description`.
fn check_answer(endpoint: &Endpoint, answer: &Value, status: u16) -> Result<(), SendError> {
    if answer.get("ok").and_then(Value::as_bool) == Some(true) {
        return Ok(());
    }
    let code = answer
        .get("error_code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(status);
    let description = answer
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let reason = format!("telegram {code}: {}", endpoint.clean(description));
    let wait = answer
        .pointer("/parameters/retry_after")
        .and_then(Value::as_f64)
        .and_then(seconds);
    let retry = reqwest::StatusCode::from_u16(code).is_ok_and(retryable);
    if wait.is_some() || retry {
        Err(SendError::Retry {
            reason,
            after: wait,
        })
    } else {
        Err(SendError::Fatal { reason })
    }
}
