//! The embedded store: one SQLite file (WAL), migrations compiled in. The local binary's
//! default; the Lambda functions never compile it.
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool. Conditional writes
//! (`UPDATE … WHERE version = ?`) make the state machine race-safe even across processes that
//! share the file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::Decimal;
use balance_alert_core::model::{AlertKind, AlertRecord, AlertState, AlertStatus, Delivery};
use balance_alert_core::store::{
    AlertQuery, BalancePoint, CheckWrite, Claimant, ConfigDocument, Lease, NextCheck, Store,
    StoreError, SubscriptionState, SEND_WINDOW_KEPT,
};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// Migrations in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_time_indexes.sql"),
    include_str!("migrations/003_stale_reason.sql"),
    include_str!("migrations/004_runtime.sql"),
    include_str!("migrations/005_delivery.sql"),
    include_str!("migrations/006_claims.sql"),
    include_str!("migrations/007_prior_state.sql"),
    include_str!("migrations/008_reading_facts.sql"),
    include_str!("migrations/009_check_fingerprint.sql"),
    include_str!("migrations/010_send_windows.sql"),
    include_str!("migrations/011_leases.sql"),
];

/// A [`Store`] on a SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn backend(op: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| {
        let message = e.to_string();
        // A busy or locked database is another process's transaction: worth a retry.
        let transient = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        if transient {
            StoreError::Unavailable { op, message }
        } else {
            StoreError::Backend { op, message }
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Backend {
                op: "open",
                message: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(path).map_err(backend("open"))?;
        Self::init(conn)
    }

    /// Opens an existing, fully migrated database read-only (`check --dry-run`): nothing is
    /// created, migrated or written. Fails when the file is missing or from another version.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(backend("open"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(backend("open"))?;
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(backend("open"))?;
        if version != MIGRATIONS.len() {
            return Err(StoreError::Backend {
                op: "open",
                message: format!("schema version {version}, expected {}", MIGRATIONS.len()),
            });
        }
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// A private in-memory database (tests, `--dry-run` without a database file).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend("open"))?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(backend("open"))?;
        // WAL lets readers (the API) proceed while the checker writes.
        let _: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(backend("open"))?;
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(backend("open"))?;
        // Read the version and migrate inside one write transaction, so two processes opening
        // a new file at once do not both run the same migration.
        let mut conn = conn;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend("migrate"))?;
        let version: usize = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(backend("migrate"))?;
        for sql in MIGRATIONS.iter().skip(version) {
            tx.execute_batch(sql).map_err(backend("migrate"))?;
        }
        tx.execute_batch(&format!(
            "PRAGMA user_version = {}",
            MIGRATIONS.len().max(version)
        ))
        .map_err(backend("migrate"))?;
        tx.commit().map_err(backend("migrate"))?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Backend {
                op,
                message: "connection lock poisoned by an earlier panic".into(),
            })?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend {
            op,
            message: e.to_string(),
        })?
    }
}

/// An exact amount in a REAL column. Written as its decimal text (which SQLite stores as the
/// nearest double), read back through the double's shortest decimal form: amounts of up to 15
/// significant digits come back exactly as written.
#[derive(Debug, Clone, Copy)]
struct Amount(Decimal);

impl ToSql for Amount {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.normalize().to_string()))
    }
}

impl FromSql for Amount {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = match value {
            ValueRef::Integer(i) => return Ok(Amount(Decimal::from(i))),
            ValueRef::Real(f) => f.to_string(),
            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            _ => return Err(FromSqlError::InvalidType),
        };
        balance_alert_core::money::parse_stored(&text)
            .map(Amount)
            .ok_or(FromSqlError::InvalidType)
    }
}

fn amount(d: Option<Decimal>) -> Option<Amount> {
    d.map(Amount)
}

fn get_amount(r: &Row<'_>, i: usize) -> rusqlite::Result<Decimal> {
    Ok(r.get::<_, Amount>(i)?.0)
}

fn get_opt_amount(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<Decimal>> {
    Ok(r.get::<_, Option<Amount>>(i)?.map(|a| a.0))
}

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

const POINT_COLUMNS: &str = "project_id, project_name, provider, balance, threshold, currency, \
    timestamp, note, estimate, unlimited";

fn point_from_row(r: &Row<'_>) -> rusqlite::Result<BalancePoint> {
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

const ALERT_COLUMNS: &str = "id, project_id, project_name, provider, alert_type, state, balance, \
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

fn insert_alert(tx: &Connection, a: &AlertRecord) -> rusqlite::Result<usize> {
    tx.execute(
        &format!("INSERT OR IGNORE INTO alert_history ({ALERT_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"),
        params![
            a.id, a.project_id, a.project_name, a.provider, a.kind.as_str(), a.state.as_str(),
            amount(a.balance), Amount(a.threshold), a.currency, a.message, a.status.as_str(), a.created_at,
            to_json(&a.details), to_json(&a.deliveries)
        ],
    )
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

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A JSON text column: NULL is None; text that does not parse is a corrupt item.
fn json_column<T: serde::de::DeserializeOwned>(
    r: &Row<'_>,
    i: usize,
    item: &'static str,
) -> rusqlite::Result<Result<Option<T>, StoreError>> {
    let text: Option<String> = r.get(i)?;
    Ok(match text {
        None => Ok(None),
        Some(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                item,
                message: format!("column {i}: {e}"),
            }),
    })
}

fn collect<T>(rows: Vec<Result<T, StoreError>>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().collect()
}

#[async_trait]
impl Store for SqliteStore {
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

    async fn record_subscription(
        &self,
        state: SubscriptionState,
        reminder: Option<AlertRecord>,
    ) -> Result<bool, StoreError> {
        self.with("record_subscription", move |c| {
            let err = backend("record_subscription");
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(&err)?;
            let reminded: Option<Option<String>> = tx
                .query_row(
                    "SELECT reminded_for FROM subscription_state WHERE subscription_id = ?1",
                    [&state.subscription_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(&err)?;
            let mut reminded_for = reminded.flatten();
            let mut written = false;
            if let Some(alert) = &reminder {
                if reminded_for.as_deref() != Some(state.next_renewal_date.as_str()) {
                    insert_alert(&tx, alert).map_err(&err)?;
                    reminded_for = Some(state.next_renewal_date.clone());
                    written = true;
                }
            }
            tx.execute(
                "INSERT INTO subscription_state (subscription_id, name, next_renewal_date, \
                 days_until_renewal, reminded_for, updated_at) VALUES (?1,?2,?3,?4,?5,?6) \
                 ON CONFLICT(subscription_id) DO UPDATE SET name=?2, next_renewal_date=?3, \
                 days_until_renewal=?4, reminded_for=?5, updated_at=?6",
                params![state.subscription_id, state.name, state.next_renewal_date,
                        state.days_until_renewal, reminded_for, state.updated_at],
            )
            .map_err(&err)?;
            tx.execute(
                "INSERT INTO subscription_history (subscription_id, days_until_renewal, timestamp) VALUES (?1,?2,?3)",
                params![state.subscription_id, state.days_until_renewal, state.updated_at],
            )
            .map_err(&err)?;
            tx.commit().map_err(&err)?;
            Ok(written)
        })
        .await
    }

    async fn subscription_states(&self) -> Result<Vec<SubscriptionState>, StoreError> {
        self.with("subscription_states", |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT subscription_id, name, next_renewal_date, days_until_renewal, reminded_for, \
                     updated_at FROM subscription_state ORDER BY name",
                )
                .map_err(backend("subscription_states"))?;
            stmt.query_map([], |r| {
                Ok(SubscriptionState {
                    subscription_id: r.get(0)?,
                    name: r.get(1)?,
                    next_renewal_date: r.get(2)?,
                    days_until_renewal: r.get(3)?,
                    reminded_for: r.get(4)?,
                    updated_at: r.get(5)?,
                })
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(backend("subscription_states"))
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

    async fn ping(&self) -> Result<(), StoreError> {
        self.with("ping", |conn| {
            conn.query_row("SELECT 1 FROM project_state LIMIT 1", [], |_| Ok(()))
                .optional()
                .map(|_| ())
                .map_err(backend("ping"))
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

    async fn take_lease(
        &self,
        lease: &Lease,
        by: &Claimant,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let (key, by) = (lease.key(), by.clone());
        self.with("take_lease", move |c| {
            c.execute(
                "INSERT INTO lease (key, owner, node, until) VALUES (?1, ?2, ?3, ?5) \
                 ON CONFLICT(key) DO UPDATE SET owner = ?2, node = ?3, until = ?5 \
                 WHERE lease.owner = ?2 OR lease.until <= ?4",
                params![key, by.owner, by.node, now, until],
            )
            .map(|n| n == 1)
            .map_err(backend("take_lease"))
        })
        .await
    }

    async fn release_lease(&self, lease: &Lease, owner: &str) -> Result<(), StoreError> {
        let (key, owner) = (lease.key(), owner.to_owned());
        self.with("release_lease", move |c| {
            c.execute(
                "DELETE FROM lease WHERE key = ?1 AND owner = ?2",
                params![key, owner],
            )
            .map(drop)
            .map_err(backend("release_lease"))
        })
        .await
    }

    async fn release_node_leases(&self, node: &str) -> Result<u64, StoreError> {
        let node = node.to_owned();
        self.with("release_node_leases", move |c| {
            c.execute("DELETE FROM lease WHERE node = ?1", [node])
                .map(|n| n as u64)
                .map_err(backend("release_node_leases"))
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

    async fn claim(&self, lease: &Lease, now: i64, until: i64) -> Result<Option<i64>, StoreError> {
        let key = lease.key();
        self.with("claim", move |c| {
            let err = backend("claim");
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(&err)?;
            let changed = tx
                .execute(
                    "INSERT INTO cooldown (key, until) VALUES (?1, ?3) \
                     ON CONFLICT(key) DO UPDATE SET until = ?3 WHERE until <= ?2",
                    params![key, now, until],
                )
                .map_err(&err)?;
            let held = if changed == 1 {
                None
            } else {
                Some(
                    tx.query_row("SELECT until FROM cooldown WHERE key = ?1", [&key], |r| {
                        r.get(0)
                    })
                    .map_err(&err)?,
                )
            };
            tx.commit().map_err(&err)?;
            Ok(held)
        })
        .await
    }

    async fn release_claim(&self, lease: &Lease) -> Result<(), StoreError> {
        let key = lease.key();
        self.with("release_claim", move |c| {
            c.execute("DELETE FROM cooldown WHERE key = ?1", [key])
                .map(|_| ())
                .map_err(backend("release_claim"))
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

    async fn config_document(&self) -> Result<Option<ConfigDocument>, StoreError> {
        self.with("config_document", |c| {
            c.query_row(
                "SELECT text, version, updated_at FROM config_document WHERE id = 1",
                [],
                |r| {
                    Ok(ConfigDocument {
                        text: r.get(0)?,
                        version: r.get::<_, i64>(1)? as u64,
                        updated_at: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(backend("config_document"))
        })
        .await
    }

    async fn config_version(&self) -> Result<Option<u64>, StoreError> {
        self.with("config_version", |c| {
            c.query_row(
                "SELECT version FROM config_document WHERE id = 1",
                [],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|v| v.map(|v| v as u64))
            .map_err(backend("config_version"))
        })
        .await
    }

    async fn put_config_document(
        &self,
        text: String,
        expected_version: Option<u64>,
        now: i64,
    ) -> Result<Option<u64>, StoreError> {
        self.with("put_config_document", move |c| {
            let err = backend("put_config_document");
            let next = expected_version.map_or(1, |v| v + 1);
            let changed = match expected_version {
                None => c.execute(
                    "INSERT INTO config_document (id, text, version, updated_at) \
                     VALUES (1, ?1, 1, ?2) ON CONFLICT(id) DO NOTHING",
                    params![text, now],
                ),
                Some(v) => c.execute(
                    "UPDATE config_document SET text = ?1, version = ?2, updated_at = ?3 \
                     WHERE id = 1 AND version = ?4",
                    params![text, next as i64, now, v as i64],
                ),
            }
            .map_err(&err)?;
            Ok((changed == 1).then_some(next))
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

#[cfg(test)]
mod tests {
    use super::*;
    use balance_alert_core::store::contract::store_contract;

    #[tokio::test]
    async fn in_memory_store_passes_the_contract() {
        store_contract(&SqliteStore::in_memory().expect("opens")).await;
    }
}
