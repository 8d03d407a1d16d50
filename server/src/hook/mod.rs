//! The server hook's driver layer: applies reviewed plans to SQLite and
//! PostgreSQL target databases.
//!
//! The hook plans nothing itself: it reads the target's state
//! ([`strata::plan::DbState`]), asks the core for the plan
//! ([`strata::plan::plan`]) and runs it through the core's sans-IO
//! [`strata::plan::Executor`], the same state machine the conformance suite
//! checks against Atlas. What is here is I/O:
//!
//! * [`targets`]: the databases a server may deploy to, configured on the
//!   server (a TOML file, `STRATA_TARGET_<NAME>` variables), never by a
//!   request;
//! * [`driver`]: one connection per apply, Atlas's lock (a PostgreSQL
//!   advisory lock, or Atlas's SQLite lock file) held for the whole
//!   read-plan-execute, the revisions table created and written exactly as
//!   Atlas does, the executor's steps mapped to the database, and a dry run
//!   that writes nothing;
//! * [`events`]: the live progress of an apply, serializable as NDJSON.

pub mod driver;
pub mod events;
mod lock;
pub mod targets;

#[cfg(test)]
mod tests;

pub use driver::{apply, read_state, Applied, ApplyOptions, Failure, HookError, HookErrorKind, StatementRef};
pub use events::Event;
pub use targets::{Target, TargetDialect, TargetError, Targets};
