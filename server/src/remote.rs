//! A remote registry: the core's registry client
//! ([`strata::registry::client`]) over reqwest, so that this server (and
//! the deployment hook) can fetch verified directory versions from a
//! registry, push to one, and list its tags.
//!
//! ```no_run
//! # async fn demo() -> Result<(), strata::registry::RegistryError> {
//! use strata::lex::Dialect;
//! let registry = strata_server::remote::connect("http://127.0.0.1:8080", Some("token"))?;
//! let fetched = registry.fetch("app", "latest", Dialect::Postgres, |_| {}).await?;
//! # Ok(()) }
//! ```

use std::time::Duration;
use strata::registry::client::{Client, HttpRequest, HttpResponse, Method, Transport, TransportError};
use strata::registry::RegistryError;

/// The client of a remote registry over reqwest. Its futures are `Send`:
/// an axum handler can await them.
pub type RemoteRegistry = Client<Reqwest>;

/// A client of the registry at `url` (its base URL) with `token`, over a
/// [`Reqwest`] transport with the default settings.
pub fn connect(url: &str, token: Option<&str>) -> Result<RemoteRegistry, RegistryError> {
    let client = Client::new(url, Reqwest::new())?;
    match token {
        Some(t) => client.with_token(t),
        None => Ok(client),
    }
}

/// The registry client's transport over a [`reqwest::Client`].
#[derive(Clone, Debug)]
pub struct Reqwest {
    client: reqwest::Client,
}

impl Reqwest {
    /// A transport with a 10 s connect timeout and a 60 s read timeout
    /// (a stalled registry fails the request instead of hanging it). It
    /// honours the `HTTPS_PROXY`/`NO_PROXY` environment like other tools.
    pub fn new() -> Reqwest {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!("strata-server/", env!("CARGO_PKG_VERSION")))
            .build()
            // Only a TLS backend that fails to initialise makes this fail.
            .unwrap_or_default();
        Reqwest { client }
    }

    /// A transport over a configured client (proxies, TLS roots, timeouts).
    pub fn with_client(client: reqwest::Client) -> Reqwest {
        Reqwest { client }
    }
}

impl Default for Reqwest {
    fn default() -> Self {
        Reqwest::new()
    }
}

impl Transport for Reqwest {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Put => reqwest::Method::PUT,
            Method::Post => reqwest::Method::POST,
        };
        let mut r = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            r = r.header(*name, value.as_str());
        }
        if let Some(body) = request.body {
            r = r.body(body);
        }
        let response = r.send().await.map_err(failure)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = response.bytes().await.map_err(failure)?.to_vec();
        Ok(HttpResponse { status, headers, body })
    }
}

/// reqwest's error and its causes on one line ("error sending request:
/// client error (Connect): tcp connect error: Connection refused (os
/// error 111)"), without the URL, which the client names itself.
fn failure(e: reqwest::Error) -> TransportError {
    let timeout = e.is_timeout();
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !message.contains(&s_text) {
            message.push_str(": ");
            message.push_str(&s_text);
        }
        source = s.source();
    }
    let hint = timeout.then(|| {
        "the registry did not answer in time: check that it is up and not overloaded, then try again".to_string()
    });
    TransportError { message, hint }
}

/// Compile-time check: with this transport, the client's futures are
/// `Send`, so server handlers can await them.
#[allow(dead_code)]
fn futures_are_send(r: &RemoteRegistry, d: &strata::dir::Directory, v: &strata::registry::BlobDigest) {
    fn send<F: Send>(_: F) {}
    send(r.fetch("app", "latest", strata::lex::Dialect::Generic, |_| {}));
    send(r.push(d, "app", &["v1"], |_| {}));
    send(r.tags("app"));
    send(r.set_tag("app", "v1", v, strata::registry::client::TagCondition::Always));
}
