//! The events of an apply, as the hook streams them (NDJSON, one per line).
//!
//! Every variant serializes to one JSON object with a `type` tag and
//! camelCase fields, e.g. `{"type":"statementDone","file":"1_a.sql",
//! "statement":2,"line":3,"durationNs":81234}`. An apply sends, in order:
//! `planned`; for each file that starts, `fileStarted`, a `statementDone`
//! per statement that succeeded, and `fileDone` once all its statements
//! ran; `error` if the run failed; and always `finished` last, with the
//! report (the server adds the `deployment` it recorded the run as, see
//! [`Deployment`]).
//!
//! A dry run sends only `planned` and `finished` (nothing runs). Under tx
//! mode `all` a `fileDone` is durable only if `finished` carries no error.
//!
//! A full stream:
//!
//! ```text
//! {"type":"planned","target":"prod","digest":"sha256:…","dryRun":false,"current":null,"toVersion":"2","files":[{"name":"1_a.sql","version":"1","statements":1,"skip":0,"txMode":"file"},…],"statements":3}
//! {"type":"fileStarted","file":"1_a.sql","version":"1","statements":1,"skip":0}
//! {"type":"statementDone","file":"1_a.sql","statement":1,"line":1,"durationNs":81234}
//! {"type":"fileDone","file":"1_a.sql","durationNs":912345}
//! {"type":"error","file":"2_b.sql","statement":{"index":2,"line":2,"pos":28,"text":"INSERT INTO nope VALUES (1);"},"message":"no such table: nope","error":"sql/migrate: executing statement …"}
//! {"type":"finished","report":{…},"deployment":{"id":"dep_…","status":"failed"}}
//! ```

use crate::report::ApplyReport;
use serde::{Deserialize, Serialize};

/// A statement of a failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementRef {
    /// Its 1-based number in the file.
    pub index: usize,
    /// The 1-based line it starts on.
    pub line: usize,
    /// Atlas's byte position of the statement in the file.
    pub pos: usize,
    /// Its text.
    pub text: String,
}

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The file being run, if one was.
    pub file: Option<String>,
    /// The failing statement, when a statement failed.
    pub statement: Option<StatementRef>,
    /// The database's message (or the step's error).
    pub message: String,
    /// The error the run ended with, Atlas's text (`sql/migrate: executing
    /// statement "…" from version "…": …`).
    pub error: String,
}

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
    /// The run failed; see [`Failure`].
    Error(Failure),
    /// The run is over (successfully or not): the core's report.
    Finished {
        /// The report (the core's [`ApplyReport`]).
        report: Box<ApplyReport>,
    },
}

/// What the server recorded a run as: the `deployment` field the server
/// adds to the `finished` line. `{"id": "dep_…", "status": "succeeded" |
/// "failed" | "dry-run"}`, or `{"id": null, "error": "…"}` when the
/// registry could not record it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The deployment's id (`GET /v1/deployments/{id}`), if it was recorded.
    pub id: Option<String>,
    /// Its status, if it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why it was not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
