//! `GET /api/config/projects` (keys masked), `POST /api/config/threshold` and `POST
//! /api/projects/{id}/balance` (a manual project's recorded balance).

use axum::extract::State;
use axum::Json;
use balance_alert_core::config::edit;
use balance_alert_core::model::wire::*;
use balance_alert_core::model::Decimal;
use balance_alert_core::scrub::mask_url;

use crate::error::{ApiError, ApiJson, ApiPath};
use crate::AppState;

/// Every configured project, API keys masked, base URLs without userinfo and query values.
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
            base_url: p.base_url.as_deref().map(mask_url),
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

/// Records a balance seen by a person for a `manual` project (a provider without a balance
/// API) and writes it to config.json as `balance` + `balance_date` (and `daily_spend` when
/// given): the estimate is re-based on it from the next check.
#[utoipa::path(post, path = "/api/projects/{id}/balance", tag = "config",
    params(("id" = String, Path, description = "project id, provider:name or unique name")),
    request_body = BalanceRequest,
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = EditResponse), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody)))]
pub async fn record_balance(
    State(state): State<AppState>,
    ApiPath(reference): ApiPath<String>,
    ApiJson(req): ApiJson<BalanceRequest>,
) -> Result<Json<EditResponse>, ApiError> {
    if req.balance.abs() > balance_alert_core::money::MAX_AMOUNT {
        return Err(ApiError::BadRequest(
            "balance: must be at most a quadrillion".into(),
        ));
    }
    if req
        .daily_spend
        .is_some_and(|d| d < Decimal::ZERO || d > balance_alert_core::money::MAX_AMOUNT)
    {
        return Err(ApiError::BadRequest(
            "daily_spend: must be a number from 0 to a quadrillion".into(),
        ));
    }
    let as_of = match req
        .as_of
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(s) => {
            let ok = chrono::DateTime::parse_from_rfc3339(s).is_ok()
                || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
            if !ok {
                return Err(ApiError::BadRequest(format!(
                    "as_of: must be a date such as 2026-11-20 or an RFC 3339 time, got {s:?}"
                )));
            }
            s.to_owned()
        }
    };
    if state.config.projects_from_env() {
        return Err(ApiError::Conflict(
            "projects come from PROJECT_n_* environment variables, which replace the file's: record the balance in the file instead".into(),
        ));
    }
    let (provider, name) = {
        let loaded = state.config.get();
        let p = loaded.config.find_project(&reference)?;
        let manual = balance_alert_core::providers::lookup(&p.provider)
            .is_some_and(|a| a.name() == "manual");
        if !manual {
            return Err(ApiError::BadRequest(format!(
                "{}:{} reads its balance from the provider; only projects with provider \"manual\" take a recorded balance",
                p.provider, p.name
            )));
        }
        (p.provider.clone(), p.name.clone())
    };
    let mut fields = vec![
        (
            "balance".to_owned(),
            balance_alert_core::money::to_json(req.balance),
        ),
        (
            "balance_date".to_owned(),
            serde_json::Value::String(as_of.clone()),
        ),
    ];
    if let Some(d) = req.daily_spend {
        fields.push((
            "daily_spend".to_owned(),
            balance_alert_core::money::to_json(d),
        ));
    }
    let message = format!(
        "balance of {provider}:{name} recorded: {} as of {as_of}",
        req.balance
    );
    save_edit(
        &state,
        move |raw| edit::set_project_fields(raw, &provider, &name, fields),
        message,
    )
    .await
}
