//! The JSON error every rejection answers: `{code, message, file?, hint}`
//! (and `current` for a failed tag precondition).

use crate::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use strata::registry::{BlobDigest, RegistryError};

/// An error answer: a status and the core's [`RegistryError`] shape
/// (boxed: handlers pass it around in `Result`s).
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

/// What an [`ApiError`] holds.
#[derive(Debug)]
pub struct Inner {
    /// The HTTP status.
    pub status: StatusCode,
    /// What happened, where and what to do.
    pub error: RegistryError,
    /// For `precondition-failed`: where the tag points now (`Some(None)`:
    /// it does not exist).
    pub current: Option<Option<BlobDigest>>,
}

impl ApiError {
    /// An error with its status, code, message and hint.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>, hint: &str) -> ApiError {
        ApiError(Box::new(Inner { status, error: RegistryError::new(code, message.into(), None, hint), current: None }))
    }

    /// A 400 `code`.
    pub fn bad_request(code: &str, message: impl Into<String>, hint: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message, hint)
    }

    /// A 404 `code`.
    pub fn not_found(code: &str, message: impl Into<String>, hint: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message, hint)
    }

    /// Names the file concerned.
    pub fn with_file(mut self, file: &str) -> ApiError {
        self.0.error.file = Some(file.to_string());
        self
    }

    /// For `precondition-failed`: where the tag points now.
    pub fn with_current(mut self, current: Option<BlobDigest>) -> ApiError {
        self.0.current = Some(current);
        self
    }

    /// The status and error.
    pub fn inner(&self) -> &Inner {
        &self.0
    }

    /// A core error about the client's input: 413 for the limits, 400
    /// otherwise.
    pub fn from_registry(error: RegistryError) -> ApiError {
        let status = match error.code.as_str() {
            "too-many-files" | "blob-too-large" | "body-too-large" | "version-too-large" => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError(Box::new(Inner { status, error, current: None }))
    }

    /// The storage failed: a 503 `storage` (the details go to the log,
    /// not to the client).
    pub fn storage(e: StoreError) -> ApiError {
        tracing::error!(error = %e, "storage failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            "the registry's storage failed to answer",
            "retry later; if it persists, the registry's operator will find the cause in its log",
        )
    }

    /// A 401: no token, or not a live one.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            message,
            "send `Authorization: Bearer <token>` with a token from `strata-server token create`",
        )
    }

    /// A 403: a live token that may not do this.
    pub fn forbidden(message: impl Into<String>, hint: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message, hint)
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> ApiError {
        ApiError::from_registry(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::storage(e)
    }
}

#[derive(serde::Serialize)]
struct Body<'a> {
    #[serde(flatten)]
    error: &'a RegistryError,
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<&'a Option<BlobDigest>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Inner { status, error, current } = *self.0;
        let body = serde_json::to_vec(&Body { error: &error, current: current.as_ref() })
            .unwrap_or_else(|_| b"{\"code\":\"internal\"}".to_vec());
        let mut r =
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"strata\""));
        }
        if let Some(Some(current)) = &current {
            if let Ok(v) = HeaderValue::from_str(&format!("\"{current}\"")) {
                r.headers_mut().insert(header::ETAG, v);
            }
        }
        r
    }
}
