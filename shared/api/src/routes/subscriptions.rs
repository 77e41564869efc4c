//! Subscriptions: list with renewal status, add, update, delete, mark/clear renewed.
//! Every change is written back to config.json.

use axum::extract::State;
use axum::Json;
use balance_alert_core::check::housekeeping::renewal_spec;
use balance_alert_core::config::edit;
use balance_alert_core::model::subscription::{renewal_status, Cycle};
use balance_alert_core::model::wire::*;
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::config::save_edit;

use crate::error::{ApiError, ApiJson};
use crate::AppState;

/// Every configured subscription with its next renewal and days left.
#[utoipa::path(get, path = "/api/subscriptions", tag = "subscriptions", security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = SubscriptionList)))]
pub async fn list(State(state): State<AppState>) -> Json<SubscriptionList> {
    let loaded = state.config.get();
    let today = loaded.config.settings.timezone.today();
    let subscriptions = loaded
        .config
        .subscriptions
        .iter()
        .map(|s| {
            let st = renewal_status(&renewal_spec(s), today);
            let next = st.next_renewal_date.to_string();
            let (interval_days, start_date) = match &s.cycle {
                Cycle::EveryNDays { days, start_date } => {
                    (Some(*days), Some(start_date.to_string()))
                }
                _ => (None, None),
            };
            SubscriptionRow {
                interval_days,
                start_date,
                name: s.name.clone(),
                owner_project: s.owner_project.clone(),
                cycle_type: s.cycle_type.clone(),
                renewal_day: s.renewal_day,
                alert_days_before: s.alert_days_before,
                amount: s.amount,
                currency: s.currency.clone(),
                enabled: s.enabled,
                last_renewed_date: s.last_renewed_date.map(|d| d.to_string()),
                renewal_date: next.clone(),
                next_renewal_date: next,
                days_until_renewal: st.days_until_renewal,
                already_renewed: st.already_renewed,
                need_alert: st.need_alert && s.enabled,
                need_renewal: st.need_alert && s.enabled,
            }
        })
        .collect();
    Json(SubscriptionList {
        status: "success".into(),
        subscriptions,
    })
}

/// The same list under the Python tool's configuration path.
#[utoipa::path(get, path = "/api/config/subscriptions", tag = "subscriptions", security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = SubscriptionList)))]
pub async fn config_list(state: State<AppState>) -> Json<SubscriptionList> {
    list(state).await
}

fn fields_map(fields: &SubscriptionInput) -> Result<Map<String, Value>, ApiError> {
    match serde_json::to_value(fields) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::Internal(
            "subscription fields did not serialise to an object".into(),
        )),
    }
}

/// Subscription edits go to the file; refuse them while the environment supplies the list.
fn file_backed(state: &AppState) -> Result<(), ApiError> {
    if state.config.subscriptions_from_env() {
        return Err(ApiError::Conflict(
            "subscriptions come from SUBSCRIPTION_n_* environment variables (the file has none): change those instead".into(),
        ));
    }
    Ok(())
}

fn require_name(name: &str, field: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::BadRequest(format!("{field}: must not be empty")));
    }
    Ok(())
}

/// Adds a subscription (name, cycle_type and renewal_day required).
#[utoipa::path(post, path = "/api/subscription/add", tag = "subscriptions", security(("api_key" = []), ("bearer" = [])),
    request_body = SubscriptionInput,
    responses((status = 200, body = EditResponse), (status = 400, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SubscriptionInput>,
) -> Result<Json<EditResponse>, ApiError> {
    file_backed(&state)?;
    require_name(&req.name, "name")?;
    if req.cycle_type.is_none() {
        return Err(ApiError::BadRequest(
            "cycle_type: is required (weekly, monthly, yearly or every_n_days)".into(),
        ));
    }
    if req.renewal_day.is_none() && req.cycle_type.as_deref() != Some("every_n_days") {
        return Err(ApiError::BadRequest(
            "renewal_day: is required (weekly 1–7, monthly 1–31, yearly MMDD)".into(),
        ));
    }
    let mut map = Map::new();
    map.insert("name".into(), Value::String(req.name.clone()));
    if req.new_name.is_some() {
        return Err(ApiError::BadRequest(
            "new_name: only valid when updating".into(),
        ));
    }
    map.extend(fields_map(&req)?);
    save_edit(
        &state,
        move |raw| edit::add_subscription(raw, map),
        format!("subscription {:?} added", req.name),
    )
    .await
}

/// Updates fields of a subscription (and renames it with `new_name`).
#[utoipa::path(post, path = "/api/config/subscription", tag = "subscriptions", security(("api_key" = []), ("bearer" = [])),
    request_body = SubscriptionInput,
    responses((status = 200, body = EditResponse), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SubscriptionInput>,
) -> Result<Json<EditResponse>, ApiError> {
    file_backed(&state)?;
    require_name(&req.name, "name")?;
    let mut map = fields_map(&req)?;
    if let Some(new_name) = &req.new_name {
        require_name(new_name, "new_name")?;
        map.insert("new_name".into(), Value::String(new_name.clone()));
    }
    let name = req.name.clone();
    save_edit(
        &state,
        move |raw| edit::update_subscription(raw, &name, map),
        format!("subscription {:?} updated", req.name),
    )
    .await
}

/// Deletes a subscription.
#[utoipa::path(delete, path = "/api/subscription/delete", tag = "subscriptions", security(("api_key" = []), ("bearer" = [])),
    request_body = SubscriptionName,
    responses((status = 200, body = EditResponse), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SubscriptionName>,
) -> Result<Json<EditResponse>, ApiError> {
    file_backed(&state)?;
    let name = req.name.clone();
    save_edit(
        &state,
        move |raw| edit::delete_subscription(raw, &name),
        format!("subscription {:?} deleted", req.name),
    )
    .await
}

/// Records a renewal (default today): no reminder until the next cycle.
#[utoipa::path(post, path = "/api/subscription/mark_renewed", tag = "subscriptions", security(("api_key" = []), ("bearer" = [])),
    request_body = MarkRenewed,
    responses((status = 200, body = EditResponse), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn mark_renewed(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<MarkRenewed>,
) -> Result<Json<EditResponse>, ApiError> {
    file_backed(&state)?;
    let date = match &req.renewed_date {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::BadRequest(format!(
                "renewed_date: must be a date like 2026-01-31, got {d:?}"
            ))
        })?,
        None => state.config.get().config.settings.timezone.today(),
    };
    let mut map = Map::new();
    map.insert("last_renewed_date".into(), Value::String(date.to_string()));
    let name = req.name.clone();
    save_edit(
        &state,
        move |raw| edit::update_subscription(raw, &name, map),
        format!("subscription {:?} marked renewed on {date}", req.name),
    )
    .await
}

/// Clears the recorded renewal.
#[utoipa::path(post, path = "/api/subscription/clear_renewed", tag = "subscriptions", security(("api_key" = []), ("bearer" = [])),
    request_body = SubscriptionName,
    responses((status = 200, body = EditResponse), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn clear_renewed(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SubscriptionName>,
) -> Result<Json<EditResponse>, ApiError> {
    file_backed(&state)?;
    let mut map = Map::new();
    map.insert("last_renewed_date".into(), Value::Null);
    let name = req.name.clone();
    save_edit(
        &state,
        move |raw| edit::update_subscription(raw, &name, map),
        format!("renewal of {:?} cleared", req.name),
    )
    .await
}
