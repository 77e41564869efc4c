//! The notifier function: DynamoDB Streams → deliveries, with partial batch failures.

use std::sync::Arc;

use balance_alert_lambda::notifier::{NotifierFunction, StreamEvent};
use balance_alert_lambda::{init_tracing, Env};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let env = Env::from_process().await?;
    let function = Arc::new(NotifierFunction::new(
        env,
        Arc::new(balance_alert_lambda::emf::EmfObserver::from_env()),
    ));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let function = function.clone();
        async move { function.handle(event.payload).await.map_err(Error::from) }
    }))
    .await
}
