//! Invariants shared by the `lex` and `directory` targets.
#![allow(dead_code)]

use strata::lex::{LexError, ScanOptions, Split, Stmt};

/// Decodes the ten scanner switches from the low ten bits of `bits`, in the
/// order the fields are declared in `ScanOptions`.
pub fn options(bits: u16) -> ScanOptions {
    let b = |i: u32| bits & (1 << i) != 0;
    ScanOptions {
        match_begin: b(0),
        match_begin_atomic: b(1),
        match_begin_try_catch: b(2),
        match_dollar_quote: b(3),
        backslash_escapes: b(4),
        escaped_string_ext: b(5),
        hash_comments: b(6),
        go_command: b(7),
        begin_end_terminator: b(8),
        omit_delimiter: b(9),
    }
}

/// Whether `part` lies inside `whole` (pointer range).
fn within(whole: &str, part: &str) -> bool {
    let w = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    p >= w && p + part.len() <= w + whole.len()
}

/// Invariants of every successful split.
pub fn check_stmts(input: &str, stmts: &[Stmt<'_>], ctx: &dyn std::fmt::Debug) {
    let bytes = input.as_bytes();
    let (mut last_start, mut line) = (0usize, 1usize);
    for (i, s) in stmts.iter().enumerate() {
        assert!(s.start <= s.end && s.end <= input.len(), "stmt {i}: bad range {}..{} ({ctx:?})", s.start, s.end);
        assert!(
            input.is_char_boundary(s.start) && input.is_char_boundary(s.end),
            "stmt {i}: range {}..{} not on char boundaries ({ctx:?})",
            s.start,
            s.end
        );
        assert_eq!(&input[s.start..s.end], s.text, "stmt {i}: input[start..end] != text ({ctx:?})");
        assert!(s.start >= last_start, "stmt {i}: start {} < previous start {last_start} ({ctx:?})", s.start);
        line += bytes[last_start..s.start].iter().filter(|&&c| c == b'\n').count();
        last_start = s.start;
        assert_eq!(s.line, line, "stmt {i}: wrong line (start {}) ({ctx:?})", s.start);
        assert_eq!(s.text.trim_matches(char::is_whitespace), s.text, "stmt {i}: text not trimmed ({ctx:?})");
        for (j, c) in s.comments.iter().enumerate() {
            assert!(within(input, c) || input.contains(c), "stmt {i} comment {j} not in input: {c:?} ({ctx:?})");
        }
        // Statement-level directive lookup must not panic.
        let _ = s.directive("nolint");
        let _ = s.directive("delimiter");
    }
}

pub fn check_split(input: &str, split: &Split<'_>, ctx: &dyn std::fmt::Debug) {
    check_stmts(input, &split.stmts, ctx);
    for (i, w) in split.warnings.iter().enumerate() {
        assert!(w.line >= 1, "warning {i}: line {} < 1 ({ctx:?})", w.line);
        assert!(w.column >= 1, "warning {i}: column {} < 1 ({ctx:?})", w.column);
        assert!(w.offset <= input.len(), "warning {i}: offset {} > len {} ({ctx:?})", w.offset, input.len());
        let nl = input.as_bytes()[..w.offset].iter().filter(|&&c| c == b'\n').count();
        assert_eq!(w.line, 1 + nl, "warning {i}: line does not match offset {} ({ctx:?})", w.offset);
        assert!(!w.to_string().is_empty());
        let _ = (w.kind.code(), w.kind.hint());
    }
}

pub fn check_error(input: &str, e: &LexError, ctx: &dyn std::fmt::Debug) {
    assert!(!e.to_string().is_empty(), "empty error message ({ctx:?}): {e:?}");
    assert!(e.offset() <= input.len(), "error offset {} > len {} ({ctx:?}): {e:?}", e.offset(), input.len());
    let _ = (e.kind().code(), e.hint(), e.line(), e.column(), e.message());
}
