//! The JavaScript API (wasm32 only). This module only converts: bytes cross
//! as `Uint8Array`, results as plain objects typed in the generated `.d.ts`,
//! and errors as thrown `Error`s carrying `code`, `file`, `line`, `column`,
//! `detail` and `hint`. Every rule lives in the core modules.

use crate::dir::{DirOptions, Directory as CoreDirectory};
use crate::error::Error;
use crate::lex::{self, Dialect, ScanOptions, Stmt};
use crate::sum::SumError;
use js_sys::{Array, Reflect, Uint8Array};
use serde::Serialize;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

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
    throw(Error { code, message, file: None, line: None, column: None, detail: None, hint: hint.into() })
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
                .map_err(|e| bad(format!("invalid scanner options: {e}")))?
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
                    usage("invalid-options", format!("invalid directory options: {e}"), "see DirectoryOptions")
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

    #[wasm_bindgen_test]
    fn hashes() {
        assert_eq!(sha256(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
