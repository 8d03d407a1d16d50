//! A plan as GitHub-flavoured Markdown, for a pull request comment.

use super::html_escape;
use crate::plan::Plan;
use std::fmt::Write;

/// Text for a Markdown table cell or heading: characters that Markdown or
/// HTML would interpret are escaped, line breaks become spaces.
pub(crate) fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// `s` as an inline code span: delimited by more backticks than any run
/// inside it (padded with spaces when it starts or ends with one). In a
/// table cell a `|` still splits the cell, so it is escaped: GitHub removes
/// that backslash inside code spans too.
pub(crate) fn md_code_span(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ").replace('|', "\\|");
    let (mut longest, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A fenced code block that no backtick run inside `code` can close.
pub(crate) fn md_code_block(lang: &str, code: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in code.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{lang}\n{code}\n{fence}\n")
}

/// The plan as Markdown: a summary line, a table of the files, and each
/// file's statements in a collapsed SQL block.
pub fn plan_markdown(p: &Plan) -> String {
    let mut out = String::from("### Migration plan\n\n");
    plan_summary_markdown(p, "the database", usize::MAX, &mut out);
    for f in &p.files {
        let body: Vec<&str> = f.pending_statements().iter().map(|s| s.text.as_str()).collect();
        let _ = writeln!(out, "<details><summary><code>{}</code></summary>\n", html_escape(&f.name));
        out.push_str(&md_code_block("sql", &body.join("\n")));
        out.push_str("\n</details>\n\n");
    }
    let _ = writeln!(out, "<sub>Plan digest {} · atlas.sum {}</sub>", md_code_span(&p.digest), md_code_span(&p.sum));
    out
}

/// A plan's summary line, baseline and stop notes, and its table of files
/// (at most `max_rows` rows, then how many more), for `database` (e.g.
/// "the database", "target `prod`").
pub(crate) fn plan_summary_markdown(p: &Plan, database: &str, max_rows: usize, out: &mut String) {
    let n = p.files.len();
    let stmts = p.statement_count();
    let from = p.current.as_deref().map_or("an empty database".to_string(), |c| format!("version {}", md_code_span(c)));
    if n == 0 {
        let _ = writeln!(out, "Nothing to apply: {database} at {from} is up to date.\n");
    } else {
        let _ = writeln!(
            out,
            "**{n} file{}, {stmts} statement{}** to apply, from {from} to version {}.\n",
            if n == 1 { "" } else { "s" },
            if stmts == 1 { "" } else { "s" },
            md_code_span(p.target.as_deref().unwrap_or(""))
        );
    }
    if let Some(b) = &p.baseline {
        let _ = writeln!(out, "Version {} is recorded as the baseline first.\n", md_code_span(&b.version));
    }
    if let Some((f, e)) = p.first_error() {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> The run will stop at {}: {}\n",
            md_code_span(&f.name),
            md_escape(&e.to_string())
        );
    }
    if n > 0 {
        out.push_str("| # | File | Statements | Transaction | Notes |\n|---:|---|---:|---|---|\n");
        for (i, f) in p.files.iter().enumerate().take(max_rows) {
            let mut notes = super::file_notes(f);
            if f.error.is_some() {
                notes.push("**fails**".into());
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                i + 1,
                md_code_span(&f.name),
                f.pending_statements().len(),
                f.tx_mode.as_str(),
                notes.join(", ")
            );
        }
        if n > max_rows {
            let _ = writeln!(out, "| | … and {} more files | | | |", n - max_rows);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(md_code_span("1_a_b.sql"), "`1_a_b.sql`");
        assert_eq!(md_code_span("a`b"), "``a`b``");
        assert_eq!(md_code_span("`x"), "`` `x ``");
        assert_eq!(md_code_span("a|b"), "`a\\|b`");
        assert_eq!(md_code_block("sql", "SELECT '```';"), "````sql\nSELECT '```';\n````\n");
        assert_eq!(md_escape("<b>*x*</b>"), "\\<b\\>\\*x\\*\\</b\\>");
        assert_eq!(html_escape("<a href=\"x\">'"), "&lt;a href=&quot;x&quot;&gt;&#39;");
    }
}
