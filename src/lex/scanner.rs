//! The scanner itself: a faithful port of the control flow of Atlas's
//! `Scanner.stmt` (spec §4.4), with three changes that do not alter output:
//!
//! * bytes that cannot start any construct are skipped in bulk (a table per
//!   scanner, rebuilt when the delimiter changes);
//! * searches that failed once (a `\n` or `*/` that does not exist further
//!   on, a white-space run) are remembered, so that pathological input stays
//!   linear;
//! * nested block scans are memoised by their start offset and bounded, see
//!   the module documentation of [`crate::lex`].
//!
//! Every scanner works on a suffix of the root text: `input` always ends
//! where the root ends, so positions are kept as absolute offsets.

use super::{LexError, LexErrorKind, LexWarning, LexWarningKind, ScanOptions, Split, Stmt};
use crate::text::{atlas_line_col, go_quote, go_quote_rune, is_re_space, is_word, leading_space_len};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Blocks may nest this deep; deeper input is refused as too complex.
pub const MAX_BLOCK_DEPTH: usize = 48;

/// Nested block scans may traverse at most this many times the input
/// length (plus one mebibyte) in total before the input is refused as too
/// complex.
pub const WORK_FACTOR: usize = 32;

const DEFAULT_DELIM: &str = ";";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Block {
    Atomic,
    TryCatch,
    Begin,
}

/// Outcome of a failed step: soft errors are Atlas errors (swallowed inside
/// blocks), fatal ones are our limits (never swallowed).
enum Fail {
    Soft(LexError),
    Fatal(LexError),
}

type Res<T> = Result<T, Fail>;

/// State shared by a root scanner and all nested ones.
struct Ctx<'a> {
    root: &'a str,
    /// (absolute start of a nested scan, block kind) → bytes to advance.
    memo: BTreeMap<(usize, Block), Option<usize>>,
    /// No `\n` exists at or after this absolute offset.
    no_newline_from: usize,
    /// No `*/` exists at or after this absolute offset.
    no_close_from: usize,
    /// Bytes nested scans may still traverse.
    budget: usize,
    depth: usize,
    /// Warnings about the root scan (nested scans report none).
    warnings: Vec<LexWarning>,
}

impl Ctx<'_> {
    /// Records a warning about the root scan. A kind that cannot recur
    /// differently (after one unterminated comment, every later `/*` is
    /// unterminated too) is reported once.
    fn warn(&mut self, kind: LexWarningKind, abs: usize) {
        let repeat = kind != LexWarningKind::UnclosedBlock && self.warnings.iter().any(|w| w.kind == kind);
        if self.depth == 0 && !repeat {
            let (line, column) = crate::text::line_col(self.root.as_bytes(), abs);
            self.warnings.push(LexWarning { kind, offset: abs, line, column });
        }
    }

    fn find_newline(&mut self, from: usize) -> Option<usize> {
        if from >= self.no_newline_from {
            return None;
        }
        match memchr::memchr(b'\n', &self.root.as_bytes()[from..]) {
            Some(i) => Some(i),
            None => {
                self.no_newline_from = from;
                None
            }
        }
    }

    fn find_close(&mut self, from: usize) -> Option<usize> {
        if from >= self.no_close_from {
            return None;
        }
        match memchr::memmem::find(&self.root.as_bytes()[from..], b"*/") {
            Some(i) => Some(i),
            None => {
                self.no_close_from = from;
                None
            }
        }
    }

    fn too_complex(&self, abs: usize, what: &str) -> Fail {
        let message = format!("statement splitting gave up: {what}");
        Fail::Fatal(error_at(self.root, abs, LexErrorKind::TooComplex, message, true))
    }
}

/// An error at absolute offset `abs` of the root text. Atlas's message
/// carries the position only when `positioned`.
fn error_at(root: &str, abs: usize, kind: LexErrorKind, message: String, positioned: bool) -> LexError {
    let (line, column) = atlas_line_col(root.as_bytes(), abs);
    LexError { kind, offset: abs, line, column, message, positioned }
}

pub(super) fn scan(input: &str, options: ScanOptions) -> Result<Split<'_>, LexError> {
    let mut ctx = Ctx {
        root: input,
        memo: BTreeMap::new(),
        no_newline_from: usize::MAX,
        no_close_from: usize::MAX,
        budget: input.len().saturating_mul(WORK_FACTOR).saturating_add(1 << 20),
        depth: 0,
        warnings: Vec::new(),
    };
    let unwrap = |f: Fail| match f {
        Fail::Soft(e) | Fail::Fatal(e) => e,
    };
    let mut s = Scanner::init(options, input, 0, false).map_err(unwrap)?;
    let mut stmts = Vec::new();
    let (mut last_start, mut last_line) = (0, 1);
    while let Some(mut st) = s.stmt(&mut ctx).map_err(unwrap)? {
        // The text is a slice of the input: its address gives its offset.
        st.start = (st.text.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize).min(input.len());
        st.end = st.start + st.text.len();
        if st.start < last_start {
            (last_start, last_line) = (0, 1);
        }
        last_line += memchr::memchr_iter(b'\n', &input.as_bytes()[last_start..st.start]).count();
        last_start = st.start;
        st.line = last_line;
        stmts.push(st);
    }
    Ok(Split { stmts, warnings: ctx.warnings })
}

struct Scanner<'a> {
    opts: ScanOptions,
    root: &'a str,
    /// Absolute offset of this scanner's source (error positions).
    src_start: usize,
    /// Absolute offset of the remaining input.
    input_start: usize,
    /// Position inside the remaining input.
    pos: usize,
    /// Bytes consumed so far (Atlas's `total`).
    total: usize,
    /// Width of the last rune read.
    width: usize,
    delim: Cow<'a, str>,
    comments: Vec<&'a str>,
    endterm: bool,
    /// Bytes that may start a construct; all others are skipped in bulk.
    special: [bool; 256],
    /// Cache: absolute [start, end) of a run of RE2 white space.
    ws_run: (usize, usize),
    /// Cache: (absolute end of text checked, result) of the END terminator.
    endterm_cache: (usize, bool),
}

impl<'a> Scanner<'a> {
    /// Atlas's `init`: a fresh scanner over `root[start..]`, honouring an
    /// `-- atlas:delimiter` first line.
    fn init(opts: ScanOptions, root: &'a str, start: usize, endterm: bool) -> Res<Scanner<'a>> {
        let mut s = Scanner {
            opts,
            root,
            src_start: start,
            input_start: start,
            pos: 0,
            total: 0,
            width: 0,
            delim: Cow::Borrowed(DEFAULT_DELIM),
            comments: Vec::new(),
            endterm,
            special: [false; 256],
            ws_run: (0, 0),
            endterm_cache: (usize::MAX, false),
        };
        let src = &root[start..];
        // The cheap test first: nested scanners start everywhere.
        let directive = if src.starts_with("-- atlas:") {
            crate::directive::lookup(src.as_bytes(), "delimiter", Some("-- "))
        } else {
            None
        };
        if let Some(d) = directive {
            // The arguments end at a `\n` or at the end: a char boundary.
            let d = std::str::from_utf8(d).unwrap_or_default();
            s.set_delim(Cow::Borrowed(d), 0)?;
            match memchr::memchr(b'\n', src.as_bytes()) {
                None => {
                    return Err(s.error(
                        0,
                        LexErrorKind::NoInputAfterDelimiter,
                        format!("no input found after delimiter {}", go_quote(d)),
                    ))
                }
                Some(i) => s.input_start = start + i + 1,
            }
        }
        s.rebuild_special();
        Ok(s)
    }

    #[inline]
    fn input(&self) -> &'a str {
        &self.root[self.input_start..]
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        &self.root.as_bytes()[self.input_start..]
    }

    #[inline]
    fn add_pos(&mut self, n: usize) {
        self.pos += n;
        self.total += n;
    }

    /// Reads the next rune; `None` at the end of input (width unchanged).
    #[inline]
    fn next(&mut self) -> Option<char> {
        let b = self.bytes();
        let &c = b.get(self.pos)?;
        if c < 0x80 {
            self.width = 1;
            self.add_pos(1);
            return Some(c as char);
        }
        let ch = self.input()[self.pos..].chars().next()?;
        self.width = ch.len_utf8();
        self.add_pos(self.width);
        Some(ch)
    }

    /// The next rune without consuming it.
    #[inline]
    fn pick(&self) -> Option<char> {
        let b = self.bytes();
        let &c = b.get(self.pos)?;
        if c < 0x80 {
            return Some(c as char);
        }
        self.input()[self.pos..].chars().next()
    }

    fn skip_spaces(&mut self) {
        let n = leading_space_len(self.input());
        self.input_start += n;
        self.total += n;
    }

    /// Sets the delimiter (Atlas's `setDelim`): `\n`, `\r` and `\t` escapes
    /// are unescaped; an empty one is an error.
    fn set_delim(&mut self, d: Cow<'a, str>, at: usize) -> Res<()> {
        if d.is_empty() {
            let abs = self.input_start + at;
            let e = error_at(self.root, abs, LexErrorKind::EmptyDelimiter, "empty delimiter".into(), false);
            return Err(Fail::Soft(e));
        }
        self.delim = if d.contains('\\') { Cow::Owned(unescape(&d)) } else { d };
        self.rebuild_special();
        Ok(())
    }

    fn is_default_delim(&self) -> bool {
        self.delim == DEFAULT_DELIM
    }

    fn rebuild_special(&mut self) {
        let o = self.opts;
        let default_delim = self.is_default_delim();
        let t = &mut self.special;
        *t = [false; 256];
        for b in [b'(', b')', b'\'', b'"', b'`', b'-', b'/'] {
            t[b as usize] = true;
        }
        if let Some(&b) = self.delim.as_ref().as_bytes().first() {
            t[b as usize] = true;
        }
        if o.match_dollar_quote {
            t[b'$' as usize] = true;
        }
        if o.hash_comments {
            t[b'#' as usize] = true;
        }
        if o.go_command {
            for b in [b'\n', b'G', b'g'] {
                t[b as usize] = true;
            }
        }
        let spaces = [b'\t', b'\n', 0x0c, b'\r', b' '];
        if self.endterm {
            for b in spaces.iter().chain(b"dD") {
                t[*b as usize] = true;
            }
        }
        if default_delim && (o.match_begin || o.match_begin_atomic || o.match_begin_try_catch) {
            // Block openers are only checked at a `B`. Atlas also tries them
            // at the white space before it, and at the `E` after a `B`; at
            // white space the match skips to the same `B` and ends in the
            // same place, and at an `E` the opener never matches again when
            // the block is entered, so neither changes the outcome.
            t[b'b' as usize] = true;
            t[b'B' as usize] = true;
        }
    }

    /// Advances over bytes that cannot start any construct. Never used for
    /// the first rune of a statement, which has rules of its own.
    #[inline]
    fn skip_plain(&mut self) {
        let b = self.bytes();
        let mut i = self.pos;
        while i < b.len() && !self.special[b[i] as usize] {
            i += 1;
        }
        self.total += i - self.pos;
        self.pos = i;
    }

    /// Atlas's `error(pos, ...)`: positions count from this scanner's source.
    fn error(&self, pos: usize, kind: LexErrorKind, message: String) -> Fail {
        let src = &self.root[self.src_start..];
        let p = self.input_start - self.src_start + pos;
        let mut e = error_at(src, p, kind, message, true);
        e.offset += self.src_start;
        Fail::Soft(e)
    }

    /// Scans one statement; `Ok(None)` at the end of input.
    fn stmt(&mut self, ctx: &mut Ctx<'a>) -> Res<Option<Stmt<'a>>> {
        let mut depth = 0usize;
        let mut opening = 0usize;
        self.skip_spaces();
        let text_end: usize;
        loop {
            if self.pos > 0 {
                self.skip_plain();
            }
            let Some(r) = self.next() else {
                if depth > 0 {
                    return Err(self.error(opening, LexErrorKind::UnclosedParen, "unclosed '('".into()));
                }
                if self.pos > 0 {
                    text_end = self.bytes().len();
                    break;
                }
                return Ok(None);
            };
            let b = self.bytes();
            match r {
                '(' => {
                    if depth == 0 {
                        opening = self.pos;
                    }
                    depth += 1;
                    continue;
                }
                ')' => {
                    if depth == 0 {
                        return Err(self.error(self.pos, LexErrorKind::UnexpectedParen, "unexpected ')'".into()));
                    }
                    depth -= 1;
                    continue;
                }
                '\'' | '"' | '`' => {
                    self.skip_quote(r)?;
                    continue;
                }
                _ => {}
            }
            // The MySQL client's DELIMITER command, at the start of a statement.
            if self.pos == 1 && b.len() > 9 && b[..9].eq_ignore_ascii_case(b"delimiter") {
                self.add_pos(8);
                self.delim_cmd()?;
                self.skip_spaces();
                continue;
            }
            // `GO` takes over the delimiter when on a line of its own.
            if self.opts.go_command {
                let after_newline = r == '\n' && go_cmd(&b[self.pos..]);
                if after_newline
                    || ((self.pos == 1 || self.pos > 1 && b[self.pos - 2] == b'\n') && go_cmd(&b[self.pos - 1..]))
                {
                    if after_newline {
                        self.next(); // the `G`
                    }
                    text_end = self.pos - 1;
                    self.next(); // the `O`
                    self.skip_go_count()?;
                    self.skip_spaces();
                    break;
                }
            }
            // Delimiters take precedence over comments.
            let d = self.delim.as_ref().as_bytes();
            if depth == 0 && b[self.pos - self.width] == d[0] && b[self.pos - self.width..].starts_with(d) {
                let n = self.delim.as_ref().len() - self.width;
                self.add_pos(n);
                text_end = self.pos;
                break;
            }
            if self.opts.match_dollar_quote && r == '$' {
                if let Some(tag) = dollar_tag(&b[self.pos - 1..]) {
                    self.skip_dollar_quote(tag, ctx);
                    continue;
                }
            }
            if r == '#' && self.opts.hash_comments {
                self.comment(1, false, ctx);
                continue;
            }
            if r == '-' && self.pick() == Some('-') {
                self.next();
                self.comment(2, false, ctx);
                continue;
            }
            if r == '/' && self.pick() == Some('*') {
                self.next();
                self.comment(2, true, ctx);
                continue;
            }
            if self.endterm && self.endterm_match(r) {
                text_end = self.pos;
                break;
            }
            if self.is_default_delim() && (r == 'b' || r == 'B') {
                if self.opts.match_begin_atomic && self.begin_at(self.pos - 1, Block::Atomic).is_some() {
                    if self.skip_block(Block::Atomic, ctx)? {
                        text_end = self.pos;
                        break;
                    }
                    continue;
                }
                if self.opts.match_begin_try_catch && self.begin_at(self.pos - 1, Block::TryCatch).is_some() {
                    if self.skip_block(Block::TryCatch, ctx)? {
                        text_end = self.pos;
                        break;
                    }
                    continue;
                }
                // Atlas matches from the rune before `B` unless `B` starts the
                // statement: that rune must be white space.
                if self.opts.match_begin
                    && (self.pos == 1 || is_re_space(b[self.pos - 2]))
                    && self.begin_at(self.pos - 1, Block::Begin).is_some()
                {
                    if self.skip_block(Block::Begin, ctx)? {
                        text_end = self.pos;
                        break;
                    }
                    continue;
                }
            }
        }
        Ok(Some(self.emit(text_end)))
    }

    fn emit(&mut self, text_end: usize) -> Stmt<'a> {
        let raw = &self.input()[..text_end];
        let pos = self.total - raw.len();
        self.input_start += self.pos;
        self.pos = 0;
        let comments = std::mem::take(&mut self.comments);
        let mut text = raw;
        if self.opts.omit_delimiter || !self.is_default_delim() {
            text = text.strip_suffix(self.delim.as_ref()).unwrap_or(text);
        }
        // `start`, `end` and `line` are filled in by `scan` for the root.
        Stmt { pos, start: 0, end: 0, line: 0, text: text.trim(), comments }
    }

    fn skip_quote(&mut self, quote: char) -> Res<()> {
        let start = self.pos;
        // Atlas's E'…' check looks at the quote itself, so only
        // BackslashEscapes ever enables escapes (spec §4.5).
        let escaped = self.opts.backslash_escapes;
        let b = self.bytes();
        let q = quote as u8;
        let mut i = self.pos;
        loop {
            let found = if escaped { memchr::memchr2(q, b'\\', &b[i..]) } else { memchr::memchr(q, &b[i..]) };
            match found {
                None => {
                    self.total += b.len() - self.pos;
                    self.pos = b.len();
                    return Err(self.error(
                        start,
                        LexErrorKind::UnclosedQuote,
                        format!("unclosed quote {}", go_quote_rune(quote)),
                    ));
                }
                Some(j) if b[i + j] == b'\\' => {
                    i += j + 1;
                    // Skip the escaped rune, whatever its width.
                    if let Some(c) = self.root[self.input_start + i..].chars().next() {
                        i += c.len_utf8();
                    }
                }
                Some(j) => {
                    i += j + 1;
                    self.total += i - self.pos;
                    self.pos = i;
                    return Ok(());
                }
            }
        }
    }

    fn skip_dollar_quote(&mut self, tag_len: usize, ctx: &mut Ctx<'a>) {
        let b = self.bytes();
        let open = self.pos - 1;
        let tag = &b[open..open + tag_len];
        self.add_pos(tag_len - 1);
        match memchr::memmem::find(&b[self.pos..], tag) {
            Some(i) => self.add_pos(i + tag_len),
            // Unterminated: the rest of the input is inside the quote. Atlas
            // only fails here when no delimiter is set, which cannot happen.
            None => {
                ctx.warn(LexWarningKind::UnterminatedDollarQuote, self.input_start + open);
                self.add_pos(b.len() - self.pos)
            }
        }
    }

    /// Atlas's `comment(left, right)`, called with the opener consumed.
    fn comment(&mut self, left_len: usize, block: bool, ctx: &mut Ctx<'a>) {
        let abs = self.input_start + self.pos;
        let (found, right_len) = if block { (ctx.find_close(abs), 2) } else { (ctx.find_newline(abs), 1) };
        let at_start = self.pos == left_len;
        let Some(i) = found else {
            // Not a comment: the opener is ordinary text.
            if block {
                ctx.warn(LexWarningKind::UnterminatedBlockComment, abs - left_len);
            } else if at_start {
                ctx.warn(LexWarningKind::CommentOnlyStatement, abs - left_len);
            }
            return;
        };
        self.add_pos(i + right_len);
        if !at_start {
            return; // Inside a statement: part of its text.
        }
        let input = self.input();
        self.comments.push(&input[..self.pos]);
        self.input_start += self.pos;
        self.pos = 0;
        let rest = self.bytes();
        if rest.starts_with(b"\n\n") || (!block && rest.starts_with(b"\n")) {
            self.comments.clear();
        }
        self.skip_spaces();
    }

    /// The MySQL `DELIMITER` command; "delimiter" has been consumed.
    fn delim_cmd(&mut self) -> Res<()> {
        if self.pick() != Some(' ') {
            return Ok(());
        }
        self.consume_line();
        let raw = self.input()[9..self.pos].trim();
        if raw.starts_with('\'') && raw.ends_with('\'') {
            if raw.len() < 2 {
                return Err(self.error(
                    self.pos,
                    LexErrorKind::InvalidDelimiter,
                    format!("invalid delimiter {}", go_quote(raw)),
                ));
            }
            let unquoted = raw[1..raw.len() - 1].replace("''", "'");
            self.set_delim(Cow::Owned(unquoted), self.pos)?;
        } else {
            self.set_delim(Cow::Borrowed(raw), self.pos)?;
        }
        self.emit(self.pos);
        Ok(())
    }

    /// Consumes through the next `\n` (or to the end); returns the new
    /// position.
    fn consume_line(&mut self) -> usize {
        let b = self.bytes();
        let end = memchr::memchr(b'\n', &b[self.pos..]).map_or(b.len(), |i| self.pos + i + 1);
        self.total += end - self.pos;
        self.pos = end;
        end
    }

    /// `GO [count]`: checks the optional count (Go's `strconv.Atoi`).
    fn skip_go_count(&mut self) -> Res<()> {
        if self.pick() != Some(' ') {
            return Ok(());
        }
        let c = self.pos;
        let end = self.consume_line();
        let raw = &self.input()[c..end];
        let arg = raw.trim();
        if let Err(why) = go_atoi(arg) {
            let message = format!(
                "sql/migrate: invalid GO command, expect digits got {}: strconv.Atoi: parsing {}: {why}",
                go_quote(raw),
                go_quote(arg),
            );
            let e = error_at(self.root, self.input_start + c, LexErrorKind::InvalidGoCount, message, false);
            return Err(Fail::Soft(e));
        }
        Ok(())
    }

    /// The first non-RE2-space at or after absolute `abs`, cached per run.
    fn skip_ws_from(&mut self, abs: usize) -> usize {
        if self.ws_run.0 <= abs && abs <= self.ws_run.1 {
            return self.ws_run.1;
        }
        let b = self.root.as_bytes();
        let mut i = abs;
        while i < b.len() && is_re_space(b[i]) {
            i += 1;
        }
        self.ws_run = (abs, i);
        i
    }

    /// Matches `(?i)^\s*BEGIN\s+` (plus `ATOMIC\s+` or `TRY\s+` for those
    /// blocks) at `at` in the input; returns the match length.
    #[inline]
    fn begin_at(&mut self, at: usize, kind: Block) -> Option<usize> {
        let abs = self.input_start + at;
        // Fast rejection: the match must reach a `B`.
        match self.root.as_bytes().get(abs) {
            Some(c) if c.eq_ignore_ascii_case(&b'b') || is_re_space(*c) => self.begin_at_slow(abs, kind),
            _ => None,
        }
    }

    #[inline(never)]
    fn begin_at_slow(&mut self, abs: usize, kind: Block) -> Option<usize> {
        let b = self.root.as_bytes();
        let q = self.skip_ws_from(abs);
        if !b.get(q).is_some_and(|c| c.eq_ignore_ascii_case(&b'b')) {
            return None;
        }
        let mut i = word_then_space(b, q, b"begin")?;
        match kind {
            Block::Begin => {}
            Block::Atomic => i = word_then_space(b, i, b"atomic")?,
            Block::TryCatch => i = word_then_space(b, i, b"try")?,
        }
        Some(i - abs)
    }

    /// `(?i)\s*END\s*$` against the text read so far (T-SQL terminator).
    fn endterm_match(&mut self, r: char) -> bool {
        let abs_end = self.input_start + self.pos;
        let result = match r {
            'd' | 'D' => {
                let text = &self.bytes()[..self.pos];
                text.len() >= 3 && text[text.len() - 3..].eq_ignore_ascii_case(b"end")
            }
            _ if r.is_ascii() && is_re_space(r as u8) => {
                if self.endterm_cache.0 == abs_end - 1 {
                    self.endterm_cache.1
                } else {
                    let text = &self.bytes()[..self.pos];
                    let t = text.len() - text.iter().rev().take_while(|&&c| is_re_space(c)).count();
                    t >= 3 && text[t - 3..t].eq_ignore_ascii_case(b"end")
                }
            }
            _ => false,
        };
        self.endterm_cache = (abs_end, result);
        result
    }

    /// Consumes a block opener and the block, if the block closes. Returns
    /// whether it did; a block that does not close leaves its opener
    /// consumed (as Atlas does) and scanning goes on.
    fn skip_block(&mut self, kind: Block, ctx: &mut Ctx<'a>) -> Res<bool> {
        let Some(m) = self.begin_at(self.pos - 1, kind) else {
            return Ok(false); // e.g. at the `e` of `x.begin`
        };
        let opener = self.skip_ws_from(self.input_start + self.pos - 1);
        self.add_pos(m - 1);
        let start = self.input_start + self.pos;
        let advance = match ctx.memo.get(&(start, kind)) {
            Some(&a) => a,
            None => {
                let a = self.nested(kind, start, ctx)?;
                ctx.memo.insert((start, kind), a);
                a
            }
        };
        match advance {
            Some(n) => {
                let to = self.input_start + self.pos + n;
                if !self.root.is_char_boundary(to) {
                    // Atlas advances by the block's own byte count, which
                    // leaves out a dropped `-- atlas:delimiter` line and what
                    // follows END CATCH; it can land inside a character. Go
                    // then splits the character; strata refuses.
                    let message = "statement splitting gave up: a BEGIN block ends inside a multi-byte character \
                                   (Atlas would split the character)"
                        .to_string();
                    return Err(Fail::Fatal(error_at(self.root, to, LexErrorKind::SplitsCharacter, message, true)));
                }
                self.add_pos(n);
                Ok(true)
            }
            None => {
                ctx.warn(LexWarningKind::UnclosedBlock, opener);
                Ok(false)
            }
        }
    }

    /// Runs a nested scanner from absolute `start` until the statement that
    /// ends the block; `None` when it never comes or scanning fails.
    fn nested(&self, kind: Block, start: usize, ctx: &mut Ctx<'a>) -> Res<Option<usize>> {
        if ctx.depth >= MAX_BLOCK_DEPTH {
            return Err(ctx.too_complex(
                start,
                &format!(
                    "more than {MAX_BLOCK_DEPTH} BEGIN blocks open at once (a BEGIN that no END closes, \
                     such as BEGIN TRANSACTION, opens one)"
                ),
            ));
        }
        ctx.depth += 1;
        let endterm = kind == Block::Begin && self.opts.begin_end_terminator;
        let result = (|| {
            let mut body = match Scanner::init(self.opts, self.root, start, endterm) {
                Ok(s) => s,
                Err(Fail::Soft(_)) => return Ok((None, 0)),
                Err(f) => return Err(f),
            };
            let mut backup = 0;
            loop {
                let st = match body.stmt(ctx) {
                    Ok(Some(st)) => st,
                    Ok(None) | Err(Fail::Soft(_)) => return Ok((None, body.total)),
                    Err(f) => return Err(f),
                };
                let t = st.text.as_bytes();
                match kind {
                    Block::Atomic => {
                        if starts_with_ci(t, b"end") {
                            break;
                        }
                    }
                    Block::TryCatch => {
                        if let Some(m) = end_catch(t) {
                            // Back up over what followed END CATCH.
                            backup = t.len() - m;
                            break;
                        }
                    }
                    Block::Begin => {
                        if starts_with_ci(t, b"end") {
                            let m = 3 + t[3..].iter().take_while(|&&c| is_re_space(c)).count();
                            if m == t.len() || &t[m..] == DEFAULT_DELIM.as_bytes() {
                                break;
                            }
                        } else if self.opts.begin_end_terminator {
                            let e = t.len() - t.iter().rev().take_while(|&&c| is_re_space(c)).count();
                            if e >= 3 && t[e - 3..e].eq_ignore_ascii_case(b"end") {
                                break;
                            }
                        }
                    }
                }
            }
            Ok((Some(body.total - backup), body.total))
        })();
        ctx.depth -= 1;
        let (advance, traversed) = result?;
        if traversed > ctx.budget {
            return Err(ctx.too_complex(start, "BEGIN blocks that no END closes make the input too costly to split (each one scans the rest of the file)"));
        }
        ctx.budget -= traversed;
        Ok(advance)
    }
}

/// `(?i)^GO(?:\s+|$)`.
fn go_cmd(b: &[u8]) -> bool {
    b.len() >= 2 && b[..2].eq_ignore_ascii_case(b"go") && (b.len() == 2 || is_re_space(b[2]))
}

fn starts_with_ci(t: &[u8], w: &[u8]) -> bool {
    t.len() >= w.len() && t[..w.len()].eq_ignore_ascii_case(w)
}

/// Matches `word` case-insensitively at `i`, then one or more RE2 spaces
/// (greedy); returns the end of the match.
fn word_then_space(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    if !starts_with_ci(&b[i.min(b.len())..], word) {
        return None;
    }
    let j = i + word.len();
    let n = b[j..].iter().take_while(|&&c| is_re_space(c)).count();
    (n > 0).then_some(j + n)
}

/// `(?i)^\s*END\s*CATCH\s*` on a trimmed statement: the match length.
fn end_catch(t: &[u8]) -> Option<usize> {
    let ws = |from: usize| from + t[from..].iter().take_while(|&&c| is_re_space(c)).count();
    let i = ws(0);
    if !starts_with_ci(&t[i..], b"end") {
        return None;
    }
    let j = ws(i + 3);
    if !starts_with_ci(&t[j..], b"catch") {
        return None;
    }
    Some(ws(j + 5))
}

/// Matches `^\$([A-Za-zÈ-ÿ_][\wÈ-ÿ]*)*\$`: the length of the tag including
/// both `$`.
fn dollar_tag(b: &[u8]) -> Option<usize> {
    // È-ÿ is U+00C8..=U+00FF, encoded as C3 88..=C3 BF.
    let latin = |i: usize| b.get(i) == Some(&0xC3) && b.get(i + 1).is_some_and(|c| (0x88..=0xBF).contains(c));
    let mut i = 1;
    let mut first = true;
    loop {
        match b.get(i) {
            Some(b'$') => return Some(i + 1),
            Some(&c) if is_word(c) && !(first && c.is_ascii_digit()) => i += 1,
            Some(_) if latin(i) => i += 2,
            _ => return None,
        }
        first = false;
    }
}

/// Atlas's delimiter unescaping: `\n`, `\r` and `\t` become the characters.
fn unescape(d: &str) -> String {
    let mut out = String::with_capacity(d.len());
    let mut rest = d;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let rep = match tail.as_bytes().get(1) {
            Some(b'n') => Some('\n'),
            Some(b'r') => Some('\r'),
            Some(b't') => Some('\t'),
            _ => None,
        };
        match rep {
            Some(c) => {
                out.push(c);
                rest = &tail[2..];
            }
            None => {
                out.push('\\');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Go's `strconv.Atoi` validity: an optional sign and decimal digits that
/// fit in an int64. The error is Go's reason text.
fn go_atoi(s: &str) -> Result<i64, &'static str> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        return Err("invalid syntax");
    }
    let mut n: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err("invalid syntax");
        }
        if n > u64::MAX / 10 {
            return Err("value out of range");
        }
        n = n.checked_mul(10).and_then(|n| n.checked_add(u64::from(c - b'0'))).ok_or("value out of range")?;
    }
    match (neg, n) {
        (false, n) if n <= i64::MAX as u64 => Ok(n as i64),
        (true, n) if n <= i64::MAX as u64 + 1 => Ok((n as i64).wrapping_neg()),
        _ => Err("value out of range"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_like_go() {
        assert_eq!(go_atoi("12"), Ok(12));
        assert_eq!(go_atoi("+3"), Ok(3));
        assert_eq!(go_atoi("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(go_atoi("9223372036854775808"), Err("value out of range"));
        assert_eq!(go_atoi("99999999999999999999x"), Err("value out of range"));
        assert_eq!(go_atoi("x"), Err("invalid syntax"));
        assert_eq!(go_atoi("-"), Err("invalid syntax"));
        assert_eq!(go_atoi(""), Err("invalid syntax"));
        assert_eq!(go_atoi("1_0"), Err("invalid syntax"));
    }

    #[test]
    fn dollar_tags() {
        assert_eq!(dollar_tag(b"$$x"), Some(2));
        assert_eq!(dollar_tag(b"$tag$x"), Some(5));
        assert_eq!(dollar_tag(b"$1$"), None);
        assert_eq!(dollar_tag(b"$a1$"), Some(4));
        assert_eq!(dollar_tag("$é$".as_bytes()), Some(4));
        assert_eq!(dollar_tag("$ü1$".as_bytes()), Some(5));
        assert_eq!(dollar_tag("$ß$".as_bytes()), Some(4)); // U+00DF is inside È-ÿ
        assert_eq!(dollar_tag("$À$".as_bytes()), None); // U+00C0 is not
        assert_eq!(dollar_tag(b"$a"), None);
    }

    #[test]
    fn unescapes_like_go_replacer() {
        assert_eq!(unescape(r"\nGO"), "\nGO");
        assert_eq!(unescape(r"\\n"), "\\\n");
        assert_eq!(unescape(r"a\x"), r"a\x");
        assert_eq!(unescape("\\"), "\\");
    }
}
