//! The running process's configuration: the last good version, the last load error, reloads
//! and API edits (serialised, validated, written back atomically).
//!
//! Reloads are driven by [`LiveConfig::poll`]: it compares what the path resolves to (through
//! every symlink, so a Kubernetes ConfigMap swap of `..data` counts) and that file's metadata,
//! and re-reads only when the *content* changed. One change gives one reload; an unchanged
//! file, or our own write-back, none; a broken file is reported once, not on every poll.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use serde_json::Value;

use super::edit::{save_atomic, EditError};
use super::{
    content_hash, load, load_text, parse, read_capped, ConfigError, EnvLookup, Loaded, Mode,
};

/// What the config path looked like at the last poll.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    /// The path with every symlink resolved.
    target: PathBuf,
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Fingerprint {
    fn of(path: &Path) -> Option<Self> {
        let target = std::fs::canonicalize(path).ok()?;
        let meta = std::fs::metadata(&target).ok()?;
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        Some(Fingerprint {
            target,
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            inode,
        })
    }
}

#[derive(Debug, Default)]
struct Watch {
    fingerprint: Option<Fingerprint>,
    /// Hash of the content last loaded or tried (good or bad).
    seen_hash: Option<String>,
    /// Polls since the content was last hashed regardless of the fingerprint.
    polls: u32,
}

/// Polls between content hashes taken even when the fingerprint is unchanged (an edit within
/// the file system's timestamp granularity that keeps the size).
const REHASH_EVERY: u32 = 10;

/// Shared, swappable configuration.
pub struct LiveConfig {
    path: PathBuf,
    env: Box<dyn EnvLookup + Send + Sync>,
    current: RwLock<Arc<Loaded>>,
    error: RwLock<Option<String>>,
    watch: Mutex<Watch>,
    /// Reload attempts (changed content read) and how many of them failed.
    reloads: AtomicU64,
    reload_failures: AtomicU64,
    /// Serialises edits so two API calls cannot interleave read-modify-write.
    edit_lock: tokio::sync::Mutex<()>,
}

impl LiveConfig {
    /// Loads `path` (or the environment) once; fails if the first load fails.
    pub fn load(
        path: &Path,
        env: impl EnvLookup + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        let loaded = load(path, &env)?;
        Ok(Self::from_loaded(path, loaded, env))
    }

    /// Wraps an already loaded configuration.
    pub fn from_loaded(
        path: &Path,
        loaded: Loaded,
        env: impl EnvLookup + Send + Sync + 'static,
    ) -> Self {
        let watch = Watch {
            fingerprint: Fingerprint::of(path),
            seen_hash: loaded.content_hash.clone(),
            polls: 0,
        };
        LiveConfig {
            path: path.to_owned(),
            env: Box::new(env),
            current: RwLock::new(Arc::new(loaded)),
            error: RwLock::new(None),
            watch: Mutex::new(watch),
            reloads: AtomicU64::new(0),
            reload_failures: AtomicU64::new(0),
            edit_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The current (last good) configuration.
    pub fn get(&self) -> Arc<Loaded> {
        self.current
            .read()
            .expect("config lock is never poisoned")
            .clone()
    }

    /// The error of the latest reload, if it failed (the previous config stays in use).
    pub fn last_error(&self) -> Option<String> {
        self.error
            .read()
            .expect("config lock is never poisoned")
            .clone()
    }

    /// True when `PROJECT_n_*` variables replace the file's projects (hybrid mode): edits to
    /// the file's projects would have no effect.
    pub fn projects_from_env(&self) -> bool {
        self.env.get("PROJECT_1_NAME").is_some()
    }

    /// True when `SUBSCRIPTION_n_*` variables supply the subscriptions (the file has none):
    /// saving one to the file would silently replace them all.
    pub fn subscriptions_from_env(&self) -> bool {
        let file_has_none = self.get().raw.as_ref().is_none_or(|raw| {
            raw.get("subscriptions")
                .and_then(serde_json::Value::as_array)
                .is_none_or(Vec::is_empty)
        });
        file_has_none && self.env.get("SUBSCRIPTION_1_NAME").is_some()
    }

    /// The file being watched.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the file for a change of content and reloads when there is one. Cheap when
    /// nothing changed (a `canonicalize` and a `stat`). Returns true when a new config was
    /// installed. Blocking: call it from a blocking context.
    pub fn poll(&self) -> bool {
        if self.get().mode == Mode::Env {
            return false;
        }
        let now = Fingerprint::of(&self.path);
        // The watch lock is held until the new config is installed: an API edit (which takes
        // it to record its own write) can then never be overwritten by an older read.
        let mut watch = self.watch.lock().expect("watch lock is never poisoned");
        let text = {
            watch.polls += 1;
            let changed = now != watch.fingerprint;
            if !changed && watch.polls < REHASH_EVERY {
                return false;
            }
            watch.polls = 0;
            watch.fingerprint = now;
            match read_capped(&self.path) {
                Ok(text) => {
                    let hash = content_hash(&text);
                    if watch.seen_hash.as_deref() == Some(hash.as_str()) {
                        return false;
                    }
                    watch.seen_hash = Some(hash);
                    Ok(text)
                }
                Err(e) => {
                    // Report a missing or oversized file once, until it changes again.
                    let marker = format!("error:{e}");
                    if watch.seen_hash.as_deref() == Some(marker.as_str()) {
                        return false;
                    }
                    watch.seen_hash = Some(marker);
                    Err(e)
                }
            }
        };
        let installed = self.install(text.and_then(|t| load_text(&self.path, &t, &*self.env)));
        drop(watch);
        installed
    }

    /// Re-reads the file now, whatever the poll state. On failure keeps the last good config
    /// and records the error. Returns true when a new config was installed.
    pub fn reload(&self) -> bool {
        let result = load(&self.path, &*self.env);
        {
            let mut watch = self.watch.lock().expect("watch lock is never poisoned");
            watch.fingerprint = Fingerprint::of(&self.path);
            if let Ok(loaded) = &result {
                watch.seen_hash = loaded.content_hash.clone();
            }
        }
        self.install(result)
    }

    /// Reloads attempted since start, and how many of them failed.
    pub fn reload_counts(&self) -> (u64, u64) {
        (
            self.reloads.load(Ordering::Relaxed),
            self.reload_failures.load(Ordering::Relaxed),
        )
    }

    fn install(&self, result: Result<Loaded, ConfigError>) -> bool {
        self.reloads.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.reload_failures.fetch_add(1, Ordering::Relaxed);
        }
        match result {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    tracing::warn!(problem = %w, "config warning");
                }
                let hash = loaded.content_hash.clone().unwrap_or_default();
                *self.current.write().expect("config lock is never poisoned") = Arc::new(loaded);
                *self.error.write().expect("config lock is never poisoned") = None;
                tracing::info!(path = %self.path.display(), sha256 = %hash, "config reloaded");
                true
            }
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "config reload failed; keeping the last good config");
                *self.error.write().expect("config lock is never poisoned") = Some(e.to_string());
                false
            }
        }
    }

    /// Applies `edit` to the raw file document, validates the result, writes it atomically and
    /// installs it. Nothing is written when the edit or the validation fails, and nothing is
    /// installed when the write fails.
    pub async fn edit(
        &self,
        edit: impl FnOnce(&mut Value) -> Result<(), EditError>,
    ) -> Result<Arc<Loaded>, EditError> {
        let _guard = self.edit_lock.lock().await;
        let current = self.get();
        if current.mode == Mode::Env {
            return Err(EditError::NotFileBacked);
        }
        // Edit what is on disk now (it may have changed since the last reload), falling back
        // to the document we loaded.
        let mut raw = match read_capped(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                EditError::Invalid(format!(
                    "config file is not valid JSON ({e}); fix it before editing"
                ))
            })?,
            Err(ConfigError::TooLarge { .. }) => {
                return Err(EditError::Invalid(
                    "the config file is over the 1 MiB limit; shrink it before editing".into(),
                ))
            }
            Err(_) => current.raw.clone().ok_or(EditError::NotFileBacked)?,
        };
        edit(&mut raw)?;
        // The file must always load again: an edit that would push it over the limit is refused.
        let size = serde_json::to_string_pretty(&raw).map_or(0, |t| t.len() as u64 + 1);
        if size > super::MAX_CONFIG_BYTES {
            return Err(EditError::TooLarge {
                size,
                limit: super::MAX_CONFIG_BYTES,
            });
        }
        let mut loaded = parse(&raw.to_string(), &*self.env)?;
        let written = save_atomic(&self.path, &raw)?;
        loaded.path = Some(self.path.clone());
        let hash = content_hash(&written);
        loaded.content_hash = Some(hash.clone());
        // Our own write is not a change to reload; recorded and installed under the watch lock
        // so a poll that read the file before this write cannot install its older text after.
        let mut watch = self.watch.lock().expect("watch lock is never poisoned");
        watch.fingerprint = Fingerprint::of(&self.path);
        watch.seen_hash = Some(hash);
        let loaded = Arc::new(loaded);
        *self.current.write().expect("config lock is never poisoned") = loaded.clone();
        *self.error.write().expect("config lock is never poisoned") = None;
        drop(watch);
        Ok(loaded)
    }
}
