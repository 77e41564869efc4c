//! Project configuration as shown and edited (`/api/config/*`, `/api/projects/{id}/*`).

use super::*;

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
