//! [`Subscriptions`] on SQLite: `subscription_state` (the latest evaluation and the date last
//! reminded of) and `subscription_history`.

use async_trait::async_trait;
use balance_alert_core::model::AlertRecord;
use balance_alert_core::store::{StoreError, SubscriptionState, Subscriptions};
use rusqlite::{params, OptionalExtension};

use crate::outbox::insert_alert;
use crate::{backend, SqliteStore};

#[async_trait]
impl Subscriptions for SqliteStore {
    async fn record_subscription(
        &self,
        state: SubscriptionState,
        reminder: Option<AlertRecord>,
    ) -> Result<bool, StoreError> {
        self.with("record_subscription", move |c| {
            let err = backend("record_subscription");
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(&err)?;
            let reminded: Option<Option<String>> = tx
                .query_row(
                    "SELECT reminded_for FROM subscription_state WHERE subscription_id = ?1",
                    [&state.subscription_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(&err)?;
            let mut reminded_for = reminded.flatten();
            let mut written = false;
            if let Some(alert) = &reminder {
                if reminded_for.as_deref() != Some(state.next_renewal_date.as_str()) {
                    insert_alert(&tx, alert).map_err(&err)?;
                    reminded_for = Some(state.next_renewal_date.clone());
                    written = true;
                }
            }
            tx.execute(
                "INSERT INTO subscription_state (subscription_id, name, next_renewal_date, \
                 days_until_renewal, reminded_for, updated_at) VALUES (?1,?2,?3,?4,?5,?6) \
                 ON CONFLICT(subscription_id) DO UPDATE SET name=?2, next_renewal_date=?3, \
                 days_until_renewal=?4, reminded_for=?5, updated_at=?6",
                params![state.subscription_id, state.name, state.next_renewal_date,
                        state.days_until_renewal, reminded_for, state.updated_at],
            )
            .map_err(&err)?;
            tx.execute(
                "INSERT INTO subscription_history (subscription_id, days_until_renewal, timestamp) VALUES (?1,?2,?3)",
                params![state.subscription_id, state.days_until_renewal, state.updated_at],
            )
            .map_err(&err)?;
            tx.commit().map_err(&err)?;
            Ok(written)
        })
        .await
    }

    async fn subscription_states(&self) -> Result<Vec<SubscriptionState>, StoreError> {
        self.with("subscription_states", |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT subscription_id, name, next_renewal_date, days_until_renewal, reminded_for, \
                     updated_at FROM subscription_state ORDER BY name",
                )
                .map_err(backend("subscription_states"))?;
            stmt.query_map([], |r| {
                Ok(SubscriptionState {
                    subscription_id: r.get(0)?,
                    name: r.get(1)?,
                    next_renewal_date: r.get(2)?,
                    days_until_renewal: r.get(3)?,
                    reminded_for: r.get(4)?,
                    updated_at: r.get(5)?,
                })
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(backend("subscription_states"))
        })
        .await
    }
}
