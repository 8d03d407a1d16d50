//! One error shape for every user-facing surface.
//!
//! Each module has its own precise error type ([`crate::dir::DirError`],
//! [`crate::sum::SumError`], [`crate::lex::LexError`]). The command line,
//! the JavaScript API and the server show them the same way, through
//! [`Error`]: a stable `code`, Atlas's `message` where Atlas has one, the
//! `file`, `line` and `column` it concerns, and a `hint` saying what to do.

use crate::dir::DirError;
use crate::lex::LexError;
use crate::sum::SumError;
use serde::Serialize;
use std::fmt;

/// A user-facing error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Error {
    /// A stable identifier (`checksum-mismatch`, `unclosed-quote`, ...).
    pub code: &'static str,
    /// What happened. Atlas's exact message where Atlas has one.
    pub message: String,
    /// The file concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line in that file, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The column on that line, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// More detail, such as Atlas's `L3: 2_x.sql was edited`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What to do about it.
    pub hint: String,
}

impl Error {
    /// An error without a position: what happened and what to do.
    pub fn new(code: &'static str, message: String, hint: impl Into<String>) -> Error {
        Error { code, message, file: None, line: None, column: None, detail: None, hint: hint.into() }
    }

    /// The location and message on one line, as a command line prints it:
    /// `file:line:column: message`. Atlas's splitter messages already start
    /// with `line:column:`, so the position is not repeated for them.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        if let Some(f) = &self.file {
            s.push_str(f);
            let positioned =
                self.line.zip(self.column).is_some_and(|(l, c)| self.message.starts_with(&format!("{l}:{c}: ")));
            if let (Some(l), false) = (self.line, positioned) {
                s.push_str(&format!(":{l}"));
                if let Some(c) = self.column {
                    s.push_str(&format!(":{c}"));
                }
            }
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<&LexError> for Error {
    fn from(e: &LexError) -> Self {
        Error {
            code: e.kind().code(),
            message: e.to_string(),
            file: None,
            line: Some(e.line()),
            column: Some(e.column()),
            detail: None,
            hint: e.hint().into(),
        }
    }
}

impl From<&SumError> for Error {
    fn from(e: &SumError) -> Self {
        // A checksum error names the migration file; the others are about
        // atlas.sum itself, some at a line of it.
        let (file, line) = match e {
            SumError::Checksum(c) => (c.file.clone(), None),
            SumError::Format { line } | SumError::LineTooLong { line } => {
                (crate::sum::SUM_FILE_NAME.into(), Some(*line))
            }
            _ => (crate::sum::SUM_FILE_NAME.into(), None),
        };
        Error {
            code: e.code(),
            message: e.to_string(),
            file: Some(file),
            line,
            column: None,
            detail: e.detail(),
            hint: e.hint().into(),
        }
    }
}

impl From<&DirError> for Error {
    fn from(e: &DirError) -> Self {
        let (message, line, column) = match e {
            // Keep Atlas's scanner message; the file goes in its own field.
            DirError::Lex { error, .. } => (error.to_string(), Some(error.line()), Some(error.column())),
            DirError::NotUtf8 { offset, line, column, .. } => {
                (format!("invalid UTF-8 at byte {offset}"), Some(*line), Some(*column))
            }
            _ => (e.to_string(), None, None),
        };
        Error { code: e.code(), message, file: Some(e.file().to_string()), line, column, detail: None, hint: e.hint() }
    }
}

macro_rules! from_owned {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::from(&e)
            }
        }
    )*};
}
from_owned!(LexError, SumError, DirError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dir::MigrationFile;
    use crate::lex::Dialect;

    #[test]
    fn summaries_name_file_and_position_once() {
        let e = Error::from(
            MigrationFile::new("3_x.sql", "SELECT 1;\nSELECT 'x").statements(Dialect::Generic).unwrap_err(),
        );
        assert_eq!(e.summary(), "3_x.sql: 2:8: unclosed quote '\\''");
        let e =
            Error::from(MigrationFile::new("3_x.sql", b"\n\xff".to_vec()).statements(Dialect::Generic).unwrap_err());
        assert_eq!(e.summary(), "3_x.sql:2:1: invalid UTF-8 at byte 1");
        let e = Error::from(crate::sum::SumFile::parse(b"h1:x\ngarbage\n").unwrap_err());
        assert_eq!(e.summary(), "atlas.sum:2: checksum file format invalid");
        assert_eq!(e.hint, crate::sum::SumError::Format { line: 2 }.hint());
    }
}
