//! The leases role, the store's mutual exclusion: what leases and claims are held for (one
//! key each, named here so that every use is listed in one place), who holds them, and the
//! trait taking and releasing them.
//!
//! A *lease* ([`Leases::take_lease`]) has an owner, is renewed while its work lasts and
//! released when it ends. A *claim* ([`Leases::claim`]) is taken once until a time: a period's
//! work (an hourly evaluation, a daily digest), a cooldown, or one alert's delivery.

use async_trait::async_trait;

use super::StoreError;

/// One lease or claim in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// Checking due projects: a scheduled run holds it while it checks.
    Checks,
    /// Evaluating subscriptions, once an hour across processes.
    Subscriptions,
    /// Pruning history, once a day across processes.
    Prune,
    /// A manual refresh's cooldown.
    Refresh,
    /// Scanning the mailboxes, once per scan interval.
    MailScan,
    /// The daily digest of a local date (`YYYY-MM-DD`).
    Digest(String),
    /// A channel's storm summary for one minute (unix s of its start).
    Storm { channel: String, minute: i64 },
    /// Delivering one alert (its id).
    Delivery(String),
}

impl Lease {
    /// The key it is stored under (stable: stores written by earlier versions keep theirs).
    pub fn key(&self) -> String {
        match self {
            Lease::Checks => "run:checks".into(),
            Lease::Subscriptions => "run:subscriptions".into(),
            Lease::Prune => "run:prune".into(),
            Lease::Refresh => "api:refresh".into(),
            Lease::MailScan => "mail:scan".into(),
            Lease::Digest(date) => format!("digest:{date}"),
            Lease::Storm { channel, minute } => format!("storm:{channel}:{minute}"),
            Lease::Delivery(id) => format!("deliver:{id}"),
        }
    }
}

/// Who holds a lease ([`Leases::take_lease`]), e.g. the one on checking due projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    /// Unique to one process: only it renews its leases.
    pub owner: String,
    /// The installation the process runs as, stable across its restarts and held by one live
    /// process at a time (a lock in the data directory): a restarted process frees the leases
    /// its crashed predecessor left under it at once ([`Leases::release_node_leases`]). `None`:
    /// the leases of a crashed process come back when they expire.
    pub node: Option<String>,
}

impl Claimant {
    /// A process of no node, with a fresh owner id.
    pub fn anonymous() -> Self {
        Claimant {
            owner: random_id(),
            node: None,
        }
    }

    /// A process running as `node`, with a fresh owner id.
    pub fn of_node(node: impl Into<String>) -> Self {
        Claimant {
            owner: random_id(),
            node: Some(node.into()),
        }
    }

    /// This process's anonymous claimant (one per process).
    pub fn process() -> &'static Claimant {
        static PROCESS: std::sync::OnceLock<Claimant> = std::sync::OnceLock::new();
        PROCESS.get_or_init(Claimant::anonymous)
    }
}

/// 96 random bits in hex.
pub fn random_id() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

/// Leases and claims, atomic across every process sharing the store.
#[async_trait]
pub trait Leases: Send + Sync {
    /// Takes `lease` for `by` until `until`, atomically: when nobody holds it
    /// (never taken, released, or expired at `now`) or `by` already does (a renewal). True when
    /// `by` holds it now; a live lease of another owner is never taken over, so of two processes
    /// taking it at once exactly one gets it.
    async fn take_lease(
        &self,
        lease: &Lease,
        by: &Claimant,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError>;

    /// Ends `lease` if `owner` holds it (nothing otherwise).
    async fn release_lease(&self, lease: &Lease, owner: &str) -> Result<(), StoreError>;

    /// Ends every lease held under `node`; returns how many. Only the process holding the node
    /// (see [`Claimant::node`]) calls it, at start: the leases are then a dead predecessor's.
    async fn release_node_leases(&self, node: &str) -> Result<u64, StoreError>;

    /// Claims `lease` until `until` when it is free (never claimed, or expired at `now`):
    /// `None`. While another claim holds it: `Some(held until)`. Atomic across processes.
    async fn claim(&self, lease: &Lease, now: i64, until: i64) -> Result<Option<i64>, StoreError>;

    /// Frees the claim `lease` (no error when it is not held).
    async fn release_claim(&self, lease: &Lease) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lease_has_its_own_key() {
        let all = [
            Lease::Checks,
            Lease::Subscriptions,
            Lease::Prune,
            Lease::Refresh,
            Lease::MailScan,
            Lease::Digest("2026-12-08".into()),
            Lease::Storm {
                channel: "ops".into(),
                minute: 60,
            },
            Lease::Delivery("a1".into()),
        ];
        let keys: std::collections::HashSet<String> = all.iter().map(Lease::key).collect();
        assert_eq!(keys.len(), all.len());
        assert_eq!(Lease::Checks.key(), "run:checks");
    }
}
