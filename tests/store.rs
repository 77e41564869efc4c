//! The store contract: every backend must pass `store_contract`.

use balance_alert_core::model::AlertState;
use balance_alert_core::store::contract::{state, store_contract, write};
use balance_alert_core::store::States;
use balance_alert_store_sqlite::SqliteStore;

#[tokio::test]
async fn sqlite_file_store_passes_the_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("nested/dir/state.db")).expect("opens");
    store_contract(&store).await;
}

#[tokio::test]
async fn sqlite_in_memory_store_passes_the_contract() {
    store_contract(&SqliteStore::in_memory().expect("opens")).await;
}

#[tokio::test]
async fn sqlite_reopen_keeps_data_and_does_not_rerun_migrations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).expect("opens");
    store
        .commit_checks(vec![write(None, state("p", 1, AlertState::Ok), None, None)])
        .await
        .expect("commit");
    drop(store);
    let again = SqliteStore::open(&path).expect("reopens");
    assert_eq!(again.list_states().await.expect("list").len(), 1);
}

#[tokio::test]
async fn a_version_one_database_is_migrated_in_place() {
    // GIVEN a database created by the first schema only
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("v1.db");
    let conn = rusqlite::Connection::open(&path).expect("create");
    conn.execute_batch(include_str!(
        "../shared/store-sqlite/src/migrations/001_initial.sql"
    ))
    .expect("v1 schema");
    conn.execute_batch("PRAGMA user_version = 1")
        .expect("version");
    drop(conn);
    // WHEN the store opens it THEN later migrations run and the data contract holds
    let store = SqliteStore::open(&path).expect("opens and migrates");
    let conn = rusqlite::Connection::open(&path).expect("reopen");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 11);
    let indexes: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'idx_balance_ts'",
            [],
            |r| r.get(0),
        )
        .expect("index");
    assert_eq!(indexes, 1);
    store_contract(&store).await;
}
