//! The JavaScript API (wasm32 only). This module only converts: bytes cross
//! as `Uint8Array`, results as plain objects typed in the generated `.d.ts`,
//! and errors as thrown `Error`s carrying `code`, `file`, `line`, `column`,
//! `detail` and `hint`. Every rule lives in the core modules.

use crate::dir::{DirOptions, Directory as CoreDirectory};
use crate::error::Error;
use crate::lex::{self, Dialect, ScanOptions, Stmt};
use crate::plan::revision::{REVISIONS_TABLE, REVISION_COLUMNS};
use crate::plan::{
    DbState, ExecOptions, ExecOrder, Outcome, PlanError, PlanOptions, Revision, RevisionSql, Step, Timestamp, TxMode,
};
use crate::report::{Report, ReportBody};
use crate::sum::SumError;
use js_sys::{Array, Reflect, Uint8Array};
use serde::Serialize;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

// The global `fetch`, for the `Registry` and `Hook` classes.
mod fetch;
// The `Hook` class: the server hook's client over `fetch`.
mod hook;
// The `Registry` class: the core's registry client over `fetch`.
mod registry;
mod viewer;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A SQL dialect; it selects Atlas's statement-splitting profile. */
export type Dialect = "generic" | "mysql" | "postgres" | "sqlite" | "sqlserver";

/** One entry of a migration folder's top level. */
export interface DirectoryEntry {
  /** The plain file name, e.g. `20240101000000_init.sql` or `atlas.sum`. */
  name: string;
  /** The file's bytes, exactly as stored. */
  bytes: Uint8Array;
}

/** Options for `new Directory`. */
export interface DirectoryOptions {
  /** Dialect used to split statements (default `generic`). */
  dialect?: Dialect;
  /** Largest file accepted, in bytes (default 64 MiB). */
  maxFileSize?: number;
}

/** Atlas's scanner switches, for callers that need a custom profile. */
export interface ScanOptions {
  matchBegin?: boolean;
  matchBeginAtomic?: boolean;
  matchBeginTryCatch?: boolean;
  matchDollarQuote?: boolean;
  backslashEscapes?: boolean;
  escapedStringExt?: boolean;
  hashComments?: boolean;
  goCommand?: boolean;
  beginEndTerminator?: boolean;
  omitDelimiter?: boolean;
}

/** One statement of a migration file. */
export interface Statement {
  /** Atlas's byte position (quirks kept: relative to the text after an `atlas:delimiter` line). */
  pos: number;
  /** 1-based line where the text starts. */
  line: number;
  /** Byte offset where the text starts in the UTF-8 input. */
  start: number;
  /** Byte offset where the text ends in the UTF-8 input. */
  end: number;
  /** The statement, trimmed; keeps `;`, drops a custom delimiter. */
  text: string;
  /** Comments directly above it, raw (line comments keep their newline). */
  comments: string[];
}

/** Input that Atlas splits without an error but that is most likely a mistake. */
export interface SplitWarning {
  /** `unterminated-comment`, `comment-only-statement`, `unterminated-dollar-quote` or `unclosed-block`. */
  code: string;
  message: string;
  /** 1-based line and byte column, and byte offset, of the construct. */
  line: number;
  column: number;
  offset: number;
  hint: string;
}

/** Statements and warnings of one file. */
export interface FileSplit {
  statements: Statement[];
  warnings: SplitWarning[];
}

/** A file-level directive such as `-- atlas:txmode none`. */
export interface FileDirective {
  name: string;
  args: string;
}

/** The fields of every error strata reports (also set on thrown errors). */
export interface StrataErrorFields {
  /** Stable identifier, e.g. `checksum-mismatch`, `unclosed-quote`. */
  code: string;
  /** What happened; Atlas's exact message where Atlas has one. */
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** More detail, e.g. Atlas's `L3: 2_x.sql was edited`. */
  detail?: string;
  /** What to do about it. */
  hint: string;
}

/** Thrown by the API: an `Error` named `StrataError` with these fields. */
export interface StrataError extends Error, StrataErrorFields {
  /** `file:line:column: message` on one line, as a command line prints it. */
  summary: string;
}

/** The outcome of `Directory.verify`. */
export type VerifyResult =
  | { ok: true }
  | ({
      ok: false;
      /** Atlas's error kind: ChecksumError, ErrChecksumMismatch, ErrChecksumFormat, ErrChecksumNotFound or ErrTooLong. */
      atlasKind: string;
      /** For ChecksumError: how the file differs. */
      reason?: "added" | "edited" | "removed";
      /** Atlas's CLI output for this failure, naming `strata hash`. */
      report: string;
      /** For ChecksumError: the 1-based line of atlas.sum that differs. */
      sumLine?: number;
      /** For ChecksumError: byte offset of the differing line in atlas.sum. */
      pos?: number;
      /** For ChecksumError: number of entries in the atlas.sum given. */
      total?: number;
    } & StrataErrorFields);
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "DirectoryEntry[]")]
    pub type DirectoryEntries;
    #[wasm_bindgen(typescript_type = "DirectoryOptions")]
    pub type DirectoryOptionsArg;
    #[wasm_bindgen(typescript_type = "Dialect | ScanOptions")]
    pub type DialectArg;
    #[wasm_bindgen(typescript_type = "Statement[]")]
    pub type Statements;
    #[wasm_bindgen(typescript_type = "FileSplit")]
    pub type FileSplit;
    #[wasm_bindgen(typescript_type = "SplitWarning[]")]
    pub type SplitWarnings;
    #[wasm_bindgen(typescript_type = "FileDirective[]")]
    pub type FileDirectives;
    #[wasm_bindgen(typescript_type = "MigrationFile[]")]
    pub type MigrationFiles;
    #[wasm_bindgen(typescript_type = "VerifyResult")]
    pub type VerifyResultJs;
    #[wasm_bindgen(typescript_type = "string | Uint8Array")]
    pub type SumArg;
}

/// Builds a thrown `Error` whose message is the core's and whose extra
/// fields keep the structure.
fn throw(e: impl Into<Error>) -> JsValue {
    let e: Error = e.into();
    let err = js_sys::Error::new(&e.message);
    err.set_name("StrataError");
    let obj: &JsValue = err.as_ref();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(obj, &JsValue::from_str(k), &v);
    };
    set("code", e.code.into());
    if let Some(f) = &e.file {
        set("file", f.into());
    }
    if let Some(l) = e.line {
        set("line", (l as f64).into());
    }
    if let Some(c) = e.column {
        set("column", (c as f64).into());
    }
    if let Some(d) = &e.detail {
        set("detail", d.into());
    }
    set("hint", e.hint.as_str().into());
    set("summary", e.summary().into());
    err.into()
}

fn usage(code: &'static str, message: String, hint: &str) -> JsValue {
    throw(Error::new(code, message, hint))
}

fn to_js<T: Serialize>(v: &T) -> JsValue {
    // Plain objects (not Maps), so that results read naturally in JS.
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::UNDEFINED)
}

#[derive(Serialize)]
struct StatementJs<'a> {
    pos: usize,
    line: usize,
    start: usize,
    end: usize,
    text: &'a str,
    comments: &'a [&'a str],
}

fn statements_js(stmts: &[Stmt<'_>]) -> JsValue {
    let v: Vec<StatementJs<'_>> = stmts
        .iter()
        .map(|s| StatementJs {
            pos: s.pos,
            line: s.line,
            start: s.start,
            end: s.end,
            text: s.text,
            comments: &s.comments,
        })
        .collect();
    to_js(&v)
}

#[derive(Serialize)]
struct WarningJs {
    code: &'static str,
    message: &'static str,
    line: usize,
    column: usize,
    offset: usize,
    hint: &'static str,
}

fn warnings_js(warnings: &[lex::LexWarning]) -> JsValue {
    let v: Vec<WarningJs> = warnings
        .iter()
        .map(|w| WarningJs {
            code: w.kind.code(),
            message: w.kind.message(),
            line: w.line,
            column: w.column,
            offset: w.offset,
            hint: w.kind.hint(),
        })
        .collect();
    to_js(&v)
}

fn split_js(split: &lex::Split<'_>) -> FileSplit {
    let o = js_sys::Object::new();
    let _ = Reflect::set(&o, &"statements".into(), &statements_js(&split.stmts));
    let _ = Reflect::set(&o, &"warnings".into(), &warnings_js(&split.warnings));
    JsValue::from(o).unchecked_into()
}

fn parse_dialect(v: &JsValue) -> Result<Dialect, JsValue> {
    let name = v.as_string().unwrap_or_default();
    Dialect::parse(&name).ok_or_else(|| {
        usage(
            "unknown-dialect",
            format!("unknown dialect {name:?}"),
            "use one of generic, mysql, postgres, sqlite, sqlserver",
        )
    })
}

/// Splits SQL into statements exactly as Atlas does. `dialect` is a
/// dialect name (default `generic`) or explicit scanner options. Throws a
/// `StrataError` with Atlas's message on unclosed quotes and the like.
#[wasm_bindgen(js_name = splitStatements)]
pub fn split_statements(sql: &str, dialect: Option<DialectArg>) -> Result<Statements, JsValue> {
    let options = match dialect.map(JsValue::from) {
        None => Dialect::Generic.options(),
        Some(v) if v.is_undefined() || v.is_null() => Dialect::Generic.options(),
        Some(v) if v.is_string() => parse_dialect(&v)?.options(),
        Some(v) => {
            let bad = |msg: String| usage("invalid-options", msg, "pass a dialect name or ScanOptions");
            // serde-wasm-bindgen reads only the fields it knows: reject the
            // others (a misspelt option would be silently off).
            let known = to_js(&ScanOptions::default());
            for key in js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>()).iter() {
                if !Reflect::has(&known, &key).unwrap_or(false) {
                    return Err(bad(format!("unknown scanner option {:?}", key.as_string().unwrap_or_default())));
                }
            }
            serde_wasm_bindgen::from_value::<ScanOptions>(v)
                .map_err(|e| bad(format!("invalid scanner options: {}", serde_msg(e))))?
        }
    };
    let stmts = lex::split(sql, &options).map_err(throw)?;
    Ok(statements_js(&stmts).unchecked_into())
}

/// Splits the bytes of one SQL file, with warnings about input Atlas
/// accepts but that is most likely a mistake (an unterminated comment, ...).
/// Unlike `splitStatements`, which takes a JavaScript string, this reports
/// bytes that are not UTF-8 with the file name, line and column. `name` is
/// only used in errors.
#[wasm_bindgen(js_name = splitFile)]
pub fn split_file(
    name: &str,
    bytes: &[u8],
    #[wasm_bindgen(unchecked_param_type = "Dialect")] dialect: Option<String>,
) -> Result<FileSplit, JsValue> {
    let d = parse_dialect(&JsValue::from(dialect.unwrap_or_default()))?;
    let split = crate::dir::split_file(name, bytes, d).map_err(throw)?;
    Ok(split_js(&split))
}

/// Where the statements of a SQL file are, without building an object per
/// statement: four numbers per statement, `[start, end, line, pos, ...]`
/// (byte offsets of the text in `bytes`, its 1-based line, Atlas's `pos`).
/// For large files and editors; throws like `splitFile`.
#[wasm_bindgen(js_name = statementSpans)]
pub fn statement_spans(
    bytes: &[u8],
    #[wasm_bindgen(unchecked_param_type = "Dialect")] dialect: Option<String>,
) -> Result<Vec<u32>, JsValue> {
    let d = parse_dialect(&JsValue::from(dialect.unwrap_or_default()))?;
    let stmts = crate::dir::split_file("", bytes, d).map_err(throw)?.stmts;
    let mut out = Vec::with_capacity(stmts.len() * 4);
    for s in &stmts {
        // wasm32 memory is 4 GiB at most: offsets fit in u32.
        out.extend([s.start as u32, s.end as u32, s.line as u32, s.pos as u32]);
    }
    Ok(out)
}

/// Whether Atlas treats an entry named `name` as a migration file
/// (its name ends in `.sql`).
#[wasm_bindgen(js_name = isMigrationFile)]
pub fn is_migration_file(name: &str) -> bool {
    crate::dir::is_migration_name(name)
}

/// The name of the integrity file, `atlas.sum`.
#[wasm_bindgen(js_name = sumFileName)]
pub fn sum_file_name() -> String {
    crate::sum::SUM_FILE_NAME.into()
}

/// The lower-case hex SHA-256 of `bytes`.
#[wasm_bindgen]
pub fn sha256(bytes: &[u8]) -> String {
    crate::sum::sha256_hex(bytes)
}

/// A migration directory in the Atlas layout, built from the entries of a
/// folder's top level. Files ending in `.sql` are migrations, ordered by
/// name; `atlas.sum` is kept for `verify()`; other entries are ignored.
#[wasm_bindgen]
pub struct Directory {
    inner: Rc<CoreDirectory>,
}

#[wasm_bindgen]
impl Directory {
    /// Reads `entries` (`{name, bytes}`). Throws a `StrataError` for a name
    /// that is not a plain file name, a duplicate, or a file over the limit.
    #[wasm_bindgen(constructor)]
    pub fn new(entries: DirectoryEntries, options: Option<DirectoryOptionsArg>) -> Result<Directory, JsValue> {
        let mut builder = DirectoryBuilder::new(options)?;
        let entries: JsValue = entries.into();
        if !Array::is_array(&entries) {
            return Err(usage(
                "invalid-entries",
                "entries must be an array of {name, bytes}".into(),
                "pass [{name: '1_init.sql', bytes: Uint8Array}, ...]",
            ));
        }
        for (i, e) in Array::from(&entries).iter().enumerate() {
            let name = Reflect::get(&e, &"name".into()).ok().and_then(|v| v.as_string());
            let bytes = Reflect::get(&e, &"bytes".into()).ok().filter(|b| b.is_instance_of::<Uint8Array>());
            let (Some(name), Some(bytes)) = (name, bytes) else {
                return Err(usage(
                    "invalid-entries",
                    format!("entry {i} needs a string `name` and a Uint8Array `bytes`"),
                    "pass [{name: '1_init.sql', bytes: Uint8Array}, ...]",
                ));
            };
            builder.add(name, bytes.unchecked_ref())?;
        }
        builder.finish()
    }

    /// The `atlas.sum` text for this directory, as `atlas migrate hash`
    /// writes it.
    pub fn sum(&self) -> String {
        self.inner.checksum().render()
    }

    /// Checks the directory against `sum` (text or bytes of an `atlas.sum`),
    /// or against its own `atlas.sum` entry when omitted.
    pub fn verify(&self, sum: Option<SumArg>) -> VerifyResultJs {
        let given: Option<Vec<u8>> = sum.map(JsValue::from).and_then(|v| {
            if let Some(s) = v.as_string() {
                Some(s.into_bytes())
            } else if v.is_instance_of::<Uint8Array>() {
                Some(v.unchecked_into::<Uint8Array>().to_vec())
            } else {
                None
            }
        });
        let result = match self.inner.verify(given.as_deref()) {
            Ok(()) => to_js(&Valid { ok: true }),
            Err(e) => {
                let fields = Error::from(&e);
                let (reason, sum_line, pos, total) = match &e {
                    SumError::Checksum(c) => (Some(c.reason.as_str()), Some(c.line), Some(c.pos), Some(c.total)),
                    _ => (None, None, None, None),
                };
                let report = e.report("strata hash");
                to_js(&VerifyFailure {
                    ok: false,
                    atlas_kind: e.atlas_kind(),
                    report,
                    reason,
                    sum_line,
                    pos,
                    total,
                    fields,
                })
            }
        };
        result.unchecked_into()
    }

    /// The migration files, ordered by name.
    #[wasm_bindgen(getter)]
    pub fn files(&self) -> MigrationFiles {
        let arr = Array::new();
        for index in 0..self.inner.files().len() {
            arr.push(&MigrationFile { dir: Rc::clone(&self.inner), index }.into());
        }
        arr.unchecked_into()
    }

    /// The migration file named `name`, if there is one.
    pub fn file(&self, name: &str) -> Option<MigrationFile> {
        let index = self.inner.index_of(name)?;
        Some(MigrationFile { dir: Rc::clone(&self.inner), index })
    }

    /// The text of the directory's own `atlas.sum` entry, if it had one.
    #[wasm_bindgen(getter, js_name = sumFile)]
    pub fn sum_file(&self) -> Option<String> {
        self.inner.sum_file().map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// The dialect used to split statements.
    #[wasm_bindgen(getter, unchecked_return_type = "Dialect")]
    pub fn dialect(&self) -> String {
        self.inner.dialect().name().into()
    }
}

#[derive(Serialize)]
struct Valid {
    ok: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyFailure {
    ok: bool,
    atlas_kind: &'static str,
    report: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sum_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pos: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<usize>,
    #[serde(flatten)]
    fields: Error,
}

/// Builds a `Directory` one entry at a time. Each entry's bytes are copied
/// into WebAssembly memory when added, so the caller can let go of them
/// right away: reading a large directory file by file then never holds it
/// twice.
#[wasm_bindgen]
pub struct DirectoryBuilder {
    options: DirOptions,
    entries: Vec<(String, Vec<u8>)>,
}

#[wasm_bindgen]
impl DirectoryBuilder {
    /// A builder with `options` (see `DirectoryOptions`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<DirectoryOptionsArg>) -> Result<DirectoryBuilder, JsValue> {
        let options = match options.map(JsValue::from) {
            Some(v) if !v.is_undefined() && !v.is_null() => {
                serde_wasm_bindgen::from_value::<DirOptions>(v).map_err(|e| {
                    usage(
                        "invalid-options",
                        format!("invalid directory options: {}", serde_msg(e)),
                        "see DirectoryOptions",
                    )
                })?
            }
            _ => DirOptions::default(),
        };
        Ok(DirectoryBuilder { options, entries: Vec::new() })
    }

    /// Adds the entry `name` with `bytes`. Throws a `StrataError` for a file
    /// over the size limit, before copying it.
    pub fn add(&mut self, name: String, bytes: &Uint8Array) -> Result<(), JsValue> {
        if f64::from(bytes.length()) > self.options.max_file_size as f64 {
            let size = u64::from(bytes.length());
            return Err(throw(crate::dir::DirError::TooLarge { file: name, size, limit: self.options.max_file_size }));
        }
        self.entries.push((name, bytes.to_vec()));
        Ok(())
    }

    /// The directory. Throws like `new Directory`; the builder is used up.
    pub fn finish(self) -> Result<Directory, JsValue> {
        let inner = CoreDirectory::with_options(self.entries, self.options).map_err(throw)?;
        Ok(Directory { inner: Rc::new(inner) })
    }
}

/// One migration file of a `Directory`.
#[wasm_bindgen]
pub struct MigrationFile {
    dir: Rc<CoreDirectory>,
    index: usize,
}

impl MigrationFile {
    fn file(&self) -> &crate::dir::MigrationFile {
        &self.dir.files()[self.index]
    }
}

#[wasm_bindgen]
impl MigrationFile {
    /// The file name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.file().name().into()
    }

    /// The version: the name up to the first `_`, without `.sql`.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.file().version().into()
    }

    /// The description: the name after the first `_`, without `.sql`.
    #[wasm_bindgen(getter)]
    pub fn description(&self) -> String {
        self.file().description().into()
    }

    /// The file-level directives (`-- atlas:txmode none`, ...).
    #[wasm_bindgen(getter)]
    pub fn directives(&self) -> FileDirectives {
        to_js(&self.file().directives()).unchecked_into()
    }

    /// Whether the file is a checkpoint (`-- atlas:checkpoint`).
    #[wasm_bindgen(getter, js_name = isCheckpoint)]
    pub fn is_checkpoint(&self) -> bool {
        self.file().is_checkpoint()
    }

    /// Whether the file opts out of `atlas.sum` (`atlas:sum ignore`).
    #[wasm_bindgen(getter, js_name = sumIgnored)]
    pub fn sum_ignored(&self) -> bool {
        self.file().is_sum_ignored()
    }

    /// The raw bytes (a copy).
    #[wasm_bindgen(getter)]
    pub fn bytes(&self) -> Vec<u8> {
        self.file().bytes().to_vec()
    }

    /// The statements, split with the directory's dialect. Throws a
    /// `StrataError` naming the file and position when the file is not
    /// UTF-8 or cannot be split.
    #[wasm_bindgen(getter)]
    pub fn statements(&self) -> Result<Statements, JsValue> {
        self.statements_for(self.dir.dialect().name())
    }

    /// Warnings about input Atlas splits without an error but that is most
    /// likely a mistake, such as an unterminated comment. Throws like
    /// `statements`.
    #[wasm_bindgen(getter)]
    pub fn warnings(&self) -> Result<SplitWarnings, JsValue> {
        let split = self.file().split(self.dir.dialect()).map_err(throw)?;
        Ok(warnings_js(&split.warnings).unchecked_into())
    }

    /// The statements, split with another dialect's profile.
    #[wasm_bindgen(js_name = statementsFor)]
    pub fn statements_for(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Dialect")] dialect: &str,
    ) -> Result<Statements, JsValue> {
        let d = parse_dialect(&JsValue::from_str(dialect))?;
        let stmts = self.file().statements(d).map_err(throw)?;
        Ok(statements_js(&stmts).unchecked_into())
    }
}

// ---------------------------------------------------------------------------
// Planning, status, the executor and reports (`strata::plan`,
// `strata::report`). Values are converted here; every decision is the core's.
// ---------------------------------------------------------------------------

#[wasm_bindgen(typescript_custom_section)]
const PLAN_TYPES: &str = r#"
/** Atlas's `--exec-order`. */
export type ExecOrder = "linear" | "linear-skip" | "non-linear";

/** Atlas's `--tx-mode`: no transaction, one per file (default), one for the run. */
export type TxMode = "none" | "file" | "all";

/** How to plan: Atlas's `migrate apply` flags. Unknown keys are refused. */
export interface PlanOptions {
  /** First run only: record file `baseline` as applied (type 1) and start after it. */
  baseline?: string | null;
  /** First run only: plan even if the database is not clean. */
  allowDirty?: boolean;
  /** What to do with files added below the last applied version (default `linear`: refuse). */
  execOrder?: ExecOrder;
  /** Stop after the last file with this version (Atlas's `ExecuteTo`). */
  toVersion?: string | null;
  /** Plan at most this many pending files (a positive integer). */
  amount?: number | null;
  /** Transaction mode (default `file`); a file's `-- atlas:txmode` header overrides it. */
  txMode?: TxMode;
}

/**
 * A row of `atlas_schema_revisions` as input. Every key is optional; the
 * column names (`error_stmt`, `partial_hashes`, `executed_at`,
 * `execution_time`, `operator_version`) are accepted as well as the
 * camelCase keys, so `sqlite3 -json` or `psql` output of the table works
 * as is. Numbers may be given as strings; `null` reads as empty or 0. Other
 * keys are ignored.
 */
export interface RevisionInput {
  version?: string;
  description?: string;
  /** A number (1 baseline, 2 applied, 4 set by hand, 6 both) or Atlas's text (`"applied"`, `"unknown (0011)"`). */
  type?: number | string | bigint;
  applied?: number | string | bigint | null;
  total?: number | string | bigint | null;
  executedAt?: string | null;
  executed_at?: string | null;
  executionTime?: number | string | bigint | null;
  execution_time?: number | string | bigint | null;
  error?: string | null;
  errorStmt?: string | null;
  error_stmt?: string | null;
  hash?: string | null;
  /** An array of `h1:` hashes, `null`, or a string holding a JSON array (how SQLite returns a `json` column). */
  partialHashes?: string[] | string | null;
  partial_hashes?: string[] | string | null;
  operatorVersion?: string | null;
  operator_version?: string | null;
}

/** A row of `atlas_schema_revisions` as strata returns it. */
export interface Revision {
  version: string;
  description: string;
  /** Type flags: 1 baseline, 2 applied, 4 set by hand. */
  type: number;
  /** Statements applied so far. */
  applied: number;
  /** Statements in the file at its first attempt. */
  total: number;
  /** The first write, as the database returned it (strata writes RFC 3339 UTC). */
  executedAt: string;
  /** Nanoseconds (Atlas's `execution_time`). */
  executionTime: number;
  error: string;
  errorStmt: string;
  /** The file's `atlas.sum` entry hash (base64, no `h1:`). */
  hash: string;
  /** `h1:` cumulative statement hashes while the file is partial, `null` once complete. */
  partialHashes: string[] | null;
  operatorVersion: string;
}

/** What the planner knows about the database. Unknown keys are refused. */
export interface DbState {
  /** The rows of `atlas_schema_revisions`, ordered by version as the database returns them (`ORDER BY version`). */
  revisions?: RevisionInput[];
  /** Set when the database has objects but no revisions: the driver's reason, e.g. `found table "users"`. Only read on a first run. */
  notClean?: string | null;
  /** The revisions table does not exist (only `status` reads it: a run creates the table first). */
  tableMissing?: boolean;
}

/** A statement of a planned file. */
export interface PlannedStatement {
  /** The SQL sent to the database. */
  text: string;
  /** Atlas's byte position in the file. */
  pos: number;
  /** 1-based line where it starts. */
  line: number;
  /** `h1:` cumulative hash of this and the earlier statements (what `partial_hashes` records). */
  hash: string;
}

/** Why a run will stop at a planned file (or why `plan` threw): the StrataError fields plus the kind. */
export interface PlanFileError extends StrataErrorFields {
  /** The core's error kind, e.g. `history-changed`, `scan`, `tx-mode-conflict`. */
  kind: string;
  /** `file:line: message`, as the CLI prints it. */
  summary: string;
}

/** A file of a plan. */
export interface PlannedFile {
  name: string;
  version: string;
  description: string;
  /** The `atlas.sum` entry hash (base64, no `h1:`). */
  hash: string;
  /** The file is a checkpoint (`-- atlas:checkpoint`). */
  checkpoint: boolean;
  /** Added below the last applied version; runs because of `execOrder: "non-linear"`. */
  outOfOrder: boolean;
  /** The transaction mode it runs in. */
  txMode: TxMode;
  /** Statements already applied by an earlier attempt: the run resumes at `statements[skip]`. */
  skip: number;
  /** The existing row of a partially applied file, reused as is. */
  revision: Revision | null;
  /** Every statement, including skipped ones. */
  statements: PlannedStatement[];
  /** The error Atlas raises when it reaches this file; the run stops here. */
  error: PlanFileError | null;
}

/** A file by name. */
export interface FileRef {
  name: string;
  version: string;
  description: string;
}

/** The executor's next request to the driver. `file` and `statement` index `plan.files` and its `statements`. */
export type Step =
  | { kind: "begin" }
  | { kind: "execute"; file: number; statement: number; sql: string }
  | { kind: "writeRevision"; revision: Revision }
  | { kind: "commit" }
  | { kind: "rollback" }
  | { kind: "done" };

/** The result of a step: nothing (it worked) or the database's message. */
export type Outcome = null | undefined | { error: string };

/** Options for `new Executor`. Unknown keys are refused. */
export interface ExecutorOptions {
  /** Written to `operator_version` of every row (default `strata <version>`). */
  operatorVersion?: string;
  /** Ask the driver for nothing and report what a run would print. */
  dryRun?: boolean;
}

/** A statement of an applied file; times are RFC 3339 UTC. */
export interface AppliedStatement {
  text: string;
  start: string;
  end: string | null;
}

/** A file the run started. */
export interface AppliedFile {
  name: string;
  version: string;
  description: string;
  start: string;
  /** `null` where Atlas never sets it. */
  end: string | null;
  /** Statements skipped because an earlier attempt applied them. */
  skipped: number;
  /** The statements started; the last one failed if `error.stmt` is set. */
  statements: AppliedStatement[];
  error: { stmt: string; text: string } | null;
}

/** What a run did. */
export interface ApplyReport {
  digest: string;
  sum: string;
  dryRun: boolean;
  pending: FileRef[];
  current: string | null;
  target: string | null;
  start: string;
  end: string | null;
  applied: AppliedFile[];
  /** The error the run ended with (Atlas's text). */
  error: string | null;
}

/** Where a database stands (Atlas's `migrate status`). */
export interface StatusReport {
  /** `OK` or `PENDING`. */
  status: string;
  available: FileRef[];
  pending: FileRef[];
  outOfOrder: FileRef[];
  applied: Revision[];
  /** The current version, or `No migration applied yet`. */
  current: string;
  /** The next version, `Already at latest version`, or empty (unknown). */
  next: string;
  /** Statements applied of a partially applied last file. */
  count: number;
  /** Statements that file has now (0 unless it is partial). */
  total: number;
  error: string;
  sql: string;
  fromCheckpoint: boolean;
}

/** A plan as stored in a report document (the core's serialisation). */
export interface PlanReport {
  digest: string;
  /** The directory's `atlas.sum` total (`h1:…`). */
  sum: string;
  dialect: Dialect;
  /** Every option, unset ones `null`. */
  options: Required<PlanOptions>;
  current: string | null;
  target: string | null;
  baseline: Revision | null;
  /** As `PlannedFile`, but `error` is the core's flat error `{kind, code, message, hint, file?, line?, statement?, ...}`. */
  files: (Omit<PlannedFile, "error"> & {
    error: ({ kind: string; code: string; message: string; hint: string } & Record<string, unknown>) | null;
  })[];
  /** The number of revisions the plan was computed against. */
  revisions: number;
}

/** The versioned report document (`docs/plan.md`): `JSON.stringify` of a `Plan`, `Status` or `executor.report()`. */
export type ReportDocument = {
  format: "strata.report/v1";
  /** Who made it, e.g. `strata 0.1.0`. */
  generator: string;
  directory?: string;
  target?: string;
} & (
  | { kind: "plan"; plan: PlanReport }
  | { kind: "status"; status: StatusReport }
  | { kind: "apply"; apply: ApplyReport }
);

/** The SQL a driver runs against `atlas_schema_revisions`. */
export interface RevisionSql {
  /** `atlas_schema_revisions`. */
  table: string;
  /** The twelve columns, in the order `upsert` binds them. */
  columns: string[];
  /** `CREATE TABLE IF NOT EXISTS` with Atlas's column types. */
  createTable: string;
  /** Every revision, ordered by version, Atlas's cloud identifier row excluded. */
  select: string;
  /** Atlas's upsert, twelve positional parameters in `columns` order. */
  upsert: string;
  /** Delete one version (one parameter). */
  delete: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "RevisionInput[] | DbState | string")]
    pub type RevisionsArg;
    #[wasm_bindgen(typescript_type = "PlanOptions")]
    pub type PlanOptionsArg;
    #[wasm_bindgen(typescript_type = "PlannedFile[]")]
    pub type PlannedFiles;
    #[wasm_bindgen(typescript_type = "PlanFileError")]
    pub type PlanFileError;
    #[wasm_bindgen(typescript_type = "Revision")]
    pub type RevisionJs;
    #[wasm_bindgen(typescript_type = "Revision[]")]
    pub type RevisionsJs;
    #[wasm_bindgen(typescript_type = "Required<PlanOptions>")]
    pub type PlanOptionsJs;
    #[wasm_bindgen(typescript_type = "FileRef[]")]
    pub type FileRefs;
    #[wasm_bindgen(typescript_type = "ExecutorOptions")]
    pub type ExecutorOptionsArg;
    #[wasm_bindgen(typescript_type = "Step")]
    pub type StepJs;
    #[wasm_bindgen(typescript_type = "Outcome")]
    pub type OutcomeArg;
    #[wasm_bindgen(typescript_type = "ReportDocument")]
    pub type ReportDocument;
    #[wasm_bindgen(typescript_type = "ReportDocument & { kind: \"plan\" }")]
    pub type PlanDocument;
    #[wasm_bindgen(typescript_type = "ReportDocument & { kind: \"status\" }")]
    pub type StatusDocument;
    #[wasm_bindgen(typescript_type = "ReportDocument & { kind: \"apply\" }")]
    pub type ApplyDocument;
    #[wasm_bindgen(typescript_type = "ReportDocument | string")]
    pub type ReportArg;
    #[wasm_bindgen(typescript_type = "RevisionSql")]
    pub type RevisionSqlJs;
}

/// Serialises `v` to plain JS values, or throws when a number cannot be
/// represented exactly (an integer beyond 2^53, e.g. a revision's
/// `execution_time` read from a string).
fn to_js_checked<T: Serialize>(v: &T, what: &str) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| {
        usage(
            "not-representable",
            format!("{what} cannot be converted to JavaScript: {}", serde_msg(e)),
            "integers in revision rows must be below 2^53",
        )
    })
}

/// The message of a serde-wasm-bindgen error, without the `Error: ` that
/// its `Display` adds.
fn serde_msg(e: serde_wasm_bindgen::Error) -> String {
    let v = JsValue::from(e);
    match v.dyn_ref::<js_sys::Error>() {
        Some(err) => err.message().into(),
        None => v.as_string().unwrap_or_else(|| format!("{v:?}")),
    }
}

/// The keys of a JS object.
fn keys(v: &JsValue) -> Vec<String> {
    js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string()).collect()
}

/// Refuses keys of `v` that `known` (a serialised default) does not have:
/// serde-wasm-bindgen silently skips them, so a misspelt option would be
/// ignored.
fn refuse_unknown_keys(v: &JsValue, known: &JsValue, what: &str, code: &'static str) -> Result<(), JsValue> {
    for k in keys(v) {
        if !Reflect::has(known, &JsValue::from_str(&k)).unwrap_or(false) {
            let valid = keys(known).join(", ");
            return Err(usage(code, format!("unknown {what} key {k:?}"), &format!("the keys are {valid}")));
        }
    }
    Ok(())
}

fn is_nullish(v: &JsValue) -> bool {
    v.is_null() || v.is_undefined()
}

fn is_plain_object(v: &JsValue) -> bool {
    v.is_object() && !Array::is_array(v) && !v.is_function()
}

/// A copy of the object `v` without its keys whose value is `undefined`
/// (serde-wasm-bindgen reads `{amount: undefined}` as a present key), and
/// with `Date` values as RFC 3339 strings (JS drivers return `executed_at`
/// as a `Date`).
fn js_fields(v: &JsValue) -> js_sys::Object {
    let out = js_sys::Object::new();
    for k in keys(v) {
        let key = JsValue::from_str(&k);
        let mut val = Reflect::get(v, &key).unwrap_or_default();
        if val.is_undefined() {
            continue;
        }
        if let Some(d) = val.dyn_ref::<js_sys::Date>() {
            if !d.get_time().is_nan() {
                val = d.to_iso_string().into();
            }
        }
        let _ = Reflect::set(&out, &key, &val);
    }
    out
}

/// "null", "an array", "a string"...: what a value is, for messages.
fn describe(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        let t = v.js_typeof().as_string().unwrap_or_default();
        let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        format!("{article} {t}")
    }
}

const REVISIONS_HINT: &str = "pass an array of atlas_schema_revisions rows ({version, description, type, applied, total, hash, partialHashes, ...}) or {revisions, notClean}";

/// Reads `revisions[i]`. serde's messages do not say which field is wrong:
/// on a failure, each key is tried alone to name it.
fn revision_from_js(v: JsValue, i: usize) -> Result<Revision, JsValue> {
    if !is_plain_object(&v) {
        return Err(usage(
            "invalid-revisions",
            format!("revisions[{i}] is {}, not a revision row object", describe(&v)),
            REVISIONS_HINT,
        ));
    }
    let v: JsValue = js_fields(&v).into();
    serde_wasm_bindgen::from_value::<Revision>(v.clone()).map_err(|e| {
        let e = serde_msg(e);
        for k in keys(&v) {
            let one = js_sys::Object::new();
            let _ = Reflect::set(
                &one,
                &JsValue::from_str(&k),
                &Reflect::get(&v, &JsValue::from_str(&k)).unwrap_or_default(),
            );
            if let Err(e) = serde_wasm_bindgen::from_value::<Revision>(one.into()) {
                return usage("invalid-revisions", format!("revisions[{i}].{k}: {}", serde_msg(e)), REVISIONS_HINT);
            }
        }
        usage("invalid-revisions", format!("revisions[{i}]: {e}"), REVISIONS_HINT)
    })
}

fn revisions_from_js(v: &JsValue) -> Result<Vec<Revision>, JsValue> {
    // Fast path: the engine serialises the rows in one call and serde
    // reads the text, instead of one boundary crossing per field. Anything
    // it does not take (a BigInt, a wrong type) goes the slow way, which
    // names the row and field.
    if let Some(text) = js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string()) {
        if let Ok(Ok(rows)) = crate::json::parse(&text).map(<Vec<Revision> as serde::Deserialize>::deserialize) {
            return Ok(rows);
        }
    }
    Array::from(v).iter().enumerate().map(|(i, r)| revision_from_js(r, i)).collect()
}

/// Reads the database state: an array of revision rows, or a `DbState`
/// object.
fn db_state_from_js(v: JsValue) -> Result<DbState, JsValue> {
    if let Some(text) = v.as_string() {
        return db_state_from_json(&text);
    }
    if Array::is_array(&v) {
        return Ok(DbState { revisions: revisions_from_js(&v)?, ..DbState::default() });
    }
    if !is_plain_object(&v) {
        return Err(usage(
            "invalid-revisions",
            format!(
                "the database state is {}, not an array of revision rows or a {{revisions, notClean}} object",
                describe(&v)
            ),
            REVISIONS_HINT,
        ));
    }
    refuse_unknown_keys(&v, &to_js(&DbState::default()), "database state", "invalid-revisions")?;
    // The revisions one by one (for messages naming the row), the rest by serde.
    let rows = Reflect::get(&v, &"revisions".into()).unwrap_or_default();
    let revisions = if is_nullish(&rows) {
        Vec::new()
    } else if Array::is_array(&rows) {
        revisions_from_js(&rows)?
    } else {
        return Err(usage("invalid-revisions", "`revisions` must be an array of revision rows".into(), REVISIONS_HINT));
    };
    let rest = js_fields(&v);
    let _ = Reflect::delete_property(&rest, &"revisions".into());
    let mut state = serde_wasm_bindgen::from_value::<DbState>(rest.into())
        .map_err(|e| usage("invalid-revisions", format!("invalid database state: {}", serde_msg(e)), REVISIONS_HINT))?;
    state.revisions = revisions;
    Ok(state)
}

/// Reads the database state from JSON text (the body of a revisions
/// response, a `sqlite3 -json` dump): an array of rows or a `DbState`
/// object, with no JS objects in between.
fn db_state_from_json(text: &str) -> Result<DbState, JsValue> {
    use serde::Deserialize;
    // Fast path: the small reader straight into the core's types.
    let fast = crate::json::parse(text).ok().and_then(|v| match v {
        crate::json::Value::Arr(_) => {
            Vec::<Revision>::deserialize(v).ok().map(|revisions| DbState { revisions, ..DbState::default() })
        }
        crate::json::Value::Obj(_) => DbState::deserialize(v).ok(),
        _ => None,
    });
    if let Some(state) = fast {
        return Ok(state);
    }
    // Anything else (fractions, a wrong type, bad JSON) goes through the
    // engine's parser and the object path, whose errors name the row and
    // field, or the JSON syntax error.
    match js_sys::JSON::parse(text) {
        Ok(v) if !v.is_string() => db_state_from_js(v),
        Ok(_) => Err(usage(
            "invalid-revisions",
            "the revisions text must hold an array of rows or a {revisions, notClean} object".into(),
            REVISIONS_HINT,
        )),
        Err(e) => {
            let msg = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
            Err(usage("invalid-revisions", format!("the revisions are not JSON: {msg}"), REVISIONS_HINT))
        }
    }
}

/// Reads `PlanOptions`. Exec order and tx mode values go through the
/// core's parsers first, for Atlas's messages.
fn plan_options_from_js(v: Option<JsValue>) -> Result<PlanOptions, JsValue> {
    let Some(v) = v.filter(|v| !is_nullish(v)) else { return Ok(PlanOptions::default()) };
    if !is_plain_object(&v) {
        return Err(usage("invalid-options", "plan options must be an object".into(), "see PlanOptions"));
    }
    refuse_unknown_keys(&v, &to_js(&PlanOptions::default()), "plan option", "invalid-options")?;
    let v: JsValue = js_fields(&v).into();
    if let Some(s) = Reflect::get(&v, &"execOrder".into()).ok().and_then(|s| s.as_string()) {
        ExecOrder::parse(&s).map_err(|e| throw(e.to_error()))?;
    }
    if let Some(s) = Reflect::get(&v, &"txMode".into()).ok().and_then(|s| s.as_string()) {
        TxMode::parse(&s).map_err(|e| throw(e.to_error()))?;
    }
    serde_wasm_bindgen::from_value::<PlanOptions>(v)
        .map_err(|e| usage("invalid-options", format!("invalid plan options: {}", serde_msg(e)), "see PlanOptions"))
}

/// A JS time (milliseconds since the Unix epoch, fractions allowed; the
/// current time when omitted) as the core's nanoseconds. The whole and
/// fractional milliseconds are converted apart so that sub-millisecond
/// precision survives.
fn timestamp_from_js(ms: Option<f64>) -> Result<Timestamp, JsValue> {
    let ms = ms.unwrap_or_else(js_sys::Date::now);
    // i64 nanoseconds reach 2262-04-11.
    if !ms.is_finite() || ms.abs() >= 9.2e12 {
        return Err(usage(
            "invalid-time",
            // JS formats the number: Rust's float formatting would add
            // some 13 KB to the module for this one message.
            format!(
                "invalid time {}: expected milliseconds since the Unix epoch",
                String::from(js_sys::Number::from(ms).to_string_with_radix(10).unwrap_or_default())
            ),
            "pass Date.now() or performance.timeOrigin + performance.now()",
        ));
    }
    let whole = ms.trunc();
    Ok(whole as i64 * 1_000_000 + ((ms - whole) * 1e6).round() as i64)
}

/// A planning error as a plain object: the flat error, its summary and the
/// core's kind.
fn plan_error_js(e: &PlanError) -> Result<JsValue, JsValue> {
    let flat = e.to_error();
    let o = to_js_checked(&flat, "an error")?;
    let _ = Reflect::set(&o, &"kind".into(), &e.kind().into());
    let _ = Reflect::set(&o, &"summary".into(), &flat.summary().into());
    Ok(o)
}

fn document(body: ReportBody, what: &str) -> Result<JsValue, JsValue> {
    to_js_checked(&Report::new(body), what)
}

/// Plans the migration directory `dir` against a database (Atlas's
/// `migrate apply` decisions, without running anything). `revisions` is the
/// rows of `atlas_schema_revisions` or a `DbState`, as objects or as their
/// JSON text (the fastest form: no JS objects to read). Throws a `StrataError`
/// with Atlas's message when Atlas refuses to plan (checksum, a database
/// that is not clean, files out of order, an unknown version...). Errors
/// Atlas only raises when a run reaches a file are on that file instead
/// (`plan.files[i].error`, `plan.firstError`).
#[wasm_bindgen(js_name = plan)]
pub fn plan_js(dir: &Directory, revisions: RevisionsArg, options: Option<PlanOptionsArg>) -> Result<PlanJs, JsValue> {
    let state = db_state_from_js(revisions.into())?;
    let options = plan_options_from_js(options.map(JsValue::from))?;
    let inner = crate::plan::plan(&dir.inner, &state, &options).map_err(|e| throw(e.to_error()))?;
    Ok(PlanJs { inner })
}

/// The result of `plan`: the pending files, their statements, and the
/// digest that identifies all of it. `JSON.stringify(plan)` gives the
/// report document.
#[wasm_bindgen(js_name = Plan)]
pub struct PlanJs {
    inner: crate::plan::Plan,
}

#[wasm_bindgen(js_class = Plan)]
impl PlanJs {
    /// `sha256:<hex>`: identifies the directory, the revisions, the options
    /// and the plan (see docs/plan.md).
    #[wasm_bindgen(getter)]
    pub fn digest(&self) -> String {
        self.inner.digest.clone()
    }

    /// The directory's `atlas.sum` total hash (`h1:…`).
    #[wasm_bindgen(getter)]
    pub fn sum(&self) -> String {
        self.inner.sum.clone()
    }

    /// The dialect the statements were split with.
    #[wasm_bindgen(getter, unchecked_return_type = "Dialect")]
    pub fn dialect(&self) -> String {
        self.inner.dialect.name().into()
    }

    /// The options the plan was made with (every key, unset ones `null`).
    #[wasm_bindgen(getter)]
    pub fn options(&self) -> PlanOptionsJs {
        to_js(&self.inner.options).unchecked_into()
    }

    /// The files to run, in order, as plain objects (a new array on each
    /// access).
    #[wasm_bindgen(getter)]
    pub fn files(&self) -> Result<PlannedFiles, JsValue> {
        let arr = Array::new();
        for f in &self.inner.files {
            let o = to_js_checked(f, "a planned file")?;
            let error = match &f.error {
                Some(e) => plan_error_js(e)?,
                None => JsValue::NULL,
            };
            let _ = Reflect::set(&o, &"error".into(), &error);
            arr.push(&o);
        }
        Ok(JsValue::from(arr).unchecked_into())
    }

    /// The first error a run of this plan will stop at, if any.
    #[wasm_bindgen(getter, js_name = firstError)]
    pub fn first_error(&self) -> Result<Option<PlanFileError>, JsValue> {
        match self.inner.first_error() {
            Some((_, e)) => Ok(Some(plan_error_js(e)?.unchecked_into())),
            None => Ok(None),
        }
    }

    /// The version of the last revision before the run (a baseline's, with
    /// `baseline`), if any.
    #[wasm_bindgen(getter)]
    pub fn current(&self) -> Option<String> {
        self.inner.current.clone()
    }

    /// The version of the last planned file, if any.
    #[wasm_bindgen(getter)]
    pub fn target(&self) -> Option<String> {
        self.inner.target.clone()
    }

    /// The baseline row a run writes before anything else, if any.
    #[wasm_bindgen(getter)]
    pub fn baseline(&self) -> Result<Option<RevisionJs>, JsValue> {
        match &self.inner.baseline {
            Some(r) => Ok(Some(to_js_checked(r, "the baseline row")?.unchecked_into())),
            None => Ok(None),
        }
    }

    /// The number of statements that will run.
    #[wasm_bindgen(getter, js_name = statementCount)]
    pub fn statement_count(&self) -> usize {
        self.inner.statement_count()
    }

    /// Whether no file is pending (a `baseline` row may still be written).
    #[wasm_bindgen(getter, js_name = isEmpty)]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The plan in the style of Atlas's apply log, with the digest.
    #[wasm_bindgen(js_name = toText)]
    pub fn to_text(&self) -> String {
        crate::report::plan_text(&self.inner)
    }

    /// The plan as GitHub-flavoured Markdown, for a pull request.
    #[wasm_bindgen(js_name = toMarkdown)]
    pub fn to_markdown(&self) -> String {
        crate::report::plan_markdown(&self.inner)
    }

    /// The report document (`kind: "plan"`); `JSON.stringify` uses it.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<PlanDocument, JsValue> {
        Ok(document(ReportBody::Plan(Box::new(self.inner.clone())), "the plan")?.unchecked_into())
    }
}

/// Where the database stands against `dir` (Atlas's `migrate status`).
/// `revisions` is the rows of `atlas_schema_revisions` or a `DbState`,
/// with `tableMissing: true` when the table does not exist. Files added out
/// of order are reported, not thrown; other refusals throw a `StrataError`.
#[wasm_bindgen(js_name = status)]
pub fn status_js(dir: &Directory, revisions: RevisionsArg) -> Result<StatusJs, JsValue> {
    let state = db_state_from_js(revisions.into())?;
    let inner = crate::plan::status(&dir.inner, &state).map_err(|e| throw(e.to_error()))?;
    Ok(StatusJs { inner })
}

/// A database state read once: the rows of `atlas_schema_revisions` (as
/// objects, as their JSON text, or a `DbState`), converted into the module
/// when it is built. Planning the same state more than once (other
/// options, another directory version) then costs only the planning:
/// reading 10,000 rows is most of the time of a plan.
///
/// ```js
/// const db = new Revisions(await (await fetch(revisionsUrl)).text());
/// const preview = db.plan(dir, { toVersion: "20240102000000" });
/// ```
#[wasm_bindgen(js_name = Revisions)]
pub struct RevisionsState {
    inner: DbState,
}

#[wasm_bindgen(js_class = Revisions)]
impl RevisionsState {
    /// Reads the rows (or a `DbState`, or their JSON text); throws a
    /// `StrataError` naming the row and field that cannot be read.
    #[wasm_bindgen(constructor)]
    pub fn new(revisions: RevisionsArg) -> Result<RevisionsState, JsValue> {
        Ok(RevisionsState { inner: db_state_from_js(revisions.into())? })
    }

    /// The number of revision rows.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.revisions.len()
    }

    /// `plan(dir, this, options)`, without reading the rows again.
    pub fn plan(&self, dir: &Directory, options: Option<PlanOptionsArg>) -> Result<PlanJs, JsValue> {
        let options = plan_options_from_js(options.map(JsValue::from))?;
        let inner = crate::plan::plan(&dir.inner, &self.inner, &options).map_err(|e| throw(e.to_error()))?;
        Ok(PlanJs { inner })
    }

    /// `status(dir, this)`, without reading the rows again.
    pub fn status(&self, dir: &Directory) -> Result<StatusJs, JsValue> {
        let inner = crate::plan::status(&dir.inner, &self.inner).map_err(|e| throw(e.to_error()))?;
        Ok(StatusJs { inner })
    }
}

/// The result of `status`. `JSON.stringify(status)` gives the report
/// document.
#[wasm_bindgen(js_name = Status)]
pub struct StatusJs {
    inner: crate::plan::Status,
}

#[wasm_bindgen(js_class = Status)]
impl StatusJs {
    /// `OK` (nothing pending) or `PENDING`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        self.inner.status.clone()
    }

    /// The files the database could run.
    #[wasm_bindgen(getter)]
    pub fn available(&self) -> FileRefs {
        to_js(&self.inner.available).unchecked_into()
    }

    /// The files that would run, in order.
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> FileRefs {
        to_js(&self.inner.pending).unchecked_into()
    }

    /// Files added below the last applied version.
    #[wasm_bindgen(getter, js_name = outOfOrder)]
    pub fn out_of_order(&self) -> FileRefs {
        to_js(&self.inner.out_of_order).unchecked_into()
    }

    /// The revisions read.
    #[wasm_bindgen(getter)]
    pub fn applied(&self) -> Result<RevisionsJs, JsValue> {
        Ok(to_js_checked(&self.inner.applied, "the revisions")?.unchecked_into())
    }

    /// The current version, or `No migration applied yet`.
    #[wasm_bindgen(getter)]
    pub fn current(&self) -> String {
        self.inner.current.clone()
    }

    /// The next version, `Already at latest version`, or empty (unknown).
    #[wasm_bindgen(getter)]
    pub fn next(&self) -> String {
        self.inner.next.clone()
    }

    /// Statements applied of a partially applied last file.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> f64 {
        self.inner.count as f64
    }

    /// Statements that file has now (0 unless it is partial).
    #[wasm_bindgen(getter)]
    pub fn total(&self) -> f64 {
        self.inner.total as f64
    }

    /// The error of the last attempt, or the out-of-order message.
    #[wasm_bindgen(getter)]
    pub fn error(&self) -> String {
        self.inner.error.clone()
    }

    /// The statement that failed in the last attempt.
    #[wasm_bindgen(getter)]
    pub fn sql(&self) -> String {
        self.inner.sql.clone()
    }

    /// No revision exists and the next file is a checkpoint.
    #[wasm_bindgen(getter, js_name = fromCheckpoint)]
    pub fn is_from_checkpoint(&self) -> bool {
        self.inner.from_checkpoint
    }

    /// Atlas's `migrate status` text, byte for byte.
    #[wasm_bindgen(js_name = toText)]
    pub fn to_text(&self) -> String {
        crate::report::status_text(&self.inner)
    }

    /// The report document (`kind: "status"`); `JSON.stringify` uses it.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<StatusDocument, JsValue> {
        Ok(document(ReportBody::Status(Box::new(self.inner.clone())), "the status")?.unchecked_into())
    }
}

/// Runs a `Plan` through a driver written in JavaScript: a state machine
/// without I/O. Loop on `next()`, do what the step says against the
/// database, and `record()` the outcome, until the step is `done`:
///
/// ```js
/// const ex = new Executor(plan, { operatorVersion: "my-tool 1.0" });
/// for (let step = ex.next(); step.kind !== "done"; step = ex.next()) {
///   try { await run(step); ex.record(); } catch (e) { ex.record({ error: e.message }); }
/// }
/// console.log(ex.toText()); // Atlas's apply output; ex.error is the error, if any
/// ```
#[wasm_bindgen(js_name = Executor)]
pub struct ExecutorJs {
    inner: crate::plan::Executor,
}

/// The operator version an executor writes by default.
const OPERATOR_VERSION: &str = concat!("strata ", env!("CARGO_PKG_VERSION"));

#[wasm_bindgen(js_class = Executor)]
impl ExecutorJs {
    /// An executor for `plan` (the plan is copied), starting at `now`
    /// (milliseconds since the Unix epoch, fractions allowed; default
    /// `Date.now()`).
    #[wasm_bindgen(constructor)]
    pub fn new(plan: &PlanJs, options: Option<ExecutorOptionsArg>, now: Option<f64>) -> Result<ExecutorJs, JsValue> {
        let mut exec = ExecOptions { operator_version: OPERATOR_VERSION.into(), dry_run: false };
        if let Some(o) = options.map(JsValue::from).filter(|o| !is_nullish(o)) {
            let bad = |m: String| usage("invalid-options", m, "pass {operatorVersion?: string, dryRun?: boolean}");
            if !is_plain_object(&o) {
                return Err(bad("executor options must be an object".into()));
            }
            for k in keys(&o) {
                let v = Reflect::get(&o, &JsValue::from_str(&k)).unwrap_or_default();
                match k.as_str() {
                    _ if v.is_undefined() => {}
                    "operatorVersion" => {
                        exec.operator_version =
                            v.as_string().ok_or_else(|| bad("operatorVersion must be a string".into()))?
                    }
                    "dryRun" => exec.dry_run = v.as_bool().ok_or_else(|| bad("dryRun must be a boolean".into()))?,
                    _ => return Err(bad(format!("unknown executor option {k:?}"))),
                }
            }
        }
        let now = timestamp_from_js(now)?;
        Ok(ExecutorJs { inner: crate::plan::Executor::new(plan.inner.clone(), exec, now) })
    }

    /// What the driver must do next. Calling it again without `record`
    /// returns the same step.
    pub fn next(&self) -> Result<StepJs, JsValue> {
        let o = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = Reflect::set(&o, &JsValue::from_str(k), v);
        };
        let kind = match self.inner.next() {
            Step::Begin => "begin",
            Step::Execute { file, statement, sql } => {
                set("file", &(file as f64).into());
                set("statement", &(statement as f64).into());
                set("sql", &sql.into());
                "execute"
            }
            Step::WriteRevision(r) => {
                set("revision", &to_js_checked(r, "the revision row")?);
                "writeRevision"
            }
            Step::Commit => "commit",
            Step::Rollback => "rollback",
            Step::Done => "done",
        };
        set("kind", &kind.into());
        Ok(JsValue::from(o).unchecked_into())
    }

    /// Takes the outcome of the step `next()` returned: nothing when it
    /// worked, `{error: message}` when the database refused. `now` is when
    /// it finished (milliseconds since the Unix epoch; default
    /// `Date.now()`).
    pub fn record(&mut self, outcome: Option<OutcomeArg>, now: Option<f64>) -> Result<(), JsValue> {
        let outcome = match outcome.map(JsValue::from) {
            None => Outcome::Ok,
            Some(v) if is_nullish(&v) => Outcome::Ok,
            Some(v) => {
                match Reflect::get(&v, &"error".into()).ok().filter(|_| v.is_object()).and_then(|e| e.as_string()) {
                    Some(e) => Outcome::Err(e),
                    None => {
                        return Err(usage(
                            "invalid-outcome",
                            "an outcome is null or undefined (the step worked) or {error: string}".into(),
                            "pass ex.record() on success and ex.record({error: e.message}) on failure",
                        ))
                    }
                }
            }
        };
        let now = timestamp_from_js(now)?;
        self.inner.record(outcome, now);
        Ok(())
    }

    /// Whether the run is over (`next()` is `done`).
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    /// The error the run ended with (Atlas's text), if any.
    #[wasm_bindgen(getter)]
    pub fn error(&self) -> Option<String> {
        self.inner.error().map(str::to_string)
    }

    /// The report document (`kind: "apply"`); complete once the run is
    /// done.
    pub fn report(&self) -> Result<ApplyDocument, JsValue> {
        Ok(document(ReportBody::Apply(Box::new(self.inner.report().clone())), "the apply report")?.unchecked_into())
    }

    /// Atlas's `migrate apply` output for the run so far, byte for byte.
    #[wasm_bindgen(js_name = toText)]
    pub fn to_text(&self) -> String {
        crate::report::apply_text(self.inner.report())
    }
}

/// The SQL a driver runs against `atlas_schema_revisions` for `dialect`.
/// Throws for a dialect without it (SQL Server, for now).
#[wasm_bindgen(js_name = revisionsTableSql)]
pub fn revisions_table_sql(
    #[wasm_bindgen(unchecked_param_type = "Dialect")] dialect: &str,
) -> Result<RevisionSqlJs, JsValue> {
    let d = parse_dialect(&JsValue::from_str(dialect))?;
    let Some(sql) = RevisionSql::for_dialect(d) else {
        return Err(usage(
            "unsupported-dialect",
            format!("strata has no revisions-table SQL for {dialect:?} yet"),
            "use sqlite, postgres or mysql (generic uses SQLite's)",
        ));
    };
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Sql {
        table: &'static str,
        columns: &'static [&'static str],
        create_table: &'static str,
        select: &'static str,
        upsert: &'static str,
        delete: &'static str,
    }
    let out = Sql {
        table: REVISIONS_TABLE,
        columns: &REVISION_COLUMNS,
        create_table: sql.create_table,
        select: sql.select,
        upsert: sql.upsert,
        delete: sql.delete,
    };
    Ok(to_js(&out).unchecked_into())
}

/// Renders a report document (an object, or its JSON text): Atlas's text
/// for an `apply` or `status` document, the plan text for a `plan`. Throws
/// a `StrataError` for a document that is not a `strata.report/v1` report.
#[wasm_bindgen(js_name = renderReport)]
pub fn render_report(doc: ReportArg) -> Result<String, JsValue> {
    let body = report_arg(doc)?.body().map_err(|e| throw(*e))?;
    Ok(match &body {
        ReportBody::Plan(p) => crate::report::plan_text(p),
        ReportBody::Status(s) => crate::report::status_text(s),
        ReportBody::Apply(a) => crate::report::apply_text(a),
    })
}

/// The style sheet of the rendered plans and reports (classes `st-…`),
/// for a page that mounts `renderReportHtml`'s fragments itself; the
/// viewer serves it as `report.css`.
#[wasm_bindgen(js_name = reportCss)]
pub fn report_css() -> String {
    crate::report::REPORT_CSS.into()
}

/// Renders a report document as a self-contained HTML page (inline style,
/// no script, nothing loaded from elsewhere; every input escaped), as
/// `strata report ID --html` writes it.
#[wasm_bindgen(js_name = renderReportHtml)]
pub fn render_report_html(doc: ReportArg) -> Result<String, JsValue> {
    crate::report::report_page(&report_arg(doc)?).map_err(|e| throw(*e))
}

/// A report document from an object or its JSON text.
fn report_arg(doc: ReportArg) -> Result<Report, JsValue> {
    let hint = "pass a report document: JSON.stringify(plan), status.toJSON() or executor.report()";
    let mut v: JsValue = doc.into();
    if let Some(text) = v.as_string() {
        v = js_sys::JSON::parse(&text).map_err(|e| {
            let msg = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
            usage("invalid-report", format!("the report is not JSON: {msg}"), hint)
        })?;
    }
    if !is_plain_object(&v) {
        return Err(usage("invalid-report", "a report document must be an object".into(), hint));
    }
    // The format first: another version's document may not deserialise.
    let format = Reflect::get(&v, &"format".into()).ok().and_then(|f| f.as_string()).unwrap_or_default();
    crate::report::check_format(&format).map_err(|e| throw(*e))?;
    serde_wasm_bindgen::from_value::<Report>(v)
        .map_err(|e| usage("invalid-report", format!("invalid report document: {}", serde_msg(e)), hint))
}

#[cfg(test)]
mod parity;

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn entries(files: &[(&str, &[u8])]) -> DirectoryEntries {
        let arr = Array::new();
        for (name, bytes) in files {
            let o = js_sys::Object::new();
            Reflect::set(&o, &"name".into(), &(*name).into()).unwrap();
            Reflect::set(&o, &"bytes".into(), &Uint8Array::from(*bytes)).unwrap();
            arr.push(&o);
        }
        JsValue::from(arr).unchecked_into()
    }

    fn get(v: &JsValue, k: &str) -> JsValue {
        Reflect::get(v, &k.into()).unwrap()
    }

    const S1: [(&str, &[u8]); 2] = [
        ("20240101000000_init.sql", b"CREATE TABLE t1 (id int);\n"),
        ("20240102000000_add_users.sql", b"CREATE TABLE users (id int);\n"),
    ];

    #[wasm_bindgen_test]
    fn directory_sum_and_verify() {
        let dir = Directory::new(entries(&S1), None).unwrap();
        let sum = dir.sum();
        assert!(sum.starts_with("h1:xeDrRQIDK2YEvFQq6iaVvzkqzkfeK25KWnUeyWxwaHI=\n"));
        let ok: JsValue = dir.verify(Some(JsValue::from_str(&sum).unchecked_into())).into();
        assert_eq!(get(&ok, "ok"), JsValue::TRUE);
        // Edit the second file: the result names it and the reason.
        let edited = Directory::new(entries(&[S1[0], ("20240102000000_add_users.sql", b"x")]), None).unwrap();
        let bad: JsValue = edited.verify(Some(JsValue::from_str(&sum).unchecked_into())).into();
        assert_eq!(get(&bad, "ok"), JsValue::FALSE);
        assert_eq!(get(&bad, "file").as_string().unwrap(), "20240102000000_add_users.sql");
        assert_eq!(get(&bad, "reason").as_string().unwrap(), "edited");
        assert_eq!(get(&bad, "line").as_f64(), None);
        assert_eq!(get(&bad, "detail").as_string().unwrap(), "L3: 20240102000000_add_users.sql was edited");
        assert_eq!(get(&bad, "message").as_string().unwrap(), "checksum mismatch");
        // Without an atlas.sum at all.
        let none: JsValue = dir.verify(None).into();
        assert_eq!(get(&none, "atlasKind").as_string().unwrap(), "ErrChecksumNotFound");
    }

    #[wasm_bindgen_test]
    fn files_and_statements() {
        let dir = Directory::new(
            entries(&[("1_a.sql", b"-- atlas:txmode none\n\nSELECT 1;\n-- c\nSELECT 2;"), ("x.txt", b"")]),
            None,
        )
        .unwrap();
        let files: JsValue = dir.files().into();
        let files: Array = files.unchecked_into();
        assert_eq!(files.length(), 1);
        let f = dir.file("1_a.sql").unwrap();
        assert_eq!((f.version(), f.description()), ("1".to_string(), "a".to_string()));
        let d: JsValue = f.directives().into();
        assert_eq!(get(&Array::from(&d).get(0), "args").as_string().unwrap(), "none");
        let s: JsValue = f.statements().unwrap().into();
        let s = Array::from(&s);
        assert_eq!(s.length(), 2);
        assert_eq!(get(&s.get(1), "text").as_string().unwrap(), "SELECT 2;");
        assert_eq!(get(&s.get(1), "line").as_f64(), Some(5.0));
        assert_eq!(Array::from(&get(&s.get(1), "comments")).get(0).as_string().unwrap(), "-- c\n");
    }

    #[wasm_bindgen_test]
    fn errors_are_structured() {
        let bad = Directory::new(entries(&[("a/1.sql", b"")]), None).err().unwrap();
        assert_eq!(get(&bad, "code").as_string().unwrap(), "invalid-file-name");
        assert_eq!(get(&bad, "file").as_string().unwrap(), "a/1.sql");
        let dir = Directory::new(entries(&[("1.sql", b"SELECT 1;\nSELECT 'x")]), None).unwrap();
        let e = dir.file("1.sql").unwrap().statements().err().unwrap();
        assert_eq!(get(&e, "message").as_string().unwrap(), "2:8: unclosed quote '\\''");
        assert_eq!(get(&e, "file").as_string().unwrap(), "1.sql");
        assert_eq!(get(&e, "line").as_f64(), Some(2.0));
        assert!(e.is_instance_of::<js_sys::Error>());
    }

    #[wasm_bindgen_test]
    fn split_with_dialect_or_options() {
        let s: JsValue =
            split_statements("# c\nSELECT 1;", Some(JsValue::from_str("mysql").unchecked_into())).unwrap().into();
        assert_eq!(get(&Array::from(&s).get(0), "text").as_string().unwrap(), "SELECT 1;");
        let o = js_sys::Object::new();
        Reflect::set(&o, &"hashComments".into(), &JsValue::TRUE).unwrap();
        let s: JsValue = split_statements("# c\nSELECT 1;", Some(JsValue::from(o).unchecked_into())).unwrap().into();
        assert_eq!(get(&Array::from(&s).get(0), "text").as_string().unwrap(), "SELECT 1;");
        let e = split_statements("x", Some(JsValue::from_str("oracle").unchecked_into())).err().unwrap();
        assert_eq!(get(&e, "code").as_string().unwrap(), "unknown-dialect");
    }

    // --- Planning, status, the executor, reports ---------------------------

    fn js(json: &str) -> JsValue {
        js_sys::JSON::parse(json).unwrap()
    }

    fn text(v: &JsValue, k: &str) -> String {
        get(v, k).as_string().unwrap_or_else(|| panic!("{k} is not a string"))
    }

    /// A directory with its atlas.sum, built through the JS API.
    fn directory(files: &[(&str, &str)], dialect: &str) -> Directory {
        let opts = js(&format!(r#"{{"dialect":"{dialect}"}}"#));
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (*n, c.as_bytes())).collect();
        let sum = Directory::new(entries(&bytes), Some(opts.clone().unchecked_into())).unwrap().sum();
        let mut with_sum = bytes.clone();
        with_sum.push(("atlas.sum", sum.as_bytes()));
        Directory::new(entries(&with_sum), Some(opts.unchecked_into())).unwrap()
    }

    fn plan_of(dir: &Directory, revisions: &str, options: Option<&str>) -> Result<PlanJs, JsValue> {
        plan_js(dir, js(revisions).unchecked_into(), options.map(|o| js(o).unchecked_into()))
    }

    fn code(e: &JsValue) -> String {
        text(e, "code")
    }

    #[wasm_bindgen_test]
    fn plan_digest_matches_the_native_build() {
        let dir = directory(&parity::FILES, parity::DIALECT);
        let p = plan_of(&dir, parity::REVISIONS, Some(parity::OPTIONS)).unwrap();
        // The value the native test in src/wasm/parity.rs asserts.
        assert_eq!(p.digest(), parity::DIGEST);
        // The files as plain objects.
        let files: JsValue = p.files().unwrap().into();
        let files = Array::from(&files);
        assert_eq!(files.length(), 2);
        let (c, d) = (files.get(0), files.get(1));
        assert_eq!(text(&c, "name"), "3_c.sql");
        assert_eq!(get(&c, "outOfOrder"), JsValue::TRUE);
        assert_eq!(text(&c, "txMode"), "none");
        assert!(get(&c, "error").is_null());
        assert!(get(&c, "revision").is_null());
        assert_eq!(get(&d, "skip").as_f64(), Some(1.0));
        let stmts = Array::from(&get(&d, "statements"));
        assert_eq!(text(&stmts.get(0), "hash"), "h1:vbsmdyyllefJp/61W2FmraanTpxGDYLHKI9jo/w0kkk=");
        assert_eq!(get(&stmts.get(1), "line").as_f64(), Some(2.0));
        let rev = get(&d, "revision");
        assert_eq!(text(&rev, "errorStmt"), "INSERT INTO d VALUES (1);");
        assert_eq!(Array::from(&get(&rev, "partialHashes")).length(), 1);
        assert_eq!(p.current().as_deref(), Some("4"));
        assert_eq!(p.target().as_deref(), Some("4"));
        assert!(p.baseline().unwrap().is_none());
        assert_eq!((p.statement_count(), p.is_empty()), (2, false));
        assert!(p.first_error().unwrap().is_none());
        assert_eq!(text(&p.options().into(), "execOrder"), "non-linear");
        // The renderings are the core's.
        let core = crate::plan::plan(
            &dir.inner,
            &DbState { revisions: revisions_from_js(&js(parity::REVISIONS)).unwrap(), ..DbState::default() },
            &plan_options_from_js(Some(js(parity::OPTIONS))).unwrap(),
        )
        .unwrap();
        assert_eq!(p.to_text(), crate::report::plan_text(&core));
        assert_eq!(p.to_markdown(), crate::report::plan_markdown(&core));
        assert!(p.to_text().contains(parity::DIGEST));
        // The document, and its round trip as an object and as JSON text.
        let doc: JsValue = p.to_json().unwrap().into();
        assert_eq!(text(&doc, "format"), "strata.report/v1");
        assert_eq!(text(&doc, "kind"), "plan");
        assert_eq!(text(&get(&doc, "plan"), "digest"), parity::DIGEST);
        assert_eq!(render_report(doc.clone().unchecked_into()).unwrap(), p.to_text());
        let json = js_sys::JSON::stringify(&doc).unwrap().as_string().unwrap();
        assert_eq!(render_report(JsValue::from_str(&json).unchecked_into()).unwrap(), p.to_text());
    }

    #[wasm_bindgen_test]
    fn plan_refusals_throw_atlas_messages() {
        let dir = directory(&parity::FILES, parity::DIALECT);
        let e = plan_of(&dir, parity::REVISIONS, None).err().unwrap();
        assert_eq!(code(&e), "non-linear");
        assert_eq!(
            text(&e, "message"),
            "migration file 3_c.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error"
        );
        assert_eq!(text(&e, "file"), "3_c.sql");
        assert!(e.is_instance_of::<js_sys::Error>());
        let e = plan_of(&dir, "[]", Some(r#"{"execOrder":"sideways"}"#)).err().unwrap();
        assert_eq!(
            (code(&e), text(&e, "message")),
            ("unknown-exec-order".into(), "unknown execution order: \"sideways\"".into())
        );
        let e = plan_of(&dir, "[]", Some(r#"{"txMode":"some"}"#)).err().unwrap();
        assert_eq!(text(&e, "message"), "unknown tx-mode \"some\"");
        let e = plan_of(&dir, "[]", Some(r#"{"allow_dirty":true}"#)).err().unwrap();
        assert_eq!(code(&e), "invalid-options");
        assert!(text(&e, "message").contains("\"allow_dirty\""));
        assert_eq!(code(&plan_of(&dir, "[]", Some(r#"{"amount":0}"#)).err().unwrap()), "invalid-amount");
        assert_eq!(code(&plan_of(&dir, "[]", Some(r#"{"amount":-1}"#)).err().unwrap()), "invalid-options");
        let e = plan_of(&dir, "[]", Some(r#"{"baseline":"1","allowDirty":true}"#)).err().unwrap();
        assert_eq!(text(&e, "message"), "sql/migrate: baseline and allow-dirty are mutually exclusive");
        let e = plan_of(&dir, r#"{"revisions":[],"notClean":"found table \"users\""}"#, None).err().unwrap();
        assert_eq!(
            text(&e, "message"),
            "sql/migrate: connected database is not clean: found table \"users\". baseline version or allow-dirty is required"
        );
        // A first run with a baseline: the row is on the plan.
        let p = plan_of(&dir, r#"{"notClean":"found table \"a\""}"#, Some(r#"{"baseline":"2"}"#)).unwrap();
        let b: JsValue = p.baseline().unwrap().unwrap().into();
        assert_eq!((text(&b, "version"), get(&b, "type").as_f64()), ("2".into(), Some(1.0)));
        assert_eq!(p.current().as_deref(), Some("2"));
        // Bad shapes say where.
        let e = plan_of(&dir, r#"[{"version":"1"},{"version":"2","applied":"many"}]"#, None).err().unwrap();
        assert_eq!(code(&e), "invalid-revisions");
        assert!(text(&e, "message").starts_with("revisions[1].applied: "), "{}", text(&e, "message"));
        let e = plan_of(&dir, r#"[{"version":"1","type":"sometimes"}]"#, None).err().unwrap();
        assert!(text(&e, "message").starts_with("revisions[0].type: unknown revision type"), "{}", text(&e, "message"));
        assert_eq!(code(&plan_of(&dir, "[1]", None).err().unwrap()), "invalid-revisions");
        assert_eq!(code(&plan_of(&dir, "7", None).err().unwrap()), "invalid-revisions");
        assert_eq!(code(&plan_of(&dir, r#"{"rows":[]}"#, None).err().unwrap()), "invalid-revisions");
        // A checksum error.
        let edited = Directory::new(entries(&[("1_a.sql", b"x"), ("atlas.sum", dir.sum().as_bytes())]), None).unwrap();
        let e = plan_of(&edited, "[]", None).err().unwrap();
        assert_eq!(code(&e), "checksum-mismatch");
    }

    #[wasm_bindgen_test]
    fn errors_atlas_raises_at_a_file_are_on_that_file() {
        let dir = directory(&parity::FILES, parity::DIALECT);
        // The applied statement of 4_d.sql was different.
        let revisions = parity::REVISIONS.replace("vbsmdy", "XXXXXX");
        let p = plan_of(&dir, &revisions, Some(parity::OPTIONS)).unwrap();
        let e: JsValue = p.first_error().unwrap().unwrap().into();
        assert_eq!(code(&e), "history-changed");
        assert_eq!(text(&e, "kind"), "history-changed");
        assert_eq!(text(&e, "message"), "sql/migrate: history changed: statement 1 from file \"4_d.sql\" changed");
        assert_eq!((text(&e, "file"), get(&e, "line").as_f64()), ("4_d.sql".into(), Some(1.0)));
        assert!(text(&e, "summary").starts_with("4_d.sql:1: sql/migrate: history changed"));
        assert!(!text(&e, "hint").is_empty());
        let files: JsValue = p.files().unwrap().into();
        assert_eq!(code(&get(&Array::from(&files).get(1), "error")), "history-changed");
        // The document keeps the core's error value and still renders.
        let doc: JsValue = p.to_json().unwrap().into();
        let err = get(&Array::from(&get(&get(&doc, "plan"), "files")).get(1), "error");
        assert_eq!(text(&err, "kind"), "history-changed");
        assert_eq!(render_report(doc.unchecked_into()).unwrap(), p.to_text());
    }

    #[wasm_bindgen_test]
    fn status_prints_atlas_text() {
        let dir = directory(&parity::FILES, parity::DIALECT);
        let two = r#"[{"version":"1","description":"a","type":"applied","applied":1,"total":1},{"version":"2","description":"b","type":2,"applied":1,"total":1}]"#;
        let s = status_js(&dir, js(two).unchecked_into()).unwrap();
        assert_eq!(
            s.to_text(),
            "Migration Status: PENDING\n  -- Current Version: 2\n  -- Next Version:    3\n  -- Executed Files:  2\n  -- Pending Files:   2\n"
        );
        assert_eq!((s.status(), s.next(), s.count(), s.total()), ("PENDING".into(), "3".into(), 0.0, 0.0));
        let pending: JsValue = s.pending().into();
        assert_eq!(text(&Array::from(&pending).get(0), "name"), "3_c.sql");
        let applied: JsValue = s.applied().unwrap().into();
        assert_eq!(Array::from(&applied).length(), 2);
        let doc: JsValue = s.to_json().unwrap().into();
        assert_eq!(text(&doc, "kind"), "status");
        assert_eq!(render_report(doc.unchecked_into()).unwrap(), s.to_text());
        // Out of order is reported, not thrown.
        let s = status_js(&dir, js(parity::REVISIONS).unchecked_into()).unwrap();
        assert!(s.to_text().ends_with(
            "  -- Pending Files:   2 (1 out of order)\n\n  ERROR: migration file 3_c.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error\n"
        ));
        let ooo: JsValue = s.out_of_order().into();
        assert_eq!(Array::from(&ooo).length(), 1);
        // No revisions table yet.
        let s = status_js(&dir, js(r#"{"tableMissing":true}"#).unchecked_into()).unwrap();
        assert_eq!(s.current(), "No migration applied yet");
        assert_eq!(s.status(), "PENDING");
        let available: JsValue = s.available().into();
        assert_eq!(Array::from(&available).length(), 4);
    }

    /// Runs `ex` like a driver: one step every 1.5 ms from `t0`; the
    /// database refuses the statement `fail`. Returns the steps.
    fn drive(ex: &mut ExecutorJs, t0: f64, fail: Option<&str>) -> Vec<JsValue> {
        let mut steps = Vec::new();
        let mut t = t0;
        loop {
            let step: JsValue = ex.next().unwrap().into();
            if text(&step, "kind") == "done" {
                assert!(ex.done());
                return steps;
            }
            assert!(!ex.done());
            t += 1.5;
            let outcome = if get(&step, "sql").as_string().is_some_and(|s| Some(s.as_str()) == fail) {
                js(r#"{"error":"boom"}"#)
            } else {
                JsValue::UNDEFINED
            };
            steps.push(step);
            ex.record(Some(outcome.unchecked_into()), Some(t)).unwrap();
        }
    }

    fn kinds(steps: &[JsValue]) -> Vec<String> {
        steps.iter().map(|s| text(s, "kind")).collect()
    }

    const TWO: [(&str, &str); 2] = [
        ("1_a.sql", "CREATE TABLE a (id int);\n"),
        ("2_b.sql", "CREATE TABLE b (id int);\nCREATE TABLE c (id int);\n"),
    ];
    /// 2024-01-16T10:20:30Z in milliseconds.
    const T0: f64 = 1_705_400_430_000.0;

    #[wasm_bindgen_test]
    fn executor_runs_a_plan_through_a_driver() {
        let dir = directory(&TWO, "sqlite");
        let p = plan_of(&dir, "[]", None).unwrap();
        let opts = js(r#"{"operatorVersion":"test 1"}"#);
        let mut ex = ExecutorJs::new(&p, Some(opts.unchecked_into()), Some(T0)).unwrap();
        let steps = drive(&mut ex, T0, None);
        let file = ["begin", "writeRevision", "execute", "writeRevision"];
        let mut want: Vec<&str> = file.to_vec();
        want.extend(["writeRevision", "commit"]);
        want.extend(file);
        want.extend(["execute", "writeRevision", "writeRevision", "commit"]);
        assert_eq!(kinds(&steps), want);
        // The "started" row of 1_a.sql, written after begin (T0 + 1.5 ms).
        let row = get(&steps[1], "revision");
        assert_eq!((text(&row, "version"), text(&row, "description")), ("1".into(), "a".into()));
        assert_eq!(
            (get(&row, "type").as_f64(), get(&row, "applied").as_f64(), get(&row, "total").as_f64()),
            (Some(2.0), Some(0.0), Some(1.0))
        );
        assert_eq!(text(&row, "executedAt"), "2024-01-16T10:20:30.0015Z");
        assert_eq!(text(&row, "operatorVersion"), "test 1");
        assert!(get(&row, "partialHashes").is_null());
        assert_eq!(text(&row, "hash"), text(&Array::from(&p.files().unwrap().into()).get(0), "hash"));
        let exec = &steps[2];
        assert_eq!((get(exec, "file").as_f64(), get(exec, "statement").as_f64()), (Some(0.0), Some(0.0)));
        assert_eq!(text(exec, "sql"), "CREATE TABLE a (id int);");
        // After the statement: applied 1 and its hash.
        let row = get(&steps[3], "revision");
        assert_eq!(get(&row, "applied").as_f64(), Some(1.0));
        assert_eq!(Array::from(&get(&row, "partialHashes")).length(), 1);
        assert_eq!(ex.error(), None);
        // 14 steps of 1.5 ms.
        let out = ex.to_text();
        assert!(out.starts_with("Migrating to version 2 (2 migrations in total):\n\n  -- migrating version 1\n    -> CREATE TABLE a (id int);\n  -- ok ("), "{out}");
        assert!(
            out.ends_with("  -------------------------\n  -- 21ms\n  -- 2 migrations\n  -- 3 sql statements\n"),
            "{out}"
        );
        let doc: JsValue = ex.report().unwrap().into();
        assert_eq!(text(&doc, "kind"), "apply");
        let report = get(&doc, "apply");
        assert_eq!(
            (text(&report, "start"), text(&report, "end")),
            ("2024-01-16T10:20:30Z".into(), "2024-01-16T10:20:30.021Z".into())
        );
        assert_eq!(text(&report, "digest"), p.digest());
        assert_eq!(render_report(doc.unchecked_into()).unwrap(), out);
    }

    #[wasm_bindgen_test]
    fn executor_reports_a_failing_statement() {
        let dir = directory(&TWO, "sqlite");
        let p = plan_of(&dir, "[]", None).unwrap();
        let mut ex = ExecutorJs::new(&p, None, Some(T0)).unwrap();
        let steps = drive(&mut ex, T0, Some("CREATE TABLE c (id int);"));
        let k = kinds(&steps);
        assert_eq!(k[k.len() - 4..], ["writeRevision", "execute", "writeRevision", "rollback"]);
        // The row written after the failure carries the error.
        let row = get(&steps[steps.len() - 2], "revision");
        assert_eq!((text(&row, "error"), text(&row, "errorStmt")), ("boom".into(), "CREATE TABLE c (id int);".into()));
        assert_eq!(text(&row, "operatorVersion"), OPERATOR_VERSION);
        assert_eq!(
            ex.error().as_deref(),
            Some("sql/migrate: executing statement \"CREATE TABLE c (id int);\" from version \"2\": boom")
        );
        let out = ex.to_text();
        assert!(out.contains("    -> CREATE TABLE c (id int);\n    boom\n"), "{out}");
        assert!(
            out.ends_with("  -- 1 migration ok, 1 with errors\n  -- 2 sql statements ok, 1 with errors\n"),
            "{out}"
        );
        let doc: JsValue = ex.report().unwrap().into();
        assert_eq!(text(&get(&doc, "apply"), "error"), ex.error().unwrap());
    }

    #[wasm_bindgen_test]
    fn executor_dry_run_and_bad_input() {
        let dir = directory(&TWO, "sqlite");
        let p = plan_of(&dir, "[]", None).unwrap();
        let mut ex = ExecutorJs::new(&p, Some(js(r#"{"dryRun":true}"#).unchecked_into()), Some(T0)).unwrap();
        assert!(drive(&mut ex, T0, None).is_empty());
        assert!(ex.to_text().contains("  -- 2 migrations\n  -- 3 sql statements\n"));
        // Inputs the executor cannot take.
        let bad = ExecutorJs::new(&p, Some(js(r#"{"dry_run":true}"#).unchecked_into()), None).err().unwrap();
        assert_eq!(code(&bad), "invalid-options");
        let bad = ExecutorJs::new(&p, Some(js(r#"{"dryRun":"yes"}"#).unchecked_into()), None).err().unwrap();
        assert_eq!(code(&bad), "invalid-options");
        assert_eq!(code(&ExecutorJs::new(&p, None, Some(f64::NAN)).err().unwrap()), "invalid-time");
        assert_eq!(code(&ExecutorJs::new(&p, None, Some(1e16)).err().unwrap()), "invalid-time");
        let mut ex = ExecutorJs::new(&p, None, None).unwrap();
        for outcome in ["5", "\"failed\"", "{}", r#"{"error":5}"#] {
            let e = ex.record(Some(js(outcome).unchecked_into()), None).err().unwrap();
            assert_eq!(code(&e), "invalid-outcome", "{outcome}");
        }
        // Still at the first step.
        assert_eq!(text(&ex.next().unwrap().into(), "kind"), "begin");
        // Times before 1970 and sub-millisecond precision.
        assert_eq!(timestamp_from_js(Some(-1.5)).unwrap(), -1_500_000);
        // (An f64 holds today's milliseconds to about 0.24 µs.)
        assert_eq!(timestamp_from_js(Some(T0 + 0.125)).unwrap(), 1_705_400_430_000_125_000);
    }

    #[wasm_bindgen_test]
    fn revisions_table_sql_per_dialect() {
        let sql: JsValue = revisions_table_sql("sqlite").unwrap().into();
        assert_eq!(text(&sql, "table"), "atlas_schema_revisions");
        let columns = Array::from(&get(&sql, "columns"));
        assert_eq!(columns.length(), 12);
        assert_eq!(columns.get(10).as_string().unwrap(), "partial_hashes");
        assert!(text(&sql, "createTable").starts_with("CREATE TABLE IF NOT EXISTS `atlas_schema_revisions`"));
        assert!(text(&sql, "upsert").contains("VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        assert!(text(&sql, "select").contains("ORDER BY version"));
        assert!(text(&sql, "delete").starts_with("DELETE FROM"));
        let pg: JsValue = revisions_table_sql("postgres").unwrap().into();
        assert!(text(&pg, "upsert").contains("$12"));
        assert_eq!(code(&revisions_table_sql("sqlserver").err().unwrap()), "unsupported-dialect");
        assert_eq!(code(&revisions_table_sql("oracle").err().unwrap()), "unknown-dialect");
    }

    #[wasm_bindgen_test]
    fn render_report_refuses_other_documents() {
        let bad = |doc: JsValue| code(&render_report(doc.unchecked_into()).err().unwrap());
        assert_eq!(bad(js(r#"{"format":"strata.report/v2","kind":"plan","report":{}}"#)), "report-format");
        assert_eq!(bad(js(r#"{"kind":"plan"}"#)), "report-format");
        assert_eq!(bad(JsValue::from_str("{not json")), "invalid-report");
        assert_eq!(bad(JsValue::from_f64(3.0)), "invalid-report");
        assert_eq!(bad(js(r#"{"format":"strata.report/v1","kind":"verdict","report":{}}"#)), "invalid-report");
        assert_eq!(
            bad(js(r#"{"format":"strata.report/v1","kind":"apply","report":{"start":"yesterday"}}"#)),
            "invalid-report"
        );
    }

    #[wasm_bindgen_test]
    fn hashes() {
        assert_eq!(sha256(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
