//! The API's wire types: every JSON shape the server sends or accepts, defined once for the
//! server, the Lambda functions and the SPA. Amounts are exact decimals serialised as JSON
//! numbers. With the `openapi` feature they also describe themselves for the OpenAPI document.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AlertRecord, BalanceKind, CheckReport, Decimal};

/// Unix seconds as RFC 3339 UTC, the Python tool's timestamp format.
pub fn iso(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// One balance reading kept for history and trends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BalancePoint {
    pub project_id: String,
    pub project_name: String,
    pub provider: String,
    /// Exact, as read.
    pub balance: Decimal,
    /// The threshold that applied then.
    pub threshold: Decimal,
    pub currency: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// How the figure was arrived at (a budget's spend, an estimate's basis, other currencies
    /// held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Computed from a recorded figure (the manual adapter), not read from the provider.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimate: bool,
    /// The key has no limit: `balance` is what it used, and no threshold applies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlimited: bool,
}

/// One project's latest reading. `name`/`balance` repeat `project`/`credits` for clients of
/// the Python tool's older shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditRow {
    pub project: String,
    pub name: String,
    /// md5("provider:name").
    pub project_id: String,
    pub owner_project: Option<String>,
    pub provider: String,
    /// The configured `type` (`credits`, `balance`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// What the figure is: `prepaid_balance`, `remaining_credit`, `budget_spend` or
    /// `quota_window` (null for an unsupported provider).
    #[serde(rename = "kind")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub figure: Option<BalanceKind>,
    pub success: bool,
    /// Null when the latest check failed or none ran yet.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub credits: Option<Decimal>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub balance: Option<Decimal>,
    pub currency: String,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub threshold: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub critical_threshold: Option<Decimal>,
    /// The project needs attention: LOW or CRITICAL (see [`crate::need_alarm`]).
    pub need_alarm: bool,
    /// How the figure was arrived at ("spent 40.00 of 100.00 USD budget this month", an
    /// estimate's basis); absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The figure is computed from a recorded one (a `manual` project), not read from the
    /// provider; absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimate: bool,
    /// The key has no limit: the figure is usage and no threshold applies; absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlimited: bool,
    /// `ok`, `low`, `critical`, `failing`, or `unknown` before the first check.
    pub state: String,
    pub error: Option<String>,
    /// The latest value came from the response cache.
    pub cached: bool,
    /// The latest scheduled check was not attempted (circuit open): the figures are from the
    /// last real check.
    pub stale: bool,
    /// Why it was not attempted.
    pub stale_reason: Option<String>,
    /// Reminders held back (acknowledged or snoozed), and until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snooze: Option<crate::alert::Snooze>,
    /// RFC 3339 time of the latest check.
    pub last_check: Option<String>,
}

/// Totals over the rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditSummary {
    pub total: usize,
    pub success: usize,
    pub failed: usize,
    pub need_alarm: usize,
}

/// Every configured project's latest reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credits {
    pub last_update: Option<String>,
    pub projects: Vec<CreditRow>,
    pub summary: CreditSummary,
}

/// Optional body of `POST /api/refresh`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Refresh only this project: `provider:name`, its id, or a name only one provider's
    /// project has (a name several share is a 409 listing them).
    pub project_name: Option<String>,
}

/// Result of a manual refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshResponse {
    pub status: String,
    pub message: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub report: CheckReport,
}

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

/// A subscription and where it stands today.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionRow {
    pub name: String,
    pub owner_project: Option<String>,
    pub cycle_type: String,
    pub renewal_day: u32,
    pub alert_days_before: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub amount: Decimal,
    pub currency: String,
    pub enabled: bool,
    pub last_renewed_date: Option<String>,
    /// For `every_n_days`: the interval in days (absent for the other cycles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_days: Option<u32>,
    /// For `every_n_days`: the first renewal, `YYYY-MM-DD` (absent for the other cycles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionList {
    pub status: String,
    pub subscriptions: Vec<SubscriptionRow>,
}

/// Body of `POST /api/subscription/add` (name, cycle_type, renewal_day required) and of
/// `POST /api/config/subscription` (name selects; the rest optional; new_name renames).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// The subscription's (current) name.
    #[serde(skip_serializing)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub name: String,
    /// Rename to this (update only).
    #[serde(skip_serializing)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub new_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub owner_project: Option<String>,
    /// `weekly`, `monthly`, `yearly` or `every_n_days`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(weekly|monthly|yearly|every_n_days)$")
    )]
    pub cycle_type: Option<String>,
    /// weekly 1–7 (Mon–Sun), monthly 1–31, yearly MMDD (e.g. 1231).
    #[serde(skip_serializing_if = "Option::is_none")]
    // utoipa takes literals only: these are `crate::subscription::bounds` (tested below).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1231))]
    pub renewal_day: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(maximum = 3650))]
    pub alert_days_before: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>, minimum = 0))]
    pub amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z]{3}$"))]
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub last_renewed_date: Option<String>,
    /// For `every_n_days`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 36500))]
    pub interval_days: Option<u32>,
    /// For `every_n_days`, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Body naming one subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubscriptionName {
    pub name: String,
}

/// Body of `POST /api/subscription/mark_renewed`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarkRenewed {
    pub name: String,
    /// `YYYY-MM-DD`, default today.
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub renewed_date: Option<String>,
}

/// A project's configuration with its key masked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectView {
    pub name: String,
    pub project_id: String,
    pub owner_project: Option<String>,
    pub provider: String,
    /// Masked, e.g. `sk-o***6789`.
    pub api_key: String,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub threshold: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub critical_threshold: Option<Decimal>,
    #[serde(rename = "type")]
    pub kind: String,
    pub enabled: bool,
    pub base_url: Option<String>,
    pub currency: Option<String>,
    pub check_interval: Option<u64>,
}

/// Configured projects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectList {
    pub status: String,
    pub projects: Vec<ProjectView>,
}

/// Body of `POST /api/config/threshold`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ThresholdRequest {
    /// The project: `provider:name`, its id, or a name only one provider's project has.
    pub project_name: String,
    /// The new threshold, ≥ 0.
    #[cfg_attr(feature = "openapi", schema(value_type = f64, minimum = 0))]
    pub new_threshold: Decimal,
}

/// Body of `POST /api/projects/{id}/balance`: a balance seen by a person, for a `manual`
/// project (the provider has no API). It replaces the recorded figure and re-bases the
/// estimate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BalanceRequest {
    /// The balance seen.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub balance: Decimal,
    /// When it was seen: `YYYY-MM-DD` or RFC 3339 (default: now).
    #[serde(default)]
    pub as_of: Option<String>,
    /// The spend per day to subtract from now on (default: keep the configured one).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>, minimum = 0))]
    pub daily_spend: Option<Decimal>,
}

/// Result of an edit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditResponse {
    pub status: String,
    pub message: String,
}

/// Health: healthy when the config loaded, the store answers and data is fresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `healthy` or `degraded`.
    pub status: String,
    pub has_data: bool,
    pub is_stale: bool,
    /// A check run has completed since this process started (`/ready` needs it).
    pub ready: bool,
    /// RFC 3339 time of the latest check, null before the first.
    pub last_update: Option<String>,
    pub uptime_seconds: u64,
    pub version: String,
    /// SHA-256 of the config file as loaded (compare with `sha256sum config.json`); null in
    /// env-only mode.
    pub config_sha256: Option<String>,
    /// Why the status is degraded.
    pub reason: Option<String>,
}

/// Which optional parts are on, for clients of the Python tool that ask first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Features {
    pub status: String,
    pub features: FeatureFlags,
}

/// The feature switches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureFlags {
    pub subscriptions: bool,
    /// Config edits through the API are saved (false in env-only mode).
    pub dynamic_config: bool,
    pub history: bool,
    pub jwt: bool,
}

/// Body of `POST /api/auth/refresh`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshToken {
    pub refresh_token: String,
}

/// A fresh access/refresh token pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: i64,
}

/// Every error response: `{"status":"error","message":"…"}`, with `"retry_after":<seconds>`
/// on a 429. The server writes it and the dashboard reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Always `error`. (Read leniently: an API Gateway answer such as a throttled
    /// `{"message":"Too Many Requests"}` has only the message.)
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status: String,
    /// What went wrong and how to fix it.
    pub message: String,
    /// Seconds to wait before trying again (429 answers only; also the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ErrorBody {
    /// The body of an error saying `message`.
    pub fn new(message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            status: "error".to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same body telling the client to wait `seconds` first (a 429).
    pub fn retry_after(self, seconds: u64) -> ErrorBody {
        ErrorBody {
            retry_after: Some(seconds),
            ..self
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_read_and_write_what_the_server_sends() {
        // Literals as the server's `ApiError` answers them today (shared/api/src/error.rs).
        let plain = r#"{"status":"error","message":"internal error; see the server log"}"#;
        let cooling = r#"{"status":"error","message":"refresh is cooling down: try again in 42 s","retry_after":42}"#;
        let body: ErrorBody = serde_json::from_str(plain).expect("plain error");
        assert_eq!(body, ErrorBody::new("internal error; see the server log"));
        assert_eq!(serde_json::to_string(&body).expect("json"), plain);
        let body: ErrorBody = serde_json::from_str(cooling).expect("429 error");
        assert_eq!(body.retry_after, Some(42));
        assert_eq!(
            serde_json::to_string(
                &ErrorBody::new("refresh is cooling down: try again in 42 s").retry_after(42)
            )
            .expect("json"),
            cooling
        );
    }

    #[test]
    fn an_error_body_without_a_status_keeps_its_message() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"message":"Too Many Requests"}"#).expect("gateway error");
        assert_eq!(body.message, "Too Many Requests");
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn the_schemas_subscription_bounds_are_the_models() {
        use crate::subscription::bounds;
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(SubscriptionInput::schema()).expect("schema");
        let field = |name: &str| &schema["properties"][name];
        let range = |name: &str| {
            let f = field(name);
            (f["minimum"].as_f64(), f["maximum"].as_f64())
        };
        let expect = |(lo, hi): (u32, u32)| (Some(f64::from(lo)), Some(f64::from(hi)));
        assert_eq!(range("renewal_day"), expect(bounds::RENEWAL_DAY));
        assert_eq!(range("interval_days"), expect(bounds::INTERVAL_DAYS));
        assert_eq!(
            field("alert_days_before")["maximum"].as_f64(),
            Some(f64::from(bounds::ALERT_DAYS_BEFORE.1))
        );
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn the_schema_of_an_error_body_requires_status_and_message() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(ErrorBody::schema()).expect("schema");
        assert_eq!(schema["required"], serde_json::json!(["status", "message"]));
    }
}
