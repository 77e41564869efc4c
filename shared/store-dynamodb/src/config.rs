//! [`ConfigStore`] on DynamoDB: the document is one item, replaced under a version condition;
//! its version reads alone (a projected GetItem).

use async_trait::async_trait;
use balance_alert_core::store::{ConfigDocument, ConfigStore, StoreError};

use crate::errors::sdk;
use crate::item::{
    config_key, get_int, stored_text_size, AttrError, Item, CONFIG_VERSION, TEXT_GZ,
};
use crate::request::version_condition;
use crate::{DynamoStore, CONFIG_DOCUMENT_LIMIT};

#[async_trait]
impl ConfigStore for DynamoStore {
    async fn config_document(&self) -> Result<Option<ConfigDocument>, StoreError> {
        let item = self.get_item("config_document", config_key()).await?;
        Ok(item.as_ref().map(ConfigDocument::try_from).transpose()?)
    }

    /// One strongly consistent GetItem of the config document projected to its version: a
    /// read of a few bytes (half a read unit), whatever the document's size.
    async fn config_version(&self) -> Result<Option<u64>, StoreError> {
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

    async fn put_config_document(
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
}
