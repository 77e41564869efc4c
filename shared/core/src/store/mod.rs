//! The persistence boundary: latest state per project, balance history, alert history,
//! subscription reminders, and what must survive between two invocations of a stateless
//! process (each project's next check time, refresh cooldowns, the config document). Backends
//! live in their own crates (`store-sqlite`, `store-dynamodb`); every one passes the same
//! contract suite ([`contract::store_contract`], feature `test-util`).
//!
//! The store is a set of roles, one trait and one file each, so a caller names what it uses:
//!
//! - [`States`] (`states.rs`): each project's latest state and its place in the schedule;
//! - [`Readings`] (`readings.rs`): balance history, and pruning what has aged out;
//! - [`Outbox`] (`outbox.rs`): alerts, their delivery progress and the send counters;
//! - [`Subscriptions`] (`subscriptions.rs`): subscription evaluations and their reminders;
//! - [`Leases`] (`leases.rs`): leases and claims, the store's mutual exclusion;
//! - [`ConfigStore`] (`config.rs`): the configuration document (serverless mode).
//!
//! [`Store`] is all of them: what a backend implements (each role) and what a process holds
//! (`Arc<dyn Store>`), handing a function only the role it needs (`&dyn Leases`).
//!
//! Exactly-one-alert-per-transition is the store's job: [`States::commit_checks`] applies a
//! write only if the project's state version is still the one the caller read.

mod config;
#[cfg(any(test, feature = "test-util"))]
pub mod contract;
mod leases;
mod outbox;
mod readings;
mod states;
mod subscriptions;

pub use config::{ConfigDocument, ConfigStore};
pub use leases::{random_id, Claimant, Lease, Leases};
pub use outbox::{AlertQuery, Outbox, SEND_WINDOW_KEPT};
pub use readings::{downsample, BalancePoint, Readings, SPARKLINE_READ_LIMIT};
pub use states::{CheckWrite, NextCheck, States};
pub use subscriptions::{SubscriptionState, Subscriptions};

/// A backend failure. Messages name the operation; they never include secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed in a way a retry will not fix (bad request, permissions, schema).
    #[error("store {op} failed: {message}")]
    Backend { op: &'static str, message: String },
    /// The backend could not be reached or answered with a transient error (network, timeout,
    /// 5xx, a locked database): a retry may succeed.
    #[error("store {op} unavailable: {message}")]
    Unavailable { op: &'static str, message: String },
    /// The backend asked us to slow down (DynamoDB throughput exceeded): retry with backoff.
    #[error("store {op} throttled: {message}")]
    Throttled { op: &'static str, message: String },
    /// A conditional write lost to a concurrent one that did not resolve by retrying.
    #[error("store {op} conflict: {message}")]
    Conflict { op: &'static str, message: String },
    /// The value is larger than this backend can hold (a DynamoDB item is at most 400 KB).
    #[error("{what} is {size} bytes; this store holds at most {limit} bytes: make it smaller")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    /// A stored item could not be read back (missing or malformed attribute).
    #[error("stored {item} is malformed: {message}")]
    Corrupt { item: &'static str, message: String },
}

impl StoreError {
    /// Whether trying the same operation again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable { .. } | StoreError::Throttled { .. }
        )
    }
}

/// Persistence used by the checker, the API and the notifier: every role. Implemented for any
/// type that implements them all.
pub trait Store: States + Readings + Outbox + Subscriptions + Leases + ConfigStore {}

impl<T> Store for T where
    T: States + Readings + Outbox + Subscriptions + Leases + ConfigStore + ?Sized
{
}
