//! The preview: what is new, what rewrites history, the sum, lint, the
//! target's plan, exit codes, and the comment's size limit.

use super::*;
use crate::lex::Dialect;
use crate::test_util::dir_with_sum;

const INIT: (&str, &str) = ("1_init.sql", "CREATE TABLE users (id int NOT NULL, name text);\n");

fn base() -> Directory {
    dir_with_sum(&[INIT])
}

fn opts() -> PreviewOptions {
    PreviewOptions { base_version: Some("sha256:abc".into()), ..PreviewOptions::new("app", "app@latest") }
}

fn codes(p: &Preview<'_>) -> Vec<&'static str> {
    p.problems.iter().map(|x| x.error.code).collect()
}

#[test]
fn a_clean_new_file_exits_0_and_shows_its_statements() {
    let local = dir_with_sum(&[INIT, ("2_posts.sql", "CREATE TABLE posts (id int);\nINSERT INTO posts VALUES (1);\n")]);
    let p = preview(&local, Some(&base()), &opts());
    assert_eq!(p.exit_code(), 0, "{:?}", p.problems);
    assert_eq!((p.errors, p.warnings, p.unchanged), (0, 0, 1));
    assert!(p.sum_ok && p.base.found);
    assert_eq!(p.new_files.len(), 1);
    assert_eq!(p.new_files[0].name, "2_posts.sql");
    let lines: Vec<_> = p.new_files[0].statements.iter().map(|s| (s.line, s.text)).collect();
    assert_eq!(lines, [(1, "CREATE TABLE posts (id int);"), (2, "INSERT INTO posts VALUES (1);")]);
    let md = p.to_markdown();
    assert!(md.starts_with("<!-- strata:preview app -->\n### Migration preview: `app` against `app@latest`\n"), "{md}");
    assert!(md.contains("✅ **No problems found.**"), "{md}");
    assert!(md.contains("**1 file, 2 statements** new against `app@latest` (`sha256:abc`, 1 file)"), "{md}");
    assert!(md.contains("-- line 2\nINSERT INTO posts VALUES (1);"), "{md}");
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["format"], "strata.preview/v1");
    assert_eq!(json["exitCode"], 0);
    assert_eq!(json["newFiles"][0]["statements"][1]["line"], 2);
    assert_eq!(json["base"]["version"], "sha256:abc");
    let text = p.to_text();
    assert!(text.starts_with("Preview of app against app@latest (sha256:abc, 1 file)\n"), "{text}");
    assert!(text.ends_with("\n0 errors, 0 warnings\n"), "{text}");
}

#[test]
fn changing_or_removing_a_file_of_the_base_rewrites_history() {
    let base = dir_with_sum(&[INIT, ("2_posts.sql", "CREATE TABLE posts (id int);\n")]);
    let local = dir_with_sum(&[("1_init.sql", "CREATE TABLE users (id bigint);\n")]);
    let p = preview(&local, Some(&base), &opts());
    assert_eq!(p.exit_code(), 1);
    assert_eq!(codes(&p), ["history-rewritten", "history-rewritten"]);
    assert_eq!(p.changed, ["1_init.sql"]);
    assert_eq!(p.removed, ["2_posts.sql"]);
    assert_eq!(p.problems[0].error.file.as_deref(), Some("1_init.sql"));
    assert!(p.problems[0].error.message.contains("app@latest already has it"), "{:?}", p.problems[0]);
    assert!(p.problems[1].error.hint.starts_with("restore the file"));
    let md = p.to_markdown();
    assert!(md.contains("❌ **2 errors.**"), "{md}");
    assert!(md.contains("- ❌ error `history-rewritten` `2_posts.sql`: 2\\_posts.sql was removed"), "{md}");
}

#[test]
fn a_new_file_below_the_bases_last_file_is_out_of_order() {
    let base = dir_with_sum(&[INIT, ("3_c.sql", "SELECT 3;\n")]);
    let local =
        dir_with_sum(&[INIT, ("2_b.sql", "SELECT 2;\n"), ("3_c.sql", "SELECT 3;\n"), ("4_d.sql", "SELECT 4;\n")]);
    let p = preview(&local, Some(&base), &opts());
    assert_eq!(codes(&p), ["out-of-order"]);
    assert!(p.problems[0].error.message.starts_with("2_b.sql sorts before 3_c.sql, the last file of app@latest"));
    assert_eq!(
        p.new_files.iter().map(|f| (f.name, f.out_of_order)).collect::<Vec<_>>(),
        [("2_b.sql", true), ("4_d.sql", false)]
    );
    assert_eq!(p.exit_code(), 1);
}

#[test]
fn an_invalid_or_missing_sum_is_an_error() {
    let mut local =
        Directory::new([INIT, ("2_b.sql", "SELECT 2;\n")].map(|(n, c)| (n, c.as_bytes().to_vec()))).unwrap();
    let p = preview(&local, Some(&base()), &opts());
    assert!(!p.sum_ok);
    assert_eq!(codes(&p), ["checksum-file-not-found"]);
    assert!(p.problems[0].error.hint.contains("strata hash"));
    // A sum that was not updated after adding a file.
    let stale = base().sum_file().unwrap().to_vec();
    local = Directory::new(
        [INIT, ("2_b.sql", "SELECT 2;\n")]
            .map(|(n, c)| (n, c.as_bytes().to_vec()))
            .into_iter()
            .chain([("atlas.sum", stale)]),
    )
    .unwrap();
    let p = preview(&local, Some(&base()), &opts());
    assert_eq!(codes(&p), ["checksum-mismatch"]);
    assert_eq!(p.exit_code(), 1);
    assert!(p.to_markdown().contains("`atlas.sum`: **invalid**"));
}

#[test]
fn a_missing_base_makes_every_file_new_with_a_warning() {
    let local = dir_with_sum(&[INIT, ("2_b.sql", "SELECT 2;\n")]);
    let p = preview(&local, None, &PreviewOptions::new("app", "app@prod"));
    assert_eq!(codes(&p), ["base-missing"]);
    assert_eq!(p.new_files.len(), 2);
    assert_eq!(p.exit_code(), 4);
    assert!(!p.base.found);
    // Nothing exists before the first file: its table is not "existing".
    assert!(p.lint.findings.is_empty(), "{:?}", p.lint.findings);
    assert!(p.to_markdown().contains("`app@prod` (does not exist yet)"));
}

#[test]
fn lint_runs_on_the_new_files_with_the_base_as_the_existing_schema() {
    let warn = dir_with_sum(&[INIT, ("2_email.sql", "ALTER TABLE users ADD COLUMN email text NOT NULL;\n")]);
    let p = preview(&warn, Some(&base()), &opts());
    assert_eq!(p.lint.findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), ["MF103"]);
    assert_eq!((p.errors, p.warnings, p.exit_code()), (0, 1, 4));
    let md = p.to_markdown();
    assert!(md.contains("⚠️ **1 warning**, no errors."), "{md}");
    assert!(md.contains("| ⚠️ warning | `MF103` | `2_email.sql:1` |"), "{md}");
    assert!(md.contains("<details open><summary><code>2_email.sql</code> · 1 statement · 1 finding</summary>"), "{md}");

    let error = dir_with_sum(&[INIT, ("2_drop.sql", "DROP TABLE users;\n")]);
    let p = preview(&error, Some(&base()), &opts());
    assert_eq!(p.lint.findings[0].code, "DS102");
    assert_eq!(p.exit_code(), 1);
    assert!(p.to_text().contains("  2_drop.sql:1: error DS102 (destructive): Dropping table \"users\"\n    hint: "));

    // The same drop of a table created in the same new file is fine.
    let fine = dir_with_sum(&[INIT, ("2_tmp.sql", "CREATE TABLE tmp (id int);\nDROP TABLE tmp;\n")]);
    assert_eq!(preview(&fine, Some(&base()), &opts()).exit_code(), 0);
}

fn with_target(state: DbState, dialect: Dialect) -> PreviewOptions {
    PreviewOptions {
        target: Some(TargetInput { name: "prod".into(), dialect, state, options: PlanOptions::default() }),
        ..opts()
    }
}

#[test]
fn a_target_shows_what_would_run_there_now() {
    let local = dir_with_sum(&[INIT, ("2_b.sql", "CREATE TABLE b (id int);\n")]);
    let p = preview(&local, Some(&base()), &with_target(DbState::default(), Dialect::Generic));
    let plan = p.target.as_ref().unwrap().plan.as_ref().unwrap();
    // An empty database runs both files, not only the new one.
    assert_eq!(plan.files.len(), 2);
    assert_eq!(p.exit_code(), 0);
    let md = p.to_markdown();
    assert!(
        md.contains("#### On target `prod` now\n\n**2 files, 2 statements** to apply, from an empty database"),
        "{md}"
    );
    assert!(p.to_text().contains("\nOn target prod now:\n"));

    let dirty = DbState { not_clean: Some("found table \"users\"".into()), ..DbState::default() };
    let p = preview(&local, Some(&base()), &with_target(dirty, Dialect::Generic));
    assert!(p.target.as_ref().unwrap().plan.is_none());
    assert_eq!(p.exit_code(), 1);
    assert!(p.problems[0].error.message.starts_with("on target prod: "), "{:?}", p.problems);

    let p = preview(&local, Some(&base()), &with_target(DbState::default(), Dialect::Postgres));
    assert_eq!(codes(&p), ["dialect-mismatch"]);
    assert!(p.problems[0].error.hint.contains("--dialect postgres"));

    // A sum that does not match is one error, not again as the target's refusal.
    let unsummed = Directory::new([INIT, ("2_b.sql", "SELECT 2;\n")].map(|(n, c)| (n, c.as_bytes().to_vec()))).unwrap();
    let p = preview(&unsummed, Some(&base()), &with_target(DbState::default(), Dialect::Generic));
    assert_eq!(codes(&p), ["checksum-file-not-found"]);
    assert!(p.target.as_ref().unwrap().plan.is_none());
}

#[test]
fn the_marker_cannot_end_the_comment() {
    assert_eq!(marker("a--b-"), "<!-- strata:preview a--b- -->");
    assert_eq!(marker("x-->y\nz"), "<!-- strata:preview x---y-z -->");
}

/// Every byte of `md` after the marker line, with GitHub's limit checked.
fn within_limit(md: &str) {
    assert!(md.len() <= COMMENT_LIMIT, "{} bytes", md.len());
    assert!(md.starts_with("<!-- strata:preview app -->\n"));
    assert!(md.ends_with("<sub>strata plan preview</sub>\n"), "{}", &md[md.len().saturating_sub(300)..]);
}

#[test]
fn a_5_mb_migration_fits_in_one_comment() {
    let row = "INSERT INTO users (id, name) VALUES (1, 'a name that takes some room');\n";
    let big: String = row.repeat(5 * 1024 * 1024 / row.len() + 1);
    let one_statement = format!("INSERT INTO users (id, name) VALUES {};\n", "(1, 'x'), ".repeat(300_000) + "(2, 'y')");
    let local =
        dir_with_sum(&[INIT, ("2_big.sql", &big), ("3_one.sql", &one_statement), ("4_small.sql", "SELECT 4;\n")]);
    assert!(big.len() > 5_000_000);
    let p = preview(&local, Some(&base()), &opts());
    assert_eq!(p.new_files[0].statements.len(), big.lines().count());
    let md = p.to_markdown();
    within_limit(&md);
    assert!(md.contains(" more statements not shown\n```"), "statements left out are counted");
    let cut = format!("\n-- … cut: the statement is {} bytes long\n```", one_statement.trim_end().len());
    assert!(md.contains(&cut), "{cut}");
    // The small file after the big ones is still shown in full.
    assert!(md.contains("-- line 1\nSELECT 4;\n"));
    assert!(
        md.contains("Not shown, to stay under GitHub's 65536-character limit: part of the SQL of 2 files."),
        "{md}"
    );
    // The text keeps everything.
    assert!(p.to_text().len() > big.len() + one_statement.len());
}

#[test]
fn thousands_of_files_and_findings_are_summarised() {
    let names: Vec<String> = (0..3_000).map(|i| format!("2{i:05}_drop.sql")).collect();
    let mut files = vec![INIT];
    let sql = "ALTER TABLE users DROP COLUMN name;\nALTER TABLE users ADD COLUMN name text;\n";
    files.extend(names.iter().map(|n| (n.as_str(), sql)));
    let local = dir_with_sum(&files);
    let p = preview(&local, Some(&base()), &with_target(DbState::default(), Dialect::Generic));
    assert_eq!(p.lint.findings.len(), 3_000);
    let md = p.to_markdown();
    within_limit(&md);
    let shown = md.matches("| ❌ error | `DS103` |").count();
    assert!(shown > 10 && shown < 3_000, "{shown}");
    assert!(md.contains(&format!("| | | | … and {} more findings | |", 3_000 - shown)), "{md}");
    assert!(md.contains("more files | | | |"), "the target's table is cut");
    assert!(md.contains("new files"), "files that did not fit are counted");
    // Many removed files: the problems are cut too.
    let only_init = dir_with_sum(&[INIT]);
    let p = preview(&only_init, Some(&local), &opts());
    assert_eq!(p.problems.len(), 3_000);
    let md = p.to_markdown();
    within_limit(&md);
    assert!(md.contains("more problems\n"), "{md}");
}

#[test]
fn hostile_names_and_sql_stay_inside_their_blocks() {
    let sql = "SELECT '```\n</details><script>alert(1)</script>\n<!-- x -->';\n";
    let local = dir_with_sum(&[INIT, ("2_<b>`|x.sql", sql)]);
    let p = preview(&local, Some(&base()), &opts());
    let md = p.to_markdown();
    assert!(md.contains("<summary><code>2_&lt;b&gt;`|x.sql</code>"), "{md}");
    // The block's fence is longer than any backtick run inside.
    assert!(md.contains("````sql\n-- line 1\nSELECT '```\n</details><script>"), "{md}");
    assert_eq!(md.matches("<!--").count(), 2, "the marker and the SQL's own comment inside the code block");
}

#[test]
fn a_small_limit_is_never_exceeded() {
    let local = dir_with_sum(&[INIT, ("2_drop.sql", &"DROP TABLE users;\n".repeat(2_000))]);
    let p = preview(&local, Some(&base()), &opts());
    for limit in [4_096, 10_000, 30_000] {
        let md = markdown::render(&p, limit);
        assert!(md.len() <= limit, "{limit}: {}", md.len());
        assert!(md.starts_with("<!-- strata:preview app -->\n"));
    }
}
