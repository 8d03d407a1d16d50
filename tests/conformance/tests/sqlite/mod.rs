//! The database half of the `atlas-apply` harness: a SQLite driver over
//! rusqlite, an emulation of Atlas's CLI over the core, the matchers, and
//! the case runner.

pub mod case;
pub mod cli;
pub mod driver;
pub mod matchers;
