//! Findings as Markdown table rows and text lines: a lint report alone
//! ([`LintReport::to_markdown`], [`LintReport::to_text`]) and inside a
//! pull request's preview.

use super::{Finding, LintReport, Severity};
use crate::report::{md_code_span, md_escape};
use crate::text::count;
use std::fmt::Write;

/// At most this many bytes of a message or hint in a table or list.
pub(crate) const CELL: usize = 400;

/// The head of the findings table.
pub(crate) const FINDINGS_HEAD: &str = "| | Code | Where | Finding | Fix |\n|---|---|---|---|---|\n";

/// `s` cut to at most `max` bytes on a character boundary, with `…` when
/// cut.
pub(crate) fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if s.len() <= max {
        return s.into();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end]).into()
}

/// The icon and word of a severity, for Markdown.
pub(crate) fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "❌ error",
        Severity::Warning => "⚠️ warning",
    }
}

/// The word of a severity, for text.
pub(crate) fn word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The verdict line of a comment: errors and warnings, or `clean` (e.g.
/// "No findings") when there are none.
pub(crate) fn verdict(errors: usize, warnings: usize, clean: &str) -> String {
    match (errors, warnings) {
        (0, 0) => format!("✅ **{clean}.**"),
        (0, w) => format!("⚠️ **{}**, no errors.", count(w, "warning")),
        (e, 0) => format!("❌ **{}.**", count(e, "error")),
        (e, w) => format!("❌ **{}**, {}.", count(e, "error"), count(w, "warning")),
    }
}

/// A finding as a row of [`FINDINGS_HEAD`]'s table.
pub(crate) fn finding_row(f: &Finding) -> String {
    format!(
        "| {} | `{}` | {} | {} | {} |\n",
        severity(f.severity),
        f.code,
        md_code_span(&format!("{}:{}", f.file, f.line)),
        md_escape(&clip(&f.message, CELL)),
        md_escape(&clip(&f.hint, CELL))
    )
}

/// A finding as two lines of text: where, severity, code, analyzer and
/// message, then the hint.
pub(crate) fn finding_text(f: &Finding, out: &mut String) {
    let _ = writeln!(out, "  {}:{}: {} {} ({}): {}", f.file, f.line, word(f.severity), f.code, f.analyzer, f.message);
    let _ = writeln!(out, "    hint: {}", f.hint);
}

impl LintReport {
    /// How many findings (of both lists) have severity `s`.
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().chain(&self.unparsed).filter(|f| f.severity == s).count()
    }

    /// The findings as one Markdown comment: a verdict and a table, at most
    /// [`crate::preview::COMMENT_LIMIT`] bytes (rows beyond are counted).
    pub fn to_markdown(&self) -> String {
        let (errors, warnings) = (self.count(Severity::Error), self.count(Severity::Warning));
        let mut out = String::from("### Lint\n\n");
        let _ = writeln!(out, "{}\n", verdict(errors, warnings, "No findings"));
        let all: Vec<&Finding> = self.findings.iter().chain(&self.unparsed).collect();
        if all.is_empty() {
            return out;
        }
        out.push_str(FINDINGS_HEAD);
        // Room for the last row, which counts what was left out.
        let limit = crate::preview::COMMENT_LIMIT - 200;
        let mut shown = 0;
        for f in &all {
            let row = finding_row(f);
            if out.len() + row.len() > limit {
                break;
            }
            out.push_str(&row);
            shown += 1;
        }
        if shown < all.len() {
            let _ = writeln!(out, "| | | | … and {} more findings | |", all.len() - shown);
        }
        out
    }

    /// The findings as text, one per two lines, then the counts.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in self.findings.iter().chain(&self.unparsed) {
            finding_text(f, &mut out);
        }
        let _ = writeln!(
            out,
            "{}, {}",
            count(self.count(Severity::Error), "error"),
            count(self.count(Severity::Warning), "warning")
        );
        out
    }
}
