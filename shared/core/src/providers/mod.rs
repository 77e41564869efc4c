//! Provider adapters: one file per provider, all registered in [`PROVIDERS`].
//!
//! An adapter builds its own request(s) through the engine's [`Http`] (so timeouts, the
//! response-size cap and the status mapping apply to every adapter the same way) and turns the
//! answers into one [`Balance`]; the engine around it owns retries, the circuit breaker, the
//! cache and the redaction of keys. Most adapters are one Bearer GET: they implement [`Simple`]
//! (a path and a parser) and get [`Provider`] for free.

mod aliyun;
mod anthropic;
mod azure;
mod credit;
mod deepseek;
pub(crate) mod http;
mod http_json;
mod manual;
mod minimax;
mod moonshot;
mod novita;
mod openai;
mod openrouter;
mod signing;
mod siliconflow;
mod spend;
mod tikhub;
mod uniapi;
mod volcengine;
mod wxrank;
mod zhipu;

use std::time::Duration;

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

pub use crate::project::{OptionProblem, Options};
pub use http::{Http, Reply};

use crate::project::ProjectConfig;

/// Every supported provider, looked up by [`Provider::name`] or one of its aliases.
pub static PROVIDERS: &[&dyn Provider] = &[
    &openrouter::OpenRouter,
    &deepseek::DeepSeek,
    &moonshot::Moonshot,
    &siliconflow::SiliconFlow,
    &volcengine::Volcengine,
    &aliyun::Aliyun,
    &uniapi::UniApi,
    &tikhub::TikHub,
    &wxrank::WxRank,
    &novita::Novita,
    &openai::OpenAi,
    &anthropic::Anthropic,
    &azure::Azure,
    &zhipu::Zhipu,
    &minimax::MiniMax,
    &manual::Manual,
    &http_json::HttpJson,
];

/// Finds a provider by its config name or an alias (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| {
        p.name().eq_ignore_ascii_case(name)
            || p.aliases().iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// What kind of figure `project`'s provider reports for it (None: unsupported provider).
pub fn figure(project: &ProjectConfig) -> Option<balance_alert_model::BalanceKind> {
    lookup(&project.provider).map(|a| a.kind(project))
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
    /// The project's threshold, for adapters that choose among several figures (DeepSeek's
    /// currency rows); None when not known.
    pub threshold: Option<Decimal>,
}

/// One read of one project: where, with which key and options.
#[derive(Debug, Clone, Copy)]
pub struct ReadRequest<'a> {
    /// The base URL actually used (default or the project's override), without a trailing `/`.
    pub base_url: &'a str,
    /// The project's key (never put it in an error: the engine scrubs it, but do not rely on it).
    pub api_key: &'a str,
    /// The project, for adapter options ([`Options`]).
    pub project: &'a ProjectConfig,
    /// The project's configured `currency`, if any.
    pub currency: Option<&'a str>,
    /// The currency the project was last read in, if known.
    pub last_currency: Option<&'a str>,
    /// The time of the check.
    pub now: chrono::DateTime<chrono::Utc>,
    /// The configured zone, for dates a person wrote in the config.
    pub timezone: crate::timezone::TimeZone,
}

impl<'a> ReadRequest<'a> {
    /// The parse context of this request.
    pub fn parse_context(&self) -> ParseContext<'a> {
        ParseContext {
            base_url: self.base_url,
            currency: self.currency,
            last_currency: self.last_currency,
            threshold: Some(self.project.threshold),
        }
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// The project's adapter options.
    pub fn options(&self) -> &'a Options {
        &self.project.options
    }
}

/// One provider: how to read a project's figure.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The config name, e.g. `openrouter`.
    fn name(&self) -> &'static str;
    /// Other config names that mean this provider (the Python tool's `volc`, …).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// The API base URL used when the project sets no `base_url`.
    fn default_base_url(&self) -> &'static str;
    /// The base URL for this project when it sets no `base_url`: providers with several
    /// hosts (a China and a global one) choose by the project's `region`.
    fn base_url_for(&self, _project: &ProjectConfig) -> &'static str {
        self.default_base_url()
    }
    /// What kind of figure this provider reports for the project.
    fn kind(&self, project: &ProjectConfig) -> BalanceKind;
    /// Whether a project needs an `api_key` (the manual adapter does not).
    fn needs_key(&self) -> bool {
        true
    }
    /// Problems with the project's adapter options, checked when the config loads.
    fn check_options(&self, _project: &ProjectConfig) -> Vec<OptionProblem> {
        Vec::new()
    }
    /// Reads the figure.
    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError>;
}

/// An adapter that is one `GET base_url + path` with `Authorization: Bearer <api_key>`.
pub(crate) trait Simple: Send + Sync {
    fn name(&self) -> &'static str;
    fn default_base_url(&self) -> &'static str;
    fn path(&self) -> &'static str;
    fn kind(&self) -> BalanceKind;
    /// Interprets a 2xx body.
    fn parse(&self, body: &Value, ctx: &ParseContext<'_>) -> Result<Balance, ProviderError>;
}

#[async_trait::async_trait]
impl<T: Simple> Provider for T {
    fn name(&self) -> &'static str {
        Simple::name(self)
    }
    fn default_base_url(&self) -> &'static str {
        Simple::default_base_url(self)
    }
    fn kind(&self, _project: &ProjectConfig) -> BalanceKind {
        Simple::kind(self)
    }
    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let reply = http
            .send(http.get(&req.url(self.path())).bearer_auth(req.api_key))
            .await?;
        let body = reply.json()?;
        interpret(&body, |b| self.parse(b, &req.parse_context()))
    }
}

/// Runs a parser; a body it cannot read may be the provider reporting an error in its own
/// words (account suspended, …): that message beats "missing field".
pub(crate) fn interpret<T>(
    body: &Value,
    parse: impl FnOnce(&Value) -> Result<T, ProviderError>,
) -> Result<T, ProviderError> {
    match parse(body) {
        Err(e @ ProviderError::Unparseable { .. }) => Err(reported_error(body).unwrap_or(e)),
        other => other,
    }
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
    /// 410 Gone: the provider retired the endpoint; `advice` says what to do instead.
    #[error("this endpoint was retired by the provider (HTTP 410): {advice}{}", said(.snippet))]
    Retired { advice: String, snippet: String },
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

/// What a provider said with its 410, if anything.
fn said(snippet: &str) -> String {
    if snippet.is_empty() {
        String::new()
    } else {
        format!(" (the provider said: {snippet})")
    }
}

/// What to do about a retired endpoint when the adapter knows nothing more specific.
pub(crate) const RETIRED_ADVICE: &str = "the adapter's endpoint no longer exists; check the \
     README's provider table for the current one, set the project's base_url (or use provider \
     http_json) to point at it, or record the figure with provider manual";

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

    /// The same error with an adapter's own advice for a retired endpoint (other errors
    /// unchanged).
    pub fn with_retired_advice(self, advice: impl Into<String>) -> ProviderError {
        match self {
            ProviderError::Retired { snippet, .. } => ProviderError::Retired {
                advice: advice.into(),
                snippet,
            },
            other => other,
        }
    }

    /// A short label for metrics (`auth`, `timeout`, …).
    pub fn label(&self) -> &'static str {
        match self {
            ProviderError::Auth { .. } => "auth",
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::Upstream { .. } => "upstream",
            ProviderError::Retired { .. } => "retired",
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
    Ok(Balance::new(amount, currency, kind))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub fn ctx<'a>(base_url: &'a str, currency: Option<&'static str>) -> ParseContext<'a> {
        ParseContext {
            base_url,
            currency,
            last_currency: None,
            threshold: None,
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
        assert_eq!(lookup("volc").map(|p| p.name()), Some("volcengine"));
        assert!(lookup("nosuch").is_none());
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
            let simple: [&dyn Simple; 4] = [&deepseek::DeepSeek, &moonshot::Moonshot,
                &uniapi::UniApi, &tikhub::TikHub];
            for p in simple {
                let ctx = ParseContext { base_url: p.default_base_url(), currency: currency.as_deref(), last_currency: None, threshold: None };
                if let Ok(b) = p.parse(&body, &ctx) {
                    prop_assert!(!b.currency.is_empty(), "{}: {}", p.name(), b.amount);
                }
            }
            let ctx = ParseContext { base_url: "https://openrouter.ai", currency: currency.as_deref(), last_currency: None, threshold: None };
            if let Ok(b) = openrouter::OpenRouter.parse(&body, &ctx) {
                prop_assert!(!b.currency.is_empty());
            }
        }
    }
}
