//! History: balance points, trend with forecast, alerts and alert statistics.

use balance_alert_core::model::wire::*;
use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::Json;
use balance_alert_core::model::trend;
use balance_alert_core::model::Decimal;
use balance_alert_core::store::AlertQuery;
use serde::Deserialize;
use utoipa::IntoParams;

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
    let points = match &q.project_id {
        Some(reference) => {
            let id = resolve_project_id(&loaded.config, reference)?;
            let mut points = state.store.balance_history(&id, since, limit).await?;
            if let Some(provider) = &q.provider {
                points.retain(|p| &p.provider == provider);
            }
            points
        }
        // Every project's readings, removed projects' history included, in one store call.
        None => {
            state
                .store
                .recent_readings(q.provider.as_deref(), since, limit)
                .await?
        }
    };
    let data: Vec<BalanceRow> = points.into_iter().map(BalanceRow::from).collect();
    Ok(Json(BalanceHistory {
        status: "success".into(),
        count: data.len(),
        data,
    }))
}

/// Most points a sparkline may ask for.
const MAX_POINTS: usize = 500;

/// Query of `GET /api/history/sparklines`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SparklinesQuery {
    /// Days back (default 7).
    pub days: Option<u32>,
    /// Most points per project, 2–500 (default 48).
    pub points: Option<usize>,
}

/// One thinned series per enabled project over the window: each of `points` equal spans
/// keeps its newest reading, so the response holds at most `points` per project however long
/// the history (what the overview's sparklines need, in one request).
#[utoipa::path(get, path = "/api/history/sparklines", tag = "history", params(SparklinesQuery),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = Sparklines), (status = 400, body = crate::openapi::ErrorBody)))]
pub async fn sparklines(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SparklinesQuery>,
) -> Result<Json<Sparklines>, ApiError> {
    let days = q.days.unwrap_or(7);
    let since = days_window(Some(days), 7)?;
    let points = q.points.unwrap_or(48);
    if !(2..=MAX_POINTS).contains(&points) {
        return Err(ApiError::BadRequest(format!(
            "points: must be from 2 to {MAX_POINTS}, got {points}"
        )));
    }
    let until = chrono::Utc::now().timestamp() + 1;
    let loaded = state.config.get();
    let ids: Vec<String> = loaded
        .config
        .projects
        .iter()
        .filter(|p| p.enabled)
        .map(|p| p.id())
        .collect();
    let mut by_project: HashMap<String, Vec<TrendPoint>> = HashMap::new();
    for p in state
        .store
        .downsampled_history(&ids, since, until, points)
        .await?
    {
        by_project
            .entry(p.project_id.clone())
            .or_default()
            .push(TrendPoint {
                timestamp: iso(p.timestamp),
                balance: p.balance,
            });
    }
    let now = chrono::Utc::now().timestamp();
    let mut data = Vec::with_capacity(ids.len());
    for p in loaded.config.projects.iter().filter(|p| p.enabled) {
        let id = p.id();
        data.push(Sparkline {
            points: by_project.remove(&id).unwrap_or_default(),
            forecast: balance_alert_core::forecast::view(
                state.store.as_ref(),
                &id,
                p.threshold,
                now,
            )
            .await?,
            project_id: id,
        });
    }
    Ok(Json(Sparklines {
        status: "success".into(),
        days,
        points,
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
    let now = chrono::Utc::now().timestamp();
    let rows = state
        .store
        .balance_history(&project_id, since, MAX_LIMIT)
        .await?;
    // Ending at the latest reading, which an unchanged balance may not have a row for.
    let points = match state.store.get_state(&project_id).await? {
        Some(s) => balance_alert_core::forecast::with_latest(rows, &s, now),
        None => rows,
    };
    if project.is_none() && points.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no project or history for {id:?}"
        )));
    }
    let balances: Vec<Decimal> = points.iter().map(|p| p.balance).collect();
    let threshold = project
        .map(|p| p.threshold)
        .or_else(|| points.last().map(|p| p.threshold));
    let stats = trend::stats(&balances);
    // The one forecast (its own window, whatever window the chart shows).
    let forecast = match threshold {
        Some(t) => {
            balance_alert_core::forecast::view(state.store.as_ref(), &project_id, t, now).await?
        }
        None => None,
    };
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
        current_balance: stats.current,
        min_balance: stats.min,
        max_balance: stats.max,
        avg_balance: stats.avg,
        change: stats.change,
        change_percent: stats.change_percent,
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
        status: "success".into(),
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
    /// Language of each alert's `message`: `zh` or `en` (default: `settings.language`).
    pub lang: Option<String>,
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
    let lang = match q.lang.as_deref() {
        None => loaded.config.settings.language,
        Some(l) => balance_alert_core::model::text::Language::parse(l).ok_or_else(|| {
            ApiError::BadRequest(format!("lang {l:?} is not a language; use zh or en"))
        })?,
    };
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
    let acked: Vec<String> = state
        .store
        .list_states()
        .await?
        .into_iter()
        .filter_map(|s| s.snooze.and_then(|z| z.alert_id))
        .collect();
    let data: Vec<AlertRow> = records
        .into_iter()
        .map(|a| {
            let message = balance_alert_core::model::text::alert_text(&a, lang);
            let mut row = AlertRow::from(a);
            row.message = message;
            row.acknowledged = acked.contains(&row.id);
            row
        })
        .collect();
    Ok(Json(AlertHistory {
        status: "success".into(),
        count: data.len(),
        data,
    }))
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
        status: "success".into(),
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
