//! [`Readings`] on DynamoDB: each reading is an item in its project's partition (sort key by
//! time); the newest is also kept in the project's item, so every project's newest reading is
//! the one Query of the project items. Readings expire by TTL.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use balance_alert_core::store::{BalancePoint, Readings, StoreError};
use futures::{stream, StreamExt, TryStreamExt};

use crate::item::{has_state, int, project_pk, read_latest, reading_sk_from, s, Attrs};
use crate::read::records;
use crate::table::{ALERT_FEED, ALERT_FEED_VALUE, CREATED_AT, INDEX_ALERTS_BY_TIME, PK, SK};
use crate::{DynamoStore, CONCURRENCY};

#[async_trait]
impl Readings for DynamoStore {
    async fn balance_history(
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

    /// Every project's newest reading, kept in its item: the one Query of the project items.
    async fn latest_readings(&self) -> Result<Vec<BalancePoint>, StoreError> {
        let items = self.list_projects("latest_readings").await?;
        let mut points = Vec::new();
        for item in items.iter().filter(|i| has_state(i)) {
            points.extend(read_latest(item)?);
        }
        Ok(points)
    }

    /// TTL expires readings and alerts `retention_days` after their creation, so the regular
    /// prune (`before` = now − retention) has nothing to do and makes no call. Only a prune
    /// reaching further (a shorter horizon than the TTL) deletes, item by item, what TTL will
    /// not have expired by itself: readings and alerts created between the TTL horizon and
    /// `before`.
    async fn prune(&self, before: i64) -> Result<u64, StoreError> {
        const OP: &str = "prune";
        let from = self.visible_from();
        if before <= from {
            return Ok(0);
        }
        let alerts = self
            .client
            .query()
            .index_name(INDEX_ALERTS_BY_TIME)
            .key_condition_expression("#h = :h AND #t BETWEEN :from AND :to")
            .expression_attribute_names("#h", ALERT_FEED)
            .expression_attribute_names("#t", CREATED_AT)
            .expression_attribute_values(":h", s(ALERT_FEED_VALUE))
            .expression_attribute_values(":from", int(from))
            .expression_attribute_values(":to", int(before - 1));
        let mut keys = self.query_keys(OP, alerts).await?;
        // Readings live in their project's partition: one Query per project with a state.
        let items = self.list_projects(OP).await?;
        let states: Vec<balance_alert_core::model::alert::ProjectState> =
            records(items.iter().filter(|i| has_state(i)))?;
        let readings: Vec<Vec<Attrs>> = stream::iter(states)
            .map(|state| {
                let query = self
                    .client
                    .query()
                    .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_values(":pk", s(project_pk(&state.project_id)))
                    .expression_attribute_values(":from", s(reading_sk_from(from)))
                    // A prefix of every key at `before`: the range ends just before them.
                    .expression_attribute_values(":to", s(reading_sk_from(before)));
                self.query_keys(OP, query)
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        keys.extend(readings.into_iter().flatten());
        let removed = keys.len() as u64;
        let requests = keys
            .into_iter()
            .map(|key| {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .expect("a delete request has its key");
                WriteRequest::builder().delete_request(delete).build()
            })
            .collect();
        self.batch_write(OP, requests).await?;
        Ok(removed)
    }
}
