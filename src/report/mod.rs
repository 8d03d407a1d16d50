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
//!   pull request; [`plan_html`], [`apply_html`] and [`report_page`] render
//!   escaped HTML for the viewer and for report files.

mod html;
mod markdown;
mod text;
mod time;

pub use html::{apply_html, highlight_sql, html_escape, plan_html, report_page, REPORT_CSS};
pub(crate) use html::{escape_into, facts};
pub use markdown::plan_markdown;
// For the pull request preview (feature `lint`).
#[cfg_attr(not(feature = "lint"), allow(unused_imports))]
pub(crate) use markdown::{md_code_block, md_code_span, md_escape, plan_summary_markdown};
pub use text::{apply_text, plan_text, set_text, status_text};
pub use time::{go_duration, parse_rfc3339, rfc3339};

use crate::dir::MigrationFile;
use crate::plan::{Plan, Revision, Status, Timestamp};
use serde::{Deserialize, Serialize};

/// What a plan's text and Markdown say about a file besides its
/// statements: where it resumes, whether it is out of order or a
/// checkpoint.
pub(crate) fn file_notes(f: &crate::plan::PlannedFile) -> Vec<String> {
    let mut notes = Vec::new();
    if f.skip > 0 {
        // `skip` comes from the row's `applied` and may be as large as
        // `usize::MAX` (clamped on 32-bit targets): count in u128.
        notes.push(format!("resumes at statement {} of {}", f.skip as u128 + 1, f.statements.len()));
    }
    if f.out_of_order {
        notes.push("out of order".into());
    }
    if f.checkpoint {
        notes.push("checkpoint".into());
    }
    notes
}

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

/// Which report a [`Report`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    /// A plan: what would run.
    Plan,
    /// A status: where a database stands.
    Status,
    /// An apply: what ran.
    Apply,
}

/// The report a [`Report`] holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportBody {
    /// A plan (what would run).
    Plan(Box<Plan>),
    /// A status.
    Status(Box<Status>),
    /// An apply (what ran).
    Apply(Box<ApplyReport>),
}

/// The versioned report document: `{"format": "strata.report/v1",
/// "generator": ..., "kind": "apply", "apply": {...}}`, with the report
/// under the key its kind names. See `docs/plan.md`.
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
    /// Which report it holds.
    pub kind: ReportKind,
    /// The plan, when `kind` is `plan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Box<Plan>>,
    /// The status, when `kind` is `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Box<Status>>,
    /// The apply report, when `kind` is `apply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<Box<ApplyReport>>,
}

/// `strata <version>`: the generator of documents and the default
/// operator version of revision rows.
pub const GENERATOR: &str = concat!("strata ", env!("CARGO_PKG_VERSION"));

impl Report {
    /// A document around `body`.
    pub fn new(body: ReportBody) -> Report {
        let mut r = Report {
            format: REPORT_FORMAT.into(),
            generator: GENERATOR.into(),
            directory: None,
            target: None,
            kind: ReportKind::Plan,
            plan: None,
            status: None,
            apply: None,
        };
        match body {
            ReportBody::Plan(p) => r.plan = Some(p),
            ReportBody::Status(s) => {
                r.kind = ReportKind::Status;
                r.status = Some(s);
            }
            ReportBody::Apply(a) => {
                r.kind = ReportKind::Apply;
                r.apply = Some(a);
            }
        }
        r
    }

    /// The report the document holds, once its format is checked
    /// ([`check_format`]) and the key its `kind` names is present.
    pub fn body(&self) -> Result<ReportBody, Box<crate::error::Error>> {
        check_format(&self.format)?;
        let body = match self.kind {
            ReportKind::Plan => self.plan.clone().map(ReportBody::Plan),
            ReportKind::Status => self.status.clone().map(ReportBody::Status),
            ReportKind::Apply => self.apply.clone().map(ReportBody::Apply),
        };
        body.ok_or_else(|| {
            Box::new(crate::error::Error {
                code: "invalid-report",
                message: format!("the report document has kind {:?} but no {:?} key", self.kind, self.kind),
                file: None,
                line: None,
                column: None,
                detail: None,
                hint: "pass a document written by strata (plan.toJSON(), a hook or registry report)".into(),
            })
        })
    }
}

/// Checks that a document's `format` is one this version reads
/// ([`REPORT_FORMAT`]). Check it before reading the rest: another
/// version's document may not have the same shape.
pub fn check_format(format: &str) -> Result<(), Box<crate::error::Error>> {
    if format == REPORT_FORMAT {
        return Ok(());
    }
    Err(Box::new(crate::error::Error {
        code: "report-format",
        message: format!("unsupported report format {format:?}, expected {REPORT_FORMAT:?}"),
        file: None,
        line: None,
        column: None,
        detail: None,
        hint: "render the report with the strata version that wrote it, or a newer one".into(),
    }))
}

#[cfg(all(test, not(target_arch = "wasm32")))] // serde_json is a native dev-dependency
mod tests;
