//! History: balance points, trend with forecast, alerts and alert statistics.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::Json;
use balance_alert_core::model::forecast::{forecast, Point};
use balance_alert_core::model::AlertRecord;
use balance_alert_core::model::Decimal;
use balance_alert_core::money::to_f64;
use balance_alert_core::store::{AlertQuery, BalancePoint};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{iso, resolve_project_id};
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::AppState;

const MAX_DAYS: u32 = 3650;
const MAX_LIMIT: usize = 10_000;

fn days_window(days: Option<u32>, default: u32) -> Result<i64, ApiError> {
    let days = days.unwrap_or(default);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "days: must be from 1 to {MAX_DAYS}, got {days}"
        )));
    }
    Ok(chrono::Utc::now().timestamp() - i64::from(days) * 86_400)
}

fn limit(limit: Option<usize>, default: usize) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit: must be from 1 to {MAX_LIMIT}, got {limit}"
        )));
    }
    Ok(limit)
}

/// Query of `GET /api/history/balance`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BalanceQuery {
    /// md5 id, `provider:name`, or a project name.
    pub project_id: Option<String>,
    /// Only this provider's projects.
    pub provider: Option<String>,
    /// Days back (default 7).
    pub days: Option<u32>,
    /// Most recent points returned (default 100).
    pub limit: Option<usize>,
}

/// One stored balance reading.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceRow {
    pub project_id: String,
    pub project_name: String,
    pub provider: String,
    #[schema(value_type = f64)]
    pub balance: Decimal,
    #[schema(value_type = f64)]
    pub threshold: Decimal,
    pub currency: String,
    /// RFC 3339.
    pub timestamp: String,
}

impl From<BalancePoint> for BalanceRow {
    fn from(p: BalancePoint) -> Self {
        BalanceRow {
            timestamp: iso(p.timestamp),
            project_id: p.project_id,
            project_name: p.project_name,
            provider: p.provider,
            balance: p.balance,
            threshold: p.threshold,
            currency: p.currency,
        }
    }
}

/// Balance points, newest last.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceHistory {
    pub status: &'static str,
    pub count: usize,
    pub data: Vec<BalanceRow>,
}

/// Balance history of one project, one provider's projects, or all projects.
#[utoipa::path(get, path = "/api/history/balance", tag = "history", params(BalanceQuery),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = BalanceHistory), (status = 400, body = crate::openapi::ErrorBody)))]
pub async fn balance(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<BalanceQuery>,
) -> Result<Json<BalanceHistory>, ApiError> {
    let since = days_window(q.days, 7)?;
    let limit = limit(q.limit, 100)?;
    let loaded = state.config.get();
    let ids: Vec<String> = match &q.project_id {
        Some(reference) => vec![resolve_project_id(&loaded.config, reference)?],
        None => {
            let mut ids: Vec<String> = loaded
                .config
                .projects
                .iter()
                .filter(|p| q.provider.as_ref().is_none_or(|prov| &p.provider == prov))
                .map(|p| p.id())
                .collect();
            // Projects removed from the config keep their history.
            for s in state.store.list_states().await? {
                if q.provider.as_ref().is_none_or(|prov| &s.provider == prov)
                    && !ids.contains(&s.project_id)
                {
                    ids.push(s.project_id);
                }
            }
            ids
        }
    };
    let mut points = Vec::new();
    for id in ids {
        points.extend(state.store.balance_history(&id, since, limit).await?);
    }
    if let Some(provider) = &q.provider {
        points.retain(|p| &p.provider == provider);
    }
    points.sort_by_key(|p| p.timestamp);
    let skip = points.len().saturating_sub(limit);
    let data: Vec<BalanceRow> = points
        .into_iter()
        .skip(skip)
        .map(BalanceRow::from)
        .collect();
    Ok(Json(BalanceHistory {
        status: "success",
        count: data.len(),
        data,
    }))
}

/// Query with only a day window.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DaysQuery {
    /// Days back (default 30).
    pub days: Option<u32>,
}

/// When the balance reaches the threshold and zero, counted from the latest reading at the
/// burn rate since the last top-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastView {
    /// Units spent per day since the last top-up (0 when the balance is not falling).
    pub burn_rate_per_day: f64,
    /// The latest reading is already below the threshold (or at/below zero): no crossing date
    /// lies ahead, `days_until_threshold` is 0.
    pub already_below: bool,
    /// The latest reading is at or below zero: `days_until_zero` is 0.
    pub already_empty: bool,
    /// RFC 3339; null when already below the threshold or not falling.
    pub threshold_date: Option<String>,
    /// Days from now (0 when already below; null when not falling).
    pub days_until_threshold: Option<f64>,
    /// RFC 3339; null when already empty or not falling.
    pub zero_date: Option<String>,
    /// Days from now (0 when already empty; null when not falling).
    pub days_until_zero: Option<f64>,
}

/// One point of a trend.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendPoint {
    pub timestamp: String,
    #[schema(value_type = f64)]
    pub balance: Decimal,
}

/// Trend statistics over the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendData {
    pub project_id: String,
    pub project_name: Option<String>,
    pub provider: Option<String>,
    pub currency: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub threshold: Option<Decimal>,
    pub days: u32,
    pub data_points: usize,
    #[schema(value_type = Option<f64>)]
    pub current_balance: Option<Decimal>,
    #[schema(value_type = Option<f64>)]
    pub min_balance: Option<Decimal>,
    #[schema(value_type = Option<f64>)]
    pub max_balance: Option<Decimal>,
    /// Mean of the window's readings, rounded to 8 decimal places.
    #[schema(value_type = Option<f64>)]
    pub avg_balance: Option<Decimal>,
    /// Latest minus first balance in the window.
    #[schema(value_type = Option<f64>)]
    pub change: Option<Decimal>,
    pub change_percent: Option<f64>,
    pub history: Vec<TrendPoint>,
    /// Null when there is no downward trend.
    pub forecast: Option<ForecastView>,
}

/// Trend response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Trend {
    pub status: &'static str,
    pub data: TrendData,
}

/// Trend of one project (`id` = md5 id, `provider:name`, or name) with a run-out forecast.
#[utoipa::path(get, path = "/api/history/trend/{id}", tag = "history",
    params(("id" = String, Path, description = "md5(\"provider:name\"), provider:name, or project name"), DaysQuery),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = Trend), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn trend(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Trend>, ApiError> {
    let days = q.days.unwrap_or(30);
    let since = days_window(Some(days), 30)?;
    let loaded = state.config.get();
    let project_id = resolve_project_id(&loaded.config, &id)?;
    let project = loaded.config.projects.iter().find(|p| p.id() == project_id);
    let points = state
        .store
        .balance_history(&project_id, since, MAX_LIMIT)
        .await?;
    if project.is_none() && points.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no project or history for {id:?}"
        )));
    }
    let balances: Vec<Decimal> = points.iter().map(|p| p.balance).collect();
    let first = balances.first().copied();
    let current = balances.last().copied();
    let threshold = project
        .map(|p| p.threshold)
        .or_else(|| points.last().map(|p| p.threshold));
    let change = current.zip(first).map(|(c, f)| c - f);
    let now = chrono::Utc::now().timestamp();
    let fit: Vec<Point> = points
        .iter()
        .map(|p| Point {
            timestamp: p.timestamp,
            balance: to_f64(p.balance),
        })
        .collect();
    let days_from_now = |t: i64| ((t - now) as f64 / 86_400.0).max(0.0);
    let forecast = forecast(&fit, threshold.map_or(0.0, to_f64)).map(|f| ForecastView {
        burn_rate_per_day: f.burn_rate_per_day,
        already_below: f.already_below,
        already_empty: f.already_empty,
        threshold_date: f.threshold_at.map(iso),
        days_until_threshold: if f.already_below {
            Some(0.0)
        } else {
            f.threshold_at.map(days_from_now)
        },
        zero_date: f.zero_at.map(iso),
        days_until_zero: if f.already_empty {
            Some(0.0)
        } else {
            f.zero_at.map(days_from_now)
        },
    });
    let data = TrendData {
        project_id: project_id.clone(),
        project_name: project
            .map(|p| p.name.clone())
            .or_else(|| points.last().map(|p| p.project_name.clone())),
        provider: project
            .map(|p| p.provider.clone())
            .or_else(|| points.last().map(|p| p.provider.clone())),
        currency: points.last().map(|p| p.currency.clone()),
        threshold,
        days,
        data_points: points.len(),
        current_balance: current,
        min_balance: balances.iter().copied().min(),
        max_balance: balances.iter().copied().max(),
        avg_balance: (!balances.is_empty()).then(|| {
            (balances.iter().sum::<Decimal>() / Decimal::from(balances.len())).round_dp(8)
        }),
        change,
        change_percent: change
            .zip(first)
            .filter(|(_, f)| !f.is_zero())
            .map(|(c, f)| to_f64(c / f * Decimal::ONE_HUNDRED)),
        history: points
            .iter()
            .map(|p| TrendPoint {
                timestamp: iso(p.timestamp),
                balance: p.balance,
            })
            .collect(),
        forecast,
    };
    Ok(Json(Trend {
        status: "success",
        data,
    }))
}

/// Query of `GET /api/history/alerts`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    /// md5 id, `provider:name`, or a project name.
    pub project_id: Option<String>,
    /// Days back (default 7).
    pub days: Option<u32>,
    /// Most recent alerts returned (default 50).
    pub limit: Option<usize>,
}

/// One alert record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertRow {
    pub id: String,
    pub project_id: String,
    pub project_name: String,
    pub provider: String,
    /// `low`, `critical`, `failing`, `recovered`, `reminder` or `renewal`.
    pub alert_type: String,
    pub state: String,
    #[schema(value_type = Option<f64>)]
    pub balance: Option<Decimal>,
    #[schema(value_type = f64)]
    pub threshold: Decimal,
    pub currency: String,
    pub message: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub timestamp: String,
}

impl From<AlertRecord> for AlertRow {
    fn from(a: AlertRecord) -> Self {
        AlertRow {
            alert_type: a.kind.as_str().to_owned(),
            state: a.state.as_str().to_owned(),
            status: a.status.as_str().to_owned(),
            timestamp: iso(a.created_at),
            id: a.id,
            project_id: a.project_id,
            project_name: a.project_name,
            provider: a.provider,
            balance: a.balance,
            threshold: a.threshold,
            currency: a.currency,
            message: a.message,
        }
    }
}

/// Alerts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertHistory {
    pub status: &'static str,
    pub count: usize,
    pub data: Vec<AlertRow>,
}

/// Alert history, newest first.
#[utoipa::path(get, path = "/api/history/alerts", tag = "history", params(AlertsQuery),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = AlertHistory), (status = 400, body = crate::openapi::ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AlertsQuery>,
) -> Result<Json<AlertHistory>, ApiError> {
    let since = days_window(q.days, 7)?;
    let limit = limit(q.limit, 50)?;
    let loaded = state.config.get();
    let project_id = q
        .project_id
        .as_deref()
        .map(|r| resolve_project_id(&loaded.config, r))
        .transpose()?;
    let records = state
        .store
        .alerts(AlertQuery {
            project_id,
            since: Some(since),
            limit,
        })
        .await?;
    let data: Vec<AlertRow> = records.into_iter().map(AlertRow::from).collect();
    Ok(Json(AlertHistory {
        status: "success",
        count: data.len(),
        data,
    }))
}

/// Alerts per project.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectAlertCount {
    pub project_id: String,
    pub project_name: String,
    pub count: usize,
}

/// Statistics over the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsData {
    pub days: u32,
    pub total_alerts: usize,
    pub by_type: BTreeMap<String, usize>,
    pub by_status: BTreeMap<String, usize>,
    pub by_project: Vec<ProjectAlertCount>,
    /// Projects by current state (`unknown` = never checked).
    pub projects_by_state: BTreeMap<String, usize>,
}

/// Stats response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub status: &'static str,
    pub data: StatsData,
}

/// Alert counts by type, status and project, and projects by state.
#[utoipa::path(get, path = "/api/history/stats", tag = "history", params(DaysQuery),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = Stats), (status = 400, body = crate::openapi::ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Stats>, ApiError> {
    let days = q.days.unwrap_or(30);
    let since = days_window(Some(days), 30)?;
    let records = state
        .store
        .alerts(AlertQuery {
            project_id: None,
            since: Some(since),
            limit: usize::MAX >> 1,
        })
        .await?;
    let mut by_type = BTreeMap::new();
    let mut by_status = BTreeMap::new();
    let mut by_project: HashMap<String, ProjectAlertCount> = HashMap::new();
    for a in &records {
        *by_type.entry(a.kind.as_str().to_owned()).or_insert(0) += 1;
        *by_status.entry(a.status.as_str().to_owned()).or_insert(0) += 1;
        by_project
            .entry(a.project_id.clone())
            .or_insert_with(|| ProjectAlertCount {
                project_id: a.project_id.clone(),
                project_name: a.project_name.clone(),
                count: 0,
            })
            .count += 1;
    }
    let mut by_project: Vec<ProjectAlertCount> = by_project.into_values().collect();
    by_project.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.project_name.cmp(&b.project_name))
    });
    let loaded = state.config.get();
    let states: HashMap<String, String> = state
        .store
        .list_states()
        .await?
        .into_iter()
        .map(|s| (s.project_id, s.state.as_str().to_owned()))
        .collect();
    let mut projects_by_state = BTreeMap::new();
    for p in loaded.config.projects.iter().filter(|p| p.enabled) {
        let s = states
            .get(&p.id())
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        *projects_by_state.entry(s).or_insert(0) += 1;
    }
    Ok(Json(Stats {
        status: "success",
        data: StatsData {
            days,
            total_alerts: records.len(),
            by_type,
            by_status,
            by_project,
            projects_by_state,
        },
    }))
}
