//! A Secrets Manager client on the tests' moto_server (moto emulates it at the DynamoDB
//! endpoint).

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};

/// The client, with dummy credentials, at `endpoint`.
pub fn client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "moto-test"))
        .endpoint_url(endpoint)
        .http_client(balance_alert_store_dynamodb::http_client())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}
