//! Provider adapters: one file per provider, all registered in [`PROVIDERS`].
//!
//! An adapter only knows its endpoint and its response shape; the engine owns HTTP, retries,
//! timeouts, the circuit breaker and the cache, so every provider gets them the same way.

mod deepseek;
mod moonshot;
mod openrouter;
mod siliconflow;

use std::time::Duration;

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

/// Every supported provider, looked up by [`Provider::name`].
pub static PROVIDERS: &[&dyn Provider] = &[
    &openrouter::OpenRouter,
    &deepseek::DeepSeek,
    &moonshot::Moonshot,
    &siliconflow::SiliconFlow,
];

/// Finds a provider by its config name (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static dyn Provider> {
    PROVIDERS
        .iter()
        .copied()
        .find(|p| p.name().eq_ignore_ascii_case(name))
}

/// Names of all supported providers, for error messages.
pub fn names() -> Vec<&'static str> {
    PROVIDERS.iter().map(|p| p.name()).collect()
}

/// What an adapter needs to interpret a response.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext<'a> {
    /// The base URL actually used (default or the project's override).
    pub base_url: &'a str,
    /// The project's configured `currency`, if any.
    pub currency: Option<&'a str>,
    /// The currency the project was last read in, if known.
    pub last_currency: Option<&'a str>,
}

/// One provider's balance endpoint and response shape.
pub trait Provider: Send + Sync {
    /// The config name, e.g. `openrouter`.
    fn name(&self) -> &'static str;
    /// The API base URL used when the project sets no `base_url`.
    fn default_base_url(&self) -> &'static str;
    /// Path of the balance endpoint, appended to the base URL; called with `Authorization:
    /// Bearer <api_key>`.
    fn path(&self) -> &'static str;
    /// What kind of figure this provider reports.
    fn kind(&self) -> BalanceKind;
    /// Interprets a 2xx body.
    fn parse(&self, body: &Value, ctx: &ParseContext<'_>) -> Result<Balance, ProviderError>;
}

/// Why a balance could not be read. Messages never contain the API key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// 401/403: the key is wrong, revoked or lacks permission.
    #[error("authentication failed (HTTP {status}): check the project's api_key")]
    Auth { status: u16 },
    /// 429: the provider asks us to slow down.
    #[error("rate limited (HTTP 429){}", retry_after_text(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// Any other non-2xx status.
    #[error("upstream error HTTP {status}: {snippet}")]
    Upstream { status: u16, snippet: String },
    /// A 2xx body we could not interpret.
    #[error("unparseable response: {reason}; body starts: {snippet}")]
    Unparseable { reason: String, snippet: String },
    /// A 2xx body that reports an error in its own fields (e.g. SiliconFlow's `code`).
    #[error("provider reported an error: {message}")]
    Api { message: String },
    /// No complete response within the per-request timeout.
    #[error("timed out after {:.1}s", .after.as_secs_f64())]
    Timeout { after: Duration },
    /// Connection refused, DNS failure, reset…
    #[error("network error: {0}")]
    Network(String),
    /// The body exceeded the size cap.
    #[error("response larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// Too many recent failures for this key at this provider; not calling it for a while.
    #[error("not checked: circuit open for {provider} after repeated failures with this key, retrying in {}s", .retry_in.as_secs())]
    CircuitOpen {
        provider: String,
        retry_in: Duration,
    },
    /// The project names a provider we have no adapter for.
    #[error("provider {0:?} is not supported")]
    Unsupported(String),
}

fn retry_after_text(d: &Option<Duration>) -> String {
    d.map(|d| format!(", retry after {}s", d.as_secs()))
        .unwrap_or_default()
}

impl ProviderError {
    /// Worth another attempt: timeouts, 429, 5xx and network errors.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Timeout { .. }
            | ProviderError::RateLimited { .. }
            | ProviderError::Network(_) => true,
            ProviderError::Upstream { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Counts against the key's circuit breaker: the endpoint is unwell for this key.
    pub fn trips_breaker(&self) -> bool {
        self.is_retryable() && !matches!(self, ProviderError::RateLimited { .. })
    }

    /// The check was not attempted (the breaker is open): not a failed check. The project
    /// keeps its last state and reading, marked stale with this error as the reason.
    pub fn not_attempted(&self) -> bool {
        matches!(self, ProviderError::CircuitOpen { .. })
    }

    /// The wait a 429 asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// A short label for metrics (`auth`, `timeout`, …).
    pub fn label(&self) -> &'static str {
        match self {
            ProviderError::Auth { .. } => "auth",
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::Upstream { .. } => "upstream",
            ProviderError::Unparseable { .. } => "unparseable",
            ProviderError::Api { .. } => "api",
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::Network(_) => "network",
            ProviderError::TooLarge { .. } => "too_large",
            ProviderError::CircuitOpen { .. } => "circuit_open",
            ProviderError::Unsupported(_) => "unsupported",
        }
    }
}

/// A short, printable start of a body: at most 120 characters, control characters dropped.
/// The engine removes the API key from it before it reaches any message.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(120)
        .collect();
    clean.trim().to_owned()
}

/// The error a provider reports inside a 2xx body, in the common shapes: `{"error": {"message":
/// …}}`, `{"error": "…"}`, or `{"status": false | "code": <non-zero>, "message"/"msg": …}`.
pub fn reported_error(body: &Value) -> Option<ProviderError> {
    let text = |v: &Value| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let message = match body.get("error") {
        Some(Value::Object(e)) => e
            .get("message")
            .and_then(text)
            .or_else(|| e.get("type").and_then(text)),
        Some(e @ Value::String(_)) => text(e),
        _ => None,
    }
    .or_else(|| {
        let failed = body.get("status") == Some(&Value::Bool(false))
            || body.get("code").is_some_and(|c| {
                c.as_i64().is_some_and(|c| c != 0) || c.as_str().is_some_and(|c| c != "0")
            });
        failed
            .then(|| {
                body.get("message")
                    .and_then(text)
                    .or_else(|| body.get("msg").and_then(text))
            })
            .flatten()
    })?;
    Some(ProviderError::Api {
        message: snippet(message.as_bytes()),
    })
}

/// A JSON number, or a string holding one (several providers send amounts as strings),
/// exactly.
pub(crate) fn amount(v: &Value) -> Option<Decimal> {
    crate::money::from_json(v)
}

/// Reads a required amount at a JSON pointer, or says what was there instead.
pub(crate) fn amount_at(body: &Value, pointer: &str) -> Result<Decimal, ProviderError> {
    match body.pointer(pointer) {
        Some(v) => amount(v).ok_or_else(|| ProviderError::Unparseable {
            reason: format!("{pointer} is not a number"),
            snippet: snippet(v.to_string().as_bytes()),
        }),
        None => Err(ProviderError::Unparseable {
            reason: format!("missing {pointer}"),
            snippet: snippet(body.to_string().as_bytes()),
        }),
    }
}

/// A reading, refusing magnitudes beyond [`crate::money::MAX_AMOUNT`] (a computed figure
/// such as `total − used` can exceed what each part was allowed).
pub(crate) fn balance(
    amount: Decimal,
    currency: &str,
    kind: BalanceKind,
) -> Result<Balance, ProviderError> {
    if amount.abs() > crate::money::MAX_AMOUNT {
        return Err(ProviderError::Unparseable {
            reason: "the amount is out of range (beyond a quadrillion)".into(),
            snippet: amount.to_string(),
        });
    }
    Ok(Balance {
        amount,
        currency: currency.to_owned(),
        kind,
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub fn ctx<'a>(base_url: &'a str, currency: Option<&'static str>) -> ParseContext<'a> {
        ParseContext {
            base_url,
            currency,
            last_currency: None,
        }
    }

    pub fn fixture(text: &str) -> Value {
        serde_json::from_str(text).expect("fixture is valid JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_is_found_by_its_name() {
        for p in PROVIDERS {
            assert_eq!(lookup(p.name()).map(|f| f.name()), Some(p.name()));
        }
        assert!(lookup("OpenRouter").is_some());
        assert!(lookup("volc").is_none());
    }

    #[test]
    fn retryable_errors_are_timeouts_429_and_5xx() {
        assert!(ProviderError::Timeout {
            after: Duration::from_secs(1)
        }
        .is_retryable());
        assert!(ProviderError::RateLimited { retry_after: None }.is_retryable());
        assert!(ProviderError::Upstream {
            status: 502,
            snippet: String::new()
        }
        .is_retryable());
        assert!(!ProviderError::Upstream {
            status: 404,
            snippet: String::new()
        }
        .is_retryable());
        assert!(!ProviderError::Auth { status: 401 }.is_retryable());
        assert!(!ProviderError::RateLimited { retry_after: None }.trips_breaker());
    }

    #[test]
    fn snippet_is_short_and_printable() {
        let s = snippet(b"<html>\n\t<body>oops</body></html>");
        assert_eq!(s, "<html>  <body>oops</body></html>");
        assert_eq!(snippet(&[b'x'; 5000]).len(), 120);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary JSON using the field names the adapters look for.
    fn json() -> impl Strategy<Value = Value> {
        crate::test_json::json(&[
            "data",
            "total_credits",
            "total_usage",
            "balance_infos",
            "currency",
            "total_balance",
            "available_balance",
            "code",
            "totalBalance",
        ])
    }

    proptest! {
        #[test]
        fn adapters_never_panic_and_always_name_a_currency(body in json(), currency in prop::option::of("[A-Z]{3}")) {
            for p in PROVIDERS {
                let ctx = ParseContext { base_url: p.default_base_url(), currency: currency.as_deref(), last_currency: None };
                if let Ok(b) = p.parse(&body, &ctx) {
                    prop_assert!(!b.currency.is_empty(), "{}: {}", p.name(), b.amount);
                }
            }
        }
    }
}
