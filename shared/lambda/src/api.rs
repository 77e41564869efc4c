//! The api function (API Gateway HTTP API): the same axum router as `serve`, on the table's
//! store and config document; `/api/refresh` checks in-process with the cooldown held in the
//! table, config edits go to the table's document. A warm function looks for a newer document
//! on requests (nothing runs between invocations to watch it).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use balance_alert_api::{app, ApiOptions, AppState, AuthConfig, Metrics};
use balance_alert_core::config::process_env;
use balance_alert_core::service::{Checker, Status};

use crate::Env;

/// How often requests look for a newer config document: a version read, at most once a
/// second, so a `config push` or another instance's edit shows within a second.
pub const CONFIG_CHECK_EVERY: Duration = Duration::from_secs(1);

/// The router for `lambda_http::run`. `WEB_API_KEY` (from Secrets Manager via the template)
/// guards it; JWT secrets generated without `JWT_SECRET` live in /tmp (per warm container).
pub fn router(env: &Env) -> anyhow::Result<axum::Router> {
    let vars = process_env();
    let options = ApiOptions::from_env(&vars).map_err(anyhow::Error::msg)?;
    let auth = AuthConfig::from_env(&vars, Path::new("/tmp")).map_err(anyhow::Error::msg)?;
    let metrics = Arc::new(Metrics::new());
    let checker = Arc::new(Checker::new(
        env.config.clone(),
        env.store.clone(),
        Arc::new(Status::default()),
        metrics.clone(),
    ));
    Ok(app(
        AppState::new(checker, metrics, auth, options).with_config_refresh(CONFIG_CHECK_EVERY)
    ))
}
