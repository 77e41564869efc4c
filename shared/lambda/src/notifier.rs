//! The notifier function (DynamoDB Streams on the table): each INSERT of an alert record is
//! delivered at once through the routed channels by the same deliverer `serve` uses. A send
//! that fails is scheduled for a retry in the outbox (backoff, then the checker's sweep), and
//! its record succeeds; only a record whose state the store could not read or write is
//! reported in `batchItemFailures`, so the stream brings it again. A redelivered record that
//! was already sent does not resend: the deliverer skips channels whose outcome is recorded,
//! under a lease per alert. The config is refreshed only for a batch with an alert to deliver.

use std::collections::HashMap;

use balance_alert_notify::{Handover, Notifier};
use balance_alert_services::Services;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Env;

/// The part of a DynamoDB Streams event the notifier reads.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

/// One stream record.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    pub dynamodb: StreamData,
}

/// The record's keys and sequence number.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamData {
    #[serde(rename = "Keys", default)]
    pub keys: HashMap<String, Value>,
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: String,
}

/// `{"batchItemFailures": [{"itemIdentifier": "<sequence number>"}]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<BatchItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

impl StreamRecord {
    /// The alert id when this record inserted an alert (`pk` = `ALERT#<id>`).
    pub fn inserted_alert(&self) -> Option<String> {
        if self.event_name != "INSERT" {
            return None;
        }
        let pk = self.dynamodb.keys.get("pk")?.get("S")?.as_str()?;
        pk.strip_prefix("ALERT#").map(str::to_owned)
    }
}

/// The notifier, built once per warm function.
pub struct NotifierFunction {
    env: Env,
    notifier: Notifier,
}

impl NotifierFunction {
    /// The notifier over `env`, reporting each send to `observer` (EMF in the function).
    pub fn new(
        env: Env,
        observer: std::sync::Arc<dyn balance_alert_core::observe::NotifyObserver>,
    ) -> Self {
        let notifier = Services::builder(env.config.clone(), env.store.clone())
            .notify_observer(observer)
            .build()
            .notifier;
        NotifierFunction { env, notifier }
    }

    /// The notifier over [`Env::from_process`], reporting sends as EMF log lines.
    pub async fn from_process() -> anyhow::Result<Self> {
        Ok(NotifierFunction::new(
            Env::from_process().await?,
            std::sync::Arc::new(crate::emf::EmfObserver::from_env()),
        ))
    }

    /// One batch of stream records.
    pub async fn handle(&self, event: StreamEvent) -> anyhow::Result<BatchResponse> {
        let inserted: Vec<(String, String)> = event
            .records
            .iter()
            .filter_map(|r| {
                r.inserted_alert()
                    .map(|id| (id, r.dynamodb.sequence_number.clone()))
            })
            .collect();
        if inserted.is_empty() {
            return Ok(BatchResponse::default());
        }
        self.env.config.refresh().await;
        let ids: Vec<String> = inserted.iter().map(|(id, _)| id.clone()).collect();
        let loaded = self.env.config.get();
        let now = chrono::Utc::now().timestamp();
        let outcome = self
            .notifier
            .deliverer
            .deliver_ids(&loaded.config, &ids, now)
            .await;
        let batch_item_failures = inserted
            .into_iter()
            .zip(outcome)
            .filter(|(_, o)| *o == Handover::StoreFailed)
            .map(|((_, seq), _)| BatchItemFailure {
                item_identifier: seq,
            })
            .collect();
        Ok(BatchResponse {
            batch_item_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inserted_alerts_are_picked_from_a_stream_batch() {
        let event: StreamEvent =
            serde_json::from_str(include_str!("../fixtures/dynamodb-stream.json"))
                .expect("fixture");
        let ids: Vec<Option<String>> = event
            .records
            .iter()
            .map(StreamRecord::inserted_alert)
            .collect();
        assert_eq!(ids, vec![Some("p1-1764000000-2".to_owned()), None, None]);
        assert_eq!(event.records[0].dynamodb.sequence_number, "111");
    }
}
