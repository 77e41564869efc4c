//! Acknowledge an alert, snooze a project: reminders stop until a time passes or the balance
//! recovers. The logic is core's (`snooze`), shared with the CLI.

use axum::extract::State;
use axum::Json;
use balance_alert_core::model::alert::Snooze;
use balance_alert_core::snooze::{acknowledge, set_snooze, SnoozeError};
use serde::{Deserialize, Serialize};

use super::resolve_project_id;
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::AppState;

/// `POST /api/projects/{id}/snooze`: give `until` (RFC 3339 or unix seconds) and/or
/// `until_topped_up`; `{"clear": true}` removes the snooze.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeRequest {
    /// RFC 3339 time (`2026-12-01T09:00:00+08:00`) or unix seconds.
    #[schema(value_type = Option<String>)]
    pub until: Option<serde_json::Value>,
    /// Until the balance is back above the threshold.
    #[serde(default)]
    pub until_topped_up: bool,
    /// Remove the project's snooze.
    #[serde(default)]
    pub clear: bool,
}

/// The project's snooze after the change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SnoozeResponse {
    pub status: String,
    pub project_id: String,
    pub project_name: String,
    pub snooze: Option<Snooze>,
}

impl From<SnoozeError> for ApiError {
    fn from(e: SnoozeError) -> Self {
        match e {
            SnoozeError::NoAlert(_) | SnoozeError::NoProject(_) => {
                ApiError::NotFound(e.to_string())
            }
            SnoozeError::Invalid(m) => ApiError::BadRequest(m),
            SnoozeError::Store(s) => s.into(),
        }
    }
}

fn parse_until(v: &serde_json::Value) -> Result<i64, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "until: must be an RFC 3339 time like 2026-12-01T09:00:00Z or unix seconds, got {v}"
        ))
    };
    match v {
        serde_json::Value::Number(n) => n.as_i64().ok_or_else(bad),
        serde_json::Value::String(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|d| d.timestamp())
            .or_else(|_| s.trim().parse::<i64>())
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Acknowledges an alert: its project gets no reminders until the balance recovers.
#[utoipa::path(post, path = "/api/alerts/{id}/ack", tag = "alerts",
    params(("id" = String, Path, description = "alert id")),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = SnoozeResponse), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn ack(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SnoozeResponse>, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let (alert, project) = acknowledge(&*state.store, &id, now).await?;
    Ok(Json(SnoozeResponse {
        status: "success".into(),
        project_id: alert.project_id,
        project_name: project.project_name,
        snooze: project.snooze,
    }))
}

/// Snoozes a project's reminders until a time and/or until it is topped up.
#[utoipa::path(post, path = "/api/projects/{id}/snooze", tag = "alerts",
    params(("id" = String, Path, description = "project id, provider:name or unique name")),
    request_body = SnoozeRequest,
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = SnoozeResponse), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn snooze(
    State(state): State<AppState>,
    ApiPath(reference): ApiPath<String>,
    ApiJson(req): ApiJson<SnoozeRequest>,
) -> Result<Json<SnoozeResponse>, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let id = {
        let loaded = state.config.get();
        resolve_project_id(&loaded.config, &reference)?
    };
    let snooze = if req.clear {
        None
    } else {
        let until = req.until.as_ref().map(parse_until).transpose()?;
        Some(Snooze {
            until,
            until_topped_up: req.until_topped_up,
            alert_id: None,
            at: now,
        })
    };
    let project = set_snooze(&*state.store, &id, snooze, now).await?;
    Ok(Json(SnoozeResponse {
        status: "success".into(),
        project_id: project.project_id,
        project_name: project.project_name,
        snooze: project.snooze,
    }))
}
