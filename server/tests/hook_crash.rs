//! The server killed (SIGKILL) in the middle of a long migration file,
//! restarted, and asked to apply again: the run resumes where Atlas would
//! (at the next statement of a file without a transaction, at the start
//! of a file whose transaction was rolled back), no statement runs twice,
//! and the schema equals that of a clean run (`pg_dump --schema-only` on
//! PostgreSQL, `sqlite_schema` on SQLite).
//!
//! The long file alternates `CREATE TABLE t<i>` with a slow statement
//! (`pg_sleep`, or a recursive count on SQLite), and the test kills the
//! server right after the event of a `CREATE TABLE`, while the slow
//! statement that follows runs. A `CREATE TABLE` run twice would fail the
//! resumed apply, so success shows that nothing ran twice.
//!
//! Also: SIGTERM during an apply waits for it, and a client that goes
//! away does not stop it.
//!
//! PostgreSQL runs when `STRATA_TEST_METADATA` (an admin URL) is set, as
//! in `make test-scale`; otherwise those tests print a note and pass.

mod common;

use common::{borrow, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// How many `CREATE TABLE` statements the long file has.
const TABLES: usize = 8;

/// The statement after whose `statementDone` the server is killed: the
/// fourth `CREATE TABLE` (statements are 1-based; odd ones create).
const KILL_AFTER: usize = 7;

#[derive(Clone, Copy, PartialEq)]
enum Db {
    Sqlite,
    Postgres,
}

/// Three files; the second is long and slow, with `-- atlas:txmode none`
/// when `none` (each statement commits on its own).
fn files(db: Db, none: bool) -> Vec<(String, Vec<u8>)> {
    let slow = match db {
        Db::Postgres => "SELECT pg_sleep(0.4);".to_string(),
        Db::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000) SELECT count(*) FROM c;"
                .to_string()
        }
    };
    let mut long = String::new();
    if none {
        long += "-- atlas:txmode none\n\n";
    }
    for i in 0..TABLES {
        long += &format!("CREATE TABLE t{i} (id int PRIMARY KEY, note text);\n{slow}\n");
    }
    vec![
        ("20240101000000_first.sql".into(), b"CREATE TABLE a (id int);\n".to_vec()),
        ("20240102000000_long.sql".into(), long.into_bytes()),
        ("20240103000000_last.sql".into(), b"CREATE TABLE z (id int);\nCREATE INDEX z_id ON z (id);\n".to_vec()),
    ]
}

/// A server with one target `db` (SQLite in the temp dir, or `pg_url`).
async fn start(tmp: &Path, pg_url: Option<&str>) -> Server {
    let url = match pg_url {
        Some(u) => u.to_string(),
        None => format!("sqlite://{}", tmp.join("app.db").display()),
    };
    let file = tmp.join("targets.toml");
    std::fs::write(&file, format!("[targets.db]\nurl = \"{url}\"\nlock_timeout = \"300ms\"\n")).unwrap();
    Server::start_with_env(&["--targets", file.to_str().unwrap()], &[("TMPDIR", tmp.to_str().unwrap())]).await
}

/// Pushes the files as `app@latest`.
async fn push(s: &Server, files: &[(String, Vec<u8>)]) {
    let token = s.token("push");
    let v = s.push(&token, "app", &borrow(files)).await;
    let r = s.put_tag(&token, "app", "latest", &v, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Previews `app@latest` on `db`: the apply request body and the plan.
async fn preview(s: &Server, token: &str) -> (Value, Value) {
    let r = s.post_json("/hook/v1/targets/db/plan", Some(token), &json!({"dir": "app", "tag": "latest"})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = r.json();
    let body = json!({"dir": "app", "version": doc["version"], "planDigest": doc["plan"]["digest"]});
    (body, doc["plan"].clone())
}

/// Starts an apply and returns the response, retrying a `423 lock-held`
/// for up to 30 s: after a crash the killed run's lock lingers until
/// PostgreSQL notices the closed session, or until Atlas's SQLite lock
/// file's lease expires.
async fn start_apply(s: &Server, token: &str, body: &Value) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = s
            .client()
            .post(s.at("/hook/v1/targets/db/apply"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .await
            .expect("POST apply");
        if r.status() == 423 && Instant::now() < deadline {
            let e: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            assert_eq!(e["code"], "lock-held", "{e}");
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        return r;
    }
}

/// Reads NDJSON events until `stop` says so (or the stream ends).
async fn read_events(r: &mut reqwest::Response, mut stop: impl FnMut(&Value) -> bool) -> Vec<Value> {
    let mut buf = Vec::new();
    let mut events = Vec::new();
    while let Some(chunk) = r.chunk().await.expect("read the event stream") {
        buf.extend_from_slice(&chunk);
        while let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            let e: Value = serde_json::from_slice(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
            let done = stop(&e);
            events.push(e);
            if done {
                return events;
            }
        }
    }
    assert!(buf.is_empty(), "a partial line at the end: {:?}", String::from_utf8_lossy(&buf));
    events
}

/// The schema of the target, comparable across databases.
async fn schema(db: Db, tmp: &Path, pg_url: Option<&str>) -> String {
    match db {
        Db::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .args(["--schema-only", "--no-owner", "--no-privileges", pg_url.unwrap()])
                .output()
                .expect("run pg_dump (postgresql-client)");
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
            // pg_dump ≥ 15.14 brackets its output with `\restrict KEY` /
            // `\unrestrict KEY`, a random key per run.
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
                .collect::<Vec<_>>()
                .join("\n")
        }
        Db::Sqlite => {
            use sqlx::{Connection, Row};
            let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(tmp.join("app.db"));
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await.expect("open the target");
            let rows = sqlx::query("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
                .fetch_all(&mut c)
                .await
                .unwrap();
            let _ = c.close().await;
            rows.iter()
                .map(|r| {
                    let sql: Option<String> = r.get(3);
                    format!(
                        "{} {} {} {}",
                        r.get::<String, _>(0),
                        r.get::<String, _>(1),
                        r.get::<String, _>(2),
                        sql.unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

/// The target's revisions, by version.
async fn revisions(s: &Server, token: &str) -> Vec<Value> {
    let r = s.get("/hook/v1/targets/db/revisions", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["revisions"].as_array().unwrap().clone()
}

/// Runs the scenario; `pg` is `(crashed, clean)` database URLs on PostgreSQL.
async fn crash_and_resume(db: Db, none: bool, pg: Option<(String, String)>) {
    let files = files(db, none);
    let statements = 2 * TABLES;

    // A clean run, for the schema to compare with.
    let clean_tmp = tempfile::tempdir().unwrap();
    let clean = start(clean_tmp.path(), pg.as_ref().map(|p| p.1.as_str())).await;
    push(&clean, &files).await;
    let deploy = clean.token("read,deploy");
    let (body, _) = preview(&clean, &deploy).await;
    let mut r = start_apply(&clean, &deploy, &body).await;
    let ev = read_events(&mut r, |_| false).await;
    let fin = ev.last().unwrap();
    assert_eq!(fin["type"], "finished", "{fin}");
    assert_eq!(fin["deployment"]["status"], "succeeded", "{fin}");
    let want = schema(db, clean_tmp.path(), pg.as_ref().map(|p| p.1.as_str())).await;
    assert!(want.contains("t7"), "{want}");

    // The crash: killed right after statement KILL_AFTER of the long file.
    let tmp = tempfile::tempdir().unwrap();
    let pg_url = pg.as_ref().map(|p| p.0.clone());
    let mut s = start(tmp.path(), pg_url.as_deref()).await;
    push(&s, &files).await;
    let deploy = s.token("read,deploy");
    let (body, _) = preview(&s, &deploy).await;
    let mut r = start_apply(&s, &deploy, &body).await;
    let ev = read_events(&mut r, |e| {
        e["type"] == "statementDone" && e["file"] == "20240102000000_long.sql" && e["statement"] == KILL_AFTER
    })
    .await;
    s.kill();
    let last = ev.last().unwrap();
    assert_eq!(
        (last["type"].as_str(), last["statement"].as_u64()),
        (Some("statementDone"), Some(KILL_AFTER as u64)),
        "{ev:?}"
    );
    drop(r);

    // Restarted on the same storage and target: the plan resumes where
    // Atlas resumes, and the apply finishes with nothing run twice.
    s.restart();
    let deploy = s.token("read,deploy");
    let rows = revisions(&s, &deploy).await;
    let long_row = rows.iter().find(|r| r["version"] == "20240102000000");
    if none {
        // Each statement committed with its revision row: 7 applied.
        let row = long_row.unwrap_or_else(|| panic!("no revision row for the long file: {rows:?}"));
        assert_eq!(
            (row["applied"].as_u64(), row["total"].as_u64()),
            (Some(KILL_AFTER as u64), Some(statements as u64)),
            "{row}"
        );
    } else {
        // The file's transaction (its statements and its row) was rolled back.
        assert!(long_row.is_none(), "{rows:?}");
    }
    let (body, plan) = preview(&s, &deploy).await;
    let pending: Vec<&str> = plan["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(pending, ["20240102000000_long.sql", "20240103000000_last.sql"], "{plan}");
    let mut r = start_apply(&s, &deploy, &body).await;
    let ev = read_events(&mut r, |_| false).await;
    let fin = ev.last().unwrap();
    assert_eq!(fin["type"], "finished", "{ev:?}");
    assert_eq!(fin["deployment"]["status"], "succeeded", "{fin}");
    let skip = if none { KILL_AFTER } else { 0 };
    let planned = &ev[0];
    assert_eq!(planned["type"], "planned");
    assert_eq!(planned["files"][0]["skip"].as_u64(), Some(skip as u64), "{planned}");
    let ran: Vec<u64> = ev
        .iter()
        .filter(|e| e["type"] == "statementDone" && e["file"] == "20240102000000_long.sql")
        .map(|e| e["statement"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ran,
        ((skip + 1) as u64..=statements as u64).collect::<Vec<_>>(),
        "the long file resumed after statement {skip}"
    );
    let rows = revisions(&s, &deploy).await;
    let row = rows.iter().find(|r| r["version"] == "20240102000000").unwrap();
    assert_eq!((row["applied"].as_u64(), row["error"].as_str()), (Some(statements as u64), Some("")), "{row}");
    assert_eq!(rows.len(), 3, "{rows:?}");

    // The schema equals the clean run's.
    let got = schema(db, tmp.path(), pg_url.as_deref()).await;
    assert_eq!(got, want, "the schema after the crash and resume differs from a clean run's");

    // Only the resumed run was recorded (the killed process recorded nothing).
    let list = s.get("/v1/deployments?dir=app", Some(&s.token("read"))).await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["status"], "succeeded", "{list}");
}

/// Fresh `(crashed, clean)` PostgreSQL databases, or `None` with a note.
async fn pg_databases(test: &str) -> Option<(String, String)> {
    let Ok(admin) = std::env::var("STRATA_TEST_METADATA") else {
        eprintln!("note: {test}: STRATA_TEST_METADATA is not set; the PostgreSQL target is not tested");
        return None;
    };
    Some((common::fresh_database(&admin).await, common::fresh_database(&admin).await))
}

#[tokio::test]
async fn sqlite_resumes_at_the_next_statement_of_a_file_without_transaction() {
    crash_and_resume(Db::Sqlite, true, None).await;
}

#[tokio::test]
async fn sqlite_reruns_a_rolled_back_file() {
    crash_and_resume(Db::Sqlite, false, None).await;
}

#[tokio::test]
async fn postgres_resumes_at_the_next_statement_of_a_file_without_transaction() {
    if let Some(pg) = pg_databases("postgres_resumes_at_the_next_statement").await {
        crash_and_resume(Db::Postgres, true, Some(pg)).await;
    }
}

#[tokio::test]
async fn postgres_reruns_a_rolled_back_file() {
    if let Some(pg) = pg_databases("postgres_reruns_a_rolled_back_file").await {
        crash_and_resume(Db::Postgres, false, Some(pg)).await;
    }
}

/// SIGTERM during an apply: the server finishes the run, streams its last
/// events, records it, and only then exits.
#[tokio::test]
async fn sigterm_waits_for_a_running_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = start(tmp.path(), None).await;
    push(&s, &files(Db::Sqlite, false)).await;
    let deploy = s.token("read,deploy");
    let (body, _) = preview(&s, &deploy).await;
    let mut r = start_apply(&s, &deploy, &body).await;
    let first = read_events(&mut r, |e| e["type"] == "statementDone" && e["file"] == "20240102000000_long.sql").await;
    assert!(s.terminate().success(), "{}", s.log());
    let rest = read_events(&mut r, |_| false).await;
    let fin = rest.last().unwrap_or_else(|| panic!("no event after SIGTERM: {first:?}"));
    assert_eq!(fin["type"], "finished", "{rest:?}");
    assert_eq!(fin["deployment"]["status"], "succeeded", "{fin}");

    s.restart();
    let read = s.token("read");
    let rows = revisions(&s, &read).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r["applied"] == r["total"] && r["error"] == ""), "{rows:?}");
    let list = s.get("/v1/deployments?dir=app", Some(&read)).await.json();
    assert_eq!(list["items"][0]["status"], "succeeded", "{list}");
}

/// A client that goes away in the middle of an apply does not stop it:
/// the run finishes and is recorded.
#[tokio::test]
async fn a_client_that_disconnects_does_not_stop_the_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path(), None).await;
    push(&s, &files(Db::Sqlite, false)).await;
    let deploy = s.token("read,deploy");
    let (body, _) = preview(&s, &deploy).await;
    let mut r = start_apply(&s, &deploy, &body).await;
    read_events(&mut r, |e| e["type"] == "statementDone" && e["file"] == "20240102000000_long.sql").await;
    drop(r);

    let read = s.token("read");
    let deadline = Instant::now() + Duration::from_secs(120);
    let list = loop {
        let list = s.get("/v1/deployments?dir=app", Some(&read)).await.json();
        if !list["items"].as_array().unwrap().is_empty() || Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(list["items"][0]["status"], "succeeded", "{list}");
    let rows = revisions(&s, &read).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r["applied"] == r["total"]), "{rows:?}");
}
