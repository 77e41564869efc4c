//! The HTTP API. [`app`] builds the one axum `Router` that the local server serves and the API
//! Lambda will serve unchanged; [`metrics_app`] serves `/metrics` on its own port.

pub mod auth;
pub mod error;
pub mod http;
pub mod key;
pub mod memo;
pub mod openapi;
pub mod routes;
pub mod site;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Router};
use balance_alert_core::check::Checker;
use balance_alert_core::config::{ConfigSource, EnvLookup};
use balance_alert_core::health::Status;
use balance_alert_core::store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use auth::AuthConfig;
use balance_alert_services::Metrics;
pub use error::ApiError;
pub use site::Site;

/// What `/metrics` reads: this process's recorder, the config and the store.
#[derive(Clone)]
pub struct MetricsSource {
    pub metrics: Arc<Metrics>,
    /// Whose generation says when the store's data may have changed.
    pub status: Arc<Status>,
    pub config: Arc<dyn ConfigSource>,
    pub store: Arc<dyn Store>,
}

impl AppState {
    /// What `/metrics` needs from this app's state.
    pub fn metrics_source(&self) -> MetricsSource {
        MetricsSource {
            metrics: self.metrics.clone(),
            status: self.status.clone(),
            config: self.config.clone(),
            store: self.store.clone(),
        }
    }
}

/// Largest request body accepted (JSON edits are small).
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// HTTP-level options, from the environment.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Requests per minute per client IP (`RATE_LIMIT_PER_MINUTE`, default 100; 0 = off).
    /// Only requests that authenticated (or need no key) count.
    pub rate_limit_per_minute: u32,
    /// Failed authentications per minute per client IP before further failures answer 429
    /// (`AUTH_FAILURE_LIMIT_PER_MINUTE`, default 10; 0 = off). Counted apart from the quota
    /// above, so a client guessing keys behind a shared proxy never locks out the others, and
    /// a correct key is never refused for someone else's failures.
    pub auth_failures_per_minute: u32,
    /// Origins allowed cross-origin (`CORS_ORIGINS`, comma-separated; `*` for any; empty =
    /// same-origin only).
    pub cors_origins: Vec<String>,
    /// Without an API key, the host names (and IPs) requests may be addressed to besides the
    /// loopback ones (`ALLOWED_HOSTS`, comma-separated; `serve` adds its listen address). A
    /// guard against DNS rebinding: a web page cannot reach the open API through a name it
    /// controls.
    pub allowed_hosts: Vec<String>,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            rate_limit_per_minute: 100,
            auth_failures_per_minute: 10,
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
        }
    }
}

impl ApiOptions {
    /// Refuses options that would open the API to every web page: `CORS_ORIGINS=*` without an
    /// API key lets any site a user visits read balances and edit the config through their
    /// browser.
    pub fn check_with(&self, auth: &AuthConfig) -> Result<(), String> {
        if auth.api_key.is_none() && self.cors_origins.iter().any(|o| o == "*") {
            return Err("CORS_ORIGINS=*: without an API key any web page a user opens could read balances and edit the config through their browser; set WEB_API_KEY (or API_KEY_SECRET_ARN), or list the dashboard's origins in CORS_ORIGINS".into());
        }
        Ok(())
    }

    /// Reads `RATE_LIMIT_PER_MINUTE` and `CORS_ORIGINS`; a malformed number is an error naming it.
    pub fn from_env(env: &(impl EnvLookup + ?Sized)) -> Result<Self, String> {
        let mut o = ApiOptions::default();
        if let Some(v) = env.get("RATE_LIMIT_PER_MINUTE") {
            o.rate_limit_per_minute = v.trim().parse().map_err(|_| {
                format!("RATE_LIMIT_PER_MINUTE: must be a whole number ≥ 0, got {v:?}")
            })?;
        }
        if let Some(v) = env.get("AUTH_FAILURE_LIMIT_PER_MINUTE") {
            o.auth_failures_per_minute = v.trim().parse().map_err(|_| {
                format!("AUTH_FAILURE_LIMIT_PER_MINUTE: must be a whole number ≥ 0, got {v:?}")
            })?;
        }
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        if let Some(v) = env.get("CORS_ORIGINS") {
            o.cors_origins = list(v);
        }
        if let Some(v) = env.get("ALLOWED_HOSTS") {
            o.allowed_hosts = list(v);
        }
        Ok(o)
    }
}

/// Everything handlers need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Where the configuration comes from (file, environment, or the store's document).
    pub config: Arc<dyn ConfigSource>,
    pub store: Arc<dyn Store>,
    /// Freshness and store health as this process knows them.
    pub status: Arc<Status>,
    /// Runs checks for `POST /api/refresh`; None where this process does not check.
    pub refresher: Option<Arc<Checker>>,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<AuthConfig>,
    pub limiter: Arc<http::Limiter>,
    /// Failed authentications per client ([`ApiOptions::auth_failures_per_minute`]).
    pub auth_failures: Arc<http::Limiter>,
    pub options: Arc<ApiOptions>,
    pub started: Instant,
    /// The last rendered `/api/credits` body, reused while nothing changed.
    pub credits_cache: Arc<memo::RenderCache>,
    /// The dashboard served at `/` (the local server's embedded build); None keeps the plain
    /// status page there (the API Lambda, tests, a binary built without the SPA).
    pub site: Option<Arc<dyn Site>>,
    /// Requests look for a new configuration themselves (the api function, which nothing
    /// watches between invocations); None where a background task does (`serve`).
    pub config_refresh: Option<Arc<http::ConfigRefresh>>,
    /// What `/ready` waits for.
    pub readiness: Readiness,
}

/// What `/ready` means for a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Readiness {
    /// As `/health`, and every enabled project has had a reading or a failure since start: a
    /// process that schedules checks (`serve`).
    #[default]
    FirstResults,
    /// The config is loaded and the store answers: a process that only serves requests (the
    /// api function; the checker function schedules the checks).
    Serving,
}

impl AppState {
    /// The state of a process that also checks (the local server, the api function): config,
    /// store and status come from its checker, which serves manual refreshes.
    pub fn new(
        checker: Arc<Checker>,
        metrics: Arc<Metrics>,
        auth: AuthConfig,
        options: ApiOptions,
    ) -> Self {
        AppState {
            config: checker.config.clone(),
            store: checker.store.clone(),
            status: checker.status.clone(),
            refresher: Some(checker),
            metrics,
            auth: Arc::new(auth),
            limiter: Arc::new(http::Limiter::per_minute(options.rate_limit_per_minute)),
            auth_failures: Arc::new(http::Limiter::per_minute(options.auth_failures_per_minute)),
            options: Arc::new(options),
            started: Instant::now(),
            credits_cache: Arc::default(),
            site: None,
            config_refresh: None,
            readiness: Readiness::default(),
        }
    }

    /// Requests install a newer configuration before they are handled, looking at most once
    /// per `every` ([`http::refresh_config`]).
    pub fn with_config_refresh(mut self, every: std::time::Duration) -> Self {
        self.config_refresh = Some(Arc::new(http::ConfigRefresh::every(every)));
        self
    }

    /// Sets what `/ready` waits for.
    pub fn with_readiness(mut self, readiness: Readiness) -> Self {
        self.readiness = readiness;
        self
    }

    /// Serves `site` at `/` and for the app's client routes.
    pub fn with_site(mut self, site: Arc<dyn Site>) -> Self {
        self.site = Some(site);
        self
    }
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint; see /docs".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("this endpoint does not take that method; see /docs".into())
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("handler panicked".into()).into_response()
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("x-api-key"),
            ]),
    )
}

/// The API router.
pub fn app(state: AppState) -> Router {
    let (protected, _) = routes::protected().split_for_parts();
    let protected = protected
        // Inside the authentication: only requests that authenticated spend the quota.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            http::rate_limit,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_auth,
        ));
    // The refresh token in the body is this route's credential: a client refreshing a JWT
    // need not hold the API key.
    let (public_api, _) = routes::public().split_for_parts();
    let public_api = public_api.route_layer(middleware::from_fn_with_state(
        state.clone(),
        http::rate_limit,
    ));
    let api = protected.merge(public_api);
    let cors = cors(&state.options.cors_origins);
    let refreshing = state.config_refresh.is_some();
    let (open, _) = routes::open().split_for_parts();
    let router = open
        .merge(api)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            http::record_metrics,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            http::host_guard,
        ))
        .fallback(site::fallback)
        .method_not_allowed_fallback(method_not_allowed);
    // Only where asked: `serve` reloads in the background and its requests skip the layer.
    let router = if refreshing {
        router.layer(middleware::from_fn_with_state(
            state.clone(),
            http::refresh_config,
        ))
    } else {
        router
    };
    let router = router
        .layer(middleware::from_fn(http::etag))
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state);
    match cors {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

/// What a process serves while it cannot start yet (its store does not answer): `/live` 200,
/// `/health` and `/ready` 503 with `reason`, every other path 503 `{"status":"error",
/// "message": reason}`. Nothing is read from the store, so it answers at once however the
/// store hangs.
pub fn unavailable_app(reason: impl Into<String>) -> Router {
    let reason: Arc<str> = reason.into().into();
    let started = Instant::now();
    let health = {
        let reason = reason.clone();
        move || async move { routes::health::unavailable(started, &reason) }
    };
    Router::new()
        .route("/health", get(health.clone()))
        .route("/ready", get(health))
        .route("/live", get(routes::health::live))
        .fallback(move || async move { ApiError::Unavailable(reason.to_string()) })
}

/// `GET /metrics` in the Prometheus text format, for the separate metrics port.
///
/// The metrics carry project names and balances and have no credential of their own, so only
/// requests addressed to a loopback name, an IP address the port listens on or a name in
/// `allowed_hosts` are answered (421 otherwise): a web page cannot read them through DNS
/// rebinding. Prometheus scraping by IP or `localhost` is unaffected.
pub fn metrics_app(source: MetricsSource, allowed_hosts: Vec<String>) -> Router {
    let allowed = Arc::new(allowed_hosts);
    // The last exposition, plain and gzipped, shared by every scrape until something changes.
    let cache = Arc::new(memo::RenderCache::default());
    let guard = move |request: axum::extract::Request, next: middleware::Next| {
        let allowed = allowed.clone();
        async move {
            let host = request
                .headers()
                .get(header::HOST)
                .map(|v| v.to_str().unwrap_or("\u{fffd}").to_owned())
                .or_else(|| request.uri().authority().map(|a| a.to_string()));
            match host {
                Some(h) if !http::host_allowed(&h, &allowed) => ApiError::MisdirectedRequest(
                    "this metrics port does not answer to that host name: scrape it by IP or localhost, or add the name to ALLOWED_HOSTS".into(),
                )
                .into_response(),
                _ => next.run(request).await,
            }
        }
    };
    Router::new()
        .route(
            "/metrics",
            get(move |headers: axum::http::HeaderMap| {
                let (source, cache) = (source.clone(), cache.clone());
                async move {
                    let rendered = exposition(&source, &cache).await;
                    match rendered {
                        Ok(r) => r.respond(&headers, "text/plain; version=0.0.4; charset=utf-8"),
                        Err(e) => e.into_response(),
                    }
                }
            }),
        )
        .layer(middleware::from_fn(http::etag))
        .layer(middleware::from_fn(guard))
}

/// The exposition for `/metrics`, rendered once per change: while the store's `generation`
/// (check runs, edits), the config and this process's recordings are the ones it was rendered
/// from, every scrape shares the same plain and gzipped bytes ([`memo::RenderCache`], which
/// also re-renders once a second for writes by other processes). Renders are single-flight,
/// so a scrape storm holds one rendering at a time.
async fn exposition(
    source: &MetricsSource,
    cache: &memo::RenderCache,
) -> Result<Arc<memo::Rendered>, ApiError> {
    // Both counters only grow, so their sum changes whenever either does.
    let key = source
        .status
        .generation()
        .wrapping_add(source.metrics.version());
    let loaded = source.config.get();
    let config = loaded.clone();
    cache
        .get(key, loaded, || async move {
            let text = source.metrics.render_all(&config.config, &*source.store);
            Ok(text.await?.into_bytes())
        })
        .await
}
