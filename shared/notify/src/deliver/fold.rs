//! Stage 3, fold: a channel's due messages go out as one summary in a storm (more than
//! `storm_threshold` messages to the channel within a minute, counting those every process
//! sharing the store already sent: [`super::limit::Counted`]) or when several held messages are
//! released together at a quiet window's end. One storm summary per channel and UTC minute,
//! across processes: a store lease `storm:<channel>:<minute>` decides which pass sends it; the
//! others' messages wait for the next minute (and fold again if the storm goes on).

use balance_alert_core::store::{Lease, StoreError};

use super::limit::Counted;
use super::Deliverer;

/// How a channel's due messages go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fold {
    /// One message each.
    Each,
    /// One summary of them all: a storm.
    Storm,
    /// One summary of them all: held messages released together.
    Held,
}

/// How `due` messages (`held` of them released from quiet hours) go out on a channel that
/// already got `sent` messages in the last minute.
pub(super) fn fold(due: usize, held: usize, sent: usize, storm_threshold: u32) -> Fold {
    if due < 2 {
        Fold::Each
    } else if due + sent > storm_threshold as usize {
        Fold::Storm
    } else if held > 1 {
        Fold::Held
    } else {
        Fold::Each
    }
}

/// The lease of a channel's storm summary for one minute.
fn storm_lease(channel: &str, minute: i64) -> Lease {
    Lease::Storm {
        channel: channel.to_owned(),
        minute,
    }
}

impl Deliverer {
    /// How `due` messages (`held` of them from quiet hours) go out on `channel`, counted as
    /// `counted`; None in a storm whose summary for this minute another pass has taken.
    pub(super) async fn fold_channel(
        &self,
        channel: &str,
        due: usize,
        held: usize,
        counted: &Counted,
        storm_threshold: u32,
        now: i64,
    ) -> Result<Option<Fold>, StoreError> {
        let f = fold(due, held, counted.recent(), storm_threshold);
        if f != Fold::Storm {
            return Ok(Some(f));
        }
        let w = counted.window;
        let taken = self
            .leases
            .claim(&storm_lease(channel, w.minute), now, w.end())
            .await?;
        Ok(taken.is_none().then_some(f))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use balance_alert_core::store::Store;
    use balance_alert_store_sqlite::SqliteStore;

    use super::super::limit::Window;
    use super::*;

    #[test]
    fn more_than_the_threshold_in_a_minute_or_several_held_fold_into_one_summary() {
        assert_eq!(fold(5, 0, 0, 5), Fold::Each);
        assert_eq!(fold(6, 0, 0, 5), Fold::Storm);
        // Messages sent earlier in the minute count.
        assert_eq!(fold(2, 0, 4, 5), Fold::Storm);
        // One message is never a summary.
        assert_eq!(fold(1, 0, 100, 5), Fold::Each);
        // Held messages released together fold whatever the threshold.
        assert_eq!(fold(2, 2, 0, 100), Fold::Held);
        assert_eq!(fold(2, 1, 0, 100), Fold::Each);
    }

    #[tokio::test]
    async fn one_storm_summary_per_channel_and_minute_across_deliverers() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("store"));
        let one = Deliverer::new(store.clone(), reqwest::Client::new());
        let two = Deliverer::new(store, reqwest::Client::new());
        let at = |now: i64| Counted {
            window: Window::at(now),
            current: 0,
            previous: 0,
        };
        let storm = |d: &Deliverer, channel: &'static str, now: i64| {
            let d = d.clone();
            async move {
                d.fold_channel(channel, 8, 0, &at(now), 5, now)
                    .await
                    .expect("fold")
            }
        };
        assert_eq!(storm(&one, "ops", 6_000).await, Some(Fold::Storm));
        assert_eq!(storm(&two, "ops", 6_010).await, None, "taken this minute");
        assert_eq!(storm(&one, "ops", 6_059).await, None, "by any pass");
        assert_eq!(storm(&two, "team", 6_010).await, Some(Fold::Storm));
        assert_eq!(
            storm(&two, "ops", 6_060).await,
            Some(Fold::Storm),
            "next minute"
        );
        // No storm: no lease needed.
        assert_eq!(
            two.fold_channel("ops", 2, 2, &at(6_061), 5, 6_061)
                .await
                .expect("fold"),
            Some(Fold::Held)
        );
    }
}
