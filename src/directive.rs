//! Atlas directives: `-- atlas:<name> [args]` comments (spec §3).
//!
//! Atlas recognises a directive by matching the regular expression
//! `^([ -~]*)atlas:(\w+)(?: +(.+))*` at the start of a string. This module
//! reproduces that match by hand, byte for byte, including its corners:
//!
//! * the prefix is any run of printable ASCII and is greedy, so with several
//!   `atlas:` on one line the last one followed by a word character wins;
//! * the name stops at the first non-word byte (`atlas:sum-x` is `sum`);
//! * the arguments are the rest of the line after one or more spaces,
//!   including trailing spaces and a `\r`; a name followed only by spaces
//!   gets a single space as its argument when there were two or more.
//!
//! It does not decide where directives may appear: file headers are found by
//! [`crate::dir`], statement comments by [`crate::lex`], and the `atlas.sum`
//! ignore rule by [`crate::sum`].

use crate::text::is_word;

/// One directive matched at the start of a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Directive<'a> {
    /// Everything before `atlas:` (for example `-- ` or `#`).
    pub prefix: &'a [u8],
    /// The directive name (`sum`, `delimiter`, `txmode`, ...): ASCII word bytes.
    pub name: &'a str,
    /// The raw arguments: the rest of the line after the separating spaces.
    pub args: &'a [u8],
}

impl<'a> Directive<'a> {
    /// The arguments as text; invalid UTF-8 is replaced by U+FFFD.
    pub fn args_lossy(&self) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(self.args)
    }
}

const MARK: &[u8] = b"atlas:";

/// Matches Atlas's directive expression at the start of `s`.
///
/// ```
/// use strata::directive::parse;
/// let d = parse(b"-- atlas:txmode none\nSELECT 1;").unwrap();
/// assert_eq!((d.prefix, d.name, d.args), (&b"-- "[..], "txmode", &b"none"[..]));
/// assert!(parse(b"\t-- atlas:txmode none").is_none()); // a tab is not printable ASCII
/// ```
pub fn parse(s: &[u8]) -> Option<Directive<'_>> {
    // The prefix and the `atlas:` mark lie within the leading run of
    // printable ASCII bytes.
    let run = s.iter().position(|&b| !(0x20..=0x7e).contains(&b)).unwrap_or(s.len());
    if run < MARK.len() + 1 {
        return None;
    }
    // Greedy prefix: the last `atlas:` that is followed by a word byte.
    let mut p = run - MARK.len();
    let start = loop {
        if &s[p..p + MARK.len()] == MARK && s.get(p + MARK.len()).is_some_and(|&b| is_word(b)) {
            break p;
        }
        if p == 0 {
            return None;
        }
        p -= 1;
    };
    let name_start = start + MARK.len();
    let name_end = name_start + s[name_start..].iter().take_while(|&&b| is_word(b)).count();
    let spaces = s[name_end..].iter().take_while(|&&b| b == b' ').count();
    let rest_start = name_end + spaces;
    let line_end = memchr::memchr(b'\n', &s[rest_start..]).map_or(s.len(), |i| rest_start + i);
    let args = if spaces == 0 {
        &s[name_end..name_end]
    } else if line_end > rest_start {
        &s[rest_start..line_end]
    } else if spaces >= 2 {
        // ` +` gives back one space so that `.+` can match it.
        &s[rest_start - 1..rest_start]
    } else {
        &s[name_end..name_end]
    };
    Some(Directive {
        prefix: &s[..start],
        // Word bytes are ASCII, so this cannot fail.
        name: std::str::from_utf8(&s[name_start..name_end]).unwrap_or_default(),
        args,
    })
}

/// Atlas's `directive(content, name, prefix...)`: the arguments of the
/// directive at the start of `s` if its name is `name` and, when `prefix` is
/// given, its prefix is exactly `prefix`.
pub fn lookup<'a>(s: &'a [u8], name: &str, prefix: Option<&str>) -> Option<&'a [u8]> {
    let d = parse(s)?;
    (d.name == name && prefix.is_none_or(|p| p.as_bytes() == d.prefix)).then_some(d.args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<(String, String, String)> {
        parse(s.as_bytes()).map(|d| {
            (
                String::from_utf8_lossy(d.prefix).into_owned(),
                d.name.to_string(),
                String::from_utf8_lossy(d.args).into_owned(),
            )
        })
    }

    fn t(a: &str, b: &str, c: &str) -> Option<(String, String, String)> {
        Some((a.into(), b.into(), c.into()))
    }

    #[test]
    fn matches_like_atlas_regex() {
        assert_eq!(p("-- atlas:sum ignore"), t("-- ", "sum", "ignore"));
        assert_eq!(p("atlas:sum ignore"), t("", "sum", "ignore"));
        assert_eq!(p("//atlas:sum ignore\nx"), t("//", "sum", "ignore"));
        assert_eq!(p("SELECT 1; -- atlas:sum ignore"), t("SELECT 1; -- ", "sum", "ignore"));
        assert_eq!(p("-- atlas:sum ignore \n"), t("-- ", "sum", "ignore "));
        assert_eq!(p("-- atlas:sum ignore\r\n"), t("-- ", "sum", "ignore\r"));
        assert_eq!(p("-- atlas:sum  a  b "), t("-- ", "sum", "a  b "));
        assert_eq!(p("-- atlas:sum-x y"), t("-- ", "sum", ""));
        assert_eq!(p("-- atlas:sum"), t("-- ", "sum", ""));
        assert_eq!(p("-- atlas:sum "), t("-- ", "sum", ""));
        assert_eq!(p("-- atlas:sum   "), t("-- ", "sum", " "));
        assert_eq!(p("-- atlas:sum   \nx"), t("-- ", "sum", " "));
        // The last `atlas:` followed by a word byte wins.
        assert_eq!(p("-- atlas:a atlas:b c"), t("-- atlas:a ", "b", "c"));
        assert_eq!(p("-- atlas:a x atlas:"), t("-- ", "a", "x atlas:"));
        assert_eq!(p("-- atlas:"), None);
        assert_eq!(p("\t-- atlas:sum ignore"), None);
        assert_eq!(p("é atlas:sum ignore"), None);
        assert_eq!(p("-- atlas:sum é\n"), t("-- ", "sum", "é"));
        assert_eq!(p(""), None);
    }

    #[test]
    fn lookup_checks_name_and_prefix() {
        assert_eq!(lookup(b"-- atlas:delimiter //\n", "delimiter", Some("-- ")), Some(&b"//"[..]));
        assert_eq!(lookup(b"--atlas:delimiter //\n", "delimiter", Some("-- ")), None);
        assert_eq!(lookup(b"# atlas:sum ignore", "sum", None), Some(&b"ignore"[..]));
        assert_eq!(lookup(b"# atlas:sum ignore", "delimiter", None), None);
    }
}
