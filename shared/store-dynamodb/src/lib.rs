//! The serverless store: [`Store`] on one DynamoDB table (single-table design, see
//! docs/dynamodb.md). Conditional writes and TransactWriteItems keep the alert state machine
//! race-safe across Lambda invocations; readings, alerts and cooldowns expire by TTL.
//!
//! Reads never return an item whose TTL has passed (DynamoDB deletes expired items lazily, up
//! to days later), so what a caller sees matches the SQLite store after its regular prune.

mod budget;
mod errors;
mod item;
mod read;
mod request;
pub mod table;
mod write;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::{Region, SharedCredentialsProvider};
use aws_sdk_dynamodb::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::{AlertRecord, AlertStatus, Delivery};
use balance_alert_core::store::{
    AlertQuery, BalancePoint, CheckWrite, Claimant, ConfigDocument, Lease, NextCheck, Store,
    StoreError, SubscriptionState,
};

pub use budget::{Budget, TIMEOUT_VAR};
pub use table::create_table;

/// The largest config document stored: DynamoDB's 400 KB item limit, less room for the item's
/// other attributes.
pub const CONFIG_DOCUMENT_LIMIT: usize = 390 * 1024;

/// How many requests one store call keeps in flight (commit_checks, set_next_checks, batches).
const CONCURRENCY: usize = 16;

/// A [`Store`] on one DynamoDB table laid out by [`create_table`].
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

#[async_trait]
impl Store for DynamoStore {
    async fn list_states(&self) -> Result<Vec<ProjectState>, StoreError> {
        self.list_states_impl().await
    }

    async fn latest_readings(&self) -> Result<Vec<BalancePoint>, StoreError> {
        self.latest_readings_impl().await
    }

    async fn get_state(&self, project_id: &str) -> Result<Option<ProjectState>, StoreError> {
        self.get_state_impl(project_id).await
    }

    async fn commit_checks(&self, writes: Vec<CheckWrite>) -> Result<Vec<bool>, StoreError> {
        self.commit_checks_impl(writes).await
    }

    async fn balance_history(
        &self,
        project_id: &str,
        since: i64,
        limit: usize,
    ) -> Result<Vec<BalancePoint>, StoreError> {
        self.balance_history_impl(project_id, since, limit).await
    }

    async fn alerts(&self, query: AlertQuery) -> Result<Vec<AlertRecord>, StoreError> {
        self.alerts_impl(query).await
    }

    async fn set_alert_status(&self, id: &str, status: AlertStatus) -> Result<bool, StoreError> {
        self.set_alert_status_impl(id, status).await
    }

    async fn record_deliveries(
        &self,
        id: &str,
        status: AlertStatus,
        deliveries: Vec<Delivery>,
    ) -> Result<bool, StoreError> {
        self.record_deliveries_impl(id, status, deliveries).await
    }

    async fn get_alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        self.get_alert_impl(id).await
    }

    async fn insert_alert(&self, alert: AlertRecord) -> Result<bool, StoreError> {
        self.insert_alert_impl(alert).await
    }

    async fn record_subscription(
        &self,
        state: SubscriptionState,
        reminder: Option<AlertRecord>,
    ) -> Result<bool, StoreError> {
        self.record_subscription_impl(state, reminder).await
    }

    async fn subscription_states(&self) -> Result<Vec<SubscriptionState>, StoreError> {
        self.subscription_states_impl().await
    }

    async fn pending_alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError> {
        self.pending_alerts_impl(limit).await
    }

    async fn schedules(&self) -> Result<Vec<NextCheck>, StoreError> {
        self.schedules_impl().await
    }

    async fn take_lease(
        &self,
        lease: &Lease,
        by: &Claimant,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        self.take_lease_impl(&lease.key(), by, now, until).await
    }

    async fn release_lease(&self, lease: &Lease, owner: &str) -> Result<(), StoreError> {
        self.release_lease_impl(&lease.key(), owner).await
    }

    async fn release_node_leases(&self, node: &str) -> Result<u64, StoreError> {
        self.release_node_leases_impl(node).await
    }

    async fn set_next_checks(&self, next: Vec<NextCheck>) -> Result<(), StoreError> {
        self.set_next_checks_impl(next).await
    }

    async fn claim(&self, lease: &Lease, now: i64, until: i64) -> Result<Option<i64>, StoreError> {
        self.claim_impl(&lease.key(), now, until).await
    }

    async fn release_claim(&self, lease: &Lease) -> Result<(), StoreError> {
        self.release_claim_impl(&lease.key()).await
    }

    async fn take_sends(
        &self,
        channel: &str,
        minute: i64,
        wanted: u32,
        limit: u32,
    ) -> Result<u32, StoreError> {
        self.take_sends_impl(channel, minute, wanted, limit).await
    }

    async fn sends_taken(&self, channel: &str, minute: i64) -> Result<u32, StoreError> {
        self.sends_taken_impl(channel, minute).await
    }

    async fn config_document(&self) -> Result<Option<ConfigDocument>, StoreError> {
        self.config_document_impl().await
    }

    async fn config_version(&self) -> Result<Option<u64>, StoreError> {
        self.config_version_impl().await
    }

    async fn put_config_document(
        &self,
        text: String,
        expected_version: Option<u64>,
        now: i64,
    ) -> Result<Option<u64>, StoreError> {
        self.put_config_document_impl(text, expected_version, now)
            .await
    }

    /// TTL expires readings and alerts `retention_days` after their creation, so the regular
    /// prune (`before` = now − retention) has nothing to do and makes no call. Only a prune
    /// reaching further (a shorter horizon than the TTL) deletes, item by item.
    async fn prune(&self, before: i64) -> Result<u64, StoreError> {
        self.prune_impl(before).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.ping_impl().await
    }
}
