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
    /// Projects by what the run found, one bucket each (see [`ProjectReport::verdict`]):
    /// read and OK…
    #[serde(default)]
    pub ok: usize,
    /// …read and LOW (including inside the recovery margin)…
    #[serde(default)]
    pub low: usize,
    /// …read and CRITICAL…
    #[serde(default)]
    pub critical: usize,
    /// …or not read (the check failed, whether or not FAILING was reached yet).
    #[serde(default)]
    pub failing: usize,
}

impl Summary {
    /// Whether a run with these counts is all good: the exit code of `check` (0 when true).
    pub fn all_ok(&self) -> bool {
        self.low + self.critical + self.failing == 0
    }
}

/// One bucket of the run summary per project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Low,
    Critical,
    Failing,
    /// Not attempted (circuit open): neither good nor bad news.
    Skipped,
}

impl ProjectReport {
    /// Which summary bucket this project counts in.
    pub fn verdict(&self) -> Verdict {
        if self.stale {
            Verdict::Skipped
        } else if !self.success {
            Verdict::Failing
        } else {
            match self.state {
                AlertState::Ok => Verdict::Ok,
                AlertState::Low => Verdict::Low,
                AlertState::Critical => Verdict::Critical,
                AlertState::Failing => Verdict::Failing,
            }
        }
    }
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
        let count = |v: Verdict| projects.iter().filter(|p| p.verdict() == v).count();
        let summary = Summary {
            ok: count(Verdict::Ok),
            low: count(Verdict::Low),
            critical: count(Verdict::Critical),
            failing: count(Verdict::Failing),
            total: projects.len(),
            success: projects.iter().filter(|p| p.success).count(),
            failed: projects.iter().filter(|p| !p.success && !p.stale).count(),
            need_alarm: projects.iter().filter(|p| p.need_alarm).count(),
            skipped: projects.iter().filter(|p| p.stale).count(),
        };
        CheckReport { projects, summary }
    }

    /// True when every project is OK and no check failed (a check not attempted is not a
    /// failure): the summary's counts decide.
    pub fn all_ok(&self) -> bool {
        self.summary.all_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(state: AlertState, success: bool, stale: bool) -> ProjectReport {
        ProjectReport {
            project: "p".into(),
            owner_project: None,
            provider: "x".into(),
            success,
            credits: success.then(|| Decimal::from(5)),
            currency: "USD".into(),
            threshold: Decimal::from(10),
            need_alarm: false,
            state,
            error: None,
            stale,
            stale_reason: None,
            kind: None,
            note: None,
            estimate: false,
            resets_at: None,
            unlimited: false,
        }
    }

    #[test]
    fn the_summary_counts_each_project_once_by_state_and_decides_the_exit_code() {
        let r = CheckReport::new(vec![
            line(AlertState::Ok, true, false),
            line(AlertState::Critical, true, false),
            line(AlertState::Low, true, false),
            line(AlertState::Ok, false, false),
            line(AlertState::Ok, false, true),
        ]);
        let s = r.summary;
        assert_eq!(
            (s.ok, s.low, s.critical, s.failing, s.skipped),
            (1, 1, 1, 1, 1),
            "a CRITICAL project is never counted as ok"
        );
        assert!(!r.all_ok());
        let fine = CheckReport::new(vec![
            line(AlertState::Ok, true, false),
            line(AlertState::Ok, false, true),
        ]);
        assert!(fine.all_ok(), "a check not attempted is not a failure");
    }
}
