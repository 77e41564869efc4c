//! Subscriptions: list with renewal status, add, update, delete, mark/clear renewed.
//! Every change is written back to config.json.

use axum::extract::State;
use axum::Json;
use balance_alert_core::config::edit;
use balance_alert_core::model::subscription::renewal_status;
use balance_alert_core::monitor::renewal_spec;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::config::{save_edit, EditResponse};
use balance_alert_core::model::Decimal;

use crate::error::{ApiError, ApiJson};
use crate::AppState;

/// A subscription and where it stands today.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionRow {
    pub name: String,
    pub owner_project: Option<String>,
    pub cycle_type: String,
    pub renewal_day: u32,
    pub alert_days_before: i64,
    #[schema(value_type = f64)]
    pub amount: Decimal,
    pub currency: String,
    pub enabled: bool,
    pub last_renewed_date: Option<String>,
    /// `YYYY-MM-DD`; `renewal_date` repeats it for older clients.
    pub next_renewal_date: String,
    pub renewal_date: String,
    pub days_until_renewal: i64,
    pub already_renewed: bool,
    /// A reminder is due; `need_renewal` repeats it for older clients.
    pub need_alert: bool,
    pub need_renewal: bool,
}

/// All subscriptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionList {
    pub status: &'static str,
    pub subscriptions: Vec<SubscriptionRow>,
}

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
            SubscriptionRow {
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
        status: "success",
        subscriptions,
    })
}

/// The same list under the Python tool's configuration path.
#[utoipa::path(get, path = "/api/config/subscriptions", tag = "subscriptions", security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = SubscriptionList)))]
pub async fn config_list(state: State<AppState>) -> Json<SubscriptionList> {
    list(state).await
}

/// Body of `POST /api/subscription/add` (name, cycle_type, renewal_day required) and of
/// `POST /api/config/subscription` (name selects; the rest optional; new_name renames).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// The subscription's (current) name.
    #[serde(skip_serializing)]
    pub name: String,
    /// Rename to this (update only).
    #[serde(skip_serializing)]
    pub new_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_project: Option<String>,
    /// `weekly`, `monthly`, `yearly` or `every_n_days`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(weekly|monthly|yearly|every_n_days)$")]
    pub cycle_type: Option<String>,
    /// weekly 1–7 (Mon–Sun), monthly 1–31, yearly MMDD (e.g. 1231).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1231)]
    pub renewal_day: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 3650)]
    pub alert_days_before: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0)]
    pub amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub last_renewed_date: Option<String>,
    /// For `every_n_days`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 36500)]
    pub interval_days: Option<u32>,
    /// For `every_n_days`, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Body naming one subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionName {
    pub name: String,
}

/// Body of `POST /api/subscription/mark_renewed`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRenewed {
    pub name: String,
    /// `YYYY-MM-DD`, default today.
    #[schema(format = Date)]
    pub renewed_date: Option<String>,
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
