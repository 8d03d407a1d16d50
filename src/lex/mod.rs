//! Statement splitting, identical to Atlas's scanner (`sql/migrate/lex.go`,
//! spec §4).
//!
//! [`split`] turns the text of a migration file into [`Stmt`]s: the trimmed
//! statement text, its byte position and the comments attached to it. The
//! behaviour is Atlas's, quirks included (spec §4.13): a trailing line
//! comment without a newline becomes a statement, an unterminated dollar
//! quote swallows the rest of the file, `E'…'` escapes are never active,
//! CRLF blank lines do not detach comments, positions in files with an
//! `atlas:delimiter` line are relative to the text after that line, and
//! errors inside `BEGIN … END` blocks are swallowed.
//!
//! Which constructs are recognised is decided by [`ScanOptions`]; the
//! [`Dialect`] profiles give the options Atlas's drivers use.
//!
//! What this module adds to Atlas: Atlas's scanner can take exponential time
//! on files with many unterminated `BEGIN` blocks (each block re-scans the
//! rest of the file). Here the outcome of every nested block scan is
//! remembered, which makes the output identical in polynomial time, and the
//! total work is bounded: input that would still need more than
//! [`WORK_FACTOR`] times its length, or blocks nested deeper than
//! [`MAX_BLOCK_DEPTH`], is refused with [`LexErrorKind::TooComplex`] instead
//! of hanging. On such input Atlas itself does not finish.
//!
//! What it does not do: parse SQL. Statements are split, never understood.

mod scanner;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use scanner::{MAX_BLOCK_DEPTH, WORK_FACTOR};

/// The switches of Atlas's scanner (`migrate.ScannerOptions`). Each one
/// enables one construct; everything else is ordinary text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ScanOptions {
    /// `BEGIN … END` compound blocks (triggers, procedures).
    pub match_begin: bool,
    /// SQL-standard `BEGIN ATOMIC … END` bodies.
    pub match_begin_atomic: bool,
    /// T-SQL `BEGIN TRY … END CATCH` blocks.
    pub match_begin_try_catch: bool,
    /// PostgreSQL dollar quotes (`$$ … $$`, `$tag$ … $tag$`).
    pub match_dollar_quote: bool,
    /// A backslash escapes the next character inside quotes (MySQL).
    pub backslash_escapes: bool,
    /// Meant to enable backslash escapes in PostgreSQL `E'…'` strings; as in
    /// Atlas it never takes effect (spec §4.5), and is kept for fidelity.
    pub escaped_string_ext: bool,
    /// `#` starts a comment (MySQL).
    pub hash_comments: bool,
    /// A line holding `GO [count]` ends a batch (SQL Server).
    pub go_command: bool,
    /// Inside `BEGIN` blocks, any statement ending in `END` ends the block
    /// (T-SQL).
    pub begin_end_terminator: bool,
    /// Remove the trailing `;` from statement texts.
    pub omit_delimiter: bool,
}

/// A SQL dialect, which selects the scanner profile Atlas uses for it
/// (spec §4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Atlas's dialect-independent `migrate.Stmts` profile, also used for
    /// golang-migrate, goose, dbmate and flyway files: `BEGIN ATOMIC` and
    /// dollar quotes.
    #[default]
    Generic,
    /// The MySQL and MariaDB driver: `BEGIN … END`, backslash escapes and `#`
    /// comments.
    Mysql,
    /// The PostgreSQL driver: `BEGIN … END`, `BEGIN ATOMIC`, dollar quotes
    /// and `E'…'` strings.
    Postgres,
    /// The SQLite driver: `BEGIN … END` (triggers).
    Sqlite,
    /// SQL Server: `BEGIN … END` with the T-SQL `END` terminator,
    /// `BEGIN TRY … END CATCH` and `GO` batches. Atlas's SQL Server driver is
    /// not open source; this profile combines the options its open-source
    /// scanner tests use for T-SQL.
    Sqlserver,
}

impl Dialect {
    /// Every dialect, in documentation order.
    pub const ALL: [Dialect; 5] =
        [Dialect::Generic, Dialect::Mysql, Dialect::Postgres, Dialect::Sqlite, Dialect::Sqlserver];

    /// The scanner options of this dialect's profile.
    pub const fn options(self) -> ScanOptions {
        let o = ScanOptions {
            match_begin: false,
            match_begin_atomic: false,
            match_begin_try_catch: false,
            match_dollar_quote: false,
            backslash_escapes: false,
            escaped_string_ext: false,
            hash_comments: false,
            go_command: false,
            begin_end_terminator: false,
            omit_delimiter: false,
        };
        match self {
            Dialect::Generic => ScanOptions { match_begin_atomic: true, match_dollar_quote: true, ..o },
            Dialect::Mysql => ScanOptions { match_begin: true, backslash_escapes: true, hash_comments: true, ..o },
            Dialect::Postgres => ScanOptions {
                match_begin: true,
                match_begin_atomic: true,
                match_dollar_quote: true,
                escaped_string_ext: true,
                ..o
            },
            Dialect::Sqlite => ScanOptions { match_begin: true, ..o },
            Dialect::Sqlserver => ScanOptions {
                match_begin: true,
                match_begin_try_catch: true,
                go_command: true,
                begin_end_terminator: true,
                ..o
            },
        }
    }

    /// The dialect's canonical name (`generic`, `mysql`, `postgres`,
    /// `sqlite`, `sqlserver`).
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Generic => "generic",
            Dialect::Mysql => "mysql",
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
            Dialect::Sqlserver => "sqlserver",
        }
    }

    /// Parses a dialect name. Accepts the canonical names and the usual
    /// aliases (`mariadb`, `postgresql`, `pg`, `sqlite3`, `mssql`).
    pub fn parse(name: &str) -> Option<Dialect> {
        Some(match name.to_ascii_lowercase().as_str() {
            "generic" | "" => Dialect::Generic,
            "mysql" | "mariadb" => Dialect::Mysql,
            "postgres" | "postgresql" | "pg" => Dialect::Postgres,
            "sqlite" | "sqlite3" => Dialect::Sqlite,
            "sqlserver" | "mssql" => Dialect::Sqlserver,
            _ => return None,
        })
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One statement found by the scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt<'a> {
    /// Where [`Stmt::text`] really starts in the input, in bytes. Unlike
    /// [`Stmt::pos`] this has no quirks: `&input[start..end] == text`.
    pub start: usize,
    /// Where [`Stmt::text`] ends in the input, in bytes.
    pub end: usize,
    /// The 1-based line on which [`Stmt::text`] starts.
    pub line: usize,
    /// Atlas's `Pos`: the byte offset of the statement in the input. For
    /// files starting with an `-- atlas:delimiter` line it is relative to
    /// the text after that line, and after a `GO` batch separator it is
    /// shifted (spec §4.11); use [`Stmt::text`] for exact text.
    pub pos: usize,
    /// The statement text, trimmed of white space. With the default `;`
    /// delimiter it keeps its `;`; a custom delimiter is removed.
    pub text: &'a str,
    /// The comments directly above the statement, raw: line comments keep
    /// their `\n`, block comments end at `*/`.
    pub comments: Vec<&'a str>,
}

impl Stmt<'_> {
    /// The arguments of every statement-level directive named `name` in the
    /// attached comments (spec §3.3): `-- atlas:nolint DS101` gives
    /// `["DS101"]`.
    pub fn directive(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.comments {
            if c.starts_with("/*") && !c.contains('\n') {
                let body = c.strip_suffix("*/").unwrap_or(c);
                if let Some(a) = crate::directive::lookup(body.as_bytes(), name, Some("/*")) {
                    out.push(String::from_utf8_lossy(a).into_owned());
                }
            } else {
                for p in ["#", "--", "-- "] {
                    if let Some(a) = crate::directive::lookup(c.as_bytes(), name, Some(p)) {
                        out.push(String::from_utf8_lossy(a).into_owned());
                    }
                }
            }
        }
        out
    }
}

/// What went wrong while splitting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LexErrorKind {
    /// A `(` is never closed.
    UnclosedParen,
    /// A `)` has no matching `(`.
    UnexpectedParen,
    /// A quoted string or identifier is never closed.
    UnclosedQuote,
    /// The file holds only an `-- atlas:delimiter` line.
    NoInputAfterDelimiter,
    /// An `-- atlas:delimiter` or `DELIMITER` command names no delimiter.
    EmptyDelimiter,
    /// A `DELIMITER` command whose delimiter is a lone `'` (Atlas panics).
    InvalidDelimiter,
    /// `GO` is followed by something that is not a count.
    InvalidGoCount,
    /// The input needs more work than this splitter allows (see the module
    /// documentation); Atlas would not finish on it.
    TooComplex,
    /// Atlas's scanner would resume inside a multi-byte character after a
    /// `BEGIN` block (it skips a block by a byte count that leaves out an
    /// `-- atlas:delimiter` line inside it, or white space after
    /// `END CATCH`) and split the character; strata refuses instead.
    SplitsCharacter,
}

impl LexErrorKind {
    /// A stable identifier for the error, for programs.
    pub const fn code(self) -> &'static str {
        match self {
            LexErrorKind::UnclosedParen => "unclosed-paren",
            LexErrorKind::UnexpectedParen => "unexpected-paren",
            LexErrorKind::UnclosedQuote => "unclosed-quote",
            LexErrorKind::NoInputAfterDelimiter => "no-input-after-delimiter",
            LexErrorKind::EmptyDelimiter => "empty-delimiter",
            LexErrorKind::InvalidDelimiter => "invalid-delimiter",
            LexErrorKind::InvalidGoCount => "invalid-go-count",
            LexErrorKind::TooComplex => "too-complex",
            LexErrorKind::SplitsCharacter => "splits-character",
        }
    }

    /// What the user can do about it.
    pub const fn hint(self) -> &'static str {
        match self {
            LexErrorKind::UnclosedParen => "close the parenthesis, or quote it if it is part of a string",
            LexErrorKind::UnexpectedParen => "remove the ')' or add the '(' it closes",
            LexErrorKind::UnclosedQuote => {
                "close the quote; inside a string, double it ('it''s') to write it literally"
            }
            LexErrorKind::NoInputAfterDelimiter => {
                "add statements after the '-- atlas:delimiter' line, or remove the line"
            }
            LexErrorKind::EmptyDelimiter => "name the delimiter, for example '-- atlas:delimiter //'",
            LexErrorKind::InvalidDelimiter => "write the quoted delimiter in full, for example DELIMITER '//'",
            LexErrorKind::InvalidGoCount => "write 'GO' alone on its line, or 'GO <count>' with a number",
            LexErrorKind::SplitsCharacter => {
                "remove the '-- atlas:delimiter' line inside the BEGIN block, or the non-ASCII white space \
                 after END CATCH"
            }
            LexErrorKind::TooComplex => {
                "close every BEGIN block with END; write transactions as 'BEGIN;' or 'START TRANSACTION;', \
                 or start the file with '-- atlas:delimiter' so that BEGIN does not open blocks"
            }
        }
    }
}

/// A splitting error. Its `Display` is Atlas's exact message
/// (`2:1: unclosed '('`, `empty delimiter`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    kind: LexErrorKind,
    offset: usize,
    line: usize,
    column: usize,
    message: String,
    positioned: bool,
}

impl LexError {
    /// What went wrong.
    pub fn kind(&self) -> LexErrorKind {
        self.kind
    }

    /// The byte offset the error points at, counted from the start of the
    /// input (including an `atlas:delimiter` line). Atlas reports the
    /// character just before it.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The 1-based line of the error, as Atlas computes it.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column of the error, as Atlas computes it: the byte offset on
    /// line 1, otherwise the 1-based byte column of the character before the
    /// error point.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The message without the `line:column:` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// A fix hint for people.
    pub fn hint(&self) -> &'static str {
        self.kind.hint()
    }
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.positioned {
            write!(f, "{}:{}: {}", self.line, self.column, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for LexError {}

/// The result of splitting: the statements, and warnings about input that
/// Atlas accepts but that is most likely a mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split<'a> {
    /// The statements, in order.
    pub stmts: Vec<Stmt<'a>>,
    /// Warnings, in order of position.
    pub warnings: Vec<LexWarning>,
}

/// Input that Atlas splits without an error but that almost certainly does
/// not do what its author meant. strata splits it exactly as Atlas does (an
/// error would refuse directories Atlas applies) and says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LexWarningKind {
    /// A `/*` is never closed: the rest of the file is ordinary text of the
    /// statement.
    UnterminatedBlockComment,
    /// The file ends in a line comment with no newline after it, which
    /// Atlas turns into a statement of its own.
    CommentOnlyStatement,
    /// A dollar quote is never closed: the rest of the file is one statement.
    UnterminatedDollarQuote,
    /// A `BEGIN` opened a block that no `END` closes; the text was split
    /// as ordinary statements.
    UnclosedBlock,
}

impl LexWarningKind {
    /// A stable identifier, for programs.
    pub const fn code(self) -> &'static str {
        match self {
            LexWarningKind::UnterminatedBlockComment => "unterminated-comment",
            LexWarningKind::CommentOnlyStatement => "comment-only-statement",
            LexWarningKind::UnterminatedDollarQuote => "unterminated-dollar-quote",
            LexWarningKind::UnclosedBlock => "unclosed-block",
        }
    }

    /// What happened.
    pub const fn message(self) -> &'static str {
        match self {
            LexWarningKind::UnterminatedBlockComment => {
                "unterminated /* comment: everything after it is part of this statement"
            }
            LexWarningKind::CommentOnlyStatement => {
                "the file ends in a line comment without a newline; Atlas runs it as a statement of its own"
            }
            LexWarningKind::UnterminatedDollarQuote => {
                "unterminated dollar quote: the rest of the file is one statement"
            }
            LexWarningKind::UnclosedBlock => "BEGIN opens a block that no END closes; it was split as plain statements",
        }
    }

    /// What to do about it.
    pub const fn hint(self) -> &'static str {
        match self {
            LexWarningKind::UnterminatedBlockComment => "close the comment with */",
            LexWarningKind::CommentOnlyStatement => "end the file with a newline",
            LexWarningKind::UnterminatedDollarQuote => "close the quote with the same tag, e.g. $$ ... $$",
            LexWarningKind::UnclosedBlock => {
                "close the block with END; for a transaction write 'BEGIN;' (the migration runs in one anyway)"
            }
        }
    }
}

/// A warning about one place in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexWarning {
    /// What it is about.
    pub kind: LexWarningKind,
    /// Byte offset of the construct in the input.
    pub offset: usize,
    /// Its 1-based line.
    pub line: usize,
    /// Its 1-based byte column.
    pub column: usize,
}

impl fmt::Display for LexWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.kind.message())
    }
}

/// Splits `input` into statements with the given scanner options, with
/// warnings about suspicious input.
pub fn split_with_warnings<'a>(input: &'a str, options: &ScanOptions) -> Result<Split<'a>, LexError> {
    scanner::scan(input, *options)
}

/// Splits `input` into statements with the given scanner options.
///
/// ```
/// use strata::lex::{split, Dialect};
/// let stmts = split("-- users\nCREATE TABLE t (a int);\nINSERT INTO t VALUES (1);", &Dialect::Postgres.options()).unwrap();
/// assert_eq!(stmts.len(), 2);
/// assert_eq!(stmts[0].text, "CREATE TABLE t (a int);");
/// assert_eq!(stmts[0].comments, ["-- users\n"]);
/// assert_eq!(stmts[1].pos, 33);
/// ```
pub fn split<'a>(input: &'a str, options: &ScanOptions) -> Result<Vec<Stmt<'a>>, LexError> {
    scanner::scan(input, *options).map(|s| s.stmts)
}

/// Splits `input` with the profile of `dialect`.
pub fn split_dialect(input: &str, dialect: Dialect) -> Result<Vec<Stmt<'_>>, LexError> {
    split(input, &dialect.options())
}

#[cfg(test)]
mod tests;
