//! Reports: what a plan will do, where a database stands, what an apply
//! did, and their renderings.
//!
//! * [`ApplyReport`] is built by the [`crate::plan::Executor`] as it runs.
//! * [`Report`] is the one versioned JSON document for all three kinds
//!   (`plan`, `status`, `apply`), which the hook returns, the registry
//!   stores and the viewer renders. See `docs/plan.md`.
//! * [`apply_text`], [`status_text`] and [`set_text`] print exactly what
//!   Atlas prints (spec §6.9, §6.11, §6.12, colours off); [`plan_text`]
//!   prints a plan in the same style; [`plan_markdown`] writes a plan for a
//!   pull request.

mod markdown;
mod text;
mod time;

pub use markdown::plan_markdown;
pub use text::{apply_text, plan_text, set_text, status_text};
pub use time::{go_duration, parse_rfc3339, rfc3339};

use crate::dir::MigrationFile;
use crate::plan::{Plan, Revision, Status, Timestamp};
use serde::{Deserialize, Serialize};

/// A file by name, version and description.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRef {
    /// The file name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its description.
    pub description: String,
}

impl FileRef {
    /// The reference of a directory file.
    pub fn of(f: &MigrationFile) -> FileRef {
        FileRef { name: f.name().into(), version: f.version().into(), description: f.description().into() }
    }
}

/// What an apply did (Atlas's `MigrateApply`, plus the plan digest and
/// per-statement times).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    /// The digest of the plan that ran.
    pub digest: String,
    /// The directory's `atlas.sum` total.
    pub sum: String,
    /// Nothing was executed or written.
    pub dry_run: bool,
    /// The files the run was to apply.
    pub pending: Vec<FileRef>,
    /// The version before the run.
    pub current: Option<String>,
    /// The last pending version.
    pub target: Option<String>,
    /// When the run started.
    #[serde(with = "time::serde_ts")]
    pub start: Timestamp,
    /// When it ended; `None` where Atlas never sets it (an error returned
    /// without being logged), which its text prints as the minimum duration.
    #[serde(with = "time::serde_opt_ts")]
    pub end: Option<Timestamp>,
    /// One entry per file that was started.
    pub applied: Vec<AppliedFile>,
    /// The error the run ended with.
    pub error: Option<String>,
}

impl ApplyReport {
    /// Whether the run failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// A file of an [`ApplyReport`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedFile {
    /// The file name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its description.
    pub description: String,
    /// When it started.
    #[serde(with = "time::serde_ts")]
    pub start: Timestamp,
    /// When it ended (see [`ApplyReport::end`]).
    #[serde(with = "time::serde_opt_ts")]
    pub end: Option<Timestamp>,
    /// Statements skipped because an earlier attempt applied them.
    pub skipped: usize,
    /// The statements started, in order; the last one failed if
    /// [`AppliedFile::error`] names a statement.
    pub statements: Vec<AppliedStatement>,
    /// Why the file failed.
    pub error: Option<StmtError>,
}

/// A statement of an [`AppliedFile`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedStatement {
    /// The SQL.
    pub text: String,
    /// When it was sent.
    #[serde(with = "time::serde_ts")]
    pub start: Timestamp,
    /// When the database answered.
    #[serde(with = "time::serde_opt_ts")]
    pub end: Option<Timestamp>,
}

impl AppliedStatement {
    /// How long it took, in nanoseconds.
    pub fn duration(&self) -> Option<i64> {
        self.end.map(|e| e - self.start)
    }
}

/// An error of a file: the statement (empty when the error is not about
/// one) and the message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StmtError {
    /// The failing statement, or empty.
    pub stmt: String,
    /// The message.
    pub text: String,
}

/// A row changed by `migrate set`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionChange {
    /// `set` or `remove`.
    pub op: String,
    /// The version.
    pub version: String,
    /// The description.
    pub description: String,
}

impl RevisionChange {
    /// A row set (added or marked resolved).
    pub fn set(r: &Revision) -> RevisionChange {
        RevisionChange { op: "set".into(), version: r.version.clone(), description: r.description.clone() }
    }

    /// A row removed.
    pub fn removed(r: &Revision) -> RevisionChange {
        RevisionChange { op: "remove".into(), version: r.version.clone(), description: r.description.clone() }
    }
}

/// What `migrate set` did (Atlas's `MigrateSet`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetReport {
    /// The changed rows, in the order they were changed.
    pub changes: Vec<RevisionChange>,
    /// The version of the last row afterwards, if any.
    pub current: Option<String>,
}

/// The format identifier of [`Report`] documents.
pub const REPORT_FORMAT: &str = "strata.report/v1";

/// The versioned report document: `{"format": "strata.report/v1", "kind":
/// "plan" | "status" | "apply", ...}`. See `docs/plan.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// Who made it (e.g. `strata 0.1.0`).
    #[serde(default)]
    pub generator: String,
    /// The directory name in the registry, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
    /// The target database's name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The report.
    #[serde(flatten)]
    pub body: ReportBody,
}

/// The three kinds of report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "report", rename_all = "lowercase")]
pub enum ReportBody {
    /// A plan (what would run).
    Plan(Box<Plan>),
    /// A status.
    Status(Box<Status>),
    /// An apply (what ran).
    Apply(Box<ApplyReport>),
}

impl Report {
    /// A document around `body`.
    pub fn new(body: ReportBody) -> Report {
        Report {
            format: REPORT_FORMAT.into(),
            generator: format!("strata {}", env!("CARGO_PKG_VERSION")),
            directory: None,
            target: None,
            body,
        }
    }

    /// Checks that a document read from JSON is one this version reads
    /// (its `format` is [`REPORT_FORMAT`]).
    pub fn check_format(&self) -> Result<(), Box<crate::error::Error>> {
        if self.format == REPORT_FORMAT {
            return Ok(());
        }
        Err(Box::new(crate::error::Error {
            code: "report-format",
            message: format!("unsupported report format {:?}, expected {REPORT_FORMAT:?}", self.format),
            file: None,
            line: None,
            column: None,
            detail: None,
            hint: "render the report with the strata version that wrote it, or a newer one".into(),
        }))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))] // serde_json is a native dev-dependency
mod tests;
