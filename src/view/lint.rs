//! Lint findings in the viewer: the lint module's result as the view reads
//! it, and the section that shows it on the version and diff pages.
//!
//! The analyzers are in a second wasm module (`strata-lint`, with
//! sqlparser) that the viewer loads only when a view shows findings; the
//! main module is built without the `lint` feature, so these types are the
//! view's own reading of that module's JSON (`{findings, unparsed, errors,
//! warnings}`, see `npm/lint.d.ts`), not `crate::lint`'s.
//!
//! The section (`section#st-lint`) is rendered first in its loading state
//! by the page ([`lint_section`] with [`LintState::Loading`]); the wasm
//! adapter then replaces its content with [`lint_body`] and its
//! `data-state` with [`LintState::name`].

use crate::report::{escape_into as esc, highlight_sql};
use serde::Deserialize;
use std::fmt::Write;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LintSeverity {
    /// Fails the preview (exit 1).
    Error,
    /// Worth a look (exit 4 when alone).
    Warning,
}

impl LintSeverity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            LintSeverity::Error => "error",
            LintSeverity::Warning => "warning",
        }
    }
}

/// One finding about one statement, as the lint module reports it
/// (`Finding` in `npm/lint.d.ts`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct LintFinding {
    /// Stable code, e.g. `DS102`; `ST001` for a statement that does not parse.
    pub code: String,
    /// The analyzer, e.g. `destructive`.
    #[serde(default)]
    pub analyzer: String,
    /// Error or warning.
    pub severity: LintSeverity,
    /// The migration file.
    pub file: String,
    /// 1-based line of the statement.
    pub line: u32,
    /// The statement's text.
    #[serde(default)]
    pub statement: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, or how to proceed safely.
    #[serde(default)]
    pub hint: String,
}

/// What the lint module's `lint()` returns, as the view reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct LintFindings {
    /// The analyzers' findings.
    pub findings: Vec<LintFinding>,
    /// Statements that could not be parsed (ST001 warnings).
    #[serde(default)]
    pub unparsed: Vec<LintFinding>,
}

impl LintFindings {
    /// Reads the JSON text of a `lint()` result (`JSON.stringify` of it);
    /// unknown fields are ignored. The error says what is not as expected.
    pub fn from_json(text: &str) -> Result<LintFindings, String> {
        let value = crate::json::parse(text).map_err(|at| format!("the lint result is not JSON (at byte {at})"))?;
        LintFindings::deserialize(value).map_err(|e| format!("the lint result is not the lint module's: {e}"))
    }

    /// Every finding, unparsed statements included, by file name then
    /// line (migration names sort in version order).
    pub fn all(&self) -> Vec<&LintFinding> {
        let mut all: Vec<&LintFinding> = self.findings.iter().chain(&self.unparsed).collect();
        all.sort_by(|a, b| (a.file.as_str(), a.line).cmp(&(b.file.as_str(), b.line)));
        all
    }

    /// How many findings (unparsed included) are errors and warnings.
    pub fn counts(&self) -> (usize, usize) {
        let errors = self.findings.iter().chain(&self.unparsed).filter(|f| f.severity == LintSeverity::Error).count();
        (errors, self.findings.len() + self.unparsed.len() - errors)
    }
}

/// What the lint section shows.
#[derive(Clone, Copy, Debug)]
pub enum LintState<'a> {
    /// The lint module is being loaded, or is linting.
    Loading,
    /// The findings of `files` linted files.
    Done {
        /// The result.
        findings: &'a LintFindings,
        /// How many files were linted (the new ones).
        files: usize,
    },
    /// The module could not be loaded or could not lint: what happened
    /// and what to do.
    Failed {
        /// What happened.
        message: &'a str,
        /// What to do.
        hint: &'a str,
    },
}

impl LintState<'_> {
    /// The section's `data-state`: `loading`, `ready` or `error`.
    pub fn name(&self) -> &'static str {
        match self {
            LintState::Loading => "loading",
            LintState::Done { .. } => "ready",
            LintState::Failed { .. } => "error",
        }
    }
}

/// The whole lint section, `section#st-lint` (`aria-live`, `data-state`),
/// titled `title`, its content [`lint_body`].
pub fn lint_section(title: &str, state: &LintState<'_>) -> String {
    let mut out = format!(
        "<section id=\"st-lint\" class=\"st-lint\" aria-labelledby=\"st-lint-title\" aria-live=\"polite\" \
         data-state=\"{}\"><h2 id=\"st-lint-title\">",
        state.name()
    );
    esc(&mut out, title);
    out.push_str("</h2>");
    out.push_str(&lint_body(state));
    out.push_str("</section>");
    out
}

/// The content of the lint section below its title: `Linting…`, an error
/// line, or the findings as one table (severity, code, file and line,
/// message with the statement and the hint), preceded by their count.
pub fn lint_body(state: &LintState<'_>) -> String {
    let mut out = String::new();
    match *state {
        LintState::Loading => {
            out.push_str("<p class=\"st-loading\" role=\"status\">Linting…</p>");
        }
        LintState::Failed { message, hint } => {
            out.push_str("<p class=\"st-error\" role=\"alert\">Lint is not available: ");
            esc(&mut out, message);
            if !hint.is_empty() {
                out.push_str("<br><span class=\"st-hint\">");
                esc(&mut out, hint);
                out.push_str("</span>");
            }
            out.push_str("</p>");
        }
        LintState::Done { findings, files } => {
            let (errors, warnings) = findings.counts();
            let all = findings.all();
            if all.is_empty() {
                let _ = write!(out, "<p class=\"st-lint-clean\">No finding in {files} file(s).</p>");
                return out;
            }
            let _ = write!(
                out,
                "<p class=\"st-lint-summary\"><strong>{errors} error(s)</strong>, {warnings} warning(s) in {files} \
                 file(s).</p>"
            );
            out.push_str(
                "<div class=\"st-scroll\"><table class=\"st-table st-lint-table\" aria-label=\"Lint findings\">\
                 <thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Code</th><th scope=\"col\">Where</th>\
                 <th scope=\"col\">Finding</th></tr></thead><tbody>",
            );
            for f in all {
                let s = f.severity.as_str();
                let _ = write!(
                    out,
                    "<tr class=\"st-lint-{s}\"><td><span class=\"st-badge st-sev-{s}\">{s}</span></td><td><code \
                     title=\""
                );
                esc(&mut out, &f.analyzer);
                out.push_str("\">");
                esc(&mut out, &f.code);
                out.push_str("</code></td><td><code class=\"st-where\">");
                esc(&mut out, &f.file);
                let _ = write!(out, ":{}</code></td><td><p class=\"st-lint-message\">", f.line);
                esc(&mut out, &f.message);
                out.push_str("</p>");
                if !f.statement.is_empty() {
                    let _ = write!(
                        out,
                        "<pre class=\"st-lint-statement\"><code>{}</code></pre>",
                        highlight_sql(&f.statement)
                    );
                }
                if !f.hint.is_empty() {
                    out.push_str("<p class=\"st-hint\">");
                    esc(&mut out, &f.hint);
                    out.push_str("</p>");
                }
                out.push_str("</td></tr>");
            }
            out.push_str("</tbody></table></div>");
        }
    }
    out
}
