//! API authentication: a static API key (`WEB_API_KEY`, or `API_KEY`) sent as
//! `Authorization: Bearer <key>` or `X-API-Key: <key>`, compared in constant time; and, when
//! `ENABLE_JWT=true`, short-lived HS256 tokens obtained with the key.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use balance_alert_core::config::{EnvLookup, Secret};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::AppState;

/// Access tokens live one hour, refresh tokens a week.
pub const ACCESS_TTL_SECONDS: i64 = 3600;
pub const REFRESH_TTL_SECONDS: i64 = 7 * 86_400;

/// What the API accepts as credentials.
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// When None, the API is open (local use on loopback).
    pub api_key: Option<Secret>,
    /// HS256 secret when JWT is enabled.
    pub jwt_secret: Option<Secret>,
}

impl AuthConfig {
    /// From `WEB_API_KEY` (or `API_KEY`), `ENABLE_JWT` and `JWT_SECRET` (defaults to the key).
    pub fn from_env(env: &(impl EnvLookup + ?Sized)) -> Self {
        let api_key = env
            .get("WEB_API_KEY")
            .or_else(|| env.get("API_KEY"))
            .map(Secret::new);
        let jwt = env
            .get("ENABLE_JWT")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let jwt_secret = jwt
            .then(|| {
                env.get("JWT_SECRET")
                    .map(Secret::new)
                    .or_else(|| api_key.clone())
            })
            .flatten();
        AuthConfig {
            api_key,
            jwt_secret,
        }
    }

    fn key_matches(&self, presented: &str) -> bool {
        self.api_key
            .as_ref()
            .is_some_and(|k| bool::from(k.expose().as_bytes().ct_eq(presented.as_bytes())))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    typ: String,
}

/// A fresh access/refresh token pair.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// Issues a token pair signed with `secret`.
pub fn issue(secret: &Secret) -> Result<TokenPair, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let key = EncodingKey::from_secret(secret.expose().as_bytes());
    let token = |typ: &str, ttl: i64| {
        encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "api".into(),
                iat: now,
                exp: now + ttl,
                typ: typ.into(),
            },
            &key,
        )
        .map_err(|e| ApiError::Internal(format!("signing token: {e}")))
    };
    Ok(TokenPair {
        access_token: token("access", ACCESS_TTL_SECONDS)?,
        refresh_token: token("refresh", REFRESH_TTL_SECONDS)?,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECONDS,
    })
}

/// Verifies a token of the given type (`access` or `refresh`).
pub fn verify(secret: &Secret, token: &str, typ: &str) -> bool {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.expose().as_bytes()),
        &validation,
    )
    .is_ok_and(|data| data.claims.typ == typ)
}

/// Middleware: rejects `/api/*` requests without valid credentials when a key is configured.
pub async fn require_auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let auth = &state.auth;
    if auth.api_key.is_none() {
        return next.run(request).await;
    }
    let headers = request.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let api_key_header = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let ok = api_key_header.is_some_and(|k| auth.key_matches(k))
        || bearer.is_some_and(|b| {
            auth.key_matches(b)
                || auth
                    .jwt_secret
                    .as_ref()
                    .is_some_and(|s| verify(s, b, "access"))
        });
    if ok {
        next.run(request).await
    } else if bearer.is_none() && api_key_header.is_none() {
        ApiError::Unauthorized("authentication required: send the API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'".into()).into_response()
    } else {
        ApiError::Unauthorized("invalid API key or token".into()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_type_and_secret() {
        let secret = Secret::new("s3cret-s3cret-s3cret");
        let pair = issue(&secret).expect("issue");
        assert!(verify(&secret, &pair.access_token, "access"));
        assert!(!verify(&secret, &pair.access_token, "refresh"));
        assert!(verify(&secret, &pair.refresh_token, "refresh"));
        assert!(!verify(&Secret::new("other"), &pair.access_token, "access"));
        assert!(!verify(&secret, "garbage", "access"));
    }

    #[test]
    fn web_api_key_wins_over_api_key() {
        let env: std::collections::HashMap<String, String> =
            [("WEB_API_KEY", "web"), ("API_KEY", "generic")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let auth = AuthConfig::from_env(&env);
        assert!(auth.key_matches("web"));
        assert!(!auth.key_matches("generic"));
        assert!(auth.jwt_secret.is_none());
    }
}
