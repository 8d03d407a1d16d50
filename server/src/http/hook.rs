//! The server hook over HTTP, `/hook/v1` (docs/protocol.md, "Hook"):
//! the configured targets, their revisions, plans computed by the server.
//!
//! Targets come from the server's configuration only ([`Config::targets`]);
//! no request ever names a database URL, and answers never show one.

use super::error::ApiError;
use super::extract::Params;
use super::{json, App};
use crate::hook::{read_state, HookError, HookErrorKind, Target};
use crate::store::Scope;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use strata::plan::DbState;
use strata::registry::{check_name, NameKind};

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
