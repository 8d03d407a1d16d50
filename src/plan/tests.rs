use super::*;
use crate::report::apply_text;
use crate::test_util::dir_with_sum as dir;

fn rev(v: &str) -> Revision {
    Revision { version: v.into(), kind: RevisionType::EXECUTE, ..Revision::default() }
}

fn names(p: &Plan) -> Vec<&str> {
    p.files.iter().map(|f| f.name.as_str()).collect()
}

/// Runs `plan` on a list of revision rows; `fail` names the statement text
/// whose execution fails. Returns the steps taken, the rows and the
/// executor.
fn run(plan: Plan, rows: &mut Vec<Revision>, fail: Option<&str>) -> (Vec<String>, Executor) {
    let mut ex = Executor::new(plan, ExecOptions { operator_version: "test".into(), dry_run: false }, 0);
    let mut steps = Vec::new();
    let mut snapshot = None;
    let mut t = 0;
    loop {
        t += 1_000_000;
        let outcome = match ex.next() {
            Step::Done => break,
            Step::Begin => {
                steps.push("begin".to_string());
                snapshot = Some(rows.clone());
                Outcome::Ok
            }
            Step::Commit => {
                steps.push("commit".into());
                snapshot = None;
                Outcome::Ok
            }
            Step::Rollback => {
                steps.push("rollback".into());
                *rows = snapshot.take().unwrap();
                Outcome::Ok
            }
            Step::Execute { sql, .. } => {
                steps.push(format!("exec {sql}"));
                if Some(sql) == fail {
                    Outcome::Err("boom".into())
                } else {
                    Outcome::Ok
                }
            }
            Step::WriteRevision(r) => {
                steps.push(format!("write {} {}/{}", r.version, r.applied, r.total));
                match rows.iter_mut().find(|x| x.version == r.version) {
                    Some(x) => x.update_from(r),
                    None => rows.push(r.clone()),
                }
                Outcome::Ok
            }
        };
        ex.record(outcome, t);
    }
    (steps, ex)
}

#[test]
fn exec_order_examples_from_the_spec() {
    let d = dir(&[("1.sql", ""), ("2.sql", ""), ("2.5.sql", ""), ("2.6.sql", ""), ("3.sql", ""), ("4.sql", "")]);
    let state = DbState { revisions: vec![rev("1"), rev("2"), rev("3")], ..DbState::default() };
    let opts = |o| PlanOptions { exec_order: o, ..PlanOptions::default() };
    let e = plan(&d, &state, &opts(ExecOrder::Linear)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "migration files 2.5.sql, 2.6.sql were added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error"
    );
    assert_eq!(e.file(), Some("2.5.sql"));
    let p = plan(&d, &state, &opts(ExecOrder::NonLinear)).unwrap();
    assert_eq!(names(&p), ["2.5.sql", "2.6.sql", "4.sql"]);
    assert!(p.files[0].out_of_order && !p.files[2].out_of_order);
    let p = plan(&d, &state, &opts(ExecOrder::LinearSkip)).unwrap();
    assert_eq!(names(&p), ["4.sql"]);
}

#[test]
fn first_run_checks_cleanliness_and_baseline() {
    let d = dir(&[("1_a.sql", "CREATE TABLE a(x int);"), ("2_b.sql", "CREATE TABLE b(x int);")]);
    let dirty = DbState { not_clean: Some("found table \"t\"".into()), ..DbState::default() };
    let e = plan(&d, &dirty, &PlanOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sql/migrate: connected database is not clean: found table \"t\". baseline version or allow-dirty is required"
    );
    let p = plan(&d, &dirty, &PlanOptions { allow_dirty: true, ..PlanOptions::default() }).unwrap();
    assert_eq!(names(&p), ["1_a.sql", "2_b.sql"]);
    let p = plan(&d, &dirty, &PlanOptions { baseline: Some("1".into()), ..PlanOptions::default() }).unwrap();
    assert_eq!(names(&p), ["2_b.sql"]);
    assert_eq!(p.current.as_deref(), Some("1"));
    let b = p.baseline.as_ref().unwrap();
    assert_eq!((b.version.as_str(), b.description.as_str(), b.kind), ("1", "a", RevisionType::BASELINE));
    // The executor writes it stamped as Atlas's `writeRevision` does.
    let ex = Executor::new(p.clone(), ExecOptions { operator_version: "op".into(), dry_run: false }, 1_500_000_000);
    let Step::WriteRevision(w) = ex.next() else { panic!("{:?}", ex.next()) };
    assert_eq!((w.version.as_str(), w.kind, w.operator_version.as_str()), ("1", RevisionType::BASELINE, "op"));
    assert_eq!(w.executed_at, crate::report::rfc3339(1_500_000_000));
    let e = plan(&d, &dirty, &PlanOptions { baseline: Some("9".into()), ..PlanOptions::default() }).unwrap_err();
    assert_eq!(e.to_string(), "baseline version \"9\" not found");
}

#[test]
fn executor_writes_atlas_rows_and_commits_per_file() {
    let d = dir(&[("1_a.sql", "CREATE TABLE a(x int);\nCREATE TABLE b(x int);\n")]);
    let p = plan(&d, &DbState::default(), &PlanOptions::default()).unwrap();
    let h = p.files[0].statements.iter().map(|s| s.hash.clone()).collect::<Vec<_>>();
    let mut rows = Vec::new();
    let (steps, ex) = run(p, &mut rows, None);
    assert_eq!(
        steps,
        [
            "begin",
            "write 1 0/2",
            "exec CREATE TABLE a(x int);",
            "write 1 1/2",
            "exec CREATE TABLE b(x int);",
            "write 1 2/2",
            "write 1 2/2",
            "commit"
        ]
    );
    assert_eq!(ex.error(), None);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].partial_hashes, None);
    assert_eq!(rows[0].hash, d.checksum().hash_of("1_a.sql").unwrap());
    assert_eq!(rows[0].operator_version, "test");
    assert!(h[0].starts_with("h1:") && h[0] != h[1]);
    let text = apply_text(ex.report());
    assert!(text.starts_with("Migrating to version 1 (1 migrations in total):\n"), "{text}");
    assert!(text.ends_with("  -- 1 migration\n  -- 2 sql statements\n"), "{text}");
}

#[test]
fn failure_mid_file_without_transaction_leaves_a_partial_row_and_resumes() {
    let v1 = "-- atlas:txmode none\n\nCREATE TABLE a(x int);\nBROKEN;\nCREATE TABLE c(x int);\n";
    let d = dir(&[("1_a.sql", v1)]);
    let p = plan(&d, &DbState::default(), &PlanOptions::default()).unwrap();
    assert_eq!(p.files[0].tx_mode, TxMode::None);
    let mut rows = Vec::new();
    let (steps, ex) = run(p, &mut rows, Some("BROKEN;"));
    assert!(!steps.contains(&"begin".to_string()));
    assert_eq!(ex.error(), Some("sql/migrate: executing statement \"BROKEN;\" from version \"1\": boom"));
    assert_eq!((rows[0].applied, rows[0].total), (1, 3));
    assert_eq!(rows[0].error, "boom");
    assert_eq!(rows[0].error_stmt, "BROKEN;");
    assert_eq!(rows[0].partial_hashes.as_ref().map(Vec::len), Some(1));

    // Fix the unapplied part: resume at statement 2.
    let d = dir(&[("1_a.sql", &v1.replace("BROKEN;", "CREATE TABLE b(x int);"))]);
    let state = DbState { revisions: rows.clone(), ..DbState::default() };
    let p = plan(&d, &state, &PlanOptions::default()).unwrap();
    assert_eq!(p.files[0].skip, 1);
    assert_eq!(p.current.as_deref(), Some("1"));
    let (steps, ex) = run(p, &mut rows, None);
    assert_eq!(ex.error(), None);
    assert_eq!(steps.iter().filter(|s| s.starts_with("exec")).count(), 2);
    assert_eq!((rows[0].applied, rows[0].total, rows[0].error.as_str()), (3, 3, ""));
    assert!(plan(&d, &DbState { revisions: rows, ..DbState::default() }, &PlanOptions::default()).unwrap().is_empty());
}

#[test]
fn editing_an_applied_statement_of_a_partial_file_is_refused() {
    let v1 = "-- atlas:txmode none\n\nCREATE TABLE a(x int);\nBROKEN;\n";
    let d = dir(&[("1_a.sql", v1)]);
    let p = plan(&d, &DbState::default(), &PlanOptions::default()).unwrap();
    let mut rows = Vec::new();
    run(p, &mut rows, Some("BROKEN;"));
    let d = dir(&[("1_a.sql", "-- atlas:txmode none\n\nCREATE TABLE z(x int);\nSELECT 1;\n")]);
    let p = plan(&d, &DbState { revisions: rows.clone(), ..DbState::default() }, &PlanOptions::default()).unwrap();
    let (f, e) = p.first_error().unwrap();
    assert_eq!(f.name, "1_a.sql");
    assert_eq!(e.to_string(), "sql/migrate: history changed: statement 1 from file \"1_a.sql\" changed");
    assert_eq!(e.to_error().line, Some(3));
    let (steps, ex) = run(p, &mut rows, None);
    assert!(steps.iter().all(|s| !s.starts_with("exec")), "{steps:?}");
    assert_eq!(ex.error(), Some("sql/migrate: history changed: statement 1 from file \"1_a.sql\" changed"));
}

#[test]
fn digest_covers_directory_revisions_and_options() {
    let d = dir(&[("1_a.sql", "SELECT 1;"), ("2_b.sql", "SELECT 2;")]);
    let s0 = DbState { revisions: vec![rev("1")], ..DbState::default() };
    let o = PlanOptions::default();
    let base = plan(&d, &s0, &o).unwrap().digest;
    assert_eq!(base, plan(&d, &s0, &o).unwrap().digest);
    assert_eq!(base.len(), 71);
    let mut s1 = s0.clone();
    s1.revisions[0].error = "x".into();
    assert_ne!(base, plan(&d, &s1, &o).unwrap().digest);
    let d2 = dir(&[("1_a.sql", "SELECT 1;"), ("2_b.sql", "SELECT 3;")]);
    assert_ne!(base, plan(&d2, &s0, &o).unwrap().digest);
    let o2 = PlanOptions { tx_mode: TxMode::All, ..PlanOptions::default() };
    assert_ne!(base, plan(&d, &s0, &o2).unwrap().digest);
    // Times and operators are not part of it.
    let mut s3 = s0.clone();
    s3.revisions[0].executed_at = "2024-01-01T00:00:00Z".into();
    s3.revisions[0].operator_version = "Atlas CLI v0.30.0".into();
    assert_eq!(base, plan(&d, &s3, &o).unwrap().digest);
}

#[test]
fn to_version_and_amount_cut_the_plan() {
    let d = dir(&[("1.sql", "SELECT 1;"), ("2.sql", "SELECT 2;"), ("3.sql", "SELECT 3;")]);
    let s = DbState::default();
    let p = plan(&d, &s, &PlanOptions { to_version: Some("2".into()), ..PlanOptions::default() }).unwrap();
    assert_eq!(names(&p), ["1.sql", "2.sql"]);
    let p = plan(&d, &s, &PlanOptions { amount: Some(1), ..PlanOptions::default() }).unwrap();
    assert_eq!(names(&p), ["1.sql"]);
    let e = plan(&d, &s, &PlanOptions { to_version: Some("3.sql".into()), ..PlanOptions::default() }).unwrap_err();
    assert_eq!(e.to_string(), "sql/migrate: migration with version \"3.sql\" not found. Did you mean \"3\"?");
    let e = plan(&d, &s, &PlanOptions { amount: Some(0), ..PlanOptions::default() }).unwrap_err();
    assert_eq!(e.to_string(), "cannot apply '0' migration files");
}

#[test]
fn tx_mode_all_with_a_file_directive_stops_at_that_file() {
    let d = dir(&[("1_a.sql", "SELECT 1;"), ("2_b.sql", "-- atlas:txmode none\n\nSELECT 2;")]);
    let p = plan(&d, &DbState::default(), &PlanOptions { tx_mode: TxMode::All, ..PlanOptions::default() }).unwrap();
    assert!(p.files[0].error.is_none());
    let mut rows = Vec::new();
    let (steps, ex) = run(p, &mut rows, None);
    assert_eq!(steps.first().map(String::as_str), Some("begin"));
    assert_eq!(steps.last().map(String::as_str), Some("rollback"));
    assert!(rows.is_empty());
    assert_eq!(
        ex.error(),
        Some("cannot set txmode directive to \"none\" in \"2_b.sql\" when txmode \"all\" is set globally")
    );
    let text = apply_text(ex.report());
    assert!(text.contains("  -- ok (-2562047h47m16.854775808s)\n"), "{text}");
}

#[test]
fn dry_run_asks_the_driver_for_nothing() {
    let d = dir(&[("1_a.sql", "SELECT 1;\nSELECT 2;")]);
    let p = plan(&d, &DbState::default(), &PlanOptions::default()).unwrap();
    let ex = Executor::new(p, ExecOptions { operator_version: "t".into(), dry_run: true }, 5);
    assert_eq!(ex.next(), Step::Done);
    assert_eq!(ex.error(), None);
    let r = ex.report();
    assert!(r.dry_run);
    assert_eq!(r.applied[0].statements.len(), 2);
    assert!(apply_text(r).contains("  -- ok (0s)\n"));
}

#[test]
fn a_resumed_file_whose_statement_count_changed_completes_its_row() {
    // Fails at statement 2 of 3 without a transaction, then the fix drops
    // the third statement: the row is complete afterwards (Atlas would keep
    // total = 3 and fail on this row on every later run).
    let v1 = "-- atlas:txmode none\n\nCREATE TABLE a(x int);\nBROKEN;\nCREATE TABLE c(x int);\n";
    let d = dir(&[("1_a.sql", v1)]);
    let mut rows = Vec::new();
    run(plan(&d, &DbState::default(), &PlanOptions::default()).unwrap(), &mut rows, Some("BROKEN;"));
    assert_eq!((rows[0].applied, rows[0].total), (1, 3));
    let d = dir(&[("1_a.sql", "-- atlas:txmode none\n\nCREATE TABLE a(x int);\nCREATE TABLE b(x int);\n")]);
    let p = plan(&d, &DbState { revisions: rows.clone(), ..DbState::default() }, &PlanOptions::default()).unwrap();
    let (_, ex) = run(p, &mut rows, None);
    assert_eq!(ex.error(), None);
    assert_eq!((rows[0].applied, rows[0].total, rows[0].partial_hashes.as_ref()), (2, 2, None));
    assert!(plan(&d, &DbState { revisions: rows, ..DbState::default() }, &PlanOptions::default()).unwrap().is_empty());
}

#[test]
fn a_row_claiming_every_statement_applied_renders_without_overflow() {
    // Found by the `plan` fuzz target: `applied` is a u64 (a bigint column),
    // so a partial row may claim up to u64::MAX applied statements; on
    // 32-bit targets any count above u32::MAX clamps to usize::MAX. The
    // plan refuses the file, and its notes must still render.
    let d = dir(&[("1_a.sql", "SELECT 1;\nSELECT 2;\n")]);
    for applied in [u64::MAX, i64::MAX as u64] {
        let row = Revision { applied, total: 2, ..rev("1") };
        let p = plan(&d, &DbState { revisions: vec![row], ..DbState::default() }, &PlanOptions::default()).unwrap();
        let skip = usize::try_from(applied).unwrap_or(usize::MAX);
        assert_eq!(p.files[0].skip, skip);
        assert!(matches!(p.files[0].error, Some(PlanError::HistoryChanged { statement: 1, .. })));
        let note = format!("resumes at statement {} of 2", skip as u128 + 1);
        assert!(crate::report::plan_text(&p).contains(&note), "{}", crate::report::plan_text(&p));
        assert!(crate::report::plan_markdown(&p).contains(&note));
    }
}
