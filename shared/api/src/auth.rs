//! API authentication: an API key (`WEB_API_KEY`, or `API_KEY`; in the api function read from
//! Secrets Manager, see [`crate::key`]) sent as `Authorization: Bearer <key>` or
//! `X-API-Key: <key>`, compared as fixed-size digests in constant time; and, when
//! `ENABLE_JWT=true`, short-lived HS256 tokens that only the key can
//! mint.
//!
//! Token rules: the signing secret is independent of the key (`JWT_SECRET`, else a random one
//! generated once and kept in the data directory), so a token never allows an offline attack
//! on the key; every token carries a keyed fingerprint of the API key it was issued under, so
//! rotating the key ends every session; a refresh keeps the session's start, so a session ends
//! at most [`SESSION_MAX_SECONDS`] after the key was last presented.

use std::path::Path;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use balance_alert_core::config::{EnvLookup, Secret};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use balance_alert_core::model::wire::TokenPair;

use crate::error::ApiError;
pub use crate::key::ApiKey;
use crate::AppState;

/// Access tokens live one hour, refresh tokens a week.
pub const ACCESS_TTL_SECONDS: i64 = 3600;
pub const REFRESH_TTL_SECONDS: i64 = 7 * 86_400;
/// The longest a chain of refreshes can extend a session past the key's presentation.
pub const SESSION_MAX_SECONDS: i64 = 7 * 86_400;
/// File (in the data directory) holding the generated signing secret.
pub const JWT_SECRET_FILE: &str = "jwt_secret";

/// What the API accepts as credentials.
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// When None, the API is open (local use on loopback).
    pub api_key: Option<ApiKey>,
    /// HS256 secret when JWT is enabled (never derived from the key).
    pub jwt_secret: Option<Secret>,
}

/// How a request authenticated, for handlers that care (only the key mints tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// No key is configured: the API is open.
    Open,
    /// The API key itself.
    ApiKey,
    /// An access token.
    Token,
}

impl AuthConfig {
    /// From `WEB_API_KEY` (or `API_KEY`), `ENABLE_JWT` and `JWT_SECRET`. Without `JWT_SECRET`
    /// the signing secret is generated once and kept in `data_dir` (mode 0600).
    pub fn from_env(env: &(impl EnvLookup + ?Sized), data_dir: &Path) -> Result<Self, String> {
        Self::from_env_with(env, data_dir, None)
    }

    /// As [`AuthConfig::from_env`], with `stored` (a key read from a secret store) as the
    /// API key; setting `WEB_API_KEY` (or `API_KEY`) as well is an error.
    pub fn from_env_with(
        env: &(impl EnvLookup + ?Sized),
        data_dir: &Path,
        stored: Option<ApiKey>,
    ) -> Result<Self, String> {
        let fixed = env
            .get("WEB_API_KEY")
            .or_else(|| env.get("API_KEY"))
            .map(|k| ApiKey::from(Secret::new(k)));
        let api_key = match (fixed, stored) {
            (Some(_), Some(_)) => return Err(
                "WEB_API_KEY (or API_KEY) and API_KEY_SECRET_ARN are both set: keep the secret and unset the variable".into(),
            ),
            (fixed, stored) => fixed.or(stored),
        };
        let jwt = env
            .get("ENABLE_JWT")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let jwt_secret = match (jwt, &api_key) {
            (false, _) => None,
            (true, None) => {
                return Err(
                    "ENABLE_JWT=true needs WEB_API_KEY: tokens are obtained with the key".into(),
                )
            }
            (true, Some(_)) => Some(match env.get("JWT_SECRET") {
                Some(s) if s.len() < MIN_SECRET_BYTES => {
                    return Err(format!(
                        "JWT_SECRET is {} bytes: a signing secret needs at least {MIN_SECRET_BYTES} (a short one is guessed from one token), e.g. `openssl rand -hex 32`; or unset it to have one generated",
                        s.len()
                    ))
                }
                Some(s) => Secret::new(s),
                None => stored_secret(&data_dir.join(JWT_SECRET_FILE))?,
            }),
        };
        Ok(AuthConfig {
            api_key,
            jwt_secret,
        })
    }

    /// Refuses an API without a key, unless `ALLOW_OPEN_WITHOUT_KEY` says it is meant (as
    /// `serve --allow-open-without-key` does beyond loopback); `what` names the process.
    pub fn require_key(&self, env: &(impl EnvLookup + ?Sized), what: &str) -> Result<(), String> {
        if self.api_key.is_some() || open_without_key(env) {
            return Ok(());
        }
        Err(format!(
            "{what} has no API key, so balances and config edits would be open to anyone who reaches it: set API_KEY_SECRET_ARN (the template does) or WEB_API_KEY, or ALLOW_OPEN_WITHOUT_KEY=true if that is really meant"
        ))
    }

    async fn key_matches(&self, presented: &str) -> bool {
        match &self.api_key {
            Some(k) => k.matches(presented).await,
            None => false,
        }
    }

    /// A fingerprint of the current API key, keyed with the signing secret: tokens carry it
    /// and stop verifying when the key is rotated. Without the signing secret it reveals
    /// nothing about the key.
    fn key_fingerprint(&self, signing: &Secret) -> String {
        let mut h = Sha256::new();
        h.update(signing.expose().as_bytes());
        h.update([0u8]);
        let key = self.api_key.as_ref().map(ApiKey::current);
        h.update(key.as_ref().map_or("", |k| k.expose()).as_bytes());
        hex::encode(&h.finalize()[..16])
    }
}

/// `ALLOW_OPEN_WITHOUT_KEY` read as `serve`'s flag reads it: set and not a false word.
pub fn open_without_key(env: &(impl EnvLookup + ?Sized)) -> bool {
    env.get("ALLOW_OPEN_WITHOUT_KEY").is_some_and(|v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no" | "n" | "f" | "off"
        )
    })
}

/// The shortest signing secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Reads the signing secret kept at `path`, or generates and keeps a new random one. A kept
/// secret that others could read (group or world permissions) is not reused: a new one replaces
/// it (sessions sign in again), with a warning.
fn stored_secret(path: &Path) -> Result<Secret, String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let text = text.trim();
        if exposed(path) {
            tracing::warn!(
                path = %path.display(),
                "the kept JWT signing secret was readable by group or others: replaced with a new one (mode 0600); existing sessions must sign in again"
            );
        } else if text.len() >= MIN_SECRET_BYTES {
            return Ok(Secret::new(text));
        }
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let secret = hex::encode(bytes);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    write_private(path, &secret).map_err(|e| {
        format!(
            "cannot keep the generated JWT signing secret in {}: {e}; set JWT_SECRET instead",
            path.display()
        )
    })?;
    Ok(Secret::new(secret))
}

/// The file's permissions let its group or others read it.
fn exposed(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Writes a new private (0600) file: an existing one (or a link planted there) is removed first,
/// and the new one is created exclusively.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    typ: String,
    /// Fingerprint of the API key the session was opened with.
    kfp: String,
    /// When the key was presented (the session's start), kept across refreshes.
    auth_time: i64,
}

/// How far a token's `iat`/`auth_time` may be ahead of this clock (instances' clocks differ).
const CLOCK_SKEW_SECONDS: i64 = 30;

/// Issues a token pair for a session that started at `auth_time` (unix s).
pub fn issue(auth: &AuthConfig, auth_time: i64) -> Result<TokenPair, ApiError> {
    let secret = auth
        .jwt_secret
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("JWT is not enabled".into()))?;
    let now = chrono::Utc::now().timestamp();
    let key = EncodingKey::from_secret(secret.expose().as_bytes());
    let session_end = auth_time + SESSION_MAX_SECONDS;
    let token = |typ: &str, ttl: i64| {
        encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "api".into(),
                iat: now,
                exp: (now + ttl).min(session_end),
                typ: typ.into(),
                kfp: auth.key_fingerprint(secret),
                auth_time,
            },
            &key,
        )
        .map_err(|e| ApiError::Internal(format!("signing token: {e}")))
    };
    Ok(TokenPair {
        access_token: token("access", ACCESS_TTL_SECONDS)?,
        refresh_token: token("refresh", REFRESH_TTL_SECONDS)?,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TTL_SECONDS.min(session_end - now),
    })
}

/// Verifies a token of the given type (`access` or `refresh`) issued under the current API
/// key; returns its session start.
pub fn verify(auth: &AuthConfig, token: &str, typ: &str) -> Option<i64> {
    let secret = auth.jwt_secret.as_ref()?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let data = decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.expose().as_bytes()),
        &validation,
    )
    .ok()?;
    let c = data.claims;
    let now = chrono::Utc::now().timestamp();
    let fingerprint_ok = bool::from(
        c.kfp
            .as_bytes()
            .ct_eq(auth.key_fingerprint(secret).as_bytes()),
    );
    // A token from the future was not issued here (or by a clock to distrust): a forged
    // `auth_time` would otherwise stretch the session without end.
    let issued_in_past = c.iat <= now + CLOCK_SKEW_SECONDS
        && c.auth_time <= now + CLOCK_SKEW_SECONDS
        && c.auth_time <= c.iat;
    (c.typ == typ && fingerprint_ok && issued_in_past && now < c.auth_time + SESSION_MAX_SECONDS)
        .then_some(c.auth_time)
}

/// Middleware: rejects `/api/*` requests without valid credentials when a key is configured,
/// and tells handlers how the request authenticated.
pub async fn require_auth(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let auth = &state.auth;
    if auth.api_key.is_none() {
        request.extensions_mut().insert(AuthMethod::Open);
        return next.run(request).await;
    }
    let headers = request.headers();
    // The scheme is case-insensitive (RFC 7235): `Bearer`, `bearer`, `BEARER`.
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, credentials)| credentials.trim());
    let api_key_header = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let presented_key = match api_key_header {
        Some(k) => auth.key_matches(k).await,
        None => false,
    };
    // A bearer value is a key or a token: a token is tried first, so that a valid token
    // never costs a re-read of a stored key.
    let token_ok = bearer.is_some_and(|b| verify(auth, b, "access").is_some());
    let bearer_key = match bearer {
        Some(b) if !presented_key && !token_ok => auth.key_matches(b).await,
        _ => false,
    };
    let method = if presented_key || bearer_key {
        Some(AuthMethod::ApiKey)
    } else if token_ok {
        Some(AuthMethod::Token)
    } else {
        None
    };
    match method {
        Some(m) => {
            request.extensions_mut().insert(m);
            next.run(request).await
        }
        // A failed attempt spends the client's failure quota, never the quota of clients that
        // authenticate; past it, further failures wait (429), a correct key still passes.
        None => {
            if let Err(retry_after) = state.auth_failures.check(crate::http::client_ip(&request)) {
                return ApiError::TooManyRequests {
                    message: format!("too many failed authentications: retry in {retry_after} s"),
                    retry_after,
                }
                .into_response();
            }
            if bearer.is_none() && api_key_header.is_none() {
                ApiError::Unauthorized("authentication required: send the API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'".into()).into_response()
            } else {
                ApiError::Unauthorized("invalid API key or token".into()).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(key: &str) -> AuthConfig {
        AuthConfig {
            api_key: Some(Secret::new(key).into()),
            jwt_secret: Some(Secret::new("s3cret-s3cret-s3cret-s3cret-s3cret")),
        }
    }

    #[test]
    fn tokens_verify_only_with_their_type_and_secret() {
        let a = auth("key-1");
        let now = chrono::Utc::now().timestamp();
        let pair = issue(&a, now).expect("issue");
        assert_eq!(verify(&a, &pair.access_token, "access"), Some(now));
        assert!(verify(&a, &pair.access_token, "refresh").is_none());
        assert!(verify(&a, &pair.refresh_token, "refresh").is_some());
        let other_secret = AuthConfig {
            jwt_secret: Some(Secret::new("other-other-other-other-other-other")),
            ..a.clone()
        };
        assert!(verify(&other_secret, &pair.access_token, "access").is_none());
        assert!(verify(&a, "garbage", "access").is_none());
    }

    #[test]
    fn rotating_the_api_key_invalidates_every_token() {
        let before = auth("key-1");
        let pair = issue(&before, chrono::Utc::now().timestamp()).expect("issue");
        let after = AuthConfig {
            api_key: Some(Secret::new("key-2").into()),
            ..before.clone()
        };
        assert!(verify(&before, &pair.access_token, "access").is_some());
        assert!(verify(&after, &pair.access_token, "access").is_none());
        assert!(verify(&after, &pair.refresh_token, "refresh").is_none());
    }

    #[test]
    fn a_session_ends_a_week_after_the_key_was_presented() {
        let a = auth("key-1");
        let long_ago = chrono::Utc::now().timestamp() - SESSION_MAX_SECONDS - 10;
        // Even a freshly signed pair for an old session does not verify.
        let pair = issue(&a, long_ago).expect("issue");
        assert!(verify(&a, &pair.refresh_token, "refresh").is_none());
    }

    #[test]
    fn a_token_from_the_future_never_verifies() {
        // Someone holding the signing secret mints a session that "starts" in ten years: it
        // would never end. Tokens are issued here, now: iat and auth_time are never ahead.
        let a = auth("key-1");
        let secret = a.jwt_secret.clone().expect("secret");
        let now = chrono::Utc::now().timestamp();
        let mint = |iat: i64, auth_time: i64| {
            encode(
                &Header::new(Algorithm::HS256),
                &Claims {
                    sub: "api".into(),
                    iat,
                    exp: now + 600,
                    typ: "access".into(),
                    kfp: a.key_fingerprint(&secret),
                    auth_time,
                },
                &EncodingKey::from_secret(secret.expose().as_bytes()),
            )
            .expect("sign")
        };
        let ten_years = 10 * 365 * 86_400;
        assert_eq!(verify(&a, &mint(now, now - 60), "access"), Some(now - 60));
        assert!(verify(&a, &mint(now, now + ten_years), "access").is_none());
        assert!(verify(&a, &mint(now + ten_years, now), "access").is_none());
        assert!(
            verify(&a, &mint(now - 60, now), "access").is_none(),
            "a session cannot start after its token"
        );
    }

    #[test]
    fn a_short_jwt_secret_is_refused_naming_it() {
        let env: std::collections::HashMap<String, String> = [
            ("WEB_API_KEY", "key"),
            ("ENABLE_JWT", "true"),
            ("JWT_SECRET", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let dir = tempfile::tempdir().expect("dir");
        let Err(err) = AuthConfig::from_env(&env, dir.path()) else {
            panic!("a 1-byte JWT_SECRET must be refused");
        };
        assert!(
            err.starts_with("JWT_SECRET is 1 bytes") && err.contains("at least 32"),
            "{err}"
        );
        assert!(!err.contains("\"x\""), "the secret is not echoed: {err}");
        let mut long = env.clone();
        long.insert("JWT_SECRET".into(), "y".repeat(32));
        assert!(AuthConfig::from_env(&long, dir.path()).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_kept_signing_secret_others_could_read_is_replaced_not_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(JWT_SECRET_FILE);
        let leaked = "a".repeat(64);
        std::fs::write(&path, &leaked).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let secret = stored_secret(&path).expect("secret");
        assert_ne!(secret.expose(), leaked);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::read_to_string(&path).expect("read").trim(),
            secret.expose()
        );
        // A private one is kept.
        assert_eq!(
            stored_secret(&path).expect("again").expose(),
            secret.expose()
        );
    }

    #[tokio::test]
    async fn key_comparison_uses_digests_of_any_length() {
        let a = auth("web");
        assert!(a.key_matches("web").await);
        assert!(!a.key_matches("we").await);
        assert!(!a.key_matches("web-and-more").await);
        assert!(!a.key_matches("").await);
    }

    #[test]
    fn the_signing_secret_is_never_the_key_and_is_kept_once_generated() {
        let dir = tempfile::tempdir().expect("dir");
        let env: std::collections::HashMap<String, String> =
            [("WEB_API_KEY", "web"), ("ENABLE_JWT", "true")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let first = AuthConfig::from_env(&env, dir.path()).expect("auth");
        let secret = first.jwt_secret.expect("jwt on");
        assert_ne!(secret.expose(), "web");
        assert!(secret.expose().len() >= 32);
        let second = AuthConfig::from_env(&env, dir.path()).expect("auth");
        assert_eq!(
            second.jwt_secret.expect("jwt on").expose(),
            secret.expose(),
            "kept across restarts"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(JWT_SECRET_FILE))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[tokio::test]
    async fn web_api_key_wins_over_api_key() {
        let env: std::collections::HashMap<String, String> =
            [("WEB_API_KEY", "web"), ("API_KEY", "generic")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let auth = AuthConfig::from_env(&env, Path::new("/nonexistent")).expect("auth");
        assert!(auth.key_matches("web").await);
        assert!(!auth.key_matches("generic").await);
        assert!(auth.jwt_secret.is_none());
    }
}
