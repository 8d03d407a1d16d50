//! The preview as one pull request comment, within GitHub's size limit.
//!
//! Sections come in order of importance and each may use the space up to
//! a share of the limit: the verdict, the directory's problems (up to a
//! quarter), the lint findings (up to half), the target's plan (up to
//! five eighths), then the new files' SQL until the limit. Every list
//! that is cut says how many items it left out; SQL is cut per statement
//! and per file; what does not fit at all is counted in the closing line.

use super::{marker, NewFile, Preview, Problem};
use crate::lint::render::{clip, finding_row, severity, verdict, CELL, FINDINGS_HEAD};
use crate::lint::Finding;
use crate::report::{html_escape, md_code_block, md_code_span, md_escape, plan_summary_markdown};
use crate::text::count;
use std::fmt::Write;

/// GitHub's limit on a comment's body, in characters. The preview counts
/// bytes, which are never fewer than characters (nor UTF-16 code units).
pub const COMMENT_LIMIT: usize = 65_536;

/// At most this many bytes of SQL per file.
const FILE_SQL: usize = 8_000;
/// At most this many bytes of one statement.
const STATEMENT_SQL: usize = 3_000;
/// Kept free for the closing lines.
const RESERVE: usize = 1_024;

/// The largest prefix of `s` of at most `max` bytes that ends at a line
/// break (or, without one, at a character boundary).
fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    match s[..end].rfind('\n') {
        Some(i) if i > 0 => &s[..i],
        _ => &s[..end],
    }
}

/// A text being written within a byte budget.
struct Budget {
    out: String,
    limit: usize,
}

impl Budget {
    /// Whether `extra` more bytes fit before `share` of the limit, keeping
    /// the reserve for the closing lines.
    fn fits(&self, extra: usize, share: usize) -> bool {
        self.out.len() + extra + RESERVE <= share.min(self.limit)
    }

    /// Appends `s` if it fits within `share`; says whether it did.
    fn push(&mut self, s: &str, share: usize) -> bool {
        let ok = self.fits(s.len(), share);
        if ok {
            self.out.push_str(s);
        }
        ok
    }
}

fn problem_line(p: &Problem) -> String {
    let file = p.error.file.as_deref().map(|f| format!(" {}", md_code_span(f))).unwrap_or_default();
    format!(
        "- {} `{}`{file}: {}  \n  *{}*\n",
        severity(p.severity),
        p.error.code,
        md_escape(&clip(&p.error.message, CELL)),
        md_escape(&clip(&p.error.hint, CELL))
    )
}

/// The SQL of a new file, cut to [`FILE_SQL`] bytes (each statement to
/// [`STATEMENT_SQL`]), each statement after a `-- line N` comment. Returns
/// the block and whether anything was cut.
fn file_sql(f: &NewFile<'_>) -> (String, bool) {
    let mut sql = String::new();
    let mut cut = false;
    for (i, s) in f.statements.iter().enumerate() {
        if sql.len() >= FILE_SQL {
            let _ = write!(sql, "-- … {} not shown", count(f.statements.len() - i, "more statement"));
            cut = true;
            break;
        }
        if i > 0 {
            sql.push('\n');
        }
        let _ = writeln!(sql, "-- line {}", s.line);
        let room = STATEMENT_SQL.min(FILE_SQL.saturating_sub(sql.len()).max(200));
        if s.text.len() > room {
            let shown = prefix(s.text, room);
            let _ = writeln!(sql, "{shown}\n-- … cut: the statement is {} bytes long", s.text.len());
            cut = true;
        } else {
            let _ = writeln!(sql, "{}", s.text);
        }
    }
    (sql.trim_end().to_string(), cut)
}

/// The preview as Markdown of at most `limit` bytes (`limit` ≥ 4 KiB).
pub(super) fn render(p: &Preview<'_>, limit: usize) -> String {
    let mut b = Budget { out: String::new(), limit };
    let out = &mut b.out;
    let _ = writeln!(out, "{}", marker(&p.name));
    let _ =
        writeln!(out, "### Migration preview: {} against {}\n", md_code_span(&p.name), md_code_span(&p.base.reference));
    let _ = writeln!(out, "{}\n", verdict(p.errors, p.warnings, "No problems found"));
    let base = p.base.describe(md_code_span);
    let _ = writeln!(
        out,
        "**{}, {}** new against {base}; {} unchanged, {} changed, {} removed. `atlas.sum`: {}. Dialect: {}.\n",
        count(p.new_files.len(), "file"),
        count(p.statement_count(), "statement"),
        p.unchanged,
        p.changed.len(),
        p.removed.len(),
        if p.sum_ok { "valid" } else { "**invalid**" },
        p.dialect
    );

    let mut left_out = Vec::new();
    if !p.problems.is_empty() {
        let share = limit / 4;
        b.push("#### Problems\n\n", share);
        let shown = p.problems.iter().take_while(|pr| b.push(&problem_line(pr), share)).count();
        if shown < p.problems.len() {
            let _ = writeln!(b.out, "- … and {} more problems", p.problems.len() - shown);
            left_out.push(count(p.problems.len() - shown, "problem"));
        }
        b.out.push('\n');
    }

    let findings: Vec<&Finding> = p.lint.findings.iter().chain(&p.lint.unparsed).collect();
    if !findings.is_empty() {
        let share = limit / 2;
        b.push("#### Lint\n\n", share);
        b.push(FINDINGS_HEAD, share);
        let shown = findings.iter().take_while(|f| b.push(&finding_row(f), share)).count();
        if shown < findings.len() {
            let _ = writeln!(b.out, "| | | | … and {} more findings | |", findings.len() - shown);
            left_out.push(count(findings.len() - shown, "finding"));
        }
        b.out.push('\n');
    }

    if let Some(t) = &p.target {
        let share = limit * 5 / 8;
        let _ = writeln!(b.out, "#### On target {} now\n", md_code_span(&t.name));
        match &t.plan {
            Some(plan) => {
                let database = format!("target {}", md_code_span(&t.name));
                // Rows are short: as many as fit in the section's share.
                let room = share.saturating_sub(b.out.len() + RESERVE + 600);
                let rows = (room / 120).max(1);
                plan_summary_markdown(plan, &database, rows, &mut b.out);
                if rows < plan.files.len() {
                    left_out.push(count(plan.files.len() - rows, "planned file"));
                }
            }
            None => b.out.push_str("No plan: see the problems above.\n\n"),
        }
    }

    if !p.new_files.is_empty() {
        b.push("#### New files\n\n", limit);
        let (mut cut, mut hidden) = (0, 0);
        for (i, f) in p.new_files.iter().enumerate() {
            let findings = findings.iter().filter(|x| x.file == f.name).count();
            let mut summary =
                format!("<code>{}</code> · {}", html_escape(f.name), count(f.statements.len(), "statement"));
            if findings > 0 {
                let _ = write!(summary, " · {}", count(findings, "finding"));
            }
            if f.out_of_order {
                summary.push_str(" · out of order");
            }
            let open = if findings > 0 { " open" } else { "" };
            let body = match &f.error {
                Some(e) => format!("Cannot be split: {}\n\n", md_escape(&clip(&e.message, CELL))),
                None => {
                    let (sql, was_cut) = file_sql(f);
                    cut += usize::from(was_cut);
                    md_code_block("sql", &sql)
                }
            };
            let block = format!("<details{open}><summary>{summary}</summary>\n\n{body}\n</details>\n\n");
            if b.push(&block, limit) {
                continue;
            }
            // Without its SQL, then not at all.
            let short = format!("<details><summary>{summary} · SQL not shown</summary></details>\n\n");
            if b.push(&short, limit) {
                hidden += 1;
                continue;
            }
            left_out.push(count(p.new_files.len() - i, "new file"));
            break;
        }
        if hidden > 0 {
            left_out.push(format!("the SQL of {}", count(hidden, "file")));
        }
        if cut > 0 {
            left_out.push(format!("part of the SQL of {}", count(cut, "file")));
        }
    }

    let out = &mut b.out;
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> Not shown, to stay under GitHub's {COMMENT_LIMIT}-character limit: {}. \
             `strata plan --format text` prints everything.\n",
            left_out.join(", ")
        );
    }
    out.push_str("<sub>strata plan preview</sub>\n");
    // The reserve holds the closing lines; a limit too small for even the
    // verdict is the caller's choice, and the text is cut there.
    if out.len() > limit {
        let end = prefix(out, limit).len();
        out.truncate(end);
    }
    b.out
}
