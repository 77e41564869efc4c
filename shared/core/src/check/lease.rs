//! The checking lease: due projects are checked by one process at a time. A scheduled run takes
//! the store's lease [`Lease::Checks`] before it reads the schedules, so two processes sharing a
//! store (two `serve`, the checker function) never check one project twice, and the lease
//! costs one write per run, not one per project. It is short (a few request timeouts, whatever
//! the number of projects) and renewed while the run works, so the work of a process that died
//! mid-check comes back within one lease — at once for its restart, which frees its node's
//! leases on start.

use crate::config::Settings;
use crate::store::{Claimant, Lease, Leases};

/// Seconds the checking lease stays with the run that took it, from its last renewal: a few
/// request timeouts (at least [`MIN_LEASE`]), whatever the number of projects. The run renews
/// it every third of it while it works ([`renew_every`]), so a run may take as long as its
/// retries need; a process that dies stops renewing, and its work comes back one lease later
/// (at once for its restart, which frees its node's leases).
pub fn lease_seconds(s: &Settings) -> i64 {
    let timeout = s.request_timeout_seconds.ceil().max(1.0) as i64;
    timeout.saturating_mul(LEASE_TIMEOUTS).max(MIN_LEASE)
}

/// Request timeouts per lease.
const LEASE_TIMEOUTS: i64 = 3;
/// Shortest lease, seconds.
pub const MIN_LEASE: i64 = 10;

/// How often a run renews its lease: a third of it, so two renewals may fail or run late
/// before it lapses.
pub fn renew_every(s: &Settings) -> std::time::Duration {
    std::time::Duration::from_secs((lease_seconds(s) / 3).max(1) as u64)
}

/// Drives `work` while renewing the checking lease every [`renew_every`], so the lease stays
/// short however long the work takes. A lease found lost (this process stalled past it and
/// another took it) is logged; the checks' writes stay safe (versioned).
pub(super) async fn keep_leased<T>(
    store: &dyn Leases,
    settings: &Settings,
    by: &Claimant,
    now: i64,
    work: impl std::future::Future<Output = T>,
) -> T {
    let started = std::time::Instant::now();
    let period = renew_every(settings);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            biased;
            out = &mut work => return out,
            _ = ticks.tick() => {
                // The run's clock (`now` may be simulated) advanced by the real time spent.
                let at = now.saturating_add(started.elapsed().as_secs() as i64);
                let until = at.saturating_add(lease_seconds(settings));
                match store.take_lease(&Lease::Checks, by, at, until).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!("checking lease lost while checking: another process took it after it expired"),
                    Err(e) => tracing::warn!(error = %e, "cannot renew the checking lease"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_a_few_request_timeouts_whatever_the_number_of_projects() {
        let s = Settings::default(); // 10 s timeout
        assert_eq!(lease_seconds(&s), 30);
        assert_eq!(renew_every(&s), std::time::Duration::from_secs(10));
        let quick = Settings {
            request_timeout_seconds: 0.5,
            ..Settings::default()
        };
        assert_eq!(lease_seconds(&quick), MIN_LEASE);
    }
}
