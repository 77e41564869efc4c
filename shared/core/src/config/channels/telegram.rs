//! A `telegram` channel's options: the bot token, the chat to post in, and optionally another
//! Bot API base URL (a local Bot API server, tests).

use super::{http_url, secret};
use crate::config::fields::Fields;
use crate::config::Secret;

/// A Telegram bot and its chat.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramOptions {
    /// `url`: the Bot API base URL (default `https://api.telegram.org`).
    pub api_url: Option<Secret>,
    /// `token`: the bot token from @BotFather (required when enabled).
    pub token: Option<Secret>,
    /// `chat_id`: the chat to post in (required when enabled).
    pub chat_id: Option<String>,
}

impl TelegramOptions {
    /// The fields a `telegram` entry reads.
    pub(super) const FIELDS: &'static [&'static str] = &["url", "token", "chat_id"];

    pub(super) fn parse(f: &mut Fields<'_>, enabled: bool) -> TelegramOptions {
        let api_url = http_url(f, "url", false);
        let token = secret(f, "token");
        let chat_id = f.string("chat_id").filter(|s| !s.is_empty());
        if enabled && token.is_none() {
            f.problem("token", "is required: the bot token from @BotFather".into());
        }
        if enabled && chat_id.is_none() {
            f.problem("chat_id", "is required: the chat to post in".into());
        }
        TelegramOptions {
            api_url,
            token,
            chat_id,
        }
    }
}
