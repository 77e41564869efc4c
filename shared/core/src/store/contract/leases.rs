//! The contract of [`Leases`]: leases (owned, renewed, released) and claims (held until a
//! time).

use crate::store::{Claimant, Lease, Leases};

/// Leases: free, then held by its taker (who renews it) until it expires; of two takers at
/// once exactly one gets it; released by its owner only; a node's leases freed at once.
pub(super) async fn leases(store: &dyn Leases) {
    let (a, b) = (Claimant::of_node("node-a"), Claimant::anonymous());
    let lease = |by: &Claimant, now: i64, until: i64| {
        let by = by.clone();
        async move {
            store
                .take_lease(&Lease::Checks, &by, now, until)
                .await
                .expect("lease")
        }
    };
    assert!(lease(&a, 1_000, 1_030).await);
    assert!(!lease(&b, 1_010, 1_040).await, "held by a until 1030");
    assert!(lease(&a, 1_020, 1_050).await, "a renews its own");
    assert!(!lease(&b, 1_049, 1_080).await, "renewed until 1050");
    assert!(lease(&b, 1_050, 1_080).await, "expired: b takes it");
    assert!(!lease(&a, 1_060, 1_090).await, "a's lease is gone");
    store
        .release_lease(&Lease::Checks, &a.owner)
        .await
        .expect("release");
    assert!(!lease(&a, 1_061, 1_090).await, "only the owner releases");
    store
        .release_lease(&Lease::Checks, &b.owner)
        .await
        .expect("release");
    assert!(lease(&a, 1_062, 1_090).await, "released: free at once");
    assert!(
        store
            .take_lease(&Lease::Prune, &b, 1_062, 1_090)
            .await
            .expect("lease"),
        "leases are independent"
    );
    assert_eq!(store.release_node_leases("node-a").await.expect("free"), 1);
    assert_eq!(store.release_node_leases("node-a").await.expect("free"), 0);
    assert!(lease(&b, 1_063, 1_090).await, "node-a's lease freed");
    assert!(!store
        .take_lease(&Lease::Prune, &a, 1_063, 1_090)
        .await
        .expect("lease"));
}

/// Claims: free, then held until it expires, then free again; released at once.
pub(super) async fn claims(store: &dyn Leases) {
    assert_eq!(
        store
            .claim(&Lease::Refresh, 100, 130)
            .await
            .expect("cooldown"),
        None
    );
    assert_eq!(
        store
            .claim(&Lease::Refresh, 110, 140)
            .await
            .expect("cooldown"),
        Some(130)
    );
    assert_eq!(
        store
            .claim(&Lease::Prune, 110, 140)
            .await
            .expect("cooldown"),
        None
    );
    assert_eq!(
        store
            .claim(&Lease::Refresh, 130, 160)
            .await
            .expect("cooldown"),
        None
    );
    // Released: free at once; releasing what is not held is no error.
    store.release_claim(&Lease::Refresh).await.expect("release");
    assert_eq!(
        store
            .claim(&Lease::Refresh, 131, 170)
            .await
            .expect("cooldown"),
        None
    );
    store
        .release_claim(&Lease::MailScan)
        .await
        .expect("release");
}
