//! An alert (listed by the sparse time, project and pending indexes) and a channel's send
//! counter.

use balance_alert_core::model::{AlertKind, AlertRecord, AlertState, AlertStatus};

use super::{alert_key, int, json, num, s, Corrupt, Item};
use crate::table::{
    kinds, ALERT_FEED, ALERT_FEED_VALUE, ALERT_PROJECT, CREATED_AT, PENDING, PENDING_VALUE,
    TTL_ATTRIBUTE,
};

/// The attribute holding an alert's per-channel deliveries (JSON text).
pub(crate) const DELIVERIES: &str = "deliveries";

/// An alert as written, with its expiry.
pub(crate) struct NewAlert<'a> {
    pub alert: &'a AlertRecord,
    pub expires_at: i64,
}

impl From<NewAlert<'_>> for Item {
    fn from(n: NewAlert<'_>) -> Self {
        let a = n.alert;
        let mut i = Item::new(kinds::ALERT, alert_key(&a.id));
        i.set(ALERT_FEED, s(ALERT_FEED_VALUE));
        i.set(ALERT_PROJECT, s(&a.project_id));
        if a.status == AlertStatus::Pending {
            i.set(PENDING, s(PENDING_VALUE));
        }
        i.set("id", s(&a.id));
        i.set("project_id", s(&a.project_id));
        i.set("project_name", s(&a.project_name));
        i.set("provider", s(&a.provider));
        i.set("alert_type", s(a.kind.as_str()));
        i.set("state", s(a.state.as_str()));
        i.set_opt("balance", a.balance.map(num));
        i.set("threshold", num(a.threshold));
        i.set("currency", s(&a.currency));
        i.set("message", s(&a.message));
        i.set("status", s(a.status.as_str()));
        i.set(CREATED_AT, int(a.created_at));
        if a.details != Default::default() {
            i.set("details", json(&a.details));
        }
        if !a.deliveries.is_empty() {
            i.set(DELIVERIES, json(&a.deliveries));
        }
        i.set(TTL_ATTRIBUTE, int(n.expires_at));
        i
    }
}

impl TryFrom<&Item> for AlertRecord {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("alert", kinds::ALERT, |i| {
            Ok(AlertRecord {
                id: i.str("id")?,
                project_id: i.str("project_id")?,
                project_name: i.str("project_name")?,
                provider: i.str("provider")?,
                kind: i.parsed("alert_type", AlertKind::parse)?,
                state: i.parsed("state", AlertState::parse)?,
                balance: i.opt_amount("balance")?,
                threshold: i.amount("threshold")?,
                currency: i.str("currency")?,
                message: i.str("message")?,
                status: i.parsed("status", AlertStatus::parse)?,
                created_at: i.int(CREATED_AT)?,
                details: i.opt_json("details")?.unwrap_or_default(),
                deliveries: i.opt_json(DELIVERIES)?.unwrap_or_default(),
            })
        })
    }
}

/// The attribute holding a send counter's count.
pub(crate) const SENT: &str = "sent";

/// The count of a send counter item.
pub(crate) fn sends_of(item: &Item) -> Result<u32, Corrupt> {
    item.read("send counter", kinds::SEND_WINDOW, |i| i.int(SENT))
}
