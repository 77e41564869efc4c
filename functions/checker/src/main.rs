//! The checker function: EventBridge schedule → the core's run over the due projects.

use std::sync::Arc;

use balance_alert_lambda::checker::CheckerFunction;
use balance_alert_lambda::{init_tracing, Env};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let env = Env::from_process().await?;
    let function = Arc::new(CheckerFunction::new(
        env,
        Arc::new(balance_alert_api::Metrics::new()),
    ));
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<serde_json::Value>| {
        let function = function.clone();
        async move { function.handle().await.map_err(Error::from) }
    }))
    .await
}
