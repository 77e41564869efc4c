//! Acknowledge and snooze: stop reminders for a project until a time passes or its balance
//! recovers. One implementation for the API and the CLI; written as a conditional state
//! update, so a concurrent check never loses it (nor it the check).

use balance_alert_model::alert::{ProjectState, Snooze};
use balance_alert_model::AlertRecord;

use crate::store::{CheckWrite, Store, StoreError};

/// Why a snooze or acknowledgement was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum SnoozeError {
    /// No alert with that id.
    #[error("no alert {0:?}")]
    NoAlert(String),
    /// The project has never been checked (there is nothing to snooze yet).
    #[error("project {0:?} has not been checked yet: nothing to snooze")]
    NoProject(String),
    /// Neither a time nor "until topped up" was given, or the time has passed.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sets (or with `None`, clears) a project's snooze; retries when a check wrote first.
pub async fn set_snooze(
    store: &dyn Store,
    project_id: &str,
    snooze: Option<Snooze>,
    now: i64,
) -> Result<ProjectState, SnoozeError> {
    if let Some(s) = &snooze {
        if s.until.is_none() && !s.until_topped_up {
            return Err(SnoozeError::Invalid(
                "give `until` (a time) or `until_topped_up: true`".into(),
            ));
        }
        if s.until.is_some_and(|u| u <= now) {
            return Err(SnoozeError::Invalid("`until` must be in the future".into()));
        }
    }
    for _ in 0..5 {
        let Some(prev) = store.get_state(project_id).await? else {
            return Err(SnoozeError::NoProject(project_id.to_owned()));
        };
        let next = ProjectState {
            snooze: snooze.clone(),
            version: prev.version + 1,
            ..prev.clone()
        };
        let applied = store
            .commit_checks(vec![CheckWrite {
                expected_version: Some(prev.version),
                state: next.clone(),
                alert: None,
                point: None,
                next: None,
            }])
            .await?;
        if applied.first().copied().unwrap_or(false) {
            return Ok(next);
        }
    }
    Err(SnoozeError::Store(StoreError::Conflict {
        op: "snooze",
        message: "the project kept changing; try again".into(),
    }))
}

/// Acknowledges an alert: its project's reminders stop until the balance recovers.
pub async fn acknowledge(
    store: &dyn Store,
    alert_id: &str,
    now: i64,
) -> Result<(AlertRecord, ProjectState), SnoozeError> {
    let Some(alert) = store.get_alert(alert_id).await? else {
        return Err(SnoozeError::NoAlert(alert_id.to_owned()));
    };
    let snooze = Snooze {
        until: None,
        until_topped_up: true,
        alert_id: Some(alert.id.clone()),
        at: now,
    };
    let state = set_snooze(store, &alert.project_id, Some(snooze), now).await?;
    Ok((alert, state))
}
