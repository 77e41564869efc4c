//! [`Readings`] on SQLite: the `balance_history` table, read by project and time
//! (`(project_id, timestamp)` index), and the prune of every history table.

use async_trait::async_trait;
use balance_alert_core::store::{BalancePoint, Readings, StoreError};
use rusqlite::{params, Connection, Row};

use crate::columns::{get_amount, Amount};
use crate::{backend, SqliteStore};

pub(crate) const POINT_COLUMNS: &str =
    "project_id, project_name, provider, balance, threshold, currency, \
    timestamp, note, estimate, unlimited";

pub(crate) fn point_from_row(r: &Row<'_>) -> rusqlite::Result<BalancePoint> {
    Ok(BalancePoint {
        project_id: r.get(0)?,
        project_name: r.get(1)?,
        provider: r.get(2)?,
        balance: get_amount(r, 3)?,
        threshold: get_amount(r, 4)?,
        currency: r.get(5)?,
        timestamp: r.get(6)?,
        note: r.get(7)?,
        estimate: r.get(8)?,
        unlimited: r.get(9)?,
    })
}

/// Writes one reading (with the state it came with, see [`crate::states`]).
pub(crate) fn insert_point(tx: &Connection, p: &BalancePoint) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO balance_history (project_id, project_name, provider, balance, threshold, \
         currency, timestamp, note, estimate, unlimited) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    )?
    .execute(params![
        p.project_id,
        p.project_name,
        p.provider,
        Amount(p.balance),
        Amount(p.threshold),
        p.currency,
        p.timestamp,
        p.note,
        p.estimate,
        p.unlimited
    ])?;
    Ok(())
}

#[async_trait]
impl Readings for SqliteStore {
    async fn balance_history(
        &self,
        project_id: &str,
        since: i64,
        limit: usize,
    ) -> Result<Vec<BalancePoint>, StoreError> {
        let id = project_id.to_owned();
        self.with("balance_history", move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {POINT_COLUMNS} FROM balance_history \
                     WHERE project_id = ?1 AND timestamp >= ?2 \
                     ORDER BY timestamp DESC, id DESC LIMIT ?3"
                ))
                .map_err(backend("balance_history"))?;
            let mut points = stmt
                .query_map(params![id, since, limit as i64], point_from_row)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(backend("balance_history"))?;
            points.reverse();
            Ok(points)
        })
        .await
    }

    async fn recent_readings(
        &self,
        provider: Option<&str>,
        since: i64,
        limit: usize,
    ) -> Result<Vec<BalancePoint>, StoreError> {
        let provider = provider.map(str::to_owned);
        self.with("recent_readings", move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {POINT_COLUMNS} FROM balance_history \
                     WHERE (?1 IS NULL OR provider = ?1) AND timestamp >= ?2 \
                     ORDER BY timestamp DESC, project_id DESC LIMIT ?3"
                ))
                .map_err(backend("recent_readings"))?;
            let mut points = stmt
                .query_map(params![provider, since, limit as i64], point_from_row)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(backend("recent_readings"))?;
            points.reverse();
            Ok(points)
        })
        .await
    }

    async fn latest_readings(&self) -> Result<Vec<BalancePoint>, StoreError> {
        self.with("latest_readings", move |c| {
            // One index seek per project (project_id, timestamp), not a scan of the history.
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {POINT_COLUMNS} FROM balance_history WHERE id IN (\
                       SELECT (SELECT h.id FROM balance_history h \
                               WHERE h.project_id = s.project_id \
                               ORDER BY h.timestamp DESC, h.id DESC LIMIT 1) \
                       FROM project_state s)"
                ))
                .map_err(backend("latest_readings"))?;
            stmt.query_map([], point_from_row)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(backend("latest_readings"))
        })
        .await
    }

    async fn downsampled_history(
        &self,
        project_ids: &[String],
        since: i64,
        until: i64,
        points: usize,
    ) -> Result<Vec<BalancePoint>, StoreError> {
        let wanted: std::collections::HashSet<String> = project_ids.iter().cloned().collect();
        let width = (until - since).max(1);
        self.with("downsampled_history", move |c| {
            // SQLite's bare columns beside MAX(): each group's values come from its newest row,
            // which is what `downsample` keeps of each span.
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {POINT_COLUMNS}, MAX(timestamp) FROM balance_history \
                     WHERE timestamp >= ?1 AND timestamp < ?2 \
                     GROUP BY project_id, ((timestamp - ?1) * ?3) / ?4 \
                     ORDER BY project_id, timestamp"
                ))
                .map_err(backend("downsampled_history"))?;
            let rows = stmt
                .query_map(params![since, until, points as i64, width], point_from_row)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(backend("downsampled_history"))?;
            Ok(rows
                .into_iter()
                .filter(|p| wanted.contains(&p.project_id))
                .collect())
        })
        .await
    }

    async fn prune(&self, before: i64) -> Result<u64, StoreError> {
        self.with("prune", move |c| {
            let err = backend("prune");
            let tx = c.transaction().map_err(&err)?;
            let mut n = tx
                .execute("DELETE FROM balance_history WHERE timestamp < ?1", [before])
                .map_err(&err)?;
            n += tx
                .execute("DELETE FROM alert_history WHERE timestamp < ?1", [before])
                .map_err(&err)?;
            n += tx
                .execute(
                    "DELETE FROM subscription_history WHERE timestamp < ?1",
                    [before],
                )
                .map_err(&err)?;
            tx.commit().map_err(&err)?;
            Ok(n as u64)
        })
        .await
    }
}
