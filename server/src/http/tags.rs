//! `PUT`/`GET /v1/dirs/{dir}/tags/{tag}`, its history, and the tag list.

use super::error::ApiError;
use super::extract::{self, PageQuery, Params};
use super::versions::{manifest_response, version_not_found, List};
use super::{dir_not_found, etag, json, none_match, not_modified, time, App, STRATA_VERSION};
use crate::store::{Scope, SetTagError, TagCondition};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use strata::registry::{check_name, BlobDigest, NameKind};

pub(super) fn tag_not_found(dir: &str, tag: &str) -> ApiError {
    ApiError::not_found(
        "tag-not-found",
        format!("directory {dir:?} has no tag {tag:?}"),
        &format!("list its tags (GET /v1/dirs/{dir}/tags), or push and tag a version"),
    )
}

fn bad_precondition(message: String) -> ApiError {
    ApiError::bad_request(
        "invalid-precondition",
        message,
        "send `If-Match: \"sha256:…\"` (move only from that version) or `If-None-Match: *` (create only), or neither",
    )
}

/// The condition the request's headers ask for.
fn condition(headers: &HeaderMap) -> Result<TagCondition, ApiError> {
    let one = |name: header::HeaderName| -> Result<Option<String>, ApiError> {
        let mut values = headers.get_all(&name).iter();
        let Some(v) = values.next() else { return Ok(None) };
        let s = v.to_str().map_err(|_| bad_precondition(format!("{name} is not ASCII text")))?.trim();
        if values.next().is_some() || s.contains(',') {
            return Err(bad_precondition(format!("{name} names more than one version")));
        }
        Ok(Some(s.to_string()))
    };
    match (one(header::IF_MATCH)?, one(header::IF_NONE_MATCH)?) {
        (Some(_), Some(_)) => Err(bad_precondition("the request has both If-Match and If-None-Match".into())),
        (None, None) => Ok(TagCondition::Any),
        (None, Some(s)) if s == "*" => Ok(TagCondition::Absent),
        (None, Some(s)) => Err(bad_precondition(format!("If-None-Match is {s:?}; only * is understood here"))),
        (Some(s), None) if s == "*" => {
            Err(bad_precondition("If-Match: * is not supported; name the version the tag points to".into()))
        }
        (Some(s), None) => {
            let t = s.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(&s);
            BlobDigest::parse(t)
                .map(TagCondition::At)
                .map_err(|_| bad_precondition(format!("If-Match is {s:?}, not a quoted version digest")))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutTag {
    version: String,
}

#[derive(Serialize)]
struct Moved<'a> {
    name: &'a str,
    version: &'a BlobDigest,
    previous: Option<BlobDigest>,
}

/// `PUT …/tags/{tag}`: moves the tag, compare-and-swap.
pub async fn put(
    State(app): State<Arc<App>>,
    Params((dir, tag)): Params<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = app.auth(&headers, Scope::Push, Some(&dir)).await?;
    check_name(NameKind::Tag, &tag)?;
    let cond = condition(&headers)?;
    let bytes = extract::read_body(&headers, body, app.config.max_body.min(1 << 16)).await?;
    let req: PutTag = extract::json(&bytes, "tag request", "send {\"version\": \"sha256:…\"}")?;
    let version = BlobDigest::parse(&req.version)?;
    match app.store.set_tag(&dir, &tag, &version, &cond, caller.id()).await {
        Ok(previous) => {
            app.metrics.tag_moves.fetch_add(1, Relaxed);
            tracing::info!(dir = %dir, tag = %tag, version = %version, by = caller.id(), "tag moved");
            let mut r = json(StatusCode::OK, &Moved { name: &tag, version: &version, previous });
            r.headers_mut().insert(header::ETAG, etag(&version));
            Ok(r)
        }
        Err(SetTagError::Conflict { current }) => {
            let message = match (&cond, &current) {
                (_, None) => format!("tag {tag:?} does not exist"),
                (TagCondition::Absent, Some(c)) => format!("tag {tag:?} exists already (at {c})"),
                (_, Some(c)) => format!("tag {tag:?} points to {c} now"),
            };
            Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                message,
                "someone moved the tag meanwhile: read it again, decide, and retry with If-Match set to `current`",
            )
            .with_current(current))
        }
        Err(SetTagError::NoVersion) => Err(version_not_found(&dir, &version)),
        Err(SetTagError::Store(e)) => Err(e.into()),
    }
}

/// `GET …/tags/{tag}`: the manifest of the version it points to.
pub async fn get_one(
    State(app): State<Arc<App>>,
    Params((dir, tag)): Params<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Read, Some(&dir)).await?;
    check_name(NameKind::Tag, &tag)?;
    let (store, key) = (app.store.clone(), (dir.clone(), tag.clone()));
    let (d, n) = key.clone();
    let found = app.tag_reads.read(key, move || async move { store.tag(&d, &n).await.map_err(|e| e.0) }).await;
    let Some(t) = found.map_err(crate::store::StoreError)? else {
        return Err(tag_not_found(&dir, &tag));
    };
    let mut r = if none_match(&headers, &t.version) {
        not_modified(&t.version)
    } else {
        let Some(body) = app.store.version_json(&dir, &t.version).await? else {
            return Err(
                crate::store::StoreError(format!("tag {dir}/{tag} points to a missing version {}", t.version)).into()
            );
        };
        manifest_response(&t.version, body)
    };
    let h = r.headers_mut();
    h.insert(STRATA_VERSION, HeaderValue::from_str(t.version.as_str()).expect("a digest is a header value"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MoveItem<'a> {
    version: &'a BlobDigest,
    previous: &'a Option<BlobDigest>,
    at: String,
    by: &'a str,
    by_name: &'a Option<String>,
}

/// `GET …/tags/{tag}/history`: newest first.
pub async fn history(
    State(app): State<Arc<App>>,
    Params((dir, tag)): Params<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Read, Some(&dir)).await?;
    check_name(NameKind::Tag, &tag)?;
    let q: PageQuery = extract::query(&uri)?;
    let first = q.cursor.is_none();
    let page = app.store.tag_history(&dir, &tag, &q.page()?).await?;
    if first && page.items.is_empty() {
        return Err(tag_not_found(&dir, &tag));
    }
    let items = page
        .items
        .iter()
        .map(|m| MoveItem {
            version: &m.version,
            previous: &m.previous,
            at: time(m.at),
            by: &m.by,
            by_name: &m.by_name,
        })
        .collect();
    Ok(json(StatusCode::OK, &List { items, next: page.next }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TagItem<'a> {
    name: &'a str,
    version: &'a BlobDigest,
    updated: String,
    updated_by: &'a str,
    updated_by_name: &'a Option<String>,
}

/// `GET /v1/dirs/{dir}/tags`: by name.
pub async fn list(
    State(app): State<Arc<App>>,
    Params(dir): Params<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.auth(&headers, Scope::Read, Some(&dir)).await?;
    let tags = app.store.tags(&dir).await?;
    if tags.is_empty() && !app.store.dir_exists(&dir).await? {
        return Err(dir_not_found(&dir));
    }
    let items = tags
        .iter()
        .map(|t| TagItem {
            name: &t.name,
            version: &t.version,
            updated: time(t.updated),
            updated_by: &t.updated_by,
            updated_by_name: &t.updated_by_name,
        })
        .collect();
    Ok(json(StatusCode::OK, &List { items, next: None }))
}
