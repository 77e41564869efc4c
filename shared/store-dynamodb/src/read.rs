//! The read side: one GetItem per single item, one Query (paginated through
//! LastEvaluatedKey) per list. Project items come from their one partition, the other lists
//! from the sparse GSIs; a project's readings from its own partition. Time-bounded reads start at [`DynamoStore::visible_from`] at the earliest.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::AlertRecord;
use balance_alert_core::store::{
    AlertQuery, BalancePoint, ConfigDocument, NextCheck, StoreError, SubscriptionState,
};

use crate::errors::sdk;
use crate::item::{
    alert_key, config_key, get_int, has_schedule, has_state, int, project_key, project_pk,
    read_latest, reading_sk_from, s, AttrError, Attrs, Corrupt, Item, Schedule, CONFIG_VERSION,
    PROJECTS_PK,
};
use crate::table::{
    kinds, ALERT_FEED, ALERT_FEED_VALUE, ALERT_PROJECT, CREATED_AT, INDEX_ALERTS_BY_PROJECT,
    INDEX_ALERTS_BY_TIME, INDEX_BY_KIND, INDEX_PENDING, LIST_PK, PENDING, PENDING_VALUE, PK, SK,
};
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

    pub(crate) async fn list_states_impl(&self) -> Result<Vec<ProjectState>, StoreError> {
        let items = self.list_projects("list_states").await?;
        let mut states: Vec<ProjectState> = records(items.iter().filter(|i| has_state(i)))?;
        states.sort_by(|a, b| {
            (&a.project_name, &a.project_id).cmp(&(&b.project_name, &b.project_id))
        });
        Ok(states)
    }

    /// Every project's newest reading, kept in its item: the one Query of the project items.
    pub(crate) async fn latest_readings_impl(&self) -> Result<Vec<BalancePoint>, StoreError> {
        let items = self.list_projects("latest_readings").await?;
        let mut points = Vec::new();
        for item in items.iter().filter(|i| has_state(i)) {
            points.extend(read_latest(item)?);
        }
        Ok(points)
    }

    pub(crate) async fn get_alert_impl(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        let item = self.get_item("get_alert", alert_key(id)).await?;
        let alert = item.as_ref().map(AlertRecord::try_from).transpose()?;
        // An expired alert (TTL passed, not yet deleted) counts as gone, as lists say.
        Ok(alert.filter(|a| a.created_at >= self.visible_from()))
    }

    pub(crate) async fn get_state_impl(
        &self,
        project_id: &str,
    ) -> Result<Option<ProjectState>, StoreError> {
        let item = self.get_item("get_state", project_key(project_id)).await?;
        Ok(item
            .as_ref()
            .filter(|i| has_state(i))
            .map(ProjectState::try_from)
            .transpose()?)
    }

    pub(crate) async fn balance_history_impl(
        &self,
        project_id: &str,
        since: i64,
        limit: usize,
    ) -> Result<Vec<BalancePoint>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // Newest first up to `limit`, then reversed: the most recent points, oldest first.
        let query = self
            .client
            .query()
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(project_pk(project_id)))
            .expression_attribute_values(
                ":from",
                s(reading_sk_from(since.max(self.visible_from()))),
            )
            // '~' sorts after every digit: the end of the READING# range.
            .expression_attribute_values(":to", s("READING#~"))
            .scan_index_forward(false)
            .consistent_read(true);
        let items = self
            .query_all("balance_history", query, Some(limit))
            .await?;
        let mut points: Vec<BalancePoint> = records(&items)?;
        points.reverse();
        Ok(points)
    }

    /// Alerts of one index partition from `since` on, newest or oldest first, at most `limit`.
    async fn alerts_from(
        &self,
        op: &'static str,
        (index, hash, value): (&str, &str, String),
        since: i64,
        newest_first: bool,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let query = self
            .client
            .query()
            .index_name(index)
            .key_condition_expression("#h = :h AND #t >= :since")
            .expression_attribute_names("#h", hash)
            .expression_attribute_names("#t", CREATED_AT)
            .expression_attribute_values(":h", s(value))
            .expression_attribute_values(":since", int(since.max(self.visible_from())))
            .scan_index_forward(!newest_first);
        let items = self.query_all(op, query, Some(limit)).await?;
        records(&items)
    }

    pub(crate) async fn alerts_impl(
        &self,
        query: AlertQuery,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let partition = match query.project_id {
            Some(project) => (INDEX_ALERTS_BY_PROJECT, ALERT_PROJECT, project),
            None => (
                INDEX_ALERTS_BY_TIME,
                ALERT_FEED,
                ALERT_FEED_VALUE.to_string(),
            ),
        };
        let since = query.since.unwrap_or(i64::MIN);
        self.alerts_from("alerts", partition, since, true, query.limit)
            .await
    }

    pub(crate) async fn pending_alerts_impl(
        &self,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let partition = (INDEX_PENDING, PENDING, PENDING_VALUE.to_string());
        self.alerts_from("pending_alerts", partition, i64::MIN, false, limit)
            .await
    }

    pub(crate) async fn subscription_states_impl(
        &self,
    ) -> Result<Vec<SubscriptionState>, StoreError> {
        let items = self
            .list_kind("subscription_states", kinds::SUBSCRIPTION)
            .await?;
        let mut subs: Vec<SubscriptionState> = records(&items)?;
        subs.sort_by(|a, b| (&a.name, &a.subscription_id).cmp(&(&b.name, &b.subscription_id)));
        Ok(subs)
    }

    pub(crate) async fn schedules_impl(&self) -> Result<Vec<NextCheck>, StoreError> {
        let items = self.list_projects("schedules").await?;
        let schedules: Vec<Schedule> = records(items.iter().filter(|i| has_schedule(i)))?;
        Ok(schedules
            .into_iter()
            .map(|s| NextCheck {
                project_id: s.project_id,
                at: s.next_check_at,
                fingerprint: s.fingerprint,
            })
            .collect())
    }

    /// One strongly consistent GetItem of the config document projected to its version: a
    /// read of a few bytes (half a read unit), whatever the document's size.
    pub(crate) async fn config_version_impl(&self) -> Result<Option<u64>, StoreError> {
        const OP: &str = "config_version";
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(config_key()))
            .consistent_read(true)
            .projection_expression("#v")
            .expression_attribute_names("#v", CONFIG_VERSION)
            .send()
            .await
            .map_err(sdk(OP))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let version = item
            .get(CONFIG_VERSION)
            .ok_or(AttrError::Missing(CONFIG_VERSION))
            .and_then(|v| get_int(CONFIG_VERSION, v))
            .map_err(|error| StoreError::Corrupt {
                item: "config document",
                message: error.to_string(),
            })?;
        Ok(Some(version))
    }

    pub(crate) async fn config_document_impl(&self) -> Result<Option<ConfigDocument>, StoreError> {
        let item = self.get_item("config_document", config_key()).await?;
        Ok(item.as_ref().map(ConfigDocument::try_from).transpose()?)
    }

    /// One GetItem of a fixed key, reading only its key: constant cost.
    pub(crate) async fn ping_impl(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(config_key()))
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map_err(sdk("ping"))?;
        Ok(())
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
