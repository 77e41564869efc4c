//! The checker function: EventBridge schedule → the core's run over the due projects.

use std::sync::Arc;

use balance_alert_lambda::checker::CheckerFunction;
use balance_alert_lambda::{init_tracing, Warm};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    // Built on the first invocation (the table's client, the config, its secrets).
    let function = Arc::new(Warm::<CheckerFunction>::default());
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<serde_json::Value>| {
        let function = function.clone();
        async move {
            let function = function.get(CheckerFunction::from_process).await?;
            function.handle().await.map_err(Error::from)
        }
    }))
    .await
}
