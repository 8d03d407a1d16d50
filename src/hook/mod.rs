//! The deployment hook's protocol (docs/protocol.md, "Hook `/hook/v1`"),
//! shared by the server and every client.
//!
//! * [`request`]: the bodies of `POST …/plan` and `POST …/apply`
//!   ([`PlanRequest`], [`ApplyRequest`], [`Options`]) and the check of
//!   the options ([`Options::plan_options`]);
//! * [`events`]: the progress events of an apply ([`Event`]), one JSON
//!   object per line;
//! * [`decode`]: a sans-IO [`Decoder`] of that stream: feed it the
//!   response body's chunks, get events out, and at the end the report;
//! * [`client`]: the requests a client sends ([`Client`]) and what the
//!   answers mean ([`RequestError`]).
//!
//! This module does no I/O: the server writes the events it produces, and
//! the JavaScript `Hook` class (the wasm adapter) sends the requests with
//! `fetch` and feeds the body to the decoder.

pub mod client;
pub mod decode;
pub mod events;
pub mod request;

#[cfg(test)]
mod tests;

pub use client::{Client, RequestError};
pub use decode::{Decoder, Finished};
pub use events::{Deployment, Event, Failure, PlannedFileInfo, StatementRef};
pub use request::{ApplyRequest, OptionError, Options, PlanRequest, TargetInfo};
