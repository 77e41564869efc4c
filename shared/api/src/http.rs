//! Cross-cutting HTTP middleware: per-IP rate limiting, ETag/304, request metrics and, where
//! nothing watches the config in the background, its reload on requests.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;
use crate::AppState;

/// Largest response body buffered to compute an ETag.
const ETAG_MAX_BODY: usize = 16 * 1024 * 1024;

/// Per-client-IP request limiter.
pub struct Limiter {
    inner: Option<DefaultKeyedRateLimiter<IpAddr>>,
    calls: std::sync::atomic::AtomicU64,
}

impl Limiter {
    /// `per_minute` requests per client IP; 0 disables limiting.
    pub fn per_minute(per_minute: u32) -> Self {
        Limiter {
            inner: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            calls: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `Err(seconds to wait)` when `ip` is over its quota.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        // Forget clients whose quota has fully recovered, so the table cannot grow without bound.
        if self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % 4096
            == 4095
        {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs_f64()
                .ceil()
                .max(1.0) as u64
        })
    }
}

/// The client's address: the socket peer, or (behind API Gateway, no socket) the last
/// `X-Forwarded-For` entry.
pub(crate) fn client_ip(request: &Request) -> IpAddr {
    if let Some(ConnectInfo(addr)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        return addr.ip();
    }
    request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        // The last entry is the one the nearest proxy (API Gateway) appended; earlier ones
        // come from the client and could be anything.
        .and_then(|v| v.split(',').next_back())
        .and_then(|ip| ip.trim().parse().ok())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// The host part of a `Host` header or an origin's authority (`[::1]:8080` → `::1`).
fn host_part(authority: &str) -> &str {
    let authority = authority.trim();
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    }
}

/// Whether a host name may address this server when it runs without an API key: loopback
/// names and addresses, and the configured ones (`ALLOWED_HOSTS`, the listen address). A
/// configured unspecified address (`0.0.0.0`) admits any IP literal: a rebinding attack needs
/// a name, never an IP.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host_part(host).trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let ip = host.parse::<IpAddr>().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    allowed.iter().any(|a| {
        let a = host_part(a).trim_end_matches('.').to_ascii_lowercase();
        match a.parse::<IpAddr>() {
            Ok(any) if any.is_unspecified() => ip.is_some(),
            Ok(listen) => ip == Some(listen),
            Err(_) => a == host,
        }
    })
}

/// Middleware (keyless mode only): 421 for a `Host` this server does not answer to, and 403
/// for a state-changing request from a page of another origin. With an API key, the key is
/// the guard (a page cannot send it cross-origin without CORS consent).
pub async fn host_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.auth.api_key.is_some() {
        return next.run(request).await;
    }
    let allowed = &state.options.allowed_hosts;
    // A Host that is not text is refused like an unknown name (never waved through).
    let host = request
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").to_owned())
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    if let Some(host) = host.filter(|h| !host_allowed(h, allowed)) {
        return ApiError::MisdirectedRequest(format!(
            "this server does not answer to host {:?} without an API key: use localhost or its listen address, add the name to ALLOWED_HOSTS, or set WEB_API_KEY",
            host_part(&host)
        ))
        .into_response();
    }
    let state_changing = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if state_changing {
        if let Some(origin) = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
        {
            let authority = origin.split("://").nth(1).unwrap_or(origin);
            let cors_ok = state
                .options
                .cors_origins
                .iter()
                .any(|o| o == "*" || o.eq_ignore_ascii_case(origin));
            if origin == "null" || !(cors_ok || host_allowed(authority, allowed)) {
                return ApiError::Forbidden(format!(
                    "changes from pages of origin {origin:?} are refused without an API key; set WEB_API_KEY or list the origin in CORS_ORIGINS"
                ))
                .into_response();
            }
        }
    }
    next.run(request).await
}

/// Middleware: 429 with Retry-After once a client exceeds its quota.
pub async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match state.limiter.check(client_ip(&request)) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => ApiError::TooManyRequests {
            message: format!("rate limit exceeded: retry in {retry_after} s"),
            retry_after,
        }
        .into_response(),
    }
}

/// Middleware: a strong ETag on successful GET responses, and 304 when `If-None-Match`
/// already holds it.
pub async fn etag(request: Request, next: Next) -> Response {
    let conditional = request.headers().get(header::IF_NONE_MATCH).cloned();
    let is_get = matches!(*request.method(), Method::GET | Method::HEAD);
    let response = next.run(request).await;
    if !is_get || response.status() != StatusCode::OK {
        return response;
    }
    let matches = |tag: &str| {
        conditional
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
    };
    // A handler that already knows its ETag (a memoised body) is not buffered and hashed again.
    if let Some(tag) = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    {
        if matches(&tag) {
            let (mut parts, _) = response.into_parts();
            parts.status = StatusCode::NOT_MODIFIED;
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, Body::empty());
        }
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, ETAG_MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::Internal(format!("buffering response for ETag: {e}")).into_response()
        }
    };
    let tag_value = etag_for(&bytes);
    let hit = matches(tag_value.to_str().unwrap_or_default());
    parts.headers.insert(header::ETAG, tag_value);
    if hit {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A strong ETag for a body: a 64-bit SipHash (fixed keys, so stable across processes) and
/// the length.
pub fn etag_for(bytes: &[u8]) -> HeaderValue {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    HeaderValue::from_str(&format!("\"{:016x}-{:x}\"", hasher.finish(), bytes.len()))
        .expect("hex ETag is a valid header value")
}

/// How often requests look for a new configuration ([`AppState::with_config_refresh`]).
#[derive(Debug)]
pub struct ConfigRefresh {
    every: Duration,
    last: Mutex<Option<Instant>>,
}

impl ConfigRefresh {
    /// A look at most once per `every` (the first request always looks).
    pub fn every(every: Duration) -> Self {
        ConfigRefresh {
            every,
            last: Mutex::new(None),
        }
    }

    /// Whether a look is due now; if so, it is taken (concurrent requests do not all look).
    fn take(&self) -> bool {
        let mut last = self.last.lock().expect("refresh lock is never poisoned");
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < self.every) {
            return false;
        }
        *last = Some(now);
        true
    }
}

/// Middleware: before the request, installs a newer configuration when one was stored
/// ([`ConfigSource::refresh`](balance_alert_core::config::ConfigSource::refresh): a version
/// read, the document only when it changed), at most once per [`ConfigRefresh`] period. For a
/// process that cannot watch in the background (a Lambda is frozen between invocations).
pub async fn refresh_config(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.config_refresh.as_ref().is_some_and(|r| r.take()) && state.config.refresh().await {
        state.metrics.note_config_reload();
    }
    next.run(request).await
}

/// Middleware: records `balance_alert_http_request_duration` by route template.
pub async fn record_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.http_request(
        &method,
        &path,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
