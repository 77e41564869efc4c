//! Low-level write requests shared by the store's methods: conditional PutItem/UpdateItem,
//! TransactWriteItems with per-reason retries, BatchWriteItem in chunks of 25 with
//! UnprocessedItems retried, and a bounded-concurrency runner that keeps one key's writes in
//! order.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update, WriteRequest};
use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::store::StoreError;
use futures::{stream, StreamExt};

use crate::errors::{applied, cancelled, classify, sdk, Cancelled};
use crate::item::{int, Attrs, Item, STATE_OPTIONAL};
use crate::table::{PK, SK};
use crate::{DynamoStore, CONCURRENCY};

/// BatchWriteItem's limit on requests per call.
const BATCH_SIZE: usize = 25;

/// Backoff between retries of a conflicting or throttled write: 25 ms doubling to 1 s, with
/// jitter (two racing processes must not retry in lock-step), 5 retries.
fn backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(25))
        .with_max_delay(Duration::from_secs(1))
        .with_max_times(5)
        .with_jitter()
}

/// A condition or update expression with its placeholders.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expr {
    pub text: String,
    pub names: HashMap<String, String>,
    pub values: Attrs,
}

impl Expr {
    /// An expression; add placeholders with [`Expr::name`] and [`Expr::value`].
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Expr {
            text: text.into(),
            ..Default::default()
        }
    }

    /// Binds `#placeholder` to an attribute name.
    pub(crate) fn name(mut self, placeholder: &str, attr: &str) -> Self {
        self.names.insert(placeholder.into(), attr.into());
        self
    }

    /// Binds `:placeholder` to a value.
    pub(crate) fn value(
        mut self,
        placeholder: &str,
        v: aws_sdk_dynamodb::types::AttributeValue,
    ) -> Self {
        self.values.insert(placeholder.into(), v);
        self
    }

    fn values(&self) -> Option<Attrs> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// `SET` of every non-key attribute of `item` (an upsert that keeps attributes it does not
/// name); returns the key and the expression. Extra clauses may be appended to its text.
pub(crate) fn set_all(item: Item) -> (Attrs, Expr) {
    let Item(mut attrs) = item;
    let key: Attrs = [PK, SK]
        .iter()
        .filter_map(|k| attrs.remove_entry(*k))
        .collect();
    let mut attrs: Vec<_> = attrs.into_iter().collect();
    attrs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expr = Expr::default();
    let mut clauses = Vec::with_capacity(attrs.len());
    for (n, (attr, v)) in attrs.into_iter().enumerate() {
        clauses.push(format!("#u{n} = :u{n}"));
        expr = expr
            .name(&format!("#u{n}"), &attr)
            .value(&format!(":u{n}"), v);
    }
    expr.text = format!("SET {}", clauses.join(", "));
    (key, expr)
}

/// Merges the placeholders of a condition into an update expression's.
pub(crate) fn merge(mut update: Expr, condition: &Expr) -> Expr {
    update.names.extend(condition.names.clone());
    update.values.extend(condition.values.clone());
    update
}

/// A transaction item putting `item`, under `condition` if given.
pub(crate) fn tx_put(table: &str, item: Item, condition: Option<&Expr>) -> TransactWriteItem {
    let mut put = Put::builder().table_name(table).set_item(Some(item.0));
    if let Some(c) = condition {
        put = put
            .condition_expression(&c.text)
            .set_expression_attribute_names(Some(c.names.clone()))
            .set_expression_attribute_values(c.values());
    }
    let put = put.build().expect("a Put has its table and item");
    TransactWriteItem::builder().put(put).build()
}

/// A transaction item updating `key` with `update` (placeholders of its condition included).
pub(crate) fn tx_update(
    table: &str,
    key: Attrs,
    update: &Expr,
    condition: &str,
) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(&update.text)
        .condition_expression(condition)
        .set_expression_attribute_names(Some(update.names.clone()))
        .set_expression_attribute_values(update.values())
        .build()
        .expect("an Update has its table, key and expression");
    TransactWriteItem::builder().update(update).build()
}

/// One attempt's failure: worth another attempt or not.
enum Attempt {
    Retry(StoreError),
    Fatal(StoreError),
}

impl DynamoStore {
    /// Puts `item` unconditionally.
    pub(crate) async fn put(&self, op: &'static str, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.0))
            .send()
            .await
            .map(drop)
            .map_err(sdk(op))
    }

    /// Puts `item` if `condition` holds: true when written, false when the condition failed.
    pub(crate) async fn put_if(
        &self,
        op: &'static str,
        item: Item,
        condition: &Expr,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.0))
            .condition_expression(&condition.text)
            .set_expression_attribute_names(Some(condition.names.clone()))
            .set_expression_attribute_values(condition.values())
            .send()
            .await;
        applied(op, result)
    }

    /// Updates `key` with `update` if `condition` (whose placeholders `update` carries) holds.
    pub(crate) async fn update_if(
        &self,
        op: &'static str,
        key: Attrs,
        update: &Expr,
        condition: Option<&str>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(&update.text)
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_names(Some(update.names.clone()))
            .set_expression_attribute_values(update.values())
            .send()
            .await;
        applied(op, result)
    }

    /// Runs one transaction whose item 0 carries the condition: true when applied, false when
    /// that condition failed (nothing changed). Conflicts with concurrent transactions and
    /// throttling are retried with backoff, then reported as `Conflict` / `Throttled`.
    pub(crate) async fn transact(
        &self,
        op: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        let attempt = || async {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let Err(e) = result else { return Ok(true) };
            match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    match cancelled(op, c.cancellation_reasons()) {
                        Cancelled::Lost => Ok(false),
                        Cancelled::Retry(err) => Err(Attempt::Retry(err)),
                        Cancelled::Fatal(err) => Err(Attempt::Fatal(err)),
                    }
                }
                // The SDK already retried transient errors; another transaction holding the
                // same item ("in progress") is worth our own retry.
                Some(s) if s.code() == Some("TransactionInProgressException") => {
                    Err(Attempt::Retry(StoreError::Conflict {
                        op,
                        message: classify(op, &e).to_string(),
                    }))
                }
                _ => Err(Attempt::Fatal(classify(op, &e))),
            }
        };
        attempt
            .retry(backoff())
            .when(|e| matches!(e, Attempt::Retry(_)))
            .await
            .map_err(|(Attempt::Retry(e) | Attempt::Fatal(e))| e)
    }

    /// Writes requests with BatchWriteItem, 25 per call, calls running concurrently; unprocessed
    /// items are sent again with backoff, and still unprocessed ones make it `Throttled`.
    pub(crate) async fn batch_write(
        &self,
        op: &'static str,
        requests: Vec<WriteRequest>,
    ) -> Result<(), StoreError> {
        let chunks: Vec<Vec<WriteRequest>> = requests
            .chunks(BATCH_SIZE)
            .map(<[WriteRequest]>::to_vec)
            .collect();
        let results: Vec<Result<(), StoreError>> = stream::iter(chunks)
            .map(|chunk| self.batch_chunk(op, chunk))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        results.into_iter().collect()
    }

    async fn batch_chunk(
        &self,
        op: &'static str,
        mut pending: Vec<WriteRequest>,
    ) -> Result<(), StoreError> {
        let mut delays = backoff().build();
        loop {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, pending)
                .send()
                .await
                .map_err(sdk(op))?;
            pending = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(());
            }
            let Some(delay) = delays.next() else {
                return Err(StoreError::Throttled {
                    op,
                    message: format!("{} items still unprocessed after retries", pending.len()),
                });
            };
            tokio::time::sleep(delay).await;
        }
    }
}

/// Runs `f` on every element with bounded concurrency. Elements with the same key run one
/// after another in input order (a later write of one project may expect the version an
/// earlier one sets), as the SQLite store applies them. Every element runs even when another
/// fails; results come back in input order, or the first error.
pub(crate) async fn run_grouped<T, R, Fut>(
    elements: Vec<T>,
    key: impl Fn(&T) -> String,
    f: impl Fn(T) -> Fut,
) -> Result<Vec<R>, StoreError>
where
    Fut: Future<Output = Result<R, StoreError>>,
{
    let n = elements.len();
    let mut groups: Vec<Vec<(usize, T)>> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (i, element) in elements.into_iter().enumerate() {
        let g = *group_of.entry(key(&element)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push((i, element));
    }
    let f = &f;
    let done: Vec<Vec<(usize, Result<R, StoreError>)>> = stream::iter(groups)
        .map(|group| async move {
            let mut out = Vec::with_capacity(group.len());
            for (i, element) in group {
                out.push((i, f(element).await));
            }
            out
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut results: Vec<Option<R>> = (0..n).map(|_| None).collect();
    for (i, result) in done.into_iter().flatten() {
        results[i] = Some(result?);
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every element ran exactly once"))
        .collect())
}

/// The condition of a versioned write: no item yet, or the version the caller read.
pub(crate) fn version_condition(expected: Option<u64>) -> Expr {
    match expected {
        None => Expr::new("attribute_not_exists(#pk)").name("#pk", PK),
        Some(v) => Expr::new("#version = :expected")
            .name("#version", "version")
            .value(":expected", int(v)),
    }
}

/// The UpdateItem writing `state` into its project's item: every state attribute set, the
/// optional ones it lacks removed, the schedule attributes left as they are. Returns the key
/// and the expression; clauses may be added with [`add_set`].
pub(crate) fn state_update(state: &ProjectState) -> (Attrs, Expr) {
    let item = Item::from(state);
    let absent: Vec<&str> = STATE_OPTIONAL
        .into_iter()
        .filter(|a| !item.0.contains_key(*a))
        .collect();
    let (key, mut update) = set_all(item);
    for (n, attr) in absent.into_iter().enumerate() {
        update = update.name(&format!("#r{n}"), attr);
    }
    (key, update)
}

/// Adds `#placeholder = :value` to an update's SET clause (before any REMOVE).
pub(crate) fn add_set(update: Expr, attr: &str, value: AttributeValue) -> Expr {
    let n = update.names.len();
    let (name, val) = (format!("#a{n}"), format!(":a{n}"));
    let mut update = update.name(&name, attr).value(&val, value);
    update.text = format!("{}, {name} = {val}", update.text);
    update
}

/// Finishes an update from [`state_update`]/[`add_set`]: the REMOVE clause of the absent
/// optional attributes and of `also` (attribute names).
pub(crate) fn finish_update(mut update: Expr, also: &[&str]) -> Expr {
    let mut removed: Vec<String> = update
        .names
        .keys()
        .filter(|k| k.starts_with("#r"))
        .cloned()
        .collect();
    for (n, attr) in also.iter().enumerate() {
        let name = format!("#x{n}");
        update = update.name(&name, attr);
        removed.push(name);
    }
    if !removed.is_empty() {
        removed.sort();
        update.text = format!("{} REMOVE {}", update.text, removed.join(", "));
    }
    update
}
