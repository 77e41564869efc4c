//! One file per receiver type; [`build`] makes the channel a config entry describes.

use async_trait::async_trait;
use balance_alert_core::config::channels::{ChannelConfig, ChannelOptions, ChatOptions};
use balance_alert_core::config::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::channel::{Channel, SendError};
use crate::message::Message;

mod alertmanager;
mod custom;
mod dingtalk;
mod discord;
mod email;
mod feishu;
mod http;
mod slack;
mod telegram;
mod webhook;
mod wecom;

/// The channel for a config entry. An entry that cannot make a channel (no URL, no token,
/// a bad SMTP address) still gives one: its every send fails [`SendError::Fatal`] naming
/// what is missing, so the problem shows up in the delivery record instead of a panic.
pub fn build(config: &ChannelConfig, http: reqwest::Client) -> Box<dyn Channel> {
    match try_build(config, http) {
        Ok(channel) => channel,
        Err(reason) => Box::new(Unusable {
            name: config.name.clone(),
            reason,
        }),
    }
}

fn try_build(config: &ChannelConfig, http: reqwest::Client) -> Result<Box<dyn Channel>, String> {
    use ChannelOptions as O;
    Ok(match &config.options {
        O::Feishu(chat) | O::Lark(chat) => Box::new(feishu::Feishu::new(config, chat, http)?),
        O::Dingtalk(chat) => Box::new(dingtalk::Dingtalk::new(config, chat, http)?),
        O::Wecom(chat) => Box::new(wecom::channel(config, chat, http)?),
        O::Slack(chat) => Box::new(slack::channel(config, chat, http)?),
        O::Discord(chat) => Box::new(discord::channel(config, chat, http)?),
        O::Telegram(telegram) => Box::new(telegram::Telegram::new(config, telegram, http)?),
        O::Email(smtp) => Box::new(email::Email::new(config, smtp.as_ref())?),
        O::Webhook(webhook) => Box::new(webhook::Webhook::new(config, webhook, http)?),
        O::Custom(chat) => Box::new(custom::channel(config, chat, http)?),
    })
}

/// The configured URL, or why there is none.
fn required_url(config: &ChannelConfig, url: &Option<Secret>) -> Result<String, String> {
    match url {
        Some(url) if !url.expose().trim().is_empty() => Ok(url.expose().trim().to_owned()),
        _ => Err(format!("{} channel has no url", config.kind().as_str())),
    }
}

/// The signing secret, when one is set.
fn optional_secret(secret: &Option<Secret>) -> Option<String> {
    secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .filter(|s| !s.is_empty())
}

/// A channel that POSTs one JSON payload to its URL and judges the reply: what Slack,
/// Discord, WeCom and the Python tool's custom webhook have in common.
pub(crate) struct JsonPost {
    name: String,
    url: String,
    endpoint: http::Endpoint,
    payload: fn(&Message) -> serde_json::Value,
    judge: fn(&http::Endpoint, &http::Reply) -> Result<(), SendError>,
}

impl JsonPost {
    fn new(
        config: &ChannelConfig,
        chat: &ChatOptions,
        http: reqwest::Client,
        payload: fn(&Message) -> serde_json::Value,
        judge: fn(&http::Endpoint, &http::Reply) -> Result<(), SendError>,
    ) -> Result<JsonPost, String> {
        Ok(JsonPost {
            name: config.name.clone(),
            url: required_url(config, &chat.url)?,
            endpoint: endpoint(config, http),
            payload,
            judge,
        })
    }
}

#[async_trait]
impl Channel for JsonPost {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let reply = self
            .endpoint
            .post_json(&self.url, &(self.payload)(message))
            .await?;
        (self.judge)(&self.endpoint, &reply)
    }
}

/// The [`http::Endpoint`] of a channel, redacting its URL, secret and token.
fn endpoint(config: &ChannelConfig, http: reqwest::Client) -> http::Endpoint {
    let redact = http::Redact::new(config.options.secrets().into_iter().map(Secret::expose));
    http::Endpoint::new(http, redact)
}

/// HMAC-SHA256 of `message` under `key`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// A channel whose config cannot work; every send says why.
struct Unusable {
    name: String,
    reason: String,
}

#[async_trait]
impl Channel for Unusable {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, _message: &Message) -> Result<(), SendError> {
        Err(SendError::Fatal {
            reason: self.reason.clone(),
        })
    }
}
