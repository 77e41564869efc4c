//! `secretsmanager://<secret-id>[#<json-key>]` references, resolved with Secrets Manager's
//! GetSecretValue when the config loads, cached for the life of a warm function, never logged;
//! and the api function's key (`API_KEY_SECRET_ARN`), read uncached whenever
//! [`balance_alert_api::key`] asks.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use balance_alert_core::config::refs::{SecretResolver, SCHEME};
#[cfg(feature = "api")]
use balance_alert_core::config::Secret;

/// Resolves references through one Secrets Manager client.
pub struct SecretsManager {
    client: Client,
    cache: Mutex<HashMap<String, String>>,
}

impl SecretsManager {
    pub fn new(client: Client) -> Self {
        SecretsManager {
            client,
            cache: Mutex::default(),
        }
    }

    /// A client on the function's AWS environment
    /// ([`balance_alert_store_dynamodb::lambda_sdk_config`]: `AWS_ENDPOINT_URL` for an
    /// emulator).
    pub fn from_env() -> Self {
        SecretsManager::new(Client::new(
            &balance_alert_store_dynamodb::lambda_sdk_config(),
        ))
    }

    /// The string value of secret `id`, read now (GetSecretValue); errors name the call and
    /// the service's code, never a value.
    async fn read(&self, id: &str) -> Result<String, String> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| {
                let code = e
                    .as_service_error()
                    .and_then(|s| aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(s))
                    .unwrap_or("request failed")
                    .to_owned();
                format!("GetSecretValue: {code}")
            })?;
        out.secret_string()
            .map(str::to_owned)
            .ok_or_else(|| "the secret has no string value".to_owned())
    }

    /// The API key kept as the whole string of secret `id`.
    #[cfg(feature = "api")]
    pub fn key(self, id: impl Into<String>) -> SecretKey {
        SecretKey {
            secrets: self,
            id: id.into(),
        }
    }
}

/// The API key in one secret (its whole string, as the template's generated secret holds it).
#[cfg(feature = "api")]
pub struct SecretKey {
    secrets: SecretsManager,
    id: String,
}

#[cfg(feature = "api")]
#[async_trait]
impl balance_alert_api::key::KeyStore for SecretKey {
    async fn read(&self) -> Result<Secret, String> {
        let text = self.secrets.read(&self.id).await.map_err(|e| {
            format!(
                "API_KEY_SECRET_ARN ({}): {e}; check the ARN and that the function may call secretsmanager:GetSecretValue on it",
                self.id
            )
        })?;
        Ok(Secret::new(text.trim()))
    }
}

/// `(secret id, json key)` of a reference.
fn split(reference: &str) -> (&str, Option<&str>) {
    let body = reference.trim().trim_start_matches(SCHEME);
    match body.split_once('#') {
        Some((id, key)) => (id, Some(key)),
        None => (body, None),
    }
}

#[async_trait]
impl SecretResolver for SecretsManager {
    async fn resolve(&self, reference: &str) -> Result<String, String> {
        if let Some(v) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(reference).cloned())
        {
            return Ok(v);
        }
        let (id, key) = split(reference);
        let text = self.read(id).await?;
        let text = text.as_str();
        let value = match key {
            None => text.to_owned(),
            Some(k) => {
                let doc: serde_json::Value = serde_json::from_str(text)
                    .map_err(|_| format!("the secret is not JSON, so it has no key {k:?}"))?;
                match doc.get(k) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) if !other.is_null() => other.to_string(),
                    _ => return Err(format!("the secret's JSON has no key {k:?}")),
                }
            }
        };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(reference.to_owned(), value.clone());
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn a_reference_names_a_secret_and_optionally_a_key() {
        assert_eq!(
            split("secretsmanager://prod/keys#openrouter"),
            ("prod/keys", Some("openrouter"))
        );
        assert_eq!(
            split("secretsmanager://arn:aws:secretsmanager:us-east-1:1:secret:x"),
            ("arn:aws:secretsmanager:us-east-1:1:secret:x", None)
        );
    }
}
