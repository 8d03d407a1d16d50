//! A pull request's preview (cargo feature `lint`): what the branch's
//! migration directory adds to what the registry's tag (production) runs,
//! the statements of the new files, whether `atlas.sum` is valid, the lint
//! findings, and optionally what would run on a target now.
//!
//! [`preview`] compares the local directory with the base version file by
//! file ([`VersionDiff`], the viewer's diff of two tags), lints the new
//! files with the base's files as the existing schema ([`crate::lint`]) and
//! plans the local directory against a target's revisions
//! ([`crate::plan::plan`]). The result renders as one pull request comment
//! ([`Preview::to_markdown`], always under GitHub's 65,536-character limit),
//! as text ([`Preview::to_text`]) or as JSON (`Serialize`, format
//! `strata.preview/v1`).
//!
//! What is an error ([`Preview::exit_code`] 1):
//! * a file of the base changed or removed (history rewritten: a database
//!   that ran the base ran the old bytes, and Atlas refuses the new ones);
//! * a new file that sorts before the base's last file (Atlas refuses it on
//!   a database that ran the base, unless `--exec-order non-linear`);
//! * an `atlas.sum` that does not match the files;
//! * a lint error (destructive change, a file that cannot be split);
//! * a target on which the run would stop.
//!
//! Warnings (exit code 4 when there is no error): lint warnings, and a base
//! tag that does not exist yet (every file is new).
//!
//! ```
//! use strata::dir::Directory;
//! use strata::preview::{preview, PreviewOptions};
//!
//! let base = Directory::new([("1_init.sql", b"CREATE TABLE users (id int, name text);\n".to_vec())])?;
//! let mut files = vec![
//!     ("1_init.sql", b"CREATE TABLE users (id int, name text);\n".to_vec()),
//!     ("2_drop.sql", b"ALTER TABLE users DROP COLUMN name;\n".to_vec()),
//! ];
//! let sum = Directory::new(files.clone())?.checksum().render();
//! files.push(("atlas.sum", sum.into_bytes()));
//! let local = Directory::new(files)?;
//! let options = PreviewOptions::new("app", "app@latest");
//! let p = preview(&local, Some(&base), &options);
//! assert_eq!(p.new_files[0].name, "2_drop.sql");
//! assert_eq!(p.lint.findings[0].code, "DS103");
//! assert_eq!(p.exit_code(), 1);
//! assert!(p.to_markdown().starts_with("<!-- strata:preview app -->\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::dir::Directory;
use crate::error::Error;
use crate::lex::Dialect;
use crate::lint::{lint, LintReport, Severity};
use crate::plan::{plan, DbState, Plan, PlanOptions};
use crate::registry::{Manifest, VersionDiff};
use serde::Serialize;

mod markdown;
#[cfg(test)]
mod tests;
mod text;

pub use markdown::COMMENT_LIMIT;

/// The `format` of a preview's JSON document.
pub const FORMAT: &str = "strata.preview/v1";

/// The hidden first line of a preview's Markdown for directory `name`: a
/// workflow finds its earlier comment by it and updates that one instead
/// of adding another. Registry names (letters, digits, `.`, `_`, `-`)
/// cannot end the HTML comment early.
///
/// ```
/// assert_eq!(strata::preview::marker("app"), "<!-- strata:preview app -->");
/// ```
pub fn marker(name: &str) -> String {
    // Anything that is not a registry name character is replaced, so that
    // no name can close the comment (`-->`) or break the line.
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_') { c } else { '-' }).collect();
    // `--` is fine inside the comment; a trailing `-` next to `-->` too,
    // because of the space.
    format!("<!-- strata:preview {safe} -->")
}

/// What to compare the local directory with, and where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreviewOptions {
    /// The directory's name in the registry: it names the comment's marker.
    pub name: String,
    /// The base as the user wrote it, e.g. `app@latest`.
    pub base_ref: String,
    /// The base version's digest (`sha256:…`), when known.
    pub base_version: Option<String>,
    /// A target to plan the local directory against.
    pub target: Option<TargetInput>,
}

impl PreviewOptions {
    /// Options for directory `name` against `base_ref`, without a target.
    pub fn new(name: &str, base_ref: &str) -> PreviewOptions {
        PreviewOptions { name: name.into(), base_ref: base_ref.into(), ..PreviewOptions::default() }
    }
}

/// A target database as its hook reports it: what the planner needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetInput {
    /// The target's name on the server.
    pub name: String,
    /// Its dialect: the local directory is split with it for the plan.
    pub dialect: Dialect,
    /// Its revisions table (`GET /hook/v1/targets/{t}/revisions`).
    pub state: DbState,
    /// How the deploy will plan (Atlas's `migrate apply` flags).
    pub options: PlanOptions,
}

/// Something about the directory as a whole (not a lint finding) that a
/// reviewer must see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error (exit code 1) or warning.
    pub severity: Severity,
    /// What, where and what to do; `code` is stable: `history-rewritten`,
    /// `out-of-order`, `base-missing`, a checksum code, or a plan error's.
    #[serde(flatten)]
    pub error: Error,
}

/// One statement of a new file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PreviewStatement<'a> {
    /// Its 1-based line in the file.
    pub line: usize,
    /// Its text, as Atlas splits it.
    pub text: &'a str,
}

/// A file of the local directory that the base does not have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewFile<'a> {
    /// The file name.
    pub name: &'a str,
    /// Its size in bytes.
    pub size: usize,
    /// It sorts before the base's last file.
    pub out_of_order: bool,
    /// Its statements (empty when it cannot be split: see `error`).
    pub statements: Vec<PreviewStatement<'a>>,
    /// Why it cannot be split (lint reports it as `ST002` too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

/// The base version, as far as the preview knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BaseInfo {
    /// As the user wrote it, e.g. `app@latest`.
    pub reference: String,
    /// Its digest, when known.
    pub version: Option<String>,
    /// Whether the tag exists: when not, every local file is new.
    pub found: bool,
    /// How many migration files it has.
    pub files: usize,
}

impl BaseInfo {
    /// `app@latest (sha256:…, 12 files)` or `app@latest (does not exist
    /// yet)`, with `code` applied to the reference and the digest (a
    /// Markdown code span, or nothing for text).
    fn describe(&self, code: impl Fn(&str) -> String) -> String {
        if !self.found {
            return format!("{} (does not exist yet)", code(&self.reference));
        }
        let version = self.version.as_deref().map(|v| format!("{}, ", code(v))).unwrap_or_default();
        format!("{} ({version}{})", code(&self.reference), crate::text::count(self.files, "file"))
    }
}

/// What would run on a target if the local directory were deployed now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetPreview {
    /// The target's name.
    pub name: String,
    /// Its dialect.
    pub dialect: Dialect,
    /// The plan; `None` when planning failed (the failure is a
    /// [`Problem`]).
    pub plan: Option<Plan>,
}

/// A pull request's preview; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview<'a> {
    /// Always [`FORMAT`].
    pub format: &'static str,
    /// The directory's name in the registry.
    pub name: String,
    /// The base version.
    pub base: BaseInfo,
    /// The dialect the local files were split and parsed with.
    pub dialect: Dialect,
    /// Whether the local `atlas.sum` matches the files.
    pub sum_ok: bool,
    /// The local files the base does not have, in order.
    pub new_files: Vec<NewFile<'a>>,
    /// Files of the base whose bytes differ locally (errors).
    pub changed: Vec<String>,
    /// Files of the base missing locally (errors).
    pub removed: Vec<String>,
    /// How many files are the same in both.
    pub unchanged: usize,
    /// Errors and warnings about the directory as a whole.
    pub problems: Vec<Problem>,
    /// The lint findings on the new files.
    pub lint: LintReport,
    /// What would run on the target, when one was given.
    pub target: Option<TargetPreview>,
    /// How many errors: problems and findings.
    pub errors: usize,
    /// How many warnings.
    pub warnings: usize,
    /// [`Preview::exit_code`].
    pub exit_code: u8,
}

impl Preview<'_> {
    /// The command's exit code: 1 with any error, 4 with warnings only,
    /// 0 when clean.
    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }

    /// The number of statements in the new files.
    pub fn statement_count(&self) -> usize {
        self.new_files.iter().map(|f| f.statements.len()).sum()
    }

    /// The Markdown of one pull request comment, at most
    /// [`COMMENT_LIMIT`] bytes (so characters): its first line is
    /// [`marker`]; long SQL is cut and what does not fit is summarised.
    pub fn to_markdown(&self) -> String {
        markdown::render(self, COMMENT_LIMIT)
    }

    /// The preview as text for a terminal, every statement in full.
    pub fn to_text(&self) -> String {
        text::render(self)
    }
}

/// A problem with the given severity.
fn problem(severity: Severity, code: &'static str, message: String, file: Option<&str>, hint: String) -> Problem {
    Problem { severity, error: Error { file: file.map(str::to_string), ..Error::new(code, message, hint) } }
}

/// Compares `local` with `base` (`None`: the base tag does not exist yet),
/// lints the new files and plans against `options.target`. Never fails:
/// everything wrong is a [`Problem`] or a lint finding.
pub fn preview<'a>(local: &'a Directory, base: Option<&Directory>, options: &PreviewOptions) -> Preview<'a> {
    let dialect = local.dialect();
    let mut problems = Vec::new();
    let reference = &options.base_ref;
    let diff = match base {
        Some(b) => VersionDiff::between(&Manifest::of(b), &Manifest::of(local)),
        None => {
            problems.push(problem(
                Severity::Warning,
                "base-missing",
                format!("{reference} does not exist in the registry: every file is new"),
                None,
                format!("check the name and tag; the first push to the registry creates {reference}"),
            ));
            VersionDiff {
                added: local.files().iter().map(|f| f.name().to_string()).collect(),
                ..VersionDiff::default()
            }
        }
    };
    for c in &diff.changed {
        problems.push(problem(
            Severity::Error,
            "history-rewritten",
            format!("{} was changed, but {reference} already has it: databases that ran it keep the old statements, and Atlas refuses the new bytes", c.name),
            Some(&c.name),
            "restore the file as it is in the registry and put the change in a new migration file".into(),
        ));
    }
    for name in &diff.removed {
        problems.push(problem(
            Severity::Error,
            "history-rewritten",
            format!("{name} was removed, but {reference} already has it: databases that ran it still have its changes"),
            Some(name),
            "restore the file; to undo its changes, add a new migration file".into(),
        ));
    }
    let last_base = base.and_then(|b| b.files().last()).map(|f| f.name());
    for name in &diff.out_of_order {
        problems.push(problem(
            Severity::Error,
            "out-of-order",
            format!(
                "{name} sorts before {}, the last file of {reference}: Atlas refuses it on a database that ran {reference} (migration file was added out of order)",
                last_base.unwrap_or_default()
            ),
            Some(name),
            "rename it with a version after the last file of the base, or deploy with --exec-order non-linear".into(),
        ));
    }
    let sum_ok = match local.verify(None) {
        Ok(()) => true,
        Err(e) => {
            problems.push(Problem { severity: Severity::Error, error: Error::from(&e) });
            false
        }
    };
    let added: Vec<&str> = diff.added.iter().map(String::as_str).collect();
    let new_files = local
        .files()
        .iter()
        // `added` is in name order, as the directory is.
        .filter(|f| diff.added.binary_search_by(|n| n.as_str().cmp(f.name())).is_ok())
        .map(|f| {
            let (statements, error) = match f.statements(dialect) {
                Ok(s) => (s.into_iter().map(|s| PreviewStatement { line: s.line, text: s.text }).collect(), None),
                Err(e) => (Vec::new(), Some(Error::from(&e))),
            };
            NewFile {
                name: f.name(),
                size: f.bytes().len(),
                out_of_order: diff.out_of_order.iter().any(|n| n == f.name()),
                statements,
                error,
            }
        })
        .collect();
    let lint = lint(local, &added, dialect);
    let mut target_problems = Vec::new();
    let target = options.target.as_ref().map(|t| target_preview(local, t, &mut target_problems));
    // An invalid sum is reported once, not again as the target's refusal.
    problems.extend(target_problems.into_iter().filter(|p| sum_ok || !p.error.code.starts_with("checksum")));
    let count = |s: Severity| {
        problems.iter().filter(|p| p.severity == s).count()
            + lint.findings.iter().chain(&lint.unparsed).filter(|f| f.severity == s).count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    Preview {
        format: FORMAT,
        name: options.name.clone(),
        base: BaseInfo {
            reference: reference.clone(),
            version: options.base_version.clone(),
            found: base.is_some(),
            files: base.map_or(0, |b| b.files().len()),
        },
        dialect,
        sum_ok,
        new_files,
        changed: diff.changed.into_iter().map(|c| c.name).collect(),
        removed: diff.removed,
        unchanged: diff.unchanged,
        problems,
        lint,
        target,
        errors,
        warnings,
        exit_code: if errors > 0 {
            1
        } else if warnings > 0 {
            4
        } else {
            0
        },
    }
}

/// Plans `local` against target `t`; a refusal or a file the run would stop
/// at becomes an error in `problems`.
fn target_preview(local: &Directory, t: &TargetInput, problems: &mut Vec<Problem>) -> TargetPreview {
    // The hook splits with the target's dialect. Splitting again here would
    // hold every file twice: the caller reads the directory with it.
    if t.dialect != local.dialect() {
        problems.push(problem(
            Severity::Error,
            "dialect-mismatch",
            format!(
                "the directory was read as {} but target {} is {}: its statements would be split differently",
                local.dialect(),
                t.name,
                t.dialect
            ),
            None,
            format!("read the directory with dialect {} (--dialect {})", t.dialect, t.dialect),
        ));
        return TargetPreview { name: t.name.clone(), dialect: t.dialect, plan: None };
    }
    let dir = local;
    let on = |mut e: Error| {
        e.message = format!("on target {}: {}", t.name, e.message);
        Problem { severity: Severity::Error, error: e }
    };
    let plan = match plan(dir, &t.state, &t.options) {
        Ok(p) => {
            if let Some((_, e)) = p.first_error() {
                problems.push(on(e.to_error()));
            }
            Some(p)
        }
        Err(e) => {
            problems.push(on(e.to_error()));
            None
        }
    };
    TargetPreview { name: t.name.clone(), dialect: t.dialect, plan }
}
