//! The registry's HTTP API (`docs/protocol.md`): routes, auth, limits,
//! CORS, metrics and logs around [`crate::store::Store`].

pub mod auth;
mod blobs;
mod coalesce;
mod deployments;
pub mod error;
mod extract;
pub mod hook;
pub mod metrics;
mod service;
mod tags;
mod versions;

use crate::store::{Scope, Store, TagInfo};
use auth::{Caller, TokenCache};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::routing::{get, post, put};
use axum::Router;
use error::ApiError;
use metrics::Metrics;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use strata::registry::{BlobDigest, Limits};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The `Strata-Version` header: the version a tag points to.
pub const STRATA_VERSION: HeaderName = HeaderName::from_static("strata-version");

/// `Cache-Control` of immutable content (blobs, version manifests).
pub const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// What the server accepts and who may read.
#[derive(Clone, Debug)]
pub struct Config {
    /// The largest blob and the most files in a version (the core's
    /// manifest check).
    pub limits: Limits,
    /// The largest JSON request body (manifests, reports), bytes.
    pub max_body: u64,
    /// The most bytes a version's files may total (the server holds them
    /// while it verifies the version).
    pub max_version_size: u64,
    /// Requests without a token may read.
    pub anonymous_read: bool,
    /// Origins allowed by CORS (`*`: any); none: no CORS headers.
    pub cors_origins: Vec<String>,
    /// How many versions are verified at once (each holds up to
    /// `max_version_size` bytes).
    pub verify_concurrency: usize,
    /// The databases the hook (`/hook/v1`) may apply to.
    pub targets: crate::hook::Targets,
    /// The registry the hook fetches versions from and records
    /// deployments to (`--registry`); `None`: this server's storage.
    pub remote: Option<Arc<crate::remote::RemoteRegistry>>,
    /// The viewer's files, served outside the API (`--www`).
    pub www: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            max_body: 32 << 20,
            max_version_size: 256 << 20,
            anonymous_read: false,
            cors_origins: Vec::new(),
            verify_concurrency: 2,
            targets: crate::hook::Targets::default(),
            remote: None,
            www: None,
        }
    }
}

/// The shared state of every handler.
pub struct App {
    /// The storage.
    pub store: Store,
    /// The configuration.
    pub config: Config,
    /// Recent token lookups.
    pub tokens: TokenCache,
    /// The counters.
    pub metrics: Arc<Metrics>,
    /// Concurrent reads of a tag share storage queries.
    tag_reads: coalesce::Coalescer<(String, String), Result<Option<TagInfo>, String>>,
    /// Bounds the versions verified at once (memory).
    verify: tokio::sync::Semaphore,
    /// The hook's applies running in this process, by target.
    pub hook_runs: Arc<hook::Runs>,
}

impl App {
    /// The state around a store.
    pub fn new(store: Store, config: Config) -> Arc<App> {
        let permits = config.verify_concurrency.max(1);
        Arc::new(App {
            store,
            config,
            tokens: TokenCache::default(),
            metrics: Arc::default(),
            tag_reads: coalesce::Coalescer::default(),
            verify: tokio::sync::Semaphore::new(permits),
            hook_runs: Arc::default(),
        })
    }

    /// Authenticates and authorizes a request (see [`auth::authorize`]).
    pub async fn auth(&self, headers: &HeaderMap, scope: Scope, dir: Option<&str>) -> Result<Caller, ApiError> {
        auth::authorize(&self.tokens, &self.store, self.config.anonymous_read, headers, scope, dir).await
    }
}

/// Parses a digest from a path, or a 400 `invalid-digest`.
fn digest(s: &str) -> Result<BlobDigest, ApiError> {
    Ok(BlobDigest::parse(s)?)
}

/// The `ETag` value of a digest: `"sha256:…"`.
fn etag(d: &BlobDigest) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{d}\"")).expect("a digest is a valid header value")
}

/// `304 Not Modified` for a conditional GET of `d`, with its ETag.
fn not_modified(d: &BlobDigest) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut r = axum::http::StatusCode::NOT_MODIFIED.into_response();
    r.headers_mut().insert(header::ETAG, etag(d));
    r
}

/// Whether `If-None-Match` names `d` (or is `*`).
fn none_match(headers: &HeaderMap, d: &BlobDigest) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',').map(str::trim).any(|t| {
                let t = t.strip_prefix("W/").unwrap_or(t);
                t == "*" || t.strip_prefix('"').and_then(|t| t.strip_suffix('"')) == Some(d.as_str())
            })
        })
    })
}

/// The routes of `docs/protocol.md` with their layers.
pub fn router(app: Arc<App>) -> Router {
    let mut r = Router::new()
        .route("/healthz", get(service::healthz))
        .route("/metrics", get(service::metrics))
        .route("/v1/dirs", get(versions::list_dirs))
        .route("/v1/dirs/{dir}/blobs/{digest}", get(blobs::get_blob).head(blobs::head_blob).put(blobs::put_blob))
        .route("/v1/dirs/{dir}/blobs/missing", post(blobs::missing))
        .route("/v1/dirs/{dir}/blobs/fetch", post(blobs::fetch))
        .route("/v1/dirs/{dir}/versions", post(versions::create).get(versions::list))
        .route("/v1/dirs/{dir}/versions/{digest}", get(versions::get_one))
        .route("/v1/dirs/{dir}/tags", get(tags::list))
        .route("/v1/dirs/{dir}/tags/{tag}", put(tags::put).get(tags::get_one))
        .route("/v1/dirs/{dir}/tags/{tag}/history", get(tags::history))
        .route("/v1/dirs/{dir}/deployments", post(deployments::create))
        .route("/v1/deployments", get(deployments::list))
        .route("/v1/deployments/{id}", get(deployments::get_one))
        .route("/hook/v1/targets", get(hook::targets))
        .route("/hook/v1/targets/{target}/revisions", get(hook::revisions))
        .route("/hook/v1/targets/{target}/plan", post(hook::plan))
        .route("/hook/v1/targets/{target}/apply", post(hook::apply))
        .fallback(service::fallback)
        .method_not_allowed_fallback(service::method_not_allowed)
        .with_state(app.clone())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(service::panicked));
    if let Some(cors) = cors(&app.config.cors_origins) {
        r = r.layer(cors);
    }
    r.layer(axum::middleware::from_fn_with_state(app.metrics.clone(), metrics::track))
}

/// The CORS layer for the configured origins (`None` without any).
/// Preflights are answered here, before auth.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::HEAD, Method::PUT, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH, header::IF_NONE_MATCH])
            .expose_headers([header::ETAG, STRATA_VERSION, header::LOCATION])
            .max_age(Duration::from_secs(3600)),
    )
}

/// Serves the API on `listener` until `shutdown` completes, then lets the
/// requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(app)).with_graceful_shutdown(shutdown).await
}

/// A JSON response.
fn json<T: serde::Serialize>(status: axum::http::StatusCode, v: &T) -> axum::response::Response {
    use axum::response::IntoResponse;
    match serde_json::to_vec(v) {
        Ok(body) => {
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "response serialization failed");
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the registry failed to write its answer",
                "retry; if it persists, report it with the server's log",
            )
            .into_response()
        }
    }
}

/// A time as the protocol writes it (RFC 3339, UTC).
fn time(t: crate::store::Time) -> String {
    strata::report::rfc3339(t)
}

/// A 404 `dir-not-found`.
fn dir_not_found(dir: &str) -> ApiError {
    ApiError::not_found(
        "dir-not-found",
        format!("there is no directory {dir:?}"),
        "push to create it, or list the directories (GET /v1/dirs)",
    )
}
