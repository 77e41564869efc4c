//! The persistence boundary: latest state per project, balance history, alert history and
//! subscription reminders. Every backend passes the same contract suite (`tests/store.rs`).
//!
//! Exactly-one-alert-per-transition is the store's job: [`Store::commit_checks`] applies a
//! write only if the project's state version is still the one the caller read.

mod sqlite;

use async_trait::async_trait;
use balance_alert_model::alert::ProjectState;
use balance_alert_model::{AlertRecord, AlertStatus};
use serde::{Deserialize, Serialize};

pub use sqlite::SqliteStore;

/// A backend failure. Messages name the operation; they never include secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend itself failed (I/O, SQL, network to DynamoDB…).
    #[error("store {op} failed: {message}")]
    Backend { op: &'static str, message: String },
    /// A stored item could not be read back (missing or malformed attribute).
    #[error("stored {item} is malformed: {message}")]
    Corrupt { item: &'static str, message: String },
}

/// One balance reading kept for history and trends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalancePoint {
    pub project_id: String,
    pub project_name: String,
    pub provider: String,
    pub balance: f64,
    pub threshold: f64,
    pub currency: String,
    /// Unix seconds.
    pub timestamp: i64,
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
}

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub project_id: Option<String>,
    /// Only alerts at or after this unix second.
    pub since: Option<i64>,
    pub limit: usize,
}

/// The latest evaluation of one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionState {
    pub subscription_id: String,
    pub name: String,
    /// `YYYY-MM-DD`.
    pub next_renewal_date: String,
    pub days_until_renewal: i64,
    /// The renewal date a reminder was last sent for (one reminder per renewal).
    pub reminded_for: Option<String>,
    /// Unix seconds.
    pub updated_at: i64,
}

/// Persistence used by the checker, the API and the notifier.
#[async_trait]
pub trait Store: Send + Sync {
    /// Latest state of every project ever checked.
    async fn list_states(&self) -> Result<Vec<ProjectState>, StoreError>;

    /// Latest state of one project.
    async fn get_state(&self, project_id: &str) -> Result<Option<ProjectState>, StoreError>;

    /// Applies each write whose `expected_version` still matches; returns, per write, whether it
    /// was applied. A write that lost a race changes nothing (no state, alert or point).
    async fn commit_checks(&self, writes: Vec<CheckWrite>) -> Result<Vec<bool>, StoreError>;

    /// Balance points of a project since `since` (unix s), oldest first, at most `limit`
    /// (the most recent ones when there are more).
    async fn balance_history(
        &self,
        project_id: &str,
        since: i64,
        limit: usize,
    ) -> Result<Vec<BalancePoint>, StoreError>;

    /// Alerts matching the query, newest first.
    async fn alerts(&self, query: AlertQuery) -> Result<Vec<AlertRecord>, StoreError>;

    /// Sets an alert's delivery status; false when no such alert exists.
    async fn set_alert_status(&self, id: &str, status: AlertStatus) -> Result<bool, StoreError>;

    /// Records a subscription evaluation. When `reminder` is given, it is written only if no
    /// reminder was recorded yet for `state.next_renewal_date`; returns whether it was written.
    async fn record_subscription(
        &self,
        state: SubscriptionState,
        reminder: Option<AlertRecord>,
    ) -> Result<bool, StoreError>;

    /// Latest evaluation of every subscription.
    async fn subscription_states(&self) -> Result<Vec<SubscriptionState>, StoreError>;

    /// Deletes balance points and alerts older than `before` (unix s); returns rows removed.
    async fn prune(&self, before: i64) -> Result<u64, StoreError>;

    /// A constant-cost request proving the store answers (health probes).
    async fn ping(&self) -> Result<(), StoreError>;
}
