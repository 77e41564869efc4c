//! Feishu / Lark custom bot: an interactive card coloured by the message's tone, signed when
//! the bot has a secret. Feishu answers HTTP 200 with a non-zero `code` (or the older
//! `StatusCode`) when it rejects a message.

use async_trait::async_trait;
use balance_alert_core::config::channels::{ChannelConfig, ChatOptions};
use base64::Engine as _;
use serde_json::{json, Value};

use super::http::Endpoint;
use crate::channel::{Channel, SendError};
use crate::message::{Message, Tone};

/// `code` for a bad signature (or a timestamp more than an hour off).
const BAD_SIGNATURE: i64 = 19021;
/// `code` for too many requests.
const THROTTLED: i64 = 11232;

pub(crate) struct Feishu {
    name: String,
    url: String,
    secret: Option<String>,
    endpoint: Endpoint,
}

impl Feishu {
    pub(crate) fn new(
        config: &ChannelConfig,
        chat: &ChatOptions,
        http: reqwest::Client,
    ) -> Result<Feishu, String> {
        Ok(Feishu {
            name: config.name.clone(),
            url: super::required_url(config, &chat.url)?,
            secret: super::optional_secret(&chat.secret),
            endpoint: super::endpoint(config, http),
        })
    }
}

#[async_trait]
impl Channel for Feishu {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let mut body = card(message);
        if let Some(secret) = &self.secret {
            let timestamp = chrono::Utc::now().timestamp().to_string();
            body["timestamp"] = json!(timestamp);
            body["sign"] = json!(sign(&timestamp, secret));
        }
        let reply = self.endpoint.post_json(&self.url, &body).await?;
        self.endpoint.check_status(&reply)?;
        check_code(&self.endpoint, reply.json().as_ref())
    }
}

/// `base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = ""))`.
pub(crate) fn sign(timestamp: &str, secret: &str) -> String {
    let key = format!("{timestamp}\n{secret}");
    base64::engine::general_purpose::STANDARD.encode(super::hmac_sha256(key.as_bytes(), b""))
}

/// The card's header colour.
fn template(tone: Tone) -> &'static str {
    match tone {
        Tone::Red => "red",
        Tone::Orange => "orange",
        Tone::Green => "green",
        Tone::Grey => "grey",
        Tone::Blue => "blue",
    }
}

/// The interactive card: header with the title, the body as Markdown, the source as a note.
fn card(message: &Message) -> Value {
    json!({
        "msg_type": "interactive",
        "card": {
            "config": { "wide_screen_mode": true },
            "header": {
                "title": { "tag": "plain_text", "content": message.title },
                "template": template(message.tone),
            },
            "elements": [
                { "tag": "markdown", "content": message.markdown_body() },
                { "tag": "note", "elements": [
                    { "tag": "plain_text", "content": message.source }
                ] },
            ],
        },
    })
}

/// Reads `code`/`msg` (or `StatusCode`/`StatusMessage`) from a 2xx body.
fn check_code(endpoint: &Endpoint, body: Option<&Value>) -> Result<(), SendError> {
    let Some(body) = body else { return Ok(()) };
    let code = body
        .get("code")
        .or_else(|| body.get("StatusCode"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if code == 0 {
        return Ok(());
    }
    let msg = body
        .get("msg")
        .or_else(|| body.get("StatusMessage"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let reason = format!("feishu code {code}: {}", endpoint.clean(msg));
    match code {
        THROTTLED => Err(SendError::Retry {
            reason,
            after: None,
        }),
        BAD_SIGNATURE => Err(SendError::Fatal {
            reason: format!("{reason} (check the bot's signing secret and the clock)"),
        }),
        _ => Err(SendError::Fatal { reason }),
    }
}
