//! The viewer's pages as HTML strings, one function per [`Route`], plus
//! the small blocks every page may show (loading, error, sign-in).
//!
//! Conventions, which the page's stylesheet (`www/style.css`) and the wasm
//! adapter rely on:
//! * every page starts with one `<h1>`; tables are `table.st-table` inside
//!   a horizontally scrolling `div.st-scroll`; an empty list is a
//!   `p.st-empty` that says how to fill it;
//! * forms carry `data-action` (`diff`, `dialect`, `plan`, `local-plan`,
//!   `sign-in`) and buttons that act without a form carry `data-action`
//!   too (`apply`, `confirm-apply`, `cancel`): the adapter listens for
//!   those, never for inline handlers;
//! * every text from input is escaped by [`crate::report::html_escape`]'s
//!   `escape_into`, and every `href` is a [`Route::path`].

use super::Route;
use crate::dir::{DirError, Directory, MigrationFile};
use crate::hook::TargetInfo;
use crate::lex::{Dialect, Split};
use crate::plan::Plan;
use crate::registry::client::{DeploymentInfo, DirInfo, TagEvent, TagInfo, VersionInfo};
use crate::registry::{BlobDigest, DeploymentStatus, VersionDiff};
use crate::report::{
    apply_html, escape_into as esc, facts, highlight_sql, parse_rfc3339, plan_html, rfc3339, status_text, Report,
    ReportBody,
};
use crate::sum::SumFile;
use std::fmt::Write;

/// `<a href="{route}">{text}</a>`, the text escaped.
fn link(out: &mut String, route: &Route, text: &str) {
    out.push_str("<a href=\"");
    // A path has no character that needs escaping; escaping it anyway
    // keeps the attribute closed whatever `path` becomes.
    esc(out, &route.path());
    out.push_str("\">");
    esc(out, text);
    out.push_str("</a>");
}

/// The first 12 hex digits of a digest (`sha256:…`), or the text as it is
/// when it is not one (a tag).
fn short(reference: &str) -> &str {
    match reference.strip_prefix("sha256:") {
        Some(hex) => hex.get(..12).unwrap_or(hex),
        None => reference,
    }
}

/// A link to a version, its text the short digest, the full one as title.
fn version_link(out: &mut String, dir: &str, digest: &str) {
    let route = Route::Version { dir: dir.into(), reference: digest.into(), dialect: None };
    out.push_str("<a class=\"st-digest\" title=\"");
    esc(out, digest);
    out.push_str("\" href=\"");
    esc(out, &route.path());
    out.push_str("\">");
    esc(out, short(digest));
    out.push_str("</a>");
}

/// An RFC 3339 time as `2024-01-16 10:20:30 UTC` in a `<time>`, the text
/// as given when it does not parse, `—` when there is none.
fn when(out: &mut String, t: Option<&str>) {
    let Some(t) = t.filter(|t| !t.is_empty()) else {
        out.push('—');
        return;
    };
    match parse_rfc3339(t) {
        Some(ts) => {
            let utc = rfc3339(ts);
            let shown = utc.get(..19).map_or_else(|| utc.clone(), |s| format!("{} UTC", s.replacen('T', " ", 1)));
            let _ = write!(out, "<time datetime=\"{utc}\">{shown}</time>");
        }
        None => esc(out, t),
    }
}

/// A duration for people: `340 ms`, `1.2 s`, `3 min 5 s`; `—` if unknown
/// or negative.
pub(crate) fn human_duration(ns: Option<i64>) -> String {
    match ns {
        Some(ns) if ns >= 0 => {
            let ms = ns / 1_000_000;
            if ms < 1_000 {
                format!("{ms} ms")
            } else if ms < 60_000 {
                format!("{}.{} s", ms / 1_000, ms % 1_000 / 100)
            } else if ms < 3_600_000 {
                format!("{} min {} s", ms / 60_000, ms % 60_000 / 1_000)
            } else {
                format!("{} h {} min", ms / 3_600_000, ms % 3_600_000 / 60_000)
            }
        }
        _ => "—".into(),
    }
}

/// Opens a scrolling table with these column headings.
fn table_start(out: &mut String, label: &str, columns: &[&str]) {
    let _ = write!(out, "<div class=\"st-scroll\"><table class=\"st-table\" aria-label=\"{label}\"><thead><tr>");
    for c in columns {
        let _ = write!(out, "<th scope=\"col\">{c}</th>");
    }
    out.push_str("</tr></thead><tbody>");
}

fn table_end(out: &mut String) {
    out.push_str("</tbody></table></div>");
}

/// `<td>` with escaped text.
fn td(out: &mut String, text: &str) {
    out.push_str("<td>");
    esc(out, text);
    out.push_str("</td>");
}

/// Who did something: the token's name, with its id as the title (the id
/// alone when the registry knows no name).
fn who(out: &mut String, id: &str, name: Option<&str>) {
    match name.filter(|n| !n.is_empty()) {
        Some(n) => {
            out.push_str("<span class=\"st-who\" title=\"");
            esc(out, id);
            out.push_str("\">");
            esc(out, n);
            out.push_str("</span>");
        }
        None => esc(out, id),
    }
}

/// [`who`] in a table cell.
fn td_who(out: &mut String, id: &str, name: Option<&str>) {
    out.push_str("<td>");
    who(out, id, name);
    out.push_str("</td>");
}

/// `<h1>` with escaped text.
fn h1(out: &mut String, text: &str) {
    out.push_str("<h1>");
    esc(out, text);
    out.push_str("</h1>");
}

/// A `<p class="st-empty">` of the caller's literal markup.
fn empty(out: &mut String, markup: &str) {
    let _ = write!(out, "<p class=\"st-empty\">{markup}</p>");
}

/// `<option>`, escaped, `selected` when it is.
fn option(out: &mut String, value: &str, text: &str, selected: bool) {
    out.push_str("<option value=\"");
    esc(out, value);
    out.push_str(if selected { "\" selected>" } else { "\">" });
    esc(out, text);
    out.push_str("</option>");
}

/// A deployment status as a badge (`st-status-succeeded`, ...).
fn status_badge(out: &mut String, s: DeploymentStatus) {
    let _ = write!(out, "<span class=\"st-badge st-status st-status-{0}\">{0}</span>", s.as_str());
}

/// The page of every directory: name, versions, tags, last update.
pub fn dirs_page(dirs: &[DirInfo]) -> String {
    let mut out = String::from("<h1>Directories</h1>");
    if dirs.is_empty() {
        empty(
            &mut out,
            "No directory yet. Push a migration directory with \
             <code>strata push --dir DIR --name NAME</code>; it shows up here.",
        );
        return out;
    }
    table_start(&mut out, "Directories", &["Name", "Versions", "Tags", "Updated"]);
    for d in dirs {
        out.push_str("<tr><td>");
        link(&mut out, &Route::Dir { dir: d.name.clone() }, &d.name);
        let _ =
            write!(out, "</td><td class=\"st-right\">{}</td><td class=\"st-right\">{}</td><td>", d.versions, d.tags);
        when(&mut out, d.updated.as_deref());
        out.push_str("</td></tr>");
    }
    table_end(&mut out);
    out
}

/// A directory's page: its tags (each with its version and history), its
/// versions newest first (as given), and a form comparing two of them
/// (`data-action="diff"`, selects `base` and `head`).
pub fn dir_page(dir: &str, tags: &[TagInfo], versions: &[VersionInfo]) -> String {
    let mut out = String::new();
    h1(&mut out, dir);
    out.push_str("<h2>Tags</h2>");
    if tags.is_empty() {
        empty(&mut out, "No tag. <code>strata push</code> moves <code>latest</code> and the tags it is given.");
    } else {
        table_start(&mut out, "Tags", &["Tag", "Version", "Updated", "By", ""]);
        for t in tags {
            out.push_str("<tr><td>");
            link(&mut out, &Route::Version { dir: dir.into(), reference: t.name.clone(), dialect: None }, &t.name);
            out.push_str("</td><td>");
            version_link(&mut out, dir, t.version.as_str());
            out.push_str("</td><td>");
            when(&mut out, t.updated.as_deref());
            out.push_str("</td>");
            td_who(&mut out, t.updated_by.as_deref().unwrap_or("—"), t.updated_by_name.as_deref());
            out.push_str("<td>");
            link(&mut out, &Route::TagHistory { dir: dir.into(), tag: t.name.clone() }, "history");
            out.push_str("</td></tr>");
        }
        table_end(&mut out);
    }
    out.push_str("<h2>Versions</h2>");
    if versions.is_empty() {
        empty(&mut out, "No version. Push one with <code>strata push --dir DIR --name NAME</code>.");
    } else {
        table_start(&mut out, "Versions", &["Version", "Files", "Size", "Created", "By"]);
        for v in versions {
            out.push_str("<tr><td>");
            version_link(&mut out, dir, v.digest.as_str());
            let _ = write!(
                out,
                "</td><td class=\"st-right\">{}</td><td class=\"st-right\">{}</td><td>",
                v.files,
                size(v.size)
            );
            when(&mut out, Some(&v.created));
            out.push_str("</td>");
            td_who(&mut out, &v.created_by, v.created_by_name.as_deref());
            out.push_str("</tr>");
        }
        table_end(&mut out);
    }
    if tags.len() + versions.len() >= 2 {
        diff_form(&mut out, tags, versions);
    }
    out
}

/// A size in bytes for people: `812 B`, `12.3 KiB`, `4.0 MiB`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// The compare form of [`dir_page`]: from the second-newest version (or
/// the first tag) to `latest` (or the newest version).
fn diff_form(out: &mut String, tags: &[TagInfo], versions: &[VersionInfo]) {
    let base = versions
        .get(1)
        .map(|v| v.digest.as_str())
        .or_else(|| tags.first().map(|t| t.name.as_str()))
        .unwrap_or_default();
    let head = tags
        .iter()
        .find(|t| t.name == "latest")
        .map(|t| t.name.as_str())
        .or_else(|| versions.first().map(|v| v.digest.as_str()))
        .or_else(|| tags.get(1).map(|t| t.name.as_str()))
        .unwrap_or_default();
    out.push_str("<h2>Compare</h2><form data-action=\"diff\" class=\"st-diff-form st-form\">");
    for (label, name, chosen) in [("From", "base", base), ("To", "head", head)] {
        let _ = write!(out, "<label>{label} <select name=\"{name}\">");
        if !tags.is_empty() {
            out.push_str("<optgroup label=\"Tags\">");
            for t in tags {
                option(out, &t.name, &t.name, t.name == chosen);
            }
            out.push_str("</optgroup>");
        }
        if !versions.is_empty() {
            out.push_str("<optgroup label=\"Versions\">");
            for v in versions {
                let d = v.digest.as_str();
                option(out, d, short(d), d == chosen);
            }
            out.push_str("</optgroup>");
        }
        out.push_str("</select></label> ");
    }
    out.push_str("<button type=\"submit\">Compare</button></form>");
}

/// A diff in a few words: `+2 ~1 −0`, and *history rewritten* when it
/// changes or removes files the base had.
fn change_summary(out: &mut String, d: &VersionDiff) {
    if d.is_empty() {
        out.push_str("no change");
        return;
    }
    let _ = write!(
        out,
        "<span title=\"added, changed, removed\">+{} ~{} −{}</span>",
        d.added.len(),
        d.changed.len(),
        d.removed.len()
    );
    if d.rewrites_history() {
        out.push_str(" <strong class=\"st-warning\">history rewritten</strong>");
    }
}

/// The moves of one tag, newest first as given: when, by whom, from which
/// version to which, what changed (`changes[i]`, the diff of move `i`,
/// when known: files added, changed and removed, and *history rewritten*
/// when the move changed or removed a file the tag already had), and a
/// link to the diff of each move.
pub fn tag_history_page(dir: &str, tag: &str, events: &[TagEvent], changes: &[Option<VersionDiff>]) -> String {
    let mut out = String::from("<h1>Tag ");
    esc(&mut out, tag);
    out.push_str(" of ");
    link(&mut out, &Route::Dir { dir: dir.into() }, dir);
    out.push_str("</h1>");
    if events.is_empty() {
        empty(&mut out, "This tag has never moved (or does not exist).");
        return out;
    }
    table_start(&mut out, "Tag moves", &["When", "By", "From", "To", "Change", ""]);
    for (i, e) in events.iter().enumerate() {
        out.push_str("<tr><td>");
        when(&mut out, Some(&e.at));
        out.push_str("</td>");
        td_who(&mut out, &e.by, e.by_name.as_deref());
        out.push_str("<td>");
        match &e.previous {
            Some(p) => version_link(&mut out, dir, p.as_str()),
            None => out.push_str("(created)"),
        }
        out.push_str("</td><td>");
        version_link(&mut out, dir, e.version.as_str());
        out.push_str("</td><td>");
        if let Some(d) = changes.get(i).and_then(Option::as_ref) {
            change_summary(&mut out, d);
        }
        out.push_str("</td><td>");
        if let Some(p) = &e.previous {
            let route = Route::Diff { dir: dir.into(), base: p.as_str().into(), head: e.version.as_str().into() };
            link(&mut out, &route, "diff");
        }
        out.push_str("</td></tr>");
    }
    table_end(&mut out);
    out
}

/// What changed from `base` to `head`: counts, a warning when the head
/// rewrites files the base released, then the files added (out-of-order
/// ones marked), changed and removed. With `lint`, and files added, the
/// lint section of the added files follows them in its loading state
/// ([`super::lint_section`]), for the adapter to fill.
pub fn diff_page(dir: &str, base: &str, head: &str, diff: &VersionDiff, lint: bool) -> String {
    let mut out = String::new();
    out.push_str("<h1>");
    link(&mut out, &Route::Dir { dir: dir.into() }, dir);
    out.push_str(": ");
    esc(&mut out, short(base));
    out.push_str(" → ");
    esc(&mut out, short(head));
    out.push_str("</h1>");
    facts(
        &mut out,
        &[
            ("From", base.to_string()),
            ("To", head.to_string()),
            ("Added", diff.added.len().to_string()),
            ("Changed", diff.changed.len().to_string()),
            ("Removed", diff.removed.len().to_string()),
            ("Unchanged", diff.unchanged.to_string()),
            ("atlas.sum", if diff.sum_changed { "changed" } else { "unchanged" }.to_string()),
        ],
    );
    if diff.is_empty() {
        empty(&mut out, "The two versions are identical: same files, same atlas.sum.");
        return out;
    }
    if diff.rewrites_history() {
        let n = diff.changed.len() + diff.removed.len();
        let _ =
            write!(out, "<p class=\"st-warning\" role=\"alert\"><strong>History rewritten:</strong> {n} file(s) that ");
        esc(&mut out, base);
        out.push_str(" already has were changed or removed. A database that ran ");
        esc(&mut out, base);
        out.push_str(
            " has run those files as they were: Atlas refuses to continue (checksum mismatch) or never runs \
             the new bytes. What to do: restore the released file and add a new migration instead.</p>",
        );
    }
    let head_link = |out: &mut String, name: &str| {
        link(out, &Route::Version { dir: dir.into(), reference: head.into(), dialect: None }, name)
    };
    if !diff.added.is_empty() {
        let _ = write!(out, "<h2>Added ({})</h2><ul class=\"st-list\">", diff.added.len());
        for name in &diff.added {
            out.push_str("<li>");
            head_link(&mut out, name);
            if diff.out_of_order.contains(name) {
                out.push_str(" <span class=\"st-badge st-note\">out of order: needs --exec-order non-linear</span>");
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
        if lint {
            out.push_str(&super::lint_section("Lint of the added files", &super::LintState::Loading));
        }
    }
    if !diff.changed.is_empty() {
        let _ = write!(out, "<h2>Changed ({})</h2><ul class=\"st-list\">", diff.changed.len());
        for c in &diff.changed {
            out.push_str("<li>");
            head_link(&mut out, &c.name);
            out.push_str(" <code>");
            esc(&mut out, short(c.base.as_str()));
            out.push_str("</code> → <code>");
            esc(&mut out, short(c.head.as_str()));
            out.push_str("</code></li>");
        }
        out.push_str("</ul>");
    }
    if !diff.removed.is_empty() {
        let _ = write!(out, "<h2>Removed ({})</h2><ul class=\"st-list\">", diff.removed.len());
        for name in &diff.removed {
            out.push_str("<li>");
            esc(&mut out, name);
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    let _ = write!(out, "<p class=\"st-took\">{} file(s) unchanged.</p>", diff.unchanged);
    out
}

/// What [`version_page`] shows: a version from the registry, or a folder
/// opened locally.
#[derive(Clone, Copy, Debug)]
pub struct VersionPage<'a> {
    /// The registry directory; `None` for a folder opened locally (no
    /// registry links or forms, a local plan form instead).
    pub dir: Option<&'a str>,
    /// The tag or digest asked for; for a local folder, its name.
    pub reference: &'a str,
    /// The version's digest, when known.
    pub version: Option<&'a BlobDigest>,
    /// The files.
    pub directory: &'a Directory,
    /// How the files are split.
    pub dialect: Dialect,
    /// The hook's targets, for the plan form (none: no form).
    pub targets: &'a [TargetInfo],
    /// Whether the page has a lint section (`section#st-lint`, rendered
    /// loading, for the adapter to fill) before the files.
    pub lint: bool,
}

/// `<select name="dialect">` of every dialect, `selected` chosen.
fn dialect_select(out: &mut String, selected: Dialect) {
    out.push_str("<label>Dialect <select name=\"dialect\">");
    for d in Dialect::ALL {
        option(out, d.name(), d.name(), d == selected);
    }
    out.push_str("</select></label> ");
}

/// A version's page: facts (files, statements, atlas.sum status), the
/// dialect and plan forms, the lint section when asked for
/// ([`VersionPage::lint`]), then every file with its directives, checksum
/// status and statements, highlighted. A file that does not split shows
/// its error instead of statements.
pub fn version_page(p: &VersionPage<'_>) -> String {
    let files = p.directory.files();
    let splits: Vec<Result<Split<'_>, DirError>> = files.iter().map(|f| f.split(p.dialect)).collect();
    let statements: usize = splits.iter().map(|s| s.as_ref().map_or(0, |s| s.stmts.len())).sum();
    let sql_bytes: usize = files.iter().map(|f| f.bytes().len()).sum();
    let mut out = String::with_capacity(4096 + sql_bytes * 3);

    out.push_str("<h1>");
    match p.dir {
        Some(dir) => {
            link(&mut out, &Route::Dir { dir: dir.into() }, dir);
            out.push('@');
            esc(&mut out, short(p.reference));
        }
        None => {
            esc(&mut out, p.reference);
            out.push_str(" <span class=\"st-badge\">opened locally</span>");
        }
    }
    out.push_str("</h1>");
    let sum = match p.directory.verify(None) {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("{e}: {}", e.detail().unwrap_or_else(|| e.hint().to_string())),
    };
    let mut items =
        vec![("Directory", p.dir.unwrap_or("(local folder)").to_string()), ("Reference", p.reference.to_string())];
    if let Some(v) = p.version {
        items.push(("Version", v.as_str().to_string()));
    }
    items.extend([
        ("Files", files.len().to_string()),
        ("Statements", statements.to_string()),
        ("Dialect", p.dialect.name().to_string()),
        ("atlas.sum", sum),
    ]);
    facts(&mut out, &items);
    if let Err(e) = p.directory.verify(None) {
        out.push_str("<p class=\"st-warning\" role=\"alert\">");
        esc(&mut out, &e.to_string());
        if let Some(d) = e.detail() {
            out.push_str(": ");
            esc(&mut out, &d);
        }
        out.push_str(". ");
        esc(&mut out, e.hint());
        out.push_str("</p>");
    }

    match p.dir {
        Some(_) => {
            out.push_str("<form data-action=\"dialect\" class=\"st-form\">");
            dialect_select(&mut out, p.dialect);
            out.push_str("<button type=\"submit\">Split</button></form>");
            if !p.targets.is_empty() {
                out.push_str("<form data-action=\"plan\" class=\"st-form\"><label>Target <select name=\"target\">");
                for t in p.targets {
                    option(&mut out, &t.name, &format!("{} ({})", t.name, t.dialect.name()), false);
                }
                out.push_str("</select></label> <button type=\"submit\">Plan</button></form>");
            }
        }
        None => {
            out.push_str(
                "<form data-action=\"local-plan\" class=\"st-form st-local-plan\"><label>Revisions JSON \
                 (rows of atlas_schema_revisions, or {&quot;revisions&quot;:[...],&quot;notClean&quot;:&quot;...&quot;}; \
                 empty = a fresh database)<textarea name=\"revisions\" rows=\"6\"></textarea></label> ",
            );
            dialect_select(&mut out, p.dialect);
            out.push_str("<button type=\"submit\">Plan</button></form><div id=\"st-local-plan\"></div>");
        }
    }

    if files.is_empty() {
        empty(&mut out, "This directory has no migration file (<code>*.sql</code>).");
    } else if p.lint {
        out.push_str(&super::lint_section("Lint", &super::LintState::Loading));
        let _ = write!(out, "<h2>Files ({})</h2>", files.len());
    }
    let declared = p.directory.sum_file().and_then(|b| SumFile::parse(b).ok());
    let computed = p.directory.computed_sum();
    let checkpoints = p.directory.checkpoints();
    for (i, (f, split)) in files.iter().zip(&splits).enumerate() {
        let _ = write!(out, "<article class=\"st-file\" id=\"file-{}\"><h3>", i + 1);
        esc(&mut out, f.name());
        out.push_str("</h3><p class=\"st-badges\">");
        let _ = write!(out, "<span class=\"st-badge\">version ");
        esc(&mut out, f.version());
        out.push_str("</span>");
        if !f.description().is_empty() {
            out.push_str("<span class=\"st-badge\">");
            esc(&mut out, f.description());
            out.push_str("</span>");
        }
        if checkpoints.get(i).copied().unwrap_or(false) {
            out.push_str("<span class=\"st-badge st-note\">checkpoint</span>");
        }
        for d in f.directives() {
            out.push_str("<span class=\"st-badge st-directive\">atlas:");
            esc(&mut out, &d.name);
            if !d.args.is_empty() {
                out.push(' ');
                esc(&mut out, &d.args);
            }
            out.push_str("</span>");
        }
        sum_badge(&mut out, f, i, declared.as_ref(), computed);
        out.push_str("</p>");
        match split {
            Ok(s) => {
                for w in &s.warnings {
                    out.push_str("<p class=\"st-warning\">");
                    esc(&mut out, &w.to_string());
                    out.push_str("</p>");
                }
                if s.stmts.is_empty() {
                    out.push_str("<p class=\"st-empty\">No statement.</p>");
                } else {
                    out.push_str("<ol class=\"st-statements\">");
                    for st in &s.stmts {
                        let _ = write!(
                            out,
                            "<li><span class=\"st-line\">line {}</span><pre><code>{}</code></pre></li>",
                            st.line,
                            highlight_sql(st.text)
                        );
                    }
                    out.push_str("</ol>");
                }
            }
            Err(e) => {
                out.push_str("<p class=\"st-error\" role=\"alert\">");
                esc(&mut out, &e.to_string());
                if let Some((line, column)) = e.position() {
                    let _ = write!(out, " (line {line}, column {column})");
                }
                out.push_str("<br><span class=\"st-hint\">");
                esc(&mut out, &e.hint());
                out.push_str("</span></p>");
            }
        }
        out.push_str("</article>");
    }
    out
}

/// The hash of entry `name` in `sum`, looked up at `i` first (sums list
/// files in directory order).
fn hash_at<'s>(sum: &'s SumFile, i: usize, name: &str) -> Option<&'s str> {
    match sum.entries().get(i) {
        Some(e) if e.name == name => Some(e.hash.as_str()),
        _ => sum.hash_of(name),
    }
}

/// Whether file `i`'s hash in the directory's `atlas.sum` is its own.
fn sum_badge(out: &mut String, f: &MigrationFile, i: usize, declared: Option<&SumFile>, computed: &SumFile) {
    let mine = hash_at(computed, i, f.name());
    let (class, text) = match (declared.and_then(|d| hash_at(d, i, f.name())), mine) {
        (Some(d), Some(c)) if d == c => ("st-sum-ok", "sum ok"),
        (Some(_), _) => ("st-sum-bad", "sum mismatch"),
        (None, None) => ("st-note", "atlas:sum ignore"),
        (None, Some(_)) => ("st-sum-bad", "not in atlas.sum"),
    };
    let _ = write!(out, "<span class=\"st-badge {class}\">{text}</span>");
}

/// The hook's targets: each name (linking to its deployments) and dialect.
pub fn targets_page(targets: &[TargetInfo]) -> String {
    let mut out = String::from("<h1>Targets</h1>");
    if targets.is_empty() {
        empty(
            &mut out,
            "The hook has no target. Name the databases it may migrate in a file and start the server with \
             <code>strata-server serve --targets targets.toml</code>.",
        );
        return out;
    }
    table_start(&mut out, "Targets", &["Target", "Dialect"]);
    for t in targets {
        out.push_str("<tr><td>");
        link(&mut out, &Route::History { target: t.name.clone() }, &t.name);
        out.push_str("</td>");
        td(&mut out, t.dialect.name());
        out.push_str("</tr>");
    }
    table_end(&mut out);
    out
}

/// The plan of a version on a target: the apply button (`#st-apply`) and
/// its confirmation dialog (`#st-confirm`) when something is pending,
/// `#st-run` where the run is shown, then the plan ([`plan_html`]).
pub fn plan_page(dir: &str, reference: &str, target: &TargetInfo, version: &BlobDigest, plan: &Plan) -> String {
    let mut out = String::from("<h1>Plan of ");
    link(
        &mut out,
        &Route::Version { dir: dir.into(), reference: reference.into(), dialect: None },
        &format!("{dir}@{reference}"),
    );
    out.push_str(" on ");
    link(&mut out, &Route::History { target: target.name.clone() }, &target.name);
    out.push_str("</h1><p class=\"st-took\">Version ");
    version_link(&mut out, dir, version.as_str());
    out.push_str(", target ");
    esc(&mut out, &target.name);
    let _ = write!(out, " ({}). ", target.dialect.name());
    link(&mut out, &Route::History { target: target.name.clone() }, "Deployments of this target");
    out.push_str("</p>");
    // The action and the run come before the statements, so that a long
    // plan does not push them out of sight.
    let n = plan.statement_count();
    let k = plan.files.len();
    if let Some((f, _)) = plan.first_error() {
        out.push_str("<p class=\"st-warning\">Not offered for apply: the run would stop at ");
        esc(&mut out, &f.name);
        out.push_str(". Fix the directory (or the database) and plan again.</p>");
    } else if !plan.is_empty() {
        let name = &target.name;
        out.push_str("<p><button type=\"button\" id=\"st-apply\" data-action=\"apply\" class=\"st-primary\">");
        let _ = write!(out, "Apply {n} statement(s) to ");
        esc(&mut out, name);
        out.push_str("…</button></p><dialog id=\"st-confirm\" aria-labelledby=\"st-confirm-title\"><h2 id=\"st-confirm-title\">Apply to ");
        esc(&mut out, name);
        let _ = write!(out, "?</h2><p>This runs {n} statement(s) of {k} file(s) from ");
        esc(&mut out, dir);
        out.push('@');
        esc(&mut out, reference);
        out.push_str(" on target <strong>");
        esc(&mut out, name);
        let _ = write!(
            out,
            "</strong> ({}). It cannot be undone from here.</p><p><button type=\"button\" data-action=\"confirm-apply\" \
             class=\"st-danger\">Apply {n} statement(s)</button> <button type=\"button\" data-action=\"cancel\" \
             autofocus>Cancel</button></p></dialog>",
            target.dialect.name()
        );
    }
    out.push_str("<div id=\"st-run\" aria-live=\"polite\"></div>");
    out.push_str(&plan_html(plan));
    out
}

/// The deployments of a target, newest first as given: status, directory,
/// version, duration, who started it and when, and a link to its report.
pub fn history_page(target: &str, items: &[DeploymentInfo]) -> String {
    let mut out = String::from("<h1>Deployments to ");
    esc(&mut out, target);
    out.push_str("</h1>");
    if items.is_empty() {
        empty(&mut out, "Nothing was deployed to this target yet. Plan a version and apply it from its page.");
        return out;
    }
    table_start(&mut out, "Deployments", &["Status", "Directory", "Version", "Took", "By", "When", ""]);
    for d in items {
        out.push_str("<tr><td>");
        status_badge(&mut out, d.status);
        out.push_str("</td><td>");
        link(&mut out, &Route::Dir { dir: d.dir.clone() }, &d.dir);
        out.push_str("</td><td>");
        match &d.version {
            Some(v) => version_link(&mut out, &d.dir, v.as_str()),
            None => out.push('—'),
        }
        out.push_str("</td>");
        let _ = write!(out, "<td class=\"st-right\">{}</td>", human_duration(took_ns(d)));
        td_who(&mut out, &d.created_by, d.created_by_name.as_deref());
        out.push_str("<td>");
        when(&mut out, Some(d.started.as_deref().unwrap_or(&d.created)));
        out.push_str("</td><td>");
        link(&mut out, &Route::Deployment { id: d.id.clone() }, "report");
        out.push_str("</td></tr>");
    }
    table_end(&mut out);
    out
}

/// From `started` to `finished`, when both parse.
fn took_ns(d: &DeploymentInfo) -> Option<i64> {
    let start = parse_rfc3339(d.started.as_deref()?)?;
    let end = parse_rfc3339(d.finished.as_deref()?)?;
    end.checked_sub(start)
}

/// One deployment: what the registry recorded (`info`, when known), then
/// its report (an apply, a plan or a status). A report this version cannot
/// read shows an error block.
pub fn deployment_page(info: Option<&DeploymentInfo>, report: &Report) -> String {
    let mut out = String::new();
    let body = report.body();
    let kind = match &body {
        Ok(ReportBody::Plan(_)) => "Plan",
        Ok(ReportBody::Status(_)) => "Status",
        Ok(ReportBody::Apply(a)) if a.dry_run => "Dry run",
        Ok(ReportBody::Apply(_)) => "Apply",
        Err(_) => "Report",
    };
    let _ = write!(out, "<h1>{kind}");
    if let Some(d) = info.map(|i| i.dir.as_str()).or(report.directory.as_deref()) {
        out.push_str(" of ");
        esc(&mut out, d);
    }
    if let Some(t) = info.map(|i| i.target.as_str()).or(report.target.as_deref()) {
        out.push_str(" on ");
        esc(&mut out, t);
    }
    out.push_str("</h1>");
    // An apply report shows its own times, digest and error below.
    let apply = matches!(body, Ok(ReportBody::Apply(_)));
    if let Some(i) = info {
        out.push_str("<dl class=\"st-facts\"><dt>Deployment</dt><dd>");
        esc(&mut out, &i.id);
        out.push_str("</dd><dt>Status</dt><dd>");
        status_badge(&mut out, i.status);
        out.push_str("</dd><dt>Directory</dt><dd>");
        link(&mut out, &Route::Dir { dir: i.dir.clone() }, &i.dir);
        out.push_str("</dd><dt>Version</dt><dd>");
        match &i.version {
            Some(v) => version_link(&mut out, &i.dir, v.as_str()),
            None => out.push('—'),
        }
        out.push_str("</dd><dt>Target</dt><dd>");
        link(&mut out, &Route::History { target: i.target.clone() }, &i.target);
        out.push_str("</dd><dt>By</dt><dd>");
        who(&mut out, &i.created_by, i.created_by_name.as_deref());
        out.push_str("</dd><dt>When</dt><dd>");
        when(&mut out, Some(i.started.as_deref().unwrap_or(&i.created)));
        out.push_str("</dd>");
        if !apply {
            out.push_str("<dt>Took</dt><dd>");
            esc(&mut out, &human_duration(took_ns(i)));
            out.push_str("</dd>");
        }
        if let Some(pd) = i.plan_digest.as_ref().filter(|_| !apply) {
            out.push_str("<dt>Plan digest</dt><dd>");
            esc(&mut out, pd);
            out.push_str("</dd>");
        }
        out.push_str("</dl>");
        if let Some(e) = i.error.as_ref().filter(|_| !apply) {
            out.push_str("<p class=\"st-error\" role=\"alert\">");
            esc(&mut out, e);
            out.push_str("</p>");
        }
    }
    match body {
        Ok(ReportBody::Apply(a)) => out.push_str(&apply_html(&a)),
        Ok(ReportBody::Plan(p)) => out.push_str(&plan_html(&p)),
        Ok(ReportBody::Status(s)) => {
            out.push_str("<pre class=\"st-status-text\">");
            esc(&mut out, &status_text(&s));
            out.push_str("</pre>");
        }
        Err(e) => out.push_str(&error_html("This report cannot be shown", &e.message, &e.hint)),
    }
    out
}

/// The page to open a migration folder or a report file from this
/// computer: a drop zone (`#st-drop`), two file inputs
/// (`#st-local-folder`, `#st-local-report`) and `#st-local-result`.
pub fn local_page() -> String {
    let mut out = String::from(
        "<h1>Open locally</h1><p id=\"st-local-help\">Open a migration folder to see its files, statements and \
         atlas.sum status, and plan it against revisions you paste; or open a report JSON file. \
         Nothing leaves this computer: the files are read and checked in this page.</p>",
    );
    out.push_str(
        "<div id=\"st-drop\" class=\"st-drop\" tabindex=\"0\" role=\"button\" aria-describedby=\"st-local-help\">\
         Drop a migration folder or a report JSON here</div>\
         <div class=\"st-form st-local-inputs\">\
         <label>Migration folder <input type=\"file\" id=\"st-local-folder\" webkitdirectory multiple></label>\
         <label>Report JSON <input type=\"file\" id=\"st-local-report\" accept=\".json,application/json\"></label>\
         </div><div id=\"st-local-result\" aria-live=\"polite\"></div>",
    );
    out
}

/// `<p class="st-loading" role="status">Loading {what}…</p>`.
pub fn loading_html(what: &str) -> String {
    let mut out = String::from("<p class=\"st-loading\" role=\"status\">Loading ");
    esc(&mut out, what);
    out.push_str("…</p>");
    out
}

/// An error block (`div.st-error-box`, `role="alert"`): a title, what
/// happened, and what to do.
pub fn error_html(title: &str, message: &str, hint: &str) -> String {
    let mut out = String::from("<div class=\"st-error-box\" role=\"alert\"><h2>");
    esc(&mut out, title);
    out.push_str("</h2><p>");
    esc(&mut out, message);
    out.push_str("</p>");
    if !hint.is_empty() {
        out.push_str("<p class=\"st-hint\">");
        esc(&mut out, hint);
        out.push_str("</p>");
    }
    out.push_str("</div>");
    out
}

/// Asks for a token (`data-action="sign-in"`, a password input named
/// `token`), saying why (`reason`) and how to make one.
pub fn sign_in_html(reason: &str) -> String {
    let mut out = String::from("<div class=\"st-sign-in\"><h2>Token needed</h2><p>");
    esc(&mut out, reason);
    out.push_str(
        "</p><p>This registry needs a token to read. Ask its operator for one, or create one on the server \
         with <code>strata-server token create --scope read</code>. It is kept in this browser only.</p>\
         <form data-action=\"sign-in\" class=\"st-form\"><label>Token <input type=\"password\" name=\"token\" \
         autocomplete=\"off\" required></label> <button type=\"submit\" class=\"st-primary\">Use token</button></form></div>",
    );
    out
}

/// A page for a path that no view has, with a link to the directories.
pub fn not_found_html(path: &str) -> String {
    let mut out = String::from("<h1>Not found</h1><p>Nothing here at <code>");
    esc(&mut out, path);
    out.push_str("</code>.</p><p>");
    link(&mut out, &Route::Dirs, "See every directory");
    out.push_str("</p>");
    out
}
