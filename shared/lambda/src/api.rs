//! The api function (API Gateway HTTP API v2, REST API v1, an ALB target, a function URL):
//! the same axum router as `serve`, on the table's store and config document; `/api/refresh`
//! checks in-process with the cooldown held in the table, config edits go to the table's
//! document. `/ready` means config loaded and store reachable: the checker function, not this
//! one, schedules the checks. A warm
//! function looks for a newer document on requests (nothing runs between invocations to
//! watch it).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use balance_alert_api::key::{ApiKey, StoredKey};
use balance_alert_api::{app, ApiOptions, AppState, AuthConfig, Metrics, Readiness};
use balance_alert_core::config::{process_env, EnvLookup};
use balance_alert_core::service::{Checker, Status};
use lambda_http::RequestExt;

use crate::secrets::SecretsManager;
use crate::Env;

/// How often requests look for a newer config document: a version read, at most once a
/// second, so a `config push` or another instance's edit shows within a second.
pub const CONFIG_CHECK_EVERY: Duration = Duration::from_secs(1);

/// What `lambda_http::run` serves: the router behind [`path_without_stage`].
pub type Handler =
    tower::util::MapRequest<axum::Router, fn(lambda_http::Request) -> lambda_http::Request>;

/// The router for `lambda_http::run`. The API key is read from Secrets Manager at run time
/// (`API_KEY_SECRET_ARN`, re-read on rotation), or is `WEB_API_KEY`; without either the
/// function refuses to start unless `ALLOW_OPEN_WITHOUT_KEY=true`. JWT secrets generated
/// without `JWT_SECRET` live in /tmp (per warm container).
pub async fn router(env: &Env) -> anyhow::Result<axum::Router> {
    router_with(env, &process_env()).await
}

/// [`router`] with its settings read from `vars`.
pub async fn router_with(
    env: &Env,
    vars: &(impl EnvLookup + ?Sized),
) -> anyhow::Result<axum::Router> {
    let options = ApiOptions::from_env(vars).map_err(anyhow::Error::msg)?;
    let stored = stored_key(vars).await?;
    let auth =
        AuthConfig::from_env_with(vars, Path::new("/tmp"), stored).map_err(anyhow::Error::msg)?;
    auth.require_key(vars, "the api function")
        .map_err(anyhow::Error::msg)?;
    options.check_with(&auth).map_err(anyhow::Error::msg)?;
    let metrics = Arc::new(Metrics::new());
    let checker = Arc::new(Checker::new(
        env.config.clone(),
        env.store.clone(),
        Arc::new(Status::default()),
        metrics.clone(),
    ));
    let state = AppState::new(checker, metrics, auth, options)
        .with_readiness(Readiness::Serving)
        .with_config_refresh(CONFIG_CHECK_EVERY);
    Ok(app(state))
}

/// [`router`] as the function serves it, whatever the event source.
pub async fn handler(env: &Env) -> anyhow::Result<Handler> {
    Ok(tower::ServiceExt::map_request(
        router(env).await?,
        path_without_stage as fn(_) -> _,
    ))
}

/// The key named by `API_KEY_SECRET_ARN`, read once now (a failure refuses to start).
async fn stored_key(vars: &(impl EnvLookup + ?Sized)) -> anyhow::Result<Option<ApiKey>> {
    let Some(arn) = vars
        .get("API_KEY_SECRET_ARN")
        .filter(|a| !a.trim().is_empty())
    else {
        return Ok(None);
    };
    let recheck = StoredKey::recheck_from_env(vars).map_err(anyhow::Error::msg)?;
    let source = Arc::new(SecretsManager::from_env().await.key(arn.trim()));
    let key = StoredKey::load(source, recheck)
        .await
        .map_err(anyhow::Error::msg)?;
    Ok(Some(ApiKey::Stored(Arc::new(key))))
}

/// The request with its path as the client addressed it, without the stage that
/// `lambda_http` puts in front of a REST API's (`/prod/api/credits` → `/api/credits`), so
/// every event source meets the routes `serve` has. The query string is kept.
pub fn path_without_stage(mut request: lambda_http::Request) -> lambda_http::Request {
    let raw = request.raw_http_path();
    if raw.is_empty() || raw == request.uri().path() {
        return request;
    }
    let path_and_query = match request.uri().query() {
        Some(q) => format!("{raw}?{q}"),
        None => raw.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}
