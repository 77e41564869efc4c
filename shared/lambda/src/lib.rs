//! The three functions of the serverless deployment, written once over the shared core:
//! [`checker`] (EventBridge schedule → the core's `run_due`), [`notifier`] (DynamoDB Streams →
//! the deliverer) and [`api`] (API Gateway → the same axum router as `serve`). Each
//! `functions/*/main.rs` only calls [`init_tracing`] and enters the runtime loop with its
//! handler kept in a [`Warm`]: the table's client, the config document and the secrets are
//! read on the first invocation, not before the bootstrap asks for it (Lambda's init phase).

#[cfg(feature = "api")]
pub mod api;
pub mod checker;
pub mod emf;
pub mod notifier;
pub mod remote_write;
pub mod secrets;

use std::sync::Arc;

use balance_alert_core::config::refs::SecretResolver;
use balance_alert_core::config::{process_env, ConfigSource, Settings, StoreConfig};
use balance_alert_core::store::Store;
use balance_alert_store_dynamodb::DynamoStore;

/// JSON log lines (CloudWatch), level from `RUST_LOG` (default info); the IMAP library's
/// trace output, which would show a LOGIN, is never let through.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let filter = match "async_imap=info".parse() {
        Ok(cap) => filter.add_directive(cap),
        Err(_) => filter,
    };
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .init();
}

/// What a function builds on its first invocation and keeps while the function is warm. A
/// failure to build is that invocation's error (logged by the runtime), and the next
/// invocation tries again.
pub struct Warm<T> {
    cell: tokio::sync::OnceCell<T>,
}

impl<T> Default for Warm<T> {
    fn default() -> Self {
        Warm {
            cell: tokio::sync::OnceCell::new(),
        }
    }
}

impl<T> Warm<T> {
    /// The value, built by `build` if this is the first (successful) use.
    pub async fn get<F, Fut>(&self, build: F) -> anyhow::Result<&T>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<T>>,
    {
        self.cell.get_or_try_init(build).await
    }
}

/// What every function needs: the table as the store and its config document.
#[derive(Clone)]
pub struct Env {
    pub store: Arc<dyn Store>,
    pub config: Arc<dyn ConfigSource>,
}

impl Env {
    /// The table named by `TABLE_NAME` (with the standard AWS variables; `AWS_ENDPOINT_URL`
    /// points at an emulator) and the config document stored in it.
    pub async fn from_process() -> anyhow::Result<Env> {
        let table = std::env::var("TABLE_NAME")
            .map_err(|_| anyhow::anyhow!("TABLE_NAME is not set: the DynamoDB table to use"))?;
        let config = balance_alert_store_dynamodb::lambda_sdk_config();
        let initial = Settings::default().history_retention_days;
        let table = Arc::new(DynamoStore::with_config(&config, table, initial)?);
        let env = Env::over(table.clone()).await?;
        // Readings and alerts are kept as the stored config's settings say (with their
        // `HISTORY_RETENTION_DAYS` override), read at each cold start.
        table.set_retention_days(env.config.get().config.settings.history_retention_days);
        Ok(env)
    }

    /// The config document of `store`, its secret references resolved through Secrets
    /// Manager (the standard AWS environment).
    pub async fn over(store: Arc<dyn Store>) -> anyhow::Result<Env> {
        let resolver: Arc<dyn SecretResolver> = Arc::new(secrets::SecretsManager::from_env());
        Env::over_with(store, resolver).await
    }

    /// The config document of `store`, secret references resolved by `resolver`.
    pub async fn over_with(
        store: Arc<dyn Store>,
        resolver: Arc<dyn SecretResolver>,
    ) -> anyhow::Result<Env> {
        let config = StoreConfig::load_with(store.clone(), process_env(), Some(resolver)).await?;
        Ok(Env {
            store,
            config: Arc::new(config),
        })
    }
}
