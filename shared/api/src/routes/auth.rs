//! JWT endpoints (only when `ENABLE_JWT=true`): exchange the API key for a token pair, and a
//! refresh token for a new pair.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{issue, verify, TokenPair};
use crate::error::{ApiError, ApiJson};
use crate::AppState;

fn jwt_secret(state: &AppState) -> Result<&balance_alert_core::config::Secret, ApiError> {
    state.auth.jwt_secret.as_ref().ok_or_else(|| {
        ApiError::NotFound("JWT is not enabled: set ENABLE_JWT=true and WEB_API_KEY".into())
    })
}

/// A one-hour access token and a refresh token, for a caller holding the API key.
#[utoipa::path(post, path = "/api/auth/token", tag = "auth", security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = TokenPair), (status = 401, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn token(State(state): State<AppState>) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(issue(jwt_secret(&state)?)?))
}

/// Body of `POST /api/auth/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshToken {
    pub refresh_token: String,
}

/// A new token pair for a valid refresh token.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshToken,
    responses((status = 200, body = TokenPair), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshToken>,
) -> Result<Json<TokenPair>, ApiError> {
    let secret = jwt_secret(&state)?;
    if !verify(secret, &req.refresh_token, "refresh") {
        return Err(ApiError::Unauthorized(
            "refresh token is invalid or expired: request a new one at /api/auth/token".into(),
        ));
    }
    Ok(Json(issue(secret)?))
}
