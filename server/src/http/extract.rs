//! Request parts read the way every handler needs them: path parameters,
//! query strings and bodies, each rejection a JSON [`ApiError`].

use super::error::ApiError;
use crate::store::Page;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

/// Path parameters (percent-decoded), or a 400 `invalid-path`.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(Params(t)),
            Err(e) => Err(ApiError::bad_request(
                "invalid-path",
                format!("the path {:?} cannot be read: {}", parts.uri.path(), e.body_text()),
                "percent-encode names as UTF-8; names are ASCII letters, digits, '.', '_' and '-'",
            )),
        }
    }
}

/// The query string as `T` (unknown parameters refused), or a 400
/// `invalid-query`.
pub fn query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    match axum::extract::Query::<T>::try_from_uri(uri) {
        Ok(axum::extract::Query(t)) => Ok(t),
        Err(e) => Err(ApiError::bad_request(
            "invalid-query",
            format!("the query string {:?} cannot be read: {}", uri.query().unwrap_or(""), e.body_text()),
            "see docs/protocol.md for the parameters this endpoint takes",
        )),
    }
}

/// `limit` and `cursor` of a list request.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// At most this many items (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Where to continue.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The store's page request: `limit` clamped to 1..=1000, the cursor
    /// checked by the store's rule.
    pub fn page(self) -> Result<Page, ApiError> {
        let page = Page { limit: self.limit.unwrap_or(100).clamp(1, 1000), cursor: self.cursor };
        page.check()?;
        Ok(page)
    }
}

/// A 413 `body-too-large`.
pub fn body_too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        format!("the request body is over the limit of {limit} bytes"),
        "send a smaller request, or raise the registry's --max-body",
    )
}

/// The declared `Content-Length`, if any (a malformed one is a 400).
pub fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    match headers.get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v.to_str().ok().and_then(|s| s.parse().ok()).map(Some).ok_or_else(|| {
            ApiError::bad_request("invalid-header", "Content-Length is not a number", "send a valid Content-Length")
        }),
    }
}

/// Reads a whole body of at most `limit` bytes (a 413 beyond, without
/// reading the rest).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: u64) -> Result<Vec<u8>, ApiError> {
    let declared = content_length(headers)?;
    if declared.is_some_and(|n| n > limit) {
        return Err(body_too_large(limit));
    }
    let mut buf = Vec::with_capacity(declared.unwrap_or(0).min(1 << 20) as usize);
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(
                "body-read",
                format!("the request body could not be read: {e}"),
                "send the request again",
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() as u64 + data.len() as u64 > limit {
                return Err(body_too_large(limit));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

/// Parses a JSON body as `T`, or a 400 `invalid-json` saying where.
pub fn json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], what: &str, hint: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("invalid-json", format!("the request body is not a valid {what}: {e}"), hint)
    })
}
