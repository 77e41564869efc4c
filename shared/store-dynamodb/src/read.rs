//! The read side's requests, shared by the roles: one GetItem per single item, one Query
//! (paginated through LastEvaluatedKey) per list. Project items come from their one partition,
//! the other lists from the sparse GSIs; a project's readings from its own partition.
//! Time-bounded reads start at [`DynamoStore::visible_from`] at the earliest.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use balance_alert_core::store::StoreError;

use crate::errors::sdk;
use crate::item::{s, Attrs, Corrupt, Item, PROJECTS_PK};
use crate::table::{INDEX_BY_KIND, LIST_PK, PK, SK};
use crate::DynamoStore;

/// Page size of a bounded Query (DynamoDB still ends a page at 1 MB). Unbounded lists set no
/// Limit, so 1 MB decides alone: 1,000 project states (~0.5 KB each) are one call.
const MAX_PAGE: usize = 1_000;

/// Converts items to records, stopping at the first malformed one.
pub(crate) fn records<'a, T>(
    items: impl IntoIterator<Item = &'a Item>,
) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<&'a Item, Error = Corrupt>,
{
    items
        .into_iter()
        .map(|i| T::try_from(i).map_err(StoreError::from))
        .collect()
}

impl DynamoStore {
    /// Runs a Query to the end (or until `max` items), following LastEvaluatedKey.
    pub(crate) async fn query_all(
        &self,
        op: &'static str,
        query: QueryFluentBuilder,
        max: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let page_size = max.map(|m| (m - items.len()).min(MAX_PAGE) as i32);
            let page = query
                .clone()
                .table_name(&self.table)
                .set_limit(page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk(op))?;
            items.extend(page.items.unwrap_or_default().into_iter().map(Item));
            if max.is_some_and(|m| items.len() >= m) {
                items.truncate(max.unwrap_or(usize::MAX));
                return Ok(items);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Every item of one collection of the sparse `by_kind` index.
    pub(crate) async fn list_kind(
        &self,
        op: &'static str,
        kind: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client
            .query()
            .index_name(INDEX_BY_KIND)
            .key_condition_expression("#k = :k")
            .expression_attribute_names("#k", LIST_PK)
            .expression_attribute_values(":k", s(kind));
        self.query_all(op, query, None).await
    }

    /// Every project item (state, schedule, claim): one Query of their partition, eventually
    /// consistent (as the index lists were; every write on them is conditional anyway).
    pub(crate) async fn list_projects(&self, op: &'static str) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client
            .query()
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(PROJECTS_PK));
        self.query_all(op, query, None).await
    }

    /// One item by key, strongly consistent.
    pub(crate) async fn get_item(
        &self,
        op: &'static str,
        key: Attrs,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk(op))?;
        Ok(out.item.map(Item))
    }

    /// Keys (pk, sk) of the items a Query finds, for deleting them.
    pub(crate) async fn query_keys(
        &self,
        op: &'static str,
        query: QueryFluentBuilder,
    ) -> Result<Vec<Attrs>, StoreError> {
        let items = self.query_all(op, query, None).await?;
        Ok(items
            .into_iter()
            .map(|Item(mut attrs)| {
                attrs.retain(|k, _| k == PK || k == SK);
                attrs
            })
            .collect())
    }
}
