//! The persistence boundary: latest state per project, balance history, alert history,
//! subscription reminders, and what must survive between two invocations of a stateless
//! process (each project's next check time, refresh cooldowns, the config document). Backends
//! live in their own crates (`store-sqlite`, `store-dynamodb`); every one passes the same
//! contract suite ([`contract::store_contract`], feature `test-util`).
//!
//! Exactly-one-alert-per-transition is the store's job: [`Store::commit_checks`] applies a
//! write only if the project's state version is still the one the caller read.

#[cfg(any(test, feature = "test-util"))]
pub mod contract;
mod lease;
pub use lease::Lease;

use async_trait::async_trait;
use balance_alert_model::alert::ProjectState;
pub use balance_alert_model::BalancePoint;
use balance_alert_model::{AlertRecord, AlertStatus, Delivery};
use serde::{Deserialize, Serialize};

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

/// Who holds a lease ([`Store::take_lease`]), e.g. the one on checking due projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    /// Unique to one process: only it renews its leases.
    pub owner: String,
    /// The installation the process runs as, stable across its restarts and held by one live
    /// process at a time (a lock in the data directory): a restarted process frees the leases
    /// its crashed predecessor left under it at once ([`Store::release_node_leases`]). `None`:
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

/// The configuration document kept in the store (serverless mode): config.json as written,
/// `${VAR}` placeholders unexpanded, with a version for conditional updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDocument {
    /// The JSON text.
    pub text: String,
    /// Starts at 1; every accepted write increments it.
    pub version: u64,
    /// Unix seconds of the write.
    pub updated_at: i64,
}

/// A project's place in the check schedule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NextCheck {
    pub project_id: String,
    /// Unix seconds of the next check.
    pub at: i64,
    /// The [`crate::config::ProjectConfig::check_fingerprint`] of the configuration the last
    /// check ran with: a different one in the current configuration makes the project due at
    /// once. `None`: unknown (recorded before fingerprints were kept), never a reason to check.
    pub fingerprint: Option<String>,
}

impl NextCheck {
    /// A next check of `project_id` at `at`, with no fingerprint.
    pub fn at(project_id: impl Into<String>, at: i64) -> Self {
        NextCheck {
            project_id: project_id.into(),
            at,
            fingerprint: None,
        }
    }
}

/// A conditional write of one check's result.
#[derive(Debug, Clone)]
pub struct CheckWrite {
    /// The version the caller read; `None` means "the project must not exist yet".
    pub expected_version: Option<u64>,
    /// The new state (its `version` is `expected_version + 1`).
    pub state: ProjectState,
    /// The alert the transition produced, written atomically with the state.
    pub alert: Option<AlertRecord>,
    /// The balance reading, written with the state.
    pub point: Option<BalancePoint>,
    /// The project's next check, when known before the write: written with the state, as one
    /// write, and only if the state is (a lost race schedules nothing).
    pub next: Option<NextCheck>,
}

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub project_id: Option<String>,
    /// Only alerts at or after this unix second.
    pub since: Option<i64>,
    pub limit: usize,
}

/// The latest evaluation of one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionState {
    pub subscription_id: String,
    pub name: String,
    /// `YYYY-MM-DD`.
    pub next_renewal_date: String,
    pub days_until_renewal: i64,
    /// The renewal date a reminder was last sent for (one reminder per renewal).
    pub reminded_for: Option<String>,
    /// Unix seconds.
    pub updated_at: i64,
}

/// Most readings [`Store::downsampled_history`]'s default reads per project: a week at one
/// reading a minute.
pub const SPARKLINE_READ_LIMIT: usize = 10_080;

/// Which of `points` equal spans of `[since, until)` the time `t` falls in.
fn span_of(t: i64, since: i64, until: i64, points: usize) -> i64 {
    let width = (until - since).max(1) as i128;
    ((i128::from(t - since) * points as i128) / width) as i64
}

/// Thins one project's readings (oldest first, all inside `[since, until)`) to the newest
/// reading of each of `points` equal spans of the window: at most `points` readings, oldest
/// first, the newest reading always kept.
pub fn downsample(
    readings: Vec<BalancePoint>,
    since: i64,
    until: i64,
    points: usize,
) -> Vec<BalancePoint> {
    let mut out: Vec<BalancePoint> = Vec::new();
    let mut last_span = None;
    for r in readings {
        let span = span_of(r.timestamp, since, until, points);
        if last_span == Some(span) {
            // Oldest first: a later reading of the same span replaces the kept one.
            out.pop();
        }
        last_span = Some(span);
        out.push(r);
    }
    out
}

/// How long a send counter ([`Store::take_sends`]) is kept after its window starts: an hour.
pub const SEND_WINDOW_KEPT: i64 = 3_600;

/// Persistence used by the checker, the API and the notifier.
#[async_trait]
pub trait Store: Send + Sync {
    /// Latest state of every project ever checked.
    async fn list_states(&self) -> Result<Vec<ProjectState>, StoreError>;

    /// Latest state of one project.
    async fn get_state(&self, project_id: &str) -> Result<Option<ProjectState>, StoreError>;

    /// Applies each write whose `expected_version` still matches; returns, per write, whether it
    /// was applied. A write that lost a race changes nothing (no state, alert or point).
    async fn commit_checks(&self, writes: Vec<CheckWrite>) -> Result<Vec<bool>, StoreError>;

    /// Balance points of a project since `since` (unix s), oldest first, at most `limit`
    /// (the most recent ones when there are more).
    async fn balance_history(
        &self,
        project_id: &str,
        since: i64,
        limit: usize,
    ) -> Result<Vec<BalancePoint>, StoreError>;

    /// The newest `limit` readings across every project (or one provider's) since `since`,
    /// oldest first; readings of one second ordered by project id. Backends that can answer it in one request override this default, which
    /// reads each project's history in turn.
    async fn recent_readings(
        &self,
        provider: Option<&str>,
        since: i64,
        limit: usize,
    ) -> Result<Vec<BalancePoint>, StoreError> {
        let mut points = Vec::new();
        for s in self.list_states().await? {
            if provider.is_none_or(|p| s.provider == p) {
                points.extend(self.balance_history(&s.project_id, since, limit).await?);
            }
        }
        // Readings of one run share a timestamp: ties are ordered by project id, as every
        // backend must.
        points.sort_by(|a, b| (a.timestamp, &a.project_id).cmp(&(b.timestamp, &b.project_id)));
        let skip = points.len().saturating_sub(limit);
        Ok(points.into_iter().skip(skip).collect())
    }

    /// The newest reading of every project that has a state (its note, estimate and unlimited
    /// flags included): what `/api/credits` and `/metrics` show beside the state. Backends that
    /// can answer it in one request override this default, which reads each project's newest
    /// reading in turn.
    async fn latest_readings(&self) -> Result<Vec<BalancePoint>, StoreError> {
        let mut points = Vec::new();
        for s in self.list_states().await? {
            points.extend(self.balance_history(&s.project_id, i64::MIN, 1).await?);
        }
        Ok(points)
    }

    /// The readings of `project_ids` in `[since, until)`, thinned for a sparkline: the window is
    /// cut into `points` equal spans and each span keeps its newest reading, so a project
    /// yields at most `points` readings however long its history. Oldest first within a
    /// project. This default reads at most [`SPARKLINE_READ_LIMIT`] readings per project and
    /// thins them with [`downsample`]; backends that can thin in one query override it (same
    /// result).
    async fn downsampled_history(
        &self,
        project_ids: &[String],
        since: i64,
        until: i64,
        points: usize,
    ) -> Result<Vec<BalancePoint>, StoreError> {
        let mut out = Vec::new();
        for id in project_ids {
            let mut history = self
                .balance_history(id, since, SPARKLINE_READ_LIMIT)
                .await?;
            history.retain(|p| p.timestamp < until);
            out.extend(downsample(history, since, until, points));
        }
        Ok(out)
    }

    /// Alerts matching the query, newest first.
    async fn alerts(&self, query: AlertQuery) -> Result<Vec<AlertRecord>, StoreError>;

    /// Sets an alert's delivery status; false when no such alert exists.
    async fn set_alert_status(&self, id: &str, status: AlertStatus) -> Result<bool, StoreError>;

    /// Records delivery progress: every channel's outcome so far and the alert's overall
    /// status (`pending` keeps it in the outbox). False when no such alert exists.
    async fn record_deliveries(
        &self,
        id: &str,
        status: AlertStatus,
        deliveries: Vec<Delivery>,
    ) -> Result<bool, StoreError>;

    /// One alert by id.
    async fn get_alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError>;

    /// Writes an alert that belongs to no check (a billing mail found by the mailbox scan)
    /// unless an alert with its id exists; returns whether it was written. Ids derived from
    /// what they report make this "one alert per mail, ever".
    async fn insert_alert(&self, alert: AlertRecord) -> Result<bool, StoreError>;

    /// Records a subscription evaluation. When `reminder` is given, it is written only if no
    /// reminder was recorded yet for `state.next_renewal_date`; returns whether it was written.
    async fn record_subscription(
        &self,
        state: SubscriptionState,
        reminder: Option<AlertRecord>,
    ) -> Result<bool, StoreError>;

    /// Latest evaluation of every subscription.
    async fn subscription_states(&self) -> Result<Vec<SubscriptionState>, StoreError>;

    /// Alerts still `pending` delivery, oldest first, at most `limit` (the outbox).
    async fn pending_alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError>;

    /// Each project's next check time (unix s) and the fingerprint recorded with it, for
    /// projects that have one.
    async fn schedules(&self) -> Result<Vec<NextCheck>, StoreError>;

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

    /// Sets projects' next check times and fingerprints (after their checks). When one id is
    /// given twice, the last entry wins.
    async fn set_next_checks(&self, next: Vec<NextCheck>) -> Result<(), StoreError>;

    /// Claims `lease` until `until` when it is free (never claimed, or expired at `now`):
    /// `None`. While another claim holds it: `Some(held until)`. Atomic across processes.
    async fn claim(&self, lease: &Lease, now: i64, until: i64) -> Result<Option<i64>, StoreError>;

    /// Frees the claim `lease` (no error when it is not held).
    async fn release_claim(&self, lease: &Lease) -> Result<(), StoreError>;

    /// Takes up to `wanted` sends from `channel`'s counter for the window `minute` (unix
    /// seconds / 60), never letting the counter pass `limit`: grants `min(wanted, limit −
    /// counted)` (0 when full), adds the grant to the counter and returns it, atomically across
    /// processes (two processes never both get the last send). The rate limit and storm guard
    /// of every process sharing the store count here. Counters expire by themselves (at least
    /// [`SEND_WINDOW_KEPT`] seconds after their window).
    async fn take_sends(
        &self,
        channel: &str,
        minute: i64,
        wanted: u32,
        limit: u32,
    ) -> Result<u32, StoreError>;

    /// The sends taken from `channel`'s counter for the window `minute` (0 when none).
    async fn sends_taken(&self, channel: &str, minute: i64) -> Result<u32, StoreError>;

    /// The stored configuration document, if any.
    async fn config_document(&self) -> Result<Option<ConfigDocument>, StoreError>;

    /// The version of the stored configuration document, if any, read without its text (a
    /// cheap, strongly consistent read): what each invocation checks before reloading.
    async fn config_version(&self) -> Result<Option<u64>, StoreError>;

    /// Stores a new configuration document if the current version is `expected_version`
    /// (`None`: no document yet); returns the new version, or `None` when another write came
    /// first (nothing changed).
    async fn put_config_document(
        &self,
        text: String,
        expected_version: Option<u64>,
        now: i64,
    ) -> Result<Option<u64>, StoreError>;

    /// Deletes balance points and alerts older than `before` (unix s); returns rows removed.
    /// A backend that expires items by itself (DynamoDB TTL) may do nothing and return 0.
    async fn prune(&self, before: i64) -> Result<u64, StoreError>;

    /// A constant-cost request proving the store answers (health probes).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Unix seconds of the newest check of any project, by any process (None before the
    /// first): what health reports as `last_update`. Backends with a cheaper way than reading
    /// every state override it.
    async fn newest_check(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .list_states()
            .await?
            .iter()
            .map(|s| s.last_checked_at)
            .max())
    }
}
