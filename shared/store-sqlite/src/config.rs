//! [`ConfigStore`] on SQLite: the one-row `config_document` table, replaced under a version
//! condition.

use async_trait::async_trait;
use balance_alert_core::store::{ConfigDocument, ConfigStore, StoreError};
use rusqlite::{params, OptionalExtension};

use crate::{backend, SqliteStore};

#[async_trait]
impl ConfigStore for SqliteStore {
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
}
