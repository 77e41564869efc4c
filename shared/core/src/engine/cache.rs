//! Response cache: a successful response body is reused for `response_cache_ttl` seconds.
//!
//! The body (not the parsed balance) is kept, so each project sharing a key reads it with its
//! own settings (configured or last-seen currency).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::sync::Arc;

use serde_json::Value;

/// Cached response bodies keyed by endpoint and a hash of the API key (the key itself is not
/// kept).
#[derive(Debug)]
pub struct ResponseCache {
    ttl: Duration,
    entries: Mutex<HashMap<u64, (Instant, Arc<Value>)>>,
}

impl ResponseCache {
    /// A TTL of zero disables the cache.
    pub fn new(ttl: Duration) -> Self {
        ResponseCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cache key for an endpoint and API key.
    pub fn key(endpoint: &str, api_key: &str) -> u64 {
        let mut h = DefaultHasher::new();
        (endpoint, api_key).hash(&mut h);
        h.finish()
    }

    /// A fresh cached body, if any.
    pub fn get(&self, key: u64) -> Option<Arc<Value>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().expect("cache lock is never poisoned");
        entries
            .get(&key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, b)| b.clone())
    }

    /// Stores a body; drops expired entries once the map grows, so it cannot grow unbounded.
    pub fn put(&self, key: u64, body: Arc<Value>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().expect("cache lock is never poisoned");
        if entries.len() >= 4096 {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        entries.insert(key, (Instant::now(), body));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn b() -> Arc<Value> {
        Arc::new(serde_json::json!({"data": {"available_balance": 1.0}}))
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
