//! The outbox role: alert history, each alert's delivery progress (an alert stays `pending`
//! until every channel settled it), and the per-channel send counters every process's rate
//! limit and storm guard share.

use async_trait::async_trait;
use balance_alert_model::{AlertRecord, AlertStatus, Delivery};

use super::StoreError;

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub project_id: Option<String>,
    /// Only alerts at or after this unix second.
    pub since: Option<i64>,
    pub limit: usize,
}

/// How long a send counter ([`Outbox::take_sends`]) is kept after its window starts: an hour.
pub const SEND_WINDOW_KEPT: i64 = 3_600;

/// Alerts, their deliveries and the send counters.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Alerts matching the query, newest first.
    async fn alerts(&self, query: AlertQuery) -> Result<Vec<AlertRecord>, StoreError>;

    /// One alert by id.
    async fn get_alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError>;

    /// Writes an alert that belongs to no check (a billing mail found by the mailbox scan)
    /// unless an alert with its id exists; returns whether it was written. Ids derived from
    /// what they report make this "one alert per mail, ever".
    async fn insert_alert(&self, alert: AlertRecord) -> Result<bool, StoreError>;

    /// Alerts still `pending` delivery, oldest first, at most `limit` (the outbox).
    async fn pending_alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError>;

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
}
