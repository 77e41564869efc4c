//! Reading cache: a successful reading is reused for `response_cache_ttl` seconds.
//!
//! Keyed by everything the reading depends on (provider, base URL, adapter options, configured
//! currency) and a hash of the API key: an adapter may make several requests for one reading,
//! so the reading, not a response body, is what is kept.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use balance_alert_model::Balance;

/// Cached readings keyed by what they depend on and a hash of the API key (the key itself is
/// not kept).
#[derive(Debug)]
pub struct ResponseCache {
    ttl: Duration,
    entries: Mutex<HashMap<u64, (Instant, Balance)>>,
}

impl ResponseCache {
    /// A TTL of zero disables the cache.
    pub fn new(ttl: Duration) -> Self {
        ResponseCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cache key for what a reading depends on and its API key.
    pub fn key(depends_on: &str, api_key: &str) -> u64 {
        let mut h = DefaultHasher::new();
        (depends_on, api_key).hash(&mut h);
        h.finish()
    }

    /// A fresh cached reading, if any.
    pub fn get(&self, key: u64) -> Option<Balance> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().expect("cache lock is never poisoned");
        entries
            .get(&key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, b)| b.clone())
    }

    /// Stores a reading; drops expired entries once the map grows, so it cannot grow unbounded.
    pub fn put(&self, key: u64, reading: Balance) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().expect("cache lock is never poisoned");
        if entries.len() >= 4096 {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        entries.insert(key, (Instant::now(), reading));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn b() -> Balance {
        Balance::new(
            balance_alert_model::Decimal::ONE,
            "CNY",
            balance_alert_model::BalanceKind::PrepaidBalance,
        )
    }

    #[test]
    fn fresh_entries_are_returned_and_zero_ttl_disables() {
        let c = ResponseCache::new(Duration::from_secs(60));
        let k = ResponseCache::key("e", "k");
        assert!(c.get(k).is_none());
        c.put(k, b());
        assert_eq!(c.get(k), Some(b()));
        assert_ne!(k, ResponseCache::key("e", "other"));
        let off = ResponseCache::new(Duration::ZERO);
        off.put(k, b());
        assert!(off.get(k).is_none());
    }

    #[test]
    fn expired_entries_are_not_returned() {
        let c = ResponseCache::new(Duration::from_nanos(1));
        let k = ResponseCache::key("e", "k");
        c.put(k, b());
        std::thread::sleep(Duration::from_millis(1));
        assert!(c.get(k).is_none());
    }
}
