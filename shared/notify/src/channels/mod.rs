//! One file per receiver type; [`build`] makes the channel a config entry describes.

use async_trait::async_trait;
use balance_alert_core::config::delivery::{ChannelConfig, ChannelKind};
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
    Ok(match config.kind {
        ChannelKind::Feishu | ChannelKind::Lark => Box::new(feishu::Feishu::new(config, http)?),
        ChannelKind::Dingtalk => Box::new(dingtalk::Dingtalk::new(config, http)?),
        ChannelKind::Wecom => Box::new(wecom::channel(config, http)?),
        ChannelKind::Slack => Box::new(slack::channel(config, http)?),
        ChannelKind::Discord => Box::new(discord::channel(config, http)?),
        ChannelKind::Telegram => Box::new(telegram::Telegram::new(config, http)?),
        ChannelKind::Email => Box::new(email::Email::new(config)?),
        ChannelKind::Webhook => Box::new(webhook::Webhook::new(config, http)?),
        ChannelKind::Custom => Box::new(custom::channel(config, http)?),
    })
}

/// The configured URL, or why there is none.
fn required_url(config: &ChannelConfig) -> Result<String, String> {
    match &config.url {
        Some(url) if !url.expose().trim().is_empty() => Ok(url.expose().trim().to_owned()),
        _ => Err(format!("{} channel has no url", config.kind.as_str())),
    }
}

/// The signing secret, when one is set.
fn optional_secret(config: &ChannelConfig) -> Option<String> {
    config
        .secret
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
        http: reqwest::Client,
        payload: fn(&Message) -> serde_json::Value,
        judge: fn(&http::Endpoint, &http::Reply) -> Result<(), SendError>,
    ) -> Result<JsonPost, String> {
        Ok(JsonPost {
            name: config.name.clone(),
            url: required_url(config)?,
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
    let secrets = [&config.url, &config.secret, &config.token];
    let redact = http::Redact::new(secrets.into_iter().flatten().map(|s| s.expose()));
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
