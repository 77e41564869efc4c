//! WeCom (企业微信) group robot: a Markdown message of at most 4096 bytes. WeCom answers
//! HTTP 200 with a non-zero `errcode` when it rejects a message.

use std::time::Duration;

use balance_alert_core::config::channels::{ChannelConfig, ChatOptions};
use serde_json::{json, Value};

use super::http::{truncate_bytes, Endpoint, Errcodes, Reply};
use super::JsonPost;
use crate::channel::SendError;
use crate::message::{escape_markdown, Message, Tone};

/// WeCom's limit on `markdown.content`, in UTF-8 bytes.
pub(crate) const MAX_CONTENT_BYTES: usize = 4096;
/// `errcode` when the robot exceeds its frequency limit (20 a minute).
const THROTTLED: i64 = 45_009;
/// `errcode` for an invalid webhook URL (key).
const INVALID_WEBHOOK: i64 = 93_000;
/// How long to wait after [`THROTTLED`]: the limit is per minute.
const THROTTLE_WAIT: Duration = Duration::from_secs(60);

/// The channel: posts [`payload`] and judges the reply with [`judge`].
pub(crate) fn channel(
    config: &ChannelConfig,
    chat: &ChatOptions,
    http: reqwest::Client,
) -> Result<JsonPost, String> {
    JsonPost::new(config, chat, http, payload, judge)
}

/// Whether the receiver accepted the message.
fn judge(endpoint: &Endpoint, reply: &Reply) -> Result<(), SendError> {
    endpoint.check_status(reply)?;
    check_errcode(endpoint, reply.json().as_ref())
}

/// WeCom Markdown's three font colours: `warning` (orange-red), `info` (green), `comment`
/// (grey).
fn font_color(tone: Tone) -> &'static str {
    match tone {
        Tone::Red | Tone::Orange => "warning",
        Tone::Green => "info",
        Tone::Grey | Tone::Blue => "comment",
    }
}

/// `{msgtype: markdown, markdown: {content}}`, content cut to [`MAX_CONTENT_BYTES`].
fn payload(message: &Message) -> Value {
    let content = format!(
        "### <font color=\"{}\">{}</font>\n{}",
        font_color(message.tone),
        escape_markdown(&message.title),
        message.markdown_body()
    );
    json!({
        "msgtype": "markdown",
        "markdown": { "content": truncate_bytes(&content, MAX_CONTENT_BYTES) },
    })
}

/// Reads `errcode`/`errmsg` from a 2xx body.
fn check_errcode(endpoint: &Endpoint, body: Option<&Value>) -> Result<(), SendError> {
    Errcodes {
        name: "wecom",
        throttled: THROTTLED,
        throttle_wait: THROTTLE_WAIT,
        hint: (INVALID_WEBHOOK, "check the robot's webhook key"),
    }
    .check(endpoint, body)
}
