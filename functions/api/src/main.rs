//! The api function: API Gateway (HTTP or REST API), an ALB or a function URL → the same
//! router as `serve`.

use std::sync::Arc;

use balance_alert_lambda::{api, init_tracing, Warm};
use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    // Settings it would refuse every request for stop it now; the router (the table's
    // client, the config, the API key's secret) is built on the first request.
    api::check_settings()?;
    let handler = Arc::new(Warm::<api::Handler>::default());
    lambda_http::run(service_fn(move |request: Request| {
        let handler = handler.clone();
        async move { api::respond(&handler, request).await.map_err(Error::from) }
    }))
    .await
}
