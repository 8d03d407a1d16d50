//! Small text helpers that reproduce Go's string semantics where Atlas relies
//! on them: `unicode.IsSpace` trimming over raw bytes, RE2's `\s` and `\w`
//! classes, `strconv.Quote` (`%q`), and byte-offset to line/column mapping.
//!
//! Everything here works on bytes because Atlas treats file contents as Go
//! strings (arbitrary bytes). Invalid UTF-8 decodes as a one-byte non-space
//! rune, exactly as Go's `utf8.DecodeRune` does.

/// RE2's `\s` class: `[\t\n\f\r ]` (no vertical tab, ASCII only).
#[inline]
pub(crate) fn is_re_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// RE2's `\w` class: `[0-9A-Za-z_]`.
#[inline]
pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Decodes the first rune of `b` like Go's `utf8.DecodeRune`: invalid input
/// yields `None` with width 1 (Go's `RuneError`, which is never a space).
fn decode_first(b: &[u8]) -> (Option<char>, usize) {
    let len = match b.first() {
        None => return (None, 0),
        Some(&c) if c < 0x80 => return (Some(c as char), 1),
        Some(&c) if c & 0xE0 == 0xC0 => 2,
        Some(&c) if c & 0xF0 == 0xE0 => 3,
        Some(&c) if c & 0xF8 == 0xF0 => 4,
        Some(_) => return (None, 1),
    };
    match b.get(..len).map(std::str::from_utf8) {
        Some(Ok(s)) => (s.chars().next(), len),
        _ => (None, 1),
    }
}

/// Decodes the last rune of `b` like Go's `utf8.DecodeLastRune`.
fn decode_last(b: &[u8]) -> (Option<char>, usize) {
    let n = b.len();
    if n == 0 {
        return (None, 0);
    }
    if b[n - 1] < 0x80 {
        return (Some(b[n - 1] as char), 1);
    }
    // Walk back over at most three continuation bytes to a lead byte.
    let lim = n.saturating_sub(4);
    let mut start = n - 1;
    while start > lim && b[start] & 0xC0 == 0x80 {
        start -= 1;
    }
    match decode_first(&b[start..]) {
        (Some(c), w) if start + w == n => (Some(c), w),
        _ => (None, 1),
    }
}

/// Go's `unicode.IsSpace`, which is Unicode's White_Space property, the same
/// set as Rust's `char::is_whitespace`.
#[inline]
pub(crate) fn is_go_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)` over raw bytes.
pub(crate) fn trim_start_bytes(mut b: &[u8]) -> &[u8] {
    loop {
        match decode_first(b) {
            (Some(c), w) if is_go_space(c) => b = &b[w..],
            _ => return b,
        }
    }
}

/// Go's `strings.TrimSpace` over raw bytes.
pub(crate) fn trim_bytes(b: &[u8]) -> &[u8] {
    let mut b = trim_start_bytes(b);
    loop {
        match decode_last(b) {
            (Some(c), w) if is_go_space(c) => b = &b[..b.len() - w],
            _ => return b,
        }
    }
}

/// The number of bytes of leading Go white space in `s`, with an ASCII fast
/// path (the common case inside SQL files).
#[inline]
pub(crate) fn leading_space_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                i += 1;
                continue;
            }
            return i;
        }
        // Non-ASCII: decode one char (s is valid UTF-8, i is a boundary).
        match s[i..].chars().next() {
            Some(ch) if is_go_space(ch) => i += ch.len_utf8(),
            _ => return i,
        }
    }
    i
}

/// Go's `strconv.Quote`, which `%q` uses for strings: printable runes are
/// kept, `"` and `\` are escaped, control characters use `\a`-style or
/// `\xHH` escapes and other non-printable runes `\uHHHH` / `\UHHHHHHHH`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_go_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune`, which `%q` uses for a rune argument.
pub(crate) fn go_quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_go_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

fn push_go_escaped(out: &mut String, c: char, quote: char) {
    use std::fmt::Write;
    match c {
        _ if c == quote || c == '\\' => {
            out.push('\\');
            out.push(c);
        }
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        _ if is_go_print(c) => out.push(c),
        _ if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        _ if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        _ => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// An approximation of Go's `strconv.IsPrint` (letters, marks, numbers,
/// punctuation, symbols and the ASCII space). It is exact for ASCII and
/// Latin-1 and for the separator, format and private-use ranges; unassigned
/// code points elsewhere are treated as printable. It only affects how
/// unusual characters are escaped inside error messages.
fn is_go_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    !matches!(u,
        0x80..=0xa0 | 0xad
        | 0x0600..=0x0605 | 0x061c | 0x06dd | 0x070f | 0x0890..=0x0891 | 0x08e2
        | 0x1680 | 0x180e
        | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x2066..=0x206f
        | 0x3000 | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb | 0xfffe..=0xffff
        | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3
        | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f
        | 0xf0000..=0x10ffff)
        && (u & 0xfffe != 0xfffe)
}

/// A 1-based line and column for a byte offset, the way Atlas's scanner
/// reports errors: the line is one plus the number of `\n` before `offset`;
/// the column is `offset` itself on line 1, and otherwise the number of bytes
/// between the last `\n` and `offset`.
pub(crate) fn atlas_line_col(src: &[u8], offset: usize) -> (usize, usize) {
    let head = &src[..offset.min(src.len())];
    let line = 1 + memchr::memchr_iter(b'\n', head).count();
    let col = match memchr::memrchr(b'\n', head) {
        None => head.len(),
        Some(nl) => head.len() - nl - 1,
    };
    (line, col)
}

/// A 1-based line and a 1-based byte column of `offset`, for messages that
/// point an editor at a byte.
pub(crate) fn line_col(src: &[u8], offset: usize) -> (usize, usize) {
    let head = &src[..offset.min(src.len())];
    let line = 1 + memchr::memchr_iter(b'\n', head).count();
    let col = match memchr::memrchr(b'\n', head) {
        None => head.len() + 1,
        Some(nl) => head.len() - nl,
    };
    (line, col)
}

/// `n thing` or `n things` (only 1 is singular: `0 files`).
#[cfg_attr(not(feature = "lint"), allow(dead_code))]
pub(crate) fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_like_go() {
        assert_eq!(trim_bytes(b" \t\x0b-- x \r"), b"-- x");
        assert_eq!(trim_bytes("\u{a0}x\u{3000}".as_bytes()), b"x");
        // Invalid UTF-8 is not space, and is kept.
        assert_eq!(trim_bytes(b"\xff x \xfe"), b"\xff x \xfe");
        assert_eq!(trim_bytes(b"   "), b"");
        assert_eq!(trim_start_bytes(b"\x85x"), b"\x85x"); // lone continuation byte
        assert_eq!(leading_space_len(" \u{2028}\tx"), 5);
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("//"), "\"//\"");
        assert_eq!(go_quote(" x\n"), "\" x\\n\"");
        assert_eq!(go_quote("a\"b\\"), "\"a\\\"b\\\\\"");
        assert_eq!(go_quote("\u{1}é\u{a0}\u{200b}"), "\"\\x01é\\u00a0\\u200b\"");
        assert_eq!(go_quote_rune('\''), "'\\''");
        assert_eq!(go_quote_rune('"'), "'\"'");
        assert_eq!(go_quote_rune('`'), "'`'");
    }

    #[test]
    fn positions() {
        assert_eq!(atlas_line_col(b"(x", 1), (1, 1));
        assert_eq!(atlas_line_col(b"ab\ncd", 4), (2, 1));
        assert_eq!(line_col(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_col(b"ab", 0), (1, 1));
    }
}
