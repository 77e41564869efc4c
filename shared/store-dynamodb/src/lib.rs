//! The serverless store: [`Store`](balance_alert_core::store::Store) on one DynamoDB table (single-table design, see
//! docs/dynamodb.md). Conditional writes and TransactWriteItems keep the alert state machine
//! race-safe across Lambda invocations; readings, alerts and cooldowns expire by TTL.
//!
//! Reads never return an item whose TTL has passed (DynamoDB deletes expired items lazily, up
//! to days later), so what a caller sees matches the SQLite store after its regular prune.
//!
//! Each role of the store is one file (`states.rs`, `readings.rs`, `outbox.rs`,
//! `subscriptions.rs`, `leases.rs`, `config.rs`); `item/` converts records to items (one file
//! per role), `read.rs` and `request.rs` hold the requests they share.

mod budget;
mod config;
mod errors;
mod item;
mod leases;
mod outbox;
mod read;
mod readings;
mod request;
mod states;
mod subscriptions;
pub mod table;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::{Region, SharedCredentialsProvider};
use aws_sdk_dynamodb::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use balance_alert_core::store::StoreError;

pub use budget::{Budget, TIMEOUT_VAR};
pub use table::create_table;

/// The largest config document stored: DynamoDB's 400 KB item limit, less room for the item's
/// other attributes.
pub const CONFIG_DOCUMENT_LIMIT: usize = 390 * 1024;

/// How many requests one store call keeps in flight (commit_checks, set_next_checks, batches).
const CONCURRENCY: usize = 16;

/// A [`Store`](balance_alert_core::store::Store) on one DynamoDB table laid out by [`create_table`].
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// How long readings and alerts are kept (their TTL), seconds; shared by clones.
    retention_secs: Arc<AtomicI64>,
}

/// An HTTPS client on rustls with ring: the one TLS stack the Lambda binaries carry.
pub fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The AWS configuration of a Lambda function, from the variables Lambda sets: `AWS_REGION`,
/// the role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`) and `AWS_ENDPOINT_URL` (an emulator), over [`http_client`]. Nothing
/// else is read: the default chain [`DynamoStore::connect`] uses (profile files, SSO, STS web
/// identity, container and instance metadata) is not linked into the functions, which keeps
/// their bootstraps small (docs/benchmarks.md, "The functions' bootstraps"), and building
/// this reads no file and makes no request. Without a region, requests fail
/// ([`DynamoStore::with_config`] refuses it at once).
pub fn lambda_sdk_config() -> SdkConfig {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(
            var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .map(Region::new),
        )
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(http_client());
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    config.build()
}

impl DynamoStore {
    /// A store on `table` through `client`; readings and alerts are kept `retention_days`
    /// (their TTL), as `settings.history_retention_days` says.
    pub fn new(client: Client, table: impl Into<String>, retention_days: u32) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            retention_secs: Arc::new(AtomicI64::new(i64::from(retention_days) * 86_400)),
        }
    }

    /// Keeps readings and alerts written from now on `days` (the loaded config's
    /// `settings.history_retention_days`, once the config is read from this table).
    pub fn set_retention_days(&self, days: u32) {
        self.retention_secs
            .store(i64::from(days) * 86_400, Ordering::Relaxed);
    }

    fn retention(&self) -> i64 {
        self.retention_secs.load(Ordering::Relaxed)
    }

    /// A store whose client comes from the standard AWS environment (region, credentials,
    /// `AWS_ENDPOINT_URL` for emulators), each call bounded by [`Budget::from_env`]. Fails
    /// when no region is configured or the budget is malformed.
    pub async fn connect(
        table: impl Into<String>,
        retention_days: u32,
    ) -> Result<DynamoStore, StoreError> {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .load()
            .await;
        Self::with_config(&config, table, retention_days)
    }

    /// A store whose client is configured by `config` (e.g. [`lambda_sdk_config`]), each call
    /// bounded by [`Budget::from_env`]. Fails when `config` has no region or the budget is
    /// malformed.
    pub fn with_config(
        config: &SdkConfig,
        table: impl Into<String>,
        retention_days: u32,
    ) -> Result<DynamoStore, StoreError> {
        if config.region().is_none() {
            return Err(StoreError::Backend {
                op: "connect",
                message: "no AWS region configured (set AWS_REGION)".into(),
            });
        }
        let budget = Budget::from_env()?;
        let config = aws_sdk_dynamodb::config::Builder::from(config)
            .timeout_config(budget.timeout_config())
            .retry_config(budget.retry_config())
            .build();
        Ok(Self::new(Client::from_conf(config), table, retention_days))
    }

    /// The client this store uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table this store uses.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// When an item written at `created_at` expires (its TTL attribute).
    fn expires_at(&self, created_at: i64) -> i64 {
        created_at.saturating_add(self.retention())
    }

    /// The oldest creation time still visible now: older items have passed their TTL, so
    /// reads skip them even before DynamoDB deletes them.
    fn visible_from(&self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        now.saturating_sub(self.retention())
    }
}
