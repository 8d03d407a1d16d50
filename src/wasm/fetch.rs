//! The global `fetch`, shared by the `Registry` and `Hook` classes.
//!
//! It builds requests with gloo-net and calls the global `fetch` function
//! (not `window.fetch`), as gloo-net does, so it works in browsers, in
//! Node 20 (undici's global `fetch`) and in workerd, whose globals are
//! neither a `Window` nor a `WorkerGlobalScope`. The call itself is ours:
//! gloo-net's `send` keeps only `TypeError: fetch failed` of a failure,
//! while Node puts the reason (`connect ECONNREFUSED …`, a DNS error) in
//! the error's `cause`.

use crate::registry::client::{HttpRequest, Method, TransportError};
use gloo_net::http::RequestBuilder;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, whatever the global object is.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(request: &web_sys::Request) -> Result<js_sys::Promise, JsValue>;
}

/// `String(error)` and the messages of its `cause` chain.
pub(super) fn fetch_failure(e: JsValue) -> TransportError {
    let mut message = match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.to_string()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    };
    let mut cause = e;
    for _ in 0..4 {
        cause = Reflect::get(&cause, &"cause".into()).unwrap_or_default();
        if !cause.is_object() {
            break;
        }
        let m = Reflect::get(&cause, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
        if !m.is_empty() && !message.contains(&m) {
            message = format!("{message}: {m}");
        }
    }
    TransportError { message, hint: Some(FETCH_HINT.into()) }
}

pub(super) const FETCH_HINT: &str = "check the registry URL and that the registry is running and reachable; \
    a page in a browser also needs the registry to allow its origin (strata-server serve --cors-origin)";

/// A gloo-net error as a transport error.
pub(super) fn failed(e: gloo_net::Error) -> TransportError {
    TransportError { message: e.to_string(), hint: Some(FETCH_HINT.into()) }
}

/// Sends `request` with the global `fetch`; the response's body is not
/// read yet (a stream can be read as it arrives).
pub(super) async fn send(request: &HttpRequest) -> Result<web_sys::Response, TransportError> {
    let mut builder = RequestBuilder::new(&request.url).method(match request.method {
        Method::Get => gloo_net::http::Method::GET,
        Method::Put => gloo_net::http::Method::PUT,
        Method::Post => gloo_net::http::Method::POST,
    });
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let built = match &request.body {
        Some(body) => builder.body(Uint8Array::from(&body[..])),
        None => builder.build(),
    };
    let request = web_sys::Request::from(built.map_err(failed)?);
    let promise = global_fetch(&request).map_err(fetch_failure)?;
    let response = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(fetch_failure)?;
    response
        .dyn_into::<web_sys::Response>()
        .map_err(|v| TransportError::new(format!("fetch resolved to {v:?}, not a Response")))
}
