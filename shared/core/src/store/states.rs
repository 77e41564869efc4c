//! The states role: each project's latest state, written only as the version the caller read
//! (exactly one alert per transition), and its place in the check schedule.

use async_trait::async_trait;
use balance_alert_model::alert::ProjectState;
use balance_alert_model::{AlertRecord, BalancePoint};

use super::StoreError;

/// A project's place in the check schedule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NextCheck {
    pub project_id: String,
    /// Unix seconds of the next check.
    pub at: i64,
    /// The [`crate::config::ProjectConfig::check_fingerprint`] of the configuration the last
    /// check ran with: a different one in the current configuration makes the project due at
    /// once. `None`: unknown (recorded before fingerprints were kept), never a reason to check.
    pub fingerprint: Option<String>,
}

impl NextCheck {
    /// A next check of `project_id` at `at`, with no fingerprint.
    pub fn at(project_id: impl Into<String>, at: i64) -> Self {
        NextCheck {
            project_id: project_id.into(),
            at,
            fingerprint: None,
        }
    }
}

/// A conditional write of one check's result.
#[derive(Debug, Clone)]
pub struct CheckWrite {
    /// The version the caller read; `None` means "the project must not exist yet".
    pub expected_version: Option<u64>,
    /// The new state (its `version` is `expected_version + 1`).
    pub state: ProjectState,
    /// The alert the transition produced, written atomically with the state.
    pub alert: Option<AlertRecord>,
    /// The balance reading, written with the state.
    pub point: Option<BalancePoint>,
    /// The project's next check, when known before the write: written with the state, as one
    /// write, and only if the state is (a lost race schedules nothing).
    pub next: Option<NextCheck>,
}

/// Project states and the check schedule.
#[async_trait]
pub trait States: Send + Sync {
    /// Latest state of every project ever checked.
    async fn list_states(&self) -> Result<Vec<ProjectState>, StoreError>;

    /// Latest state of one project.
    async fn get_state(&self, project_id: &str) -> Result<Option<ProjectState>, StoreError>;

    /// Applies each write whose `expected_version` still matches; returns, per write, whether it
    /// was applied. A write that lost a race changes nothing (no state, alert or point).
    async fn commit_checks(&self, writes: Vec<CheckWrite>) -> Result<Vec<bool>, StoreError>;

    /// Each project's next check time (unix s) and the fingerprint recorded with it, for
    /// projects that have one.
    async fn schedules(&self) -> Result<Vec<NextCheck>, StoreError>;

    /// Sets projects' next check times and fingerprints (after their checks). When one id is
    /// given twice, the last entry wins.
    async fn set_next_checks(&self, next: Vec<NextCheck>) -> Result<(), StoreError>;

    /// A constant-cost request proving the store answers (health probes).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Unix seconds of the newest check of any project, by any process (None before the
    /// first): what health reports as `last_update`. Backends with a cheaper way than reading
    /// every state override it.
    async fn newest_check(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .list_states()
            .await?
            .iter()
            .map(|s| s.last_checked_at)
            .max())
    }
}
