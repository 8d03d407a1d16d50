//! `atlas.sum`: compute, render, parse and verify, byte-identical to Atlas
//! (`sql/migrate/dir.go`, spec §2).
//!
//! The sum is one running SHA-256 over the directory: for each migration
//! file in order, its name and then its bytes go into the hash, and the
//! base64 digest at that point is the file's entry. A file whose first line
//! is the `atlas:sum ignore` directive adds its name but not its bytes, and
//! gets no entry. The total on the first line is the SHA-256 of all entry
//! names and hashes.
//!
//! This module knows nothing of files on disk: it takes names and bytes
//! (usually from a [`crate::dir::Directory`]) and the text of an `atlas.sum`.

use crate::directive;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// The file name Atlas uses for the sum.
pub const SUM_FILE_NAME: &str = "atlas.sum";

/// Length of `h1:` plus a base64 SHA-256 digest.
const HASH_LEN: usize = 3 + 44;

/// Longest line Go's `bufio.Scanner` reads (64 KiB, newline excluded).
const MAX_LINE: usize = 64 * 1024;

/// One line of an `atlas.sum` after the first: a file name and the base64
/// digest of the running hash after that file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SumEntry {
    /// The migration file name.
    pub name: String,
    /// The base64 digest (without the `h1:` prefix).
    pub hash: String,
}

/// The contents of an `atlas.sum` (Atlas's `HashFile`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SumFile {
    entries: Vec<SumEntry>,
}

/// Whether a file's content opts out of the sum: its first line carries the
/// `atlas:sum ignore` directive, argument exactly `ignore` (spec §2.4).
pub fn is_sum_ignored(content: &[u8]) -> bool {
    directive::lookup(content, "sum", None) == Some(b"ignore")
}

/// Computes a sum incrementally: feed files in directory order.
#[derive(Clone, Default)]
pub struct SumBuilder {
    hash: Sha256,
    entries: Vec<SumEntry>,
}

impl SumBuilder {
    /// A builder for an empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next migration file.
    pub fn add(&mut self, name: &str, content: &[u8]) {
        self.hash.update(name.as_bytes());
        if is_sum_ignored(content) {
            return;
        }
        self.hash.update(content);
        let digest = self.hash.clone().finalize();
        self.entries.push(SumEntry { name: name.to_string(), hash: base64(&digest) });
    }

    /// The finished sum.
    pub fn finish(self) -> SumFile {
        SumFile { entries: self.entries }
    }
}

impl SumFile {
    /// Computes the sum of migration files given in directory order.
    ///
    /// ```
    /// use strata::sum::SumFile;
    /// let sum = SumFile::compute([("1.sql", &b"SELECT 1;"[..])]);
    /// assert_eq!(sum.entries()[0].hash, "sCEmA2uXf9ombFqqSTeBCjI0D5n40yqgSYuCWYYFG5c=");
    /// ```
    pub fn compute<'a, I>(files: I) -> SumFile
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let mut b = SumBuilder::new();
        for (name, content) in files {
            b.add(name, content);
        }
        b.finish()
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[SumEntry] {
        &self.entries
    }

    /// The hash recorded for `name`, if any.
    pub fn hash_of(&self, name: &str) -> Option<&str> {
        self.entries.iter().find(|e| e.name == name).map(|e| e.hash.as_str())
    }

    /// Whether `text` is exactly [`SumFile::render`] of this sum, without
    /// building the text.
    pub fn is_rendering(&self, text: &[u8]) -> bool {
        fn take(rest: &mut &[u8], parts: &[&[u8]]) -> bool {
            for p in parts {
                match rest.strip_prefix(*p) {
                    Some(r) => *rest = r,
                    None => return false,
                }
            }
            true
        }
        let total = self.total();
        let mut rest = text;
        take(&mut rest, &[b"h1:", total.as_bytes(), b"\n"])
            && self.entries.iter().all(|e| take(&mut rest, &[e.name.as_bytes(), b" h1:", e.hash.as_bytes(), b"\n"]))
            && rest.is_empty()
    }

    /// The total: base64 SHA-256 over every entry's name and hash.
    pub fn total(&self) -> String {
        let mut h = Sha256::new();
        for e in &self.entries {
            h.update(e.name.as_bytes());
            h.update(e.hash.as_bytes());
        }
        base64(&h.finalize())
    }

    /// The text Atlas writes: `h1:<total>` then `<name> h1:<hash>` per entry,
    /// each line ending in `\n`.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(48 + self.entries.iter().map(|e| e.name.len() + 49).sum::<usize>());
        out.push_str("h1:");
        out.push_str(&self.total());
        out.push('\n');
        for e in &self.entries {
            out.push_str(&e.name);
            out.push_str(" h1:");
            out.push_str(&e.hash);
            out.push('\n');
        }
        out
    }

    /// Parses an `atlas.sum` like Atlas (`HashFile.UnmarshalText`): lines
    /// split on `\n` with one `\r` dropped, each entry split at its first
    /// `h1:`, and the declared total checked against the entries.
    pub fn parse(text: &[u8]) -> Result<SumFile, SumError> {
        let mut lines = GoLines::new(text);
        let declared = match lines.next() {
            Some(Ok(l)) => l.strip_prefix(b"h1:").unwrap_or(l),
            // An empty file or an over-long first line read as "".
            _ => b"",
        };
        let mut entries = Vec::new();
        let mut too_long = None;
        for (i, line) in lines.by_ref().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(()) => {
                    too_long = Some(i + 2);
                    break;
                }
            };
            let Some(at) = memchr::memmem::find(line, b"h1:") else {
                return Err(SumError::Format { line: i + 2 });
            };
            let name = crate::text::trim_bytes(&line[..at]);
            entries.push(SumEntry {
                name: String::from_utf8_lossy(name).into_owned(),
                hash: String::from_utf8_lossy(&line[at + 3..]).into_owned(),
            });
        }
        let sum = SumFile { entries };
        if declared != sum.total().as_bytes() {
            return Err(SumError::Mismatch);
        }
        if let Some(line) = too_long {
            return Err(SumError::LineTooLong { line });
        }
        Ok(sum)
    }

    /// Atlas's `Validate`: checks the on-disk sum `on_disk` (`None` when there
    /// is no `atlas.sum`) against the computed sum of a directory holding
    /// `file_count` migration files.
    pub fn validate(computed: &SumFile, on_disk: Option<&[u8]>, file_count: usize) -> Result<(), SumError> {
        let Some(text) = on_disk else {
            return if file_count > 0 { Err(SumError::NotFound) } else { Ok(()) };
        };
        let ac = SumFile::parse(text)?;
        if ac.total() == computed.total() {
            return Ok(());
        }
        let ex = &computed.entries;
        let mut pos = HASH_LEN + 1;
        for (i, h) in ac.entries.iter().enumerate() {
            if ex.get(i) == Some(h) {
                pos += h.name.len() + 1 + HASH_LEN + 1;
                continue;
            }
            let (file, reason) = match ex.iter().position(|e| e.name == h.name) {
                None => (h.name.clone(), Reason::Removed),
                Some(idx) if idx == i => (h.name.clone(), Reason::Edited),
                // A computed entry exists at i: the file was not in its
                // original place, another one was added before it.
                Some(_) => (ex[i].name.clone(), Reason::Added),
            };
            return Err(SumError::Checksum(ChecksumError { line: i + 2, total: ac.entries.len(), pos, file, reason }));
        }
        // All entries on disk match a prefix of the computed list: the next
        // computed entry was added. (Atlas indexes out of range when there is
        // none, which the total check above rules out.)
        let total = ac.entries.len();
        let file = ex.get(total).map(|e| e.name.clone()).unwrap_or_default();
        Err(SumError::Checksum(ChecksumError { line: total + 2, total, pos, file, reason: Reason::Added }))
    }
}

/// Why a file does not match its sum entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// The file is new: the sum has no entry for it at its place.
    Added,
    /// The file's content (or something before it) changed.
    Edited,
    /// The sum lists a file that no longer exists.
    Removed,
}

impl Reason {
    /// Atlas's word for the reason.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Added => "added",
            Reason::Edited => "edited",
            Reason::Removed => "removed",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Atlas's `ChecksumError`: where the sum and the directory first differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChecksumError {
    /// The line of `atlas.sum` that differs (the total is line 1).
    pub line: usize,
    /// The number of entries in the `atlas.sum` on disk.
    pub total: usize,
    /// The byte offset of that line in `atlas.sum`.
    pub pos: usize,
    /// The file that differs.
    pub file: String,
    /// How it differs.
    pub reason: Reason,
}

/// Why a directory does not match its `atlas.sum`. `Display` gives Atlas's
/// messages.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SumError {
    /// There are migration files but no `atlas.sum` (`checksum file not found`).
    NotFound,
    /// A line after the first has no `h1:` (`checksum file format invalid`).
    Format {
        /// The 1-based line of `atlas.sum`.
        line: usize,
    },
    /// The declared total does not match the entries (`checksum mismatch`).
    Mismatch,
    /// A line is longer than 64 KiB (`bufio.Scanner: token too long`).
    LineTooLong {
        /// The 1-based line of `atlas.sum`.
        line: usize,
    },
    /// The sum is well-formed but a file differs (`checksum mismatch`).
    Checksum(ChecksumError),
}

impl SumError {
    /// A stable identifier, for programs.
    pub fn code(&self) -> &'static str {
        match self {
            SumError::NotFound => "checksum-file-not-found",
            SumError::Format { .. } => "checksum-format",
            SumError::Mismatch => "checksum-mismatch",
            SumError::LineTooLong { .. } => "checksum-line-too-long",
            SumError::Checksum(_) => "checksum-mismatch",
        }
    }

    /// Atlas's error kind name (`ErrChecksumNotFound`, `ChecksumError`, ...).
    pub fn atlas_kind(&self) -> &'static str {
        match self {
            SumError::NotFound => "ErrChecksumNotFound",
            SumError::Format { .. } => "ErrChecksumFormat",
            SumError::Mismatch => "ErrChecksumMismatch",
            SumError::LineTooLong { .. } => "ErrTooLong",
            SumError::Checksum(_) => "ChecksumError",
        }
    }

    /// The detail line Atlas prints for a `ChecksumError`:
    /// `L<line>: <file> was <reason>`.
    pub fn detail(&self) -> Option<String> {
        match self {
            SumError::Checksum(c) => Some(format!("L{}: {} was {}", c.line, c.file, c.reason)),
            _ => None,
        }
    }

    /// What Atlas's CLI prints for a failed validation (its
    /// `printChecksumError`, then cobra's `Error:` line), naming `hash_command`
    /// as the command that re-hashes the directory.
    pub fn report(&self, hash_command: &str) -> String {
        let mut out = String::from("You have a checksum error in your migration directory.\n");
        if let Some(d) = self.detail() {
            out.push_str(&format!("\n\t{d}\n\n"));
        }
        out.push_str(&format!(
            "Please check your migration files and run '{hash_command}' to re-hash the contents\n\n"
        ));
        out.push_str(&format!("Error: {self}\n"));
        out
    }

    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            SumError::NotFound => "run 'strata hash' (or 'atlas migrate hash') to create atlas.sum",
            SumError::Format { .. } | SumError::LineTooLong { .. } => {
                "atlas.sum is damaged; restore it from version control or run 'strata hash' to rewrite it"
            }
            SumError::Mismatch => {
                "atlas.sum was edited by hand or merged badly; run 'strata hash' to rewrite it after checking the files"
            }
            SumError::Checksum(_) => {
                "check your migration files and run 'strata hash' (or 'atlas migrate hash') to re-hash the contents"
            }
        }
    }
}

impl fmt::Display for SumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SumError::NotFound => "checksum file not found",
            SumError::Format { .. } => "checksum file format invalid",
            SumError::Mismatch | SumError::Checksum(_) => "checksum mismatch",
            SumError::LineTooLong { .. } => "bufio.Scanner: token too long",
        })
    }
}

impl std::error::Error for SumError {}

/// Lines as Go's `bufio.Scanner` with `ScanLines` yields them: split on
/// `\n`, one trailing `\r` dropped, no empty final line, and an error for a
/// line of 64 KiB or more.
struct GoLines<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> GoLines<'a> {
    fn new(b: &'a [u8]) -> Self {
        GoLines { rest: b, done: false }
    }
}

impl<'a> Iterator for GoLines<'a> {
    type Item = Result<&'a [u8], ()>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr(b'\n', self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &self.rest[self.rest.len()..]),
        };
        if line.len() >= MAX_LINE {
            self.done = true;
            return Some(Err(()));
        }
        self.rest = rest;
        Some(Ok(line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

/// Standard base64 with padding (Go's `base64.StdEncoding`).
pub(crate) fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 { A[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if c.len() > 2 { A[n as usize & 63] as char } else { '=' });
    }
    out
}

/// Lower-case hex SHA-256 of `data` (the registry's blob digest form).
pub fn sha256_hex(data: &[u8]) -> String {
    let d = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const S1: [(&str, &[u8]); 2] = [
        ("20240101000000_init.sql", b"CREATE TABLE t1 (id int);\n"),
        ("20240102000000_add_users.sql", b"CREATE TABLE users (id int);\n"),
    ];
    const S1_SUM: &str = "h1:xeDrRQIDK2YEvFQq6iaVvzkqzkfeK25KWnUeyWxwaHI=\n\
        20240101000000_init.sql h1:Q034FT9rNbFRGa5FfKBLVXn8LZ/yDL5syhJf2pbf+LU=\n\
        20240102000000_add_users.sql h1:WTiHD8lZ2ADe2idFzP5PeJlGhoAMlhj8msKVMa3OyMw=\n";

    #[test]
    fn computes_and_renders_s1() {
        assert_eq!(SumFile::compute(S1).render(), S1_SUM);
    }

    #[test]
    fn empty_directory() {
        assert_eq!(SumFile::default().render(), "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
    }

    #[test]
    fn ignored_files_hash_their_name_only() {
        let sum = SumFile::compute([
            ("1.sql", &b"SELECT 1;"[..]),
            ("2_ignored.sql", b"-- atlas:sum ignore\nSELECT 2;\n"),
            ("3_third.sql", b"SELECT 3;\r\n"),
        ]);
        assert_eq!(sum.entries().len(), 2);
        assert_eq!(sum.total(), "YY1OAyh2X8iI8ihbiweZgwiqUWenJB6/NcpLuTLATYk=");
        assert!(!is_sum_ignored(b"-- atlas:sum ignore \nx"));
        assert!(!is_sum_ignored(b"-- atlas:sum ignore\r\nx"));
        assert!(is_sum_ignored(b"SELECT 1; -- atlas:sum ignore"));
    }

    #[test]
    fn parse_round_trips() {
        let sum = SumFile::parse(S1_SUM.as_bytes()).unwrap();
        assert_eq!(sum.render(), S1_SUM);
        let crlf = S1_SUM.replace('\n', "\r\n");
        assert_eq!(SumFile::parse(crlf.as_bytes()).unwrap(), sum);
    }

    #[test]
    fn parse_errors() {
        assert_eq!(SumFile::parse(b""), Err(SumError::Mismatch));
        assert_eq!(SumFile::parse(format!("{S1_SUM}\n").as_bytes()), Err(SumError::Format { line: 4 }));
        assert_eq!(SumFile::parse(format!("{S1_SUM}garbage\n").as_bytes()), Err(SumError::Format { line: 4 }));
        let long = format!("{S1_SUM}{} h1:x\n", "a".repeat(MAX_LINE));
        assert_eq!(SumFile::parse(long.as_bytes()), Err(SumError::LineTooLong { line: 4 }));
    }

    #[test]
    fn validate_reports_like_atlas() {
        let on_disk = S1_SUM.as_bytes();
        let edited = SumFile::compute([S1[0], ("20240102000000_add_users.sql", b"x")]);
        match SumFile::validate(&edited, Some(on_disk), 2) {
            Err(SumError::Checksum(c)) => {
                assert_eq!((c.line, c.pos, c.file.as_str(), c.reason), (3, 120, S1[1].0, Reason::Edited))
            }
            other => panic!("{other:?}"),
        }
        let added = SumFile::compute([S1[0], S1[1], ("20240103000000_x.sql", &b"x"[..])]);
        let e = SumFile::validate(&added, Some(on_disk), 3).unwrap_err();
        assert_eq!(e.detail().unwrap(), "L4: 20240103000000_x.sql was added");
        assert_eq!(
            e.report("strata hash"),
            "You have a checksum error in your migration directory.\n\n\tL4: 20240103000000_x.sql was added\n\n\
             Please check your migration files and run 'strata hash' to re-hash the contents\n\nError: checksum mismatch\n"
        );
        assert_eq!(SumFile::validate(&added, None, 3), Err(SumError::NotFound));
        assert_eq!(SumFile::validate(&SumFile::default(), None, 0), Ok(()));
    }

    #[test]
    fn encodings() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
