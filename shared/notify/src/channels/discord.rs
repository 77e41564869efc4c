//! Discord webhook: one embed coloured by the message's tone. Discord answers 204; when
//! rate-limited, 429 with `retry_after` (seconds, fractional) in the JSON body.

use balance_alert_core::config::channels::{ChannelConfig, ChatOptions};
use serde_json::{json, Value};

use super::http::{seconds, truncate_chars, Endpoint, Reply};
use super::JsonPost;
use crate::channel::SendError;
use crate::message::Message;

/// Discord's limit on an embed title.
const MAX_TITLE_CHARS: usize = 256;
/// Discord's limit on an embed description.
const MAX_DESCRIPTION_CHARS: usize = 4096;
/// Kept well under the footer limit (2048) so the embed stays under the 6000-character total.
const MAX_FOOTER_CHARS: usize = 256;

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
    if reply.status.as_u16() == 429 {
        let body_wait = reply
            .json()
            .and_then(|b| b.get("retry_after").and_then(Value::as_f64))
            .and_then(seconds);
        return Err(SendError::Retry {
            reason: "discord rate limit (HTTP 429)".to_owned(),
            after: body_wait.or(reply.retry_after),
        });
    }
    endpoint.check_status(reply)
}

/// The tone's `#rrggbb` as the integer Discord wants.
fn color(message: &Message) -> u32 {
    u32::from_str_radix(message.tone.hex().trim_start_matches('#'), 16).unwrap_or(0)
}

/// One embed; mentions are disabled so a project name cannot ping `@everyone`.
fn payload(message: &Message) -> Value {
    let timestamp = chrono::DateTime::from_timestamp(message.timestamp, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let mut embed = json!({
        "title": truncate_chars(&message.title, MAX_TITLE_CHARS),
        "description": truncate_chars(&message.markdown_body(), MAX_DESCRIPTION_CHARS),
        "color": color(message),
    });
    if !message.source.is_empty() {
        embed["footer"] = json!({ "text": truncate_chars(&message.source, MAX_FOOTER_CHARS) });
    }
    if let Some(ts) = timestamp {
        embed["timestamp"] = json!(ts);
    }
    json!({
        "embeds": [embed],
        "allowed_mentions": { "parse": [] },
    })
}
