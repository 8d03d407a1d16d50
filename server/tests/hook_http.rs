//! The hook over HTTP (`/hook/v1`), against the real binary: a SQLite
//! target in the test's temp dir always, and a PostgreSQL target on a
//! fresh database when `STRATA_TEST_METADATA` (an admin URL) is set
//! (otherwise those tests print a note and pass).

mod common;

use common::Server;
use serde_json::json;
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
