//! The one run-out forecast, read from the store: every surface (the forecast alert, the trend
//! API, `/api/credits`, `/metrics`, the digest) reads its inputs here and computes it with
//! [`balance_alert_model::trend::forecast_view`], so they agree to the day on the same data.

use balance_alert_model::forecast::{Point, WINDOW_POINTS, WINDOW_SECONDS};
use balance_alert_model::trend::forecast_view;
use balance_alert_model::wire::ForecastView;
use balance_alert_model::Decimal;

use crate::money::to_f64;
use crate::store::{BalancePoint, Store, StoreError};

/// The readings a forecast of `project_id` at `now` looks at (oldest first).
pub async fn readings(
    store: &dyn Store,
    project_id: &str,
    now: i64,
) -> Result<Vec<BalancePoint>, StoreError> {
    store
        .balance_history(
            project_id,
            now.saturating_sub(WINDOW_SECONDS),
            WINDOW_POINTS,
        )
        .await
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
