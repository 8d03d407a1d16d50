//! `PUT`, `GET`, `HEAD /v1/dirs/{dir}/blobs/{digest}`,
//! `POST /v1/dirs/{dir}/blobs/missing` and `POST /v1/dirs/{dir}/blobs/fetch`.

use super::error::ApiError;
use super::extract::{self, content_length, Params};
use super::{digest, etag, json, none_match, not_modified, App, IMMUTABLE};
use crate::store::{PutBlobError, Scope, StoreError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt, TryStreamExt};
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
    let mut r = Body::from_stream(body_stream(blob.stream)).into_response();
    blob_headers(&mut r, &d, blob.size);
    Ok(r)
}

/// Blob bytes as a response body: a storage failure mid-stream is logged
/// and ends the response early (the client sees a truncated body).
fn body_stream(
    stream: impl Stream<Item = Result<Bytes, StoreError>> + Send + 'static,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    stream.map_err(|e| {
        tracing::error!(error = %e, "blob read failed mid-stream");
        std::io::Error::other(e.0)
    })
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

/// The body of `blobs/missing` and `blobs/fetch`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DigestsRequest {
    digests: Vec<String>,
}

/// Reads `{"digests": [...]}` (a `what`) within the body limit; the
/// digests unparsed, for the caller to count first.
async fn read_digests(app: &App, headers: &HeaderMap, body: Body, what: &str) -> Result<Vec<String>, ApiError> {
    let bytes = extract::read_body(headers, body, app.config.max_body).await?;
    let req: DigestsRequest = extract::json(&bytes, what, "send {\"digests\": [\"sha256:…\", …]}")?;
    Ok(req.digests)
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
    let digests = read_digests(&app, &headers, body, "missing-blobs request").await?;
    let max = app.config.limits.max_files;
    if digests.len() > max {
        return Err(ApiError::from_registry(RegistryError::new(
            "too-many-files",
            format!("the request asks about {} digests, over the limit of {max}", digests.len()),
            None,
            "ask about at most --max-files digests at once (one version's files)",
        )));
    }
    let digests = digests.iter().map(|s| digest(s)).collect::<Result<Vec<_>, _>>()?;
    let missing = app.store.missing_blobs(&dir, &digests).await?;
    Ok(json(StatusCode::OK, &MissingResponse { missing }))
}

/// The most digests one `blobs/fetch` request may name.
pub const MAX_FETCH: usize = 1000;

/// How many blobs a `blobs/fetch` answer opens ahead of the one it sends
/// (storage latency overlaps; each holds only an open stream).
const FETCH_AHEAD: usize = 4;

/// `POST …/blobs/fetch`: the bytes of these blobs, concatenated in the
/// order asked, without framing (the client knows the sizes from the
/// manifest). Every digest is checked before the `200`; the bytes are
/// streamed blob by blob, never held.
pub async fn fetch(
    State(app): State<Arc<App>>,
    Params(dir): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Read, Some(&dir)).await?;
    let digests = read_digests(&app, &headers, body, "blob fetch request").await?;
    if digests.len() > MAX_FETCH {
        return Err(ApiError::bad_request(
            "too-many-digests",
            format!("the request asks for {} blobs, over the limit of {MAX_FETCH}", digests.len()),
            "ask for at most 1000 blobs at once: split the digests into several requests",
        ));
    }
    let digests = digests.iter().map(|s| digest(s)).collect::<Result<Vec<_>, _>>()?;
    let sizes = app.store.blob_sizes(&dir, &digests).await?;
    let mut blobs = Vec::with_capacity(digests.len());
    let mut total: u64 = 0;
    for d in digests {
        let Some(&size) = sizes.get(d.as_str()) else {
            return Err(ApiError::not_found(
                "blob-not-found",
                format!("directory {dir:?} has no blob {d}; nothing was sent"),
                "ask only for the blobs of a version of this directory (its manifest lists them), \
                 or push the directory first",
            ));
        };
        total = total.saturating_add(size);
        blobs.push((d, size));
    }
    drop(sizes);
    let store = app.store.clone();
    let stream = stream::iter(blobs)
        .map(move |(d, size)| {
            let store = store.clone();
            async move { store.stream_blob(&d, size).await.map(|b| exactly(size, b.stream)) }
        })
        .buffered(FETCH_AHEAD)
        .try_flatten();
    let mut r = Body::from_stream(body_stream(stream)).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
    Ok(r)
}

/// Exactly `size` bytes of a blob's stream: the recorded size, which the
/// answer's framing (and `Content-Length`) counts on. A blob damaged in
/// storage to another size (logged when it is opened) is cut or padded
/// with zeros, so that the blobs after it stay in place and the client's
/// check names the damaged file.
fn exactly(
    size: u64,
    inner: BoxStream<'static, Result<Bytes, StoreError>>,
) -> BoxStream<'static, Result<Bytes, StoreError>> {
    const PAD: u64 = 64 * 1024;
    stream::unfold((inner, size), |(mut inner, left)| async move {
        if left == 0 {
            return None;
        }
        match inner.next().await {
            Some(Ok(mut b)) => {
                if b.len() as u64 > left {
                    b.truncate(left as usize);
                }
                let left = left - b.len() as u64;
                Some((Ok(b), (inner, left)))
            }
            Some(Err(e)) => Some((Err(e), (inner, 0))),
            None => {
                let n = left.min(PAD);
                Some((Ok(Bytes::from(vec![0u8; n as usize])), (inner, left - n)))
            }
        }
    })
    .boxed()
}
