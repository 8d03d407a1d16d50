//! # strata-lint: the lint module of the strata npm package
//!
//! A second WebAssembly module beside the main one (`pkg/strata_bg.wasm`),
//! loaded by `strata/lint` (npm/lint.mjs) only when `lint()` or `preview()`
//! is first called: it holds sqlparser, which the web viewer never needs.
//! It depends on the core without its `js` feature, so none of the main
//! module's classes are exported from it.
//!
//! This crate only converts. Every rule is the core's: [`strata::lint::lint`]
//! finds, [`strata::preview::preview`] compares and renders. What is here:
//! reading the options (JSON, unknown keys refused), building the core's
//! [`Directory`] from the files JavaScript hands over, and turning the
//! core's errors into the one error shape of the package
//! ([`strata::error::Error`]). The wasm-bindgen layer itself (`js`) is
//! wasm32 only; the rest is tested natively.

#![deny(missing_docs)]
// The core's flat `Error` is returned at most once per call, to become a
// thrown JS error: its size does not matter.
#![allow(clippy::result_large_err)]

use serde::{Deserialize, Serialize};
use strata::dir::{DirOptions, Directory};
use strata::error::Error;
use strata::lex::Dialect;
use strata::lint::{LintReport, Severity};
use strata::plan::{DbState, PlanOptions, Revision};
use strata::preview::{PreviewOptions, TargetInput};

#[cfg(target_arch = "wasm32")]
mod js;

/// The files of one directory as JavaScript hands them over: every entry of
/// the folder's top level (`atlas.sum` included), with the dialect its
/// statements are split with.
#[derive(Clone, Debug, Default)]
pub struct Input {
    /// `(name, bytes)` of each entry.
    pub entries: Vec<(String, Vec<u8>)>,
    /// The directory's dialect name, if it has one (`Directory#dialect`).
    pub dialect: Option<String>,
}

/// An error about the caller's input: what, and what to do.
fn usage(code: &'static str, message: String, hint: &str) -> Error {
    Error::new(code, message, hint)
}

/// The dialect named `name` (the core's names and aliases).
pub fn parse_dialect(name: &str) -> Result<Dialect, Error> {
    Dialect::parse(name).ok_or_else(|| {
        usage(
            "unknown-dialect",
            format!("unknown dialect {name:?}"),
            "use one of generic, mysql, postgres, sqlite, sqlserver",
        )
    })
}

/// The dialect to use: the option if given, else the directory's, else
/// `generic`.
fn dialect_of(option: Option<&str>, input: &Input) -> Result<Dialect, Error> {
    parse_dialect(option.or(input.dialect.as_deref()).unwrap_or_default())
}

/// The core's directory of `input`, split with `dialect`. `what` names the
/// directory in errors (`the base directory app@latest`).
fn directory(input: Input, dialect: Dialect, what: Option<&str>) -> Result<Directory, Error> {
    // The entries move into the directory: the files are held once.
    Directory::with_options(input.entries, DirOptions { dialect, ..DirOptions::default() }).map_err(|e| {
        let mut e = Error::from(&e);
        if let (Some(what), None) = (what, &e.detail) {
            e.detail = Some(format!("in {what}"));
        }
        e
    })
}

/// Reads options given as JSON text (the JavaScript object, stringified);
/// `what` names them in errors. Unknown keys are refused: a misspelt option
/// would otherwise be silently off.
pub fn options_from_json<T: for<'de> Deserialize<'de> + Default>(
    json: &str,
    what: &str,
    hint: &str,
) -> Result<T, Error> {
    if json.trim().is_empty() || json.trim() == "null" {
        return Ok(T::default());
    }
    serde_json::from_str(json).map_err(|e| {
        // serde_json's position is in text the caller never wrote: drop it.
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or_default();
        usage("invalid-options", format!("invalid {what}: {msg}"), hint)
    })
}

/// Options of [`lint`] (`LintOptions` in lint.d.ts).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LintOptions {
    /// The dialect; default: the directory's, else `generic`.
    #[serde(default)]
    pub dialect: Option<String>,
    /// The files to analyse (the new ones), by name; default: all. The
    /// others only tell the analyzers which tables exist.
    #[serde(default)]
    pub files: Option<Vec<String>>,
}

/// The hint of a lint options error.
pub const LINT_OPTIONS_HINT: &str =
    "pass {dialect?: \"postgres\", files?: [\"20240102000000_add.sql\"]} (files: the new ones; default all)";

/// What [`lint`] returns: the core's report, with the number of errors and
/// warnings among its findings and unparsed statements.
#[derive(Clone, Debug, Serialize)]
pub struct LintResult {
    /// The core's report (`findings`, `unparsed`).
    #[serde(flatten)]
    pub report: LintReport,
    /// How many findings (of both lists) are errors.
    pub errors: usize,
    /// How many findings (of both lists) are warnings.
    pub warnings: usize,
}

/// Lints `input` with the core's analyzers. Fails on input that is not a
/// directory (a bad file name, a duplicate), an unknown dialect, or a file
/// in `options.files` that is not a migration file of the directory;
/// anything the analyzers cannot read is a finding, never an error.
pub fn lint(input: Input, options: &LintOptions) -> Result<LintResult, Error> {
    let dialect = dialect_of(options.dialect.as_deref(), &input)?;
    let dir = directory(input, dialect, None)?;
    let names: Vec<&str> = match &options.files {
        None => dir.files().iter().map(|f| f.name()).collect(),
        Some(names) => {
            if let Some(missing) = names.iter().find(|n| dir.index_of(n).is_none()) {
                return Err(usage(
                    "unknown-file",
                    format!("{missing:?} (in the lint option `files`) is not a migration file of the directory"),
                    &format!(
                        "name new files by their file name, e.g. {:?}; the directory has {} migration files",
                        dir.files().last().map_or("20240101000000_init.sql", |f| f.name()),
                        dir.files().len()
                    ),
                ));
            }
            names.iter().map(String::as_str).collect()
        }
    };
    let report = strata::lint::lint(&dir, &names, dialect);
    let (errors, warnings) = (report.count(Severity::Error), report.count(Severity::Warning));
    Ok(LintResult { report, errors, warnings })
}

/// A preview rendered every way at once: the JSON document, the Markdown
/// comment and the text, and the exit code.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The JSON document (`strata.preview/v1`).
    pub json: String,
    /// [`strata::preview::Preview::to_markdown`].
    pub markdown: String,
    /// [`strata::preview::Preview::to_text`].
    pub text: String,
    /// [`strata::preview::Preview::exit_code`].
    pub exit_code: u8,
}

/// Runs the core's preview and renders it.
fn render(local: &Directory, base: Option<&Directory>, options: &PreviewOptions) -> Rendered {
    let p = strata::preview::preview(local, base, options);
    Rendered {
        // A document of strings, numbers and lists: it always serialises.
        json: serde_json::to_string(&p).unwrap_or_default(),
        markdown: p.to_markdown(),
        text: p.to_text(),
        exit_code: p.exit_code(),
    }
}

/// Options of [`preview`] (`PreviewOptions` in lint.d.ts).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewArgs {
    /// The directory's name in the registry (the comment's marker).
    #[serde(default)]
    pub name: String,
    /// The base as the user wrote it; default `NAME@latest`.
    #[serde(default)]
    pub base_ref: Option<String>,
    /// The base version's digest (`sha256:…`), when known.
    #[serde(default)]
    pub base_version: Option<String>,
    /// The dialect; default: the local directory's, else `generic`.
    #[serde(default)]
    pub dialect: Option<String>,
    /// A target to plan against.
    #[serde(default)]
    pub target: Option<TargetArgs>,
}

/// The target of [`PreviewArgs`].
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetArgs {
    /// The target's name on the server.
    pub name: String,
    /// Its dialect; default: the one in `revisions` (the hook's answer),
    /// else the local directory's.
    #[serde(default)]
    pub dialect: Option<String>,
    /// What `Hook#revisions(target)` resolved to (`{target, dialect,
    /// revisions, notClean, tableMissing}`), or just the array of rows.
    pub revisions: serde_json::Value,
    /// How the deploy will plan (`PlanOptions` of the main module).
    #[serde(default)]
    pub options: PlanOptions,
}

/// The hint of a preview options error.
pub const PREVIEW_OPTIONS_HINT: &str =
    "pass {name: \"app\", baseRef?: \"app@latest\", baseVersion?: \"sha256:…\", dialect?, \
     target?: {name, dialect?, revisions: await hook.revisions(name), options?}}";

/// The core's target input of `t`.
fn target_input(t: &TargetArgs, local: Dialect) -> Result<TargetInput, Error> {
    let bad = |m: String| {
        usage("invalid-options", format!("invalid preview options: target.revisions: {m}"), PREVIEW_OPTIONS_HINT)
    };
    let from_hook = t.revisions.get("dialect").and_then(|d| d.as_str());
    let dialect = match t.dialect.as_deref().or(from_hook) {
        Some(d) => parse_dialect(d)?,
        None => local,
    };
    let state = match &t.revisions {
        serde_json::Value::Array(_) => DbState {
            revisions: Vec::<Revision>::deserialize(&t.revisions).map_err(|e| bad(e.to_string()))?,
            ..DbState::default()
        },
        serde_json::Value::Object(_) => DbState::deserialize(&t.revisions).map_err(|e| bad(e.to_string()))?,
        _ => return Err(bad("must be what Hook#revisions resolves to, or an array of revision rows".into())),
    };
    Ok(TargetInput { name: t.name.clone(), dialect, state, options: t.options.clone() })
}

/// Previews `local` against `base` (`None`: the base tag does not exist
/// yet) with the core's [`strata::preview::preview`]. Fails only on input
/// that is not a directory, an unknown dialect or bad options; everything
/// wrong with the directories is in the preview.
pub fn preview(local: Input, base: Option<Input>, args: &PreviewArgs) -> Result<Rendered, Error> {
    if args.name.is_empty() {
        return Err(usage(
            "invalid-options",
            "the preview options need `name`, the directory's name in the registry".into(),
            PREVIEW_OPTIONS_HINT,
        ));
    }
    let dialect = dialect_of(args.dialect.as_deref(), &local)?;
    let base_ref = args.base_ref.clone().unwrap_or_else(|| format!("{}@latest", args.name));
    let target = args.target.as_ref().map(|t| target_input(t, dialect)).transpose()?;
    let local = directory(local, dialect, Some("the local directory"))?;
    let base = base.map(|b| directory(b, dialect, Some(&format!("the base directory {base_ref}")))).transpose()?;
    let options = PreviewOptions { name: args.name.clone(), base_ref, base_version: args.base_version.clone(), target };
    Ok(render(&local, base.as_ref(), &options))
}

#[cfg(test)]
mod tests;
