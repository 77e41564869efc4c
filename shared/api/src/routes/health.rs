//! `/health`, `/ready` and `/live`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use balance_alert_core::model::wire::*;

use super::iso;
use crate::{AppState, Readiness};

/// Health and readiness from state kept in memory as checks complete: no store call is
/// awaited, so polling it costs nothing, slows no other endpoint and answers while the store
/// hangs. 503 when the config failed to
/// load, the store does not answer, or the data is stale; `/ready` is also 503 until every
/// enabled project has had a reading or a failure since start — or, where this process only
/// serves ([`Readiness::Serving`]), 503 only while the config or the store fails.
fn health_status(state: &AppState, ready_probe: bool) -> Response {
    let serving_only = ready_probe && state.readiness == Readiness::Serving;
    let need_run = ready_probe && !serving_only;
    let loaded = state.config.get();
    // A store that cannot be read makes the service unavailable, not broken: 503, not 500.
    // Known from memory: a store that hangs must not hang the health check.
    let store_down = !state.status.store_ok(&state.store);
    let last_update = Some(state.status.last_update()).filter(|t| *t > 0);
    let now = chrono::Utc::now().timestamp();
    let max_age = balance_alert_core::health::stale_after(&loaded.config.settings);
    let uptime = state.started.elapsed().as_secs();
    // Stale: the newest reading is too old, or none arrived in that long since start.
    let is_stale = match last_update {
        Some(t) => now.saturating_sub(t) > max_age,
        None => uptime as i64 > max_age,
    };
    let ready = if serving_only {
        !store_down && state.config.last_error().is_none()
    } else {
        state.status.ready_for(&loaded.config)
    };
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
        (false, None, true) if !serving_only => {
            Some(format!("no check completed in the last {max_age} s"))
        }
        (false, None, false) if need_run && !ready => {
            Some(match state.status.missing_results(&loaded.config) {
                0 => "starting: the first check run has not completed yet".to_owned(),
                n => format!("starting: {n} project(s) have no reading or failure since start yet"),
            })
        }
        (false, None, _) => None,
    };
    let body = Health {
        status: if reason.is_some() {
            "degraded"
        } else {
            "healthy"
        }
        .into(),
        has_data: last_update.is_some(),
        is_stale,
        ready,
        last_update: last_update.map(iso),
        uptime_seconds: uptime,
        version: env!("CARGO_PKG_VERSION").into(),
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

/// `/health` and `/ready` of a process that cannot serve yet (its store or config cannot be
/// read at start): 503 with `reason`, no data.
pub(crate) fn unavailable(started: std::time::Instant, reason: &str) -> Response {
    let body = Health {
        status: "degraded".into(),
        has_data: false,
        is_stale: false,
        ready: false,
        last_update: None,
        uptime_seconds: started.elapsed().as_secs(),
        version: env!("CARGO_PKG_VERSION").into(),
        config_sha256: None,
        reason: Some(reason.to_owned()),
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// Health. 503 when the config failed to load, the store does not answer or data is stale.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Response {
    health_status(&state, false)
}

/// Readiness: as `/health`, and 503 until every enabled project has had a reading or a failure
/// since start; where this process only serves, 503 only while the config or the store fails.
#[utoipa::path(get, path = "/ready", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn ready(State(state): State<AppState>) -> Response {
    health_status(&state, true)
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/live", tag = "health", responses((status = 200, description = "alive")))]
pub async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "alive"}))
}

/// Feature switches (`/api/features` in the Python tool).
#[utoipa::path(get, path = "/api/features", tag = "health", security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = Features)))]
pub async fn features(State(state): State<AppState>) -> Json<Features> {
    let file_backed = state.config.get().mode == balance_alert_core::config::Mode::Hybrid;
    Json(Features {
        status: "success".into(),
        features: FeatureFlags {
            subscriptions: true,
            dynamic_config: file_backed,
            history: true,
            jwt: state.auth.jwt_secret.is_some(),
        },
    })
}
