//! `/api/credits` and `/api/refresh`: every project's latest reading and a manual refresh.

use super::*;

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
