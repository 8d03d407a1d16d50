//! `POST`/`GET /v1/dirs/{dir}/versions`, `GET …/versions/{digest}` and
//! `GET /v1/dirs`.

use super::error::ApiError;
use super::extract::{self, PageQuery, Params};
use super::{digest, dir_not_found, etag, json, none_match, not_modified, time, App, IMMUTABLE};
use crate::store::{Scope, VersionInfo};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use strata::registry::{BlobDigest, Manifest, RegistryError};

/// Storage requests in flight at once while checking a version's blobs.
const CONCURRENCY: usize = 16;

#[derive(Serialize)]
struct Created<'a> {
    digest: &'a BlobDigest,
    files: usize,
    size: u64,
}

/// The manifest bytes of an immutable version, with its headers.
pub(super) fn manifest_response(d: &BlobDigest, json: Bytes) -> Response {
    let mut r = json.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::ETAG, etag(d));
    r
}

/// Reads a stored version's blobs (a bounded number of versions at once,
/// [`CONCURRENCY`] reads each) and builds its directory with the core's
/// `Manifest::assemble`, which checks every byte and the `atlas.sum`. Each
/// blob's bytes move into the directory on their last use, so no blob is
/// held twice. The outer error is the server's (storage, shutting down);
/// the inner one what verification found.
pub(super) async fn assemble_stored(
    app: &App,
    manifest: &Manifest,
    dialect: strata::lex::Dialect,
) -> Result<Result<strata::dir::Directory, RegistryError>, ApiError> {
    let _permit = app.verify.acquire().await.map_err(|_| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting-down", "the server is stopping", "retry")
    })?;
    let mut uses: HashMap<&BlobDigest, usize> = HashMap::new();
    let mut order: Vec<BlobDigest> = Vec::new();
    for f in &manifest.files {
        let n = uses.entry(&f.digest).or_insert(0);
        if *n == 0 {
            order.push(f.digest.clone());
        }
        *n += 1;
    }
    let store = app.store.clone();
    let read: Vec<Option<Vec<u8>>> = futures_util::stream::iter(order.clone())
        .map(move |d| {
            let store = store.clone();
            async move { store.read_blob(&d).await }
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    let mut blobs: HashMap<BlobDigest, (usize, Option<Vec<u8>>)> = order
        .into_iter()
        .zip(read)
        .map(|(d, b)| {
            let n = uses[&d];
            (d, (n, b))
        })
        .collect();
    Ok(manifest.assemble(&app.config.limits, dialect, |d| {
        let (left, bytes) = blobs.get_mut(d)?;
        *left -= 1;
        if *left == 0 {
            bytes.take()
        } else {
            bytes.clone()
        }
    }))
}

/// `POST /v1/dirs/{dir}/versions`: checks the manifest (the core's rules),
/// that every blob was uploaded to the directory with its size, reads the
/// blobs and verifies them and the `atlas.sum` (the core's
/// `Manifest::assemble`), then stores the version.
pub async fn create(
    State(app): State<Arc<App>>,
    Params(dir): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = app.auth(&headers, Scope::Push, Some(&dir)).await?;
    let bytes = extract::read_body(&headers, body, app.config.max_body).await?;
    let manifest: Manifest = extract::json(
        &bytes,
        "manifest",
        "send {\"files\": [{\"name\": …, \"digest\": \"sha256:…\", \"size\": …}], \"sum\": \"…\"} (docs/protocol.md)",
    )?;
    drop(bytes);
    let limits = app.config.limits;
    manifest.check(&limits)?;
    let size = manifest.files.iter().fold(0u64, |a, f| a.saturating_add(f.size));
    let max = app.config.max_version_size;
    if size > max {
        return Err(ApiError::from_registry(RegistryError::new(
            "version-too-large",
            format!("the version's files total {size} bytes, over the limit of {max} bytes"),
            None,
            "split the directory, or raise the registry's --max-version-size",
        )));
    }
    let d = manifest.digest();
    let answer = |status| json(status, &Created { digest: &d, files: manifest.files.len(), size });
    if app.store.version_json(&dir, &d).await?.is_some() {
        return Ok(answer(StatusCode::OK));
    }

    // Each distinct blob: linked to the directory, with the size the
    // manifest says.
    let mut uses: HashMap<&BlobDigest, (&str, u64)> = HashMap::new();
    let mut order = Vec::new();
    for f in &manifest.files {
        let e = uses.entry(&f.digest).or_insert_with(|| {
            order.push(&f.digest);
            (f.name.as_str(), f.size)
        });
        if e.1 != f.size {
            return Err(size_mismatch(&f.name, &f.digest, f.size, e.1));
        }
    }
    let owned: Vec<BlobDigest> = order.iter().map(|d| (*d).clone()).collect();
    let (store, dir_name) = (app.store.clone(), dir.clone());
    let sizes: Vec<Option<u64>> = futures_util::stream::iter(owned)
        .map(move |d| {
            let (store, dir) = (store.clone(), dir_name.clone());
            async move { store.blob_size(&dir, &d).await }
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    for (d, actual) in order.iter().zip(sizes) {
        let (file, size) = uses[d];
        match actual {
            None => {
                return Err(ApiError::bad_request(
                    "missing-blob",
                    format!("blob {d} was not uploaded to directory {dir:?}"),
                    &format!(
                        "upload the file's bytes (PUT /v1/dirs/{dir}/blobs/{d}) before the manifest; \
                         POST /v1/dirs/{dir}/blobs/missing lists what is missing"
                    ),
                )
                .with_file(file))
            }
            Some(actual) if actual != size => return Err(size_mismatch(file, d, size, actual)),
            Some(_) => {}
        }
    }

    // Verify the bytes and the sum.
    drop(assemble_stored(&app, &manifest, strata::lex::Dialect::Generic).await?.map_err(ApiError::from_registry)?);

    let created = app.store.create_version(&dir, &d, &manifest, caller.id()).await?;
    if created {
        app.metrics.versions_created.fetch_add(1, Relaxed);
        tracing::info!(dir = %dir, version = %d, by = caller.id(), files = manifest.files.len(), "version created");
    }
    let mut r = answer(if created { StatusCode::CREATED } else { StatusCode::OK });
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/dirs/{dir}/versions/{d}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

fn size_mismatch(file: &str, d: &BlobDigest, said: u64, actual: u64) -> ApiError {
    ApiError::bad_request(
        "size-mismatch",
        format!("the manifest gives {file} {said} bytes, but blob {d} has {actual} bytes"),
        "give each file the size of its bytes (strata push does)",
    )
    .with_file(file)
}

pub(super) fn version_not_found(dir: &str, d: &BlobDigest) -> ApiError {
    ApiError::not_found(
        "version-not-found",
        format!("directory {dir:?} has no version {d}"),
        &format!("list the versions (GET /v1/dirs/{dir}/versions) or push this one"),
    )
}

/// `GET …/versions/{digest}`: the manifest, cacheable forever.
pub async fn get_one(
    State(app): State<Arc<App>>,
    Params((dir, d)): Params<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Read, Some(&dir)).await?;
    let d = digest(&d)?;
    let Some(body) = app.store.version_json(&dir, &d).await? else {
        return Err(version_not_found(&dir, &d));
    };
    let mut r = if none_match(&headers, &d) { not_modified(&d) } else { manifest_response(&d, body) };
    r.headers_mut().insert(header::CACHE_CONTROL, IMMUTABLE);
    Ok(r)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionItem<'a> {
    digest: &'a BlobDigest,
    files: u64,
    size: u64,
    created: String,
    created_by: &'a str,
    created_by_name: &'a Option<String>,
}

impl<'a> From<&'a VersionInfo> for VersionItem<'a> {
    fn from(v: &'a VersionInfo) -> Self {
        VersionItem {
            digest: &v.digest,
            files: v.files,
            size: v.size,
            created: time(v.created),
            created_by: &v.created_by,
            created_by_name: &v.created_by_name,
        }
    }
}

/// A page of a list.
#[derive(Serialize)]
pub(super) struct List<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /v1/dirs/{dir}/versions`: newest first.
pub async fn list(
    State(app): State<Arc<App>>,
    Params(dir): Params<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Read, Some(&dir)).await?;
    let q: PageQuery = extract::query(&uri)?;
    let first = q.cursor.is_none();
    let page = app.store.versions(&dir, &q.page()?).await?;
    if first && page.items.is_empty() && !app.store.dir_exists(&dir).await? {
        return Err(dir_not_found(&dir));
    }
    Ok(json(StatusCode::OK, &List { items: page.items.iter().map(VersionItem::from).collect(), next: page.next }))
}

#[derive(Serialize)]
struct DirItem<'a> {
    name: &'a str,
    versions: u64,
    tags: u64,
    updated: String,
}

/// `GET /v1/dirs`: by name, only those the token may read.
pub async fn list_dirs(State(app): State<Arc<App>>, headers: HeaderMap, uri: Uri) -> Result<Response, ApiError> {
    let caller = app.auth(&headers, Scope::Read, None).await?;
    let q: PageQuery = extract::query(&uri)?;
    let page = app.store.dirs(caller.dirs(), &q.page()?).await?;
    let items = page
        .items
        .iter()
        .map(|d| DirItem { name: &d.name, versions: d.versions, tags: d.tags, updated: time(d.updated) })
        .collect();
    Ok(json(StatusCode::OK, &List { items, next: page.next }))
}
