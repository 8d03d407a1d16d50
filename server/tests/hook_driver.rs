//! The hook's driver on real databases: SQLite always (temp files),
//! PostgreSQL when `STRATA_TEST_METADATA` (an admin URL) is set, with a
//! fresh database per test. Without it the PostgreSQL tests print a note
//! and pass.

mod common;

use sqlx::{Connection, Row};
use std::path::Path;
use std::time::Duration;
use strata::dir::{DirOptions, Directory};
use strata::plan::{PlanOptions, TxMode};
use strata::sum::SumFile;
use strata_server::hook::{apply, read_state, ApplyOptions, Event, HookErrorKind, Target};

/// A directory of `files` with its computed `atlas.sum`, split for `target`.
fn dir(target: &Target, files: &[(&str, &str)]) -> Directory {
    let mut files = files.to_vec();
    files.sort_by_key(|(n, _)| n.to_string());
    let sum = SumFile::compute(files.iter().map(|(n, c)| (*n, c.as_bytes()))).render();
    Directory::with_options(
        files
            .iter()
            .map(|(n, c)| (n.to_string(), c.as_bytes().to_vec()))
            .chain([("atlas.sum".to_string(), sum.into_bytes())]),
        DirOptions { dialect: target.dialect().lex(), ..DirOptions::default() },
    )
    .expect("directory")
}

/// The example directory, as the registry stores it.
fn example_dir(target: &Target) -> Directory {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/migrations");
    let entries = std::fs::read_dir(&root).expect("examples/migrations").map(|e| {
        let e = e.expect("entry");
        (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).expect("read"))
    });
    Directory::with_options(entries, DirOptions { dialect: target.dialect().lex(), ..DirOptions::default() })
        .expect("directory")
}

/// A SQLite target on a fresh file, and the temp dir that holds it and its lock file.
fn sqlite_target() -> (tempfile::TempDir, Target) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    let t = Target::new("local", &url, "test").expect("target").with_lock_timeout(Duration::from_millis(300));
    (tmp, t)
}

fn opts(tmp: &tempfile::TempDir) -> ApplyOptions {
    ApplyOptions { lock_dir: Some(tmp.path().to_path_buf()), ..ApplyOptions::default() }
}

fn with_tx(mut o: ApplyOptions, mode: TxMode) -> ApplyOptions {
    o.plan = PlanOptions { tx_mode: mode, ..PlanOptions::default() };
    o
}

/// Applies and collects the events.
async fn run(t: &Target, d: &Directory, o: &ApplyOptions) -> (strata_server::hook::Applied, Vec<Event>) {
    let mut events = Vec::new();
    let a = apply(t, d, o, &mut |e: &Event| events.push(e.clone())).await.expect("apply");
    (a, events)
}

/// The rows of `atlas_schema_revisions` as the conformance cases list them.
async fn sqlite_rows(path: &Path) -> Vec<serde_json::Value> {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.expect("open");
    let rows = sqlx::query("SELECT version, description, type, applied, total, error, error_stmt, hash, partial_hashes, operator_version, executed_at, execution_time FROM atlas_schema_revisions ORDER BY version")
        .fetch_all(&mut c)
        .await
        .expect("select");
    rows.iter()
        .map(|r| {
            let ph: Option<String> = r.get(8);
            let executed_at: String = r.get(10);
            assert!(strata::report::parse_rfc3339(&executed_at).is_some(), "executed_at {executed_at:?}");
            assert!(r.get::<i64, _>(11) >= 0);
            serde_json::json!({
                "version": r.get::<String, _>(0), "description": r.get::<String, _>(1), "type": r.get::<i64, _>(2),
                "applied": r.get::<i64, _>(3), "total": r.get::<i64, _>(4), "error": r.get::<String, _>(5),
                "error_stmt": r.get::<String, _>(6), "hash": r.get::<String, _>(7),
                "partial_hashes": ph.map(|s| serde_json::from_str::<serde_json::Value>(&s).expect("json")),
                "operator_version": r.get::<String, _>(9),
            })
        })
        .collect()
}

fn kinds(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| serde_json::to_value(e).expect("json")["type"].as_str().expect("type").to_string()).collect()
}

// The files of Atlas's `sqlite2` test directory (conformance case
// `sqlite-go-apply-partial-resume`, cmd/atlas/internal/cmdapi/migrate_test.go).
const INITIAL: &str = "-- create \"tbl\" table\nCREATE TABLE tbl (`col` int NOT NULL);\n";
const SECOND: &str = "ALTER TABLE `tbl` ADD `col_2` bigint;\nasdasd ALTER TABLE `tbl` ADD `col_3` bigint; -- will fail\nALTER TABLE `tbl` ADD `col_4` bigint;\n";
const SECOND_FIXED: &str = "ALTER TABLE `tbl` ADD `col_2` bigint;\nALTER TABLE `tbl` ADD `col_3` bigint; -- will fail\nALTER TABLE `tbl` ADD `col_4` bigint;\n";

fn row1() -> serde_json::Value {
    serde_json::json!({"version": "20220318104614", "description": "initial", "type": 2, "applied": 1, "total": 1, "error": "", "error_stmt": "",
        "hash": "FifWjY2X0g2YVnb18Qm+QBPvoldDOOob7bS0LrFuCXc=", "partial_hashes": null, "operator_version": strata::report::GENERATOR})
}

#[tokio::test]
async fn sqlite_apply_then_nothing_pending_with_atlas_rows() {
    let (tmp, t) = sqlite_target();
    let d = dir(
        &t,
        &[
            ("20220318104614_initial.sql", INITIAL),
            ("1_b.sql", "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n"),
        ],
    );
    let (a, events) = run(&t, &d, &opts(&tmp)).await;
    assert_eq!(a.failure, None);
    assert_eq!(a.report.error, None);
    assert_eq!(a.plan.files.len(), 2);
    assert_eq!(
        kinds(&events),
        [
            "planned",
            "fileStarted",
            "statementDone",
            "statementDone",
            "fileDone",
            "fileStarted",
            "statementDone",
            "fileDone",
            "finished"
        ]
    );
    let json = serde_json::to_value(&events[2]).expect("json");
    assert_eq!(json["file"], "1_b.sql");
    assert_eq!(json["statement"], 1);
    assert_eq!(json["line"], 1);
    assert!(json["durationNs"].is_u64());
    // The lock file is gone.
    assert!(!tmp.path().join("atlas_migrate_execute.lock").exists());
    // Planned again: nothing pending.
    let (again, events) = run(&t, &d, &opts(&tmp)).await;
    assert!(again.plan.is_empty());
    assert_eq!(kinds(&events), ["planned", "finished"]);
    let state = read_state(&t).await.expect("state");
    assert_eq!(state.revisions.len(), 2);
    let rows = sqlite_rows(&tmp.path().join("app.db")).await;
    // Atlas's row; the entry hash is cumulative, so it is this directory's.
    let mut want = row1();
    let entry = d.computed_sum().entries().iter().find(|e| e.name == "20220318104614_initial.sql").expect("entry");
    want["hash"] = entry.hash.clone().into();
    assert_eq!(rows[1], want);
    assert_eq!(rows[0]["version"], "1");
    assert_eq!(rows[0]["applied"], 2);
}

#[tokio::test]
async fn sqlite_failure_names_the_statement_and_a_fixed_file_resumes_after_it() {
    let (tmp, t) = sqlite_target();
    let files = [("20220318104614_initial.sql", INITIAL), ("20220318104615_second.sql", SECOND)];
    let d = dir(&t, &files);
    // tx mode file: file 1 committed, file 2 rolled back with its row.
    let (a, events) = run(&t, &d, &opts(&tmp)).await;
    let f = a.failure.expect("failure");
    assert_eq!(f.file.as_deref(), Some("20220318104615_second.sql"));
    let s = f.statement.expect("statement");
    assert_eq!((s.index, s.line), (2, 2));
    assert_eq!(s.text, "asdasd ALTER TABLE `tbl` ADD `col_3` bigint;");
    assert_eq!(f.message, "near \"asdasd\": syntax error");
    assert_eq!(
        f.error,
        "sql/migrate: executing statement \"asdasd ALTER TABLE `tbl` ADD `col_3` bigint;\" from version \"20220318104615\": near \"asdasd\": syntax error"
    );
    assert_eq!(a.report.error.as_deref(), Some(f.error.as_str()));
    let k = kinds(&events);
    assert_eq!(&k[k.len() - 2..], ["error", "finished"]);
    assert_eq!(sqlite_rows(&tmp.path().join("app.db")).await, [row1()]);

    // tx mode none: statement 1 of file 2 stays, with a partial row (the
    // conformance case's rows after `--tx-mode none`).
    let (a, _) = run(&t, &d, &with_tx(opts(&tmp), TxMode::None)).await;
    assert!(a.failure.is_some());
    let rows = sqlite_rows(&tmp.path().join("app.db")).await;
    assert_eq!(
        rows[1],
        serde_json::json!({"version": "20220318104615", "description": "second", "type": 2, "applied": 1, "total": 3,
            "error": "near \"asdasd\": syntax error", "error_stmt": "asdasd ALTER TABLE `tbl` ADD `col_3` bigint;",
            "hash": "UA1TOODS2yU138E2HBlChe/O8vSmTRxkHs4OJOUK3K8=", "partial_hashes": ["h1:BKHiFSExRWk8fc+0Xzgb+yLV+N47A7tvnyEij64/xzk="],
            "operator_version": strata::report::GENERATOR})
    );

    // Fixed: resumes at statement 2. Statement 1 (ADD col_2) running again
    // would fail with "duplicate column name".
    let fixed = dir(&t, &[files[0], ("20220318104615_second.sql", SECOND_FIXED)]);
    let (a, events) = run(&t, &fixed, &opts(&tmp)).await;
    assert_eq!(a.failure, None, "{:?}", a.report.error);
    let done: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::StatementDone { statement, .. } => Some(*statement as u64),
            Event::FileStarted { skip, .. } => Some(100 + *skip as u64),
            _ => None,
        })
        .collect();
    assert_eq!(done, [101, 2, 3]);
    let rows = sqlite_rows(&tmp.path().join("app.db")).await;
    assert_eq!(
        rows[1],
        serde_json::json!({"version": "20220318104615", "description": "second", "type": 2, "applied": 3, "total": 3,
            "error": "", "error_stmt": "", "hash": "UA1TOODS2yU138E2HBlChe/O8vSmTRxkHs4OJOUK3K8=", "partial_hashes": null,
            "operator_version": strata::report::GENERATOR})
    );
}

/// `_fk=1`: Atlas's foreign-key check around each transaction. A file
/// that leaves a dangling reference fails at its commit and is rolled
/// back; without `_fk=1` (go-sqlite3's default) it commits.
#[tokio::test]
async fn sqlite_foreign_keys_are_checked_at_commit_with_fk_on() {
    let files = [
        (
            "1_users.sql",
            "CREATE TABLE users (id int PRIMARY KEY);\nCREATE TABLE friends (a int REFERENCES users (id));\nINSERT INTO users VALUES (1);\nINSERT INTO friends VALUES (1);\n",
        ),
        ("2_dangling.sql", "INSERT INTO friends VALUES (7);\n"),
    ];
    for (fk, fails) in [(true, true), (false, false)] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let db = tmp.path().join("app.db");
        let url = format!("sqlite://{}{}", db.display(), if fk { "?_fk=1" } else { "" });
        let t = Target::new("local", &url, "test").expect("target");
        let d = dir(&t, &files);
        let (a, _) = run(&t, &d, &opts(&tmp)).await;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.expect("open");
        let friends: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM friends").fetch_one(&mut c).await.unwrap();
        if fails {
            let f = a.failure.expect("the dangling reference fails the commit");
            assert_eq!(f.file.as_deref(), Some("2_dangling.sql"), "{f:?}");
            assert_eq!(f.message, "sql/sqlite: foreign key mismatch: [{tbl:friends ref:users row:2 index:0}]", "{f:?}");
            assert_eq!(friends, 1, "the file's transaction was rolled back");
        } else {
            assert!(a.failure.is_none(), "{:?}", a.failure);
            assert_eq!(friends, 2);
        }
    }
    // Other query parameters are refused with what is supported.
    let e = Target::new("local", "sqlite://x.db?cache=shared", "test").unwrap_err();
    assert!(e.0.contains("_fk=1"), "{e}");
}

#[tokio::test]
async fn sqlite_dry_run_writes_nothing() {
    let (tmp, t) = sqlite_target();
    let d = dir(&t, &[("1_a.sql", "CREATE TABLE a (id int);\n")]);
    let o = ApplyOptions { dry_run: true, ..opts(&tmp) };
    // A file that does not exist yet is not created.
    let (a, events) = run(&t, &d, &o).await;
    assert!(a.report.dry_run);
    assert_eq!(a.report.pending.len(), 1);
    assert_eq!(kinds(&events), ["planned", "finished"]);
    assert!(!tmp.path().join("app.db").exists());
    // An existing database is left byte for byte as it was.
    let db = tmp.path().join("app.db");
    {
        let mut c =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", db.display())).await.expect("create");
        sqlx::raw_sql("CREATE TABLE other (x int)").execute(&mut c).await.expect("create table");
        c.close().await.expect("close");
    }
    let before = std::fs::read(&db).expect("read");
    let o = ApplyOptions { plan: PlanOptions { allow_dirty: true, ..PlanOptions::default() }, ..o };
    let (a, _) = run(&t, &d, &o).await;
    assert_eq!(a.report.error, None);
    assert_eq!(a.report.pending.len(), 1);
    assert_eq!(std::fs::read(&db).expect("read"), before);
    assert!(read_state(&t).await.expect("state").table_missing);
}

#[tokio::test]
async fn sqlite_not_clean_is_atlas_s_refusal() {
    let (tmp, t) = sqlite_target();
    let db = tmp.path().join("app.db");
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", db.display())).await.expect("create");
    sqlx::raw_sql("CREATE TABLE users (id int)").execute(&mut c).await.expect("create table");
    c.close().await.expect("close");
    let d = dir(&t, &[("1_a.sql", "CREATE TABLE a (id int);\n")]);
    // Atlas creates the revisions table first, then checks: two tables.
    let want = "sql/migrate: connected database is not clean: found multiple tables: 2. baseline version or allow-dirty is required";
    for dry_run in [true, false] {
        let o = ApplyOptions { dry_run, ..opts(&tmp) };
        let err = apply(&t, &d, &o, &mut |_: &Event| {}).await.expect_err("not clean");
        assert_eq!(err.kind, HookErrorKind::Plan);
        assert!(err.message.contains(want), "{}", err.message);
    }
    // A preview from read_state plans what the apply plans (same digest).
    let po = PlanOptions { allow_dirty: true, ..PlanOptions::default() };
    let preview = strata::plan::plan(&d, &read_state(&t).await.expect("state"), &po).expect("plan");
    let o = ApplyOptions { plan: po, expect_digest: Some(preview.digest.clone()), ..opts(&tmp) };
    let (a, _) = run(&t, &d, &o).await;
    assert_eq!(a.failure, None);
    assert_eq!(a.report.digest, preview.digest);
}

#[tokio::test]
async fn sqlite_baseline_row_is_stamped_as_atlas_writes_it() {
    let (tmp, t) = sqlite_target();
    let db = tmp.path().join("app.db");
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", db.display())).await.expect("create");
    sqlx::raw_sql("CREATE TABLE a (id int)").execute(&mut c).await.expect("create table");
    c.close().await.expect("close");
    let d = dir(&t, &[("1_a.sql", "CREATE TABLE a (id int);\n"), ("2_b.sql", "CREATE TABLE b (id int);\n")]);
    let o = ApplyOptions { plan: PlanOptions { baseline: Some("1".into()), ..PlanOptions::default() }, ..opts(&tmp) };
    let (a, _) = run(&t, &d, &o).await;
    assert_eq!(a.failure, None, "{:?}", a.report.error);
    let rows = sqlite_rows(&db).await;
    assert_eq!((rows[0]["version"].as_str(), rows[0]["type"].as_i64()), (Some("1"), Some(1)));
    assert_eq!(rows[0]["operator_version"], strata::report::GENERATOR);
    assert_eq!((rows[1]["version"].as_str(), rows[1]["type"].as_i64()), (Some("2"), Some(2)));
}

#[tokio::test]
async fn sqlite_stale_digest_is_refused_before_anything_runs() {
    let (tmp, t) = sqlite_target();
    let d = dir(&t, &[("1_a.sql", "CREATE TABLE a (id int);\n")]);
    let o = ApplyOptions { expect_digest: Some("sha256:00".into()), ..opts(&tmp) };
    let mut n = 0;
    let err = apply(&t, &d, &o, &mut |_: &Event| n += 1).await.expect_err("stale");
    assert_eq!(err.kind, HookErrorKind::StalePlan);
    assert!(err.message.contains("Preview again"), "{}", err.message);
    assert_eq!(n, 0);
    assert!(read_state(&t).await.expect("state").revisions.is_empty());
    assert!(sqlite_rows(&tmp.path().join("app.db")).await.is_empty());
}

#[tokio::test]
async fn sqlite_lock_file_of_atlas_or_another_process_excludes_us() {
    let (tmp, t) = sqlite_target();
    let d = dir(&t, &[("1_a.sql", "CREATE TABLE a (id int);\n")]);
    let lock = tmp.path().join("atlas_migrate_execute.lock");
    // As Atlas leaves it while it runs: the expiry in Unix nanoseconds.
    let future =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap() + Duration::from_secs(3600);
    std::fs::write(&lock, future.as_nanos().to_string()).expect("write lock");
    let err = apply(&t, &d, &opts(&tmp), &mut |_: &Event| {}).await.expect_err("locked");
    assert_eq!(err.kind, HookErrorKind::LockHeld);
    assert!(err.message.contains("lock on \"atlas_migrate_execute\" already taken"), "{}", err.message);
    assert!(err.message.contains("lock_timeout"), "{}", err.message);
    assert!(!tmp.path().join("app.db").exists(), "nothing was opened");
    // An expired lock file (a crashed run) is taken over.
    std::fs::write(&lock, "1").expect("write lock");
    let (a, _) = run(&t, &d, &opts(&tmp)).await;
    assert_eq!(a.failure, None);
    assert!(!lock.exists());

    // Another process's OS lock on the file (another strata) excludes us
    // too: `flock(1)` holds it, or, where that tool is missing, a second
    // handle in this process (flock locks belong to the open file).
    let mut child = std::process::Command::new("flock")
        .arg(&lock)
        .args(["-c", "echo locked; sleep 30"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok();
    let mut handle = None;
    match child.as_mut() {
        Some(c) => {
            let mut line = String::new();
            let out = c.stdout.take().expect("stdout");
            std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).expect("read");
            assert_eq!(line.trim(), "locked");
        }
        None => {
            eprintln!("note: flock(1) is missing; holding the lock file from a second handle");
            let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock).expect("open");
            f.lock().expect("lock");
            handle = Some(f);
        }
    }
    let d2 = dir(&t, &[("1_a.sql", "CREATE TABLE a (id int);\n"), ("2_b.sql", "CREATE TABLE b (id int);\n")]);
    let err = apply(&t, &d2, &opts(&tmp), &mut |_: &Event| {}).await.expect_err("locked");
    if let Some(c) = child.as_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
    drop(handle);
    assert_eq!(err.kind, HookErrorKind::LockHeld);
    assert!(err.message.contains("another strata apply"), "{}", err.message);
    assert_eq!(read_state(&t).await.expect("state").revisions.len(), 1);
}

// ---- PostgreSQL ----

/// A fresh database on the test server, or `None` (with a note) when
/// `STRATA_TEST_METADATA` is not set.
async fn pg_target(test: &str) -> Option<(tempfile::TempDir, Target, String)> {
    let Ok(admin) = std::env::var("STRATA_TEST_METADATA") else {
        eprintln!("note: {test} skipped: STRATA_TEST_METADATA (a PostgreSQL admin URL) is not set");
        return None;
    };
    if admin.is_empty() {
        eprintln!("note: {test} skipped: STRATA_TEST_METADATA is empty");
        return None;
    }
    let url = common::fresh_database(&admin).await;
    let t = Target::new("pg", &url, "test").expect("target").with_lock_timeout(Duration::from_millis(300));
    Some((tempfile::tempdir().expect("tempdir"), t, url))
}

async fn pg(url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(url).await.expect("connect")
}

async fn pg_strings(url: &str, sql: &'static str) -> Vec<String> {
    let mut c = pg(url).await;
    let v = sqlx::query_scalar(sql).fetch_all(&mut c).await.expect(sql);
    let _ = c.close().await;
    v
}

#[tokio::test]
async fn postgres_example_directory_applies_and_then_nothing_is_pending() {
    let Some((tmp, t, url)) = pg_target("postgres_example_directory_applies_and_then_nothing_is_pending").await else {
        return;
    };
    let d = example_dir(&t);
    let (a, events) = run(&t, &d, &opts(&tmp)).await;
    assert_eq!(a.failure, None, "{:?}", a.report.error);
    assert_eq!(a.report.applied.len(), 4);
    assert_eq!(kinds(&events).iter().filter(|k| *k == "fileDone").count(), 4);
    let (again, _) = run(&t, &d, &opts(&tmp)).await;
    assert!(again.plan.is_empty());
    // Where Atlas puts it for a URL without search_path, with its rows.
    let mut c = pg(&url).await;
    let rows = sqlx::query("SELECT version, type, applied, total, error, error_stmt, hash, partial_hashes IS NULL, operator_version, executed_at <= now() FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY version")
        .fetch_all(&mut c)
        .await
        .expect("select");
    let sum = d.computed_sum();
    assert_eq!(rows.len(), 4);
    for (r, f) in rows.iter().zip(d.files()) {
        assert_eq!(r.get::<String, _>(0), f.version());
        assert_eq!(r.get::<i64, _>(1), 2);
        assert_eq!(r.get::<i64, _>(2), r.get::<i64, _>(3));
        assert_eq!(r.get::<String, _>(4), "");
        assert_eq!(r.get::<String, _>(5), "");
        let entry = sum.entries().iter().find(|e| e.name == f.name()).expect("sum entry");
        assert_eq!(r.get::<String, _>(6), entry.hash);
        assert!(r.get::<bool, _>(7));
        assert_eq!(r.get::<String, _>(8), strata::report::GENERATOR);
        assert!(r.get::<bool, _>(9));
    }
    let _ = c.close().await;
    // The state reads back as written.
    let st = read_state(&t).await.expect("state");
    assert_eq!(st.revisions.len(), 4);
    assert!(st
        .revisions
        .iter()
        .all(|r| r.partial_hashes.is_none() && strata::report::parse_rfc3339(&r.executed_at).is_some()));
}

const PG_OK: &str = "CREATE TABLE one (id int);\n";
const PG_BAD: &str = "CREATE TABLE two (id int);\nINSERT INTO missing VALUES (1);\nCREATE TABLE three (id int);\n";

async fn pg_tables(url: &str) -> Vec<String> {
    pg_strings(url, "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").await
}

#[tokio::test]
async fn postgres_tx_modes_roll_back_as_atlas_does() {
    for (mode, tables, versions) in [
        (TxMode::File, vec!["one"], vec!["1"]),
        (TxMode::All, vec![], vec![]),
        (TxMode::None, vec!["one", "two"], vec!["1", "2"]),
    ] {
        let Some((tmp, t, url)) = pg_target("postgres_tx_modes_roll_back_as_atlas_does").await else { return };
        let d = dir(&t, &[("1_a.sql", PG_OK), ("2_b.sql", PG_BAD)]);
        let (a, _) = run(&t, &d, &with_tx(opts(&tmp), mode)).await;
        let f = a.failure.expect("failure");
        assert_eq!(f.file.as_deref(), Some("2_b.sql"));
        let s = f.statement.expect("statement");
        assert_eq!((s.index, s.line, s.text.as_str()), (2, 2, "INSERT INTO missing VALUES (1);"));
        assert_eq!(f.message, "pq: relation \"missing\" does not exist at column 13 (42P01)");
        assert_eq!(pg_tables(&url).await, tables, "{mode:?}");
        let got =
            pg_strings(&url, "SELECT version::text FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY 1")
                .await;
        assert_eq!(got, versions, "{mode:?}");
        if mode == TxMode::None {
            let st = read_state(&t).await.expect("state");
            let r = &st.revisions[1];
            assert_eq!((r.applied, r.total), (1, 3));
            assert_eq!(r.error, "pq: relation \"missing\" does not exist at column 13 (42P01)");
            assert_eq!(r.error_stmt, "INSERT INTO missing VALUES (1);");
            assert_eq!(r.partial_hashes.as_ref().map(Vec::len), Some(1));
            // Fixed, it resumes at statement 2: CREATE TABLE two again would fail.
            let fixed = dir(
                &t,
                &[
                    ("1_a.sql", PG_OK),
                    (
                        "2_b.sql",
                        "CREATE TABLE two (id int);\nCREATE TABLE missing (id int);\nCREATE TABLE three (id int);\n",
                    ),
                ],
            );
            let (a, _) = run(&t, &fixed, &opts(&tmp)).await;
            assert_eq!(a.failure, None, "{:?}", a.report.error);
            assert_eq!(a.report.applied[0].skipped, 1);
            assert_eq!(pg_tables(&url).await, ["missing", "one", "three", "two"]);
        }
    }
}

#[tokio::test]
async fn postgres_a_held_lock_times_out_with_a_clear_error() {
    let Some((tmp, t, url)) = pg_target("postgres_a_held_lock_times_out_with_a_clear_error").await else { return };
    let mut holder = pg(&url).await;
    sqlx::query("SELECT pg_advisory_lock(2686470616)").execute(&mut holder).await.expect("lock");
    let d = dir(&t, &[("1_a.sql", PG_OK)]);
    let err = apply(&t, &d, &opts(&tmp), &mut |_: &Event| {}).await.expect_err("locked");
    assert_eq!(err.kind, HookErrorKind::LockHeld);
    assert!(err.message.contains("sql/schema: lock is held by other session"), "{}", err.message);
    assert!(err.message.contains("lock_timeout"), "{}", err.message);
    assert!(pg_tables(&url).await.is_empty());
    let _ = holder.close().await;
    // Released: the apply goes through, and releases it in turn.
    let (a, _) = run(&t, &d, &opts(&tmp)).await;
    assert_eq!(a.failure, None);
    let mut c = pg(&url).await;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(2686470616)").fetch_one(&mut c).await.expect("try");
    assert!(got, "the apply released the lock");
    let _ = c.close().await;
}

#[tokio::test]
async fn postgres_dry_run_creates_nothing_and_not_clean_uses_atlas_words() {
    let Some((tmp, t, url)) = pg_target("postgres_dry_run_creates_nothing_and_not_clean_uses_atlas_words").await else {
        return;
    };
    let d = example_dir(&t);
    let o = ApplyOptions { dry_run: true, ..opts(&tmp) };
    let (a, events) = run(&t, &d, &o).await;
    assert_eq!(a.report.error, None);
    assert_eq!(a.report.pending.len(), 4);
    assert_eq!(kinds(&events), ["planned", "finished"]);
    let schemas =
        pg_strings(&url, "SELECT nspname::text FROM pg_namespace WHERE nspname = 'atlas_schema_revisions'").await;
    assert!(schemas.is_empty(), "the dry run created the revisions schema");
    assert!(pg_tables(&url).await.is_empty());
    // A table in public, on a URL without search_path: Atlas's reason.
    let mut c = pg(&url).await;
    sqlx::raw_sql("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name text)")
        .execute(&mut c)
        .await
        .expect("create");
    let _ = c.close().await;
    let err = apply(&t, &d, &o, &mut |_: &Event| {}).await.expect_err("not clean");
    assert!(err.message.contains("connected database is not clean: found schema \"public\""), "{}", err.message);
    // Schema-bound (search_path=public), revisions kept elsewhere: the
    // reason names the table.
    let bound = Target::new("pgb", &format!("{url}?search_path=public"), "test")
        .expect("target")
        .with_revisions_schema(Some("atlas_schema_revisions".into()));
    let err = apply(&bound, &d, &o, &mut |_: &Event| {}).await.expect_err("not clean");
    assert!(
        err.message.contains("connected database is not clean: found table \"users\" in schema \"public\""),
        "{}",
        err.message
    );
    // With a baseline, the baseline row is written (a timestamptz: it must be stamped).
    let o = ApplyOptions {
        plan: PlanOptions { baseline: Some("20240101000000".into()), ..PlanOptions::default() },
        ..opts(&tmp)
    };
    let (a, _) = run(&t, &d, &o).await;
    assert_eq!(a.failure, None, "{:?}", a.report.error);
    assert_eq!(a.report.applied.len(), 3);
    let st = read_state(&t).await.expect("state");
    assert_eq!((st.revisions[0].kind.0, st.revisions[0].operator_version.as_str()), (1, strata::report::GENERATOR));
}

#[tokio::test]
async fn postgres_errors_read_as_lib_pq_prints_them() {
    let Some((tmp, t, _)) = pg_target("postgres_errors_read_as_lib_pq_prints_them").await else { return };
    let d = dir(&t, &[("1_a.sql", "CREATE TABLE x (\n  id nosuchtype\n);\n")]);
    let (a, _) = run(&t, &d, &opts(&tmp)).await;
    let f = a.failure.expect("failure");
    assert_eq!(f.message, "pq: type \"nosuchtype\" does not exist at position 2:6 (42704)");
    assert_eq!(f.statement.map(|s| (s.index, s.line)), Some((1, 1)));
}

/// Two applies at once: one waits for the other's lock, then finds nothing
/// pending; every file runs once.
async fn concurrent_applies(t: &Target, d: &Directory, o: &ApplyOptions) {
    let t = t.clone().with_lock_timeout(Duration::from_secs(60));
    let (a, b) = tokio::join!(run(&t, d, o), run(&t, d, o));
    let mut files: Vec<usize> = [&a.0, &b.0].iter().map(|x| x.report.applied.len()).collect();
    files.sort();
    assert_eq!(files, [0, d.files().len()]);
    assert_eq!((a.0.failure, b.0.failure), (None, None));
}

#[tokio::test]
async fn sqlite_concurrent_applies_run_every_file_once() {
    let (tmp, t) = sqlite_target();
    let d = dir(&t, &[("1_a.sql", "CREATE TABLE a (id int);\n"), ("2_b.sql", "CREATE TABLE b (id int);\n")]);
    concurrent_applies(&t, &d, &opts(&tmp)).await;
}

#[tokio::test]
async fn postgres_concurrent_applies_run_every_file_once() {
    let Some((tmp, t, _)) = pg_target("postgres_concurrent_applies_run_every_file_once").await else { return };
    concurrent_applies(&t, &example_dir(&t), &opts(&tmp)).await;
}

#[tokio::test]
async fn postgres_schema_bound_targets_keep_revisions_in_their_schema_and_refuse_ambiguity() {
    let Some((tmp, t, url)) =
        pg_target("postgres_schema_bound_targets_keep_revisions_in_their_schema_and_refuse_ambiguity").await
    else {
        return;
    };
    // Not bound: revisions in schema atlas_schema_revisions.
    let d = dir(&t, &[("1_a.sql", PG_OK)]);
    let (a, _) = run(&t, &d, &opts(&tmp)).await;
    assert_eq!(a.failure, None);
    // Bound to public with no table there: which table? Atlas refuses.
    let bound = Target::new("pgb", &format!("{url}?search_path=public"), "test").expect("target");
    let err = apply(&bound, &d, &opts(&tmp), &mut |_: &Event| {}).await.expect_err("ambiguous");
    assert_eq!(err.kind, HookErrorKind::AmbiguousRevisions);
    assert!(
        err.message.contains("ambiguous revision table") && err.message.contains("revisions_schema"),
        "{}",
        err.message
    );
    assert_eq!(read_state(&bound).await.expect_err("ambiguous").kind, HookErrorKind::AmbiguousRevisions);
    // Told to use the old table: nothing pending.
    let old = bound.clone().with_revisions_schema(Some("atlas_schema_revisions".into()));
    let (a, _) = run(&old, &d, &opts(&tmp)).await;
    assert!(a.plan.is_empty());
    // A fresh database bound to public keeps the table in public.
    let Some((tmp, t, url)) =
        pg_target("postgres_schema_bound_targets_keep_revisions_in_their_schema_and_refuse_ambiguity").await
    else {
        return;
    };
    let bound = Target::new("pgb", &format!("{url}?search_path=public"), "test").expect("target");
    let (a, _) = run(&bound, &dir(&t, &[("1_a.sql", PG_OK)]), &opts(&tmp)).await;
    assert_eq!(a.failure, None);
    assert_eq!(pg_tables(&url).await, ["atlas_schema_revisions", "one"]);
}

/// Inside a transaction the hook sends only a file's last revision row
/// (the earlier ones are invisible and overwritten). A migration that
/// drops the revisions table part-way therefore fails at that last write,
/// where Atlas fails at the write right after the DROP: the run fails with
/// the database's error, the file's transaction is rolled back, and the
/// database is as before the run, as with Atlas.
#[tokio::test]
async fn postgres_a_dropped_revisions_table_fails_the_file_and_rolls_it_back() {
    let Some((tmp, t, url)) = pg_target("postgres_a_dropped_revisions_table_fails_the_file_and_rolls_it_back").await
    else {
        return;
    };
    let d = dir(
        &t,
        &[
            ("1_a.sql", "CREATE TABLE a (id int);\n"),
            (
                "2_b.sql",
                "CREATE TABLE b (id int);\nDROP TABLE atlas_schema_revisions.atlas_schema_revisions;\nCREATE TABLE c (id int);\n",
            ),
        ],
    );
    let (a, events) = run(&t, &d, &opts(&tmp)).await;
    let f = a.failure.expect("the run fails");
    assert!(f.message.contains("atlas_schema_revisions") && f.message.contains("does not exist"), "{f:?}");
    assert_eq!(f.file.as_deref(), Some("2_b.sql"), "{f:?}");
    assert!(kinds(&events).ends_with(&["error".to_string(), "finished".to_string()]), "{:?}", kinds(&events));
    // File 1 committed; file 2 (its tables and the DROP) rolled back.
    let tables = pg_strings(&url, "SELECT table_name::text FROM information_schema.tables WHERE table_schema IN ('public', 'atlas_schema_revisions') ORDER BY 1").await;
    assert_eq!(tables, ["a", "atlas_schema_revisions"]);
    let versions =
        pg_strings(&url, "SELECT version FROM atlas_schema_revisions.atlas_schema_revisions ORDER BY version").await;
    assert_eq!(versions, ["1"]);
}
