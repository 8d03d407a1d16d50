//! Plans and reports as HTML: escaped fragments that the viewer mounts,
//! and a self-contained page ([`report_page`]) for a report file.
//!
//! Every piece of text that comes from a directory, a database or a
//! report (file names, SQL, error messages) goes through [`html_escape`]:
//! no input can open a tag, close an attribute or start a script. The
//! markup uses classes prefixed `st-` and no inline scripts, styles or
//! links built from input.

use super::{go_duration, rfc3339, ApplyReport, Report, ReportBody};
use crate::plan::{Plan, PlannedFile};
use std::fmt::Write;

/// Text for HTML, in element content or a quoted attribute: `&`, `<`,
/// `>`, `"` and `'` as entities.
///
/// ```
/// assert_eq!(strata::report::html_escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
/// ```
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    escape_into(&mut out, s);
    out
}

/// [`html_escape`] of `s`, appended to `out` (no allocation of its own).
pub(crate) fn escape_into(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// SQL keywords the highlighter marks (upper case; matched ignoring case).
const KEYWORDS: &[&str] = &[
    "ADD",
    "ALTER",
    "AND",
    "AS",
    "ASC",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CHECK",
    "COLUMN",
    "COMMIT",
    "CONCURRENTLY",
    "CONSTRAINT",
    "CREATE",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DISTINCT",
    "DROP",
    "ELSE",
    "END",
    "EXISTS",
    "FOREIGN",
    "FROM",
    "FUNCTION",
    "GRANT",
    "GROUP",
    "HAVING",
    "IF",
    "IN",
    "INDEX",
    "INSERT",
    "INTO",
    "IS",
    "JOIN",
    "KEY",
    "LIKE",
    "LIMIT",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "ORDER",
    "PRIMARY",
    "REFERENCES",
    "RENAME",
    "REPLACE",
    "RETURNS",
    "REVOKE",
    "ROLLBACK",
    "SCHEMA",
    "SELECT",
    "SET",
    "TABLE",
    "THEN",
    "TO",
    "TRIGGER",
    "TRUNCATE",
    "TYPE",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VALID",
    "VALUES",
    "VIEW",
    "WHEN",
    "WHERE",
    "WITH",
];

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// `text` escaped inside `<span class="st-{class}">`.
fn span(out: &mut String, class: &str, text: &str) {
    let _ = write!(out, "<span class=\"st-{class}\">");
    escape_into(out, text);
    out.push_str("</span>");
}

/// SQL as escaped HTML with keywords, strings, quoted identifiers,
/// numbers and comments in `<span class="st-kw|st-str|st-id|st-num|st-com">`.
/// The text is unchanged: removing the tags and unescaping gives `sql`
/// back. Unterminated strings and comments run to the end.
///
/// ```
/// let h = strata::report::highlight_sql("SELECT 'a<b' -- x");
/// assert_eq!(h, "<span class=\"st-kw\">SELECT</span> <span class=\"st-str\">&#39;a&lt;b&#39;</span> <span class=\"st-com\">-- x</span>");
/// ```
pub fn highlight_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() * 2);
    let b = sql.as_bytes();
    let mut i = 0;
    let mut plain = 0;
    let flush = |out: &mut String, from: usize, to: usize| escape_into(out, &sql[from..to]);
    while i < b.len() {
        let start = i;
        let class = match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n);
                "com"
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
                "com"
            }
            q @ (b'\'' | b'"' | b'`') => {
                // A doubled quote stays inside.
                i += 1;
                loop {
                    match sql[i..].find(q as char) {
                        None => break i = b.len(),
                        Some(n) if b.get(i + n + 1) == Some(&q) => i += n + 2,
                        Some(n) => break i += n + 1,
                    }
                }
                if q == b'\'' {
                    "str"
                } else {
                    "id"
                }
            }
            b'$' => {
                // PostgreSQL dollar quoting: $tag$ … $tag$.
                let tag_end = sql[i + 1..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map(|n| i + 1 + n)
                    .filter(|&e| b.get(e) == Some(&b'$'));
                match tag_end {
                    Some(e) => {
                        let tag = &sql[i..=e];
                        i = sql[e + 1..].find(tag).map_or(b.len(), |n| e + 1 + n + tag.len());
                        "str"
                    }
                    None => {
                        i += 1;
                        continue;
                    }
                }
            }
            c if c.is_ascii_digit() && (i == 0 || !is_word_byte(b[i - 1])) => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                "num"
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && is_word_byte(b[i]) {
                    i += 1;
                }
                if !is_keyword(&sql[start..i]) {
                    continue;
                }
                "kw"
            }
            _ => {
                // One character (UTF-8 aware) of plain text.
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
                continue;
            }
        };
        flush(&mut out, plain, start);
        span(&mut out, class, &sql[start..i]);
        plain = i;
    }
    flush(&mut out, plain, b.len());
    out
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// A duration in nanoseconds as Go prints it (`1.5ms`), or `—`.
fn took(ns: Option<i64>) -> String {
    ns.map_or_else(|| "—".to_string(), go_duration)
}

/// `<dt>`/`<dd>` pairs, values escaped (keys are the caller's literals).
pub(crate) fn facts(out: &mut String, items: &[(&str, String)]) {
    out.push_str("<dl class=\"st-facts\">");
    for (k, v) in items {
        let _ = write!(out, "<dt>{k}</dt><dd>");
        escape_into(out, v);
        out.push_str("</dd>");
    }
    out.push_str("</dl>");
}

/// What a file's notes say (resumes, out of order, checkpoint), as badges.
fn badges(out: &mut String, f: &PlannedFile) {
    let _ = write!(out, "<span class=\"st-badge\">tx {}</span>", f.tx_mode.as_str());
    for n in super::file_notes(f) {
        out.push_str("<span class=\"st-badge st-note\">");
        escape_into(out, &n);
        out.push_str("</span>");
    }
}

/// A plan as an HTML fragment: a summary (from, to, files, statements,
/// digest), warnings (the error the run will stop at), then each pending
/// file with its statements, highlighted, skipped ones marked.
pub fn plan_html(p: &Plan) -> String {
    let mut out = String::from("<section class=\"st-plan\">");
    let from = p.current.clone().unwrap_or_else(|| "empty database".into());
    let to = p.target.clone().unwrap_or_else(|| from.clone());
    facts(
        &mut out,
        &[
            ("From", from),
            ("To", to),
            ("Files", p.files.len().to_string()),
            ("Statements", p.statement_count().to_string()),
            ("Dialect", p.dialect.name().to_string()),
            ("Digest", p.digest.clone()),
        ],
    );
    if let Some((f, e)) = p.first_error() {
        out.push_str("<p class=\"st-warning\" role=\"alert\"><strong>The run will stop at ");
        escape_into(&mut out, &f.name);
        out.push_str(":</strong> ");
        escape_into(&mut out, &e.to_string());
        out.push_str("</p>");
    }
    if p.files.is_empty() {
        out.push_str("<p class=\"st-empty\">Nothing to apply: the database is up to date.</p>");
    }
    for f in &p.files {
        out.push_str("<article class=\"st-file\"><h3>");
        escape_into(&mut out, &f.name);
        out.push_str("</h3><p class=\"st-badges\">");
        badges(&mut out, f);
        out.push_str("</p><ol class=\"st-statements\">");
        for (i, s) in f.statements.iter().enumerate() {
            let skipped = i < f.skip;
            let _ = write!(
                out,
                "<li{}><span class=\"st-line\">line {}</span><pre><code>{}</code></pre></li>",
                if skipped { " class=\"st-skipped\" title=\"applied by an earlier attempt\"" } else { "" },
                s.line,
                highlight_sql(&s.text)
            );
        }
        out.push_str("</ol></article>");
    }
    out.push_str("</section>");
    out
}

/// What an apply did as an HTML fragment: the outcome and its times, then
/// each file with its statements and their durations; a failing
/// statement is marked (`st-failed`) with the database's error beside it.
pub fn apply_html(r: &ApplyReport) -> String {
    let mut out = String::from("<section class=\"st-apply\">");
    let outcome = match (&r.error, r.dry_run) {
        (Some(_), _) => "failed",
        (None, true) => "dry run: nothing executed",
        (None, false) => "succeeded",
    };
    facts(
        &mut out,
        &[
            ("Outcome", outcome.to_string()),
            ("From", r.current.clone().unwrap_or_else(|| "empty database".into())),
            ("To", r.target.clone().unwrap_or_else(|| "—".into())),
            ("Started", rfc3339(r.start)),
            ("Took", took(r.end.map(|e| e.saturating_sub(r.start)))),
            ("Files", format!("{} of {}", r.applied.len(), r.pending.len())),
            ("Digest", r.digest.clone()),
        ],
    );
    if let Some(e) = &r.error {
        out.push_str("<p class=\"st-error\" role=\"alert\">");
        escape_into(&mut out, e);
        out.push_str("</p>");
    }
    for f in &r.applied {
        let class = if f.error.is_some() { "st-file st-failed" } else { "st-file" };
        let _ = write!(out, "<article class=\"{class}\"><h3>");
        escape_into(&mut out, &f.name);
        let _ = write!(out, "</h3><p class=\"st-took\">{}", took(f.end.map(|e| e.saturating_sub(f.start))));
        if f.skipped > 0 {
            let _ = write!(out, ", resumed after statement {}", f.skipped);
        }
        out.push_str("</p><ol class=\"st-statements\">");
        let last = f.statements.len().saturating_sub(1);
        for (i, s) in f.statements.iter().enumerate() {
            let failed = f.error.as_ref().filter(|e| i == last && !e.stmt.is_empty());
            let _ = write!(
                out,
                "<li{}><span class=\"st-took\">{}</span><pre><code>{}</code></pre>",
                if failed.is_some() { " class=\"st-failed\"" } else { "" },
                took(s.duration()),
                highlight_sql(&s.text)
            );
            if let Some(e) = failed {
                out.push_str("<p class=\"st-error\">");
                escape_into(&mut out, &e.text);
                out.push_str("</p>");
            }
            out.push_str("</li>");
        }
        out.push_str("</ol>");
        if let Some(e) = f.error.as_ref().filter(|e| e.stmt.is_empty()) {
            out.push_str("<p class=\"st-error\">");
            escape_into(&mut out, &e.text);
            out.push_str("</p>");
        }
        out.push_str("</article>");
    }
    out.push_str("</section>");
    out
}

/// The style of the report fragments ([`plan_html`], [`apply_html`], SQL
/// highlighting): system fonts, no external resource. [`report_page`]
/// inlines it; the viewer serves it as `report.css`.
pub const REPORT_CSS: &str = "\
.st-file h3{font-size:1rem;margin:0 0 .3rem;word-break:break-all}\
.st-facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}\
.st-facts dt{color:#57606a}.st-facts dd{margin:0;word-break:break-all}\
.st-file{border:1px solid #d0d7de;border-radius:6px;padding:.8rem;margin:1rem 0}\
.st-statements{padding-left:1.5rem}.st-statements li{margin:.4rem 0}\
pre{margin:.2rem 0;padding:.5rem;background:#f6f8fa;border-radius:4px;overflow-x:auto;white-space:pre-wrap}\
.st-kw{color:#cf222e;font-weight:600}.st-str{color:#0a3069}.st-id{color:#8250df}.st-num{color:#0550ae}.st-com{color:#6e7781}\
.st-badge{display:inline-block;font-size:.8rem;border:1px solid #d0d7de;border-radius:1rem;padding:0 .5rem;margin-right:.3rem}\
.st-failed{border-color:#cf222e}li.st-failed pre{background:#ffebe9}\
.st-error,.st-warning{color:#a40e26;white-space:pre-wrap}.st-skipped{opacity:.55}.st-took,.st-line{color:#57606a;font-size:.85rem}";

/// The report page's own layout, beside [`REPORT_CSS`].
const PAGE_CSS: &str = "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24}h1{font-size:1.4rem}";

/// A report document as a self-contained HTML page (inline style, no
/// script, nothing loaded from elsewhere): a heading naming the kind,
/// directory and target, then the plan or apply fragment. A status report
/// shows Atlas's status text.
pub fn report_page(doc: &Report) -> Result<String, Box<crate::error::Error>> {
    let body = doc.body()?;
    let kind = match &body {
        ReportBody::Plan(_) => "Plan",
        ReportBody::Status(_) => "Status",
        ReportBody::Apply(a) if a.dry_run => "Dry run",
        ReportBody::Apply(_) => "Apply",
    };
    let mut title = kind.to_string();
    if let Some(d) = &doc.directory {
        let _ = write!(title, " of {d}");
    }
    if let Some(t) = &doc.target {
        let _ = write!(title, " on {t}");
    }
    let mut out = String::from("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
    );
    out.push_str("<title>");
    escape_into(&mut out, &title);
    let _ = write!(out, "</title><style>{PAGE_CSS}{REPORT_CSS}</style></head><body><h1>");
    escape_into(&mut out, &title);
    out.push_str("</h1>");
    match &body {
        ReportBody::Plan(p) => out.push_str(&plan_html(p)),
        ReportBody::Apply(a) => out.push_str(&apply_html(a)),
        ReportBody::Status(s) => {
            out.push_str("<pre>");
            escape_into(&mut out, &super::status_text(s));
            out.push_str("</pre>");
        }
    }
    out.push_str("<footer class=\"st-took\">");
    escape_into(&mut out, &doc.generator);
    out.push_str("</footer></body></html>\n");
    Ok(out)
}
