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

/// The viewer's Content-Security-Policy: its own scripts only (and the
/// compilation of its wasm module), no inline script or style, requests to
/// this origin only, never framed. The page renders every view from escaped
/// HTML; this is the second wall should a string ever get through.
const VIEWER_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Paths that are the API's: never answered with the viewer's files.
const API_PREFIXES: [&str; 4] = ["/v1/", "/hook/", "/healthz", "/metrics"];

/// The viewer's files (`--www DIR`) for a `GET` or `HEAD` outside the API:
/// the file at the path, else `index.html` for a page load (a request that
/// accepts `text/html`: the viewer routes by URL, so a reload of `/d/app`
/// must load the page), with [`VIEWER_CSP`] and `nosniff`. A missing
/// script, stylesheet or module is a 404, not the page in its place.
/// Paths never leave `DIR`.
/// Everything else, and every unknown API path, is a JSON 404.
pub async fn fallback(State(app): State<Arc<App>>, req: axum::extract::Request) -> Response {
    use tower::ServiceExt;
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let path = uri.path();
    let viewer = app.config.www.as_ref().filter(|_| {
        (method == Method::GET || method == Method::HEAD) && !API_PREFIXES.iter().any(|p| path.starts_with(p))
    });
    let Some(dir) = viewer else { return not_found(method, uri).await.into_response() };
    let page_load =
        req.headers().get_all(header::ACCEPT).iter().any(|v| v.to_str().is_ok_and(|v| v.contains("text/html")));
    let files = tower_http::services::ServeDir::new(dir).append_index_html_on_directories(true);
    let served = if page_load {
        files.fallback(tower_http::services::ServeFile::new(dir.join("index.html"))).oneshot(req).await
    } else {
        files.oneshot(req).await
    };
    match served {
        Ok(mut r) => {
            let h = r.headers_mut();
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(VIEWER_CSP));
            // The page and its loader change with each build; the browser
            // revalidates them (ServeDir answers If-Modified-Since).
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r.map(axum::body::Body::new)
        }
        Err(e) => match e {},
    }
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
