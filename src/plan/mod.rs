//! Planning: which files and statements run against a database, and in
//! which order (spec §6).
//!
//! [`plan`] takes a [`Directory`], the database's state ([`DbState`]: its
//! revisions and whether it is clean) and [`PlanOptions`], and returns a
//! [`Plan`]: the pending files with their statements, the transaction mode
//! of each, where a partially applied file resumes, and a [`Plan::digest`]
//! that identifies all of it. It decides exactly as Atlas's
//! `Executor.Pending` and `migrate apply` do, with Atlas's error texts.
//!
//! An [`Executor`] then runs a plan: a state machine with no I/O that tells
//! a driver what to do next ([`Step`]) and takes the result
//! ([`Outcome`]). It writes the revision rows Atlas writes, at the same
//! moments, and builds the [`crate::report::ApplyReport`].
//!
//! Some of Atlas's refusals only happen when a file is reached (a statement
//! that cannot be split, a bad `atlas:txmode` directive, an edited statement
//! of a partially applied file). The plan finds them up front and keeps them
//! on the file ([`PlannedFile::error`]) so a preview can say so; the executor
//! raises them at the same point Atlas does, after the files before it ran.
//!
//! ## The plan digest
//!
//! [`Plan::digest`] is `sha256:` and the hex SHA-256 of a byte string built
//! from, in this order. Numbers (and counts) are unsigned LEB128 varints;
//! `field(x)` is the byte length of `x` as a varint followed by `x`;
//! `count(n)` is `n` as a varint; `opt(x)` is the byte 0 when `x` is
//! unset, else the byte 1 and `field(x)` (or the number). Every part is
//! self-delimiting, so two different inputs never give the same string.
//! 1. `field("strata-plan-v1")`;
//! 2. the directory version: `field(sum)`, the `atlas.sum` total computed
//!    from the files (so it covers every byte of every file), and
//!    `field(dialect)`;
//! 3. the database: `opt(not_clean)`, `count(revisions)`, and for each
//!    revision `field` of its version and description, its type, applied
//!    and total as numbers, `field` of its error, error_stmt and hash, then
//!    its partial hashes: the byte 0 for `null`, else the byte 1, their
//!    count and a `field` each.
//!    `executed_at`, `execution_time` and `operator_version` are left out:
//!    planning does not read them, and drivers render times differently;
//! 4. the options: `opt(baseline)`, `field` of allow-dirty (`true` or
//!    `false`) and exec-order, `opt(to_version)`, `opt(amount)` and
//!    `field(tx_mode)`;
//! 5. the plan itself: `count(files)`, and for each planned file `field` of
//!    its name, entry hash and resolved tx mode, its resume index as a
//!    number, then `count(statements)` and a `field` of every statement's
//!    text.
//!
//! The same inputs give the same digest on every platform, in wasm and
//! natively; any change to a file, a revision row or an option changes it.

pub mod clean;
mod exec;
pub mod fk;
pub mod revision;
mod status;

pub use exec::{ExecOptions, Executor, Outcome, Step, Timestamp};
pub use revision::{Revision, RevisionSql, RevisionType};
pub use status::{set, status, SetPlan, Status};

use crate::dir::{DirError, Directory, MigrationFile};
use crate::lex::Dialect;
use crate::sum::SumError;
use crate::text::go_quote;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;

/// Atlas's `--exec-order`: what to do with files added below the last
/// applied version (spec §6.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecOrder {
    /// Refuse them (the default).
    #[default]
    Linear,
    /// Ignore them; they are never applied.
    LinearSkip,
    /// Apply them first, then the new files.
    NonLinear,
}

impl ExecOrder {
    /// The flag value: `linear`, `linear-skip` or `non-linear`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecOrder::Linear => "linear",
            ExecOrder::LinearSkip => "linear-skip",
            ExecOrder::NonLinear => "non-linear",
        }
    }

    /// Parses a flag value; the error is Atlas's message.
    pub fn parse(s: &str) -> Result<ExecOrder, PlanError> {
        match s {
            "linear" => Ok(ExecOrder::Linear),
            "linear-skip" => Ok(ExecOrder::LinearSkip),
            "non-linear" => Ok(ExecOrder::NonLinear),
            _ => Err(PlanError::UnknownExecOrder { value: s.to_string() }),
        }
    }
}

/// Atlas's `--tx-mode` (spec §6.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxMode {
    /// No transaction: statements and revision writes go straight to the
    /// database.
    None,
    /// One transaction per file (the default).
    #[default]
    File,
    /// One transaction around every file.
    All,
}

impl TxMode {
    /// The flag value: `none`, `file` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            TxMode::None => "none",
            TxMode::File => "file",
            TxMode::All => "all",
        }
    }

    /// Parses a flag value; the error is Atlas's message.
    pub fn parse(s: &str) -> Result<TxMode, PlanError> {
        match s {
            "none" => Ok(TxMode::None),
            "file" => Ok(TxMode::File),
            "all" => Ok(TxMode::All),
            _ => Err(PlanError::UnknownTxMode { value: s.to_string() }),
        }
    }
}

/// How to plan (Atlas's `migrate apply` flags).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlanOptions {
    /// `--baseline V`: on a database without revisions, record file `V` as
    /// applied (type baseline) and start after it.
    pub baseline: Option<String>,
    /// `--allow-dirty`: plan on a first run even if the database is not
    /// clean.
    pub allow_dirty: bool,
    /// `--exec-order`.
    pub exec_order: ExecOrder,
    /// Plan up to and including this version (Atlas's `ExecuteTo`).
    pub to_version: Option<String>,
    /// Plan at most this many pending files (the `amount` argument).
    pub amount: Option<u64>,
    /// `--tx-mode`.
    pub tx_mode: TxMode,
}

/// What the planner knows about the database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DbState {
    /// The rows of `atlas_schema_revisions`, ordered by version as the
    /// database returns them (spec §5.4).
    pub revisions: Vec<Revision>,
    /// Set when the database is not clean apart from the revisions table:
    /// the driver's reason, e.g. `found table "users" in schema "public"`.
    /// Only consulted when there are no revisions.
    pub not_clean: Option<String>,
    /// The revisions table does not exist (only [`status`] reads this:
    /// planning for an apply creates the table first).
    pub table_missing: bool,
}

/// A file of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedFile {
    /// The file name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its description.
    pub description: String,
    /// Its `atlas.sum` entry hash (base64, no `h1:`): the revision's `hash`.
    pub hash: String,
    /// Whether it is a checkpoint file.
    pub checkpoint: bool,
    /// Whether it was added below the last applied version and runs
    /// because of `--exec-order non-linear`.
    pub out_of_order: bool,
    /// The transaction mode it runs in (the global mode, or its
    /// `atlas:txmode` directive).
    pub tx_mode: TxMode,
    /// Statements already applied by an earlier attempt: execution resumes
    /// at `statements[skip]`.
    pub skip: usize,
    /// The existing revision row (a partially applied file), reused as is.
    pub revision: Option<Revision>,
    /// Every statement of the file, including skipped ones.
    pub statements: Vec<PlannedStatement>,
    /// An error Atlas raises when it reaches this file; the executor stops
    /// here.
    pub error: Option<PlanError>,
}

impl PlannedFile {
    /// The statements that will run (those after [`PlannedFile::skip`]).
    pub fn pending_statements(&self) -> &[PlannedStatement] {
        self.statements.get(self.skip..).unwrap_or(&[])
    }
}

/// A statement of a planned file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedStatement {
    /// The statement text, as it is sent to the database.
    pub text: String,
    /// Atlas's byte position of the statement in the file.
    pub pos: usize,
    /// The 1-based line it starts on.
    pub line: usize,
    /// `h1:` + base64 SHA-256 of this and every earlier statement's text:
    /// what `partial_hashes` records once it ran.
    pub hash: String,
}

/// The result of [`plan`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// `sha256:<hex>`, see the module documentation.
    pub digest: String,
    /// The `atlas.sum` total hash of the directory (`h1:…`).
    pub sum: String,
    /// The dialect the statements were split with.
    pub dialect: Dialect,
    /// The options the plan was made with.
    pub options: PlanOptions,
    /// The version of the last revision before the run (with a baseline
    /// row, the baseline's), if any.
    pub current: Option<String>,
    /// The version of the last planned file, if any.
    pub target: Option<String>,
    /// A baseline row the executor writes before anything else.
    pub baseline: Option<Revision>,
    /// The files to run, in order. Empty: nothing to do.
    pub files: Vec<PlannedFile>,
    /// The number of revisions the plan was computed against.
    pub revisions: usize,
}

impl Plan {
    /// Whether nothing is pending (a baseline row may still be written).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The number of statements that will run.
    pub fn statement_count(&self) -> usize {
        self.files.iter().map(|f| f.pending_statements().len()).sum()
    }

    /// The first error the executor will stop at, if any.
    pub fn first_error(&self) -> Option<(&PlannedFile, &PlanError)> {
        self.files.iter().find_map(|f| f.error.as_ref().map(|e| (f, e)))
    }
}

/// Why planning failed, or why execution will stop at a file. `Display`
/// gives Atlas's exact message (spec §6.10).
///
/// In JSON it is one flat object: `kind` (the variant, kebab-case),
/// `code`, `message` (Atlas's text), `hint`, and the variant's fields in
/// camelCase (`file`, `line`, `statement`, `outOfOrder`, ...); for `scan`
/// and `checksum` the inner message is `detail`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanError {
    /// The directory does not match its `atlas.sum`.
    Checksum {
        /// Atlas's message (`checksum mismatch`, ...).
        message: String,
        /// The file that differs, if known.
        file: Option<String>,
        /// Atlas's detail line (`L3: 2_x.sql was edited`).
        detail: Option<String>,
        /// The stable code of the [`SumError`].
        code: String,
    },
    /// `--baseline` and `--allow-dirty` together.
    BaselineAndAllowDirty,
    /// An `amount` below 1.
    InvalidAmount {
        /// The amount given.
        amount: u64,
    },
    /// An unknown `--exec-order` value.
    UnknownExecOrder {
        /// The value given.
        value: String,
    },
    /// An unknown `--tx-mode` value.
    UnknownTxMode {
        /// The value given.
        value: String,
    },
    /// First run on a database that is not clean.
    NotClean {
        /// The driver's reason.
        reason: String,
    },
    /// `--baseline V` names no file.
    BaselineNotFound {
        /// The version given.
        version: String,
    },
    /// The last revision is partial but its file is gone.
    MissingMigration {
        /// The revision's version.
        version: String,
        /// The revision's description.
        description: String,
    },
    /// Files were added below the last applied version (`--exec-order linear`).
    NonLinear {
        /// The files added out of order.
        out_of_order: Vec<String>,
        /// The files that are pending otherwise.
        pending: Vec<String>,
    },
    /// `to_version` names no file (or no pending file).
    VersionNotFound {
        /// The version given.
        version: String,
        /// A close version, when there is one.
        suggestion: Option<String>,
    },
    /// A pending file cannot be split into statements.
    Scan {
        /// The file.
        file: String,
        /// The splitter's message.
        message: String,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
    },
    /// A statement that already ran in a partially applied file changed.
    HistoryChanged {
        /// The file.
        file: String,
        /// The 1-based number of the statement.
        statement: usize,
        /// The 1-based line it starts on now, when it still exists.
        line: Option<usize>,
    },
    /// The file's `atlas:txmode` directive has an unknown value.
    UnknownTxModeDirective {
        /// The file.
        file: String,
        /// The value.
        value: String,
    },
    /// The file has more than one `atlas:txmode` directive.
    MultipleTxModeDirectives {
        /// The file.
        file: String,
        /// The values.
        values: Vec<String>,
    },
    /// `-- atlas:txmode all` in a file.
    TxModeAllInDirective {
        /// The file.
        file: String,
    },
    /// A file's directive differs from a global `--tx-mode all`.
    TxModeConflict {
        /// The file.
        file: String,
        /// The directive's mode.
        mode: String,
    },
    /// `status`: the partially applied last revision has no file.
    StatusFileNotFound {
        /// The revision's version.
        version: String,
    },
    /// `set` without a version on a database with no revisions.
    SetNeedsVersion,
    /// `set` with a version that names no file.
    SetVersionNotFound {
        /// The version given.
        version: String,
    },
}

impl PlanError {
    /// A stable identifier, for programs.
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::Checksum { code, .. } => {
                ["checksum-file-not-found", "checksum-format", "checksum-line-too-long"]
                    .into_iter()
                    .find(|c| c == code)
                    .unwrap_or("checksum-mismatch")
            }
            PlanError::BaselineAndAllowDirty => "baseline-and-allow-dirty",
            PlanError::InvalidAmount { .. } => "invalid-amount",
            PlanError::UnknownExecOrder { .. } => "unknown-exec-order",
            PlanError::UnknownTxMode { .. } => "unknown-tx-mode",
            PlanError::NotClean { .. } => "not-clean",
            PlanError::BaselineNotFound { .. } => "baseline-not-found",
            PlanError::MissingMigration { .. } => "missing-migration",
            PlanError::NonLinear { .. } => "non-linear",
            PlanError::VersionNotFound { .. } | PlanError::SetVersionNotFound { .. } => "version-not-found",
            PlanError::Scan { .. } => "scan-failed",
            PlanError::HistoryChanged { .. } => "history-changed",
            PlanError::UnknownTxModeDirective { .. }
            | PlanError::MultipleTxModeDirectives { .. }
            | PlanError::TxModeAllInDirective { .. }
            | PlanError::TxModeConflict { .. } => "txmode-directive",
            PlanError::StatusFileNotFound { .. } => "missing-migration",
            PlanError::SetNeedsVersion => "version-required",
        }
    }

    /// The file concerned, if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            PlanError::Checksum { file, .. } => file.as_deref(),
            PlanError::NonLinear { out_of_order, .. } => out_of_order.first().map(String::as_str),
            PlanError::Scan { file, .. }
            | PlanError::HistoryChanged { file, .. }
            | PlanError::UnknownTxModeDirective { file, .. }
            | PlanError::MultipleTxModeDirectives { file, .. }
            | PlanError::TxModeAllInDirective { file }
            | PlanError::TxModeConflict { file, .. } => Some(file),
            _ => None,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            PlanError::Checksum { .. } => {
                "check your migration files and run 'strata hash' (or 'atlas migrate hash') to re-hash the contents"
                    .into()
            }
            PlanError::BaselineAndAllowDirty => "pass either --baseline or --allow-dirty, not both".into(),
            PlanError::InvalidAmount { .. } => "pass a positive number of files, or no amount for all".into(),
            PlanError::UnknownExecOrder { .. } => "use linear, linear-skip or non-linear".into(),
            PlanError::UnknownTxMode { .. } => "use none, file or all".into(),
            PlanError::NotClean { .. } => {
                "the database has objects but no revisions: pass --baseline VERSION to mark the files it already has as applied, or --allow-dirty to apply every file anyway".into()
            }
            PlanError::BaselineNotFound { .. } => "pass the version of a file in the directory".into(),
            PlanError::MissingMigration { .. } => {
                "restore the file from version control, or repair the revision with 'atlas migrate set'".into()
            }
            PlanError::NonLinear { .. } => {
                "rename the files so they sort after the last applied version, or plan with --exec-order non-linear (apply them) or linear-skip (ignore them)".into()
            }
            PlanError::VersionNotFound { .. } => "pass the version of a pending file".into(),
            PlanError::Scan { .. } => "fix the SQL of the file, then run 'strata hash' to re-hash it".into(),
            PlanError::HistoryChanged { .. } => {
                "a statement that already ran was edited: restore it as it was applied, fix only the statements after it, and re-hash".into()
            }
            PlanError::UnknownTxModeDirective { .. }
            | PlanError::MultipleTxModeDirectives { .. }
            | PlanError::TxModeAllInDirective { .. } => {
                "write one '-- atlas:txmode none' or '-- atlas:txmode file' line in the file's header".into()
            }
            PlanError::TxModeConflict { .. } => {
                "run with --tx-mode file, or remove the directive from the file".into()
            }
            PlanError::StatusFileNotFound { .. } => "restore the file from version control".into(),
            PlanError::SetNeedsVersion => "pass the version to set the database to".into(),
            PlanError::SetVersionNotFound { .. } => "pass the version of a file in the directory".into(),
        }
    }

    /// The flat user-facing error, with the file, line and hint.
    pub fn to_error(&self) -> crate::error::Error {
        let line = match self {
            PlanError::Scan { line, .. } | PlanError::HistoryChanged { line, .. } => *line,
            _ => None,
        };
        let detail = match self {
            PlanError::Checksum { detail, .. } => detail.clone(),
            _ => None,
        };
        crate::error::Error {
            code: self.code(),
            message: self.to_string(),
            file: self.file().map(str::to_string),
            line,
            column: None,
            detail,
            hint: self.hint(),
        }
    }

    fn from_sum(e: &SumError) -> PlanError {
        PlanError::Checksum {
            message: e.to_string(),
            file: match e {
                SumError::Checksum(c) => Some(c.file.clone()),
                _ => Some(crate::sum::SUM_FILE_NAME.into()),
            },
            detail: e.detail(),
            code: e.code().into(),
        }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Checksum { message, .. } => f.write_str(message),
            PlanError::BaselineAndAllowDirty => {
                f.write_str("sql/migrate: baseline and allow-dirty are mutually exclusive")
            }
            PlanError::InvalidAmount { amount } => write!(f, "cannot apply '{amount}' migration files"),
            PlanError::UnknownExecOrder { value } => write!(f, "unknown execution order: {}", go_quote(value)),
            PlanError::UnknownTxMode { value } => write!(f, "unknown tx-mode {}", go_quote(value)),
            PlanError::NotClean { reason } => write!(
                f,
                "sql/migrate: connected database is not clean: {reason}. baseline version or allow-dirty is required"
            ),
            PlanError::BaselineNotFound { version } => write!(f, "baseline version {} not found", go_quote(version)),
            PlanError::MissingMigration { version, description } => {
                let name =
                    Revision { version: version.clone(), description: description.clone(), ..Revision::default() }
                        .file_name();
                write!(
                    f,
                    "sql/migrate: missing migration: revision {} is partially applied but migration file was not found",
                    go_quote(&name)
                )
            }
            PlanError::NonLinear { out_of_order, .. } => {
                if out_of_order.len() == 1 {
                    write!(f, "migration file {} was", out_of_order[0])?;
                } else {
                    write!(f, "migration files {} were", out_of_order.join(", "))?;
                }
                f.write_str(" added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error")
            }
            PlanError::VersionNotFound { version, suggestion } => {
                write!(f, "sql/migrate: migration with version {} not found", go_quote(version))?;
                if let Some(s) = suggestion {
                    write!(f, ". Did you mean {}?", go_quote(s))?;
                }
                Ok(())
            }
            PlanError::Scan { file, message, .. } => {
                write!(f, "sql/migrate: scanning statements from {}: {message}", go_quote(file))
            }
            PlanError::HistoryChanged { file, statement, .. } => {
                write!(f, "sql/migrate: history changed: statement {statement} from file {} changed", go_quote(file))
            }
            PlanError::UnknownTxModeDirective { file, value } => {
                write!(f, "unknown txmode {} found in file directive {}", go_quote(value), go_quote(file))
            }
            PlanError::MultipleTxModeDirectives { file, values } => {
                let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
                write!(f, "multiple txmode values found in file {}: [{}]", go_quote(file), quoted.join(" "))
            }
            PlanError::TxModeAllInDirective { file } => {
                write!(f, "txmode \"all\" is not allowed in file directive {}. Use \"file\" instead", go_quote(file))
            }
            PlanError::StatusFileNotFound { version } => {
                write!(f, "migration file with version {} not found", go_quote(version))
            }
            PlanError::SetNeedsVersion => f.write_str("accepts 1 arg(s), received 0"),
            PlanError::SetVersionNotFound { version } => {
                write!(f, "migration with version {} not found", go_quote(version))
            }
            PlanError::TxModeConflict { file, mode } => write!(
                f,
                "cannot set txmode directive to {} in {} when txmode \"all\" is set globally",
                go_quote(mode),
                go_quote(file)
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// The JSON form of a [`PlanError`]: one struct with every field optional,
/// which costs far less code (and wasm) than a tagged enum.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct FlatError {
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statement: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    out_of_order: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
}

impl PlanError {
    /// The variant's name in JSON (`history-changed`, `non-linear`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            PlanError::Checksum { .. } => "checksum",
            PlanError::BaselineAndAllowDirty => "baseline-and-allow-dirty",
            PlanError::InvalidAmount { .. } => "invalid-amount",
            PlanError::UnknownExecOrder { .. } => "unknown-exec-order",
            PlanError::UnknownTxMode { .. } => "unknown-tx-mode",
            PlanError::NotClean { .. } => "not-clean",
            PlanError::BaselineNotFound { .. } => "baseline-not-found",
            PlanError::MissingMigration { .. } => "missing-migration",
            PlanError::NonLinear { .. } => "non-linear",
            PlanError::VersionNotFound { .. } => "version-not-found",
            PlanError::Scan { .. } => "scan",
            PlanError::HistoryChanged { .. } => "history-changed",
            PlanError::UnknownTxModeDirective { .. } => "unknown-tx-mode-directive",
            PlanError::MultipleTxModeDirectives { .. } => "multiple-tx-mode-directives",
            PlanError::TxModeAllInDirective { .. } => "tx-mode-all-in-directive",
            PlanError::TxModeConflict { .. } => "tx-mode-conflict",
            PlanError::StatusFileNotFound { .. } => "status-file-not-found",
            PlanError::SetNeedsVersion => "set-needs-version",
            PlanError::SetVersionNotFound { .. } => "set-version-not-found",
        }
    }

    fn flat(&self) -> FlatError {
        let mut f = FlatError {
            kind: self.kind().into(),
            code: Some(self.code().into()),
            message: Some(self.to_string()),
            hint: Some(self.hint()),
            ..FlatError::default()
        };
        match self.clone() {
            PlanError::Checksum { message, file, detail, code: _ } => {
                f.file = file;
                f.detail = detail;
                f.reason = Some(message);
            }
            PlanError::BaselineAndAllowDirty | PlanError::SetNeedsVersion => {}
            PlanError::InvalidAmount { amount } => f.amount = Some(amount),
            PlanError::UnknownExecOrder { value } | PlanError::UnknownTxMode { value } => f.value = Some(value),
            PlanError::NotClean { reason } => f.reason = Some(reason),
            PlanError::BaselineNotFound { version }
            | PlanError::StatusFileNotFound { version }
            | PlanError::SetVersionNotFound { version } => f.version = Some(version),
            PlanError::MissingMigration { version, description } => {
                f.version = Some(version);
                f.description = Some(description);
            }
            PlanError::NonLinear { out_of_order, pending } => {
                f.out_of_order = Some(out_of_order);
                f.pending = Some(pending);
            }
            PlanError::VersionNotFound { version, suggestion } => {
                f.version = Some(version);
                f.suggestion = suggestion;
            }
            PlanError::Scan { file, message, line } => {
                f.file = Some(file);
                f.detail = Some(message);
                f.line = line;
            }
            PlanError::HistoryChanged { file, statement, line } => {
                f.file = Some(file);
                f.statement = Some(statement);
                f.line = line;
            }
            PlanError::UnknownTxModeDirective { file, value } => {
                f.file = Some(file);
                f.value = Some(value);
            }
            PlanError::MultipleTxModeDirectives { file, values } => {
                f.file = Some(file);
                f.values = Some(values);
            }
            PlanError::TxModeAllInDirective { file } => f.file = Some(file),
            PlanError::TxModeConflict { file, mode } => {
                f.file = Some(file);
                f.mode = Some(mode);
            }
        }
        f
    }

    fn from_flat(f: FlatError) -> Result<PlanError, String> {
        let need = |v: Option<String>, name: &str| v.ok_or_else(|| format!("a {} error needs {name}", f.kind));
        Ok(match f.kind.as_str() {
            "checksum" => PlanError::Checksum {
                message: f.reason.clone().or(f.message.clone()).unwrap_or_default(),
                file: f.file.clone(),
                detail: f.detail.clone(),
                code: f.code.clone().unwrap_or_else(|| "checksum-mismatch".into()),
            },
            "baseline-and-allow-dirty" => PlanError::BaselineAndAllowDirty,
            "set-needs-version" => PlanError::SetNeedsVersion,
            "invalid-amount" => PlanError::InvalidAmount { amount: f.amount.unwrap_or(0) },
            "unknown-exec-order" => PlanError::UnknownExecOrder { value: need(f.value.clone(), "value")? },
            "unknown-tx-mode" => PlanError::UnknownTxMode { value: need(f.value.clone(), "value")? },
            "not-clean" => PlanError::NotClean { reason: need(f.reason.clone(), "reason")? },
            "baseline-not-found" => PlanError::BaselineNotFound { version: need(f.version.clone(), "version")? },
            "status-file-not-found" => PlanError::StatusFileNotFound { version: need(f.version.clone(), "version")? },
            "set-version-not-found" => PlanError::SetVersionNotFound { version: need(f.version.clone(), "version")? },
            "missing-migration" => PlanError::MissingMigration {
                version: need(f.version.clone(), "version")?,
                description: f.description.clone().unwrap_or_default(),
            },
            "non-linear" => PlanError::NonLinear {
                out_of_order: f.out_of_order.clone().unwrap_or_default(),
                pending: f.pending.clone().unwrap_or_default(),
            },
            "version-not-found" => PlanError::VersionNotFound {
                version: need(f.version.clone(), "version")?,
                suggestion: f.suggestion.clone(),
            },
            "scan" => PlanError::Scan {
                file: need(f.file.clone(), "file")?,
                message: f.detail.clone().unwrap_or_default(),
                line: f.line,
            },
            "history-changed" => PlanError::HistoryChanged {
                file: need(f.file.clone(), "file")?,
                statement: f.statement.unwrap_or(1),
                line: f.line,
            },
            "unknown-tx-mode-directive" => PlanError::UnknownTxModeDirective {
                file: need(f.file.clone(), "file")?,
                value: need(f.value.clone(), "value")?,
            },
            "multiple-tx-mode-directives" => PlanError::MultipleTxModeDirectives {
                file: need(f.file.clone(), "file")?,
                values: f.values.clone().unwrap_or_default(),
            },
            "tx-mode-all-in-directive" => PlanError::TxModeAllInDirective { file: need(f.file.clone(), "file")? },
            "tx-mode-conflict" => {
                PlanError::TxModeConflict { file: need(f.file.clone(), "file")?, mode: need(f.mode.clone(), "mode")? }
            }
            other => return Err(format!("unknown plan error kind {other:?}")),
        })
    }
}

impl Serialize for PlanError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.flat().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PlanError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PlanError::from_flat(FlatError::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// `state` without Atlas's cloud identifier row, which is never a
/// revision (a `SELECT *` of the table returns it).
pub(crate) fn without_cloud_row(state: &DbState) -> std::borrow::Cow<'_, DbState> {
    use revision::CLOUD_IDENTIFIER_VERSION;
    if !state.revisions.iter().any(|r| r.version == CLOUD_IDENTIFIER_VERSION) {
        return std::borrow::Cow::Borrowed(state);
    }
    let mut s = state.clone();
    s.revisions.retain(|r| r.version != CLOUD_IDENTIFIER_VERSION);
    std::borrow::Cow::Owned(s)
}

/// Go's `slices.BinarySearchFunc`, probe for probe, so that a list the
/// database did not return in bytewise order gives Atlas's answer.
fn go_search<T>(items: &[T], mut cmp: impl FnMut(&T) -> std::cmp::Ordering) -> (usize, bool) {
    let (mut i, mut j) = (0, items.len());
    while i < j {
        let h = (i + j) / 2;
        if cmp(&items[h]) == std::cmp::Ordering::Less {
            i = h + 1;
        } else {
            j = h;
        }
    }
    (i, i < items.len() && cmp(&items[i]) == std::cmp::Ordering::Equal)
}

/// The result of Atlas's `Executor.Pending` as indices into the
/// directory's files, plus the out-of-order files it put first.
struct Pending {
    files: Vec<usize>,
    out_of_order: Vec<usize>,
    baseline: Option<Revision>,
}

/// Atlas's `Executor.Pending` (spec §6.2) over the first `limit` files of
/// `dir` (`ExecuteTo` plans on a truncated directory). `ErrNoPendingFiles`
/// is an empty list.
fn pending(
    dir: &Directory,
    limit: usize,
    checkpoints: &[bool],
    state: &DbState,
    opts: &PlanOptions,
) -> Result<Pending, PlanError> {
    let all: Vec<usize> = (0..limit).collect();
    let files = dir.files();
    let migrations: Vec<usize> = all.iter().copied().filter(|&i| !checkpoints[i]).collect();
    let revs = &state.revisions;
    let version = |i: usize| files[i].version();
    let mut out = Pending { files: Vec::new(), out_of_order: Vec::new(), baseline: None };
    let Some(last) = revs.last() else {
        // First run.
        if let (Some(reason), false, None) = (&state.not_clean, opts.allow_dirty, &opts.baseline) {
            return Err(PlanError::NotClean { reason: reason.clone() });
        }
        if let Some(b) = &opts.baseline {
            let Some(pos) = migrations.iter().rposition(|&i| version(i) == b) else {
                return Err(PlanError::BaselineNotFound { version: b.clone() });
            };
            let f = &files[migrations[pos]];
            out.baseline = Some(Revision {
                version: f.version().to_string(),
                description: f.description().to_string(),
                kind: RevisionType::BASELINE,
                ..Revision::default()
            });
            out.files = migrations[pos + 1..].to_vec();
        } else {
            let from = all.iter().rposition(|&i| checkpoints[i]).unwrap_or(0);
            out.files = all[from..].to_vec();
        }
        return Ok(out);
    };
    if last.is_partial() && !all.is_empty() {
        let (idx, found) = go_search(&all, |&i| version(i).cmp(&last.version));
        if found && checkpoints[all[idx]] {
            out.files.push(all[idx]);
            out.files.extend(all[idx..].iter().copied().filter(|&i| !checkpoints[i]));
            return Ok(out);
        }
        if migrations.is_empty() {
            return Ok(out);
        }
    } else if migrations.is_empty() {
        return Ok(out);
    }
    let partially = last.is_partial();
    let idx = if partially {
        migrations.iter().rposition(|&i| version(i) == last.version)
    } else {
        migrations.iter().rposition(|&i| version(i) <= last.version.as_str())
    };
    let Some(mut idx) = idx else {
        if partially {
            return Err(PlanError::MissingMigration {
                version: last.version.clone(),
                description: last.description.clone(),
            });
        }
        out.files = migrations;
        return Ok(out);
    };
    if !partially {
        idx += 1;
    }
    let mut pending = migrations[idx..].to_vec();
    let first_rev = revs[0].version.as_str();
    if let Some(first) = migrations[..idx].iter().position(|&i| version(i) >= first_rev) {
        if opts.exec_order != ExecOrder::LinearSkip {
            let between = &migrations[first..idx];
            // Sorted revisions and versions (the usual case): a merge finds
            // what the binary searches find, in one pass.
            let sorted = revs.windows(2).all(|w| w[0].version < w[1].version)
                && between.windows(2).all(|w| version(w[0]) <= version(w[1]));
            let skipped: Vec<usize> = if sorted {
                let mut j = 0;
                between
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let v = version(i);
                        while j < revs.len() && revs[j].version.as_str() < v {
                            j += 1;
                        }
                        !(j < revs.len() && revs[j].version == v)
                    })
                    .collect()
            } else {
                between
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let v = version(i);
                        !go_search(revs, |r| r.version.as_str().cmp(v)).1
                    })
                    .collect()
            };
            if !skipped.is_empty() {
                match opts.exec_order {
                    ExecOrder::NonLinear => {
                        out.out_of_order.clone_from(&skipped);
                        let mut all = skipped;
                        all.extend(pending);
                        pending = all;
                    }
                    _ => {
                        return Err(PlanError::NonLinear {
                            out_of_order: skipped.iter().map(|&i| files[i].name().to_string()).collect(),
                            pending: pending.iter().map(|&i| files[i].name().to_string()).collect(),
                        })
                    }
                }
            }
        }
    }
    out.files = pending;
    Ok(out)
}

/// Atlas's suggestion for a version that names no file (`ExecuteTo`): the
/// last file whose version is contained in `v`, or contains it with at
/// least 2 more bytes.
fn suggest(dir: &Directory, v: &str) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    dir.files()
        .iter()
        .rev()
        .map(MigrationFile::version)
        .find(|w| v.contains(w) || (w.contains(v) && w.len() - v.len() > 1))
        .map(str::to_string)
}

/// The transaction mode of `f` under the global `mode` (Atlas's `modeFor`).
pub(crate) fn tx_mode_for(f: &MigrationFile, mode: TxMode) -> Result<TxMode, PlanError> {
    let ds = f.directive("txmode");
    let file = || f.name().to_string();
    let m = match ds.as_slice() {
        [] => return Ok(mode),
        [_, _, ..] => return Err(PlanError::MultipleTxModeDirectives { file: file(), values: ds }),
        [d] if d == "all" => return Err(PlanError::TxModeAllInDirective { file: file() }),
        [d] if d == "none" => TxMode::None,
        [d] if d == "file" => TxMode::File,
        [d] => return Err(PlanError::UnknownTxModeDirective { file: file(), value: d.clone() }),
    };
    if m == mode {
        Ok(mode)
    } else if mode == TxMode::All {
        Err(PlanError::TxModeConflict { file: file(), mode: m.as_str().into() })
    } else {
        Ok(m)
    }
}

/// Plans `dir` against the database `state` (spec §6.1–§6.8).
///
/// Errors are Atlas's planning errors: an invalid directory, the option
/// checks, a database that is not clean, files out of order, a missing or
/// unknown version. "No pending files" is not an error: the plan is empty.
/// Errors that Atlas raises only when it reaches a file are kept on that
/// file ([`PlannedFile::error`]).
///
/// ```
/// use strata::dir::Directory;
/// use strata::plan::{plan, DbState, PlanOptions};
///
/// let files = [("1_a.sql", "CREATE TABLE a (id int);\n"), ("2_b.sql", "CREATE TABLE b (id int);\n")];
/// let sum = strata::sum::SumFile::compute(files.iter().map(|(n, c)| (*n, c.as_bytes()))).render();
/// let dir = Directory::new(files.iter().map(|(n, c)| (n.to_string(), c.as_bytes().to_vec()))
///     .chain([("atlas.sum".to_string(), sum.into_bytes())]))?;
/// let p = plan(&dir, &DbState::default(), &PlanOptions::default())?;
/// assert_eq!(p.files.len(), 2);
/// assert_eq!(p.files[1].statements[0].text, "CREATE TABLE b (id int);");
/// assert!(p.digest.starts_with("sha256:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plan(dir: &Directory, state: &DbState, opts: &PlanOptions) -> Result<Plan, PlanError> {
    let state = &*without_cloud_row(state);
    if opts.baseline.is_some() && opts.allow_dirty {
        return Err(PlanError::BaselineAndAllowDirty);
    }
    if opts.amount == Some(0) {
        return Err(PlanError::InvalidAmount { amount: 0 });
    }
    let files = dir.files();
    // Atlas's `ExecuteTo` looks the version up before it validates the
    // directory.
    let to = match &opts.to_version {
        None => None,
        Some(v) => match files.iter().rposition(|f| f.version() == v) {
            Some(idx) => Some((v, idx)),
            None => return Err(PlanError::VersionNotFound { version: v.clone(), suggestion: suggest(dir, v) }),
        },
    };
    // The directory's sum, its validation and its checkpoint files are
    // computed once per `Directory` and kept.
    let sum = dir.computed_sum();
    dir.verify(None).map_err(|e| PlanError::from_sum(&e))?;
    let checkpoints = dir.checkpoints();
    let mut p = match to {
        None => pending(dir, files.len(), checkpoints, state, opts)?,
        Some((v, idx)) => {
            if checkpoints[idx + 1..].iter().any(|&c| c) {
                pending(dir, idx + 1, checkpoints, state, opts)?
            } else {
                let mut p = pending(dir, files.len(), checkpoints, state, opts)?;
                if !p.files.is_empty() {
                    let Some(last) = p.files.iter().rposition(|&i| files[i].version() == v) else {
                        return Err(PlanError::VersionNotFound { version: v.clone(), suggestion: None });
                    };
                    p.files.truncate(last + 1);
                }
                p
            }
        }
    };
    if let Some(n) = opts.amount {
        p.files.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    let by_version: HashMap<&str, &Revision> = match p.files.is_empty() {
        true => HashMap::new(),
        false => state.revisions.iter().map(|r| (r.version.as_str(), r)).collect(),
    };
    // The sum's entries are in file order (sum-ignored files left out).
    let entries = sum.entries();
    let hash_of = |name: &str| {
        entries.binary_search_by(|e| e.name.as_bytes().cmp(name.as_bytes())).map_or("", |k| entries[k].hash.as_str())
    };
    let mut planned = Vec::with_capacity(p.files.len());
    for &i in &p.files {
        let f = &files[i];
        planned.push(plan_file(
            f,
            hash_of(f.name()),
            checkpoints[i],
            p.out_of_order.contains(&i),
            by_version.get(f.version()).copied(),
            dir.dialect(),
            opts.tx_mode,
        ));
    }
    let current =
        p.baseline.as_ref().map(|b| b.version.clone()).or_else(|| state.revisions.last().map(|r| r.version.clone()));
    let mut plan = Plan {
        digest: String::new(),
        sum: format!("h1:{}", dir.sum_total()),
        dialect: dir.dialect(),
        options: opts.clone(),
        current,
        target: planned.last().map(|f| f.version.clone()),
        baseline: p.baseline,
        files: planned,
        revisions: state.revisions.len(),
    };
    plan.digest = digest(&plan, state);
    Ok(plan)
}

fn plan_file(
    f: &MigrationFile,
    hash: &str,
    checkpoint: bool,
    out_of_order: bool,
    existing: Option<&Revision>,
    dialect: Dialect,
    mode: TxMode,
) -> PlannedFile {
    let mut error = None;
    let statements = match f.statements(dialect) {
        Ok(stmts) => {
            let mut h = Sha256::new();
            stmts
                .iter()
                .map(|s| {
                    h.update(s.text.as_bytes());
                    PlannedStatement {
                        text: s.text.to_string(),
                        pos: s.pos,
                        line: s.line,
                        hash: format!("h1:{}", crate::sum::base64(&h.clone().finalize())),
                    }
                })
                .collect()
        }
        Err(e) => {
            let (message, line) = match &e {
                DirError::Lex { error, .. } => (error.to_string(), Some(error.line())),
                DirError::NotUtf8 { line, column, offset, .. } => {
                    (format!("{line}:{column}: invalid UTF-8 at byte {offset}"), Some(*line))
                }
                other => (other.to_string(), None),
            };
            error = Some(PlanError::Scan { file: f.name().to_string(), message, line });
            Vec::new()
        }
    };
    let skip = existing.map_or(0, |r| usize::try_from(r.applied).unwrap_or(usize::MAX));
    // Atlas checks the applied prefix after the statements were split.
    if error.is_none() && skip > 0 {
        let stored = existing.and_then(|r| r.partial_hashes.as_deref()).unwrap_or(&[]);
        if let Some(i) = (0..skip).find(|&i| {
            let stored = stored.get(i).map(|h| h.strip_prefix("h1:").unwrap_or(h));
            statements.get(i).map(|s: &PlannedStatement| &s.hash[3..]) != stored || stored.is_none()
        }) {
            error = Some(PlanError::HistoryChanged {
                file: f.name().to_string(),
                statement: i + 1,
                line: statements.get(i).map(|s| s.line),
            });
        }
    }
    // The mode is resolved when the file is reached, after the files before it.
    let tx_mode = match tx_mode_for(f, mode) {
        Ok(m) => m,
        Err(e) => {
            // Atlas resolves the mode before it touches the file, so this
            // error comes first.
            error = Some(e);
            mode
        }
    };
    PlannedFile {
        name: f.name().to_string(),
        version: f.version().to_string(),
        description: f.description().to_string(),
        hash: hash.to_string(),
        checkpoint,
        out_of_order,
        tx_mode,
        skip,
        revision: existing.cloned(),
        statements,
        error,
    }
}

fn digest(plan: &Plan, state: &DbState) -> String {
    /// The hasher behind a buffer: many short fields, few `update` calls.
    struct W(Sha256, Vec<u8>);
    impl W {
        fn raw(&mut self, b: &[u8]) {
            self.1.extend_from_slice(b);
            if self.1.len() >= 1 << 14 {
                self.0.update(&self.1);
                self.1.clear();
            }
        }
        /// `n` as an unsigned LEB128 varint (7 bits a byte, low first,
        /// high bit set on all but the last): self-delimiting, one byte
        /// below 128.
        fn num(&mut self, mut n: u64) {
            while n >= 0x80 {
                self.1.push((n as u8) | 0x80);
                n >>= 7;
            }
            self.1.push(n as u8);
        }
        fn count(&mut self, n: usize) {
            self.num(n as u64);
        }
        /// The length, then the bytes.
        fn text(&mut self, s: &str) {
            self.count(s.len());
            self.raw(s.as_bytes());
        }
        /// An optional value: a 0 byte, or a 1 byte and the value.
        fn opt(&mut self, v: Option<&str>) {
            match v {
                None => self.raw(&[0]),
                Some(s) => {
                    self.raw(&[1]);
                    self.text(s);
                }
            }
        }
    }
    let mut w = W(Sha256::new(), Vec::with_capacity(1 << 15));
    w.text("strata-plan-v1");
    w.text(&plan.sum);
    w.text(plan.dialect.name());
    w.opt(state.not_clean.as_deref());
    w.count(state.revisions.len());
    for r in &state.revisions {
        w.text(&r.version);
        w.text(&r.description);
        w.num(r.kind.0);
        w.num(r.applied);
        w.num(r.total);
        w.text(&r.error);
        w.text(&r.error_stmt);
        w.text(&r.hash);
        match &r.partial_hashes {
            None => w.raw(&[0]),
            Some(h) => {
                w.raw(&[1]);
                w.count(h.len());
                for x in h {
                    w.text(x);
                }
            }
        }
    }
    let o = &plan.options;
    w.opt(o.baseline.as_deref());
    w.text(if o.allow_dirty { "true" } else { "false" });
    w.text(o.exec_order.as_str());
    w.opt(o.to_version.as_deref());
    match o.amount {
        None => w.raw(&[0]),
        Some(n) => {
            w.raw(&[1]);
            w.num(n);
        }
    }
    w.text(o.tx_mode.as_str());
    w.count(plan.files.len());
    for f in &plan.files {
        w.text(&f.name);
        w.text(&f.hash);
        w.text(f.tx_mode.as_str());
        w.num(f.skip as u64);
        w.count(f.statements.len());
        for s in &f.statements {
            w.text(&s.text);
        }
    }
    let W(mut h, rest) = w;
    h.update(&rest);
    let d = h.finalize();
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    s
}

#[cfg(test)]
mod tests;
