//! `POST /v1/dirs/{dir}/deployments`, `GET /v1/deployments` and
//! `GET /v1/deployments/{id}`.

use super::error::ApiError;
use super::extract::{self, Params};
use super::versions::{version_not_found, List};
use super::{dir_not_found, json, time, App};
use crate::store::{DeploymentFilter, DeploymentInfo, NewDeployment, Page, Scope};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use strata::registry::{check_name, BlobDigest, DeploymentStatus, DeploymentSummary, NameKind};
use strata::report::Report;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Posted<'a> {
    target: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(borrow)]
    report: &'a RawValue,
}

#[derive(Deserialize)]
struct Format {
    format: String,
}

#[derive(Serialize)]
struct Recorded<'a> {
    id: &'a str,
    status: DeploymentStatus,
}

const REPORT_HINT: &str =
    "post a strata.report/v1 document, as `strata plan --json` or the deployment hook writes it (docs/plan.md)";

/// `POST /v1/dirs/{dir}/deployments`: records a report.
pub async fn create(
    State(app): State<Arc<App>>,
    Params(dir): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = app.auth(&headers, Scope::Report, Some(&dir)).await?;
    let bytes = extract::read_body(&headers, body, app.config.max_body).await?;
    let posted: Posted = extract::json(
        &bytes,
        "deployment",
        "send {\"target\": \"prod\", \"version\": \"sha256:…\" (optional), \"report\": {…}}",
    )?;
    check_name(NameKind::Target, &posted.target)?;
    let version = posted.version.as_deref().map(BlobDigest::parse).transpose()?;
    let format: Format = serde_json::from_str(posted.report.get()).map_err(|e| {
        ApiError::bad_request("invalid-report", format!("the report is not a report document: {e}"), REPORT_HINT)
    })?;
    strata::report::check_format(&format.format).map_err(|e| ApiError::bad_request(e.code, e.message, &e.hint))?;
    let report: Report = serde_json::from_str(posted.report.get()).map_err(|e| {
        ApiError::bad_request(
            "invalid-report",
            format!("the report is not a valid {}: {e}", format.format),
            REPORT_HINT,
        )
    })?;
    let summary = DeploymentSummary::of(&report)?;
    for (what, said, posted_as) in [("directory", &report.directory, &dir), ("target", &report.target, &posted.target)]
    {
        if let Some(said) = said {
            if said != posted_as {
                return Err(ApiError::bad_request(
                    "report-mismatch",
                    format!("the report is about {what} {said:?}, but was posted for {what} {posted_as:?}"),
                    "post the report for the directory and target it describes",
                ));
            }
        }
    }
    drop(report);
    match &version {
        Some(v) => {
            if app.store.version_json(&dir, v).await?.is_none() {
                return Err(version_not_found(&dir, v));
            }
        }
        None => {
            if !app.store.dir_exists(&dir).await? {
                return Err(dir_not_found(&dir));
            }
        }
    }
    // The report's text is a slice of the body: keep it in place rather
    // than copy it (a report may be large).
    let start = posted.report.get().as_ptr() as usize - bytes.as_ptr() as usize;
    let range = start..start + posted.report.get().len();
    let target = posted.target;
    let mut bytes = bytes;
    bytes.truncate(range.end);
    bytes.drain(..range.start);
    let report = String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("invalid-report", "the report is not UTF-8", REPORT_HINT))?;
    let d = NewDeployment::new(&dir, &target, version, summary, caller.id(), report);
    let id = app.store.add_deployment(&d).await?;
    app.metrics.deployments_recorded.fetch_add(1, Relaxed);
    tracing::info!(dir = %dir, target = %d.target, id = %id, status = d.status.as_str(), "deployment recorded");
    Ok(json(StatusCode::CREATED, &Recorded { id: &id, status: d.status }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    id: &'a str,
    dir: &'a str,
    target: &'a str,
    version: &'a Option<BlobDigest>,
    status: DeploymentStatus,
    plan_digest: &'a Option<String>,
    started: Option<String>,
    finished: Option<String>,
    created: String,
    created_by: &'a str,
    created_by_name: &'a Option<String>,
    error: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a RawValue>,
}

impl<'a> Item<'a> {
    fn of(d: &'a DeploymentInfo) -> Item<'a> {
        Item {
            id: &d.id,
            dir: &d.dir,
            target: &d.target,
            version: &d.version,
            status: d.status,
            plan_digest: &d.plan_digest,
            started: d.started.map(time),
            finished: d.finished.map(time),
            created: time(d.created),
            created_by: &d.created_by,
            created_by_name: &d.created_by_name,
            error: &d.error,
            report: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    dir: Option<String>,
    target: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /v1/deployments`: newest first, filtered, only the directories the
/// token may read.
pub async fn list(State(app): State<Arc<App>>, headers: HeaderMap, uri: Uri) -> Result<Response, ApiError> {
    let caller = app.auth(&headers, Scope::Read, None).await?;
    let q: ListQuery = extract::query(&uri)?;
    if let Some(dir) = &q.dir {
        check_name(NameKind::Directory, dir)?;
        caller.check_dir(dir)?;
    }
    if let Some(t) = &q.target {
        check_name(NameKind::Target, t)?;
    }
    let status = q.status.as_deref().map(DeploymentStatus::parse).transpose()?;
    let page: Page = extract::PageQuery { limit: q.limit, cursor: q.cursor }.page()?;
    let filter = DeploymentFilter { dir: q.dir, target: q.target, status, dirs: caller.dirs().map(<[String]>::to_vec) };
    let found = app.store.deployments(&filter, &page).await?;
    Ok(json(StatusCode::OK, &List { items: found.items.iter().map(Item::of).collect(), next: found.next }))
}

/// `GET /v1/deployments/{id}`: the summary and the report as posted.
pub async fn get_one(
    State(app): State<Arc<App>>,
    Params(id): Params<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = app.auth(&headers, Scope::Read, None).await?;
    let not_found = || {
        ApiError::not_found(
            "deployment-not-found",
            format!("there is no deployment {id:?}"),
            "list the deployments (GET /v1/deployments) for their ids",
        )
    };
    if !id.starts_with("dep_") || id.len() > 128 {
        return Err(not_found());
    }
    let Some((info, report)) = app.store.deployment(&id).await? else {
        return Err(not_found());
    };
    caller.check_dir(&info.dir)?;
    let raw = RawValue::from_string(report)
        .map_err(|e| crate::store::StoreError(format!("deployment {id}: stored report is not JSON: {e}")))?;
    let mut item = Item::of(&info);
    item.report = Some(&raw);
    Ok(json(StatusCode::OK, &item))
}
