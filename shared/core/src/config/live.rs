//! The running process's configuration: the last good version, the last load error, reloads
//! and API edits (serialised, validated, written back atomically).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::edit::{save_atomic, EditError};
use super::{load, parse, ConfigError, EnvLookup, Loaded, Mode};

/// Shared, swappable configuration.
pub struct LiveConfig {
    path: PathBuf,
    env: Box<dyn EnvLookup + Send + Sync>,
    current: RwLock<Arc<Loaded>>,
    error: RwLock<Option<String>>,
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
        LiveConfig {
            path: path.to_owned(),
            env: Box::new(env),
            current: RwLock::new(Arc::new(loaded)),
            error: RwLock::new(None),
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

    /// Re-reads the file. On failure keeps the last good config and records the error.
    /// Returns true when a new config was installed.
    pub fn reload(&self) -> bool {
        match load(&self.path, &*self.env) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    tracing::warn!(problem = %w, "config warning");
                }
                *self.current.write().expect("config lock is never poisoned") = Arc::new(loaded);
                *self.error.write().expect("config lock is never poisoned") = None;
                tracing::info!(path = %self.path.display(), "config reloaded");
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
    /// installs it. Nothing is written when the edit or the validation fails.
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
        let mut raw = match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                EditError::Invalid(format!(
                    "config file is not valid JSON ({e}); fix it before editing"
                ))
            })?,
            Err(_) => current.raw.clone().ok_or(EditError::NotFileBacked)?,
        };
        edit(&mut raw)?;
        let mut loaded = parse(&raw.to_string(), &*self.env).map_err(|e| match e {
            ConfigError::Invalid(problems) => EditError::Invalid(
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            other => EditError::Invalid(other.to_string()),
        })?;
        save_atomic(&self.path, &raw)?;
        loaded.path = Some(self.path.clone());
        let loaded = Arc::new(loaded);
        *self.current.write().expect("config lock is never poisoned") = loaded.clone();
        *self.error.write().expect("config lock is never poisoned") = None;
        Ok(loaded)
    }
}
