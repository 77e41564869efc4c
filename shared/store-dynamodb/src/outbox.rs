//! [`Outbox`] on DynamoDB: alerts (listed newest first by the `alerts_by_time` and
//! `alerts_by_project` indexes, the outbox by the sparse `pending_alerts` index, which holds an
//! alert only while it is pending) and one item per channel and minute counting sends.

use async_trait::async_trait;
use balance_alert_core::model::{AlertRecord, AlertStatus, Delivery};
use balance_alert_core::store::{AlertQuery, Outbox, StoreError, SEND_WINDOW_KEPT};

use crate::item::{alert_key, int, json, s, send_window_key, sends_of, NewAlert, DELIVERIES, SENT};
use crate::read::records;
use crate::request::Expr;
use crate::table::{
    kinds, ALERT_FEED, ALERT_FEED_VALUE, ALERT_PROJECT, CREATED_AT, INDEX_ALERTS_BY_PROJECT,
    INDEX_ALERTS_BY_TIME, INDEX_PENDING, KIND, PENDING, PENDING_VALUE, PK, TTL_ATTRIBUTE,
};
use crate::DynamoStore;

#[async_trait]
impl Outbox for DynamoStore {
    async fn alerts(&self, query: AlertQuery) -> Result<Vec<AlertRecord>, StoreError> {
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

    async fn get_alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        let item = self.get_item("get_alert", alert_key(id)).await?;
        let alert = item.as_ref().map(AlertRecord::try_from).transpose()?;
        // An expired alert (TTL passed, not yet deleted) counts as gone, as lists say.
        Ok(alert.filter(|a| a.created_at >= self.visible_from()))
    }

    async fn insert_alert(&self, alert: AlertRecord) -> Result<bool, StoreError> {
        let expires_at = self.expires_at(alert.created_at);
        let condition = Expr::new("attribute_not_exists(#pk)").name("#pk", PK);
        self.put_if(
            "insert_alert",
            NewAlert {
                alert: &alert,
                expires_at,
            }
            .into(),
            &condition,
        )
        .await
    }

    async fn pending_alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError> {
        let partition = (INDEX_PENDING, PENDING, PENDING_VALUE.to_string());
        self.alerts_from("pending_alerts", partition, i64::MIN, false, limit)
            .await
    }

    async fn set_alert_status(&self, id: &str, status: AlertStatus) -> Result<bool, StoreError> {
        self.update_alert("set_alert_status", id, status, None)
            .await
    }

    async fn record_deliveries(
        &self,
        id: &str,
        status: AlertStatus,
        deliveries: Vec<Delivery>,
    ) -> Result<bool, StoreError> {
        self.update_alert("record_deliveries", id, status, Some(&deliveries))
            .await
    }

    /// One conditional `ADD` of the grant (the counter never passes `limit`); when another
    /// process took sends meanwhile, reads the count and asks for what is left.
    async fn take_sends(
        &self,
        channel: &str,
        minute: i64,
        wanted: u32,
        limit: u32,
    ) -> Result<u32, StoreError> {
        const OP: &str = "take_sends";
        let mut ask = wanted.min(limit);
        for _ in 0..5 {
            if ask == 0 {
                return Ok(0);
            }
            let update = Expr::new("SET #kind = :kind, #ttl = :ttl ADD #sent :ask")
                .name("#kind", KIND)
                .name("#ttl", TTL_ATTRIBUTE)
                .name("#sent", SENT)
                .value(":kind", s(kinds::SEND_WINDOW))
                .value(":ttl", int(minute * 60 + SEND_WINDOW_KEPT))
                .value(":ask", int(ask))
                .value(":most", int(limit - ask));
            let condition = "attribute_not_exists(#sent) OR #sent <= :most";
            let key = send_window_key(channel, minute);
            if self.update_if(OP, key, &update, Some(condition)).await? {
                return Ok(ask);
            }
            let counted = self.sends_taken(channel, minute).await?;
            ask = wanted.min(limit.saturating_sub(counted));
        }
        Err(StoreError::Conflict {
            op: OP,
            message: format!(
                "the send counter of channel {channel:?} changed during five takes in a row"
            ),
        })
    }

    async fn sends_taken(&self, channel: &str, minute: i64) -> Result<u32, StoreError> {
        let item = self
            .get_item("sends_taken", send_window_key(channel, minute))
            .await?;
        Ok(item.as_ref().map(sends_of).transpose()?.unwrap_or(0))
    }
}

impl DynamoStore {
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

    /// Sets an alert's status (and deliveries, when given).
    async fn update_alert(
        &self,
        op: &'static str,
        id: &str,
        status: AlertStatus,
        deliveries: Option<&[Delivery]>,
    ) -> Result<bool, StoreError> {
        // The sparse pending index holds the alert only while it is pending.
        let mut text = String::from("SET #status = :status");
        if status == AlertStatus::Pending {
            text.push_str(", #pending = :pending");
        }
        if deliveries.is_some() {
            text.push_str(", #deliveries = :deliveries");
        }
        if status != AlertStatus::Pending {
            text.push_str(" REMOVE #pending");
        }
        let mut update = Expr::new(text)
            .name("#status", "status")
            .name("#pending", PENDING)
            .name("#pk", PK)
            .name("#created", CREATED_AT)
            .value(":status", s(status.as_str()))
            .value(":from", int(self.visible_from()));
        if status == AlertStatus::Pending {
            update = update.value(":pending", s(PENDING_VALUE));
        }
        if let Some(d) = deliveries {
            update = update
                .name("#deliveries", DELIVERIES)
                .value(":deliveries", json(&d));
        }
        // An expired alert (TTL passed, not yet deleted) counts as gone, as reads say.
        let condition = "attribute_exists(#pk) AND #created >= :from";
        self.update_if(op, alert_key(id), &update, Some(condition))
            .await
    }
}
