//! The readings role: each project's balance history (written with its state, see
//! [`States::commit_checks`]), the views read from it, and pruning what has aged out.

use async_trait::async_trait;
pub use balance_alert_model::BalancePoint;

use super::{States, StoreError};

/// Most readings [`Readings::downsampled_history`]'s default reads per project: a week at one
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

/// Balance history. The defaults find projects through their states ([`States`]).
#[async_trait]
pub trait Readings: States {
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

    /// Deletes balance points and alerts older than `before` (unix s); returns rows removed.
    /// A backend that expires items by itself (DynamoDB TTL) may do nothing and return 0.
    async fn prune(&self, before: i64) -> Result<u64, StoreError>;
}
