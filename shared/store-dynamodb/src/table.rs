//! The table definition: key and index attribute names, index names, the TTL attribute and the
//! stream, as `pub const`s (so a SAM template test can hold the template equal to them), and
//! [`create_table`], which creates exactly that table. docs/dynamodb.md explains the design.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TableDescription, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;
use balance_alert_core::store::StoreError;

use crate::errors::sdk;

/// The table's partition key (string): `PROJECTS`, `PROJECT#<id>`, `ALERT#<id>`,
/// `SUBSCRIPTION#<id>`, ….
pub const PK: &str = "pk";
/// The table's sort key (string): a project id, `READING#<time>#<version>`, `ALERT`, ….
pub const SK: &str = "sk";
/// The item type attribute every item carries: see [`kinds`].
pub const KIND: &str = "kind";
/// The TTL attribute (unix seconds): readings, alerts and cooldowns expire by themselves.
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// The stream view: downstream functions (the notifier) see both images.
pub const STREAM_VIEW_TYPE: StreamViewType = StreamViewType::NewAndOldImages;

/// GSI listing every item of one collection (subscriptions); sparse. Project items are not in it:
/// they share one base-table partition, so their frequent writes carry no index write.
pub const INDEX_BY_KIND: &str = "by_kind";
/// Partition key of [`INDEX_BY_KIND`] (string): the collection name, present only on listed items.
pub const LIST_PK: &str = "list_pk";
/// Sort key of [`INDEX_BY_KIND`]: the table's own partition key, [`PK`].
pub const LIST_SK: &str = PK;

/// GSI of every alert by time (newest first across projects); sparse: alerts only.
pub const INDEX_ALERTS_BY_TIME: &str = "alerts_by_time";
/// Partition key of [`INDEX_ALERTS_BY_TIME`] (string): the constant [`ALERT_FEED_VALUE`].
pub const ALERT_FEED: &str = "alert_feed";
/// The one value of [`ALERT_FEED`].
pub const ALERT_FEED_VALUE: &str = "alerts";

/// GSI of one project's (or subscription's) alerts by time; sparse: alerts only.
pub const INDEX_ALERTS_BY_PROJECT: &str = "alerts_by_project";
/// Partition key of [`INDEX_ALERTS_BY_PROJECT`] (string): the alert's project id.
pub const ALERT_PROJECT: &str = "alert_project";

/// GSI of alerts awaiting delivery, oldest first; sparse: the attribute exists only while pending.
pub const INDEX_PENDING: &str = "pending_alerts";
/// Partition key of [`INDEX_PENDING`] (string): the constant [`PENDING_VALUE`].
pub const PENDING: &str = "pending";
/// The one value of [`PENDING`].
pub const PENDING_VALUE: &str = "pending";

/// Sort key of the three alert indexes (number, unix seconds).
pub const CREATED_AT: &str = "created_at";

/// Every GSI: (name, partition key, sort key).
pub const INDEXES: [(&str, &str, &str); 4] = [
    (INDEX_BY_KIND, LIST_PK, LIST_SK),
    (INDEX_ALERTS_BY_TIME, ALERT_FEED, CREATED_AT),
    (INDEX_ALERTS_BY_PROJECT, ALERT_PROJECT, CREATED_AT),
    (INDEX_PENDING, PENDING, CREATED_AT),
];

/// The values of [`KIND`], one per item type.
pub mod kinds {
    /// A project's latest state, next check time and claim, in one item (`PROJECTS` / `<id>`):
    /// one write per check, listed by one Query of the base table (no index write).
    pub const PROJECT: &str = "project";
    /// One balance reading (`PROJECT#<id>` / `READING#<time>#<version>`).
    pub const READING: &str = "reading";
    /// One alert record (`ALERT#<id>` / `ALERT`).
    pub const ALERT: &str = "alert";
    /// A subscription's latest evaluation (`SUBSCRIPTION#<id>` / `STATE`).
    pub const SUBSCRIPTION: &str = "subscription";
    /// A named lease, e.g. the one scheduled runs check under (`LEASES` / `<key>`).
    pub const LEASE: &str = "lease";
    /// A named cooldown (`COOLDOWN#<key>` / `COOLDOWN`).
    pub const COOLDOWN: &str = "cooldown";
    /// The configuration document (`CONFIG` / `CONFIG`).
    pub const CONFIG: &str = "config";
    /// A channel's send counter for one minute (`SENDS#<channel>#<minute>` / `SENDS`).
    pub const SEND_WINDOW: &str = "send_window";
}

/// Longest wait for a new table (and its indexes) to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("a key schema element has its name and type")
}

fn attribute(name: &str, ty: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ty)
        .build()
        .expect("an attribute definition has its name and type")
}

/// Creates the table (on-demand billing, the stream, the GSIs, then TTL) and waits until it and
/// its indexes are ACTIVE. Idempotent: an existing table with the same key schema and indexes
/// is fine (TTL is enabled on it if it is not yet); one with another schema is an error.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let s = ScalarAttributeType::S;
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash))
        .key_schema(key(SK, KeyType::Range))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(STREAM_VIEW_TYPE)
                .build()
                .expect("a stream specification says whether it is enabled"),
        );
    for (name, ty) in [
        (PK, s.clone()),
        (SK, s.clone()),
        (LIST_PK, s.clone()),
        (ALERT_FEED, s.clone()),
        (ALERT_PROJECT, s.clone()),
        (PENDING, s),
        (CREATED_AT, ScalarAttributeType::N),
    ] {
        request = request.attribute_definitions(attribute(name, ty));
    }
    for (name, hash, range) in INDEXES {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(hash, KeyType::Hash))
                .key_schema(key(range, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("a GSI has its name, key schema and projection"),
        );
    }
    match request.send().await {
        Ok(_) => tracing::info!(table, "created DynamoDB table"),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            tracing::debug!(table, "DynamoDB table exists")
        }
        Err(e) => return Err(sdk("create_table")(e)),
    }
    let description = wait_active(client, table).await?;
    check_schema(table, &description)?;
    enable_ttl(client, table).await
}

/// Polls DescribeTable until the table and every index are ACTIVE.
async fn wait_active(client: &Client, table: &str) -> Result<TableDescription, StoreError> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        // Right after CreateTable, DescribeTable may still say the table does not exist
        // (eventual consistency): that is "not active yet", not a failure.
        let out = match client.describe_table().table_name(table).send().await {
            Ok(out) => Some(out),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => return Err(sdk("create_table")(e)),
        };
        if let Some(t) = out.and_then(|o| o.table) {
            let indexes_active = t
                .global_secondary_indexes()
                .iter()
                .all(|i| i.index_status() == Some(&IndexStatus::Active));
            if t.table_status() == Some(&TableStatus::Active) && indexes_active {
                return Ok(t);
            }
        }
        if started.elapsed() > ACTIVE_TIMEOUT {
            return Err(StoreError::Unavailable {
                op: "create_table",
                message: format!("table {table} not ACTIVE after {ACTIVE_TIMEOUT:?}"),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// An existing table must have our key schema and every index, or the store would misbehave.
fn check_schema(table: &str, t: &TableDescription) -> Result<(), StoreError> {
    let keys: Vec<(&str, &KeyType)> = t
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    let missing: Vec<&str> = INDEXES
        .iter()
        .map(|(name, _, _)| *name)
        .filter(|name| {
            !t.global_secondary_indexes()
                .iter()
                .any(|i| i.index_name() == Some(name))
        })
        .collect();
    if keys != [(PK, &KeyType::Hash), (SK, &KeyType::Range)] || !missing.is_empty() {
        return Err(StoreError::Backend {
            op: "create_table",
            message: format!(
                "table {table} exists with another schema: keys {keys:?}, missing indexes {missing:?}"
            ),
        });
    }
    Ok(())
}

/// Turns TTL on for [`TTL_ATTRIBUTE`] unless it already is (UpdateTimeToLive refuses a repeat).
async fn enable_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(sdk("create_table"))?;
    let description = current.time_to_live_description();
    let status = description.and_then(|d| d.time_to_live_status());
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ) {
        let attribute = description.and_then(|d| d.attribute_name());
        if attribute != Some(TTL_ATTRIBUTE) {
            return Err(StoreError::Backend {
                op: "create_table",
                message: format!(
                    "table {table} expires items by {attribute:?}, not {TTL_ATTRIBUTE}"
                ),
            });
        }
        return Ok(());
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .expect("a TTL specification has its attribute and flag"),
        )
        .send()
        .await
        .map_err(sdk("create_table"))?;
    Ok(())
}
