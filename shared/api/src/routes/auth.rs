//! JWT endpoints (only when `ENABLE_JWT=true`): exchange the API key for a token pair, and a
//! refresh token for a new pair within the same session.

use axum::extract::State;
use axum::{Extension, Json};
use balance_alert_core::model::wire::*;

use crate::auth::{issue, verify, AuthMethod, TokenPair};
use crate::error::{ApiError, ApiJson};
use crate::AppState;

fn jwt_enabled(state: &AppState) -> Result<(), ApiError> {
    match state.auth.jwt_secret {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(
            "JWT is not enabled: set ENABLE_JWT=true and WEB_API_KEY".into(),
        )),
    }
}

/// A one-hour access token and a refresh token, for a caller presenting the API key itself
/// (a token cannot mint tokens).
#[utoipa::path(post, path = "/api/auth/token", tag = "auth", security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = TokenPair), (status = 401, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn token(
    State(state): State<AppState>,
    method: Option<Extension<AuthMethod>>,
) -> Result<Json<TokenPair>, ApiError> {
    jwt_enabled(&state)?;
    if method.map(|Extension(m)| m) != Some(AuthMethod::ApiKey) {
        return Err(ApiError::Forbidden(
            "tokens are issued only for the API key itself: send it as X-API-Key or Bearer, not a token".into(),
        ));
    }
    Ok(Json(issue(&state.auth, chrono::Utc::now().timestamp())?))
}

/// A new token pair for a valid refresh token; the session keeps its start, so it still ends
/// a week after the key was presented.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshToken,
    responses((status = 200, body = TokenPair), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshToken>,
) -> Result<Json<TokenPair>, ApiError> {
    jwt_enabled(&state)?;
    let Some(session_start) = verify(&state.auth, &req.refresh_token, "refresh") else {
        return Err(ApiError::Unauthorized(
            "refresh token is invalid, expired, or from before a key rotation: request a new one at /api/auth/token with the API key".into(),
        ));
    };
    Ok(Json(issue(&state.auth, session_start)?))
}
