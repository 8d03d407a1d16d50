//! What the client asks of the runtime: one HTTP exchange at a time.

use std::fmt;
use std::future::Future;

/// An HTTP method the registry protocol uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `PUT`.
    Put,
    /// `POST`.
    Post,
}

impl Method {
    /// The method's name, `GET`, `PUT` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request for a [`Transport`] to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(&'static str, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

/// A response as a [`Transport`] received it: the status, the headers and
/// the whole body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names and values (names in any case).
    pub headers: Vec<(String, String)>,
    /// The body (empty for `304 Not Modified`).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a request got no response: the connection was refused, the name
/// did not resolve, the body could not be read, a browser refused the
/// answer (CORS)...
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    /// What the runtime reported.
    pub message: String,
    /// What to do, when the transport knows better than the client's
    /// generic advice (a browser's CORS check, for instance).
    pub hint: Option<String>,
}

impl TransportError {
    /// An error with the runtime's message and no particular hint.
    pub fn new(message: impl Into<String>) -> TransportError {
        TransportError { message: message.into(), hint: None }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

/// Sends HTTP requests: the only I/O the client needs, provided by its
/// runtime (the browser's or Node's `fetch` in wasm, reqwest in the
/// server).
///
/// The returned future has no `Send` bound, since browser futures are not
/// `Send`; when an implementation's future is `Send` (and the transport
/// and cache are `Sync`), so are the client's futures, and a server can
/// await them in its handlers.
pub trait Transport {
    /// Sends `request` and returns the whole response, whatever its status.
    /// Only a failure to get a response at all is an error.
    fn send(&self, request: HttpRequest) -> impl Future<Output = Result<HttpResponse, TransportError>>;
}

impl<T: Transport + ?Sized> Transport for &T {
    fn send(&self, request: HttpRequest) -> impl Future<Output = Result<HttpResponse, TransportError>> {
        (**self).send(request)
    }
}
