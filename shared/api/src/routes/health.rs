//! `/health` (= `/ready`) and `/live`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::iso;
use crate::AppState;

/// Health: healthy when the config loaded, the store answers and data is fresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `healthy` or `degraded`.
    pub status: &'static str,
    pub has_data: bool,
    pub is_stale: bool,
    /// A check run has completed since this process started (`/ready` needs it).
    pub ready: bool,
    /// RFC 3339 time of the latest check, null before the first.
    pub last_update: Option<String>,
    pub uptime_seconds: u64,
    pub version: &'static str,
    /// SHA-256 of the config file as loaded (compare with `sha256sum config.json`); null in
    /// env-only mode.
    pub config_sha256: Option<String>,
    /// Why the status is degraded.
    pub reason: Option<String>,
}

/// Health and readiness from state kept in memory as checks complete: no store scan per call,
/// so polling it costs nothing and slows no other endpoint. 503 when the config failed to
/// load, the store does not answer, or the data is stale; `/ready` is also 503 until the first
/// check run completed.
async fn health_status(state: &AppState, need_run: bool) -> Response {
    let loaded = state.config.get();
    // A store that cannot be read makes the service unavailable, not broken: 503, not 500.
    let store_down = !state.status.store_ok(&*state.store).await;
    let last_update = Some(state.status.last_update()).filter(|t| *t > 0);
    let now = chrono::Utc::now().timestamp();
    let max_age = loaded
        .config
        .settings
        .balance_refresh_interval_seconds
        .max(60)
        .saturating_mul(3) as i64;
    let uptime = state.started.elapsed().as_secs();
    // Stale: the newest reading is too old, or none arrived in that long since start.
    let is_stale = match last_update {
        Some(t) => now.saturating_sub(t) > max_age,
        None => uptime as i64 > max_age,
    };
    let ready = state.status.has_run();
    // /health is public: with an API key configured, the config error's text (paths and
    // values) stays in the log.
    let config_reason = |e: String| match state.auth.api_key {
        Some(_) => {
            "config reload failed, running on the last good config; see the server log".to_owned()
        }
        None => format!("config reload failed, running on the last good config: {e}"),
    };
    let reason = match (store_down, state.config.last_error(), is_stale) {
        (true, _, _) => Some("the store cannot be read; see the server log".to_owned()),
        (false, Some(e), _) => Some(config_reason(e)),
        (false, None, true) => Some(format!("no check completed in the last {max_age} s")),
        (false, None, false) if need_run && !ready => {
            Some("starting: the first check run has not completed yet".to_owned())
        }
        (false, None, false) => None,
    };
    let body = Health {
        status: if reason.is_some() {
            "degraded"
        } else {
            "healthy"
        },
        has_data: last_update.is_some(),
        is_stale,
        ready,
        last_update: last_update.map(iso),
        uptime_seconds: uptime,
        version: env!("CARGO_PKG_VERSION"),
        config_sha256: loaded.content_hash.clone(),
        reason,
    };
    let code = if body.reason.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(body)).into_response()
}

/// Health. 503 when the config failed to load, the store does not answer or data is stale.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Response {
    health_status(&state, false).await
}

/// Readiness: as `/health`, and 503 until the first check run has completed.
#[utoipa::path(get, path = "/ready", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn ready(State(state): State<AppState>) -> Response {
    health_status(&state, true).await
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/live", tag = "health", responses((status = 200, description = "alive")))]
pub async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "alive"}))
}

/// Which optional parts are on, for clients of the Python tool that ask first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Features {
    pub status: &'static str,
    pub features: FeatureFlags,
}

/// The feature switches.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureFlags {
    pub subscriptions: bool,
    /// Config edits through the API are saved (false in env-only mode).
    pub dynamic_config: bool,
    pub history: bool,
    pub jwt: bool,
}

/// Feature switches (`/api/features` in the Python tool).
#[utoipa::path(get, path = "/api/features", tag = "health", security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = Features)))]
pub async fn features(State(state): State<AppState>) -> Json<Features> {
    let file_backed = state.config.get().mode == balance_alert_core::config::Mode::Hybrid;
    Json(Features {
        status: "success",
        features: FeatureFlags {
            subscriptions: true,
            dynamic_config: file_backed,
            history: true,
            jwt: state.auth.jwt_secret.is_some(),
        },
    })
}
