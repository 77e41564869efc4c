//! What the channels' sends in one pass share: the config and time, the claimed alerts, the
//! report, and which sends are in flight, started or stalled.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use balance_alert_core::config::Config;
use tokio::time::Instant;

use super::lease::Claimed;
use super::PassReport;

/// What the channels' sends in one pass share.
pub(super) struct Shared<'a> {
    pub config: &'a Config,
    pub now: i64,
    pub claimed: HashMap<String, Claimed>,
    pub report: Mutex<PassReport>,
    /// (alert id, channel) sends started and not settled yet, with their start.
    pub(super) in_flight: Mutex<HashMap<(String, String), Instant>>,
    /// Every (alert id, channel) send started in this pass.
    pub(super) started: Mutex<HashSet<(String, String)>>,
    /// Channels whose receiver timed out in this pass: no further sends until the next.
    pub(super) stalled: Mutex<HashSet<String>>,
}

impl<'a> Shared<'a> {
    pub fn new(config: &'a Config, now: i64, claimed: HashMap<String, Claimed>) -> Self {
        Shared {
            config,
            now,
            claimed,
            report: Mutex::new(PassReport::default()),
            in_flight: Mutex::new(HashMap::new()),
            started: Mutex::new(HashSet::new()),
            stalled: Mutex::new(HashSet::new()),
        }
    }

    pub(super) fn start(&self, id: &str, channel: &str) {
        let key = (id.to_owned(), channel.to_owned());
        if let Ok(mut f) = self.in_flight.lock() {
            f.insert(key.clone(), Instant::now());
        }
        if let Ok(mut s) = self.started.lock() {
            s.insert(key);
        }
    }

    /// The send of `id` on `channel` has its outcome.
    pub fn settled(&self, id: &str, channel: &str) {
        if let Ok(mut f) = self.in_flight.lock() {
            f.remove(&(id.to_owned(), channel.to_owned()));
        }
    }

    /// How many sends started in this pass.
    pub fn started(&self) -> usize {
        self.started.lock().map_or(0, |s| s.len())
    }

    pub(super) fn stall(&self, channel: &str) {
        if let Ok(mut s) = self.stalled.lock() {
            s.insert(channel.to_owned());
        }
    }

    pub(super) fn is_stalled(&self, channel: &str) -> bool {
        self.stalled.lock().is_ok_and(|s| s.contains(channel))
    }

    pub fn merge(&self, sub: &PassReport) {
        if let Ok(mut r) = self.report.lock() {
            r.add(sub);
        }
    }
}
