//! The notifier function: DynamoDB Streams → deliveries, with partial batch failures.

use std::sync::Arc;

use balance_alert_lambda::notifier::{NotifierFunction, StreamEvent};
use balance_alert_lambda::{init_tracing, Warm};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    // Built on the first invocation (the table's client, the config, its secrets).
    let function = Arc::new(Warm::<NotifierFunction>::default());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let function = function.clone();
        async move {
            let function = function.get(NotifierFunction::from_process).await?;
            function.handle(event.payload).await.map_err(Error::from)
        }
    }))
    .await
}
