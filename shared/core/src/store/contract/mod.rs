//! The contract every [`Store`] backend must meet, one file per role: call
//! [`store_contract`] on an empty store from the backend crate's tests. The steps run in one
//! order on one store: later steps read what earlier ones wrote.

mod config;
mod leases;
mod outbox;
mod readings;
mod states;
mod subscriptions;

use crate::model::alert::ProjectState;
use crate::model::{AlertKind, AlertRecord, AlertState, AlertStatus, Decimal};
use crate::store::{BalancePoint, CheckWrite, Store};

/// A state for tests: project `id` at `version`.
pub fn state(id: &str, version: u64, state: AlertState) -> ProjectState {
    ProjectState {
        project_id: id.into(),
        project_name: format!("name-{id}"),
        provider: "openrouter".into(),
        state,
        balance: Some(Decimal::new(505, 2)),
        currency: "USD".into(),
        consecutive_failures: 0,
        last_alert_at: None,
        last_checked_at: 100 * version as i64,
        last_success_at: Some(100),
        last_error: None,
        version,
        stale_reason: None,
        cached: false,
        snooze: None,
        forecast_for: None,
        prior_state: None,
    }
}

/// A pending LOW alert for tests.
pub fn alert(id: &str, project: &str, at: i64) -> AlertRecord {
    AlertRecord {
        id: id.into(),
        project_id: project.into(),
        project_name: format!("name-{project}"),
        provider: "openrouter".into(),
        kind: AlertKind::Low,
        state: AlertState::Low,
        balance: Some(Decimal::new(99, 2)),
        threshold: Decimal::new(1000, 2),
        currency: "USD".into(),
        message: "low".into(),
        status: AlertStatus::Pending,
        created_at: at,
        details: Default::default(),
        deliveries: Vec::new(),
    }
}

/// A reading for tests.
pub fn point(project: &str, balance: f64, at: i64) -> BalancePoint {
    BalancePoint {
        project_id: project.into(),
        project_name: format!("name-{project}"),
        provider: "openrouter".into(),
        balance: Decimal::try_from(balance).expect("a finite test amount"),
        threshold: Decimal::new(1000, 2),
        currency: "USD".into(),
        timestamp: at,
        ..Default::default()
    }
}

/// A conditional write for tests.
pub fn write(
    expected: Option<u64>,
    s: ProjectState,
    a: Option<AlertRecord>,
    p: Option<BalancePoint>,
) -> CheckWrite {
    CheckWrite {
        expected_version: expected,
        state: s,
        alert: a,
        point: p,
        next: None,
    }
}

/// The behaviour every [`Store`] backend must have. Call it on an empty store.
pub async fn store_contract(store: &dyn Store) {
    states::writes(store).await;
    readings::history(store).await;
    outbox::alert_history(store).await;
    subscriptions::reminders(store).await;
    readings::retention(store).await;
    leases::leases(store).await;
    states::schedules(store).await;
    leases::claims(store).await;
    outbox::pending(store).await;
    config::document(store).await;
    outbox::send_windows(store).await;
    states::stale_and_cached(store).await;
    outbox::deliveries(store).await;
    readings::latest_and_thinned(store).await;
}
