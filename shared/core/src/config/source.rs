//! Where the running configuration comes from, behind one trait: the file (watched, written
//! back keeping `${VAR}`, comments and order), the environment (edits refused), or a document
//! in the store (serverless: versioned; an edit that lost a race to another writer is a 409,
//! never a silent overwrite). API edits go through it, so the same handlers edit a file locally and the table's
//! document in AWS.

use std::path::Path;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use serde_json::Value;

use super::edit::EditError;
use super::{content_hash, load_text, parse, ConfigError, EnvLookup, LiveConfig, Loaded, Mode};
use crate::store::{ConfigStore, StoreError};

/// An edit of the raw config document (placeholders unexpanded).
pub type Edit = Box<dyn FnOnce(&mut Value) -> Result<(), EditError> + Send>;

/// A source of configuration that can be read, refreshed and edited.
#[async_trait]
pub trait ConfigSource: Send + Sync {
    /// The current (last good) configuration.
    fn get(&self) -> Arc<Loaded>;

    /// Why the latest reload failed, while the previous configuration stays in use.
    fn last_error(&self) -> Option<String>;

    /// Looks for a newer configuration and installs it; true when one was installed.
    async fn refresh(&self) -> bool;

    /// Applies `edit` to the raw document, validates the result, stores it and installs it.
    /// Nothing changes when the edit, the validation or the write fails.
    async fn edit(&self, edit: Edit) -> Result<Arc<Loaded>, EditError>;

    /// `PROJECT_n_*` variables replace the document's projects: project edits would not show.
    fn projects_from_env(&self) -> bool;

    /// `SUBSCRIPTION_n_*` variables supply the subscriptions: saving one would replace them.
    fn subscriptions_from_env(&self) -> bool;

    /// Edits can be saved (false for env-only configuration).
    fn editable(&self) -> bool {
        self.get().mode != Mode::Env
    }
}

#[async_trait]
impl ConfigSource for LiveConfig {
    fn get(&self) -> Arc<Loaded> {
        LiveConfig::get(self)
    }

    fn last_error(&self) -> Option<String> {
        LiveConfig::last_error(self)
    }

    async fn refresh(&self) -> bool {
        // A stat per call, a read only when the file changed: cheap enough to run inline.
        self.poll()
    }

    async fn edit(&self, edit: Edit) -> Result<Arc<Loaded>, EditError> {
        LiveConfig::edit(self, edit).await
    }

    fn projects_from_env(&self) -> bool {
        LiveConfig::projects_from_env(self)
    }

    fn subscriptions_from_env(&self) -> bool {
        LiveConfig::subscriptions_from_env(self)
    }
}

/// Attempts of a push that keeps losing to concurrent writers before giving up.
const PUSH_ATTEMPTS: usize = 5;

/// The configuration document kept in the store, placeholders resolved from the environment
/// (and, in the functions, secrets) when loaded.
pub struct StoreConfig {
    store: Arc<dyn ConfigStore>,
    env: Box<dyn EnvLookup + Send + Sync>,
    /// Resolves `secretsmanager://…` references (the functions); None leaves them unresolved.
    resolver: Option<Arc<dyn super::refs::SecretResolver>>,
    current: RwLock<(Arc<Loaded>, u64)>,
    /// Why the newest document failed to load, and its version (not read again).
    error: RwLock<Option<(u64, String)>>,
}

/// Why the store's configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StoreConfigError {
    /// The store holds no configuration document yet.
    #[error("the store holds no configuration: upload one with `balance-alert config push --table NAME --config config.json`")]
    Missing,
    /// The document is not a valid configuration.
    #[error("the stored configuration (version {version}) is invalid: {source}")]
    Invalid { version: u64, source: ConfigError },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn parse_document(
    text: &str,
    env: &(impl EnvLookup + ?Sized),
    version: u64,
    secrets: Option<&super::refs::Resolved>,
) -> Result<Loaded, StoreConfigError> {
    let mut loaded = match secrets {
        None => load_text(Path::new("<table>"), text, env),
        Some(values) => super::parse_with(text, env, Some(values)),
    }
    .map_err(|source| StoreConfigError::Invalid { version, source })?;
    loaded.path = None;
    loaded.content_hash = Some(super::content_hash(text));
    Ok(loaded)
}

/// The document's secret references, resolved (None without a resolver or when the text is
/// not JSON: parsing reports that).
async fn resolve_document(
    resolver: Option<&Arc<dyn super::refs::SecretResolver>>,
    text: &str,
) -> Option<super::refs::Resolved> {
    let resolver = resolver?;
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(super::refs::resolve_refs(&**resolver, &doc).await)
}

impl StoreConfig {
    /// Loads the store's document; fails when there is none or it is invalid.
    pub async fn load(
        store: Arc<dyn ConfigStore>,
        env: impl EnvLookup + Send + Sync + 'static,
    ) -> Result<Self, StoreConfigError> {
        Self::load_with(store, env, None).await
    }

    /// [`StoreConfig::load`], resolving secret references with `resolver` (on every load and
    /// reload; the resolver may cache).
    pub async fn load_with(
        store: Arc<dyn ConfigStore>,
        env: impl EnvLookup + Send + Sync + 'static,
        resolver: Option<Arc<dyn super::refs::SecretResolver>>,
    ) -> Result<Self, StoreConfigError> {
        let doc = store
            .config_document()
            .await?
            .ok_or(StoreConfigError::Missing)?;
        let secrets = resolve_document(resolver.as_ref(), &doc.text).await;
        let loaded = parse_document(&doc.text, &env, doc.version, secrets.as_ref())?;
        Ok(StoreConfig {
            store,
            env: Box::new(env),
            resolver,
            current: RwLock::new((Arc::new(loaded), doc.version)),
            error: RwLock::new(None),
        })
    }

    /// The version of the installed document.
    pub fn version(&self) -> u64 {
        self.current
            .read()
            .expect("config lock is never poisoned")
            .1
    }

    fn install(&self, loaded: Loaded, version: u64) -> Arc<Loaded> {
        let loaded = Arc::new(loaded);
        *self.current.write().expect("config lock is never poisoned") = (loaded.clone(), version);
        *self.error.write().expect("config lock is never poisoned") = None;
        loaded
    }
}

/// Validates and uploads config text as the store's document (`config push`): placeholders
/// are kept as written and resolved wherever it is loaded. A placeholder unset in *this*
/// environment is not an error (the functions resolve it from theirs): it is returned as a
/// warning, with the new version. Every other problem refuses the upload.
pub async fn push_document(
    store: &dyn ConfigStore,
    text: &str,
    env: &(impl EnvLookup + ?Sized),
    now: i64,
) -> Result<(u64, Vec<super::Problem>), StoreConfigError> {
    let unresolved = match parse(text, env) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Invalid(problems))
            if problems
                .iter()
                .all(|p| p.message.starts_with("environment variable ")) =>
        {
            problems
        }
        Err(source) => return Err(StoreConfigError::Invalid { version: 0, source }),
    };
    for _ in 0..PUSH_ATTEMPTS {
        let current = store.config_document().await?.map(|d| d.version);
        if let Some(v) = store
            .put_config_document(text.to_owned(), current, now)
            .await?
        {
            return Ok((v, unresolved));
        }
    }
    Err(StoreConfigError::Store(StoreError::Conflict {
        op: "put_config_document",
        message: "the document kept changing; try again".into(),
    }))
}

#[async_trait]
impl ConfigSource for StoreConfig {
    fn get(&self) -> Arc<Loaded> {
        self.current
            .read()
            .expect("config lock is never poisoned")
            .0
            .clone()
    }

    fn last_error(&self) -> Option<String> {
        self.error
            .read()
            .expect("config lock is never poisoned")
            .as_ref()
            .map(|(_, e)| e.clone())
    }

    async fn refresh(&self) -> bool {
        // The version alone first (a small read); the document only when it is new: neither
        // installed nor already found invalid.
        let known = |v: u64| {
            v == self.version()
                || self
                    .error
                    .read()
                    .expect("config lock is never poisoned")
                    .as_ref()
                    .is_some_and(|(failed, _)| *failed == v)
        };
        let read = match self.store.config_version().await {
            Ok(Some(v)) if !known(v) => self.store.config_document().await,
            Ok(_) => return false,
            Err(e) => Err(e),
        };
        let doc = match read {
            Ok(Some(doc)) if !known(doc.version) => doc,
            Ok(_) => return false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the stored configuration");
                return false;
            }
        };
        let secrets = resolve_document(self.resolver.as_ref(), &doc.text).await;
        match parse_document(&doc.text, &*self.env, doc.version, secrets.as_ref()) {
            Ok(loaded) => {
                tracing::info!(version = doc.version, "config reloaded from the store");
                self.install(loaded, doc.version);
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "stored config is invalid; keeping the last good config");
                *self.error.write().expect("config lock is never poisoned") =
                    Some((doc.version, e.to_string()));
                false
            }
        }
    }

    async fn edit(&self, edit: Edit) -> Result<Arc<Loaded>, EditError> {
        let store_err = |e: StoreError| match e {
            StoreError::TooLarge { size, limit, .. } => EditError::TooLarge {
                size: size as u64,
                limit: limit as u64,
            },
            other => EditError::Io {
                path: "the store's config document".into(),
                message: other.to_string(),
            },
        };
        let doc = self
            .store
            .config_document()
            .await
            .map_err(store_err)?
            .ok_or(EditError::NotFileBacked)?;
        let mut raw: Value = serde_json::from_str(&doc.text).map_err(|e| {
            EditError::Invalid(format!("the stored config is not valid JSON ({e})"))
        })?;
        edit(&mut raw)?;
        let mut text =
            serde_json::to_string_pretty(&raw).map_err(|e| EditError::Invalid(e.to_string()))?;
        text.push('\n');
        let secrets = resolve_document(self.resolver.as_ref(), &text).await;
        let mut loaded = super::parse_with(&text, &*self.env, secrets.as_ref())?;
        loaded.content_hash = Some(content_hash(&text));
        let now = chrono::Utc::now().timestamp();
        // The write is conditional on the version the edit was applied to: a concurrent
        // edit (another function instance) is never overwritten.
        match self
            .store
            .put_config_document(text, Some(doc.version), now)
            .await
            .map_err(store_err)?
        {
            Some(version) => Ok(self.install(loaded, version)),
            None => Err(EditError::Conflict(
                "the configuration was changed by someone else meanwhile; reload and try again"
                    .into(),
            )),
        }
    }

    fn projects_from_env(&self) -> bool {
        self.env.get("PROJECT_1_NAME").is_some()
    }

    fn subscriptions_from_env(&self) -> bool {
        let file_has_none = self.get().raw.as_ref().is_none_or(|raw| {
            raw.get("subscriptions")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
        });
        file_has_none && self.env.get("SUBSCRIPTION_1_NAME").is_some()
    }
}
