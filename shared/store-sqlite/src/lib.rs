//! The embedded store: one SQLite file (WAL), migrations compiled in. The local binary's
//! default; the Lambda functions never compile it.
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool. Conditional writes
//! (`UPDATE … WHERE version = ?`) make the state machine race-safe even across processes that
//! share the file.
//!
//! This file opens and migrates the database; each role of the store is one file
//! (`states.rs`, `readings.rs`, `outbox.rs`, `subscriptions.rs`, `leases.rs`, `config.rs`), and
//! `columns.rs` holds the column conversions they share.

mod columns;
mod config;
mod leases;
mod outbox;
mod readings;
mod states;
mod subscriptions;

use std::path::Path;
use std::sync::{Arc, Mutex};

use balance_alert_core::store::StoreError;
use rusqlite::Connection;

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

/// A [`Store`](balance_alert_core::store::Store) on a SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

pub(crate) fn backend(op: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
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
    pub(crate) async fn with<T: Send + 'static>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use balance_alert_core::store::contract::store_contract;

    #[tokio::test]
    async fn in_memory_store_passes_the_contract() {
        store_contract(&SqliteStore::in_memory().expect("opens")).await;
    }
}
