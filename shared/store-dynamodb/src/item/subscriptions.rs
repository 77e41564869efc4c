//! A subscription's latest evaluation, listed by the `by_kind` index.

use balance_alert_core::store::SubscriptionState;

use super::{int, s, subscription_key, Corrupt, Item};
use crate::table::{kinds, LIST_PK};

/// A subscription's evaluation *without* `reminded_for`, which only the store's conditional
/// reminder write sets.
impl From<&SubscriptionState> for Item {
    fn from(sub: &SubscriptionState) -> Self {
        let mut i = Item::new(kinds::SUBSCRIPTION, subscription_key(&sub.subscription_id));
        i.set(LIST_PK, s(kinds::SUBSCRIPTION));
        i.set("subscription_id", s(&sub.subscription_id));
        i.set("name", s(&sub.name));
        i.set("next_renewal_date", s(&sub.next_renewal_date));
        i.set("days_until_renewal", int(sub.days_until_renewal));
        i.set("updated_at", int(sub.updated_at));
        i
    }
}

/// The attribute recording which renewal date a reminder was sent for.
pub(crate) const REMINDED_FOR: &str = "reminded_for";

impl TryFrom<&Item> for SubscriptionState {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("subscription state", kinds::SUBSCRIPTION, |i| {
            Ok(SubscriptionState {
                subscription_id: i.str("subscription_id")?,
                name: i.str("name")?,
                next_renewal_date: i.str("next_renewal_date")?,
                days_until_renewal: i.int("days_until_renewal")?,
                reminded_for: i.opt_str(REMINDED_FOR)?,
                updated_at: i.int("updated_at")?,
            })
        })
    }
}
