//! Where a command's configuration and store come from: config.json (or the environment) and
//! the embedded SQLite file by default; with `--table`, a DynamoDB table (any endpoint: AWS,
//! or moto_server via `AWS_ENDPOINT_URL`), whose config document is used when no `--config`
//! is given.

use std::path::PathBuf;
use std::sync::Arc;

use balance_alert_core::config::{
    self, ConfigSource, LiveConfig, Settings, StoreConfig, StoreConfigError,
};
use balance_alert_core::store::{Store, StoreError};
use balance_alert_store_dynamodb::DynamoStore;
use balance_alert_store_sqlite::SqliteStore;
use clap::Args;

/// The config file option shared by the commands.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArg {
    /// Path to config.json (the Python tool's format works as is). Default `config.json`;
    /// with `--table` and no `--config`, the table's config document.
    /// Also accepted after a subcommand (`alerts list --config F`).
    #[arg(long, short, env = "CONFIG_FILE", global = true)]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    /// The file to read: the given one, else `config.json`.
    pub fn path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from("config.json"))
    }
}

/// The DynamoDB table option shared by the commands.
#[derive(Args, Debug, Clone, Default)]
pub struct TableArg {
    /// Use this DynamoDB table as the store (standard AWS environment: credentials,
    /// AWS_REGION, AWS_ENDPOINT_URL for a local emulator) instead of the SQLite file.
    #[arg(long, env = "BALANCE_ALERT_TABLE", global = true)]
    pub table: Option<String>,
}

/// Why the config or the store could not be opened: a message for the user, and whether
/// trying again later can help (the store did not answer) rather than a fix being needed.
#[derive(Debug)]
pub struct OpenError {
    pub message: String,
    pub retryable: bool,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl OpenError {
    /// The exit code of a command that cannot start: 1 when trying again later can help (as
    /// for a store failure during a run), 2 (usage) when something needs a fix.
    pub fn exit_code(&self) -> std::process::ExitCode {
        std::process::ExitCode::from(if self.retryable { 1 } else { super::EXIT_USAGE })
    }

    /// A problem only a fix of the files or settings solves.
    fn fatal(message: String) -> Self {
        OpenError {
            message,
            retryable: false,
        }
    }

    /// The store of table `name` failed.
    fn store(name: &str, e: StoreError) -> Self {
        OpenError {
            retryable: e.is_retryable(),
            message: format!("--table {name}: {e}"),
        }
    }

    /// The config document of table `name` could not be loaded.
    fn document(name: &str, e: StoreConfigError) -> Self {
        match e {
            StoreConfigError::Store(e) => OpenError::store(name, e),
            other => OpenError::fatal(format!("--table {name}: {other}")),
        }
    }
}

/// The configuration source: the table's document (with `--table` and no `--config`), else
/// the file (or the environment). Warnings are printed.
pub async fn open_config(
    config: &ConfigArg,
    table: &TableArg,
) -> Result<(Arc<dyn ConfigSource>, Option<Arc<LiveConfig>>), OpenError> {
    let source: (Arc<dyn ConfigSource>, Option<Arc<LiveConfig>>) =
        match (&table.table, &config.config) {
            (Some(name), None) => {
                let store =
                    DynamoStore::connect(name.clone(), Settings::default().history_retention_days)
                        .await
                        .map_err(|e| OpenError::store(name, e))?;
                let source = StoreConfig::load(Arc::new(store), config::process_env())
                    .await
                    .map_err(|e| OpenError::document(name, e))?;
                (Arc::new(source), None)
            }
            _ => {
                let live = LiveConfig::load(&config.path(), config::process_env())
                    .map_err(|e| OpenError::fatal(e.to_string()))?;
                let live = Arc::new(live);
                (live.clone(), Some(live))
            }
        };
    for w in &source.0.get().warnings {
        eprintln!("warning: {w}");
    }
    Ok(source)
}

/// The store: the DynamoDB table, else the SQLite file of `settings.database_path` (opened
/// read-only, or empty in memory, for a dry run).
pub async fn open_store(
    table: &TableArg,
    settings: &Settings,
    dry_run: bool,
) -> Result<Arc<dyn Store>, OpenError> {
    if let Some(name) = &table.table {
        let store = DynamoStore::connect(name.clone(), settings.history_retention_days)
            .await
            .map_err(|e| OpenError::store(name, e))?;
        return Ok(Arc::new(store));
    }
    let db = &settings.database_path;
    let store = if dry_run {
        // A dry run writes nothing: the existing database read-only (state for the report),
        // or empty state when there is none usable.
        SqliteStore::open_read_only(db).or_else(|e| {
            if db.exists() {
                tracing::warn!(error = %e, "dry run: database not usable read-only; starting from empty state");
            }
            SqliteStore::in_memory()
        })
    } else {
        SqliteStore::open(db)
    };
    store.map(|s| Arc::new(s) as Arc<dyn Store>).map_err(|e| {
        OpenError::fatal(format!(
            "database {}: {e}\nhint: set settings.database_path or DATABASE_PATH to a writable file",
            db.display()
        ))
    })
}
