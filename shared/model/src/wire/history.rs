//! History, trends, sparklines, alert history and statistics (`/api/history/*`).

use super::*;

/// One stored balance reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BalanceRow {
    pub project_id: String,
    pub project_name: String,
    pub provider: String,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub balance: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub threshold: Decimal,
    pub currency: String,
    /// RFC 3339.
    pub timestamp: String,
}

/// Balance points, newest last.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BalanceHistory {
    pub status: String,
    pub count: usize,
    pub data: Vec<BalanceRow>,
}

/// When the balance reaches the threshold and zero, counted from the latest reading at the
/// burn rate since the last top-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Whole days until empty, rounded down (0: less than a day, or already empty; null when
    /// not falling): the figure every surface shows (alerts, `/metrics`, digest, dashboard).
    #[serde(default)]
    pub days_left: Option<i64>,
}

/// One point of a trend.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    pub timestamp: String,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub balance: Decimal,
}

/// One project's readings over a window, thinned for a sparkline: each of `points` equal
/// spans of the window keeps its newest reading, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sparkline {
    /// md5("provider:name").
    pub project_id: String,
    /// At most the requested number of points, oldest first (empty: no reading in the window).
    pub points: Vec<TrendPoint>,
    /// The project's run-out forecast (the one every surface shows; computed from its own
    /// window of readings, not from these thinned points). Null when nothing is falling.
    #[serde(default)]
    pub forecast: Option<ForecastView>,
}

/// A sparkline for every enabled project, in one bounded response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sparklines {
    pub status: String,
    /// The window, in days back from now.
    pub days: u32,
    /// Most points per project.
    pub points: usize,
    /// One per enabled project, in config order.
    pub data: Vec<Sparkline>,
}

/// Trend statistics over the window.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendData {
    pub project_id: String,
    pub project_name: Option<String>,
    pub provider: Option<String>,
    pub currency: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub threshold: Option<Decimal>,
    pub days: u32,
    pub data_points: usize,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub current_balance: Option<Decimal>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub min_balance: Option<Decimal>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub max_balance: Option<Decimal>,
    /// Mean of the window's readings, rounded to 8 decimal places.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub avg_balance: Option<Decimal>,
    /// Latest minus first balance in the window.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub change: Option<Decimal>,
    pub change_percent: Option<f64>,
    pub history: Vec<TrendPoint>,
    /// Null when there is no downward trend.
    pub forecast: Option<ForecastView>,
}

/// Trend response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trend {
    pub status: String,
    pub data: TrendData,
}

/// One alert record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRow {
    pub id: String,
    pub project_id: String,
    pub project_name: String,
    pub provider: String,
    /// `low`, `critical`, `failing`, `recovered`, `reminder` or `renewal`.
    pub alert_type: String,
    pub state: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub balance: Option<Decimal>,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub threshold: Decimal,
    pub currency: String,
    pub message: String,
    /// `pending` (some channel still to go), `sent` (every channel) or `failed` (a channel
    /// gave up).
    pub status: String,
    pub timestamp: String,
    /// Owner, days left, due date (renewals, forecasts), mail source.
    pub details: crate::alert::AlertDetails,
    /// Each channel's delivery: status, attempts, last error, next attempt.
    pub deliveries: Vec<crate::alert::Delivery>,
    /// Acknowledged (its project's reminders are held until the balance recovers).
    #[serde(default)]
    pub acknowledged: bool,
}

/// Alerts, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertHistory {
    pub status: String,
    pub count: usize,
    pub data: Vec<AlertRow>,
}

/// Alerts per project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectAlertCount {
    pub project_id: String,
    pub project_name: String,
    pub count: usize,
}

/// Statistics over the window.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub status: String,
    pub data: StatsData,
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
            details: a.details,
            deliveries: a.deliveries,
            acknowledged: false,
        }
    }
}
