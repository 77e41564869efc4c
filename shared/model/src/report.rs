//! The JSON shape of a check run, shared by `balance-alert check --json` and `/api/credits`.

use serde::{Deserialize, Serialize};

use crate::{AlertState, Decimal};

/// One project's line in a check report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectReport {
    pub project: String,
    pub owner_project: Option<String>,
    pub provider: String,
    pub success: bool,
    /// None when the check failed.
    pub credits: Option<Decimal>,
    pub currency: String,
    pub threshold: Decimal,
    /// The balance is below the threshold.
    pub need_alarm: bool,
    pub state: AlertState,
    /// Why the check failed or was not attempted (no secrets).
    pub error: Option<String>,
    /// The check was not attempted (circuit open): `credits` is the last reading, and the
    /// failure count did not advance.
    #[serde(default)]
    pub stale: bool,
    /// Why it was not attempted.
    #[serde(default)]
    pub stale_reason: Option<String>,
    /// What kind of figure `credits` is (`prepaid_balance`, `remaining_credit`,
    /// `budget_spend`, `quota_window`); none for an unsupported provider.
    #[serde(default)]
    pub kind: Option<crate::BalanceKind>,
    /// How the figure was arrived at ("spent 40.00 of 100.00 USD budget this month").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Computed from a recorded figure (the manual adapter), not read from the provider.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimate: bool,
    /// When a quota window resets (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<i64>,
    /// The key has no limit: `credits` is what it used, and no threshold applies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlimited: bool,
}

/// Totals over a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: usize,
    pub success: usize,
    pub failed: usize,
    pub need_alarm: usize,
    /// Checks not attempted (circuit open): neither successes nor failures.
    #[serde(default)]
    pub skipped: usize,
}

/// A whole check run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub projects: Vec<ProjectReport>,
    pub summary: Summary,
}

impl CheckReport {
    /// Builds the report and its summary from per-project lines.
    pub fn new(projects: Vec<ProjectReport>) -> Self {
        let summary = Summary {
            total: projects.len(),
            success: projects.iter().filter(|p| p.success).count(),
            failed: projects.iter().filter(|p| !p.success && !p.stale).count(),
            need_alarm: projects.iter().filter(|p| p.need_alarm).count(),
            skipped: projects.iter().filter(|p| p.stale).count(),
        };
        CheckReport { projects, summary }
    }

    /// True when every project is OK and no check failed (a check not attempted is not a
    /// failure).
    pub fn all_ok(&self) -> bool {
        self.projects
            .iter()
            .all(|p| (p.success || p.stale) && p.state == AlertState::Ok)
    }
}
