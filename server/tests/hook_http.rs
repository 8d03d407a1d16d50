//! The hook over HTTP (`/hook/v1`), against the real binary: a SQLite
//! target in the test's temp dir always, and a PostgreSQL target on a
//! fresh database when `STRATA_TEST_METADATA` (an admin URL) is set
//! (otherwise those tests print a note and pass).

mod common;

use common::{borrow, Server};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A server whose targets file names a SQLite target `local` (at
/// `app.db` in a temp dir) and, when given, a PostgreSQL target `pg`.
struct Hook {
    server: Server,
    tmp: tempfile::TempDir,
}

impl Hook {
    async fn start(pg: Option<&str>) -> Hook {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut toml = format!(
            "[targets.local]\nurl = \"sqlite://{}\"\nlock_timeout = \"300ms\"\n",
            tmp.path().join("app.db").display()
        );
        if let Some(url) = pg {
            toml += &format!("\n[targets.pg]\nurl = \"{url}\"\nlock_timeout = \"300ms\"\n");
        }
        let file = tmp.path().join("targets.toml");
        std::fs::write(&file, toml).expect("write targets.toml");
        let server = Server::start_with(&["--targets", file.to_str().unwrap()]).await;
        Hook { server, tmp }
    }

    fn db(&self) -> PathBuf {
        self.tmp.path().join("app.db")
    }
}

/// A fresh PostgreSQL database for a target (URL), or `None` with a note.
async fn pg_database(test: &str) -> Option<String> {
    use sqlx::Connection;
    let Ok(admin) = std::env::var("STRATA_TEST_METADATA") else {
        eprintln!("note: {test}: STRATA_TEST_METADATA is not set; the PostgreSQL target is not tested");
        return None;
    };
    let name = format!("strata_hook_{}", common::random_hex(8));
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to STRATA_TEST_METADATA");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE");
    let _ = conn.close().await;
    let mut url = url::Url::parse(&admin).expect("a URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

#[tokio::test]
async fn targets_and_revisions() {
    let pg = pg_database("targets_and_revisions").await;
    let h = Hook::start(pg.as_deref()).await;
    let s = &h.server;
    let read = s.token("read");

    // No token: 401; a read token lists names and dialects, never URLs.
    s.get("/hook/v1/targets", None).await.error(401, "unauthorized");
    let r = s.get("/hook/v1/targets", Some(&read)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut want = vec![json!({"name": "local", "dialect": "sqlite"})];
    if pg.is_some() {
        want.push(json!({"name": "pg", "dialect": "postgres"}));
    }
    assert_eq!(r.json(), json!({ "items": want }));
    assert!(!r.text().contains("sqlite://") && !r.text().contains("postgres://"), "{}", r.text());

    // An unknown target: 404; a bad name: 400.
    s.get("/hook/v1/targets/nope/revisions", Some(&read)).await.error(404, "target-not-found");
    s.get("/hook/v1/targets/a:b/revisions", Some(&read)).await.error(400, "invalid-name");

    // A database that does not exist yet: no revisions, the table missing, nothing created.
    let r = s.get("/hook/v1/targets/local/revisions", Some(&read)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"target": "local", "dialect": "sqlite", "revisions": [], "notClean": null, "tableMissing": true})
    );
    assert!(!h.db().exists(), "reading revisions created the database");

    // A database with a table: not clean.
    sqlite_exec(&h.db(), "CREATE TABLE users (id int)").await;
    let r = s.get("/hook/v1/targets/local/revisions", Some(&read)).await;
    assert!(r.json()["notClean"].as_str().is_some_and(|m| m.starts_with("found ")), "{}", r.text());

    if pg.is_some() {
        let r = s.get("/hook/v1/targets/pg/revisions", Some(&read)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["revisions"], json!([]));
        assert_eq!(r.json()["tableMissing"], true);
    }
}

/// Runs one statement on a SQLite file (creating it).
async fn sqlite_exec(path: &Path, sql: &str) {
    use sqlx::Connection;
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(true);
    let mut c = sqlx::SqliteConnection::connect_with(&opts).await.expect("open");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut c).await.expect("exec");
    let _ = c.close().await;
}

/// Three files: two tables and an index.
fn files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("20240101000000_users.sql".into(), b"CREATE TABLE users (id int);\n".to_vec()),
        (
            "20240102000000_posts.sql".into(),
            b"CREATE TABLE posts (id int);\nCREATE INDEX posts_id ON posts (id);\n".to_vec(),
        ),
    ]
}

/// Pushes `files` to `dir` and points `latest` at it.
async fn push(s: &Server, dir: &str, files: &[(String, Vec<u8>)]) -> String {
    let push = s.token("push");
    let v = s.push(&push, dir, &borrow(files)).await;
    let r = s.put_tag(&push, dir, "latest", &v, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    v.to_string()
}

#[tokio::test]
async fn plan() {
    let pg = pg_database("plan").await;
    let h = Hook::start(pg.as_deref()).await;
    let s = &h.server;
    let version = push(s, "app", &files()).await;
    let read = s.token("read");
    let read = read.as_str();
    let plan = |body: Value| async move { s.post_json("/hook/v1/targets/local/plan", Some(read), &body).await };

    // By tag and by version: the same plan, as a report document.
    let r = plan(json!({"dir": "app", "tag": "latest"})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["format"], "strata.report/v1");
    assert_eq!(doc["kind"], "plan");
    assert_eq!(doc["directory"], "app");
    assert_eq!(doc["target"], "local");
    assert_eq!(doc["version"], version.as_str());
    let names: Vec<&str> =
        doc["plan"]["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["20240101000000_users.sql", "20240102000000_posts.sql"]);
    assert_eq!(doc["plan"]["files"][1]["statements"].as_array().unwrap().len(), 2);
    let digest = doc["plan"]["digest"].as_str().unwrap().to_string();
    assert!(digest.starts_with("sha256:"), "{digest}");
    let by_version = plan(json!({"dir": "app", "version": version})).await.json();
    assert_eq!(by_version["plan"]["digest"], digest.as_str());
    assert!(!h.db().exists(), "planning created the database");

    // Options map to the core's.
    let r = plan(
        json!({"dir": "app", "tag": "latest", "options": {"amount": 1, "txMode": "all", "execOrder": "linear-skip"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let p = &r.json()["plan"];
    assert_eq!(p["files"].as_array().unwrap().len(), 1);
    assert_eq!(p["options"]["txMode"], "all");
    assert_ne!(p["digest"], digest.as_str());
    let r = plan(json!({"dir": "app", "tag": "latest", "options": {"toVersion": "20240101000000"}})).await;
    assert_eq!(r.json()["plan"]["target"], "20240101000000", "{}", r.text());

    // Bad requests: 400 with what and where.
    plan(json!({"dir": "app", "tag": "latest", "options": {"txMode": "some"}})).await.error(400, "invalid-option");
    plan(json!({"dir": "app", "tag": "latest", "options": {"execOrder": "random"}})).await.error(400, "invalid-option");
    plan(json!({"dir": "app", "tag": "latest", "options": {"amount": 0}})).await.error(400, "invalid-option");
    plan(json!({"dir": "app", "tag": "latest", "options": {"fast": true}})).await.error(400, "invalid-json");
    plan(json!({"dir": "app", "tag": "latest", "version": version})).await.error(400, "invalid-request");
    plan(json!({"dir": "app"})).await.error(400, "invalid-request");
    plan(json!({"dir": "app", "url": "sqlite:///etc/x.db", "tag": "latest"})).await.error(400, "invalid-json");
    plan(json!({"dir": "app", "version": "sha256:nope"})).await.error(400, "invalid-digest");
    plan(json!({"dir": "a/b", "tag": "latest"})).await.error(400, "invalid-name");
    plan(json!({"dir": "app", "tag": "v9"})).await.error(404, "tag-not-found");
    plan(json!({"dir": "app", "version": format!("sha256:{}", "0".repeat(64))})).await.error(404, "version-not-found");
    s.post_json("/hook/v1/targets/nope/plan", Some(read), &json!({"dir": "app", "tag": "latest"}))
        .await
        .error(404, "target-not-found");

    // Auth: no token 401, a token for another directory 403.
    s.post_json("/hook/v1/targets/local/plan", None, &json!({"dir": "app", "tag": "latest"}))
        .await
        .error(401, "unauthorized");
    let other = s.token_for("read", &["other"]);
    s.post_json("/hook/v1/targets/local/plan", Some(&other), &json!({"dir": "app", "tag": "latest"}))
        .await
        .error(403, "forbidden");

    // Atlas's refusal on a database that is not clean: 409 with the core's error.
    sqlite_exec(&h.db(), "CREATE TABLE legacy (id int)").await;
    let e = plan(json!({"dir": "app", "tag": "latest"})).await.error(409, "not-clean");
    assert!(e["planError"]["message"].as_str().unwrap().contains("not clean"), "{e}");
    let r = plan(json!({"dir": "app", "tag": "latest", "options": {"baseline": "20240101000000"}})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["plan"]["files"].as_array().unwrap().len(), 1);

    if pg.is_some() {
        let r = s.post_json("/hook/v1/targets/pg/plan", Some(read), &json!({"dir": "app", "tag": "latest"})).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["target"], "pg");
        assert_eq!(r.json()["plan"]["dialect"], "postgres");
        assert_eq!(r.json()["plan"]["files"].as_array().unwrap().len(), 2);
    }
}
