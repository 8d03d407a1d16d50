//! The migration directory model (Atlas layout, spec §1 and §3).
//!
//! A [`Directory`] is built from (file name, bytes) pairs, the top level of
//! a migration folder. Files whose name ends in `.sql` are migrations; they
//! are ordered bytewise by name. `atlas.sum` is kept aside for
//! verification, and every other entry is ignored, as Atlas ignores it.
//!
//! Each [`MigrationFile`] knows its version and description (parsed from its
//! name exactly as Atlas does: versions are opaque strings, never numbers),
//! its file-level directives, and its statements for a [`Dialect`].
//!
//! Names are checked before anything else: an entry must be a plain file
//! name (no `/`, `\`, `..` or NUL), names must be unique, and no file may be
//! larger than [`DirOptions::max_file_size`]. This module reads no files;
//! the caller passes the bytes in.

use crate::lex::{self, Dialect, LexError, Split, Stmt};
use crate::sum::{SumError, SumFile, SUM_FILE_NAME};
use crate::text::{line_col, trim_bytes};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Default limit on the size of one file: 64 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// Options for building a [`Directory`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DirOptions {
    /// The dialect whose scanner profile splits statements.
    pub dialect: Dialect,
    /// The largest file accepted, in bytes.
    pub max_file_size: u64,
}

impl Default for DirOptions {
    fn default() -> Self {
        DirOptions { dialect: Dialect::Generic, max_file_size: DEFAULT_MAX_FILE_SIZE }
    }
}

/// One migration file: a name and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationFile {
    name: String,
    bytes: Vec<u8>,
}

/// A directive found in a file's header comments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileDirective {
    /// The directive name, e.g. `txmode`.
    pub name: String,
    /// Its arguments, e.g. `none`.
    pub args: String,
}

impl MigrationFile {
    /// A file from its name and content. Names are not checked here; see
    /// [`Directory::new`].
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        MigrationFile { name: name.into(), bytes: bytes.into() }
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw content.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The version: the name without `.sql`, up to the first `_`
    /// (`20240101000000_init.sql` → `20240101000000`, `1.a_sub.up.sql` → `1.a`).
    pub fn version(&self) -> &str {
        let stem = self.name.strip_suffix(".sql").unwrap_or(&self.name);
        stem.split_once('_').map_or(stem, |(v, _)| v)
    }

    /// The description: the name after the first `_`, without `.sql`; empty
    /// when there is no `_`.
    pub fn description(&self) -> &str {
        match self.name.split_once('_') {
            None => "",
            Some((_, d)) => d.strip_suffix(".sql").unwrap_or(d),
        }
    }

    /// The header comment lines that carry file-level directives (spec §3.2):
    /// the leading `#` / `--` lines, only when a blank line (or the end of
    /// the file) separates them from the rest.
    pub fn header_comments(&self) -> Vec<&[u8]> {
        let mut comments = Vec::new();
        let mut content = &self.bytes[..];
        while content.starts_with(b"#") || content.starts_with(b"--") {
            match memchr::memchr(b'\n', content) {
                // A comments-only last line: collected, but as the content is
                // then not empty and not blank, the file has no header.
                None => {
                    comments.push(content);
                    break;
                }
                Some(i) => {
                    comments.push(trim_bytes(&content[..i]));
                    content = &content[i + 1..];
                }
            }
        }
        let rest = &content[content.iter().take_while(|&&b| b == b' ' || b == b'\t').count()..];
        if !rest.starts_with(b"\n") && !content.is_empty() {
            return Vec::new();
        }
        comments
    }

    /// Arguments of the file-level directive `name`, in file order
    /// (`-- atlas:txmode none` → `["none"]`).
    pub fn directive(&self, name: &str) -> Vec<String> {
        self.header_comments()
            .into_iter()
            .filter_map(|c| crate::directive::lookup(c, name, None))
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    /// Every file-level directive, in file order.
    pub fn directives(&self) -> Vec<FileDirective> {
        self.header_comments()
            .into_iter()
            .filter_map(crate::directive::parse)
            .map(|d| FileDirective { name: d.name.to_string(), args: d.args_lossy().into_owned() })
            .collect()
    }

    /// Whether this is a checkpoint file (`-- atlas:checkpoint [tag]`).
    pub fn is_checkpoint(&self) -> bool {
        // Most files have no directive at all: look for `atlas:` in the
        // leading comment lines before parsing the header.
        let b = &self.bytes;
        let mut end = 0;
        while b[end..].starts_with(b"#") || b[end..].starts_with(b"--") {
            end = memchr::memchr(b'\n', &b[end..]).map_or(b.len(), |i| end + i + 1);
        }
        memchr::memmem::find(&b[..end], b"atlas:").is_some() && !self.directive("checkpoint").is_empty()
    }

    /// The checkpoint tag, when this is a checkpoint file.
    pub fn checkpoint_tag(&self) -> Option<String> {
        self.directive("checkpoint").into_iter().next()
    }

    /// Whether the content opts out of `atlas.sum` (`atlas:sum ignore`).
    pub fn is_sum_ignored(&self) -> bool {
        crate::sum::is_sum_ignored(&self.bytes)
    }

    /// The content as text, or an error naming the first byte that is not
    /// UTF-8.
    pub fn text(&self) -> Result<&str, DirError> {
        file_text(&self.name, &self.bytes)
    }

    /// The statements of this file, split with `dialect`'s profile.
    pub fn statements(&self, dialect: Dialect) -> Result<Vec<Stmt<'_>>, DirError> {
        self.split(dialect).map(|s| s.stmts)
    }

    /// The statements of this file and the splitter's warnings about it.
    pub fn split(&self, dialect: Dialect) -> Result<Split<'_>, DirError> {
        split_file(&self.name, &self.bytes, dialect)
    }
}

/// The content of the file `name` as text, or an error naming the first
/// byte that is not UTF-8.
pub fn file_text<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, DirError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let (line, column) = line_col(bytes, offset);
        DirError::NotUtf8 { file: name.to_string(), offset, line, column }
    })
}

/// Splits the bytes of the file `name` with `dialect`'s profile; errors
/// name the file. The same as [`MigrationFile::split`], without copying the
/// bytes into a file first.
pub fn split_file<'a>(name: &str, bytes: &'a [u8], dialect: Dialect) -> Result<Split<'a>, DirError> {
    lex::split_with_warnings(file_text(name, bytes)?, &dialect.options())
        .map_err(|e| DirError::Lex { file: name.to_string(), error: e })
}

/// A migration directory in the Atlas layout.
///
/// A directory never changes once built, so the sum of its files is
/// computed once, the first time planning needs it, and kept
/// ([`Directory::computed_sum`]).
#[derive(Clone, Debug, Default)]
pub struct Directory {
    files: Vec<MigrationFile>,
    sum: Option<Vec<u8>>,
    dialect: Dialect,
    computed: std::sync::OnceLock<Derived>,
}

/// What follows from a directory's files, computed once.
#[derive(Clone, Debug)]
struct Derived {
    sum: SumFile,
    /// `sum.total()`.
    total: String,
    /// `verify(None)`: the files against their own `atlas.sum`.
    verified: Result<(), SumError>,
    /// Which files are checkpoint files, in file order.
    checkpoints: Vec<bool>,
}

impl PartialEq for Directory {
    fn eq(&self, other: &Directory) -> bool {
        // The kept sum follows from the files.
        (&self.files, &self.sum, self.dialect) == (&other.files, &other.sum, other.dialect)
    }
}

impl Eq for Directory {}

impl Directory {
    /// Builds a directory from the entries of a folder's top level with
    /// default options.
    ///
    /// ```
    /// use strata::dir::Directory;
    /// let dir = Directory::new([
    ///     ("2_b.sql", b"SELECT 2;".to_vec()),
    ///     ("1_a.sql", b"SELECT 1;".to_vec()),
    ///     ("README.md", b"not a migration".to_vec()),
    /// ]).unwrap();
    /// let names: Vec<_> = dir.files().iter().map(|f| f.name()).collect();
    /// assert_eq!(names, ["1_a.sql", "2_b.sql"]);
    /// ```
    pub fn new<I, N, B>(entries: I) -> Result<Directory, DirError>
    where
        I: IntoIterator<Item = (N, B)>,
        N: Into<String>,
        B: Into<Vec<u8>>,
    {
        Directory::with_options(entries, DirOptions::default())
    }

    /// Builds a directory with explicit options.
    pub fn with_options<I, N, B>(entries: I, options: DirOptions) -> Result<Directory, DirError>
    where
        I: IntoIterator<Item = (N, B)>,
        N: Into<String>,
        B: Into<Vec<u8>>,
    {
        let mut files = Vec::new();
        let mut sum = None;
        for (name, bytes) in entries {
            let name = name.into();
            check_entry_name(&name)?;
            let bytes = bytes.into();
            if bytes.len() as u64 > options.max_file_size {
                return Err(DirError::TooLarge { file: name, size: bytes.len() as u64, limit: options.max_file_size });
            }
            if name == SUM_FILE_NAME {
                if sum.is_some() {
                    return Err(DirError::DuplicateName { file: name });
                }
                sum = Some(bytes);
            } else if is_migration_name(&name) {
                files.push(MigrationFile { name, bytes });
            }
        }
        files.sort_unstable_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        if let Some(w) = files.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(DirError::DuplicateName { file: w[0].name.clone() });
        }
        Ok(Directory { files, sum, dialect: options.dialect, computed: std::sync::OnceLock::new() })
    }

    /// The migration files, ordered by name.
    pub fn files(&self) -> &[MigrationFile] {
        &self.files
    }

    /// The migration file named `name`.
    pub fn file(&self, name: &str) -> Option<&MigrationFile> {
        self.index_of(name).map(|i| &self.files[i])
    }

    /// The position of the migration file named `name` in [`Directory::files`].
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.files.binary_search_by(|f| f.name.as_bytes().cmp(name.as_bytes())).ok()
    }

    /// The last file with `version` (Atlas's `FilesLastIndex`: duplicate
    /// versions are allowed and the last one wins).
    pub fn file_by_version(&self, version: &str) -> Option<&MigrationFile> {
        self.files.iter().rev().find(|f| f.version() == version)
    }

    /// The dialect used to split statements.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The bytes of the `atlas.sum` entry, if the directory had one.
    pub fn sum_file(&self) -> Option<&[u8]> {
        self.sum.as_deref()
    }

    /// Computes the directory's sum (what `atlas migrate hash` writes).
    pub fn checksum(&self) -> SumFile {
        SumFile::compute(self.files.iter().map(|f| (f.name.as_str(), f.bytes.as_slice())))
    }

    fn derived(&self) -> &Derived {
        self.computed.get_or_init(|| {
            let sum = self.checksum();
            // Most directories carry exactly the text `migrate hash` writes,
            // which validation accepts; any other text gets the full check.
            let verified = match &self.sum {
                Some(text) if sum.is_rendering(text) => Ok(()),
                text => SumFile::validate(&sum, text.as_deref(), self.files.len()),
            };
            let checkpoints = self.files.iter().map(MigrationFile::is_checkpoint).collect();
            let total = sum.total();
            Derived { sum, total, verified, checkpoints }
        })
    }

    /// The directory's sum, computed on first use and kept: planning the
    /// same directory against many databases hashes its files once.
    pub fn computed_sum(&self) -> &SumFile {
        &self.derived().sum
    }

    /// The total hash of [`Directory::computed_sum`] (base64, no `h1:`),
    /// computed once.
    pub fn sum_total(&self) -> &str {
        &self.derived().total
    }

    /// Which of [`Directory::files`] are checkpoint files (computed once).
    pub fn checkpoints(&self) -> &[bool] {
        &self.derived().checkpoints
    }

    /// Verifies the directory against `sum` (the `atlas.sum` text), or
    /// against its own `atlas.sum` entry when `sum` is `None`, like
    /// `atlas migrate validate`. The answer for its own entry is kept.
    pub fn verify(&self, sum: Option<&[u8]>) -> Result<(), SumError> {
        match sum {
            None => self.derived().verified.clone(),
            Some(text) => SumFile::validate(self.computed_sum(), Some(text), self.files.len()),
        }
    }
}

/// Whether Atlas treats `name` as a migration file (`*.sql`).
pub fn is_migration_name(name: &str) -> bool {
    name.ends_with(".sql")
}

/// Checks a directory entry name as [`Directory::new`] does: a plain file
/// name (no `/`, `\\`, `..` or NUL) and, for a migration file, one that
/// `atlas.sum` can represent. The registry checks manifests with it.
pub fn check_entry_name(name: &str) -> Result<(), DirError> {
    check_name(name)?;
    if is_migration_name(name) {
        check_sum_representable(name)?;
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), DirError> {
    let why = if name.is_empty() {
        "it is empty"
    } else if name.contains('/') || name.contains('\\') {
        "it contains a path separator; sub-directories are not part of a migration directory"
    } else if name.contains("..") || name == "." {
        "it contains '..'"
    } else if name.contains('\0') {
        "it contains a NUL byte"
    } else {
        return Ok(());
    };
    Err(DirError::InvalidName { file: name.to_string(), reason: why })
}

/// `atlas.sum` is line-based, splits each line at its first `h1:` and trims
/// the name: a migration name that breaks one of these can be hashed but
/// never verified (Atlas writes such a sum and then rejects it).
fn check_sum_representable(name: &str) -> Result<(), DirError> {
    let why = if name.contains(['\n', '\r']) {
        "it contains a line break, which atlas.sum cannot represent"
    } else if name.contains("h1:") {
        "it contains 'h1:', which atlas.sum cannot represent"
    } else if name.trim() != name {
        "it starts or ends with white space, which atlas.sum cannot represent"
    } else {
        return Ok(());
    };
    Err(DirError::InvalidName { file: name.to_string(), reason: why })
}

/// An error building a directory or reading one of its files.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirError {
    /// An entry name is not a plain file name.
    InvalidName {
        /// The offending name.
        file: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Two entries have the same name.
    DuplicateName {
        /// The repeated name.
        file: String,
    },
    /// A file is larger than the limit.
    TooLarge {
        /// The file.
        file: String,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// A file's content is not UTF-8, so it cannot be split.
    NotUtf8 {
        /// The file.
        file: String,
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// Its 1-based line.
        line: usize,
        /// Its 1-based byte column.
        column: usize,
    },
    /// A file's statements could not be split.
    Lex {
        /// The file.
        file: String,
        /// The splitter's error (Atlas's message).
        error: LexError,
    },
}

impl DirError {
    /// A stable identifier, for programs.
    pub fn code(&self) -> &'static str {
        match self {
            DirError::InvalidName { .. } => "invalid-file-name",
            DirError::DuplicateName { .. } => "duplicate-file-name",
            DirError::TooLarge { .. } => "file-too-large",
            DirError::NotUtf8 { .. } => "not-utf8",
            DirError::Lex { error, .. } => error.kind().code(),
        }
    }

    /// The file concerned.
    pub fn file(&self) -> &str {
        match self {
            DirError::InvalidName { file, .. }
            | DirError::DuplicateName { file }
            | DirError::TooLarge { file, .. }
            | DirError::NotUtf8 { file, .. }
            | DirError::Lex { file, .. } => file,
        }
    }

    /// The 1-based line and column in the file, where there is one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            DirError::NotUtf8 { line, column, .. } => Some((*line, *column)),
            DirError::Lex { error, .. } => Some((error.line(), error.column())),
            _ => None,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            DirError::InvalidName { .. } => {
                "pass only the files of the directory's top level, by their plain names".into()
            }
            DirError::DuplicateName { .. } => "each file may appear once".into(),
            DirError::TooLarge { .. } => {
                "split the migration into smaller files, or raise the limit (--max-file-size)".into()
            }
            DirError::NotUtf8 { .. } => "save the file as UTF-8".into(),
            DirError::Lex { error, .. } => error.hint().into(),
        }
    }
}

impl fmt::Display for DirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirError::InvalidName { file, reason } => {
                write!(f, "invalid file name {}: {reason}", crate::text::go_quote(file))
            }
            DirError::DuplicateName { file } => write!(f, "duplicate file name {}", crate::text::go_quote(file)),
            DirError::TooLarge { file, size, limit } => write!(
                f,
                "{file}: file is {size} bytes, over the limit of {limit} bytes (byte {limit} is the first one refused)"
            ),
            DirError::NotUtf8 { file, offset, line, column } => {
                write!(f, "{file}:{line}:{column}: invalid UTF-8 at byte {offset}")
            }
            DirError::Lex { file, error } => {
                write!(f, "sql/migrate: scanning statements from {}: {error}", crate::text::go_quote(file))
            }
        }
    }
}

impl std::error::Error for DirError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, content: &str) -> MigrationFile {
        MigrationFile::new(name, content)
    }

    #[test]
    fn versions_and_descriptions_like_atlas() {
        let cases = [
            ("20240101000000_init.sql", "20240101000000", "init"),
            ("1.sql", "1", ""),
            ("1_.sql", "1", ""),
            ("_x.sql", "", "x"),
            ("1_a_b.sql", "1", "a_b"),
            ("1.a_sub.up.sql", "1.a", "sub.up"),
            ("2.10.x-20_description.sql", "2.10.x-20", "description"),
            ("abc.sql.sql", "abc.sql", ""),
            ("20240101_x.SQL.sql", "20240101", "x.SQL"),
        ];
        for (name, v, d) in cases {
            let f = file(name, "");
            assert_eq!((f.version(), f.description()), (v, d), "{name}");
        }
    }

    #[test]
    fn header_directives() {
        let d = |c: &str| file("1.sql", c).directive("lint");
        assert_eq!(d("-- atlas:lint ignore\n\nx"), ["ignore"]);
        assert!(d("-- atlas:lint ignore\nx").is_empty());
        assert_eq!(file("1.sql", "-- atlas:x\n  \nx").directive("x"), [""]);
        assert!(file("1.sql", "-- atlas:x\r\n\r\nx").directive("x").is_empty());
        assert!(file("1.sql", "-- atlas:checkpoint\n").is_checkpoint());
        assert!(!file("1.sql", "-- atlas:checkpoint").is_checkpoint());
        assert!(file("1.sql", "/* atlas:checkpoint */\n\nx").directive("checkpoint").is_empty());
        let f = file("1.sql", "# atlas:txmode none\n-- atlas:checkpoint v1\n\nSELECT 1;");
        assert_eq!(f.checkpoint_tag().as_deref(), Some("v1"));
        assert_eq!(
            f.directives(),
            [
                FileDirective { name: "txmode".into(), args: "none".into() },
                FileDirective { name: "checkpoint".into(), args: "v1".into() }
            ]
        );
    }

    #[test]
    fn orders_bytewise_and_keeps_only_sql() {
        let dir = Directory::new([
            ("9.sql", ""),
            ("10.sql", ""),
            (".hidden.sql", ""),
            ("notes.txt", ""),
            ("atlas.sum", "h1:x\n"),
        ])
        .unwrap();
        let names: Vec<_> = dir.files().iter().map(MigrationFile::name).collect();
        assert_eq!(names, [".hidden.sql", "10.sql", "9.sql"]);
        assert_eq!(dir.sum_file(), Some(&b"h1:x\n"[..]));
        assert_eq!(dir.file("9.sql").map(MigrationFile::name), Some("9.sql"));
        assert!(dir.file("8.sql").is_none());
    }

    #[test]
    fn refuses_bad_names_and_sizes() {
        for bad in ["a/b.sql", "..", "../x.sql", "x..sql", "a\\b.sql", "a\0.sql", "", "1\n.sql", "1_h1:x.sql", " 1.sql"]
        {
            let e = Directory::new([(bad, "")]).unwrap_err();
            assert_eq!(e.code(), "invalid-file-name", "{bad}");
        }
        let e = Directory::new([("1.sql", ""), ("1.sql", "")]).unwrap_err();
        assert_eq!(e.code(), "duplicate-file-name");
        let e = Directory::with_options([("1.sql", "12345")], DirOptions { max_file_size: 4, ..Default::default() })
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "1.sql: file is 5 bytes, over the limit of 4 bytes (byte 4 is the first one refused)"
        );
    }

    #[test]
    fn non_utf8_is_reported_with_its_position() {
        let f = MigrationFile::new("1.sql", b"SELECT 1;\nSELECT '\xff';".to_vec());
        let e = f.statements(Dialect::Generic).unwrap_err();
        assert_eq!(e.to_string(), "1.sql:2:9: invalid UTF-8 at byte 18");
        assert_eq!(e.position(), Some((2, 9)));
    }

    #[test]
    fn lex_errors_name_the_file() {
        let f = file("3_x.sql", "SELECT 1;\nSELECT 'oops;\n");
        let e = f.statements(Dialect::Postgres).unwrap_err();
        assert_eq!(e.to_string(), "sql/migrate: scanning statements from \"3_x.sql\": 2:8: unclosed quote '\\''");
        assert_eq!(e.code(), "unclosed-quote");
    }
}
