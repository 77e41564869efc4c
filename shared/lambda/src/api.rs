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
use balance_alert_api::{app, ApiOptions, AppState, AuthConfig, Readiness};
use balance_alert_core::config::{process_env, EnvLookup, Secret};
use balance_alert_services::Services;
use lambda_http::RequestExt;

use crate::secrets::SecretsManager;
use crate::{Env, Warm};

/// How often requests look for a newer config document: a version read, at most once a
/// second, so a `config push` or another instance's edit shows within a second.
pub const CONFIG_CHECK_EVERY: Duration = Duration::from_secs(1);

/// What `lambda_http::run` serves: the router behind [`path_without_stage`].
pub type Handler =
    tower::util::MapRequest<axum::Router, fn(lambda_http::Request) -> lambda_http::Request>;

/// The router the function serves (see [`respond`]). The API key is read from Secrets
/// Manager at run time (`API_KEY_SECRET_ARN`, re-read on rotation), or is `WEB_API_KEY`;
/// without either the function refuses to start ([`check_settings`]) unless
/// `ALLOW_OPEN_WITHOUT_KEY=true`. JWT secrets generated
/// without `JWT_SECRET` live in /tmp (per warm container).
pub async fn router(env: &Env) -> anyhow::Result<axum::Router> {
    router_with(env, &process_env()).await
}

/// [`router`] with its settings read from `vars`.
pub async fn router_with(
    env: &Env,
    vars: &(impl EnvLookup + ?Sized),
) -> anyhow::Result<axum::Router> {
    let (options, auth) = settings(vars, stored_key(vars).await?)?;
    let services = Services::build(env.config.clone(), env.store.clone());
    let state = AppState::new(services.checker, services.metrics, auth, options)
        .with_readiness(Readiness::Serving)
        .with_config_refresh(CONFIG_CHECK_EVERY);
    Ok(app(state))
}

/// The router's options and authentication from `vars`, with `stored` as the API key,
/// checked as the router is built: a key is required (or `ALLOW_OPEN_WITHOUT_KEY=true`).
fn settings(
    vars: &(impl EnvLookup + ?Sized),
    stored: Option<ApiKey>,
) -> anyhow::Result<(ApiOptions, AuthConfig)> {
    let options = ApiOptions::from_env(vars).map_err(anyhow::Error::msg)?;
    let auth =
        AuthConfig::from_env_with(vars, Path::new("/tmp"), stored).map_err(anyhow::Error::msg)?;
    auth.require_key(vars, "the api function")
        .map_err(anyhow::Error::msg)?;
    options.check_with(&auth).map_err(anyhow::Error::msg)?;
    Ok((options, auth))
}

/// The settings [`router`] would refuse, found from the process environment without reading
/// anything over the network, so that a function that would refuse every request does not
/// start: `API_KEY_SECRET_ARN` counts as a key (its value is read on the first request).
pub fn check_settings() -> anyhow::Result<()> {
    check_settings_with(&process_env())
}

/// [`check_settings`] with the settings read from `vars`.
pub fn check_settings_with(vars: &(impl EnvLookup + ?Sized)) -> anyhow::Result<()> {
    let stored = match key_arn(vars) {
        Some(_) => {
            StoredKey::recheck_from_env(vars).map_err(anyhow::Error::msg)?;
            Some(ApiKey::from(Secret::new(
                "not read before the first request",
            )))
        }
        None => None,
    };
    settings(vars, stored).map(drop)
}

/// One request through the [`handler`] over [`Env::from_process`], built on the first
/// request and kept while the function is warm.
pub async fn respond(
    warm: &Warm<Handler>,
    request: lambda_http::Request,
) -> anyhow::Result<axum::response::Response> {
    let handler = warm
        .get(|| async { handler(&Env::from_process().await?).await })
        .await?;
    let Ok(response) = tower::ServiceExt::oneshot(handler.clone(), request).await;
    Ok(response)
}

/// [`router`] as the function serves it, whatever the event source.
pub async fn handler(env: &Env) -> anyhow::Result<Handler> {
    Ok(tower::ServiceExt::map_request(
        router(env).await?,
        path_without_stage as fn(_) -> _,
    ))
}

/// The key named by `API_KEY_SECRET_ARN`, read as the router is built (a failure fails the
/// first request, and the next one reads it again).
async fn stored_key(vars: &(impl EnvLookup + ?Sized)) -> anyhow::Result<Option<ApiKey>> {
    let Some(arn) = key_arn(vars) else {
        return Ok(None);
    };
    let recheck = StoredKey::recheck_from_env(vars).map_err(anyhow::Error::msg)?;
    let source = Arc::new(SecretsManager::from_env().key(arn.trim()));
    let key = StoredKey::load(source, recheck)
        .await
        .map_err(anyhow::Error::msg)?;
    Ok(Some(ApiKey::Stored(Arc::new(key))))
}

/// `API_KEY_SECRET_ARN`, when set.
fn key_arn(vars: &(impl EnvLookup + ?Sized)) -> Option<String> {
    vars.get("API_KEY_SECRET_ARN")
        .filter(|a| !a.trim().is_empty())
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
