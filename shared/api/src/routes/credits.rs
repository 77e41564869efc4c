//! `GET /api/credits` (latest balance of every project) and `POST /api/refresh`.

use balance_alert_core::model::wire::*;
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::need_alarm;

use super::iso;
use crate::error::ApiError;
use crate::AppState;

/// Builds the rows from the configuration and the stored states.
pub async fn credit_rows(state: &AppState) -> Result<Credits, ApiError> {
    let loaded = state.config.get();
    let states: HashMap<String, ProjectState> = state
        .store
        .list_states()
        .await?
        .into_iter()
        .map(|s| (s.project_id.clone(), s))
        .collect();
    // The reading behind each state's figure: its note, estimate and unlimited flags.
    let readings: HashMap<String, BalancePoint> = state
        .store
        .latest_readings()
        .await?
        .into_iter()
        .map(|p| (p.project_id.clone(), p))
        .collect();
    let mut last_update = None;
    let projects: Vec<CreditRow> = loaded
        .config
        .projects
        .iter()
        .filter(|p| p.enabled)
        .map(|p| {
            let id = p.id();
            let s = states.get(&id);
            last_update = last_update.max(s.map(|s| s.last_checked_at));
            let success =
                s.is_some_and(|s| s.consecutive_failures == 0 && s.last_success_at.is_some());
            let credits = s.filter(|_| success).and_then(|s| s.balance);
            let reading = readings.get(&id).filter(|_| credits.is_some());
            let unlimited = reading.is_some_and(|r| r.unlimited);
            CreditRow {
                project: p.name.clone(),
                name: p.name.clone(),
                owner_project: p.owner_project.clone(),
                provider: p.provider.clone(),
                kind: p.kind.clone(),
                figure: balance_alert_core::providers::figure(p),
                success,
                credits,
                balance: credits,
                currency: s
                    .map(|s| s.currency.clone())
                    .filter(|c| !c.is_empty())
                    .or_else(|| p.currency.clone())
                    .unwrap_or_default(),
                threshold: p.threshold,
                critical_threshold: p.critical_threshold,
                need_alarm: s.is_some_and(|s| need_alarm(s.state, unlimited)),
                note: reading.and_then(|r| r.note.clone()),
                estimate: reading.is_some_and(|r| r.estimate),
                unlimited,
                state: s.map_or("unknown", |s| s.state.as_str()).to_owned(),
                error: match s {
                    None => Some("not checked yet".to_owned()),
                    Some(s) if !success => s.last_error.clone(),
                    Some(_) => None,
                },
                cached: s.is_some_and(|s| s.cached),
                stale: s.is_some_and(|s| s.stale_reason.is_some()),
                stale_reason: s.and_then(|s| s.stale_reason.clone()),
                snooze: s.and_then(|s| s.snooze.clone()),
                last_check: s.map(|s| iso(s.last_checked_at)),
                project_id: id,
            }
        })
        .collect();
    let summary = CreditSummary {
        total: projects.len(),
        success: projects.iter().filter(|p| p.success).count(),
        failed: projects.iter().filter(|p| !p.success).count(),
        need_alarm: projects.iter().filter(|p| p.need_alarm).count(),
    };
    Ok(Credits {
        last_update: last_update.map(iso),
        projects,
        summary,
    })
}

/// Latest balance of every enabled project.
///
/// The body is rendered once per change (check run, config reload or edit) and then served
/// from memory with its ETag, so polling dashboards cost a memcpy, not a store scan.
#[utoipa::path(get, path = "/api/credits", tag = "balances", security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = Credits), (status = 401, body = crate::openapi::ErrorBody)))]
pub async fn credits(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let generation = state.status.generation();
    let config = state.config.get();
    let rendered = state
        .credits_cache
        .get(generation, config, || async {
            serde_json::to_vec(&credit_rows(&state).await?)
                .map_err(|e| ApiError::Internal(e.to_string()))
        })
        .await?;
    Ok(rendered.respond(&headers, "application/json"))
}

/// Checks now (bypassing the response cache). One manual refresh per cooldown
/// (`settings.refresh_cooldown_seconds`, default 30 s); 429 with the seconds left otherwise.
#[utoipa::path(post, path = "/api/refresh", tag = "balances", security(("api_key" = []), ("bearer" = [])),
    request_body(content = Option<RefreshRequest>, content_type = "application/json"),
    responses((status = 200, body = RefreshResponse), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 429, body = crate::openapi::ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RefreshResponse>, ApiError> {
    let body = body.map_err(|e| match e.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge(crate::BODY_LIMIT_BYTES)
        }
        _ => ApiError::BadRequest(e.body_text()),
    })?;
    let request: RefreshRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RefreshRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::BadRequest(format!(
                "invalid JSON body: {e}; expected {{\"project_name\": \"...\"}} or no body"
            ))
        })?
    };
    let refresher = state
        .refresher
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("this deployment does not check on demand".into()))?;
    let run = refresher
        .refresh(request.project_name.as_deref())
        .await?
        .checks;
    let s = run.report.summary;
    Ok(Json(RefreshResponse {
        status: "success".into(),
        message: format!(
            "checked {} project(s): {} ok, {} failed, {} below threshold",
            s.total, s.success, s.failed, s.need_alarm
        ),
        report: run.report,
    }))
}
