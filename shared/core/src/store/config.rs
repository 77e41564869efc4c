//! The config document role: config.json kept in the store (serverless mode), replaced only
//! as the version the writer read.

use async_trait::async_trait;

use super::StoreError;

/// The configuration document kept in the store (serverless mode): config.json as written,
/// `${VAR}` placeholders unexpanded, with a version for conditional updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDocument {
    /// The JSON text.
    pub text: String,
    /// Starts at 1; every accepted write increments it.
    pub version: u64,
    /// Unix seconds of the write.
    pub updated_at: i64,
}

/// The stored configuration document.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    /// The stored configuration document, if any.
    async fn config_document(&self) -> Result<Option<ConfigDocument>, StoreError>;

    /// The version of the stored configuration document, if any, read without its text (a
    /// cheap, strongly consistent read): what each invocation checks before reloading.
    async fn config_version(&self) -> Result<Option<u64>, StoreError>;

    /// Stores a new configuration document if the current version is `expected_version`
    /// (`None`: no document yet); returns the new version, or `None` when another write came
    /// first (nothing changed).
    async fn put_config_document(
        &self,
        text: String,
        expected_version: Option<u64>,
        now: i64,
    ) -> Result<Option<u64>, StoreError>;
}
