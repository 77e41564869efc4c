//! A generic `webhook` channel's options: its URL, an optional signing secret and the payload
//! format (`json`, or Alertmanager's).

use super::{http_url, secret};
use crate::config::fields::Fields;
use crate::config::Secret;

/// A JSON webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookOptions {
    /// `url`: where to POST (required when enabled). Secret: it may carry a token.
    pub url: Option<Secret>,
    /// `secret`: signs each body (`X-Signature`).
    pub secret: Option<Secret>,
    /// `format`, lower-cased: `json` (default) or `alertmanager`.
    pub format: Option<String>,
}

impl WebhookOptions {
    /// The fields a `webhook` entry reads.
    pub(super) const FIELDS: &'static [&'static str] = &["url", "format", "secret"];

    pub(super) fn parse(f: &mut Fields<'_>, enabled: bool) -> WebhookOptions {
        let url = http_url(f, "url", enabled);
        let format = f.string("format").map(|s| s.to_ascii_lowercase());
        if let Some(fmt) = &format {
            if !matches!(fmt.as_str(), "json" | "alertmanager") {
                f.problem(
                    "format",
                    format!("must be json or alertmanager, got {fmt:?}"),
                );
            }
        }
        WebhookOptions {
            url,
            secret: secret(f, "secret"),
            format,
        }
    }
}
