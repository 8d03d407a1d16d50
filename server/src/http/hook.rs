//! The server hook over HTTP, `/hook/v1` (docs/protocol.md, "Hook"):
//! the configured targets, their revisions, plans computed by the server.
//!
//! Targets come from the server's configuration only ([`Config::targets`]);
//! no request ever names a database URL, and answers never show one.

use super::error::ApiError;
use super::extract::{self, Params};
use super::tags::tag_not_found;
use super::versions::version_not_found;
use super::{json, App};
use crate::hook::{read_state, HookError, HookErrorKind, Target};
use crate::store::Scope;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use strata::dir::Directory;
use strata::plan::{DbState, ExecOrder, PlanError, PlanOptions, TxMode};
use strata::registry::{check_name, BlobDigest, NameKind};
use strata::report::{Report, ReportBody};

/// Blobs read at once while loading a version.
const CONCURRENCY: usize = 16;

/// A hook answer that is not a success: a registry [`ApiError`], or a
/// JSON error with fields of its own (`expected`/`actual`, `holder`,
/// `planError`).
pub struct HookFailure(Box<Response>);

impl From<ApiError> for HookFailure {
    fn from(e: ApiError) -> HookFailure {
        HookFailure(Box::new(e.into_response()))
    }
}

impl IntoResponse for HookFailure {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// A JSON error `{code, message, hint, …extra}`.
fn failure(status: StatusCode, code: &str, message: &str, hint: &str, extra: serde_json::Value) -> HookFailure {
    let mut body = serde_json::json!({ "code": code, "message": message, "hint": hint });
    if let (Some(b), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"code\":\"internal\"}".to_vec());
    HookFailure(Box::new(
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response(),
    ))
}

/// A 400 for a bad directory name, a 403 if the caller may not use it.
pub(super) fn check_dir(caller: &super::auth::Caller, dir: &str) -> Result<(), ApiError> {
    check_name(NameKind::Directory, dir)?;
    caller.check_dir(dir)
}

/// The target named in the path, or a 404 `target-not-found`.
fn target<'a>(app: &'a App, name: &str) -> Result<&'a Target, HookFailure> {
    check_name(NameKind::Target, name).map_err(ApiError::from)?;
    app.config.targets.get(name).ok_or_else(|| {
        ApiError::not_found(
            "target-not-found",
            format!("this server has no target {name:?}"),
            "list the targets (GET /hook/v1/targets); targets are configured on the server (--targets FILE, STRATA_TARGET_<NAME>)",
        )
        .into()
    })
}

/// A driver refusal as an answer. Nothing was executed on the target.
pub(super) fn refusal(e: &HookError) -> HookFailure {
    let none = serde_json::Value::Null;
    match e.kind {
        HookErrorKind::Connect => failure(
            StatusCode::BAD_GATEWAY,
            "target-unreachable",
            &e.message,
            "the server could not reach the target database; retry, or ask the server's operator to check the target",
            none,
        ),
        HookErrorKind::Database => failure(
            StatusCode::BAD_GATEWAY,
            "target-database",
            &e.message,
            "the target database refused a read or write the hook needs; ask the server's operator to check it",
            none,
        ),
        HookErrorKind::LockHeld => failure(
            StatusCode::LOCKED,
            "lock-held",
            &e.message,
            "another apply (Atlas, or a strata server in another process) holds the target's lock; retry when it has finished",
            serde_json::json!({ "holder": { "deployment": null, "since": null, "process": "other" } }),
        ),
        HookErrorKind::Plan => {
            let code = e.plan_error.as_ref().map_or("plan-refused", |p| p.code());
            let hint = e.plan_error.as_ref().map_or_else(String::new, |p| p.hint());
            failure(
                StatusCode::CONFLICT,
                code,
                &e.message,
                if hint.is_empty() { "preview the plan again and fix what it reports" } else { &hint },
                serde_json::json!({ "planError": e.plan_error }),
            )
        }
        HookErrorKind::StalePlan => failure(
            StatusCode::CONFLICT,
            "stale-plan",
            &e.message,
            "preview again (POST /hook/v1/targets/{t}/plan) and apply the new plan's digest",
            none,
        ),
        HookErrorKind::AmbiguousRevisions => failure(
            StatusCode::CONFLICT,
            "ambiguous-revisions",
            &e.message,
            "ask the server's operator to set revisions_schema for this target",
            none,
        ),
        HookErrorKind::Dialect => {
            tracing::error!(error = %e.message, "hook: directory split for another dialect");
            failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the hook failed to prepare the directory",
                "retry; if it persists, report it with the server's log",
                none,
            )
        }
    }
}

#[derive(Serialize)]
struct TargetItem<'a> {
    name: &'a str,
    dialect: &'a str,
}

/// `GET /hook/v1/targets` (scope `read`): names and dialects, never URLs.
pub async fn targets(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, HookFailure> {
    app.auth(&headers, Scope::Read, None).await?;
    let items: Vec<TargetItem> =
        app.config.targets.iter().map(|t| TargetItem { name: t.name(), dialect: t.dialect().as_str() }).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Revisions<'a> {
    target: &'a str,
    dialect: &'a str,
    #[serde(flatten)]
    state: &'a DbState,
}

/// `GET /hook/v1/targets/{t}/revisions` (scope `read`): the revisions
/// table as the core reads it, read without the lock and without writing
/// (a missing table is `tableMissing: true`).
pub async fn revisions(
    State(app): State<Arc<App>>,
    Params(name): Params<String>,
    headers: HeaderMap,
) -> Result<Response, HookFailure> {
    app.auth(&headers, Scope::Read, None).await?;
    let t = target(&app, &name)?;
    let state = read_state(t).await.map_err(|e| refusal(&e))?;
    Ok(json(StatusCode::OK, &Revisions { target: t.name(), dialect: t.dialect().as_str(), state: &state }))
}

/// The options of a plan or an apply: the core's [`PlanOptions`], with
/// the flag values as text.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct OptionsIn {
    baseline: Option<String>,
    #[serde(default)]
    allow_dirty: bool,
    exec_order: Option<String>,
    to_version: Option<String>,
    amount: Option<u64>,
    tx_mode: Option<String>,
}

impl OptionsIn {
    /// The core's options, or a 400 `invalid-option` naming the option.
    pub(super) fn plan_options(self) -> Result<PlanOptions, ApiError> {
        let bad = |what: &str, e: PlanError| {
            ApiError::bad_request("invalid-option", format!("options.{what}: {e}"), &e.hint())
        };
        let exec_order = match self.exec_order.as_deref() {
            None => ExecOrder::default(),
            Some(s) => ExecOrder::parse(s).map_err(|e| bad("execOrder", e))?,
        };
        let tx_mode = match self.tx_mode.as_deref() {
            None => TxMode::default(),
            Some(s) => TxMode::parse(s).map_err(|e| bad("txMode", e))?,
        };
        for (what, v) in [("baseline", &self.baseline), ("toVersion", &self.to_version)] {
            if v.as_deref() == Some("") {
                return Err(ApiError::bad_request(
                    "invalid-option",
                    format!("options.{what} is empty"),
                    &format!("give a migration version (e.g. \"20240101000000\"), or leave {what} out"),
                ));
            }
        }
        if self.amount == Some(0) {
            return Err(ApiError::bad_request(
                "invalid-option",
                "options.amount is 0",
                "give the number of pending files to run (at least 1), or leave amount out for all of them",
            ));
        }
        Ok(PlanOptions {
            baseline: self.baseline,
            allow_dirty: self.allow_dirty,
            exec_order,
            to_version: self.to_version,
            amount: self.amount,
            tx_mode,
        })
    }
}

/// Loads version `tag` or `version` of `dir` from the server's own
/// storage and verifies it (every blob against its digest, the directory
/// against its `atlas.sum`: the core's `Manifest::assemble`), split with
/// the target's dialect. A checksum failure is a 4xx naming the file.
pub(super) async fn load_version(
    app: &App,
    dir: &str,
    tag: Option<&str>,
    version: Option<&str>,
    target: &Target,
) -> Result<(BlobDigest, Directory), HookFailure> {
    let digest = match (tag, version) {
        (Some(tag), None) => {
            check_name(NameKind::Tag, tag).map_err(ApiError::from)?;
            match app.store.tag(dir, tag).await.map_err(ApiError::from)? {
                Some(t) => t.version,
                None => return Err(tag_not_found(dir, tag).into()),
            }
        }
        (None, Some(v)) => BlobDigest::parse(v).map_err(ApiError::from)?,
        _ => {
            return Err(ApiError::bad_request(
                "invalid-request",
                "name the directory version with exactly one of \"tag\" and \"version\"",
                "send {\"dir\": \"app\", \"tag\": \"latest\"} or {\"dir\": \"app\", \"version\": \"sha256:…\"}",
            )
            .into())
        }
    };
    let Some(manifest) = app.store.version(dir, &digest).await.map_err(ApiError::from)? else {
        return Err(version_not_found(dir, &digest).into());
    };
    let permit = app.verify.acquire().await.map_err(|_| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting-down", "the server is stopping", "retry")
    })?;
    let mut distinct: Vec<BlobDigest> = manifest.files.iter().map(|f| f.digest.clone()).collect();
    distinct.sort();
    distinct.dedup();
    let store = app.store.clone();
    let read: Vec<Option<Vec<u8>>> = futures_util::stream::iter(distinct.clone())
        .map(move |d| {
            let store = store.clone();
            async move { store.read_blob(&d).await }
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await
        .map_err(ApiError::from)?;
    let blobs: HashMap<BlobDigest, Option<Vec<u8>>> = distinct.into_iter().zip(read).collect();
    let assembled = manifest.assemble(&app.config.limits, target.dialect().lex(), |d| blobs.get(d).cloned().flatten());
    drop(blobs);
    drop(permit);
    let directory = assembled.map_err(|e| {
        tracing::warn!(dir, version = %digest, code = %e.code, "hook: a stored version failed verification");
        ApiError::from_registry(e)
    })?;
    Ok((digest, directory))
}

/// A planning refusal (Atlas's errors: not clean, out of order, …): 409
/// with the core's error as `planError`.
fn plan_refused(target: &Target, e: &PlanError) -> HookFailure {
    failure(
        StatusCode::CONFLICT,
        e.code(),
        &format!("target {:?}: {e}", target.name()),
        &e.hint(),
        serde_json::json!({ "planError": e }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRequest {
    dir: String,
    tag: Option<String>,
    version: Option<String>,
    #[serde(default)]
    options: OptionsIn,
}

/// `POST /hook/v1/targets/{t}/plan` (scope `read` on the directory): the
/// plan the server computes for version `tag` or `version` of `dir` against
/// the target's revisions, as a `strata.report/v1` plan document with
/// `directory`, `target` and the directory `version` digest.
pub async fn plan(
    State(app): State<Arc<App>>,
    Params(name): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HookFailure> {
    let caller = app.auth(&headers, Scope::Read, None).await?;
    let bytes = extract::read_body(&headers, body, app.config.max_body).await?;
    let req: PlanRequest = extract::json(
        &bytes,
        "plan request",
        "send {\"dir\": \"app\", \"tag\": \"latest\" | \"version\": \"sha256:…\", \"options\": {…}} (docs/protocol.md)",
    )?;
    check_dir(&caller, &req.dir)?;
    let t = target(&app, &name)?;
    let opts = req.options.plan_options()?;
    let (version, directory) = load_version(&app, &req.dir, req.tag.as_deref(), req.version.as_deref(), t).await?;
    let state = read_state(t).await.map_err(|e| refusal(&e))?;
    let plan = strata::plan::plan(&directory, &state, &opts).map_err(|e| plan_refused(t, &e))?;
    let mut report = Report::new(ReportBody::Plan(Box::new(plan)));
    report.directory = Some(req.dir);
    report.target = Some(t.name().to_string());
    let mut doc = serde_json::to_value(&report).map_err(|e| {
        tracing::error!(error = %e, "hook: plan serialization failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the hook failed to write the plan", "retry")
    })?;
    if let Some(o) = doc.as_object_mut() {
        o.insert("version".into(), serde_json::Value::String(version.to_string()));
    }
    Ok(json(StatusCode::OK, &doc))
}
