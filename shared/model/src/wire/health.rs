//! Health, features and authentication tokens (`/health`, `/api/features`, `/api/auth/*`).

use super::*;

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
