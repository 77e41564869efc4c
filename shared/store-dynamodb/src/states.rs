//! [`States`] on DynamoDB: a project's state, next check and claim share one item in the
//! `PROJECTS` partition, so a check that changes nothing is one UpdateItem; a check result with
//! an alert is one transaction (state, alert, reading): the state's version condition decides
//! for all three.

use async_trait::async_trait;
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::store::{CheckWrite, NextCheck, States, StoreError};

use crate::errors::sdk;
use crate::item::{
    config_key, has_schedule, has_state, int, latest_reading, project_key, s, Item, NewAlert,
    NewReading, Schedule, CONFIG_FINGERPRINT, LATEST_READING, NEXT_CHECK_AT,
};
use crate::read::records;
use crate::request::{add_set, finish_update, state_update};
use crate::request::{merge, run_grouped, tx_put, tx_update, version_condition, Expr};
use crate::table::{kinds, KIND, PK};
use crate::DynamoStore;

/// The condition of a state write: no state yet (the item may hold a schedule or claim), or the
/// version the caller read.
fn state_condition(expected: Option<u64>) -> Expr {
    match expected {
        None => Expr::new("attribute_not_exists(#version)").name("#version", "version"),
        Some(_) => version_condition(expected),
    }
}

/// Adds a schedule to a project item's update: the next check and the config fingerprint.
fn with_next(update: Expr, next: &NextCheck) -> Expr {
    let mut update = add_set(update, NEXT_CHECK_AT, int(next.at));
    let mut remove = Vec::new();
    match &next.fingerprint {
        Some(f) => update = add_set(update, CONFIG_FINGERPRINT, s(f)),
        None => remove.push(CONFIG_FINGERPRINT),
    }
    finish_update(update, &remove)
}

/// The update making a project item exist as a listed project (a schedule may come before its
/// first state).
fn project_update(project_id: &str) -> Expr {
    Expr::new("SET #kind = :kind, #pid = :pid")
        .name("#kind", KIND)
        .name("#pid", "project_id")
        .value(":kind", s(kinds::PROJECT))
        .value(":pid", s(project_id))
}

#[async_trait]
impl States for DynamoStore {
    async fn list_states(&self) -> Result<Vec<ProjectState>, StoreError> {
        let items = self.list_projects("list_states").await?;
        let mut states: Vec<ProjectState> = records(items.iter().filter(|i| has_state(i)))?;
        states.sort_by(|a, b| {
            (&a.project_name, &a.project_id).cmp(&(&b.project_name, &b.project_id))
        });
        Ok(states)
    }

    async fn get_state(&self, project_id: &str) -> Result<Option<ProjectState>, StoreError> {
        let item = self.get_item("get_state", project_key(project_id)).await?;
        Ok(item
            .as_ref()
            .filter(|i| has_state(i))
            .map(ProjectState::try_from)
            .transpose()?)
    }

    async fn commit_checks(&self, writes: Vec<CheckWrite>) -> Result<Vec<bool>, StoreError> {
        run_grouped(
            writes,
            |w| w.state.project_id.clone(),
            |w| self.commit_one(w),
        )
        .await
    }

    async fn schedules(&self) -> Result<Vec<NextCheck>, StoreError> {
        let items = self.list_projects("schedules").await?;
        let schedules: Vec<Schedule> = records(items.iter().filter(|i| has_schedule(i)))?;
        Ok(schedules
            .into_iter()
            .map(|s| NextCheck {
                project_id: s.project_id,
                at: s.next_check_at,
                fingerprint: s.fingerprint,
            })
            .collect())
    }

    async fn set_next_checks(&self, next: Vec<NextCheck>) -> Result<(), StoreError> {
        // As in SQLite, the last entry given for a project wins.
        let mut latest: Vec<NextCheck> = Vec::with_capacity(next.len());
        for n in next.into_iter().rev() {
            if !latest.iter().any(|seen| seen.project_id == n.project_id) {
                latest.push(n);
            }
        }
        run_grouped(
            latest,
            |n| n.project_id.clone(),
            |n| async move {
                let update = with_next(project_update(&n.project_id), &n);
                self.update_if("set_next_checks", project_key(&n.project_id), &update, None)
                    .await
            },
        )
        .await
        .map(drop)
    }

    /// One GetItem of a fixed key, reading only its key: constant cost.
    async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(config_key()))
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map_err(sdk("ping"))?;
        Ok(())
    }
}

impl DynamoStore {
    /// One check result, in its project's item (state and, when given, the next check). Without
    /// an alert: one conditional UpdateItem, then (when it was applied) a PutItem of the
    /// reading, if any: a lost race writes nothing, and the reading's key carries the state
    /// version, so it is the won write's. With an alert: one transaction (the update under the
    /// condition, alert, reading), so the alert exists exactly when its transition does. A
    /// transaction costs twice the write units of the same writes.
    async fn commit_one(&self, w: CheckWrite) -> Result<bool, StoreError> {
        let condition = state_condition(w.expected_version);
        let (key, update) = state_update(&w.state);
        let new_reading = |point| NewReading {
            point,
            version: w.state.version,
            expires_at: self.expires_at(point.timestamp),
        };
        let update = match &w.point {
            Some(point) => add_set(update, LATEST_READING, latest_reading(new_reading(point))),
            None => update,
        };
        let update = match &w.next {
            Some(next) => with_next(update, next),
            None => finish_update(update, &[]),
        };
        let update = merge(update, &condition);
        let reading = w.point.as_ref().map(|point| Item::from(new_reading(point)));
        let Some(alert) = &w.alert else {
            let applied = self
                .update_if("commit_checks", key, &update, Some(&condition.text))
                .await?;
            if let (true, Some(reading)) = (applied, reading) {
                self.put("commit_checks", reading).await?;
            }
            return Ok(applied);
        };
        let expires_at = self.expires_at(alert.created_at);
        let mut items = vec![
            tx_update(&self.table, key, &update, &condition.text),
            tx_put(&self.table, NewAlert { alert, expires_at }.into(), None),
        ];
        items.extend(reading.map(|r| tx_put(&self.table, r, None)));
        self.transact("commit_checks", items).await
    }
}
