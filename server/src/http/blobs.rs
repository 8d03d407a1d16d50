//! `PUT`, `GET`, `HEAD /v1/dirs/{dir}/blobs/{digest}` and
//! `POST /v1/dirs/{dir}/blobs/missing`.

use super::error::ApiError;
use super::extract::{self, content_length, Params};
use super::{digest, etag, json, none_match, not_modified, App, IMMUTABLE};
use crate::store::{PutBlobError, Scope};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use strata::registry::{BlobDigest, RegistryError};

#[derive(Serialize)]
struct Stored<'a> {
    digest: &'a BlobDigest,
    size: u64,
}

fn blob_too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "blob-too-large",
        format!("the blob is over the limit of {limit} bytes"),
        "split the migration, or raise the registry's --max-blob-size",
    )
}

fn not_found(dir: &str, d: &BlobDigest) -> ApiError {
    ApiError::not_found(
        "blob-not-found",
        format!("directory {dir:?} has no blob {d}"),
        "upload it first (PUT this URL with the file's bytes), or check the digest and directory",
    )
}

/// Response headers of a blob.
fn blob_headers(r: &mut Response, d: &BlobDigest, size: u64) {
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(header::ETAG, etag(d));
    h.insert(header::CACHE_CONTROL, IMMUTABLE);
}

/// `304` for a blob: still immutable.
fn blob_not_modified(d: &BlobDigest) -> Response {
    let mut r = not_modified(d);
    r.headers_mut().insert(header::CACHE_CONTROL, IMMUTABLE);
    r
}

/// `PUT`: streams the body to storage, hashing it; visible only if it
/// matches the digest and is within the size limit.
pub async fn put_blob(
    State(app): State<Arc<App>>,
    Params((dir, d)): Params<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Push, Some(&dir)).await?;
    let d = digest(&d)?;
    let limit = app.config.limits.max_blob_size;
    if content_length(&headers)?.is_some_and(|n| n > limit) {
        return Err(blob_too_large(limit));
    }
    let stream = body.into_data_stream().map_err(|e| e.to_string()).boxed();
    match app.store.put_blob(&dir, &d, limit, stream).await {
        Ok((new, size)) => {
            if new {
                app.metrics.blobs_stored.fetch_add(1, Relaxed);
            }
            let status = if new { StatusCode::CREATED } else { StatusCode::OK };
            Ok(json(status, &Stored { digest: &d, size }))
        }
        Err(PutBlobError::DigestMismatch { actual }) => Err(ApiError::bad_request(
            "digest-mismatch",
            format!("the uploaded bytes hash to {actual}, not {d}; nothing was stored"),
            "upload the file's bytes unchanged, to the URL of their SHA-256",
        )),
        Err(PutBlobError::TooLarge { limit }) => Err(blob_too_large(limit)),
        Err(PutBlobError::Body(e)) => Err(ApiError::bad_request(
            "body-read",
            format!("the request body could not be read: {e}; nothing was stored"),
            "upload the blob again",
        )),
        Err(PutBlobError::Store(e)) => Err(e.into()),
    }
}

/// `GET`: the bytes, streamed, cacheable forever.
pub async fn get_blob(
    State(app): State<Arc<App>>,
    Params((dir, d)): Params<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Read, Some(&dir)).await?;
    let d = digest(&d)?;
    if none_match(&headers, &d) {
        return match app.store.blob_size(&dir, &d).await? {
            Some(_) => Ok(blob_not_modified(&d)),
            None => Err(not_found(&dir, &d)),
        };
    }
    let Some(blob) = app.store.get_blob(&dir, &d).await? else {
        return Err(not_found(&dir, &d));
    };
    let stream = blob.stream.map_err(|e| {
        tracing::error!(error = %e, "blob read failed mid-stream");
        std::io::Error::other(e.0)
    });
    let mut r = Body::from_stream(stream).into_response();
    blob_headers(&mut r, &d, blob.size);
    Ok(r)
}

/// `HEAD`: the headers of `GET`, without reading the bytes.
pub async fn head_blob(
    State(app): State<Arc<App>>,
    Params((dir, d)): Params<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Read, Some(&dir)).await?;
    let d = digest(&d)?;
    let Some(size) = app.store.blob_size(&dir, &d).await? else {
        return Err(not_found(&dir, &d));
    };
    if none_match(&headers, &d) {
        return Ok(blob_not_modified(&d));
    }
    let mut r = Response::new(Body::empty());
    blob_headers(&mut r, &d, size);
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MissingRequest {
    digests: Vec<String>,
}

#[derive(Serialize)]
struct MissingResponse {
    missing: Vec<BlobDigest>,
}

/// `POST …/blobs/missing`: which of these digests the directory lacks.
pub async fn missing(
    State(app): State<Arc<App>>,
    Params(dir): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Push, Some(&dir)).await?;
    let bytes = extract::read_body(&headers, body, app.config.max_body).await?;
    let req: MissingRequest = extract::json(&bytes, "missing-blobs request", "send {\"digests\": [\"sha256:…\", …]}")?;
    drop(bytes);
    let max = app.config.limits.max_files;
    if req.digests.len() > max {
        return Err(ApiError::from_registry(RegistryError::new(
            "too-many-files",
            format!("the request asks about {} digests, over the limit of {max}", req.digests.len()),
            None,
            "ask about at most --max-files digests at once (one version's files)",
        )));
    }
    let digests = req.digests.iter().map(|s| digest(s)).collect::<Result<Vec<_>, _>>()?;
    let missing = app.store.missing_blobs(&dir, &digests).await?;
    Ok(json(StatusCode::OK, &MissingResponse { missing }))
}
