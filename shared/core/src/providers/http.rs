//! The engine's HTTP client as adapters see it: every request goes through [`Http::send`],
//! which applies the per-request timeout and the response-size cap, and [`Reply::json`] maps
//! statuses to [`ProviderError`]s the same way for every adapter.

use std::time::Duration;

use serde_json::Value;

use super::{snippet, ProviderError};

/// Largest response body read; anything bigger is an error, not a memory spike.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The shared client with the engine's limits.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

/// A complete response: status, capped body and the `Retry-After` it asked for.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub retry_after: Option<Duration>,
}

impl Http {
    pub fn new(client: reqwest::Client, timeout: Duration) -> Http {
        Http { client, timeout }
    }

    /// A GET asking for JSON.
    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
    }

    /// Any method, asking for JSON.
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json")
    }

    /// Sends within the timeout and reads at most [`MAX_BODY_BYTES`]. Only transport
    /// failures are errors here; the status is the caller's (see [`Reply::json`]).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply, ProviderError> {
        let timeout = self.timeout;
        let exchange = async {
            let mut response = request.send().await.map_err(network_error)?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
            if response
                .content_length()
                .is_some_and(|len| len as usize > MAX_BODY_BYTES)
            {
                return Err(ProviderError::TooLarge {
                    limit: MAX_BODY_BYTES,
                });
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(network_error)? {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ProviderError::TooLarge {
                        limit: MAX_BODY_BYTES,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Reply {
                status,
                body,
                retry_after,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ProviderError::Timeout { after: timeout }),
        }
    }
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON whatever the status (for providers whose error bodies say more than
    /// their status), if it is JSON.
    pub fn json_any_status(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The status mapped (401/403 → auth, 429 → rate limited, 410 → retired, other non-2xx →
    /// upstream with a snippet), then the body as JSON. HTML or anything else that is not JSON is
    /// unparseable: a failure, never a zero.
    pub fn json(&self) -> Result<Value, ProviderError> {
        self.check_status()?;
        serde_json::from_slice(&self.body).map_err(|e| ProviderError::Unparseable {
            reason: format!("not JSON ({e})"),
            snippet: snippet(&self.body),
        })
    }

    /// The status as an error, if it is not 2xx.
    pub fn check_status(&self) -> Result<(), ProviderError> {
        match self.status {
            401 | 403 => Err(ProviderError::Auth {
                status: self.status,
            }),
            429 => Err(ProviderError::RateLimited {
                retry_after: self.retry_after,
            }),
            410 => Err(ProviderError::Retired {
                advice: super::RETIRED_ADVICE.into(),
                snippet: snippet(&self.body),
            }),
            s if !(200..300).contains(&s) => Err(ProviderError::Upstream {
                status: s,
                snippet: snippet(&self.body),
            }),
            _ => Ok(()),
        }
    }
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); a date in the past
/// means "now".
pub(crate) fn parse_retry_after(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

fn network_error(e: reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        return ProviderError::Timeout {
            after: Duration::ZERO,
        };
    }
    // reqwest's Display includes the URL (which for wxrank carries the key: the engine scrubs
    // it); keep the message to its kind plus the innermost cause for readability.
    let mut cause: &dyn std::error::Error = &e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let kind = if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    ProviderError::Network(format!("{kind}: {cause}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T07:28:00Z")
            .expect("date")
            .to_utc();
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn html_with_200_is_a_failure_not_a_zero() {
        let r = Reply {
            status: 200,
            body: b"<html>502</html>".to_vec(),
            retry_after: None,
        };
        assert!(matches!(r.json(), Err(ProviderError::Unparseable { .. })));
        let r = Reply {
            status: 404,
            body: b"not found".to_vec(),
            retry_after: None,
        };
        assert!(matches!(
            r.json(),
            Err(ProviderError::Upstream { status: 404, .. })
        ));
    }

    #[test]
    fn a_410_is_a_retired_endpoint_with_advice_not_an_upstream_error() {
        let r = Reply {
            status: 410,
            body: br#"{"message":"this API has been discontinued"}"#.to_vec(),
            retry_after: None,
        };
        let e = r.json().expect_err("410 fails");
        assert_eq!(e.label(), "retired");
        assert!(!e.is_retryable());
        let text = e.to_string();
        assert!(
            text.starts_with("this endpoint was retired by the provider (HTTP 410): "),
            "{text}"
        );
        assert!(text.contains("provider table"), "{text}");
        assert!(text.contains("this API has been discontinued"), "{text}");
    }
}
