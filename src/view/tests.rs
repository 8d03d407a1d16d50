//! Tests of the pages and the progress view: hostile input stays text,
//! every link is a route, and each page says what its data means. The
//! fixtures are shared with the browser tests (`browser_tests.rs`), which
//! mount the same pages in a real DOM.

use super::*;
use crate::dir::Directory;
use crate::hook::{Event, Failure, PlannedFileInfo, StatementRef, TargetInfo};
use crate::lex::Dialect;
use crate::plan::{plan, DbState, ExecOptions, Executor, Outcome, Plan, PlanOptions, Step};
use crate::registry::client::{DeploymentInfo, DirInfo, TagEvent, TagInfo, VersionInfo};
use crate::registry::{BlobDigest, ChangedFile, DeploymentStatus, VersionDiff};
use crate::report::{ApplyReport, Report, ReportBody};
use crate::test_util::dir_with_sum;
use crate::test_util::text_of;

/// Input that would run script or leave an attribute if it were not
/// escaped, one kind each.
pub(super) const HOSTILE: [&str; 4] =
    ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "' onmouseover='x"];

/// All of [`HOSTILE`] in one string.
pub(super) fn hostile() -> String {
    HOSTILE.concat()
}

/// [`hostile`] without `/`, as a directory file name (a name has no `/`).
pub(super) fn hostile_file() -> String {
    format!("2_{}.sql", hostile().replace('/', ""))
}

fn digest(n: u8) -> BlobDigest {
    BlobDigest::of(&[n])
}

/// A registry listing's item from its JSON (fields the registry may omit
/// take their defaults, so new optional fields need no change here).
fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("a listing item")
}

fn tag_info(name: &str, version: &BlobDigest, updated: Option<&str>, by: Option<&str>) -> TagInfo {
    from_json(
        serde_json::json!({"name": name, "version": version, "updated": updated, "updatedBy": by, "updatedByName": by}),
    )
}

fn version_info(digest: &BlobDigest, files: u64, size: u64, created: &str, by: &str) -> VersionInfo {
    from_json(
        serde_json::json!({"digest": digest, "files": files, "size": size, "created": created, "createdBy": by, "createdByName": by}),
    )
}

/// A directory with a hostile file name, hostile SQL and a hostile directive.
pub(super) fn hostile_dir() -> Directory {
    let h = hostile();
    dir_with_sum(&[
        ("1_a.sql", "CREATE TABLE a (id int);\n"),
        (
            &hostile_file(),
            &format!(
                "-- atlas:nolint {h}\n\nINSERT INTO a VALUES ('{}');\nSELECT \"{}\";\n",
                h.replace('\'', "''"),
                h.replace('"', "\"\"")
            ),
        ),
    ])
}

fn hostile_target() -> TargetInfo {
    TargetInfo { name: hostile(), dialect: Dialect::Sqlite }
}

/// Runs `p`, failing the statement whose SQL contains `fail_on` with `message`.
fn run(p: Plan, fail_on: &str, message: &str) -> ApplyReport {
    let mut ex = Executor::new(p, ExecOptions::default(), 1_000);
    let mut now = 1_000;
    loop {
        let outcome = match ex.next() {
            Step::Done => break,
            Step::Execute { sql, .. } if sql.contains(fail_on) => Outcome::Err(message.to_string()),
            _ => Outcome::Ok,
        };
        now += 1_500_000;
        ex.record(outcome, now);
    }
    ex.into_report()
}

fn hostile_deployment() -> DeploymentInfo {
    let h = hostile();
    from_json(serde_json::json!({
        "id": h, "dir": h, "target": h, "version": digest(1), "status": DeploymentStatus::Failed,
        "planDigest": h, "started": h, "finished": "2024-01-16T10:20:31Z", "created": h, "createdBy": h, "createdByName": h, "error": h,
    }))
}

/// A lint result (the lint module's JSON, escapes and all) whose every
/// text is [`hostile`]: an error and an unparsed statement's warning.
pub(super) fn hostile_findings() -> LintFindings {
    let h = hostile();
    let finding = |code: &str, severity: &str, line: u32| {
        serde_json::json!({
            "code": code, "analyzer": h, "severity": severity, "file": h, "line": line,
            "statement": format!("DROP TABLE \"{h}\";"), "message": h, "hint": h,
        })
    };
    let text = serde_json::json!({
        "findings": [finding("DS102", "error", 3)],
        "unparsed": [finding(&h, "warning", 1)],
        "errors": 1,
        "warnings": 1,
    })
    .to_string();
    LintFindings::from_json(&text).expect("the lint module's result")
}

/// Every page and block, fed [`hostile`] wherever it takes text.
pub(super) fn hostile_pages() -> Vec<(&'static str, String)> {
    let h = hostile();
    let dir = hostile_dir();
    let p = plan(&dir, &DbState::default(), &PlanOptions::default()).expect("the plan of a fresh database");
    let report = run(p.clone(), "SELECT", &h);
    let mut doc = Report::new(ReportBody::Apply(Box::new(report.clone())));
    doc.directory = Some(h.clone());
    doc.target = Some(h.clone());
    let targets = [hostile_target()];
    let tags = [tag_info(&h, &digest(1), Some(&h), Some(&h))];
    let versions = [version_info(&digest(1), 2, 10, &h, &h), version_info(&digest(2), 1, 5_000, &h, &h)];
    let diff = VersionDiff {
        added: vec![h.clone()],
        out_of_order: vec![h.clone()],
        changed: vec![ChangedFile { name: h.clone(), base: digest(1), head: digest(2) }],
        removed: vec![h.clone()],
        unchanged: 1,
        sum_changed: true,
    };
    let mut progress = ApplyProgress::new(&p, &h);
    progress.on_event(&Event::Error(Failure {
        file: Some(hostile_file()),
        statement: Some(StatementRef { index: 2, line: 4, pos: 0, text: h.clone() }),
        message: h.clone(),
        error: h.clone(),
    }));
    let registry_version = VersionPage {
        dir: Some(&h),
        reference: &h,
        version: Some(&versions[0].digest),
        directory: &dir,
        dialect: Dialect::Postgres,
        targets: &targets,
        lint: true,
    };
    let local_version = VersionPage { dir: None, targets: &[], version: None, lint: false, ..registry_version };
    let findings = hostile_findings();
    vec![
        ("dirs", dirs_page(&[DirInfo { name: h.clone(), versions: 3, tags: 1, updated: Some(h.clone()) }])),
        ("dir", dir_page(&h, &tags, &versions)),
        (
            "tag history",
            tag_history_page(
                &h,
                &h,
                &[from_json::<TagEvent>(serde_json::json!({
                    "version": digest(2), "previous": digest(1), "at": h, "by": h, "byName": h
                }))],
                &[Some(diff.clone())],
            ),
        ),
        ("diff", diff_page(&h, &h, &h, &diff, true)),
        ("version", version_page(&registry_version)),
        ("local version", version_page(&local_version)),
        ("targets", targets_page(&targets)),
        ("plan", plan_page(&h, &h, &targets[0], &versions[0].digest, &p)),
        ("history", history_page(&h, &[hostile_deployment()])),
        ("deployment", deployment_page(Some(&hostile_deployment()), &doc)),
        ("local", local_page()),
        ("loading", loading_html(&h)),
        ("error", error_html(&h, &h, &h)),
        ("sign in", sign_in_html(&h)),
        ("not found", not_found_html(&h)),
        ("progress", progress.html()),
        ("lint", lint_section(&h, &LintState::Done { findings: &findings, files: 2 })),
        ("lint failed", lint_section(&h, &LintState::Failed { message: &h, hint: &h })),
    ]
}

/// A start tag: its name and attributes (name, value), as a browser reads
/// them.
#[derive(Debug)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

/// The start tags of `html`, read the way an HTML tokenizer does (quoted
/// and unquoted values), so an attribute smuggled in by input shows up.
fn tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(n) = html[i..].find('<') {
        i += n + 1;
        if b.get(i) == Some(&b'/') {
            continue;
        }
        let name_end = html[i..].find(|c: char| c.is_whitespace() || c == '>' || c == '/').map_or(b.len(), |n| i + n);
        let mut tag = Tag { name: html[i..name_end].to_ascii_lowercase(), attrs: Vec::new() };
        i = name_end;
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                break;
            }
            let end = html[i..].find(|c: char| c.is_whitespace() || c == '=' || c == '>').map_or(b.len(), |n| i + n);
            let name = html[i..end].to_ascii_lowercase();
            i = end;
            let mut value = String::new();
            if b.get(i) == Some(&b'=') {
                i += 1;
                match b.get(i) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let close = html[i + 1..].find(q as char).map_or(b.len(), |n| i + 1 + n);
                        value = html[i + 1..close].to_string();
                        i = (close + 1).min(b.len());
                    }
                    _ => {
                        let end = html[i..].find(|c: char| c.is_whitespace() || c == '>').map_or(b.len(), |n| i + n);
                        value = html[i..end].to_string();
                        i = end;
                    }
                }
            }
            tag.attrs.push((name, value));
        }
        out.push(tag);
    }
    out
}

/// No tag that runs or loads anything, no event handler attribute, and
/// every link a route of the viewer.
fn assert_inert(page: &str, html: &str) {
    let allowed = [
        "a", "article", "br", "button", "code", "dd", "dialog", "div", "dl", "dt", "form", "h1", "h2", "h3", "input",
        "label", "li", "ol", "optgroup", "option", "p", "pre", "progress", "section", "select", "span", "strong",
        "table", "tbody", "td", "textarea", "th", "thead", "time", "tr", "ul",
    ];
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script") && !lower.contains("<img"), "{page}: {html}");
    assert!(!lower.contains("href=\"javascript:"), "{page}: {html}");
    for t in tags(html) {
        assert!(allowed.contains(&t.name.as_str()), "{page}: unexpected <{}> in {html}", t.name);
        for (name, value) in &t.attrs {
            assert!(!name.starts_with("on"), "{page}: handler {name}={value:?} on <{}>", t.name);
            assert!(!["src", "style", "srcdoc", "formaction", "action"].contains(&name.as_str()), "{page}: {name}");
            if name == "href" {
                let path = value.replace("&amp;", "&");
                assert!(path.starts_with('/') && !path.starts_with("//"), "{page}: href {value:?}");
                if page != "not found" {
                    assert!(!matches!(Route::parse(&path), Route::NotFound { .. }), "{page}: {path} is no view");
                }
            }
        }
    }
}

#[test]
fn every_page_keeps_hostile_input_as_text() {
    let h = hostile();
    for (page, html) in hostile_pages() {
        assert_inert(page, &html);
        if page == "plan" {
            assert!(html.contains("<dialog id=\"st-confirm\""), "the apply dialog shows the input too: {html}");
        }
        if page != "local" {
            let text = text_of(&html);
            let shown = if ["version", "local version"].contains(&page) { h.replace('/', "") } else { h.clone() };
            assert!(text.contains(&shown), "{page} shows the input as it is: {text}");
        }
    }
}

#[test]
fn the_tag_reader_finds_what_unescaped_input_would_add() {
    // The checks above would catch a renderer that forgot to escape.
    let t = tags(&format!("<p title=\"{}\">x</p>", HOSTILE[1]));
    assert!(t.iter().any(|t| t.name == "img"), "{t:?}");
    let t = tags(&format!("<p title='{}'>", HOSTILE[3]));
    assert!(t[0].attrs.iter().any(|(n, _)| n == "onmouseover"), "{t:?}");
    let t = tags("<a href=\"javascript:alert(1)\">");
    assert_eq!(t[0].attrs, [("href".to_string(), "javascript:alert(1)".to_string())]);
}

#[test]
fn empty_lists_say_how_to_fill_them() {
    let dirs = dirs_page(&[]);
    assert!(dirs.contains("st-empty") && dirs.contains("strata push --dir DIR --name NAME"), "{dirs}");
    let targets = targets_page(&[]);
    assert!(targets.contains("st-empty") && targets.contains("strata-server serve --targets targets.toml"));
    let dir = dir_page("app", &[], &[]);
    assert_eq!(dir.matches("st-empty").count(), 2, "{dir}");
    assert!(!dir.contains("<form"), "nothing to compare: {dir}");
    assert!(history_page("prod", &[]).contains("st-empty"));
    assert!(tag_history_page("app", "v1", &[], &[]).contains("st-empty"));
    let same = diff_page("app", "v1", "v2", &VersionDiff { unchanged: 3, ..VersionDiff::default() }, true);
    assert!(text_of(&same).contains("identical") && !same.contains("st-warning"), "{same}");
}

#[test]
fn a_diff_that_changes_a_released_file_says_history_is_rewritten() {
    let mut d = VersionDiff {
        added: vec!["2_b.sql".into(), "4_d.sql".into()],
        out_of_order: vec!["2_b.sql".into()],
        unchanged: 1,
        ..VersionDiff::default()
    };
    let html = diff_page("app", "v1", "v2", &d, false);
    assert!(!html.contains("st-warning"), "only additions: {html}");
    assert_eq!(html.matches("out of order: needs --exec-order non-linear").count(), 1, "{html}");

    d.changed.push(ChangedFile { name: "1_a.sql".into(), base: digest(1), head: digest(2) });
    d.removed.push("3_c.sql".into());
    let html = diff_page("app", "v1", "v2", &d, false);
    let warning = html.split("<p class=\"st-warning\" role=\"alert\">").nth(1).expect("a warning").split("</p>").next();
    let warning = text_of(warning.unwrap_or_default());
    assert!(warning.starts_with("History rewritten: 2 file(s) that v1 already has"), "{warning}");
    assert!(warning.contains("checksum mismatch") && warning.contains("add a new migration instead"), "{warning}");
    let text = text_of(&html);
    assert!(text.contains(&format!("1_a.sql {} → {}", &digest(1).hex()[..12], &digest(2).hex()[..12])), "{text}");
    assert!(text.contains("Removed (1)3_c.sql"), "{text}");
}

#[test]
fn each_move_of_a_tag_says_what_changed_and_flags_a_rewrite() {
    let event = |version: u8, previous: Option<u8>| -> TagEvent {
        from_json(serde_json::json!({
            "version": digest(version), "previous": previous.map(digest), "at": "2024-01-16T10:00:00Z", "by": "ci",
        }))
    };
    let events = [event(3, Some(2)), event(2, Some(1)), event(1, None)];
    let added =
        VersionDiff { added: vec!["3_c.sql".into()], unchanged: 2, sum_changed: true, ..VersionDiff::default() };
    let rewrite = VersionDiff {
        changed: vec![ChangedFile { name: "1_a.sql".into(), base: digest(1), head: digest(2) }],
        sum_changed: true,
        ..VersionDiff::default()
    };
    // The oldest move created the tag: no diff; a diff that could not be loaded is left blank.
    let html = tag_history_page("app", "latest", &events, &[Some(added), Some(rewrite), None]);
    let rows: Vec<String> = html.split("<tr>").skip(2).map(text_of).collect();
    assert_eq!(rows.len(), 3, "{html}");
    assert!(rows[0].contains("+1 ~0 −0") && !rows[0].contains("history rewritten"), "{}", rows[0]);
    assert!(rows[1].contains("+0 ~1 −0 history rewritten"), "{}", rows[1]);
    assert!(rows[2].contains("(created)") && !rows[2].contains('+'), "{}", rows[2]);
    assert_eq!(html.matches("class=\"st-warning\"").count(), 1, "{html}");
    // Fewer diffs than moves (the viewer loads at most some): the rest are blank.
    let html = tag_history_page("app", "latest", &events, &[]);
    assert!(!html.contains("history rewritten") && html.matches("<tr>").count() == 4, "{html}");
}

#[test]
fn the_compare_form_defaults_to_the_previous_version_against_latest() {
    let versions: Vec<VersionInfo> = (1..=3).rev().map(|n| version_info(&digest(n), 1, 1, "", "")).collect();
    let tag = |name: &str, n| tag_info(name, &digest(n), None, None);
    let html = dir_page("app", &[tag("v1", 1), tag("latest", 3)], &versions);
    let select = |name: &str| {
        let start = html.find(&format!("<select name=\"{name}\">")).expect("the select");
        html[start..].split("</select>").next().unwrap_or_default().to_string()
    };
    let (base, head) = (select("base"), select("head"));
    assert_eq!(base.matches(" selected").count(), 1, "{base}");
    assert!(base.contains(&format!("value=\"{}\" selected>{}", digest(2), &digest(2).hex()[..12])), "{base}");
    assert!(head.contains("value=\"latest\" selected>latest") && head.matches(" selected").count() == 1, "{head}");
    // Every tag, then every version, in both.
    assert_eq!(base.matches("<option").count(), 5);
    assert!(html.contains("<form data-action=\"diff\" class=\"st-diff-form"), "{html}");
    assert!(html.contains(&Route::TagHistory { dir: "app".into(), tag: "latest".into() }.path()));

    // No `latest`, one version: from the first tag to the newest version.
    let html = dir_page("app", &[tag("v1", 1)], &versions[..1]);
    assert!(html.contains("value=\"v1\" selected") && html.contains(&format!("value=\"{}\" selected", digest(3))));
}

fn deployment(started: Option<&str>, finished: Option<&str>) -> DeploymentInfo {
    from_json(serde_json::json!({
        "id": "dep_1", "dir": "app", "target": "prod", "version": digest(1), "status": DeploymentStatus::Succeeded,
        "started": started, "finished": finished, "created": "2024-01-16T10:00:00Z", "createdBy": "ci",
    }))
}

#[test]
fn history_shows_durations_statuses_and_links() {
    let items = [
        deployment(Some("2024-01-16T10:20:30Z"), Some("2024-01-16T10:20:31.25Z")),
        deployment(Some("2024-01-16T10:20:30.1Z"), Some("2024-01-16T10:20:30.44Z")),
        deployment(Some("2024-01-16T10:20:30Z"), Some("2024-01-16T10:23:35Z")),
        deployment(Some("2024-01-16T10:20:30Z"), None),
        deployment(Some("yesterday"), Some("2024-01-16T10:20:30Z")),
        deployment(Some("2024-01-16T10:20:31Z"), Some("2024-01-16T10:20:30Z")),
        DeploymentInfo { status: DeploymentStatus::DryRun, ..deployment(None, None) },
    ];
    let html = history_page("prod", &items);
    // Started by: the token's id when the registry knows no name, else its name with the id as a title.
    assert!(html.contains("<td>ci</td>"), "{html}");
    let named = DeploymentInfo { created_by_name: Some("deploy <bot>".into()), ..deployment(None, None) };
    let h = history_page("prod", &[named]);
    assert!(h.contains("<span class=\"st-who\" title=\"ci\">deploy &lt;bot&gt;</span>"), "{h}");
    let nameless = DeploymentInfo { created_by_name: Some(String::new()), ..deployment(None, None) };
    assert!(history_page("prod", &[nameless]).contains("<td>ci</td>"), "an empty name is no name");
    let rows: Vec<String> = html.split("<tr>").skip(2).map(text_of).collect();
    assert_eq!(rows.len(), items.len());
    let took: Vec<&str> = rows.iter().map(|r| if r.contains('—') { "—" } else { r.as_str() }).collect();
    assert!(rows[0].contains("1.2 s"), "{}", rows[0]);
    assert!(rows[1].contains("340 ms"), "{}", rows[1]);
    assert!(rows[2].contains("3 min 5 s"), "{}", rows[2]);
    assert_eq!(&took[3..6], ["—", "—", "—"], "unknown, unreadable or negative: {rows:?}");
    assert!(rows[0].contains("2024-01-16 10:20:30 UTC"), "{}", rows[0]);
    assert!(rows[6].contains("2024-01-16 10:00:00 UTC"), "not started: created {}", rows[6]);
    assert!(html.contains("st-status-succeeded") && html.contains("st-status-dry-run"), "{html}");
    assert!(html.contains(&format!("href=\"{}\"", Route::Deployment { id: "dep_1".into() }.path())));
    let v = Route::Version { dir: "app".into(), reference: digest(1).to_string(), dialect: None };
    assert!(html.contains(&format!("href=\"{}\"", v.path())), "{html}");
}

#[test]
fn the_version_page_marks_each_file_against_atlas_sum() {
    let good = dir_with_sum(&[("1_a.sql", "CREATE TABLE a (id int);\n"), ("2_b.sql", "CREATE TABLE b (id int);\n")]);
    let sum = good.sum_file().map(<[u8]>::to_vec).unwrap_or_default();
    let page = |d: &Directory| {
        version_page(&VersionPage {
            dir: Some("app"),
            reference: "latest",
            version: None,
            directory: d,
            dialect: Dialect::Sqlite,
            targets: &[],
            lint: false,
        })
    };
    let html = page(&good);
    assert_eq!(html.matches("sum ok").count(), 2, "{html}");
    assert!(text_of(&html).contains("atlas.sumok"), "{html}");

    // 2_b.sql edited after hashing; 3_c.sql never hashed; 4_d.sql not UTF-8.
    let tampered = Directory::new([
        ("1_a.sql", b"CREATE TABLE a (id int);\n".to_vec()),
        ("2_b.sql", b"DROP TABLE users;\n".to_vec()),
        ("3_c.sql", b"SELECT 3;\n".to_vec()),
        ("4_d.sql", b"SELECT 1;\nSELECT '\xff';\n".to_vec()),
        ("atlas.sum", sum),
    ])
    .expect("a directory");
    let html = page(&tampered);
    let file = |n: usize| {
        let start = html.find(&format!("id=\"file-{n}\"")).expect("the file's article");
        html[start..].split("</article>").next().unwrap_or_default().to_string()
    };
    assert!(file(1).contains("sum ok"), "{}", file(1));
    assert!(file(2).contains("sum mismatch") && !file(2).contains("sum ok"), "{}", file(2));
    assert!(file(3).contains("not in atlas.sum"), "{}", file(3));
    assert!(file(4).contains("class=\"st-error\"") && file(4).contains("line 2"), "{}", file(4));
    assert!(!file(4).contains("st-statements"), "no statements for a file that does not split");
    let warning = html.split("<p class=\"st-warning\" role=\"alert\">").nth(1).unwrap_or_default();
    assert!(text_of(warning).starts_with("checksum mismatch"), "{html}");
    // Statements are numbered by line and highlighted.
    assert!(file(2).contains("<span class=\"st-line\">line 1</span><pre><code><span class=\"st-kw\">DROP</span>"));
}

#[test]
fn the_version_page_offers_dialects_targets_or_a_local_plan() {
    let d = dir_with_sum(&[("1_a.sql", "-- atlas:txmode none\n\nCREATE TABLE a (id int);\n")]);
    let targets = [TargetInfo { name: "prod".into(), dialect: Dialect::Postgres }];
    let p = VersionPage {
        dir: Some("app"),
        reference: "v1",
        version: None,
        directory: &d,
        dialect: Dialect::Mysql,
        targets: &targets,
        lint: false,
    };
    let html = version_page(&p);
    assert!(html.contains("<form data-action=\"dialect\""), "{html}");
    assert!(html.contains("<option value=\"mysql\" selected>mysql</option>"), "{html}");
    assert_eq!(html.matches(" selected>").count(), 1);
    assert!(html.contains("<option value=\"prod\">prod (postgres)</option>"), "{html}");
    assert!(html.contains("atlas:txmode none"), "directives are shown: {html}");
    assert!(!html.contains("local-plan"));
    assert!(!version_page(&VersionPage { targets: &[], ..p }).contains("data-action=\"plan\""));

    let html = version_page(&VersionPage { dir: None, targets: &[], ..p });
    assert!(html.contains("<form data-action=\"local-plan\"") && html.contains("<textarea name=\"revisions\""));
    assert!(html.contains("<div id=\"st-local-plan\"></div>") && html.contains("name=\"dialect\""));
    assert!(!html.contains("data-action=\"dialect\"") && !html.contains("href="), "no registry links: {html}");
}

#[test]
fn the_plan_page_offers_an_apply_only_when_something_is_pending() {
    let d = dir_with_sum(&[("1_a.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n")]);
    let target = TargetInfo { name: "prod".into(), dialect: Dialect::Sqlite };
    let p = plan(&d, &DbState::default(), &PlanOptions::default()).expect("a plan");
    let html = plan_page("app", "v1", &target, &digest(1), &p);
    assert!(text_of(&html).starts_with("Plan of app@v1 on prod"), "{html}");
    assert!(html.contains("id=\"st-apply\" data-action=\"apply\""), "{html}");
    assert!(text_of(&html).contains("Apply 2 statement(s) to prod…"), "{html}");
    let dialog = html.split("<dialog").nth(1).unwrap_or_default();
    let t = text_of(dialog);
    assert!(t.contains("This runs 2 statement(s) of 1 file(s) from app@v1 on target prod (sqlite)"), "{t}");
    assert!(dialog.contains("data-action=\"confirm-apply\"") && dialog.contains("data-action=\"cancel\" autofocus"));
    // The action and the run come before the statements.
    let run = html.find("<div id=\"st-run\" aria-live=\"polite\"></div>").expect("#st-run");
    assert!(html.find("id=\"st-apply\"").is_some_and(|a| a < run), "{html}");
    assert!(html.find("class=\"st-statements\"").is_some_and(|sql| sql > run), "{html}");
    assert!(html.contains(&format!("href=\"{}\"", Route::History { target: "prod".into() }.path())));

    let up_to_date = Plan { files: Vec::new(), ..p };
    let html = plan_page("app", "v1", &target, &digest(1), &up_to_date);
    assert!(!html.contains("st-apply") && !html.contains("<dialog") && html.contains("st-run"), "{html}");
}

#[test]
fn deployments_show_their_report_or_why_it_cannot_be() {
    let d = dir_with_sum(&[("1_a.sql", "CREATE TABLE a (id int);\nINSERT INTO nope VALUES (1);\n")]);
    let p = plan(&d, &DbState::default(), &PlanOptions::default()).expect("a plan");
    let r = run(p, "nope", "no such table: nope");
    let info = DeploymentInfo { status: DeploymentStatus::Failed, ..deployment(Some("2024-01-16T10:20:30Z"), None) };
    let html = deployment_page(Some(&info), &Report::new(ReportBody::Apply(Box::new(r))));
    assert!(text_of(&html).starts_with("Apply of app on prod"), "{html}");
    assert!(html.contains("<li class=\"st-failed\">") && text_of(&html).contains("no such table: nope"), "{html}");
    assert!(html.contains("st-status-failed"));
    assert_eq!(html.matches("<dt>Took</dt>").count(), 1, "the report's own, not twice: {html}");
    assert!(html.contains(&format!("href=\"{}\"", Route::History { target: "prod".into() }.path())));

    let status = crate::plan::Status { status: "PENDING".into(), ..Default::default() };
    let html = deployment_page(None, &Report::new(ReportBody::Status(Box::new(status))));
    assert!(html.contains("<pre class=\"st-status-text\">"), "{html}");

    let mut broken = Report::new(ReportBody::Plan(Box::new(Plan { files: Vec::new(), ..dummy_plan() })));
    broken.plan = None;
    let html = deployment_page(Some(&info), &broken);
    assert!(html.contains("st-error-box") && html.contains("no Plan key"), "{html}");
    broken.format = "strata.report/v9".into();
    assert!(deployment_page(None, &broken).contains("unsupported report format"));
}

fn dummy_plan() -> Plan {
    let d = dir_with_sum(&[("1_a.sql", "SELECT 1;\n")]);
    plan(&d, &DbState::default(), &PlanOptions::default()).expect("a plan")
}

#[test]
fn blocks_escape_what_they_are_given() {
    assert_eq!(loading_html("a<b"), "<p class=\"st-loading\" role=\"status\">Loading a&lt;b…</p>");
    let e = error_html("T", "m&", "");
    assert!(
        e.starts_with("<div class=\"st-error-box\" role=\"alert\"><h2>T</h2><p>m&amp;</p>") && !e.contains("st-hint")
    );
    let s = sign_in_html("expired");
    assert!(s.contains("<form data-action=\"sign-in\"") && s.contains("type=\"password\" name=\"token\""), "{s}");
    assert!(s.contains("strata-server token create --scope read"));
    let n = not_found_html("/x");
    assert!(n.contains("href=\"/\""), "{n}");
    let l = local_page();
    for id in ["st-drop", "st-local-folder", "st-local-report", "st-local-result"] {
        assert!(l.contains(&format!("id=\"{id}\"")), "{id}: {l}");
    }
}

/// A plan of two files (2 and 3 statements), the events of a run whose
/// second file fails at its second statement, and the report.
fn failing_run() -> (Plan, Vec<Event>) {
    let d = dir_with_sum(&[
        ("1_a.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n"),
        ("2_b.sql", "INSERT INTO a VALUES (1);\nINSERT INTO nope VALUES (1);\nSELECT 3;\n"),
    ]);
    let p = plan(&d, &DbState::default(), &PlanOptions::default()).expect("a plan");
    let report = run(p.clone(), "nope", "no such table: nope");
    let info = |f: &crate::plan::PlannedFile| PlannedFileInfo {
        name: f.name.clone(),
        version: f.version.clone(),
        statements: f.statements.len(),
        skip: 0,
        tx_mode: "file".into(),
    };
    let done = |file: &str, statement, ns| Event::StatementDone {
        file: file.into(),
        statement,
        line: statement,
        duration_ns: ns,
    };
    let events = vec![
        Event::Planned {
            target: "prod".into(),
            digest: p.digest.clone(),
            dry_run: false,
            current: None,
            to_version: Some("2".into()),
            files: p.files.iter().map(info).collect(),
            statements: 5,
        },
        Event::FileStarted { file: "1_a.sql".into(), version: "1".into(), statements: 2, skip: 0 },
        done("1_a.sql", 1, 12_000_000),
        done("1_a.sql", 2, 1_500),
        Event::FileDone { file: "1_a.sql".into(), duration_ns: 13_000_000 },
        Event::FileStarted { file: "2_b.sql".into(), version: "2".into(), statements: 3, skip: 0 },
        done("2_b.sql", 1, 3_000_000),
        Event::Error(Failure {
            file: Some("2_b.sql".into()),
            statement: Some(StatementRef { index: 2, line: 2, pos: 26, text: "INSERT INTO nope VALUES (1);".into() }),
            message: "no such table: nope".into(),
            error: "sql/migrate: executing statement \"INSERT INTO nope VALUES (1);\" from version \"2\": no such table: nope".into(),
        }),
        Event::Finished { report: Box::new(report) },
    ];
    (p, events)
}

/// The class of each statement of each file, in order.
fn classes(html: &str) -> Vec<String> {
    html.split("<li class=\"").skip(1).map(|s| s.split('"').next().unwrap_or_default().to_string()).collect()
}

#[test]
fn progress_follows_a_run_to_its_failure() {
    let (p, events) = failing_run();
    let mut pr = ApplyProgress::new(&p, "prod");
    assert_eq!((pr.state(), pr.done(), pr.total()), (ProgressState::Waiting, 0, 5));
    assert!(pr.html().contains("data-state=\"waiting\""));
    assert_eq!(classes(&pr.html()), ["st-pending"; 5]);

    for e in &events[..3] {
        pr.on_event(e);
    }
    assert_eq!((pr.state(), pr.done(), pr.total()), (ProgressState::Running, 1, 5));
    let html = pr.html();
    assert!(html.contains("data-state=\"running\"") && html.contains("1 of 5 statements"), "{html}");
    assert!(html.contains("<progress max=\"5\" value=\"1\">"), "{html}");
    assert_eq!(classes(&html), ["st-done", "st-running", "st-pending", "st-pending", "st-pending"]);
    assert!(text_of(&html).contains("line 1 · 12ms"), "go-like durations: {html}");

    for e in &events[3..7] {
        pr.on_event(e);
    }
    assert_eq!(classes(&pr.html()), ["st-done", "st-done", "st-done", "st-running", "st-pending"]);
    assert!(text_of(&pr.html()).contains("1.5µs"));

    pr.on_event(&events[7]);
    assert_eq!(pr.state(), ProgressState::Failed);
    let html = pr.html();
    assert_eq!(classes(&html), ["st-done", "st-done", "st-done", "st-failed", "st-pending"]);
    let failed =
        html.split("<li class=\"st-failed\">").nth(1).unwrap_or_default().split("</li>").next().unwrap_or_default();
    assert!(failed.contains("<p class=\"st-error\">no such table: nope</p>"), "{failed}");
    assert!(html.contains("<p class=\"st-error\" role=\"alert\">sql/migrate: executing statement"), "{html}");

    pr.on_event(&events[8]);
    assert_eq!((pr.state(), pr.done(), pr.total()), (ProgressState::Failed, 3, 5));
    assert!(pr.html().contains("data-state=\"failed\""));
    // After `finished`, nothing moves.
    for e in &events {
        pr.on_event(e);
    }
    assert_eq!((pr.state(), pr.done()), (ProgressState::Failed, 3));
}

#[test]
fn progress_ignores_unknown_out_of_range_and_repeated_events() {
    let (p, events) = failing_run();
    let mut pr = ApplyProgress::new(&p, "prod");
    for e in &events[..4] {
        pr.on_event(e);
        pr.on_event(e);
    }
    assert_eq!(pr.done(), 2);
    for e in [
        Event::StatementDone { file: "1_a.sql".into(), statement: 0, line: 1, duration_ns: 1 },
        Event::StatementDone { file: "1_a.sql".into(), statement: usize::MAX, line: 1, duration_ns: 1 },
        Event::StatementDone { file: "9_z.sql".into(), statement: 1, line: 1, duration_ns: u64::MAX },
        Event::FileStarted { file: "9_z.sql".into(), version: "9".into(), statements: 1, skip: 0 },
        Event::FileDone { file: "9_z.sql".into(), duration_ns: u64::MAX },
        Event::Error(Failure {
            file: Some("9_z.sql".into()),
            statement: Some(StatementRef { index: 0, line: 0, pos: 0, text: String::new() }),
            message: String::new(),
            error: "boom".into(),
        }),
    ] {
        pr.on_event(&e);
    }
    assert_eq!((pr.done(), pr.total()), (2, 5));
    assert_eq!(pr.state(), ProgressState::Failed, "an error fails the run even when its file is unknown");
    assert!(pr.html().contains("boom"));
}

#[test]
fn the_hooks_plan_replaces_the_counts_and_a_dry_run_says_so() {
    let (p, _) = failing_run();
    let mut pr = ApplyProgress::new(&p, "prod");
    // The hook found the first statement of 2_b.sql applied by an earlier
    // attempt, and 1_a.sql already done: only 2_b.sql runs.
    pr.on_event(&Event::Planned {
        target: "prod".into(),
        digest: "sha256:x".into(),
        dry_run: true,
        current: Some("1".into()),
        to_version: Some("2".into()),
        files: vec![PlannedFileInfo {
            name: "2_b.sql".into(),
            version: "2".into(),
            statements: 4,
            skip: 1,
            tx_mode: "file".into(),
        }],
        statements: 3,
    });
    assert_eq!((pr.state(), pr.done(), pr.total()), (ProgressState::Running, 0, 3));
    assert_eq!(classes(&pr.html()), ["st-skipped", "st-pending", "st-pending", "st-pending"]);
    assert!(pr.html().contains("INSERT"), "known statements keep their text");
    let mut report = run(p, "nothing fails", "");
    report.dry_run = true;
    report.error = None;
    pr.on_event(&Event::Finished { report: Box::new(report) });
    assert_eq!(pr.state(), ProgressState::Succeeded);
    assert!(pr.html().contains("Dry run (nothing executed) on prod"), "{}", pr.html());
}

/// Not a benchmark: prints how long the largest pages take natively (run
/// with `--nocapture` to see them).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn a_thousand_file_version_renders_quickly() {
    use std::time::Instant;
    let files: Vec<(String, String)> = (0..1000)
        .map(|i| {
            let sql: String = (0..10)
                .map(|s| format!("-- step {s}\nALTER TABLE t{i} ADD COLUMN c{s} text DEFAULT 'x{s}' NOT NULL;\n"))
                .collect();
            (format!("{:014}_f{i}.sql", 20240101000000u64 + i as u64), sql)
        })
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    let d = dir_with_sum(&refs);
    let _ = d.computed_sum(); // hashed once, as a fetched version is
    let page = VersionPage {
        dir: Some("app"),
        reference: "latest",
        version: None,
        directory: &d,
        dialect: Dialect::Postgres,
        targets: &[],
        lint: false,
    };
    let t = Instant::now();
    let html = version_page(&page);
    let version_took = t.elapsed();
    let version_kb = html.len() / 1024;
    assert_eq!(html.matches("<li>").count(), 10_000);
    assert_eq!(html.matches("sum ok").count(), 1_000);

    let p = plan(&d, &DbState::default(), &PlanOptions::default()).expect("a plan");
    let target = TargetInfo { name: "prod".into(), dialect: Dialect::Postgres };
    let t = Instant::now();
    let html = plan_page("app", "latest", &target, &digest(1), &p);
    let plan_took = t.elapsed();
    assert!(html.contains("Apply 10000 statement(s)"));
    let t = Instant::now();
    let progress = ApplyProgress::new(&p, "prod");
    let new_took = t.elapsed();
    let t = Instant::now();
    let html = progress.html();
    let progress_took = t.elapsed();
    assert!(html.contains("0 of 10000 statements"));
    println!(
        "1,000 files x 10 statements: version_page {version_took:?} ({version_kb} KB), plan_page {plan_took:?}, \
         ApplyProgress::new {new_took:?}, ApplyProgress::html {progress_took:?} ({} KB)",
        html.len() / 1024
    );
}

/// `lint()` of the demo's app v3 in the lint module, as `JSON.stringify`
/// writes it (`node -e` over pkg/lint.mjs), with the two findings swapped
/// and one unparsed statement added.
const DEMO_LINT: &str = r#"{"findings":[{"code":"DS103","analyzer":"destructive","severity":"error","file":"20240301000000_reactions_replace_likes.sql","line":13,"statement":"ALTER TABLE users DROP COLUMN nickname;","message":"Dropping non-virtual column \"nickname\"","hint":"stop reading and writing the column in an earlier release and back up its data, then add '-- atlas:nolint DS103' above the statement"},{"code":"DS102","analyzer":"destructive","severity":"error","file":"20240301000000_reactions_replace_likes.sql","line":12,"statement":"DROP TABLE post_likes;","message":"Dropping table \"post_likes\"","hint":"make sure no client reads the table and its data is backed up or no longer needed, then add '-- atlas:nolint DS102' above the statement"}],"unparsed":[{"code":"ST001","analyzer":"parse","severity":"warning","file":"20240201000000_add_post_status.sql","line":2,"statement":"FROB x;","message":"sqlparser cannot parse it","hint":"check it","extra":[1,{"a":null}]}],"errors":2,"warnings":1,"future":true}"#;

#[test]
fn lint_results_are_read_from_the_lint_modules_json() {
    let r = LintFindings::from_json(DEMO_LINT).expect("the demo's result");
    assert_eq!(r.findings.len(), 2);
    assert_eq!(r.unparsed.len(), 1);
    assert_eq!(r.counts(), (2, 1));
    let order: Vec<(&str, u32)> = r.all().iter().map(|f| (f.code.as_str(), f.line)).collect();
    assert_eq!(order, [("ST001", 2), ("DS102", 12), ("DS103", 13)], "by file, then line");
    assert_eq!(r.findings[0].message, "Dropping non-virtual column \"nickname\"");
    assert_eq!(r.findings[0].severity, LintSeverity::Error);
    // Only what a view needs is required.
    let minimal = r#"{"findings":[{"code":"X1","severity":"warning","file":"1.sql","line":1,"message":"m"}]}"#;
    let m = LintFindings::from_json(minimal).expect("a minimal finding");
    assert_eq!((m.findings[0].hint.as_str(), m.unparsed.len()), ("", 0));
}

#[test]
fn a_lint_result_that_is_not_one_is_an_error_not_a_panic() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for text in [
        "",
        "null",
        "[]",
        "{\"findings\":{}}",
        "{\"findings\":[{\"code\":1}]}",
        "{\"findings\":[{\"code\":\"X\",\"severity\":\"fatal\",\"file\":\"a\",\"line\":1,\"message\":\"m\"}]}",
        "{\"findings\":[{\"code\":\"X\",\"severity\":\"error\",\"file\":\"a\",\"line\":-1,\"message\":\"m\"}]}",
        "{\"findings\":[{\"code\":\"X\",\"severity\":\"error\",\"file\":\"a\",\"line\":99999999999,\"message\":\"m\"}]}",
        "{\"findings\":[{\"code\":\"X\",\"severity\":\"error\",\"file\":\"a\",\"line\":1.5,\"message\":\"m\"}]}",
        "{\"findings\":[\"\\ud800\"]}",
        &deep,
    ] {
        let e = LintFindings::from_json(text).expect_err(text.get(..60).unwrap_or(text));
        assert!(e.starts_with("the lint result is not"), "{e}");
    }
}

#[test]
fn the_lint_section_shows_loading_findings_a_clean_run_or_why_it_failed() {
    let loading = lint_section("Lint", &LintState::Loading);
    assert!(loading.starts_with("<section id=\"st-lint\"") && loading.contains("data-state=\"loading\""));
    assert!(loading.contains("aria-live=\"polite\"") && text_of(&loading).contains("Linting…"), "{loading}");

    let r = LintFindings::from_json(DEMO_LINT).expect("the demo's result");
    let done = lint_section("Lint", &LintState::Done { findings: &r, files: 5 });
    assert!(done.contains("data-state=\"ready\""), "{done}");
    let text = text_of(&done);
    assert!(text.contains("2 error(s), 1 warning(s) in 5 file(s)"), "{text}");
    assert_eq!(done.matches("<tr class=\"st-lint-").count(), 3, "{done}");
    assert_eq!(done.matches("st-sev-error\">error<").count(), 2, "{done}");
    assert_eq!(done.matches("st-sev-warning\">warning<").count(), 1, "{done}");
    for shown in [
        "DS102",
        "20240301000000_reactions_replace_likes.sql:12",
        "20240301000000_reactions_replace_likes.sql:13",
        "20240201000000_add_post_status.sql:2",
        "Dropping table \"post_likes\"",
        "add '-- atlas:nolint DS102' above the statement",
    ] {
        assert!(text.contains(shown), "{shown} in {text}");
    }
    assert!(done.contains("<pre class=\"st-lint-statement\"><code><span class=\"st-kw\">DROP</span>"), "{done}");
    let ds102 = done.find("DS102").unwrap_or_default();
    assert!(done.find("ST001").unwrap_or_default() < ds102 && ds102 < done.find("DS103").unwrap_or_default());

    let clean = LintFindings::default();
    let html = lint_body(&LintState::Done { findings: &clean, files: 3 });
    assert_eq!(text_of(&html), "No finding in 3 file(s).");
    assert!(!html.contains("<table"));

    let failed = lint_section("Lint", &LintState::Failed { message: "the module did not load", hint: "reload" });
    assert!(failed.contains("data-state=\"error\"") && failed.contains("role=\"alert\""), "{failed}");
    assert!(text_of(&failed).contains("Lint is not available: the module did not load"), "{failed}");
    assert_eq!(LintState::Loading.name(), "loading");
}

#[test]
fn version_and_diff_pages_have_a_lint_section_only_when_asked_and_with_files() {
    let d = dir_with_sum(&[("1_a.sql", "CREATE TABLE a (id int);\n")]);
    let p = VersionPage {
        dir: Some("app"),
        reference: "v1",
        version: None,
        directory: &d,
        dialect: Dialect::Sqlite,
        targets: &[],
        lint: true,
    };
    let html = version_page(&p);
    let lint = html.find("<section id=\"st-lint\"").expect("a lint section");
    assert!(lint < html.find("<article class=\"st-file\"").unwrap_or_default(), "before the files: {html}");
    assert!(html.contains("<h2>Files (1)</h2>"), "{html}");
    assert!(!version_page(&VersionPage { lint: false, ..p }).contains("st-lint"));
    let empty_dir = dir_with_sum(&[]);
    assert!(!version_page(&VersionPage { directory: &empty_dir, ..p }).contains("st-lint"), "nothing to lint");

    let added = VersionDiff { added: vec!["2_b.sql".into()], unchanged: 1, ..VersionDiff::default() };
    let html = diff_page("app", "v1", "v2", &added, true);
    assert!(html.contains("Lint of the added files") && html.contains("data-state=\"loading\""), "{html}");
    assert!(html.find("2_b.sql").unwrap_or_default() < html.find("st-lint").unwrap_or_default());
    assert!(!diff_page("app", "v1", "v2", &added, false).contains("st-lint"));
    let changed_only = VersionDiff {
        changed: vec![ChangedFile { name: "1_a.sql".into(), base: digest(1), head: digest(2) }],
        ..VersionDiff::default()
    };
    assert!(!diff_page("app", "v1", "v2", &changed_only, true).contains("st-lint"), "no file added");
}
