//! The one run-out forecast, read from the store: every surface (the forecast alert, the trend
//! API, `/api/credits`, `/metrics`, the digest) reads its inputs here and computes it with
//! [`balance_alert_model::trend::forecast_view`], so they agree to the day on the same data.

use balance_alert_model::forecast::{Point, WINDOW_POINTS, WINDOW_SECONDS};
use balance_alert_model::trend::forecast_view;
use balance_alert_model::wire::ForecastView;
use balance_alert_model::Decimal;

use crate::money::to_f64;
use balance_alert_model::alert::ProjectState;

use balance_alert_model::{AlertKind, AlertRecord, AlertState, AlertStatus};

use crate::config::{ProjectConfig, Settings};
use crate::store::{BalancePoint, CheckWrite, Readings, Store, StoreError};

/// The readings a forecast of `project_id` at `now` looks at (oldest first), ending at the
/// latest reading ([`with_latest`]).
pub async fn readings(
    store: &dyn Readings,
    project_id: &str,
    now: i64,
) -> Result<Vec<BalancePoint>, StoreError> {
    let state = store.get_state(project_id).await?;
    stored_readings(store, project_id, state.as_ref(), now).await
}

/// [`readings`] when the project's state is at hand (`None`: no state yet).
pub async fn stored_readings(
    store: &dyn Readings,
    project_id: &str,
    state: Option<&ProjectState>,
    now: i64,
) -> Result<Vec<BalancePoint>, StoreError> {
    let rows = store
        .balance_history(
            project_id,
            now.saturating_sub(WINDOW_SECONDS),
            WINDOW_POINTS,
        )
        .await?;
    Ok(match state {
        Some(s) => with_latest(rows, s, now),
        None => rows,
    })
}

/// `rows` (a project's history rows, oldest first) ending at the latest reading: an unchanged
/// balance is stored as a row at most once per `history_resolution_minutes`, so when the state's
/// last successful reading (same value as the newest row) is newer than that row, a point at
/// that time is added, as the row-per-check history had it.
pub fn with_latest(
    mut rows: Vec<BalancePoint>,
    state: &ProjectState,
    now: i64,
) -> Vec<BalancePoint> {
    let (Some(balance), Some(at)) = (state.balance, state.last_success_at) else {
        return rows;
    };
    let latest = rows.last().filter(|r| {
        r.timestamp < at && at <= now && r.balance == balance && r.currency == state.currency
    });
    if let Some(r) = latest {
        let point = BalancePoint {
            timestamp: at,
            ..r.clone()
        };
        rows.push(point);
    }
    rows
}

/// The forecast of `project_id` against `threshold` at `now` (None: nothing to forecast).
pub async fn view(
    store: &dyn Readings,
    project_id: &str,
    threshold: Decimal,
    now: i64,
) -> Result<Option<ForecastView>, StoreError> {
    let points = readings(store, project_id, now).await?;
    Ok(forecast_view(&points, Some(threshold), now))
}

/// `points` as the model's forecast takes them.
pub fn points(readings: &[BalancePoint]) -> Vec<Point> {
    readings
        .iter()
        .map(|h| Point {
            timestamp: h.timestamp,
            balance: to_f64(h.balance),
        })
        .collect()
}

/// The forecast alert a project deserves after a successful check, written: when the trend
/// of `recent` (oldest first) says the balance runs out within `forecast_alert_days`, once
/// per projected date (again only when the date moves earlier or the old one has passed).
/// Top-ups are not spending: the forecast uses the burn rate since the last one.
pub async fn forecast_alert(
    store: &dyn Store,
    p: &ProjectConfig,
    recent: &[balance_alert_model::forecast::Point],
    settings: &Settings,
    now: i64,
) -> Result<Option<AlertRecord>, StoreError> {
    let days_limit = i64::from(settings.forecast_alert_days);
    if days_limit == 0 {
        return Ok(None);
    }
    let Some(f) =
        balance_alert_model::forecast::run_out(recent, crate::money::to_f64(p.threshold), now)
    else {
        return Ok(None);
    };
    let Some(zero_at) = f.zero_at.filter(|z| *z > now) else {
        return Ok(None);
    };
    // The one rounding rule (whole days, rounded down), as every other surface shows it.
    let days = balance_alert_model::forecast::whole_days(zero_at, now);
    // Within D days: at most D × 24 hours away.
    if zero_at - now > days_limit * 86_400 {
        return Ok(None);
    }
    let tz = settings.timezone;
    let at = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|d| tz.date_at(d));
    let (Some(date), Some(today)) = (at(zero_at), at(now)) else {
        return Ok(None);
    };
    let Some(prev) = store.get_state(&p.id()).await? else {
        return Ok(None);
    };
    let before = prev
        .forecast_for
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let news = before.is_none_or(|b| date < b || b < today);
    let snoozed = prev
        .snooze
        .as_ref()
        .is_some_and(|s| s.active(now, prev.state));
    if !news || snoozed || prev.state == AlertState::Failing {
        return Ok(None);
    }
    let date_text = date.format("%Y-%m-%d").to_string();
    let mut alert = AlertRecord {
        id: format!("{}-{}-{}-forecast", prev.project_id, now, prev.version + 1),
        project_id: prev.project_id.clone(),
        project_name: p.name.clone(),
        provider: p.provider.clone(),
        kind: AlertKind::Forecast,
        state: prev.state,
        balance: prev.balance,
        threshold: p.threshold,
        currency: prev.currency.clone(),
        message: String::new(),
        status: AlertStatus::Pending,
        created_at: now,
        details: balance_alert_model::AlertDetails {
            owner_project: p.owner_project.clone(),
            days_left: Some(days),
            due_date: Some(date_text.clone()),
            source: None,
            figure: crate::providers::figure(p),
            note: None,
            ..Default::default()
        },
        deliveries: Vec::new(),
    };
    alert.message = balance_alert_model::text::alert_text(&alert, settings.language);
    let next = ProjectState {
        forecast_for: Some(date_text),
        version: prev.version + 1,
        ..prev.clone()
    };
    let applied = store
        .commit_checks(vec![CheckWrite {
            expected_version: Some(prev.version),
            state: next,
            alert: Some(alert.clone()),
            point: None,
            next: None,
        }])
        .await?;
    // Lost to a concurrent write: that process (or the next check) decides.
    Ok(applied.first().copied().unwrap_or(false).then_some(alert))
}
