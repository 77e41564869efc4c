//! The api function: API Gateway (HTTP or REST API), an ALB or a function URL → the same
//! router as `serve`.

use balance_alert_lambda::{api, init_tracing, Env};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let env = Env::from_process().await?;
    lambda_http::run(api::handler(&env).await?).await
}
