//! The one run-out forecast, read from the store: every surface (the forecast alert, the trend
//! API, `/api/credits`, `/metrics`, the digest) reads its inputs here and computes it with
//! [`balance_alert_model::trend::forecast_view`], so they agree to the day on the same data.

use balance_alert_model::forecast::{Point, WINDOW_POINTS, WINDOW_SECONDS};
use balance_alert_model::trend::forecast_view;
use balance_alert_model::wire::ForecastView;
use balance_alert_model::Decimal;

use crate::money::to_f64;
use balance_alert_model::alert::ProjectState;

use crate::store::{BalancePoint, Store, StoreError};

/// The readings a forecast of `project_id` at `now` looks at (oldest first), ending at the
/// latest reading ([`with_latest`]).
pub async fn readings(
    store: &dyn Store,
    project_id: &str,
    now: i64,
) -> Result<Vec<BalancePoint>, StoreError> {
    let state = store.get_state(project_id).await?;
    stored_readings(store, project_id, state.as_ref(), now).await
}

/// [`readings`] when the project's state is at hand (`None`: no state yet).
pub async fn stored_readings(
    store: &dyn Store,
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
    store: &dyn Store,
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
