//! The preview as text for a terminal: everything, nothing cut.

use super::Preview;
use crate::lint::render::{finding_text, word};
use crate::text::count;
use std::fmt::Write;

pub(super) fn render(p: &Preview<'_>) -> String {
    let mut out = String::new();
    let base = p.base.describe(str::to_string);
    let _ = writeln!(out, "Preview of {} against {base}", p.name);
    let _ = writeln!(
        out,
        "  {} ({}) new, {} unchanged, {} changed, {} removed; atlas.sum {}; dialect {}",
        count(p.new_files.len(), "file"),
        count(p.statement_count(), "statement"),
        p.unchanged,
        p.changed.len(),
        p.removed.len(),
        if p.sum_ok { "valid" } else { "INVALID" },
        p.dialect
    );
    if !p.problems.is_empty() {
        out.push('\n');
        for pr in &p.problems {
            let _ = writeln!(out, "{}: {} ({})", word(pr.severity), pr.error.message, pr.error.code);
            if let Some(d) = &pr.error.detail {
                let _ = writeln!(out, "  {d}");
            }
            let _ = writeln!(out, "  hint: {}", pr.error.hint);
        }
    }
    let findings: Vec<_> = p.lint.findings.iter().chain(&p.lint.unparsed).collect();
    if !findings.is_empty() {
        out.push_str("\nLint:\n");
        for f in findings {
            finding_text(f, &mut out);
        }
    }
    if let Some(t) = &p.target {
        let _ = writeln!(out, "\nOn target {} now:", t.name);
        match &t.plan {
            Some(plan) => {
                for line in crate::report::plan_text(plan).lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            None => out.push_str("  no plan (see the errors above)\n"),
        }
    }
    for f in &p.new_files {
        let _ = writeln!(out, "\n== {} ({})", f.name, count(f.statements.len(), "statement"));
        if let Some(e) = &f.error {
            let _ = writeln!(out, "  cannot be split: {}", e.message);
        }
        for s in &f.statements {
            let _ = writeln!(out, "-- line {}\n{}", s.line, s.text);
        }
    }
    let _ = writeln!(out, "\n{}, {}", count(p.errors, "error"), count(p.warnings, "warning"));
    out
}
