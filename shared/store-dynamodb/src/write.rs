//! The write side: every state change is a conditional write, so exactly one of two racing
//! processes wins. A project's state, next check and claim share one item, so a check that
//! changes nothing is one UpdateItem; a check result with an alert is one transaction (state,
//! alert, reading): the state's version condition decides for all three.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{DeleteRequest, ReturnValuesOnConditionCheckFailure, WriteRequest};
use balance_alert_core::model::{AlertRecord, AlertStatus, Delivery};
use balance_alert_core::store::{
    CheckWrite, Claimant, ConfigDocument, NextCheck, StoreError, SubscriptionState,
    SEND_WINDOW_KEPT,
};
use futures::{stream, StreamExt, TryStreamExt};

use crate::errors::{applied, sdk};
use crate::item::{
    add_set, alert_key, cooldown_key, finish_update, has_state, int, json, latest_reading,
    lease_key, project_key, project_pk, reading_sk_from, s, send_window_key, sends_of,
    state_update, stored_text_size, Attrs, Cooldown, Item, Lease, NewAlert, NewReading,
    CONFIG_FINGERPRINT, DELIVERIES, LATEST_READING, LEASES_PK, NEXT_CHECK_AT, NODE, OWNER,
    REMINDED_FOR, SENT, TEXT_GZ, UNTIL,
};
use crate::read::records;
use crate::request::{merge, run_grouped, set_all, tx_put, tx_update, Expr};
use crate::table::{
    kinds, ALERT_FEED, ALERT_FEED_VALUE, CREATED_AT, INDEX_ALERTS_BY_TIME, KIND, PENDING,
    PENDING_VALUE, PK, SK, TTL_ATTRIBUTE,
};
use crate::{DynamoStore, CONCURRENCY, CONFIG_DOCUMENT_LIMIT};

/// The condition of a versioned write: no item yet, or the version the caller read.
fn version_condition(expected: Option<u64>) -> Expr {
    match expected {
        None => Expr::new("attribute_not_exists(#pk)").name("#pk", PK),
        Some(v) => Expr::new("#version = :expected")
            .name("#version", "version")
            .value(":expected", int(v)),
    }
}

/// The condition of a state write: no state yet (the item may hold a schedule or claim), or the
/// version the caller read.
fn state_condition(expected: Option<u64>) -> Expr {
    match expected {
        None => Expr::new("attribute_not_exists(#version)").name("#version", "version"),
        Some(_) => version_condition(expected),
    }
}

/// Adds a schedule to a project item's update: the next check and the config fingerprint.
fn with_next(update: Expr, next: &NextCheck) -> Expr {
    let mut update = add_set(update, NEXT_CHECK_AT, int(next.at));
    let mut remove = Vec::new();
    match &next.fingerprint {
        Some(f) => update = add_set(update, CONFIG_FINGERPRINT, s(f)),
        None => remove.push(CONFIG_FINGERPRINT),
    }
    finish_update(update, &remove)
}

/// The update making a project item exist as a listed project (a schedule may come before its
/// first state).
fn project_update(project_id: &str) -> Expr {
    Expr::new("SET #kind = :kind, #pid = :pid")
        .name("#kind", KIND)
        .name("#pid", "project_id")
        .value(":kind", s(kinds::PROJECT))
        .value(":pid", s(project_id))
}

impl DynamoStore {
    pub(crate) async fn commit_checks_impl(
        &self,
        writes: Vec<CheckWrite>,
    ) -> Result<Vec<bool>, StoreError> {
        run_grouped(
            writes,
            |w| w.state.project_id.clone(),
            |w| self.commit_one(w),
        )
        .await
    }

    /// One check result, in its project's item (state and, when given, the next check). Without
    /// an alert: one conditional UpdateItem, then (when it was applied) a PutItem of the
    /// reading, if any: a lost race writes nothing, and the reading's key carries the state
    /// version, so it is the won write's. With an alert: one transaction (the update under the
    /// condition, alert, reading), so the alert exists exactly when its transition does. A
    /// transaction costs twice the write units of the same writes.
    async fn commit_one(&self, w: CheckWrite) -> Result<bool, StoreError> {
        let condition = state_condition(w.expected_version);
        let (key, update) = state_update(&w.state);
        let new_reading = |point| NewReading {
            point,
            version: w.state.version,
            expires_at: self.expires_at(point.timestamp),
        };
        let update = match &w.point {
            Some(point) => add_set(update, LATEST_READING, latest_reading(new_reading(point))),
            None => update,
        };
        let update = match &w.next {
            Some(next) => with_next(update, next),
            None => finish_update(update, &[]),
        };
        let update = merge(update, &condition);
        let reading = w.point.as_ref().map(|point| Item::from(new_reading(point)));
        let Some(alert) = &w.alert else {
            let applied = self
                .update_if("commit_checks", key, &update, Some(&condition.text))
                .await?;
            if let (true, Some(reading)) = (applied, reading) {
                self.put("commit_checks", reading).await?;
            }
            return Ok(applied);
        };
        let expires_at = self.expires_at(alert.created_at);
        let mut items = vec![
            tx_update(&self.table, key, &update, &condition.text),
            tx_put(&self.table, NewAlert { alert, expires_at }.into(), None),
        ];
        items.extend(reading.map(|r| tx_put(&self.table, r, None)));
        self.transact("commit_checks", items).await
    }

    pub(crate) async fn set_alert_status_impl(
        &self,
        id: &str,
        status: AlertStatus,
    ) -> Result<bool, StoreError> {
        self.update_alert("set_alert_status", id, status, None)
            .await
    }

    pub(crate) async fn record_deliveries_impl(
        &self,
        id: &str,
        status: AlertStatus,
        deliveries: Vec<Delivery>,
    ) -> Result<bool, StoreError> {
        self.update_alert("record_deliveries", id, status, Some(&deliveries))
            .await
    }

    pub(crate) async fn insert_alert_impl(&self, alert: AlertRecord) -> Result<bool, StoreError> {
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

    pub(crate) async fn record_subscription_impl(
        &self,
        state: SubscriptionState,
        reminder: Option<AlertRecord>,
    ) -> Result<bool, StoreError> {
        const OP: &str = "record_subscription";
        let (key, update) = set_all(Item::from(&state));
        if let Some(alert) = &reminder {
            // Written only if no reminder went out for this renewal date yet, atomically with
            // the reminder itself.
            let mut with_reminder = merge(
                update.clone(),
                &Expr::default()
                    .name("#reminded", REMINDED_FOR)
                    .value(":date", s(&state.next_renewal_date)),
            );
            with_reminder.text.push_str(", #reminded = :date");
            let condition = "attribute_not_exists(#reminded) OR #reminded <> :date";
            let expires_at = self.expires_at(alert.created_at);
            let items = vec![
                tx_update(&self.table, key.clone(), &with_reminder, condition),
                tx_put(&self.table, NewAlert { alert, expires_at }.into(), None),
            ];
            if self.transact(OP, items).await? {
                return Ok(true);
            }
        }
        // No reminder (or one already sent for this date): update the evaluation and keep
        // `reminded_for` as it is.
        self.update_if(OP, key, &update, None).await?;
        Ok(false)
    }

    pub(crate) async fn take_lease_impl(
        &self,
        key: &str,
        by: &Claimant,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let lease = Lease {
            key: key.to_string(),
            owner: by.owner.clone(),
            node: by.node.clone(),
            until,
        };
        let condition = Expr::new("attribute_not_exists(#pk) OR #owner = :owner OR #until <= :now")
            .name("#pk", PK)
            .name("#owner", OWNER)
            .name("#until", UNTIL)
            .value(":owner", s(&by.owner))
            .value(":now", int(now));
        self.put_if("take_lease", Item::from(&lease), &condition)
            .await
    }

    pub(crate) async fn release_lease_impl(
        &self,
        key: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.delete_if("release_lease", lease_key(key), OWNER, owner)
            .await
            .map(drop)
    }

    pub(crate) async fn release_node_leases_impl(&self, node: &str) -> Result<u64, StoreError> {
        const OP: &str = "release_node_leases";
        let query = self
            .client
            .query()
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(LEASES_PK))
            .consistent_read(true);
        let leases: Vec<Lease> = records(&self.query_all(OP, query, None).await?)?;
        let mut released = 0;
        for lease in leases
            .into_iter()
            .filter(|l| l.node.as_deref() == Some(node))
        {
            if self
                .delete_if(OP, lease_key(&lease.key), NODE, node)
                .await?
            {
                released += 1;
            }
        }
        Ok(released)
    }

    /// Deletes `key` if its attribute `attr` is `value`: true when deleted.
    async fn delete_if(
        &self,
        op: &'static str,
        key: Attrs,
        attr: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression("#a = :v")
            .expression_attribute_names("#a", attr)
            .expression_attribute_values(":v", s(value))
            .send()
            .await;
        applied(op, result)
    }

    pub(crate) async fn set_next_checks_impl(
        &self,
        next: Vec<NextCheck>,
    ) -> Result<(), StoreError> {
        // As in SQLite, the last entry given for a project wins.
        let mut latest: Vec<NextCheck> = Vec::with_capacity(next.len());
        for n in next.into_iter().rev() {
            if !latest.iter().any(|seen| seen.project_id == n.project_id) {
                latest.push(n);
            }
        }
        run_grouped(
            latest,
            |n| n.project_id.clone(),
            |n| async move {
                let update = with_next(project_update(&n.project_id), &n);
                self.update_if("set_next_checks", project_key(&n.project_id), &update, None)
                    .await
            },
        )
        .await
        .map(drop)
    }

    pub(crate) async fn claim_impl(
        &self,
        key: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<i64>, StoreError> {
        const OP: &str = "claim_cooldown";
        let claim = Item::from(&Cooldown {
            key: key.to_string(),
            until,
        });
        // Two tries: the holder may expire (or TTL may delete it) between the failed claim
        // and reading it back.
        for _ in 0..2 {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(claim.0.clone()))
                .condition_expression("attribute_not_exists(#pk) OR #until <= :now")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#until", UNTIL)
                .expression_attribute_values(":now", int(now))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let old = match result {
                Ok(_) => return Ok(None),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    match e.into_service_error() {
                        PutItemError::ConditionalCheckFailedException(f) => f.item,
                        _ => None,
                    }
                }
                Err(e) => return Err(sdk(OP)(e)),
            };
            let holder = match old {
                Some(attrs) => Some(Item(attrs)),
                None => self.get_item(OP, cooldown_key(key)).await?,
            };
            if let Some(holder) = holder {
                let held = Cooldown::try_from(&holder)?;
                if held.until > now {
                    return Ok(Some(held.until));
                }
            }
        }
        Err(StoreError::Conflict {
            op: OP,
            message: format!("cooldown {key} changed during the claim twice"),
        })
    }

    /// One conditional `ADD` of the grant (the counter never passes `limit`); when another
    /// process took sends meanwhile, reads the count and asks for what is left.
    pub(crate) async fn take_sends_impl(
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
            let counted = self.sends_taken_impl(channel, minute).await?;
            ask = wanted.min(limit.saturating_sub(counted));
        }
        Err(StoreError::Conflict {
            op: OP,
            message: format!(
                "the send counter of channel {channel:?} changed during five takes in a row"
            ),
        })
    }

    pub(crate) async fn sends_taken_impl(
        &self,
        channel: &str,
        minute: i64,
    ) -> Result<u32, StoreError> {
        let item = self
            .get_item("sends_taken", send_window_key(channel, minute))
            .await?;
        Ok(item.as_ref().map(sends_of).transpose()?.unwrap_or(0))
    }

    pub(crate) async fn release_claim_impl(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(cooldown_key(key)))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk("release_claim"))
    }

    pub(crate) async fn put_config_document_impl(
        &self,
        text: String,
        expected_version: Option<u64>,
        now: i64,
    ) -> Result<Option<u64>, StoreError> {
        let version = expected_version.map_or(1, |v| v + 1);
        let doc = ConfigDocument {
            text,
            version,
            updated_at: now,
        };
        let item = Item::from(&doc);
        // An item is at most 400 KB, attribute names and the other attributes included.
        let size = stored_text_size(&item);
        if size > CONFIG_DOCUMENT_LIMIT {
            return Err(StoreError::TooLarge {
                what: if item.0.contains_key(TEXT_GZ) {
                    "the config document, gzip-compressed,"
                } else {
                    "the config document"
                },
                size,
                limit: CONFIG_DOCUMENT_LIMIT,
            });
        }
        let condition = version_condition(expected_version);
        let written = self.put_if("put_config_document", item, &condition).await?;
        Ok(written.then_some(version))
    }

    /// Deletes what TTL will not have expired by itself: readings and alerts created between
    /// the TTL horizon and `before`. The regular prune (`before` = now − retention) finds
    /// nothing there and makes no call.
    pub(crate) async fn prune_impl(&self, before: i64) -> Result<u64, StoreError> {
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
