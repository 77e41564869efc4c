//! The chat bots' options (`feishu`, `lark`, `dingtalk`, `wecom`, `slack`, `discord` and the
//! Python tool's `custom` payload): a webhook URL and, for the types that sign, a secret.

use super::{http_url, secret};
use crate::config::fields::Fields;
use crate::config::Secret;

/// A chat bot's webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatOptions {
    /// `url`: the webhook URL (required when enabled). Secret: chat webhooks carry their token
    /// in it.
    pub url: Option<Secret>,
    /// `secret`: the signing secret (`feishu`, `lark` and `dingtalk` sign with it; the others
    /// ignore it).
    pub secret: Option<Secret>,
}

impl ChatOptions {
    /// The fields a chat bot entry reads.
    pub(super) const FIELDS: &'static [&'static str] = &["url", "secret"];

    pub(super) fn parse(f: &mut Fields<'_>, enabled: bool) -> ChatOptions {
        ChatOptions {
            url: http_url(f, "url", enabled),
            secret: secret(f, "secret"),
        }
    }
}
