//! The JavaScript `Hook` class: the core's hook client
//! (`strata::hook::Client`) over the runtime's `fetch`, with the apply's
//! NDJSON body read as it arrives (`response.body.getReader()`) and
//! decoded by the core's `Decoder`.

use super::{fetch, throw, to_js};
use crate::hook::{ApplyRequest, Client, Decoder, Deployment, Event, Finished, PlanRequest, RequestError};
use crate::registry::client::{HttpRequest, HttpResponse};
use crate::report::ApplyReport;
use js_sys::{Function, Reflect, Uint8Array};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(typescript_custom_section)]
const HOOK_TYPES: &str = r#"
/** Options for `new Hook`. */
export interface HookOptions {
  /** A token of the server (`strata-server token create`), sent as `Authorization: Bearer`. */
  token?: string;
}

/** Atlas's `migrate apply` options, as the hook takes them. */
export interface HookApplyOptions {
  baseline?: string;
  allowDirty?: boolean;
  execOrder?: "linear" | "linear-skip" | "non-linear";
  toVersion?: string;
  amount?: number;
  txMode?: "file" | "all" | "none";
}

/** What `Hook.plan` plans: directory `dir` at `tag` or at `version` (exactly one). */
export interface HookPlanRequest {
  dir: string;
  tag?: string;
  version?: string;
  options?: HookApplyOptions;
}

/** What `Hook.apply` runs: the plan previewed for `version` with `options`, whose digest is `planDigest`. */
export interface HookApplyRequest {
  dir: string;
  version: string;
  planDigest: string;
  options?: HookApplyOptions;
  dryRun?: boolean;
}

/** A file of the plan, as `planned` lists it. */
export interface HookPlannedFile {
  name: string;
  version: string;
  statements: number;
  skip: number;
  txMode: string;
}

/** What the server recorded a run as. */
export interface HookDeployment {
  id: string | null;
  status?: "succeeded" | "failed" | "dry-run";
  error?: string;
}

/** The progress events of an apply, in order (docs/protocol.md). */
export type HookEvent =
  | { type: "planned"; target: string; digest: string; dryRun: boolean; current: string | null; toVersion: string | null; files: HookPlannedFile[]; statements: number }
  | { type: "fileStarted"; file: string; version: string; statements: number; skip: number }
  | { type: "statementDone"; file: string; statement: number; line: number; durationNs: number }
  | { type: "fileDone"; file: string; durationNs: number }
  | { type: "error"; file: string | null; statement: { index: number; line: number; pos: number; text: string } | null; message: string; error: string }
  | { type: "finished"; report: any; deployment?: HookDeployment };

/** Options for `Hook.apply`. */
export interface HookApplyCallbacks {
  /** Called with each event as it arrives; its exceptions are ignored (the run goes on on the server). */
  onEvent?: (event: HookEvent) => void;
}

/** What `Hook.apply` resolves to: the `finished` event's report and deployment. */
export interface HookFinished {
  /** The core's apply report (`error` is set when the run failed); `renderReport({format: "strata.report/v1", kind: "apply", apply: report})` prints Atlas's text. */
  report: any;
  deployment: HookDeployment | null;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "HookOptions")]
    pub type HookOptionsArg;
    #[wasm_bindgen(typescript_type = "HookPlanRequest")]
    pub type HookPlanRequestArg;
    #[wasm_bindgen(typescript_type = "HookApplyRequest")]
    pub type HookApplyRequestArg;
    #[wasm_bindgen(typescript_type = "HookApplyCallbacks")]
    pub type HookApplyCallbacksArg;
}

/// A hook error as a thrown `StrataError` with every field of the
/// server's answer (`code`, `message`, `hint`, `status`, and `expected`,
/// `actual`, `holder`, `planError`, `file`, … when it sends them).
fn throw_request(e: RequestError) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name("StrataError");
    let fields = to_js(&e);
    for key in js_sys::Object::keys(fields.unchecked_ref::<js_sys::Object>()).iter() {
        let _ = Reflect::set(&err, &key, &Reflect::get(&fields, &key).unwrap_or_default());
    }
    let _ = Reflect::set(&err, &"summary".into(), &e.message.as_str().into());
    err.into()
}

fn invalid(message: String, hint: &str) -> JsValue {
    throw_request(RequestError {
        code: "invalid-options".into(),
        message,
        hint: hint.into(),
        status: None,
        extra: Default::default(),
    })
}

/// A JS object as a request body, through its JSON (so that a misspelt or
/// unknown field is named, as the server would).
fn body_of<T: DeserializeOwned>(v: &JsValue, what: &str, hint: &str) -> Result<T, JsValue> {
    if !v.is_object() {
        return Err(invalid(format!("the {what} must be an object"), hint));
    }
    let text = js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string()).unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| invalid(format!("the {what}: {e}"), hint))
}

/// Sends `request` and reads the whole answer as JSON (an error answer
/// as the server's error).
pub(super) async fn call(request: &HttpRequest) -> Result<serde_json::Value, RequestError> {
    let response = fetch::send(request).await.map_err(|e| Client::failed(request, e))?;
    let status = response.status();
    let body = body_bytes(&response).await.map_err(|e| Client::failed(request, e))?;
    Client::json(request, &HttpResponse { status, headers: Vec::new(), body })
}

/// Why an apply gave no report: refused or failed before it ran
/// (`Request`), or its event stream broke (`Stream`).
pub(super) enum ApplyFailure {
    /// The server refused it, or it could not be sent.
    Request(RequestError),
    /// The stream was not the protocol, or ended before `finished`.
    Stream(Box<crate::error::Error>),
}

impl From<ApplyFailure> for JsValue {
    fn from(f: ApplyFailure) -> JsValue {
        match f {
            ApplyFailure::Request(e) => throw_request(e),
            ApplyFailure::Stream(e) => throw(*e),
        }
    }
}

/// Sends an apply and reads its NDJSON body as it arrives, giving each
/// batch of events to `emit` (with the deployment once `finished` came);
/// the `finished` event's report and deployment at the end.
pub(super) async fn apply_streaming(
    client: &Client,
    target: &str,
    body: &ApplyRequest,
    mut emit: impl FnMut(Vec<Event>, Option<&Deployment>),
) -> Result<Finished, ApplyFailure> {
    let request = client.apply(target, body).map_err(ApplyFailure::Request)?;
    let failed = |e| ApplyFailure::Request(Client::failed(&request, e));
    let response = fetch::send(&request).await.map_err(failed)?;
    let status = response.status();
    if status != 200 {
        let bytes = body_bytes(&response).await.map_err(failed)?;
        return Err(ApplyFailure::Request(Client::refused(&request, status, &bytes)));
    }
    let mut decoder = Decoder::new();
    let deployment = |d: &Decoder| d.finished().and_then(|f| f.deployment.clone());
    let reader = reader(&response);
    while let Some(reader) = &reader {
        // A read that fails is a lost connection: the decoder's end says so.
        let Ok(chunk) = read(reader).await else { break };
        let Some(chunk) = chunk else { break };
        let events = decoder.feed(&chunk).map_err(ApplyFailure::Stream)?;
        emit(events, deployment(&decoder).as_ref());
    }
    if reader.is_none() {
        // A runtime without streams: the whole body at once.
        let bytes = body_bytes(&response).await.map_err(failed)?;
        let events = decoder.feed(&bytes).map_err(ApplyFailure::Stream)?;
        emit(events, deployment(&decoder).as_ref());
    }
    // The events of a last line without its newline come with the end.
    let (events, finished) = decoder.end().map_err(ApplyFailure::Stream)?;
    emit(events, finished.deployment.as_ref());
    Ok(finished)
}

async fn body_bytes(response: &web_sys::Response) -> Result<Vec<u8>, crate::registry::client::TransportError> {
    let buffer = response.array_buffer().map_err(fetch::fetch_failure)?;
    let buffer = JsFuture::from(buffer).await.map_err(fetch::fetch_failure)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

#[derive(Serialize)]
struct FinishedJs<'a> {
    report: &'a ApplyReport,
    deployment: &'a Option<Deployment>,
}

/// An event as JS; `finished` with its deployment.
fn event_js(e: &Event, deployment: Option<&Deployment>) -> JsValue {
    let v = to_js(e);
    if let (Event::Finished { .. }, Some(d)) = (e, deployment) {
        let _ = Reflect::set(&v, &"deployment".into(), &to_js(d));
    }
    v
}

/// The deployment hook of a strata server (docs/protocol.md, "Hook"):
/// list its targets, read a target's revisions, preview the plan the
/// server computes, and apply exactly that plan while its events stream in.
///
/// ```js
/// const hook = new Hook("https://strata.example.com", { token });
/// const plan = await hook.plan("prod", { dir: "app", tag: "latest" });
/// const { report, deployment } = await hook.apply(
///   "prod", { dir: "app", version: plan.version, planDigest: plan.plan.digest },
///   { onEvent: (e) => console.log(e.type) });
/// ```
#[wasm_bindgen]
pub struct Hook {
    client: Rc<Client>,
}

#[wasm_bindgen]
impl Hook {
    /// A client of the hook of the server at `url` (its base URL, e.g.
    /// `http://127.0.0.1:8080`). Throws a `StrataError` for a URL that is
    /// not http(s) or a token that cannot be sent in a header.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, options: Option<HookOptionsArg>) -> Result<Hook, JsValue> {
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let mut client = Client::new(url).map_err(throw_request)?;
        if !options.is_undefined() && !options.is_null() {
            if !options.is_object() {
                return Err(invalid("hook options must be an object".into(), "see HookOptions"));
            }
            super::refuse_unknown_keys(&options, &to_js(&KnownOptions::default()), "hook option", "invalid-options")?;
            let token = Reflect::get(&options, &"token".into()).unwrap_or_default();
            if !token.is_undefined() && !token.is_null() {
                let token =
                    token.as_string().ok_or_else(|| invalid("`token` must be a string".into(), "see HookOptions"))?;
                client = client.with_token(&token).map_err(throw_request)?;
            }
        }
        Ok(Hook { client: Rc::new(client) })
    }

    /// The server's base URL.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.client.base_url().into()
    }

    /// The server's targets: `{items: [{name, dialect}]}`.
    #[wasm_bindgen(unchecked_return_type = "Promise<{items: {name: string, dialect: string}[]}>")]
    pub fn targets(&self) -> js_sys::Promise {
        let client = Rc::clone(&self.client);
        wasm_bindgen_futures::future_to_promise(async move {
            Ok(to_js(&call(&client.targets()).await.map_err(throw_request)?))
        })
    }

    /// The revisions table of `target`: `{target, dialect, revisions,
    /// notClean, tableMissing}`, the revisions `status` and `plan` take.
    #[wasm_bindgen(unchecked_return_type = "Promise<any>")]
    pub fn revisions(&self, target: String) -> js_sys::Promise {
        let client = Rc::clone(&self.client);
        wasm_bindgen_futures::future_to_promise(async move {
            let request = client.revisions(&target).map_err(throw_request)?;
            Ok(to_js(&call(&request).await.map_err(throw_request)?))
        })
    }

    /// The plan the server computes for `request` against `target`: a
    /// `strata.report/v1` plan document (`renderReport` prints it) with the
    /// directory `version` it planned; apply it with `plan.digest`.
    #[wasm_bindgen(unchecked_return_type = "Promise<any>")]
    pub fn plan(&self, target: String, request: HookPlanRequestArg) -> js_sys::Promise {
        let client = Rc::clone(&self.client);
        let body: JsValue = request.into();
        wasm_bindgen_futures::future_to_promise(async move {
            let body: PlanRequest = body_of(&body, "plan request", "pass {dir: \"app\", tag: \"latest\"}")?;
            let request = client.plan(&target, &body).map_err(throw_request)?;
            Ok(to_js(&call(&request).await.map_err(throw_request)?))
        })
    }

    /// Applies the previewed plan: resolves to the `finished` event's
    /// report and deployment (a run that failed part-way resolves too,
    /// its `report.error` set), calling `onEvent` with each event as it
    /// arrives. Rejects, with nothing executed, on a refusal (`stale-plan`
    /// with `expected`/`actual`, `lock-held` with `holder`, …), and with
    /// `stream-ended` if the connection is lost before `finished`.
    #[wasm_bindgen(unchecked_return_type = "Promise<HookFinished>")]
    pub fn apply(
        &self,
        target: String,
        request: HookApplyRequestArg,
        callbacks: Option<HookApplyCallbacksArg>,
    ) -> js_sys::Promise {
        let client = Rc::clone(&self.client);
        let body: JsValue = request.into();
        let callbacks: JsValue = callbacks.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        wasm_bindgen_futures::future_to_promise(async move {
            let hint = "pass {dir, version, planDigest} from Hook.plan (version and plan.digest)";
            let body: ApplyRequest = body_of(&body, "apply request", hint)?;
            let on_event = on_event(&callbacks)?;
            let finished = apply_streaming(&client, &target, &body, |events, deployment| {
                if let Some(f) = &on_event {
                    for e in &events {
                        let _ = f.call1(&JsValue::NULL, &event_js(e, deployment));
                    }
                }
            })
            .await?;
            Ok(to_js(&FinishedJs { report: &finished.report, deployment: &finished.deployment }))
        })
    }
}

/// `onEvent` of the callbacks, if any.
fn on_event(callbacks: &JsValue) -> Result<Option<Function>, JsValue> {
    if callbacks.is_undefined() || callbacks.is_null() {
        return Ok(None);
    }
    super::refuse_unknown_keys(callbacks, &to_js(&KnownCallbacks::default()), "apply option", "invalid-options")?;
    let f = Reflect::get(callbacks, &"onEvent".into()).unwrap_or_default();
    if f.is_undefined() || f.is_null() {
        return Ok(None);
    }
    f.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| invalid("`onEvent` must be a function".into(), "pass (event) => { ... }"))
}

/// The body's stream reader (`response.body.getReader()`), if the runtime
/// gives one.
fn reader(response: &web_sys::Response) -> Option<JsValue> {
    let body = Reflect::get(response, &"body".into()).ok().filter(|b| b.is_object())?;
    let get = Reflect::get(&body, &"getReader".into()).ok()?.dyn_into::<Function>().ok()?;
    get.call0(&body).ok().filter(JsValue::is_object)
}

/// The next chunk of `reader`, `None` at the end.
async fn read(reader: &JsValue) -> Result<Option<Vec<u8>>, JsValue> {
    let read = Reflect::get(reader, &"read".into())?.dyn_into::<Function>()?;
    let promise = read.call0(reader)?.dyn_into::<js_sys::Promise>()?;
    let result = JsFuture::from(promise).await?;
    if Reflect::get(&result, &"done".into())?.is_truthy() {
        return Ok(None);
    }
    let value = Reflect::get(&result, &"value".into())?;
    Ok(Some(Uint8Array::new(&value).to_vec()))
}

/// The keys `HookOptions` may have.
#[derive(Default, Serialize)]
struct KnownOptions {
    token: bool,
}

/// The keys of `Hook.apply`'s third argument.
#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct KnownCallbacks {
    on_event: bool,
}
