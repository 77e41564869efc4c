//! The API key the API compares against: fixed (`WEB_API_KEY`), or kept in a secret store and
//! read at run time (the api function: `API_KEY_SECRET_ARN`). A stored key is read at start
//! (no key, no start), again once it is [`KEY_TTL`] old, and when a presented key does not
//! match — at most once per recheck interval, so wrong keys cannot flood the store — so a
//! rotation takes effect without a redeploy. A failed re-read keeps the key in hand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use balance_alert_core::config::{EnvLookup, Secret};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::time::Instant;

/// How long a key read from the store is used before it is read again.
pub const KEY_TTL: Duration = Duration::from_secs(300);
/// Default shortest time between two re-reads (`API_KEY_RECHECK_SECONDS`).
pub const DEFAULT_RECHECK: Duration = Duration::from_secs(10);

/// Where a stored key is read from.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The current key. The error names the source and the fix, never the value.
    async fn read(&self) -> Result<Secret, String>;
}

/// The API key.
#[derive(Clone)]
pub enum ApiKey {
    /// A key fixed for the life of the process.
    Fixed(Secret),
    /// A key read from a [`KeyStore`], re-read on rotation.
    Stored(Arc<StoredKey>),
}

impl From<Secret> for ApiKey {
    fn from(key: Secret) -> Self {
        ApiKey::Fixed(key)
    }
}

impl ApiKey {
    /// The key in hand (a stored one as last read).
    pub fn current(&self) -> Secret {
        match self {
            ApiKey::Fixed(k) => k.clone(),
            ApiKey::Stored(s) => s.current(),
        }
    }

    /// Whether `presented` is the key; a stored key is re-read first when it is old, and
    /// again when `presented` does not match it (both rate-limited).
    pub async fn matches(&self, presented: &str) -> bool {
        match self {
            ApiKey::Fixed(k) => equal(k, presented),
            ApiKey::Stored(s) => s.matches(presented).await,
        }
    }
}

/// Compares as fixed-size digests in constant time: the time says nothing about the key's
/// length or content.
fn equal(key: &Secret, presented: &str) -> bool {
    let (a, b) = (
        Sha256::digest(key.expose().as_bytes()),
        Sha256::digest(presented.as_bytes()),
    );
    bool::from(a.ct_eq(&b))
}

/// A key kept in a [`KeyStore`].
pub struct StoredKey {
    store: Arc<dyn KeyStore>,
    recheck: Duration,
    /// The key and when it was read.
    current: Mutex<(Secret, Instant)>,
    /// The last read attempt (successful or not): the rate limit.
    attempted: Mutex<Instant>,
    /// Read attempts so far: a call that waited for another's read uses its result.
    attempts: AtomicU64,
    /// One re-read at a time; the others wait for its result.
    reading: tokio::sync::Mutex<()>,
}

impl StoredKey {
    /// Reads the key once; an error (or an empty key) refuses to start.
    pub async fn load(store: Arc<dyn KeyStore>, recheck: Duration) -> Result<Self, String> {
        let key = store.read().await?;
        if key.expose().trim().is_empty() {
            return Err("the API key secret is empty: store the key in it".into());
        }
        let now = Instant::now();
        Ok(StoredKey {
            store,
            recheck,
            current: Mutex::new((key, now)),
            attempted: Mutex::new(now),
            attempts: AtomicU64::new(0),
            reading: tokio::sync::Mutex::new(()),
        })
    }

    /// `API_KEY_RECHECK_SECONDS` (default 10): the shortest time between two re-reads.
    pub fn recheck_from_env(env: &(impl EnvLookup + ?Sized)) -> Result<Duration, String> {
        match env.get("API_KEY_RECHECK_SECONDS") {
            None => Ok(DEFAULT_RECHECK),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| {
                    format!(
                        "API_KEY_RECHECK_SECONDS: must be a whole number of seconds ≥ 0, got {v:?}"
                    )
                }),
        }
    }

    fn current(&self) -> Secret {
        self.current
            .lock()
            .expect("key lock is never poisoned")
            .0
            .clone()
    }

    fn age(&self) -> Duration {
        self.current
            .lock()
            .expect("key lock is never poisoned")
            .1
            .elapsed()
    }

    async fn matches(&self, presented: &str) -> bool {
        if self.age() >= KEY_TTL {
            self.reread().await;
        }
        equal(&self.current(), presented)
            || (self.reread().await && equal(&self.current(), presented))
    }

    /// Reads the key again unless the last attempt was under `recheck` ago; true when a
    /// read happened (here or in a concurrent call waited for) and may have changed the key.
    async fn reread(&self) -> bool {
        let seen = self.attempts.load(Ordering::Acquire);
        let _one = self.reading.lock().await;
        if self.attempts.load(Ordering::Acquire) != seen {
            // Another call read while this one waited: its result is the news.
            return true;
        }
        {
            let mut attempted = self.attempted.lock().expect("key lock is never poisoned");
            if attempted.elapsed() < self.recheck {
                return false;
            }
            *attempted = Instant::now();
        }
        let read = self.store.read().await;
        self.attempts.fetch_add(1, Ordering::Release);
        match read {
            Ok(key) if !key.expose().trim().is_empty() => {
                *self.current.lock().expect("key lock is never poisoned") = (key, Instant::now());
                true
            }
            Ok(_) => {
                tracing::warn!("the API key secret is empty; keeping the key read before");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-read the API key; keeping the key read before");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A key store whose value the test sets, counting reads.
    #[derive(Default)]
    struct Vault {
        value: Mutex<String>,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl KeyStore for Vault {
        async fn read(&self) -> Result<Secret, String> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(Secret::new(self.value.lock().expect("lock").clone()))
        }
    }

    fn vault(value: &str) -> Arc<Vault> {
        let v = Arc::new(Vault::default());
        *v.value.lock().expect("lock") = value.into();
        v
    }

    #[tokio::test(start_paused = true)]
    async fn a_rotated_key_is_picked_up_when_presented_and_wrong_keys_are_rate_limited() {
        let v = vault("old");
        let key = ApiKey::Stored(Arc::new(
            StoredKey::load(v.clone(), Duration::from_secs(10))
                .await
                .expect("load"),
        ));
        assert!(key.matches("old").await);
        assert_eq!(v.reads.load(Ordering::SeqCst), 1, "a match reads nothing");
        // Rotated right after start: within the recheck interval the new key waits...
        *v.value.lock().expect("lock") = "new".into();
        assert!(!key.matches("new").await);
        assert_eq!(v.reads.load(Ordering::SeqCst), 1);
        // ...then one mismatch re-reads, and the old key is refused from then on.
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(key.matches("new").await);
        assert_eq!(v.reads.load(Ordering::SeqCst), 2);
        assert!(!key.matches("old").await);
        for _ in 0..50 {
            assert!(!key.matches("guess").await);
        }
        assert_eq!(
            v.reads.load(Ordering::SeqCst),
            2,
            "wrong keys read at most once per 10 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_old_key_is_read_again_after_the_ttl() {
        let v = vault("old");
        let key = StoredKey::load(v.clone(), Duration::from_secs(10))
            .await
            .expect("load");
        *v.value.lock().expect("lock") = "new".into();
        tokio::time::advance(KEY_TTL).await;
        assert!(
            !key.matches("old").await,
            "the rotated-out key ends with the TTL"
        );
        assert_eq!(key.current().expose(), "new");
    }

    #[tokio::test]
    async fn an_empty_secret_refuses_to_start() {
        let err = StoredKey::load(vault(" "), DEFAULT_RECHECK)
            .await
            .err()
            .expect("refused");
        assert!(err.contains("empty"), "{err}");
    }
}
