//! One error type for every handler: `{"status":"error","message":…}` with a status code that
//! tells the client what to do. 5xx details go to the log, never to the client.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use balance_alert_core::check::RunError;
use balance_alert_core::config::edit::EditError;
use balance_alert_core::config::LookupError;
use balance_alert_core::model::wire::ErrorBody;
use balance_alert_core::store::StoreError;
use serde::de::DeserializeOwned;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or a value is out of range; the message says which.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing or wrong API key / token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated, but this credential may not do that (a token minting tokens), or
    /// the request's origin is not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 421: the request's Host is not one this server answers to (DNS-rebinding guard).
    #[error("{0}")]
    MisdirectedRequest(String),
    /// 404: the named project, subscription or route does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: the change conflicts with the current state (duplicate name, env-only config).
    #[error("{0}")]
    Conflict(String),
    /// 413: the request body is larger than the limit.
    #[error("request body too large: the limit is {0} bytes")]
    PayloadTooLarge(usize),
    /// 413: what the request would create is over a size limit (the reason says which).
    #[error("{0}")]
    TooLarge(String),
    /// 429: too many requests or a refresh within the cooldown; retry after the given seconds.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// 503: the service cannot answer now (e.g. the config failed to load).
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or a backend failure; logged with detail, reported without.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MisdirectedRequest(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) | ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "internal error; see the server log".to_owned()
            }
            other => other.to_string(),
        };
        let mut body = ErrorBody::new(message);
        if let ApiError::TooManyRequests { retry_after, .. } = &self {
            body = body.retry_after(*retry_after);
        }
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after, .. } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// What a client is told when the store cannot be reached (the detail is in the log).
pub const STORE_UNAVAILABLE: &str =
    "the store cannot be read now; retry later (see the server log)";

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_retryable() {
            // Unreachable or throttled: the service is unavailable, not broken.
            tracing::debug!(error = %e, "store unavailable");
            ApiError::Unavailable(STORE_UNAVAILABLE.into())
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl From<RunError> for ApiError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Lookup(e) => e.into(),
            RunError::CoolingDown(left) => ApiError::TooManyRequests {
                message: format!("refresh is cooling down: try again in {left} s"),
                retry_after: left,
            },
            RunError::Store(e) => e.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            LookupError::Ambiguous { .. } => ApiError::Conflict(e.to_string()),
        }
    }
}

impl From<EditError> for ApiError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::NotFound(m) => ApiError::NotFound(m),
            EditError::Conflict(m) => ApiError::Conflict(m),
            EditError::Invalid(m) => ApiError::BadRequest(m),
            EditError::NotFileBacked => ApiError::Conflict(e.to_string()),
            EditError::ReadOnly { .. } => ApiError::Conflict(e.to_string()),
            EditError::Io { .. } => ApiError::Internal(e.to_string()),
            EditError::TooLarge { .. } => ApiError::TooLarge(e.to_string()),
        }
    }
}

/// A JSON body extractor whose rejections are [`ApiError`]s with our error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "send the body as JSON with Content-Type: application/json".into(),
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge(crate::BODY_LIMIT_BYTES))
            }
            Err(e) => Err(ApiError::BadRequest(format!(
                "invalid JSON body: {}",
                e.body_text()
            ))),
        }
    }
}

/// A path-parameter extractor with our error shape.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::BadRequest(format!(
                "invalid path: {}",
                e.body_text()
            ))),
        }
    }
}

/// A query-string extractor with our error shape.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => Err(
                ApiError::BadRequest(format!("invalid query: {}", e.body_text())),
            ),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}
