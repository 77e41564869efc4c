//! Slack incoming webhook: a header block and a `mrkdwn` section, with `text` as the
//! notification fallback. Slack answers `ok`, or a status with a word such as
//! `invalid_token` (403) or `no_service` (404), classified by the shared rules.

use balance_alert_core::config::channels::{ChannelConfig, ChatOptions};
use serde_json::{json, Value};

use super::http::{truncate_chars, Endpoint, Reply};
use super::JsonPost;
use crate::channel::SendError;
use crate::message::Message;

/// Slack's limit on a header block's text.
const MAX_HEADER_CHARS: usize = 150;
/// Slack's limit on a section's text.
const MAX_SECTION_CHARS: usize = 3000;

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
    endpoint.check_status(reply)
}

/// Slack's own escaping: only `&`, `<` and `>` are active (links, mentions).
fn escape(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() || *c == '\n').fold(
        String::with_capacity(s.len()),
        |mut out, c| {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                c => out.push(c),
            }
            out
        },
    )
}

/// The body in Slack's `mrkdwn` (`*label*: text`); Slack's dialect is not Markdown, so the
/// lines are rendered here rather than with [`Message::markdown_body`].
fn mrkdwn(message: &Message) -> String {
    message
        .lines
        .iter()
        .map(|l| match &l.label {
            Some(label) => format!("*{}*: {}", escape(label), escape(&l.text)),
            None => escape(&l.text),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Header + section + a context line with the source; `text` is the plain message, escaped
/// too (Slack reads it as `mrkdwn`, where `<!channel>` would ping everyone).
fn payload(message: &Message) -> Value {
    let mut blocks = vec![
        json!({ "type": "header", "text": {
            "type": "plain_text",
            "text": truncate_chars(&message.title, MAX_HEADER_CHARS),
            "emoji": true,
        } }),
        json!({ "type": "section", "text": {
            "type": "mrkdwn",
            "text": truncate_chars(&mrkdwn(message), MAX_SECTION_CHARS),
        } }),
    ];
    // Slack rejects an empty text element.
    if !message.source.is_empty() {
        blocks.push(json!({ "type": "context", "elements": [
            { "type": "plain_text", "text": message.source, "emoji": false }
        ] }));
    }
    json!({ "text": escape(&message.plain()), "blocks": blocks })
}
