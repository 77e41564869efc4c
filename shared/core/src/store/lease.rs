//! What the store's leases and claims are held for: one key each, named here so that every
//! use of the store's mutual exclusion is listed in one place.
//!
//! A *lease* ([`Store::take_lease`](super::Store::take_lease)) has an owner, is renewed while
//! its work lasts and released when it ends. A *claim* ([`Store::claim`](super::Store::claim))
//! is taken once until a time: a period's work (an hourly evaluation, a daily digest), a
//! cooldown, or one alert's delivery.

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
