//! The client side of the hook, sans I/O: the requests to send
//! ([`Client::targets`], [`Client::revisions`], [`Client::plan`],
//! [`Client::apply`]) as [`HttpRequest`] values, and what their answers
//! mean ([`Client::json`], [`Client::refused`]); the apply's stream goes
//! through a [`super::Decoder`]. The runtime sends the requests (the
//! JavaScript `Hook` class uses `fetch`).

use super::request::{ApplyRequest, PlanRequest};
use crate::registry::client::{Client as RegistryClient, HttpRequest, HttpResponse, Method, Transport, TransportError};
use crate::registry::{check_name, NameKind, RegistryError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An error of a hook call: refused by the server (its JSON error, with
/// the HTTP status and the fields it adds, such as `expected`/`actual` of
/// a `stale-plan` or `holder` of a `lock-held`), no answer at all
/// (`request-failed`), or a request the client would not send.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestError {
    /// A stable identifier: the server's (`stale-plan`, `lock-held`,
    /// `forbidden`, …) or the client's (`invalid-url`, `request-failed`,
    /// `invalid-response`, …).
    pub code: String,
    /// What happened.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// The HTTP status, when the server answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The other fields of the server's error (`file`, `expected`,
    /// `actual`, `holder`, `planError`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RequestError {
    fn new(code: &str, message: String, hint: &str) -> RequestError {
        RequestError { code: code.into(), message, hint: hint.into(), status: None, extra: Map::new() }
    }
}

impl From<RegistryError> for RequestError {
    fn from(e: RegistryError) -> RequestError {
        let mut r = RequestError::new(&e.code, e.message, &e.hint);
        if let Some(f) = e.file {
            r.extra.insert("file".into(), Value::String(f));
        }
        r
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RequestError {}

const PROTOCOL_HINT: &str =
    "check that the URL is the base URL of a strata server (without /hook/v1) and that no proxy rewrites its answers";

/// The hook of the strata server at a base URL, with a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    base: String,
    token: Option<String>,
}

impl Client {
    /// A client of the server at `url` (`http://host:port`, maybe with a
    /// path prefix; the client adds `/hook/v1/…`), with no token. The hook
    /// is served by the registry's server: its URL is checked as the
    /// registry client checks it.
    pub fn new(url: &str) -> Result<Client, RequestError> {
        let registry = RegistryClient::new(url, NoTransport)?;
        Ok(Client { base: registry.base_url().into(), token: None })
    }

    /// Sends `token` as `Authorization: Bearer <token>` (an empty one is
    /// none). Refuses a token that cannot be sent in an HTTP header (the
    /// registry client's check).
    pub fn with_token(mut self, token: &str) -> Result<Client, RequestError> {
        RegistryClient::new(&self.base, NoTransport)?.with_token(token)?;
        self.token = (!token.is_empty()).then(|| token.to_string());
        Ok(self)
    }

    /// The server's base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> HttpRequest {
        let mut headers = Vec::new();
        if body.is_some() {
            headers.push(("content-type", "application/json".to_string()));
        }
        if let Some(t) = &self.token {
            headers.push(("authorization", format!("Bearer {t}")));
        }
        HttpRequest { method, url: format!("{}/hook/v1/{path}", self.base), headers, body }
    }

    /// `GET /hook/v1/targets`: the targets' names and dialects.
    pub fn targets(&self) -> HttpRequest {
        self.request(Method::Get, "targets", None)
    }

    /// `GET /hook/v1/targets/{target}/revisions`: the target's revisions
    /// table (the `DbState` the planner reads).
    pub fn revisions(&self, target: &str) -> Result<HttpRequest, RequestError> {
        check_name(NameKind::Target, target)?;
        Ok(self.request(Method::Get, &format!("targets/{target}/revisions"), None))
    }

    /// `POST /hook/v1/targets/{target}/plan`: the server's plan of `body`.
    /// Checks the names and the options first (the server's own check).
    pub fn plan(&self, target: &str, body: &PlanRequest) -> Result<HttpRequest, RequestError> {
        check_name(NameKind::Target, target)?;
        check_name(NameKind::Directory, &body.dir)?;
        match (&body.tag, &body.version) {
            (Some(tag), None) => check_name(NameKind::Tag, tag)?,
            (None, Some(_)) => {}
            _ => {
                return Err(RequestError::new(
                    "invalid-request",
                    "name the directory version with exactly one of `tag` and `version`".into(),
                    "pass {dir: \"app\", tag: \"latest\"} or {dir: \"app\", version: \"sha256:…\"}",
                ))
            }
        }
        body.options.clone().plan_options().map_err(option_error)?;
        Ok(self.request(Method::Post, &format!("targets/{target}/plan"), Some(json_body(body))))
    }

    /// `POST /hook/v1/targets/{target}/apply`: run (or, `dryRun`, only
    /// compute) the previewed plan. A `200` answer is an NDJSON stream for
    /// a [`super::Decoder`]; anything else is a refusal ([`Client::refused`]).
    pub fn apply(&self, target: &str, body: &ApplyRequest) -> Result<HttpRequest, RequestError> {
        check_name(NameKind::Target, target)?;
        check_name(NameKind::Directory, &body.dir)?;
        body.options.clone().plan_options().map_err(option_error)?;
        Ok(self.request(Method::Post, &format!("targets/{target}/apply"), Some(json_body(body))))
    }

    /// A request that got no answer (the connection was refused, …).
    pub fn failed(request: &HttpRequest, e: TransportError) -> RequestError {
        RequestError::new(
            "request-failed",
            format!("{} {}: {}", request.method, request.url, e.message),
            e.hint.as_deref().unwrap_or("check the server URL and that the server is running and reachable from here"),
        )
    }

    /// The JSON body of a `200` answer, or the server's error.
    pub fn json(request: &HttpRequest, response: &HttpResponse) -> Result<Value, RequestError> {
        if response.status != 200 {
            return Err(Client::refused(request, response.status, &response.body));
        }
        serde_json::from_slice(&response.body).map_err(|e| {
            RequestError::new(
                "invalid-response",
                format!("{} {} answered 200 with a body that is not JSON: {e}", request.method, request.url),
                PROTOCOL_HINT,
            )
        })
    }

    /// The error an answer with `status` other than `200` means: the
    /// server's JSON error with all its fields, or what the status says
    /// when the body is not one (a proxy's page, an empty body).
    pub fn refused(request: &HttpRequest, status: u16, body: &[u8]) -> RequestError {
        #[derive(Deserialize)]
        struct Body {
            code: String,
            message: String,
            #[serde(default)]
            hint: Option<String>,
            #[serde(flatten)]
            extra: Map<String, Value>,
        }
        let fallback = match status {
            401 => "pass a token the server knows (strata-server token create), or set STRATA_TOKEN",
            403 => "use a token with the scope this needs (read to preview, deploy to apply), for this directory and target",
            404 => "check the target, directory, tag or version name (GET /hook/v1/targets lists the targets)",
            500..=599 => "the server failed: try again, and tell its operator if it persists",
            _ => PROTOCOL_HINT,
        };
        match serde_json::from_slice::<Body>(body) {
            Ok(b) if !b.code.is_empty() => RequestError {
                code: b.code,
                message: b.message,
                hint: b.hint.filter(|h| !h.is_empty()).unwrap_or_else(|| fallback.into()),
                status: Some(status),
                extra: b.extra,
            },
            _ => {
                let code = match status {
                    200 => "invalid-response",
                    401 => "unauthorized",
                    403 => "forbidden",
                    404 => "not-found",
                    500..=599 => "server-error",
                    _ => "unexpected-status",
                };
                let text = String::from_utf8_lossy(body);
                let excerpt: String = text.trim().chars().take(200).collect();
                let excerpt = if excerpt.is_empty() { String::new() } else { format!(": {excerpt}") };
                let mut e = RequestError::new(
                    code,
                    format!("{} {} answered {status}{excerpt}", request.method, request.url),
                    fallback,
                );
                e.status = Some(status);
                e
            }
        }
    }
}

/// A transport that sends nothing: the registry client built only to check
/// a URL and a token.
struct NoTransport;

impl Transport for NoTransport {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
        Err(TransportError::new("no transport"))
    }
}

fn option_error(e: super::OptionError) -> RequestError {
    RequestError::new("invalid-option", e.message, &e.hint)
}

fn json_body<V: Serialize>(v: &V) -> Vec<u8> {
    // Strings, integers and booleans only: serialising them cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}
