//! The web viewer's views, sans-IO: its URLs ([`Route`]) and each page as
//! escaped HTML, built from what the registry and the hook answer. The
//! wasm adapter (`wasm::viewer`, wasm32 only) fetches the data, calls
//! these renderers and mounts their output; natively they are plain
//! functions from data to `String`, tested with hostile input.
//!
//! Every text that comes from a registry, a directory, a database or a
//! report goes through [`crate::report::html_escape`], and every link is
//! a [`Route::path`] of percent-encoded segments: no input can open a
//! tag, leave an attribute, or make a link with a scheme.

mod route;

pub use route::{encode_segment, Route};
