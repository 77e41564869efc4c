//! [`Outbox`] on SQLite: the `alert_history` table (an alert with its deliveries) and the
//! `send_window` counters.

use async_trait::async_trait;
use balance_alert_core::model::{AlertKind, AlertRecord, AlertState, AlertStatus, Delivery};
use balance_alert_core::store::{AlertQuery, Outbox, StoreError, SEND_WINDOW_KEPT};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::columns::{amount, collect, get_amount, get_opt_amount, json_column, to_json, Amount};
use crate::{backend, SqliteStore};

pub(crate) const ALERT_COLUMNS: &str =
    "id, project_id, project_name, provider, alert_type, state, balance, \
    threshold, currency, message, status, timestamp, details, deliveries";

fn alert_from_row(r: &Row<'_>) -> rusqlite::Result<Result<AlertRecord, StoreError>> {
    let (kind, state, status): (String, String, String) = (r.get(4)?, r.get(5)?, r.get(10)?);
    let (Some(kind), Some(state), Some(status)) = (
        AlertKind::parse(&kind),
        AlertState::parse(&state),
        AlertStatus::parse(&status),
    ) else {
        return Ok(Err(StoreError::Corrupt {
            item: "alert",
            message: format!("type {kind:?}, state {state:?}, status {status:?}"),
        }));
    };
    Ok(Ok(AlertRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        project_name: r.get(2)?,
        provider: r.get(3)?,
        kind,
        state,
        balance: get_opt_amount(r, 6)?,
        threshold: get_amount(r, 7)?,
        currency: r.get(8)?,
        message: r.get(9)?,
        status,
        created_at: r.get(11)?,
        details: match json_column(r, 12, "alert")? {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => return Ok(Err(e)),
        },
        deliveries: match json_column(r, 13, "alert")? {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => return Ok(Err(e)),
        },
    }))
}

pub(crate) fn insert_alert(tx: &Connection, a: &AlertRecord) -> rusqlite::Result<usize> {
    tx.execute(
        &format!("INSERT OR IGNORE INTO alert_history ({ALERT_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"),
        params![
            a.id, a.project_id, a.project_name, a.provider, a.kind.as_str(), a.state.as_str(),
            amount(a.balance), Amount(a.threshold), a.currency, a.message, a.status.as_str(), a.created_at,
            to_json(&a.details), to_json(&a.deliveries)
        ],
    )
}

/// The sends counted for `channel` in `minute`.
fn sends_in(c: &Connection, channel: &str, minute: i64) -> rusqlite::Result<u32> {
    c.query_row(
        "SELECT sent FROM send_window WHERE channel = ?1 AND minute = ?2",
        params![channel, minute],
        |r| r.get(0),
    )
    .optional()
    .map(Option::unwrap_or_default)
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn alerts(&self, query: AlertQuery) -> Result<Vec<AlertRecord>, StoreError> {
        self.with("alerts", move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alert_history \
                     WHERE (?1 IS NULL OR project_id = ?1) AND timestamp >= ?2 \
                     ORDER BY timestamp DESC, rowid DESC LIMIT ?3"
                ))
                .map_err(backend("alerts"))?;
            let rows = stmt
                .query_map(
                    params![
                        query.project_id,
                        query.since.unwrap_or(i64::MIN),
                        query.limit as i64
                    ],
                    alert_from_row,
                )
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(backend("alerts"))?;
            collect(rows)
        })
        .await
    }

    async fn get_alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        let id = id.to_owned();
        self.with("get_alert", move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alert_history WHERE id = ?1"
                ))
                .map_err(backend("get_alert"))?;
            let rows = stmt
                .query_map([id], alert_from_row)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(backend("get_alert"))?;
            Ok(collect(rows)?.into_iter().next())
        })
        .await
    }

    async fn insert_alert(&self, alert: AlertRecord) -> Result<bool, StoreError> {
        self.with("insert_alert", move |c| {
            insert_alert(c, &alert)
                .map(|n| n == 1)
                .map_err(backend("insert_alert"))
        })
        .await
    }

    async fn pending_alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError> {
        self.with("pending_alerts", move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alert_history WHERE status = 'pending' \
                     ORDER BY timestamp ASC, rowid ASC LIMIT ?1"
                ))
                .map_err(backend("pending_alerts"))?;
            let rows = stmt
                .query_map([limit as i64], alert_from_row)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(backend("pending_alerts"))?;
            collect(rows)
        })
        .await
    }

    async fn set_alert_status(&self, id: &str, status: AlertStatus) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with("set_alert_status", move |c| {
            c.execute(
                "UPDATE alert_history SET status = ?2 WHERE id = ?1",
                params![id, status.as_str()],
            )
            .map(|n| n == 1)
            .map_err(backend("set_alert_status"))
        })
        .await
    }

    async fn record_deliveries(
        &self,
        id: &str,
        status: AlertStatus,
        deliveries: Vec<Delivery>,
    ) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with("record_deliveries", move |c| {
            c.execute(
                "UPDATE alert_history SET status = ?2, deliveries = ?3 WHERE id = ?1",
                params![id, status.as_str(), to_json(&deliveries)],
            )
            .map(|n| n == 1)
            .map_err(backend("record_deliveries"))
        })
        .await
    }

    async fn take_sends(
        &self,
        channel: &str,
        minute: i64,
        wanted: u32,
        limit: u32,
    ) -> Result<u32, StoreError> {
        let channel = channel.to_owned();
        self.with("take_sends", move |c| {
            let err = backend("take_sends");
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(&err)?;
            let counted = sends_in(&tx, &channel, minute).map_err(&err)?;
            let granted = wanted.min(limit.saturating_sub(counted));
            if granted > 0 {
                tx.execute(
                    "INSERT INTO send_window (channel, minute, sent) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(channel, minute) DO UPDATE SET sent = sent + ?3",
                    params![channel, minute, granted],
                )
                .map_err(&err)?;
                tx.execute(
                    "DELETE FROM send_window WHERE channel = ?1 AND minute < ?2",
                    params![channel, minute - SEND_WINDOW_KEPT / 60],
                )
                .map_err(&err)?;
            }
            tx.commit().map_err(&err)?;
            Ok(granted)
        })
        .await
    }

    async fn sends_taken(&self, channel: &str, minute: i64) -> Result<u32, StoreError> {
        let channel = channel.to_owned();
        self.with("sends_taken", move |c| {
            sends_in(c, &channel, minute).map_err(backend("sends_taken"))
        })
        .await
    }
}
