//! "POST JSON and classify the outcome", shared by every HTTP channel: transport errors and
//! 408/425/429/5xx are worth a retry (honouring Retry-After), other statuses are not. Reasons
//! are short and safe to show: never a URL, a token or a secret (see [`Redact`]).

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde::Serialize;

use balance_alert_core::scrub::Scrubber;

use crate::channel::SendError;

/// How long one request may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(15);

/// The longest excerpt of a receiver's answer put into a reason.
const EXCERPT_CHARS: usize = 160;

/// The longest Retry-After honoured; a receiver asking for more gets retried after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Pieces of a channel's secrets (URL with its token, signing secret, bot token) that must
/// never appear in a reason, even when a receiver echoes them back.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redact {
    secrets: Scrubber,
}

impl Redact {
    /// Redacts each value, and the path segments and query values of each (chat webhooks
    /// carry their token there) and the parts of a `id:token` bot token, in every encoding
    /// ([`Scrubber`]).
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Redact {
        let mut needles = Vec::new();
        for s in secrets.into_iter().filter(|s| !s.is_empty()) {
            needles.push(s.to_owned());
            needles.extend(s.split(['/', '?', '&', '=', ':']).map(str::to_owned));
        }
        // Short pieces ("hook", "bot", "v2") are words, not secrets.
        needles.retain(|n| n.chars().count() >= 8);
        Redact {
            secrets: Scrubber::new(needles),
        }
    }

    /// `text` without secrets and control characters, on one line, at most
    /// [`EXCERPT_CHARS`] characters.
    pub(crate) fn clean(&self, text: &str) -> String {
        let out = self.secrets.scrub(text);
        let one_line = out
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        truncate_chars(&one_line, EXCERPT_CHARS)
    }
}

/// At most `max` characters of `s`, ending in `…` when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// At most `max` bytes of `s`, cut at a character boundary and ending in `…` when cut.
pub(crate) fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let budget = max.saturating_sub('…'.len_utf8());
    let mut end = budget.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// What a receiver answered.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    /// The Retry-After header, when present and parseable.
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: String,
}

impl Reply {
    /// The body as JSON, when it is JSON.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// An HTTP client plus what to keep out of reasons.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    http: reqwest::Client,
    redact: Redact,
}

impl Endpoint {
    pub(crate) fn new(http: reqwest::Client, redact: Redact) -> Endpoint {
        Endpoint { http, redact }
    }

    /// `text` made safe for a reason (see [`Redact::clean`]).
    pub(crate) fn clean(&self, text: &str) -> String {
        self.redact.clean(text)
    }

    /// POSTs `body` as JSON; transport errors become [`SendError`]s, any status is returned.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        body: &impl Serialize,
    ) -> Result<Reply, SendError> {
        let bytes = serde_json::to_vec(body).map_err(|e| SendError::Fatal {
            reason: format!("payload not serialisable: {e}"),
        })?;
        self.post_bytes(url, bytes, HeaderMap::new()).await
    }

    /// POSTs raw JSON bytes with extra headers (the generic webhook signs the exact bytes).
    pub(crate) async fn post_bytes(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: HeaderMap,
    ) -> Result<Reply, SendError> {
        let response = self
            .http
            .post(url)
            .timeout(TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.text().await.map_err(|e| self.transport_error(e))?;
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    /// `Ok` for 2xx; otherwise Retry for 408/425/429/5xx and Fatal for the rest, with the
    /// status and a short, cleaned excerpt of the body.
    pub(crate) fn check_status(&self, reply: &Reply) -> Result<(), SendError> {
        if reply.status.is_success() {
            return Ok(());
        }
        let excerpt = self.clean(&reply.body);
        let reason = if excerpt.is_empty() {
            format!("HTTP {}", reply.status.as_u16())
        } else {
            format!("HTTP {}: {excerpt}", reply.status.as_u16())
        };
        if retryable(reply.status) {
            Err(SendError::Retry {
                reason,
                after: reply.retry_after,
            })
        } else {
            Err(SendError::Fatal { reason })
        }
    }

    /// A request that never got an answer: a bad URL is fatal, anything else (connect,
    /// timeout, reset) is worth a retry. The URL is stripped: chat webhooks carry tokens.
    fn transport_error(&self, err: reqwest::Error) -> SendError {
        let err = err.without_url();
        let what = if err.is_timeout() {
            "request timed out".to_owned()
        } else if err.is_connect() {
            format!("connection failed: {}", root_cause(&err))
        } else {
            format!("request failed: {}", root_cause(&err))
        };
        let reason = self.clean(&what);
        if err.is_builder() {
            SendError::Fatal { reason }
        } else {
            SendError::Retry {
                reason,
                after: None,
            }
        }
    }
}

/// The innermost error's message (`Connection refused (os error 111)`), which says more than
/// reqwest's "error sending request".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Statuses a retry can help with.
pub(crate) fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 425 | 429) || status.is_server_error()
}

/// Retry-After as seconds (integer or decimal) or an HTTP date, capped at an hour.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = if let Ok(secs) = value.parse::<f64>() {
        seconds(secs)?
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        let ms = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
        Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A receiver's "retry after N seconds" (possibly fractional), capped at an hour.
pub(crate) fn seconds(secs: f64) -> Option<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(
        secs.min(MAX_RETRY_AFTER.as_secs_f64()),
    ))
}

/// How a robot API (DingTalk, WeCom) reports rejections in a 2xx body: `errcode`/`errmsg`.
pub(crate) struct Errcodes {
    /// The channel type, for the reason.
    pub name: &'static str,
    /// The code meaning "too many messages": retried after `throttle_wait`.
    pub throttled: i64,
    pub throttle_wait: Duration,
    /// A code worth a hint on what to fix, and the hint.
    pub hint: (i64, &'static str),
}

impl Errcodes {
    /// Ok for `errcode` 0 (or no body); Retry when throttled; Fatal otherwise.
    pub(crate) fn check(
        &self,
        endpoint: &Endpoint,
        body: Option<&serde_json::Value>,
    ) -> Result<(), SendError> {
        use serde_json::Value;
        let Some(body) = body else { return Ok(()) };
        let code = body.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        if code == 0 {
            return Ok(());
        }
        let msg = body.get("errmsg").and_then(Value::as_str).unwrap_or("");
        let reason = format!("{} errcode {code}: {}", self.name, endpoint.clean(msg));
        if code == self.throttled {
            Err(SendError::Retry {
                reason,
                after: Some(self.throttle_wait),
            })
        } else if code == self.hint.0 {
            Err(SendError::Fatal {
                reason: format!("{reason} ({})", self.hint.1),
            })
        } else {
            Err(SendError::Fatal { reason })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_reason_never_shows_the_token_of_a_webhook_url_even_when_the_body_echoes_it() {
        let r = Redact::new(["https://open.feishu.cn/open-apis/bot/v2/hook/abcdef123456"]);
        let cleaned = r.clean("invalid hook abcdef123456 at\nhttps://open.feishu.cn/x");
        assert!(!cleaned.contains("abcdef123456"), "{cleaned}");
        assert!(cleaned.starts_with("invalid hook *** at "), "{cleaned}");
    }

    #[test]
    fn excerpts_are_one_short_line() {
        let long = "x\u{1b}[31m\n".repeat(200);
        let cleaned = Redact::default().clean(&long);
        assert!(cleaned.chars().count() <= EXCERPT_CHARS);
        assert!(!cleaned.contains('\n') && !cleaned.contains('\u{1b}'));
    }

    #[test]
    fn byte_truncation_keeps_chinese_text_valid_and_within_the_limit() {
        let s = "余额不足".repeat(1000);
        let cut = truncate_bytes(&s, 4096);
        assert!(cut.len() <= 4096 && cut.ends_with('…'));
        assert_eq!(truncate_bytes("short", 4096), "short");
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&later).expect("ascii date"),
        );
        let wait = retry_after(&h).expect("a date parses");
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
    }

    #[test]
    fn only_timeouts_throttling_and_server_errors_are_retryable() {
        for s in [408, 425, 429, 500, 502, 503] {
            assert!(retryable(StatusCode::from_u16(s).expect("valid")), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 413] {
            assert!(!retryable(StatusCode::from_u16(s).expect("valid")), "{s}");
        }
    }
}
