//! [`Subscriptions`] on DynamoDB: one item per subscription, listed by the `by_kind` index; a
//! reminder is written in one transaction with the date it is for.

use async_trait::async_trait;
use balance_alert_core::model::AlertRecord;
use balance_alert_core::store::{StoreError, SubscriptionState, Subscriptions};

use crate::item::{s, Item, NewAlert, REMINDED_FOR};
use crate::read::records;
use crate::request::{merge, set_all, tx_put, tx_update, Expr};
use crate::table::kinds;
use crate::DynamoStore;

#[async_trait]
impl Subscriptions for DynamoStore {
    async fn record_subscription(
        &self,
        state: SubscriptionState,
        reminder: Option<AlertRecord>,
    ) -> Result<bool, StoreError> {
        const OP: &str = "record_subscription";
        let (key, update) = set_all(Item::from(&state));
        if let Some(alert) = &reminder {
            // Written only if no reminder went out for this renewal date yet, atomically with
            // the reminder itself.
            let mut with_reminder = merge(
                update.clone(),
                &Expr::default()
                    .name("#reminded", REMINDED_FOR)
                    .value(":date", s(&state.next_renewal_date)),
            );
            with_reminder.text.push_str(", #reminded = :date");
            let condition = "attribute_not_exists(#reminded) OR #reminded <> :date";
            let expires_at = self.expires_at(alert.created_at);
            let items = vec![
                tx_update(&self.table, key.clone(), &with_reminder, condition),
                tx_put(&self.table, NewAlert { alert, expires_at }.into(), None),
            ];
            if self.transact(OP, items).await? {
                return Ok(true);
            }
        }
        // No reminder (or one already sent for this date): update the evaluation and keep
        // `reminded_for` as it is.
        self.update_if(OP, key, &update, None).await?;
        Ok(false)
    }

    async fn subscription_states(&self) -> Result<Vec<SubscriptionState>, StoreError> {
        let items = self
            .list_kind("subscription_states", kinds::SUBSCRIPTION)
            .await?;
        let mut subs: Vec<SubscriptionState> = records(&items)?;
        subs.sort_by(|a, b| (&a.name, &a.subscription_id).cmp(&(&b.name, &b.subscription_id)));
        Ok(subs)
    }
}
