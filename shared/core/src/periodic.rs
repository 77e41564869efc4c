//! A periodic task in a long-lived process (the `serve` scheduler's companions, the notifier's
//! mailbox scan).

use std::time::Duration;

/// Calls `f` every `period` (the first call after one period) until `shutdown` flips to true;
/// a call that overruns delays the next instead of bunching them.
pub async fn every<F, Fut>(
    period: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut f: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { return; }
                continue;
            }
        }
        f().await;
    }
}
