//! Stage 5, lease: claims each alert due in this pass (a store lease, `deliver:<id>`), so two
//! processes never send the same alert at once, and re-reads it under the claim. One claim per
//! alert for the whole pass: every channel sending it shares it.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use balance_alert_core::store::{Lease, StoreError};
use balance_alert_model::AlertRecord;

use super::Deliverer;

/// One alert claimed for this pass, shared by the channels sending it.
pub(super) struct Claimed {
    /// The record as claimed: what messages say.
    pub snapshot: AlertRecord,
    /// The record with this pass's outcomes applied; written under this lock.
    pub record: tokio::sync::Mutex<AlertRecord>,
    /// An outcome was applied (the record must be written).
    pub touched: AtomicBool,
}

impl Claimed {
    fn new(fresh: AlertRecord) -> Self {
        Claimed {
            snapshot: fresh.clone(),
            record: tokio::sync::Mutex::new(fresh),
            touched: AtomicBool::new(false),
        }
    }
}

/// The store lease of one alert's delivery.
impl Deliverer {
    /// Claims the alerts `ids` until `until` (once each); those another process holds (or
    /// that are gone) are left out.
    pub(super) async fn claim_all(
        &self,
        ids: Vec<String>,
        now: i64,
        until: i64,
    ) -> Result<HashMap<String, Claimed>, StoreError> {
        let mut claimed: HashMap<String, Claimed> = HashMap::new();
        for id in ids {
            if claimed.contains_key(&id) {
                continue;
            }
            if let Some(fresh) = self.claim(&id, now, until).await? {
                claimed.insert(id, Claimed::new(fresh));
            }
        }
        Ok(claimed)
    }

    /// Claims an alert for sending until `until`; None when another process holds it (or it
    /// is gone).
    async fn claim(
        &self,
        id: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<AlertRecord>, StoreError> {
        if self
            .leases
            .claim(&Lease::Delivery(id.to_owned()), now, until)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        // Re-read under the claim: another process may have sent it since our list.
        self.outbox.get_alert(id).await
    }

    /// Frees the claims of this pass.
    pub(super) async fn release_all(
        &self,
        claimed: &HashMap<String, Claimed>,
    ) -> Result<(), StoreError> {
        for id in claimed.keys() {
            self.leases
                .release_claim(&Lease::Delivery(id.to_owned()))
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use balance_alert_core::store::contract::alert;
    use balance_alert_core::store::Store;
    use balance_alert_store_sqlite::SqliteStore;

    use super::*;

    #[tokio::test]
    async fn an_alert_held_by_another_process_is_left_out_until_released() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("store"));
        for id in ["a", "b"] {
            store.insert_alert(alert(id, "p", 1)).await.expect("insert");
        }
        let one = Deliverer::new(store.clone(), reqwest::Client::new());
        let two = Deliverer::new(store.clone(), reqwest::Client::new());
        let list: Vec<String> = ["a", "a", "b", "gone"].map(String::from).to_vec();
        let first = one.claim_all(list.clone(), 100, 130).await.expect("claim");
        let mut ids: Vec<&String> = first.keys().collect();
        ids.sort();
        assert_eq!(ids, ["a", "b"], "once each; a missing alert is not claimed");
        assert!(two
            .claim_all(list.clone(), 101, 131)
            .await
            .expect("claim")
            .is_empty());
        one.release_all(&first).await.expect("release");
        assert_eq!(
            two.claim_all(list.clone(), 102, 132)
                .await
                .expect("claim")
                .len(),
            2
        );
    }
}
