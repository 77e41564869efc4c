//! `GET /api/config/projects` (keys masked) and `POST /api/config/threshold`.

use axum::extract::State;
use axum::Json;
use balance_alert_core::config::edit;
use balance_alert_core::model::wire::*;
use balance_alert_core::model::Decimal;

use crate::error::{ApiError, ApiJson};
use crate::AppState;

/// Every configured project, API keys masked.
#[utoipa::path(get, path = "/api/config/projects", tag = "config", security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = ProjectList)))]
pub async fn projects(State(state): State<AppState>) -> Json<ProjectList> {
    let loaded = state.config.get();
    let projects = loaded
        .config
        .projects
        .iter()
        .map(|p| ProjectView {
            name: p.name.clone(),
            project_id: p.id(),
            owner_project: p.owner_project.clone(),
            provider: p.provider.clone(),
            api_key: p.api_key.masked(),
            threshold: p.threshold,
            critical_threshold: p.critical_threshold,
            kind: p.kind.clone(),
            enabled: p.enabled,
            base_url: p.base_url.clone(),
            currency: p.currency.clone(),
            check_interval: p.check_interval,
        })
        .collect();
    Json(ProjectList {
        status: "success".into(),
        projects,
    })
}

/// Applies an edit to config.json through the live config and reports `message`.
pub async fn save_edit(
    state: &AppState,
    edit: impl FnOnce(&mut serde_json::Value) -> Result<(), edit::EditError> + Send + 'static,
    message: String,
) -> Result<Json<EditResponse>, ApiError> {
    state.config.edit(Box::new(edit)).await?;
    state.status.touch();
    Ok(Json(EditResponse {
        status: "success".into(),
        message,
    }))
}

/// Sets a project's threshold and writes it back to config.json (placeholders, comments and
/// every other project kept).
#[utoipa::path(post, path = "/api/config/threshold", tag = "config", security(("api_key" = []), ("bearer" = [])),
    request_body = ThresholdRequest,
    responses((status = 200, body = EditResponse), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody)))]
pub async fn set_threshold(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ThresholdRequest>,
) -> Result<Json<EditResponse>, ApiError> {
    if req.new_threshold < Decimal::ZERO {
        return Err(ApiError::BadRequest(format!(
            "new_threshold: must be a number ≥ 0, got {}",
            req.new_threshold
        )));
    }
    if req.project_name.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "project_name: must name a configured project".into(),
        ));
    }
    if state.config.projects_from_env() {
        return Err(ApiError::Conflict(
            "projects come from PROJECT_n_* environment variables, which replace the file's: set PROJECT_n_THRESHOLD instead".into(),
        ));
    }
    let (provider, name) = {
        let loaded = state.config.get();
        let p = loaded.config.find_project(&req.project_name)?;
        (p.provider.clone(), p.name.clone())
    };
    let message = format!(
        "threshold of {provider}:{name} set to {}",
        req.new_threshold
    );
    let threshold = req.new_threshold;
    save_edit(
        &state,
        move |raw| edit::set_threshold(raw, &provider, &name, threshold),
        message,
    )
    .await
}
