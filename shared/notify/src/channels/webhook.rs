//! Generic JSON webhook: the alert's facts (or a summary object), or with
//! `format: "alertmanager"` Alertmanager's v4 webhook payload (see [`alertmanager`]).
//! `Idempotency-Key` always, `X-Signature: sha256=<hex HMAC of the raw body>` with a secret.

use async_trait::async_trait;
use balance_alert_core::config::channels::{ChannelConfig, WebhookOptions};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use super::alertmanager;
use super::http::Endpoint;
use crate::channel::{Channel, SendError};
use crate::message::{Message, MessageKind};

/// Which body a webhook posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Alertmanager,
}

pub(crate) struct Webhook {
    name: String,
    url: String,
    secret: Option<String>,
    format: Format,
    endpoint: Endpoint,
}

impl Webhook {
    pub(crate) fn new(
        config: &ChannelConfig,
        options: &WebhookOptions,
        http: reqwest::Client,
    ) -> Result<Webhook, String> {
        let format = match options.format.as_deref().map(str::trim) {
            None | Some("") | Some("json") => Format::Json,
            Some(f) if f.eq_ignore_ascii_case("alertmanager") => Format::Alertmanager,
            Some(other) => return Err(format!("unknown webhook format {other:?}")),
        };
        Ok(Webhook {
            name: config.name.clone(),
            url: super::required_url(config, &options.url)?,
            secret: super::optional_secret(&options.secret),
            format,
            endpoint: super::endpoint(config, http),
        })
    }

    /// `Idempotency-Key` and, with a secret, `X-Signature` over exactly `body`.
    fn headers(&self, key: &str, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&header_safe(key)) {
            headers.insert(HeaderName::from_static("idempotency-key"), v);
        }
        if let Some(secret) = &self.secret {
            let sig = hex::encode(super::hmac_sha256(secret.as_bytes(), body));
            if let Ok(v) = HeaderValue::from_str(&format!("sha256={sig}")) {
                headers.insert(HeaderName::from_static("x-signature"), v);
            }
        }
        headers
    }
}

#[async_trait]
impl Channel for Webhook {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let payload = match self.format {
            Format::Json => json_payload(message),
            Format::Alertmanager => alertmanager::payload(message, &self.name),
        };
        let body = serde_json::to_vec(&payload).map_err(|e| SendError::Fatal {
            reason: format!("payload not serialisable: {e}"),
        })?;
        let headers = self.headers(&message.key, &body);
        let reply = self.endpoint.post_bytes(&self.url, body, headers).await?;
        self.endpoint.check_status(&reply)
    }
}

/// One alert: its facts as they are. Anything else: `{type, title, text, alerts, timestamp}`.
fn json_payload(message: &Message) -> Value {
    let kind = match message.kind {
        MessageKind::Alert => match message.alerts.as_slice() {
            [facts] => return serde_json::to_value(facts).unwrap_or(Value::Null),
            _ => "summary",
        },
        MessageKind::Summary => "summary",
        MessageKind::Digest => "digest",
        MessageKind::Test => "test",
    };
    json!({
        "type": kind,
        "title": message.title,
        "text": message.plain_body(),
        "alerts": message.alerts,
        "timestamp": message.timestamp,
    })
}

/// `key` as a header value: visible ASCII kept, anything else percent-encoded (a channel
/// name may be Chinese).
fn header_safe(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_with_chinese_channel_names_become_valid_header_values() {
        let v = header_safe("p1-100-2:运维 群");
        assert!(HeaderValue::from_str(&v).is_ok(), "{v}");
        assert!(v.starts_with("p1-100-2:%E8%BF%90"), "{v}");
    }
}
