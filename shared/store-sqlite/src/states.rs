//! [`States`] on SQLite: the `project_state` and `schedule` tables. A check's write is one
//! transaction: the state under its version condition, then its alert, reading and schedule.

use async_trait::async_trait;
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::AlertState;
use balance_alert_core::store::{CheckWrite, NextCheck, States, StoreError};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::columns::{amount, collect, get_opt_amount, json_column, to_json};
use crate::outbox::insert_alert;
use crate::readings::insert_point;
use crate::{backend, SqliteStore};

const STATE_COLUMNS: &str = "project_id, project_name, provider, state, balance, currency, \
    consecutive_failures, last_alert_at, last_checked_at, last_success_at, last_error, version, \
    stale_reason, cached, snooze, forecast_for, prior_state";

fn state_from_row(r: &Row<'_>) -> rusqlite::Result<Result<ProjectState, StoreError>> {
    let state: String = r.get(3)?;
    let Some(state) = AlertState::parse(&state) else {
        return Ok(Err(StoreError::Corrupt {
            item: "project state",
            message: format!("state {state:?}"),
        }));
    };
    Ok(Ok(ProjectState {
        project_id: r.get(0)?,
        project_name: r.get(1)?,
        provider: r.get(2)?,
        state,
        balance: get_opt_amount(r, 4)?,
        currency: r.get(5)?,
        consecutive_failures: r.get(6)?,
        last_alert_at: r.get(7)?,
        last_checked_at: r.get(8)?,
        last_success_at: r.get(9)?,
        last_error: r.get(10)?,
        version: r.get::<_, i64>(11)? as u64,
        stale_reason: r.get(12)?,
        cached: r.get(13)?,
        snooze: match json_column(r, 14, "project state")? {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        },
        forecast_for: r.get(15)?,
        prior_state: r
            .get::<_, Option<String>>(16)?
            .and_then(|s| AlertState::parse(&s)),
    }))
}

fn apply_write(tx: &Connection, w: &CheckWrite) -> rusqlite::Result<bool> {
    let s = &w.state;
    let values = params![
        s.project_id,
        s.project_name,
        s.provider,
        s.state.as_str(),
        amount(s.balance),
        s.currency,
        s.consecutive_failures,
        s.last_alert_at,
        s.last_checked_at,
        s.last_success_at,
        s.last_error,
        s.version as i64,
        s.stale_reason,
        s.cached,
        s.snooze.as_ref().map(to_json),
        s.forecast_for,
        s.prior_state.map(AlertState::as_str)
    ];
    let changed = match w.expected_version {
        None => tx.execute(
            &format!("INSERT INTO project_state ({STATE_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17) ON CONFLICT(project_id) DO NOTHING"),
            values,
        )?,
        Some(expected) => {
            let mut stmt = tx.prepare_cached(
                "UPDATE project_state SET project_name=?2, provider=?3, state=?4, balance=?5, \
                 currency=?6, consecutive_failures=?7, last_alert_at=?8, last_checked_at=?9, \
                 last_success_at=?10, last_error=?11, version=?12, stale_reason=?14, \
                 cached=?15, snooze=?16, forecast_for=?17, prior_state=?18 WHERE project_id=?1 AND version=?13",
            )?;
            stmt.execute(params![
                s.project_id, s.project_name, s.provider, s.state.as_str(), amount(s.balance), s.currency,
                s.consecutive_failures, s.last_alert_at, s.last_checked_at, s.last_success_at,
                s.last_error, s.version as i64, expected as i64, s.stale_reason, s.cached,
                s.snooze.as_ref().map(to_json), s.forecast_for, s.prior_state.map(AlertState::as_str)
            ])?
        }
    };
    if changed == 0 {
        return Ok(false);
    }
    if let Some(a) = &w.alert {
        insert_alert(tx, a)?;
    }
    if let Some(p) = &w.point {
        insert_point(tx, p)?;
    }
    if let Some(n) = &w.next {
        set_next_check(tx, n)?;
    }
    Ok(true)
}

/// Sets a project's next check (and config fingerprint).
fn set_next_check(tx: &Connection, n: &NextCheck) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO schedule (project_id, next_check_at, config_fingerprint) \
         VALUES (?1, ?2, ?3) \
         ON CONFLICT(project_id) DO UPDATE SET next_check_at = ?2, config_fingerprint = ?3",
    )?
    .execute(params![n.project_id, n.at, n.fingerprint])?;
    Ok(())
}

#[async_trait]
impl States for SqliteStore {
    async fn list_states(&self) -> Result<Vec<ProjectState>, StoreError> {
        self.with("list_states", |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {STATE_COLUMNS} FROM project_state ORDER BY project_name"
                ))
                .map_err(backend("list_states"))?;
            let rows = stmt
                .query_map([], state_from_row)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(backend("list_states"))?;
            collect(rows)
        })
        .await
    }

    async fn get_state(&self, project_id: &str) -> Result<Option<ProjectState>, StoreError> {
        let id = project_id.to_owned();
        self.with("get_state", move |c| {
            c.query_row(
                &format!("SELECT {STATE_COLUMNS} FROM project_state WHERE project_id = ?1"),
                [id],
                state_from_row,
            )
            .optional()
            .map_err(backend("get_state"))?
            .transpose()
        })
        .await
    }

    async fn commit_checks(&self, writes: Vec<CheckWrite>) -> Result<Vec<bool>, StoreError> {
        self.with("commit_checks", move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend("commit_checks"))?;
            let applied = writes
                .iter()
                .map(|w| apply_write(&tx, w))
                .collect::<rusqlite::Result<Vec<bool>>>()
                .map_err(backend("commit_checks"))?;
            tx.commit().map_err(backend("commit_checks"))?;
            Ok(applied)
        })
        .await
    }

    async fn schedules(&self) -> Result<Vec<NextCheck>, StoreError> {
        self.with("schedules", |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT project_id, next_check_at, config_fingerprint FROM schedule",
                )
                .map_err(backend("schedules"))?;
            stmt.query_map([], |r| {
                Ok(NextCheck {
                    project_id: r.get(0)?,
                    at: r.get(1)?,
                    fingerprint: r.get(2)?,
                })
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(backend("schedules"))
        })
        .await
    }

    async fn set_next_checks(&self, next: Vec<NextCheck>) -> Result<(), StoreError> {
        self.with("set_next_checks", move |c| {
            let err = backend("set_next_checks");
            let tx = c.transaction().map_err(&err)?;
            for n in &next {
                set_next_check(&tx, n).map_err(&err)?;
            }
            tx.commit().map_err(&err)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with("ping", |conn| {
            conn.query_row("SELECT 1 FROM project_state LIMIT 1", [], |_| Ok(()))
                .optional()
                .map(|_| ())
                .map_err(backend("ping"))
        })
        .await
    }

    async fn newest_check(&self) -> Result<Option<i64>, StoreError> {
        self.with("newest_check", |c| {
            c.query_row("SELECT MAX(last_checked_at) FROM project_state", [], |r| {
                r.get(0)
            })
            .map_err(backend("newest_check"))
        })
        .await
    }
}
