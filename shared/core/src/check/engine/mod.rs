//! The check engine: one shared HTTP client, bounded concurrency, per-request timeout, retries
//! with exponential backoff and jitter (honouring Retry-After), a circuit breaker per provider
//! endpoint and a response cache.

mod breaker;
mod cache;

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use balance_alert_model::Balance;
use futures::StreamExt;

pub use breaker::Breakers;
pub use cache::ResponseCache;

use crate::config::{ProjectConfig, Settings};
use crate::providers::{self, Http, ProviderError, ReadRequest};
use crate::scrub::Scrubber;

pub use crate::providers::http::MAX_BODY_BYTES;

/// Hooks for metrics; the default methods do nothing.
pub trait CheckObserver: Send + Sync {
    /// One HTTP attempt finished (`outcome` is `ok` or a [`ProviderError::label`]).
    fn api_call(&self, _provider: &str, _outcome: &str, _latency: Duration) {}
    /// A project check was answered from the cache (`hit`) or had to call out.
    fn cache(&self, _hit: bool) {}
}

/// An observer that ignores everything.
pub struct NoopObserver;
impl CheckObserver for NoopObserver {}

/// The engine's tunables, taken from [`Settings`].
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    pub max_concurrent: usize,
    pub request_timeout: Duration,
    pub max_retries: usize,
    pub retry_base_delay: Duration,
    pub max_retry_after: Duration,
    pub cache_ttl: Duration,
    pub breaker_failures: u32,
    pub breaker_reset: Duration,
    /// The configured zone: dates a person wrote (a manual balance's `balance_date`) mean
    /// its midnight.
    pub timezone: crate::config::TimeZone,
}

impl From<&Settings> for EngineOptions {
    fn from(s: &Settings) -> Self {
        EngineOptions {
            max_concurrent: s.max_concurrent_checks.max(1),
            request_timeout: Duration::from_secs_f64(s.request_timeout_seconds),
            max_retries: s.max_retries as usize,
            retry_base_delay: Duration::from_millis(s.retry_base_delay_ms),
            max_retry_after: Duration::from_secs(s.max_retry_after_seconds),
            cache_ttl: Duration::from_secs(s.response_cache_ttl),
            breaker_failures: s.circuit_breaker_failures,
            breaker_reset: Duration::from_secs(s.circuit_breaker_reset_seconds),
            timezone: s.timezone,
        }
    }
}

/// The result of checking one project.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// Index into the slice given to [`Engine::check_all`].
    pub index: usize,
    pub result: Result<Balance, ProviderError>,
    /// Answered from the response cache.
    pub cached: bool,
    /// Wall time of the check, retries included.
    pub elapsed: Duration,
}

/// Checks projects against their providers. Build one per process and share it.
pub struct Engine {
    http: Http,
    options: EngineOptions,
    /// Bounds provider calls across every concurrent run (scheduler batches, manual refresh),
    /// not just within one.
    permits: tokio::sync::Semaphore,
    breakers: Breakers,
    cache: ResponseCache,
    observer: Arc<dyn CheckObserver>,
}

/// Whether a check may use the response cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    Use,
    Bypass,
}

impl Engine {
    /// Builds the engine and its HTTP client (keep-alive pool shared by all checks).
    pub fn new(
        options: EngineOptions,
        observer: Arc<dyn CheckObserver>,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("balance-alert/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(options.max_concurrent)
            .connect_timeout(options.request_timeout)
            .build()?;
        Ok(Engine {
            http: Http::new(client, options.request_timeout),
            permits: tokio::sync::Semaphore::new(options.max_concurrent),
            breakers: Breakers::new(options.breaker_failures, options.breaker_reset),
            cache: ResponseCache::new(options.cache_ttl),
            options,
            observer,
        })
    }

    /// Checks every project, at most `max_concurrent` at once; results in input order.
    pub async fn check_all(
        &self,
        projects: &[&ProjectConfig],
        mode: CacheMode,
    ) -> Vec<CheckOutcome> {
        let mut outcomes: Vec<CheckOutcome> =
            self.check_stream(projects, &[], mode).collect().await;
        outcomes.sort_by_key(|o| o.index);
        outcomes
    }

    /// Checks every project, at most `max_concurrent` at once, yielding each outcome as soon as
    /// it is known (in completion order; [`CheckOutcome::index`] says which project).
    ///
    /// `last_currency[i]` (when given) is the currency project `i` was last read in: adapters
    /// whose accounts report several currencies keep to it when nothing else decides.
    pub fn check_stream<'a>(
        &'a self,
        projects: &'a [&'a ProjectConfig],
        last_currency: &'a [Option<String>],
        mode: CacheMode,
    ) -> impl futures::Stream<Item = CheckOutcome> + Send + 'a {
        // An iterator of futures from a named async fn (not an async closure) keeps the
        // stream `Send` for callers such as axum handlers.
        let checks: Vec<_> = projects
            .iter()
            .enumerate()
            .map(|(index, p)| {
                let hint = last_currency.get(index).and_then(|c| c.as_deref());
                self.check_indexed(index, p, hint, mode)
            })
            .collect();
        futures::stream::iter(checks).buffer_unordered(self.options.max_concurrent)
    }

    async fn check_indexed(
        &self,
        index: usize,
        project: &ProjectConfig,
        last_currency: Option<&str>,
        mode: CacheMode,
    ) -> CheckOutcome {
        let mut outcome = self.check_with(project, last_currency, mode).await;
        outcome.index = index;
        outcome
    }

    /// Checks one project: cache, breaker, then the provider with retries.
    pub async fn check(&self, project: &ProjectConfig, mode: CacheMode) -> CheckOutcome {
        self.check_with(project, None, mode).await
    }

    /// [`Engine::check`], knowing the currency the project was last read in.
    #[tracing::instrument(skip_all, fields(project = %project.name, provider = %project.provider))]
    pub async fn check_with(
        &self,
        project: &ProjectConfig,
        last_currency: Option<&str>,
        mode: CacheMode,
    ) -> CheckOutcome {
        let started = Instant::now();
        let done = |result, cached| CheckOutcome {
            index: 0,
            result,
            cached,
            elapsed: started.elapsed(),
        };
        let Some(provider) = providers::lookup(&project.provider) else {
            return done(
                Err(ProviderError::Unsupported(project.provider.clone())),
                false,
            );
        };
        let base_url = project
            .base_url
            .as_deref()
            .unwrap_or(provider.base_url_for(project))
            .trim_end_matches('/');
        let key = project.api_key.expose();
        let secrets = project.scrubber();
        // The figure depends on the provider, where, the options and the key.
        let cache_key = ResponseCache::key(
            &format!(
                "{}|{}|{}|{}",
                provider.name(),
                base_url,
                project.options.fingerprint(),
                project.currency.as_deref().unwrap_or("")
            ),
            key,
        );
        let request = ReadRequest {
            base_url,
            api_key: key,
            project,
            currency: project.currency.as_deref(),
            last_currency,
            now: chrono::Utc::now(),
            timezone: self.options.timezone,
        };
        if mode == CacheMode::Use {
            if let Some(hit) = self.cache.get(cache_key) {
                self.observer.cache(true);
                return done(Ok(hit), true);
            }
        }
        self.observer.cache(false);
        // One breaker per endpoint *and key*: a key that is revoked, out of quota or whose
        // account makes the provider answer 500 must not stop the checks of other keys on the
        // same endpoint. A provider that is really down fails every key, so each key's projects
        // still see their own real failures.
        let breaker_key = format!("{}|{}|{:016x}", provider.name(), base_url, fingerprint(key));
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        // Asked once, before the first attempt: an open breaker means "not attempted" (the
        // project keeps its last reading, marked stale). Retries of an attempt that did go out
        // are not cut short by it, so their outcome is always a real answer.
        if let Err(retry_in) = self.breakers.allow(&breaker_key) {
            return done(
                Err(ProviderError::CircuitOpen {
                    provider: provider.name().into(),
                    retry_in,
                }),
                false,
            );
        }

        let attempt = || async {
            let t = Instant::now();
            let result = provider
                .read(&self.http, &request)
                .await
                .map_err(|e| redact(e, &secrets));
            let label = result.as_ref().map_or_else(ProviderError::label, |_| "ok");
            self.observer.api_call(provider.name(), label, t.elapsed());
            self.breakers.record(
                &breaker_key,
                result.as_ref().is_err_and(ProviderError::trips_breaker),
            );
            result
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.options.retry_base_delay)
            .with_max_delay(Duration::from_secs(10))
            .with_max_times(self.options.max_retries)
            .with_jitter();
        let max_retry_after = self.options.max_retry_after;
        let result = attempt
            .retry(backoff)
            .when(ProviderError::is_retryable)
            .adjust(
                move |e: &ProviderError, planned: Option<Duration>| match e.retry_after() {
                    // A wait longer than we are willing to spend gives up now: other checks and the
                    // next scheduled run are better uses of the time.
                    Some(asked) if asked > max_retry_after => None,
                    Some(asked) => planned.map(|_| asked),
                    None => planned,
                },
            )
            .notify(|e: &ProviderError, wait: Duration| {
                tracing::debug!(error = %e, wait_ms = wait.as_millis() as u64, "retrying");
            })
            .await;
        if let Ok(balance) = &result {
            self.cache.put(cache_key, balance.clone());
        }
        done(result, false)
    }
}

/// A process-local fingerprint of an API key, so breakers can be per key without holding it.
fn fingerprint(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// Removes what the project sends its provider (key, header values, URL secrets; see
/// [`ProjectConfig::scrubber`]) from the texts of an error: providers echo them in error bodies.
fn redact(e: ProviderError, secrets: &Scrubber) -> ProviderError {
    let clean = |s: String| secrets.scrub(&s);
    match e {
        ProviderError::Upstream { status, snippet } => ProviderError::Upstream {
            status,
            snippet: clean(snippet),
        },
        ProviderError::Unparseable { reason, snippet } => ProviderError::Unparseable {
            reason: clean(reason),
            snippet: clean(snippet),
        },
        ProviderError::Api { message } => ProviderError::Api {
            message: clean(message),
        },
        ProviderError::Retired { advice, snippet } => ProviderError::Retired {
            advice: clean(advice),
            snippet: clean(snippet),
        },
        ProviderError::Network(m) => ProviderError::Network(clean(m)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_the_key_from_echoed_bodies() {
        let e = ProviderError::Upstream {
            status: 500,
            snippet: "bad key sk-secret-1 sorry".into(),
        };
        assert_eq!(
            redact(e, &Scrubber::new(["sk-secret-1"]).cutting_tails()).to_string(),
            "upstream error HTTP 500: bad key *** sorry"
        );
    }
}
