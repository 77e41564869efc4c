//! The periodic parts of a run: subscriptions evaluated (hourly) and history pruned (daily),
//! once across every process sharing the store.

use balance_alert_model::subscription::{renewal_status, RenewalSpec, RenewalStatus};
use balance_alert_model::{AlertKind, AlertRecord, AlertState, AlertStatus};
use chrono::NaiveDate;

use crate::check::WriteMode;
use crate::config::{Config, Settings, SubscriptionConfig};
use crate::store::{Lease, Store, StoreError, SubscriptionState};

/// How often subscriptions are evaluated and history pruned, at most.
const SUBSCRIPTIONS_EVERY: i64 = 3600;
const PRUNE_EVERY: i64 = 86_400;

/// When a run also evaluates subscriptions and prunes history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Housekeeping {
    /// Not at all (a manual refresh).
    Never,
    /// Subscriptions hourly and pruning daily, across every process sharing the store
    /// (the scheduler, the checker function).
    Periodic,
    /// Every run (`check` from cron: its output lists the subscriptions).
    Always,
}

/// The housekeeping a run does at `now`: subscriptions evaluated and history pruned, when
/// `housekeeping` says so (periodically: once per period across every process sharing the
/// store). Returns the subscriptions evaluated and the history rows pruned.
pub async fn housekeep(
    store: &dyn Store,
    config: &Config,
    housekeeping: Housekeeping,
    write: WriteMode,
    now: i64,
) -> Result<(Vec<SubscriptionCheck>, u64), StoreError> {
    let mut subscriptions = Vec::new();
    let mut pruned = 0;
    if housekeeping == Housekeeping::Never {
        return Ok((subscriptions, pruned));
    }
    let settings = &config.settings;
    let persist = write == WriteMode::Persist;
    let periodic = housekeeping == Housekeeping::Periodic;
    let due = |lease: Lease, every: i64| async move {
        if !persist || !periodic {
            return Ok::<bool, StoreError>(true);
        }
        Ok(store
            .claim(&lease, now, now.saturating_add(every))
            .await?
            .is_none())
    };
    if due(Lease::Subscriptions, SUBSCRIPTIONS_EVERY).await? {
        let today = settings
            .timezone
            .date_at(chrono::DateTime::from_timestamp(now, 0).unwrap_or_else(chrono::Utc::now));
        subscriptions = run_subscriptions(store, config, today, write, now).await?;
    }
    if persist && due(Lease::Prune, PRUNE_EVERY).await? {
        pruned = prune_expired(store, settings, now).await?;
    }
    Ok((subscriptions, pruned))
}

/// Deletes history older than `settings.history_retention_days` before `now`; returns the
/// rows removed.
pub async fn prune_expired(
    store: &dyn Store,
    settings: &Settings,
    now: i64,
) -> Result<u64, StoreError> {
    store
        .prune(now - i64::from(settings.history_retention_days) * 86_400)
        .await
}

/// The id a subscription's state and reminders are stored under.
pub fn subscription_id(name: &str) -> String {
    balance_alert_model::project_id("subscription", name)
}

/// A subscription's status today, plus the reminder written for it (if any).
#[derive(Debug, Clone)]
pub struct SubscriptionCheck {
    pub name: String,
    pub status: RenewalStatus,
    pub reminder: Option<AlertRecord>,
}

/// The renewal spec of a configured subscription.
pub fn renewal_spec(s: &SubscriptionConfig) -> RenewalSpec {
    RenewalSpec {
        cycle: s.cycle,
        alert_days_before: s.alert_days_before,
        last_renewed_date: s.last_renewed_date,
    }
}

/// Evaluates every enabled subscription; writes one reminder per renewal date.
pub async fn run_subscriptions(
    store: &dyn Store,
    config: &Config,
    today: NaiveDate,
    mode: WriteMode,
    now: i64,
) -> Result<Vec<SubscriptionCheck>, StoreError> {
    let mut checks = Vec::new();
    for s in config.subscriptions.iter().filter(|s| s.enabled) {
        let status = renewal_status(&renewal_spec(s), today);
        let id = subscription_id(&s.name);
        let reminder = status.need_alert.then(|| {
            let mut a = AlertRecord {
                id: format!("{id}-{}", status.next_renewal_date),
                project_id: id.clone(),
                project_name: s.name.clone(),
                provider: "subscription".into(),
                kind: AlertKind::Renewal,
                state: AlertState::Ok,
                balance: None,
                threshold: s.amount,
                currency: s.currency.clone(),
                message: String::new(),
                status: AlertStatus::Pending,
                created_at: now,
                details: balance_alert_model::AlertDetails {
                    owner_project: s.owner_project.clone(),
                    days_left: Some(status.days_until_renewal),
                    due_date: Some(status.next_renewal_date.to_string()),
                    source: None,
                    figure: None,
                    note: None,
                    ..Default::default()
                },
                deliveries: Vec::new(),
            };
            a.message = balance_alert_model::text::alert_text(&a, config.settings.language);
            a
        });
        let written = match mode {
            WriteMode::Persist => {
                let state = SubscriptionState {
                    subscription_id: id,
                    name: s.name.clone(),
                    next_renewal_date: status.next_renewal_date.to_string(),
                    days_until_renewal: status.days_until_renewal,
                    reminded_for: None,
                    updated_at: now,
                };
                store.record_subscription(state, reminder.clone()).await?
            }
            WriteMode::DryRun => false,
        };
        checks.push(SubscriptionCheck {
            name: s.name.clone(),
            status,
            reminder: if written { reminder } else { None },
        });
    }
    Ok(checks)
}
