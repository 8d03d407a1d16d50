//! Live progress of an apply: the core's protocol types
//! ([`strata::hook::events`]), which document the events and their JSON.

pub use strata::hook::{Event, PlannedFileInfo};
