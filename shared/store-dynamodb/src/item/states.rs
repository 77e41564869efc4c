//! A project's item: its state (with the newest reading, see `readings.rs`) and its schedule.

use aws_sdk_dynamodb::types::AttributeValue;
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::AlertState;

use super::{int, json, num, project_key, s, Corrupt, Item};
use crate::table::kinds;

impl From<&ProjectState> for Item {
    fn from(p: &ProjectState) -> Self {
        let mut i = Item::new(kinds::PROJECT, project_key(&p.project_id));
        i.set("project_id", s(&p.project_id));
        i.set("project_name", s(&p.project_name));
        i.set("provider", s(&p.provider));
        i.set("state", s(p.state.as_str()));
        i.set_opt("balance", p.balance.map(num));
        i.set("currency", s(&p.currency));
        i.set("consecutive_failures", int(p.consecutive_failures));
        i.set_opt("last_alert_at", p.last_alert_at.map(int));
        i.set("last_checked_at", int(p.last_checked_at));
        i.set_opt("last_success_at", p.last_success_at.map(int));
        i.set_opt("last_error", p.last_error.as_deref().map(s));
        i.set_opt("stale_reason", p.stale_reason.as_deref().map(s));
        i.set("cached", AttributeValue::Bool(p.cached));
        i.set_opt("snooze", p.snooze.as_ref().map(json));
        i.set_opt("forecast_for", p.forecast_for.as_deref().map(s));
        i.set_opt("prior_state", p.prior_state.map(|st| s(st.as_str())));
        i.set("version", int(p.version));
        i
    }
}

impl TryFrom<&Item> for ProjectState {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("project state", kinds::PROJECT, |i| {
            Ok(ProjectState {
                project_id: i.str("project_id")?,
                project_name: i.str("project_name")?,
                provider: i.str("provider")?,
                state: i.parsed("state", AlertState::parse)?,
                balance: i.opt_amount("balance")?,
                currency: i.str("currency")?,
                consecutive_failures: i.int("consecutive_failures")?,
                last_alert_at: i.opt_int("last_alert_at")?,
                last_checked_at: i.int("last_checked_at")?,
                last_success_at: i.opt_int("last_success_at")?,
                last_error: i.opt_str("last_error")?,
                stale_reason: i.opt_str("stale_reason")?,
                cached: i.bool("cached")?,
                snooze: i.opt_json("snooze")?,
                forecast_for: i.opt_str("forecast_for")?,
                prior_state: i
                    .opt_str("prior_state")?
                    .and_then(|st| AlertState::parse(&st)),
                version: i.int("version")?,
            })
        })
    }
}

/// The state attributes a state may lack ([`From<&ProjectState>`] leaves them out when `None`).
pub(crate) const STATE_OPTIONAL: [&str; 8] = [
    "balance",
    "last_alert_at",
    "last_success_at",
    "last_error",
    "stale_reason",
    "snooze",
    "forecast_for",
    "prior_state",
];

/// Whether a project item holds a state (a project claimed but never checked has only its
/// schedule attributes).
pub(crate) fn has_state(item: &Item) -> bool {
    item.0.contains_key("version")
}

/// Whether a project item holds a schedule.
pub(crate) fn has_schedule(item: &Item) -> bool {
    item.0.contains_key(NEXT_CHECK_AT)
}

/// A project's next check time, read from its project item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub project_id: String,
    pub next_check_at: i64,
    /// The fingerprint of the config the last check ran with (see
    /// [`balance_alert_core::store::NextCheck`]).
    pub fingerprint: Option<String>,
}

/// The attribute holding a schedule's next check time.
pub(crate) const NEXT_CHECK_AT: &str = "next_check_at";
/// The attribute holding a schedule's config fingerprint.
pub(crate) const CONFIG_FINGERPRINT: &str = "config_fingerprint";

impl TryFrom<&Item> for Schedule {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("schedule", kinds::PROJECT, |i| {
            Ok(Schedule {
                project_id: i.str("project_id")?,
                next_check_at: i.int(NEXT_CHECK_AT)?,
                fingerprint: i.opt_str(CONFIG_FINGERPRINT)?,
            })
        })
    }
}
