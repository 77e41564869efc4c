//! [`Leases`] on SQLite: the `lease` table (owner, node, end) and the `cooldown` table
//! (claims), each taken by one conditional upsert.

use async_trait::async_trait;
use balance_alert_core::store::{Claimant, Lease, Leases, StoreError};
use rusqlite::params;

use crate::{backend, SqliteStore};

#[async_trait]
impl Leases for SqliteStore {
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
}
