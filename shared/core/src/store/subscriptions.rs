//! The subscriptions role: each subscription's latest evaluation, with at most one reminder
//! alert per renewal date.

use async_trait::async_trait;
use balance_alert_model::AlertRecord;
use serde::{Deserialize, Serialize};

use super::StoreError;

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

/// Subscription evaluations and their reminders.
#[async_trait]
pub trait Subscriptions: Send + Sync {
    /// Records a subscription evaluation. When `reminder` is given, it is written only if no
    /// reminder was recorded yet for `state.next_renewal_date`; returns whether it was written.
    async fn record_subscription(
        &self,
        state: SubscriptionState,
        reminder: Option<AlertRecord>,
    ) -> Result<bool, StoreError>;

    /// Latest evaluation of every subscription.
    async fn subscription_states(&self) -> Result<Vec<SubscriptionState>, StoreError>;
}
