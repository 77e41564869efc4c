//! A project's item: its state (with the newest reading, see `readings.rs`) and its schedule.

use aws_sdk_dynamodb::types::AttributeValue;
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::AlertState;

use super::{int, json, num, project_key, s, Attrs, Corrupt, Item};
use crate::request::{set_all, Expr};
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
const STATE_OPTIONAL: [&str; 8] = [
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

/// The UpdateItem writing `state` into its project's item: every state attribute set, the
/// optional ones it lacks removed, the schedule attributes left as they are. Returns the key
/// and the expression; clauses may be added with [`add_set`].
pub(crate) fn state_update(state: &ProjectState) -> (Attrs, Expr) {
    let item = Item::from(state);
    let absent: Vec<&str> = STATE_OPTIONAL
        .into_iter()
        .filter(|a| !item.0.contains_key(*a))
        .collect();
    let (key, mut update) = set_all(item);
    for (n, attr) in absent.into_iter().enumerate() {
        update = update.name(&format!("#r{n}"), attr);
    }
    (key, update)
}

/// Adds `#placeholder = :value` to an update's SET clause (before any REMOVE).
pub(crate) fn add_set(update: Expr, attr: &str, value: AttributeValue) -> Expr {
    let n = update.names.len();
    let (name, val) = (format!("#a{n}"), format!(":a{n}"));
    let mut update = update.name(&name, attr).value(&val, value);
    update.text = format!("{}, {name} = {val}", update.text);
    update
}

/// Finishes an update from [`state_update`]/[`add_set`]: the REMOVE clause of the absent
/// optional attributes and of `also` (attribute names).
pub(crate) fn finish_update(mut update: Expr, also: &[&str]) -> Expr {
    let mut removed: Vec<String> = update
        .names
        .keys()
        .filter(|k| k.starts_with("#r"))
        .cloned()
        .collect();
    for (n, attr) in also.iter().enumerate() {
        let name = format!("#x{n}");
        update = update.name(&name, attr);
        removed.push(name);
    }
    if !removed.is_empty() {
        removed.sort();
        update.text = format!("{} REMOVE {}", update.text, removed.join(", "));
    }
    update
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
