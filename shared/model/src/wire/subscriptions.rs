//! Subscriptions as listed and edited (`/api/subscriptions`, `/api/subscription/*`).

use super::*;

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
