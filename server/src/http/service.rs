//! `/healthz`, `/metrics`, and the answers for unknown routes, wrong
//! methods and handler panics.

use super::error::ApiError;
use super::App;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::sync::Arc;

/// `GET /healthz`: `ok` once storage answers.
pub async fn healthz(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    app.store.ping().await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], "ok\n").into_response())
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))],
        app.metrics.render(),
    )
        .into_response()
}

/// Any path the API does not have: 404 `not-found`.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(
        "not-found",
        format!("there is no endpoint {method} {}", uri.path()),
        "see docs/protocol.md for the registry's endpoints (all under /v1)",
    )
}

/// A known path with another method: 405 `method-not-allowed`.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{} does not take {method}", uri.path()),
        "the Allow header lists the methods it takes; see docs/protocol.md",
    )
}

/// A handler panicked (a bug): 500 `internal`, logged.
pub fn panicked(err: Box<dyn Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the registry failed on this request (a bug, logged on the server)",
        "retry; if it persists, report it with the server's log",
    )
    .into_response()
}
