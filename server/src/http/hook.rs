//! The server hook over HTTP, `/hook/v1` (docs/protocol.md, "Hook"):
//! the configured targets, their revisions, plans computed by the server.
//!
//! Targets come from the server's configuration only ([`Config::targets`]);
//! no request ever names a database URL, and answers never show one.

use super::error::ApiError;
use super::extract::{self, Params};
use super::tags::tag_not_found;
use super::versions::{assemble_stored, version_not_found};
use super::{json, App};
use crate::hook::{read_state, ApplyOptions, Event, HookError, HookErrorKind, Target};
use crate::store::{NewDeployment, Scope, Store};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use strata::dir::Directory;
use strata::hook::{ApplyRequest, OptionError, PlanRequest};
use strata::plan::{DbState, PlanError};
use strata::registry::{check_name, BlobDigest, DeploymentSummary, NameKind};
use strata::report::{Report, ReportBody};

/// A hook answer that is not a success: a registry [`ApiError`], or a
/// JSON error with fields of its own (`expected`/`actual`, `holder`,
/// `planError`).
pub struct HookFailure(Box<Response>);

impl From<ApiError> for HookFailure {
    fn from(e: ApiError) -> HookFailure {
        HookFailure(Box::new(e.into_response()))
    }
}

/// The core's check of a request's options ([`strata::hook::Options::plan_options`]):
/// a 400 `invalid-option` naming the option.
impl From<OptionError> for HookFailure {
    fn from(e: OptionError) -> HookFailure {
        ApiError::bad_request("invalid-option", e.message, &e.hint).into()
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

/// The target named in the path: a 403 if the caller's token is limited
/// to other targets, a 404 `target-not-found` if the server has none.
fn target<'a>(app: &'a App, caller: &super::auth::Caller, name: &str) -> Result<&'a Target, HookFailure> {
    check_name(NameKind::Target, name).map_err(ApiError::from)?;
    caller.check_target(name)?;
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

/// `GET /hook/v1/targets` (scope `read`): names and dialects, never URLs;
/// only the targets the caller's token may use.
pub async fn targets(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, HookFailure> {
    let caller = app.auth(&headers, Scope::Read, None).await?;
    let items: Vec<TargetItem> = app
        .config
        .targets
        .iter()
        .filter(|t| caller.may_use_target(t.name()))
        .map(|t| TargetItem { name: t.name(), dialect: t.dialect().as_str() })
        .collect();
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
    let caller = app.auth(&headers, Scope::Read, None).await?;
    let t = target(&app, &caller, &name)?;
    let state = read_state(t).await.map_err(|e| refusal(&e))?;
    Ok(json(StatusCode::OK, &Revisions { target: t.name(), dialect: t.dialect().as_str(), state: &state }))
}

/// Loads version `tag` or `version` of `dir` from the server's own
/// storage, or from the remote registry (`--registry`) when there is one,
/// and verifies it (every blob against its digest, the directory against
/// its `atlas.sum`: the core's `Manifest::assemble`), split with the
/// target's dialect. A checksum failure is a 4xx naming the file.
pub(super) async fn load_version(
    app: &App,
    dir: &str,
    tag: Option<&str>,
    version: Option<&str>,
    target: &Target,
) -> Result<(BlobDigest, Directory), HookFailure> {
    if let Some(remote) = &app.config.remote {
        let reference = match (tag, version) {
            (Some(r), None) | (None, Some(r)) => r,
            _ => return Err(one_reference()),
        };
        let fetched = remote.fetch(dir, reference, target.dialect().lex(), |_| {}).await.map_err(|e| {
            tracing::warn!(dir, reference, code = %e.code, error = %e.message, "hook: fetching from the registry failed");
            remote_failure(e)
        })?;
        return Ok((fetched.version, fetched.directory));
    }
    let digest = match (tag, version) {
        (Some(tag), None) => {
            check_name(NameKind::Tag, tag).map_err(ApiError::from)?;
            match app.store.tag(dir, tag).await.map_err(ApiError::from)? {
                Some(t) => t.version,
                None => return Err(tag_not_found(dir, tag).into()),
            }
        }
        (None, Some(v)) => BlobDigest::parse(v).map_err(ApiError::from)?,
        _ => return Err(one_reference()),
    };
    let Some(manifest) = app.store.version(dir, &digest).await.map_err(ApiError::from)? else {
        return Err(version_not_found(dir, &digest).into());
    };
    let assembled = assemble_stored(app, &manifest, target.dialect().lex()).await?;
    let directory = assembled.map_err(|e| {
        tracing::warn!(dir, version = %digest, code = %e.code, "hook: a stored version failed verification");
        ApiError::from_registry(e)
    })?;
    Ok((digest, directory))
}

/// A 400: a request must name a tag or a version, not both.
fn one_reference() -> HookFailure {
    ApiError::bad_request(
        "invalid-request",
        "name the directory version with exactly one of \"tag\" and \"version\"",
        "send {\"dir\": \"app\", \"tag\": \"latest\"} or {\"dir\": \"app\", \"version\": \"sha256:…\"}",
    )
    .into()
}

/// A failure of the remote registry (`--registry`) as this server's
/// answer: its "not found" as a 404 and a damaged version as a 4xx naming
/// the file, as for local storage; its refusal of this server's token, or
/// no answer, as a 502 for the operator.
fn remote_failure(e: strata::registry::RegistryError) -> HookFailure {
    match e.code.as_str() {
        "tag-not-found" | "version-not-found" | "dir-not-found" => {
            ApiError::not_found(&e.code, e.message, &e.hint).into()
        }
        "unauthorized" | "forbidden" => failure(
            StatusCode::BAD_GATEWAY,
            "registry-refused",
            &format!("the registry refused this server's token: {}", e.message),
            "the server's operator must give --registry-token a token with the read and report scopes for this directory",
            serde_json::Value::Null,
        ),
        "request-failed" | "invalid-response" | "storage" | "internal" => failure(
            StatusCode::BAD_GATEWAY,
            "registry-unreachable",
            &format!("the registry did not answer as expected: {}", e.message),
            "retry; if it persists, the server's operator must check --registry",
            serde_json::Value::Null,
        ),
        _ => ApiError::from_registry(e).into(),
    }
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
    let t = target(&app, &caller, &name)?;
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

/// An apply running in this process: what `423 lock-held` names.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    /// The deployment the run will be recorded as (`dep_…`).
    pub deployment: String,
    /// When it started (RFC 3339).
    pub since: String,
    /// The token that asked for it.
    pub by: String,
    /// The directory and version it applies.
    pub dir: String,
    /// The version digest.
    pub version: String,
    /// Whether it is a dry run.
    pub dry_run: bool,
}

/// The applies running in this process, by target: one at a time per
/// target (the database lock excludes other processes).
#[derive(Default)]
pub struct Runs(Mutex<HashMap<String, Holder>>);

impl Runs {
    /// Takes `target` for `holder`, or returns the current holder.
    fn take(self: &Arc<Self>, target: &str, holder: Holder) -> Result<Slot, Box<Holder>> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = map.get(target) {
            return Err(Box::new(h.clone()));
        }
        map.insert(target.to_string(), holder);
        Ok(Slot { runs: self.clone(), target: target.to_string() })
    }

    /// Whether no apply is running.
    pub fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }
}

/// A target taken in [`Runs`]; released when dropped.
struct Slot {
    runs: Arc<Runs>,
    target: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.runs.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.target);
    }
}

/// What the apply task tells the handler.
enum Msg {
    /// A refusal before anything ran.
    Refused(HookError),
    /// One NDJSON line (with its newline).
    Line(bytes::Bytes),
}

fn line(v: &impl Serialize) -> bytes::Bytes {
    let mut b =
        serde_json::to_vec(v).unwrap_or_else(|_| b"{\"type\":\"error\",\"message\":\"unwritable event\"}".to_vec());
    b.push(b'\n');
    bytes::Bytes::from(b)
}

/// The `finished` event with `"deployment": recorded` added after its
/// fields (so `type` stays first).
fn finished_line(event: &Event, recorded: &serde_json::Value) -> bytes::Bytes {
    let mut b = serde_json::to_vec(event).unwrap_or_default();
    if b.last() == Some(&b'}') {
        b.pop();
        b.extend_from_slice(b",\"deployment\":");
        b.extend_from_slice(&serde_json::to_vec(recorded).unwrap_or_else(|_| b"null".to_vec()));
        b.extend_from_slice(b"}\n");
        bytes::Bytes::from(b)
    } else {
        line(&serde_json::json!({ "type": "finished", "deployment": recorded }))
    }
}

/// `POST /hook/v1/targets/{t}/apply` (scope `deploy` on the directory):
/// loads and verifies the version, then runs the driver in its own task
/// (a client that goes away does not stop it) with the previewed digest.
/// A refusal before anything runs is a JSON error (409 `stale-plan`, 423
/// `lock-held`, …); otherwise a 200 NDJSON stream of events ending with
/// `finished`, which carries the report and the deployment it was
/// recorded as.
pub async fn apply(
    State(app): State<Arc<App>>,
    Params(name): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HookFailure> {
    let caller = app.auth(&headers, Scope::Deploy, None).await?;
    let bytes = extract::read_body(&headers, body, app.config.max_body).await?;
    let req: ApplyRequest = extract::json(
        &bytes,
        "apply request",
        "send {\"dir\": \"app\", \"version\": \"sha256:…\", \"planDigest\": \"sha256:…\", \"options\": {…}, \"dryRun\": false} (docs/protocol.md)",
    )?;
    check_dir(&caller, &req.dir)?;
    let t = target(&app, &caller, &name)?.clone();
    BlobDigest::parse(&req.plan_digest).map_err(|e| {
        ApiError::bad_request(
            "invalid-digest",
            format!("planDigest: {}", e.message),
            "send the plan's digest (plan.digest of POST /hook/v1/targets/{t}/plan)",
        )
    })?;
    let opts = req.options.plan_options()?;
    let (version, directory) = load_version(&app, &req.dir, None, Some(&req.version), &t).await?;
    let id = Store::new_deployment_id().map_err(ApiError::from)?;
    let holder = Holder {
        deployment: id.clone(),
        since: strata::report::rfc3339(now()),
        by: caller.id().to_string(),
        dir: req.dir.clone(),
        version: version.to_string(),
        dry_run: req.dry_run,
    };
    let slot = app.hook_runs.take(t.name(), holder).map_err(|h| {
        failure(
            StatusCode::LOCKED,
            "lock-held",
            &format!(
                "target {:?} is being deployed: deployment {} ({} of {} by {}) runs since {}; nothing was executed",
                t.name(),
                h.deployment,
                h.dir,
                h.version,
                h.by,
                h.since
            ),
            "retry when it has finished (GET /v1/deployments/{id} shows it once recorded), then preview again",
            serde_json::json!({ "holder": h }),
        )
    })?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    let aopts = ApplyOptions {
        plan: opts,
        dry_run: req.dry_run,
        expect_digest: Some(req.plan_digest.clone()),
        ..ApplyOptions::default()
    };
    let task_app = app.clone();
    let (dir, by) = (req.dir.clone(), caller.id().to_string());
    tokio::spawn(async move {
        let _slot = slot;
        let mut finished = None;
        let res = crate::hook::apply(&t, &directory, &aopts, &mut |e: &Event| match e {
            Event::Finished { .. } => finished = Some(e.clone()),
            _ => {
                let _ = tx.send(Msg::Line(line(e)));
            }
        })
        .await;
        drop(directory);
        let applied = match res {
            Ok(a) => a,
            Err(e) => {
                let _ = tx.send(Msg::Refused(e));
                return;
            }
        };
        let mut report = Report::new(ReportBody::Apply(Box::new(applied.report)));
        report.directory = Some(dir.clone());
        report.target = Some(t.name().to_string());
        let recorded = record(&task_app, &id, &dir, &t, version, &by, &report).await;
        let last = finished.unwrap_or(Event::Finished { report: report.apply.clone().unwrap_or_default() });
        let _ = tx.send(Msg::Line(finished_line(&last, &recorded)));
    });
    match rx.recv().await {
        Some(Msg::Line(first)) => {
            let rest = futures_util::stream::unfold(rx, |mut rx| async move {
                loop {
                    match rx.recv().await? {
                        Msg::Line(l) => return Some((Ok::<_, std::convert::Infallible>(l), rx)),
                        Msg::Refused(_) => continue,
                    }
                }
            });
            let stream = futures_util::stream::once(async move { Ok(first) }).chain(rest);
            Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"))],
                Body::from_stream(stream),
            )
                .into_response())
        }
        Some(Msg::Refused(e)) if e.kind == HookErrorKind::StalePlan => Err(failure(
            StatusCode::CONFLICT,
            "stale-plan",
            &e.message,
            "preview again (POST /hook/v1/targets/{t}/plan) and apply the new plan's digest",
            serde_json::json!({ "expected": req.plan_digest, "actual": e.digest }),
        )),
        Some(Msg::Refused(e)) => Err(refusal(&e)),
        None => {
            tracing::error!(target = name, "hook: the apply task stopped without an answer");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the apply stopped without an answer",
                "check the target's revisions (GET /hook/v1/targets/{t}/revisions) and the server's log",
            )
            .into())
        }
    }
}

/// The current time, Unix nanoseconds.
fn now() -> strata::plan::Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Stores the report of a run as deployment `id`; what the `finished`
/// line says about it: `{"id", "status"}`, or `{"id": null, "error"}`.
async fn record(
    app: &App,
    id: &str,
    dir: &str,
    t: &Target,
    version: BlobDigest,
    by: &str,
    report: &Report,
) -> serde_json::Value {
    let stored = async {
        let summary = DeploymentSummary::of(report).map_err(|e| e.message)?;
        let text = serde_json::to_string(report).map_err(|e| e.to_string())?;
        if let Some(remote) = &app.config.remote {
            // The registry assigns the id.
            let r = remote.record_deployment(dir, t.name(), Some(&version), &text).await.map_err(|e| e.message)?;
            return Ok::<_, String>((r.id, r.status));
        }
        let d = NewDeployment::new(dir, t.name(), Some(version), summary, by, text);
        app.store.add_deployment_as(id, &d).await.map_err(|e| e.to_string())?;
        Ok((id.to_string(), d.status))
    };
    match stored.await {
        Ok((id, status)) => {
            app.metrics.deployments_recorded.fetch_add(1, Relaxed);
            tracing::info!(dir, target = t.name(), id, status = status.as_str(), "hook: deployment recorded");
            serde_json::json!({ "id": id, "status": status })
        }
        Err(e) => {
            tracing::error!(dir, target = t.name(), id, error = %e, "hook: recording the deployment failed");
            serde_json::json!({ "id": null, "error": format!("the report could not be recorded: {e}") })
        }
    }
}
