//! DingTalk custom robot: a Markdown message, signed through `timestamp`/`sign` query
//! parameters when the robot has a secret. DingTalk answers HTTP 200 with a non-zero
//! `errcode` when it rejects a message.

use std::time::Duration;

use async_trait::async_trait;
use balance_alert_core::config::channels::{ChannelConfig, ChatOptions};
use base64::Engine as _;
use serde_json::{json, Value};

use super::http::{Endpoint, Errcodes};
use crate::channel::{Channel, SendError};
use crate::message::{escape_markdown, Message};

/// `errcode` when the robot sends too often (20 a minute): it is muted for a while.
const THROTTLED: i64 = 130_101;
/// `errcode` when the signature, keyword or IP allow-list rejects the message.
const SECURITY_REJECTED: i64 = 310_000;
/// How long to wait after [`THROTTLED`]: DingTalk mutes a robot for about a minute.
const THROTTLE_WAIT: Duration = Duration::from_secs(60);

pub(crate) struct Dingtalk {
    name: String,
    url: String,
    secret: Option<String>,
    endpoint: Endpoint,
}

impl Dingtalk {
    pub(crate) fn new(
        config: &ChannelConfig,
        chat: &ChatOptions,
        http: reqwest::Client,
    ) -> Result<Dingtalk, String> {
        Ok(Dingtalk {
            name: config.name.clone(),
            url: super::required_url(config, &chat.url)?,
            secret: super::optional_secret(&chat.secret),
            endpoint: super::endpoint(config, http),
        })
    }

    /// The URL to post to: the configured one, plus `timestamp` and `sign` when signing.
    fn signed_url(&self) -> Result<String, SendError> {
        let Some(secret) = &self.secret else {
            return Ok(self.url.clone());
        };
        let mut url = reqwest::Url::parse(&self.url).map_err(|e| SendError::Fatal {
            reason: format!("dingtalk url is not a valid URL: {e}"),
        })?;
        let timestamp = chrono::Utc::now().timestamp_millis().to_string();
        url.query_pairs_mut()
            .append_pair("timestamp", &timestamp)
            .append_pair("sign", &sign(&timestamp, secret));
        Ok(url.into())
    }
}

#[async_trait]
impl Channel for Dingtalk {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let url = self.signed_url()?;
        let reply = self.endpoint.post_json(&url, &payload(message)).await?;
        self.endpoint.check_status(&reply)?;
        check_errcode(&self.endpoint, reply.json().as_ref())
    }
}

/// `base64(HMAC-SHA256(key = secret, message = timestamp_ms + "\n" + secret))`; the query
/// encoding (percent-encoding `+`, `/`, `=`) happens when it is appended to the URL.
pub(crate) fn sign(timestamp_ms: &str, secret: &str) -> String {
    let message = format!("{timestamp_ms}\n{secret}");
    let mac = super::hmac_sha256(secret.as_bytes(), message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// `{msgtype: markdown, markdown: {title, text}}`. DingTalk's Markdown needs a blank line
/// to break a line.
fn payload(message: &Message) -> Value {
    let text = format!(
        "### {}\n\n{}",
        escape_markdown(&message.title),
        message.markdown_body().replace('\n', "\n\n")
    );
    json!({
        "msgtype": "markdown",
        "markdown": { "title": message.title, "text": text },
    })
}

/// Reads `errcode`/`errmsg` from a 2xx body.
fn check_errcode(endpoint: &Endpoint, body: Option<&Value>) -> Result<(), SendError> {
    Errcodes {
        name: "dingtalk",
        throttled: THROTTLED,
        throttle_wait: THROTTLE_WAIT,
        hint: (
            SECURITY_REJECTED,
            "check the robot's secret, keywords and IP list",
        ),
    }
    .check(endpoint, body)
}
