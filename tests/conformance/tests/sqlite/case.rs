//! Runs the `sqlite-*` cases of `atlas-apply` (one `case.json` each): the
//! case folder is copied to a scratch directory, the steps run in order
//! against real SQLite databases, and every `expect` matcher and `derived`
//! field is compared.

use super::cli::{self, resolve_url, CmdResult, DbSpec, Dbs, Env};
use super::driver::{db_message, Driver};
use super::matchers::{check, matches_derived};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strata_conformance::apply::{check_table_list, compare_revision, compare_revisions, mismatch, revision_from};

/// What a run of all cases found.
#[derive(Debug, Default)]
pub struct Summary {
    /// Cases run, with their steps and duration.
    pub ran: Vec<(String, usize, std::time::Duration)>,
    /// `(case, reason)` for each case not run.
    pub skipped: Vec<(String, String)>,
    /// One entry per mismatch.
    pub failures: Vec<String>,
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// Runs every case folder under `apply_root` (`.../atlas-apply`).
pub fn run_all(apply_root: &Path) -> Summary {
    let mut sum = Summary::default();
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(apply_root) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join("case.json").is_file()).collect(),
        Err(e) => {
            sum.failures.push(format!("cannot read {}: {e}", apply_root.display()));
            return sum;
        }
    };
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        let case: Value = match std::fs::read(dir.join("case.json"))
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                sum.failures.push(format!("{name}/case.json: {e}"));
                continue;
            }
        };
        let driver = s(&case, "driver").unwrap_or("?");
        let scope = s(&case, "scope").unwrap_or("?");
        match (driver, scope) {
            ("sqlite", "core") => {}
            ("postgres" | "mysql", _) => {
                sum.skipped.push((
                    name,
                    format!("needs a {driver} server, which this crate does not start (runs through the server hook)"),
                ));
                continue;
            }
            (_, "project-config") => {
                sum.skipped.push((name, "scope project-config: needs atlas.hcl evaluation (env, variables), which the emulated CLI does not have".into()));
                continue;
            }
            (_, "go-template-format") => {
                sum.skipped.push((
                    name,
                    "scope go-template-format: asserts a user-supplied Go text/template over the report".into(),
                ));
                continue;
            }
            _ => {
                sum.failures.push(format!("{name}: unknown driver/scope {driver}/{scope}"));
                continue;
            }
        }
        let started = Instant::now();
        let steps = run_case(&name, &dir, &case, &mut sum.failures);
        sum.ran.push((name, steps, started.elapsed()));
    }
    sum
}

/// A unique scratch directory for a case.
fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("strata-conformance-{}-{nanos}-{name}", std::process::id()))
}

/// Copies `from` into `to` recursively, leaving every copy writable (the
/// corpus is read-only).
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("mkdir {}: {e}", to.display()))?;
    for e in std::fs::read_dir(from).map_err(|e| format!("read {}: {e}", from.display()))? {
        let p = e.map_err(|e| e.to_string())?.path();
        let dest = to.join(p.file_name().ok_or("bad file name")?);
        if p.is_dir() {
            copy_dir(&p, &dest)?;
        } else {
            std::fs::copy(&p, &dest).map_err(|e| format!("copy {}: {e}", p.display()))?;
            make_writable(&dest)?;
        }
    }
    make_writable(to)
}

fn make_writable(p: &Path) -> Result<(), String> {
    let mut perm = std::fs::metadata(p).map_err(|e| e.to_string())?.permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(p, perm).map_err(|e| e.to_string())
}

/// The `--url` of an argv, if any.
fn url_of(argv: &[String]) -> Option<&str> {
    let i = argv.iter().position(|a| a == "--url" || a == "-u")?;
    argv.get(i + 1).map(String::as_str)
}

fn argv_of(step: &Value) -> Vec<String> {
    step["argv"].as_array().into_iter().flatten().map(|a| a.as_str().unwrap_or("").to_string()).collect()
}

/// Runs one case; returns the number of steps run.
fn run_case(name: &str, dir: &Path, case: &Value, failures: &mut Vec<String>) -> usize {
    let work = scratch(name);
    if let Err(e) = copy_dir(dir, &work) {
        failures.push(format!("{name}: cannot copy the case: {e}"));
        return 0;
    }
    let vars: HashMap<String, String> = case["vars"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
        .unwrap_or_default();
    let steps: Vec<Value> = case["steps"].as_array().cloned().unwrap_or_default();
    // Which database each `db` key stands for: the URL its atlas steps use.
    let mut db_keys: HashMap<String, DbSpec> = HashMap::new();
    for st in &steps {
        if let (Some(k), Some(u)) = (s(st, "db"), url_of(&argv_of(st))) {
            if let Ok(spec) = resolve_url(&work, u) {
                db_keys.entry(k.to_string()).or_insert(spec);
            }
        }
    }
    let db_of = |st: &Value| -> DbSpec {
        match s(st, "db") {
            Some(k) => {
                db_keys.get(k).cloned().unwrap_or_else(|| DbSpec::File { path: work.join(format!("{k}.db")), fk: true })
            }
            None => DbSpec::File { path: work.join("atlas.sqlite"), fk: true },
        }
    };
    let mut dbs = Dbs::default();
    let mut n = 0;
    for st in &steps {
        n += 1;
        let line = st["line"].as_u64().unwrap_or(0);
        let op = s(st, "op").unwrap_or("?");
        let label = match op {
            "atlas" => format!("{name} line {line} `atlas {}`", argv_of(st).join(" ")),
            _ => format!("{name} line {line} ({op})"),
        };
        let r = match op {
            "atlas" => {
                let argv = argv_of(st);
                let lock_held = s(st, "precondition").is_some_and(|p| p.contains("lock") || p.contains("Lock"));
                let res = {
                    let mut env = Env { work: &work, dbs: &mut dbs, vars: &vars, lock_held };
                    cli::run(&mut env, &argv)
                };
                let spec =
                    url_of(&argv).and_then(|u| resolve_url(&work, u).ok()).or_else(|| s(st, "db").map(|_| db_of(st)));
                check_atlas(&label, name, dir, &work, st, &res, spec.as_ref(), &mut dbs, failures);
                Ok(())
            }
            "fs" => fs_step(&work, st),
            "reset_db" => with_db(&mut dbs, &db_of(st), |d| {
                d.exec("PRAGMA foreign_keys = off")?;
                let tables = d.query_strings(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )?;
                for t in tables {
                    d.exec(&format!("DROP TABLE IF EXISTS `{}`", t.replace('`', "``")))?;
                }
                d.exec("PRAGMA foreign_keys = on")
            }),
            "sql" => with_db(&mut dbs, &db_of(st), |d| {
                for stmt in st["statements"].as_array().into_iter().flatten() {
                    d.exec(stmt.as_str().unwrap_or(""))?;
                }
                Ok(())
            }),
            "init_revisions_table" => with_db(&mut dbs, &db_of(st), |d| d.migrate_revisions_table()),
            "write_revision" => with_db(&mut dbs, &db_of(st), |d| d.upsert(&revision_from(&st["revision"])?)),
            "check_db" => {
                let spec = db_of(st);
                check_db(&label, dir, st, &spec, &mut dbs, failures)
            }
            other => Err(format!("unknown op {other:?}")),
        };
        if let Err(e) = r {
            failures.push(format!("{label}: {e}"));
        }
    }
    drop(dbs);
    if std::env::var_os("STRATA_KEEP_TMP").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        println!("kept {}", work.display());
    }
    n
}

fn with_db<T>(dbs: &mut Dbs, spec: &DbSpec, f: impl FnOnce(&Driver<'_>) -> Result<T, String>) -> Result<T, String> {
    let h = dbs.open(spec)?;
    let d = Driver::new(h.conn())?;
    f(&d)
}

fn fs_step(work: &Path, st: &Value) -> Result<(), String> {
    let p = |k: &str| -> Result<PathBuf, String> {
        s(st, k).map(|x| work.join(x)).ok_or_else(|| format!("fs step without {k}"))
    };
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    match s(st, "action") {
        Some("copy") => std::fs::copy(p("from")?, p("to")?).map(|_| ()).map_err(|e| io("copy", e)),
        Some("move") => std::fs::rename(p("from")?, p("to")?).map_err(|e| io("move", e)),
        Some("remove") => std::fs::remove_file(p("path")?).map_err(|e| io("remove", e)),
        Some("write") => {
            std::fs::copy(p("content_file")?, p("path")?).map_err(|e| io("write", e))?;
            for (path, content) in st["also_write"].as_object().into_iter().flatten() {
                std::fs::copy(work.join(content.as_str().unwrap_or("")), work.join(path))
                    .map_err(|e| io("also_write", e))?;
            }
            Ok(())
        }
        Some("copy_dir") => copy_dir(&p("from")?, &p("to")?),
        Some("replace_dir") => {
            let to = p("to")?;
            std::fs::remove_dir_all(&to).map_err(|e| io("replace_dir", e))?;
            copy_dir(&p("from")?, &to)
        }
        other => Err(format!("unknown fs action {other:?}")),
    }
}

/// Keys of `derived` that are explanations, not expectations.
const DERIVED_NOTES: &[&str] =
    &["verification", "why", "note", "placeholder_note", "db_after", "rows_note", "why_col_3_is_printed"];

#[allow(clippy::too_many_arguments)]
fn check_atlas(
    label: &str,
    name: &str,
    case_dir: &Path,
    work: &Path,
    st: &Value,
    res: &CmdResult,
    db: Option<&DbSpec>,
    dbs: &mut Dbs,
    failures: &mut Vec<String>,
) {
    let go = name.contains("-go-");
    let (stdout, stderr, combined) = (res.stdout(), res.stderr(), res.combined());
    let error = res.error.as_deref();
    let expect = &st["expect"];
    if let Some(code) = expect["exit_code"].as_i64() {
        if i64::from(res.exit_code) != code {
            failures.push(mismatch(
                label,
                "exit code",
                &code.to_string(),
                &format!("{}\n(output:\n{combined})", res.exit_code),
            ));
        }
    }
    for (key, text) in [("stdout", &stdout), ("stderr", &stderr), ("output", &combined)] {
        for m in expect[key].as_array().into_iter().flatten() {
            if let Some(f) = check(label, key, m, text) {
                failures.push(f);
            }
        }
    }
    if let Some(e) = expect.get("error") {
        let want = s(e, "text").or(s(e, "message")).unwrap_or("");
        if error != Some(want) {
            failures.push(mismatch(
                label,
                &format!("returned error ({})", s(e, "type").unwrap_or("?")),
                want,
                error.unwrap_or("(no error)"),
            ));
        }
    }
    for (path, want) in expect["files"].as_object().into_iter().flatten() {
        let want_path = case_dir.join(want.as_str().unwrap_or(""));
        match (std::fs::read(work.join(path)), std::fs::read(&want_path)) {
            (Ok(g), Ok(w)) if g == w => {}
            (Ok(g), Ok(w)) => failures.push(mismatch(
                label,
                &format!("file {path}"),
                &String::from_utf8_lossy(&w),
                &String::from_utf8_lossy(&g),
            )),
            (g, w) => failures.push(format!(
                "{label}: file {path}: {:?} / expected {}: {:?}",
                g.err(),
                want_path.display(),
                w.err()
            )),
        }
    }
    let Some(derived) = st.get("derived").and_then(Value::as_object) else { return };
    // Go tests have one buffer; testscripts separate the streams.
    let main_stream = if go { &combined } else { &stdout };
    let mut revisions = None;
    for (k, w) in derived {
        match k.as_str() {
            "exit_code" => {
                if w.as_i64() != Some(i64::from(res.exit_code)) {
                    failures.push(mismatch(label, "derived exit code", &w.to_string(), &res.exit_code.to_string()));
                }
            }
            "error" => {
                if error != w.as_str() {
                    failures.push(mismatch(
                        label,
                        "derived error",
                        w.as_str().unwrap_or("?"),
                        error.unwrap_or("(no error)"),
                    ));
                }
            }
            "output_text" | "output_text_shape" | "stdout_text" | "stderr_text" => {
                let got = match k.as_str() {
                    "stdout_text" => &stdout,
                    "stderr_text" => &stderr,
                    _ => &combined,
                };
                let want = w.as_str().unwrap_or("");
                match matches_derived(want, got) {
                    Ok(true) => {}
                    Ok(false) => failures.push(mismatch(
                        label,
                        &format!("derived {k} (<duration> = any Go duration)"),
                        want,
                        got,
                    )),
                    Err(e) => failures.push(format!("{label}: derived {k}: {e}")),
                }
            }
            "header" | "stdout_header" => {
                let first = main_stream.lines().next().unwrap_or("");
                if Some(first) != w.as_str() {
                    failures.push(mismatch(label, &format!("derived {k}"), w.as_str().unwrap_or("?"), first));
                }
            }
            "summary_lines" | "stdout_summary_lines" | "file_3_error_line" | "printed_statements" => {
                let lines: Vec<String> = match w {
                    Value::String(x) => vec![x.clone()],
                    v => v.as_array().into_iter().flatten().map(|x| x.as_str().unwrap_or("").to_string()).collect(),
                };
                for l in lines {
                    let l = if k == "printed_statements" { format!("    -> {l}") } else { l };
                    if !main_stream.lines().any(|x| x == l) {
                        failures.push(mismatch(label, &format!("derived {k}: a line"), &l, main_stream));
                    }
                }
            }
            "revisions_after" | "revisions_after_last" => {
                let Some(spec) = db else {
                    failures.push(format!("{label}: derived {k} but the step has no database"));
                    continue;
                };
                if revisions.is_none() {
                    revisions = Some(with_db(dbs, spec, |d| d.read_revisions_if_any()));
                }
                match revisions.as_ref() {
                    Some(Ok(revs)) if k == "revisions_after" => {
                        compare_revisions(&format!("{label} revisions after"), w, revs, failures)
                    }
                    Some(Ok(revs)) => match revs.last() {
                        Some(r) => compare_revision(&format!("{label} last revision after"), w, r, failures),
                        None => failures.push(mismatch(label, "last revision after", &w.to_string(), "(none)")),
                    },
                    Some(Err(e)) => failures.push(format!("{label}: reading revisions: {e}")),
                    None => {}
                }
            }
            k if DERIVED_NOTES.contains(&k) => {}
            other => failures.push(format!("{label}: unknown derived field {other:?} (harness does not check it)")),
        }
    }
}

/// Keys of `check_db` steps that describe, not assert.
const CHECK_NOTES: &[&str] = &[
    "op",
    "line",
    "db",
    "what",
    "compare",
    "via",
    "argv",
    "note",
    "cmp_line",
    "expected_file_compare",
    "upstream_expected_output",
    "revisions_count_line",
];

fn check_db(
    label: &str,
    case_dir: &Path,
    st: &Value,
    spec: &DbSpec,
    dbs: &mut Dbs,
    failures: &mut Vec<String>,
) -> Result<(), String> {
    let h = dbs.open(spec)?;
    let d = Driver::new(h.conn())?;
    let tables = d.query_strings(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let obj = st.as_object().ok_or("check_db step is not an object")?;
    let via_inspect = s(st, "via").is_some_and(|v| v.starts_with("atlas schema inspect"));
    for (k, w) in obj {
        match k.as_str() {
            "tables" if !via_inspect => {
                let want = std::fs::read_to_string(
                    case_dir.join(s(st, "expected_file").ok_or("tables without expected_file")?),
                )
                .map_err(|e| format!("expected_file: {e}"))?;
                for t in w.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    let got: Option<String> = d
                        .conn
                        .query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1", [t], |r| {
                            r.get(0)
                        })
                        .ok();
                    let got = got.unwrap_or_else(|| "(table missing)".into());
                    if got.trim() != want.trim() {
                        failures.push(mismatch(label, &format!("definition of table {t}"), want.trim(), got.trim()));
                    }
                }
            }
            "expected_file" => {}
            "expect_tables" | "tables_exactly" => {
                check_table_list(label, st, k, w, &tables, failures);
            }
            "query" => {
                let q = w.as_str().unwrap_or("");
                let got: Result<i64, String> = d.conn.query_row(q, [], |r| r.get(0)).map_err(|e| db_message(&e));
                match (got, st.get("equals").and_then(Value::as_i64)) {
                    (Ok(g), Some(e)) if g == e => {}
                    (g, e) => {
                        failures.push(mismatch(label, &format!("query {q}"), &format!("{e:?}"), &format!("{g:?}")))
                    }
                }
            }
            "equals" => {}
            "table_exists" => {
                let t = w.as_str().unwrap_or("");
                if !tables.iter().any(|x| x == t) {
                    failures.push(mismatch(label, "table exists", t, &tables.join(", ")));
                }
            }
            "column_absent" => {
                for (t, cols) in w.as_object().into_iter().flatten() {
                    let cols: Vec<&str> = match cols {
                        Value::String(c) => vec![c.as_str()],
                        v => v.as_array().into_iter().flatten().filter_map(Value::as_str).collect(),
                    };
                    let have =
                        d.query_strings(&format!("SELECT name FROM pragma_table_info('{}')", t.replace('\'', "''")))?;
                    for c in cols {
                        if have.iter().any(|h| h == c) {
                            failures.push(mismatch(
                                label,
                                &format!("column {t}.{c} absent"),
                                "absent",
                                &have.join(", "),
                            ));
                        }
                    }
                }
            }
            "revisions_count" => {
                let n = d.read_revisions_if_any()?.len();
                if w.as_u64() != Some(n as u64) {
                    failures.push(mismatch(label, "revisions count", &w.to_string(), &n.to_string()));
                }
            }
            "schema_absent" => return Err("schema_absent is a PostgreSQL check".into()),
            k if CHECK_NOTES.contains(&k) || (k == "tables" && via_inspect) => {}
            other => failures.push(format!("{label}: unknown check_db field {other:?}")),
        }
    }
    Ok(())
}
