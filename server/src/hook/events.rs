//! Live progress of an apply.
//!
//! Every variant serializes to one JSON object with a `type` tag and
//! camelCase fields, e.g. `{"type":"statementDone","file":"1_a.sql",
//! "statement":2,"line":3,"durationNs":81234}`, so the HTTP layer can
//! stream them as NDJSON. An apply sends, in order: `planned`; for each
//! file that starts, `fileStarted`, a `statementDone` per statement that
//! succeeded, and `fileDone` once all its statements ran; `error` if the
//! run failed; and always `finished` last, with the report.
//!
//! A dry run sends only `planned` and `finished` (nothing runs). Under tx
//! mode `all` a `fileDone` is durable only if `finished` carries no error.

use serde::{Deserialize, Serialize};
use strata::report::ApplyReport;

/// A file of the plan, as `planned` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedFileInfo {
    /// The file name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Statements in the file.
    pub statements: usize,
    /// Statements an earlier attempt already applied (the run resumes after them).
    pub skip: usize,
    /// Its transaction mode (`file`, `all`, `none`).
    pub tx_mode: String,
}

/// One progress event; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Event {
    /// The plan computed under the lock, before anything runs.
    Planned {
        /// The target's name.
        target: String,
        /// The plan digest (`sha256:…`).
        digest: String,
        /// Whether this is a dry run.
        dry_run: bool,
        /// The last applied version before the run.
        current: Option<String>,
        /// The last version the run applies.
        to_version: Option<String>,
        /// The pending files.
        files: Vec<PlannedFileInfo>,
        /// The number of statements that will run.
        statements: usize,
    },
    /// A file started (its "started" revision row was written).
    FileStarted {
        /// The file name.
        file: String,
        /// Its version.
        version: String,
        /// The number of statements that will run.
        statements: usize,
        /// Statements skipped because an earlier attempt applied them.
        skip: usize,
    },
    /// A statement ran (and its revision row was written).
    StatementDone {
        /// The file name.
        file: String,
        /// The statement's 1-based number in the file.
        statement: usize,
        /// The 1-based line it starts on.
        line: usize,
        /// How long the database took, in nanoseconds.
        duration_ns: u64,
    },
    /// Every statement of a file ran.
    FileDone {
        /// The file name.
        file: String,
        /// From `fileStarted` to here, in nanoseconds.
        duration_ns: u64,
    },
    /// The run failed; see [`crate::hook::Failure`].
    Error(crate::hook::Failure),
    /// The run is over (successfully or not): the core's report.
    Finished {
        /// The report (`strata::report::ApplyReport`).
        report: Box<ApplyReport>,
    },
}
