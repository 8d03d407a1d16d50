//! The hook over HTTP (`/hook/v1`), against the real binary: a SQLite
//! target in the test's temp dir always, and a PostgreSQL target on a
//! fresh database when `STRATA_TEST_METADATA` (an admin URL) is set
//! (otherwise those tests print a note and pass).

mod common;

use common::{borrow, call, Server};
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
        // Atlas's SQLite lock file goes to the server's temp dir: one per test.
        let server =
            Server::start_with_env(&["--targets", file.to_str().unwrap()], &[("TMPDIR", tmp.path().to_str().unwrap())])
                .await;
        Hook { server, tmp }
    }

    fn db(&self) -> PathBuf {
        self.tmp.path().join("app.db")
    }
}

/// A fresh PostgreSQL database for a target (URL), or `None` with a note.
async fn pg_database(test: &str) -> Option<String> {
    let Ok(admin) = std::env::var("STRATA_TEST_METADATA") else {
        eprintln!("note: {test}: STRATA_TEST_METADATA is not set; the PostgreSQL target is not tested");
        return None;
    };
    Some(common::fresh_database(&admin).await)
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

/// `POST /hook/v1/targets/{t}/apply`; the answer whole.
async fn apply(s: &Server, token: Option<&str>, t: &str, body: &Value) -> common::Resp {
    s.post_json(&format!("/hook/v1/targets/{t}/apply"), token, body).await
}

/// The NDJSON events of a 200 apply.
fn events(r: &common::Resp) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type").as_deref(), Some("application/x-ndjson"));
    let text = r.text();
    assert!(text.ends_with('\n'), "{text}");
    assert!(text.lines().all(|l| l.starts_with("{\"type\":")), "{text}");
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn types(ev: &[Value]) -> Vec<&str> {
    ev.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// The plan digest of `latest` of `app` on `t`, with `options`.
async fn preview(s: &Server, token: &str, t: &str, options: Value) -> (String, String) {
    let r = s
        .post_json(
            &format!("/hook/v1/targets/{t}/plan"),
            Some(token),
            &json!({"dir": "app", "tag": "latest", "options": options}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    (j["version"].as_str().unwrap().to_string(), j["plan"]["digest"].as_str().unwrap().to_string())
}

async fn revisions(s: &Server, token: &str, t: &str) -> Vec<Value> {
    let r = s.get(&format!("/hook/v1/targets/{t}/revisions"), Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["revisions"].as_array().unwrap().clone()
}

/// Apply, stale digest, failing statement, dry run and auth on target `t`.
async fn apply_scenario(h: &Hook, t: &str) {
    let s = &h.server;
    push(s, "app", &files()).await;
    let (read, deploy) = (s.token("read"), s.token("deploy"));

    // Auth: no token 401, a read token 403, a token for another directory 403.
    let (version, digest) = preview(s, &read, t, json!({})).await;
    let body = json!({"dir": "app", "version": version, "planDigest": digest});
    apply(s, None, t, &body).await.error(401, "unauthorized");
    apply(s, Some(&read), t, &body).await.error(403, "forbidden");
    apply(s, Some(&s.token_for("deploy", &["other"])), t, &body).await.error(403, "forbidden");

    // A token limited to other targets: the target is not listed, and its
    // revisions, plans and applies are refused (403) with nothing executed.
    let elsewhere = s.token_limited("read,deploy", &[], &["staging"]);
    let listed = s.get("/hook/v1/targets", Some(&elsewhere)).await;
    assert_eq!(listed.json(), json!({ "items": [] }), "{}", listed.text());
    let e = s.get(&format!("/hook/v1/targets/{t}/revisions"), Some(&elsewhere)).await.error(403, "forbidden");
    assert!(e["message"].as_str().unwrap().contains("limited to the targets staging"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("--target"), "{e}");
    s.post_json(&format!("/hook/v1/targets/{t}/plan"), Some(&elsewhere), &json!({"dir": "app", "tag": "latest"}))
        .await
        .error(403, "forbidden");
    apply(s, Some(&elsewhere), t, &body).await.error(403, "forbidden");
    assert_eq!(revisions(s, &read, t).await, Vec::<Value>::new());
    // A token limited to this target (and another) sees and plans it.
    let here = s.token_limited("read", &[], &["staging", t]);
    let listed = s.get("/hook/v1/targets", Some(&here)).await.json();
    assert_eq!(listed["items"].as_array().map(|i| i.len()), Some(1), "{listed}");
    assert_eq!(listed["items"][0]["name"], t);
    preview(s, &here, t, json!({})).await;
    apply(s, Some(&deploy), t, &json!({"dir": "app", "version": version, "planDigest": "abc"}))
        .await
        .error(400, "invalid-digest");
    apply(s, Some(&deploy), t, &json!({"dir": "app", "version": version})).await.error(400, "invalid-json");

    // A stale digest (the plan of other options): 409 with both digests, nothing executed.
    let (_, one) = preview(s, &read, t, json!({"amount": 1})).await;
    let e = apply(s, Some(&deploy), t, &json!({"dir": "app", "version": version, "planDigest": one}))
        .await
        .error(409, "stale-plan");
    assert_eq!(e["expected"], one.as_str());
    assert_eq!(e["actual"], digest.as_str());
    assert_eq!(revisions(s, &read, t).await, Vec::<Value>::new());

    // Dry run: planned and finished, nothing written, a dry-run deployment.
    let mut dry = body.clone();
    dry["dryRun"] = json!(true);
    let ev = events(&apply(s, Some(&deploy), t, &dry).await);
    assert_eq!(types(&ev), ["planned", "finished"]);
    assert_eq!(ev[1]["deployment"]["status"], "dry-run", "{}", ev[1]);
    assert_eq!(revisions(s, &read, t).await, Vec::<Value>::new());

    // The apply: events in order, the report last with its deployment.
    let ev = events(&apply(s, Some(&deploy), t, &body).await);
    assert_eq!(
        types(&ev),
        [
            "planned",
            "fileStarted",
            "statementDone",
            "fileDone",
            "fileStarted",
            "statementDone",
            "statementDone",
            "fileDone",
            "finished"
        ]
    );
    assert_eq!(ev[0]["digest"], digest.as_str());
    let fin = &ev[8];
    assert_eq!(fin["report"]["applied"].as_array().unwrap().len(), 2, "{fin}");
    assert_eq!(fin["report"]["error"], Value::Null);
    assert_eq!(fin["deployment"]["status"], "succeeded", "{fin}");
    let id = fin["deployment"]["id"].as_str().unwrap();
    let d = s.get(&format!("/v1/deployments/{id}"), Some(&read)).await;
    assert_eq!(d.status, 200, "{}", d.text());
    let d = d.json();
    assert_eq!((&d["dir"], &d["target"], &d["status"]), (&json!("app"), &json!(t), &json!("succeeded")));
    assert_eq!(d["version"], version.as_str());
    assert_eq!(d["planDigest"], digest.as_str());
    assert_eq!(d["report"]["kind"], "apply");
    assert_eq!(d["report"]["directory"], "app");
    assert_eq!(d["report"]["target"], t);
    let revs = revisions(s, &read, t).await;
    assert_eq!(revs.len(), 2);
    assert!(revs.iter().all(|r| r["applied"] == r["total"] && r["error"] == ""), "{revs:?}");

    // The same digest again: the database moved on, 409, nothing executed.
    let e = apply(s, Some(&deploy), t, &body).await.error(409, "stale-plan");
    assert_ne!(e["actual"], e["expected"]);
    assert_eq!(revisions(s, &read, t).await, revs);

    // A failing statement: a stored failed report naming the file, the statement and the database's error.
    let mut more = files();
    more.push((
        "20240103000000_bad.sql".into(),
        b"CREATE TABLE tags (id int);\nINSERT INTO nope VALUES (1);\n".to_vec(),
    ));
    push(s, "app", &more).await;
    let (version, digest) = preview(s, &read, t, json!({})).await;
    let ev =
        events(&apply(s, Some(&deploy), t, &json!({"dir": "app", "version": version, "planDigest": digest})).await);
    assert_eq!(types(&ev), ["planned", "fileStarted", "statementDone", "error", "finished"]);
    assert_eq!(ev[3]["file"], "20240103000000_bad.sql", "{}", ev[3]);
    assert_eq!(ev[3]["statement"]["index"], 2, "{}", ev[3]);
    assert!(ev[3]["message"].as_str().unwrap().contains("nope"), "{}", ev[3]);
    assert_eq!((&ev[3]["statement"]["line"], &ev[3]["statement"]["pos"]), (&json!(2), &json!(28)), "{}", ev[3]);
    let fin = &ev[4];
    assert_eq!(fin["deployment"]["status"], "failed", "{fin}");
    let id = fin["deployment"]["id"].as_str().unwrap();
    let d = s.get(&format!("/v1/deployments/{id}"), Some(&read)).await.json();
    assert_eq!(d["status"], "failed");
    assert!(d["error"].as_str().unwrap().contains("nope"), "{d}");
    let file = &d["report"]["apply"]["applied"][0];
    assert_eq!(file["name"], "20240103000000_bad.sql", "{d}");
    assert_eq!(file["error"]["stmt"], "INSERT INTO nope VALUES (1);", "{d}");
    assert!(file["error"]["text"].as_str().unwrap().contains("nope"), "{d}");
    let listed = s.get("/v1/deployments?dir=app", Some(&read)).await.json();
    let statuses: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "succeeded", "dry-run"]);
}

#[tokio::test]
async fn apply_sqlite() {
    let h = Hook::start(None).await;
    apply_scenario(&h, "local").await;
}

#[tokio::test]
async fn apply_postgres() {
    let Some(pg) = pg_database("apply_postgres").await else { return };
    let h = Hook::start(Some(&pg)).await;
    apply_scenario(&h, "pg").await;
}

/// 8 applies of one plan at once: one runs it, each statement once; the
/// others get 423 (naming the deployment) or a stale plan.
async fn concurrent(h: &Hook, t: &str) {
    let s = &h.server;
    push(s, "app", &files()).await;
    let (read, deploy) = (s.token("read"), s.token("deploy"));
    let (version, digest) = preview(s, &read, t, json!({})).await;
    let body = serde_json::to_vec(&json!({"dir": "app", "version": version, "planDigest": digest})).unwrap();
    let url = s.at(&format!("/hook/v1/targets/{t}/apply"));
    let answers = futures_util::future::join_all(
        (0..8).map(|_| call("POST", &url, Some(&deploy), &[("content-type", "application/json")], Some(body.clone()))),
    )
    .await;
    let mut ran = 0;
    let mut statements = 0;
    for r in &answers {
        match r.status {
            200 => {
                ran += 1;
                let ev = events(r);
                statements += types(&ev).iter().filter(|t| **t == "statementDone").count();
                assert_eq!(ev.last().unwrap()["deployment"]["status"], "succeeded");
            }
            423 => {
                let e = r.error(423, "lock-held");
                assert!(e["holder"]["deployment"].as_str().unwrap().starts_with("dep_"), "{e}");
                assert!(e["holder"]["since"].as_str().is_some(), "{e}");
            }
            409 => {
                r.error(409, "stale-plan");
            }
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    assert_eq!(ran, 1, "{answers:?}");
    assert_eq!(statements, 3);
    let revs = revisions(s, &read, t).await;
    assert_eq!(revs.len(), 2);
    assert!(revs.iter().all(|r| r["applied"] == r["total"]), "{revs:?}");
    let listed = s.get("/v1/deployments?dir=app", Some(&read)).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn concurrent_applies_sqlite() {
    let h = Hook::start(None).await;
    concurrent(&h, "local").await;
}

#[tokio::test]
async fn concurrent_applies_postgres() {
    let Some(pg) = pg_database("concurrent_applies_postgres").await else { return };
    let h = Hook::start(Some(&pg)).await;
    concurrent(&h, "pg").await;
}

/// A stored blob that no longer matches its digest: plan and apply refuse
/// with the file named, and nothing runs (embedded storage only: the test
/// damages the blob file).
#[tokio::test]
async fn damaged_version_runs_nothing() {
    let h = Hook::start(None).await;
    let s = &h.server;
    if !s.storage.embedded() {
        eprintln!("note: damaged_version_runs_nothing needs the embedded storage; skipped");
        return;
    }
    push(s, "app", &files()).await;
    let (read, deploy) = (s.token("read"), s.token("deploy"));
    let (version, digest) = preview(s, &read, "local", json!({})).await;
    let (name, bytes) = &files()[1];
    let hex = strata::registry::BlobDigest::of(bytes).hex().to_string();
    let blob = s.storage.path().join("blobs/sha256").join(&hex[..2]).join(&hex);
    let mut damaged = bytes.clone();
    damaged[0] = b'D';
    std::fs::write(&blob, &damaged).expect("damage the blob");

    let e = s
        .post_json("/hook/v1/targets/local/plan", Some(&read), &json!({"dir": "app", "tag": "latest"}))
        .await
        .error(400, "digest-mismatch");
    assert_eq!(e["file"], name.as_str(), "{e}");
    let body = json!({"dir": "app", "version": version, "planDigest": digest});
    let e = apply(s, Some(&deploy), "local", &body).await.error(400, "digest-mismatch");
    assert_eq!(e["file"], name.as_str(), "{e}");
    assert!(!h.db().exists(), "a damaged version touched the target");
    let listed = s.get("/v1/deployments?dir=app", Some(&read)).await.json();
    assert_eq!(listed["items"], json!([]));
}

/// Atlas holds the SQLite lock (its lock file with a future expiry, in the
/// server's temp dir): after the target's lock_timeout the apply is a 423
/// naming another process, and nothing ran.
#[tokio::test]
async fn lock_held_by_another_process() {
    let h = Hook::start(None).await;
    let s = &h.server;
    push(s, "app", &files()).await;
    let (read, deploy) = (s.token("read"), s.token("deploy"));
    let (version, digest) = preview(s, &read, "local", json!({})).await;
    let expires =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() + 3_600_000_000_000;
    let lock = h.tmp.path().join("atlas_migrate_execute.lock");
    std::fs::write(&lock, expires.to_string()).unwrap();
    let body = json!({"dir": "app", "version": version, "planDigest": digest});
    let e = apply(s, Some(&deploy), "local", &body).await.error(423, "lock-held");
    assert_eq!(e["holder"], json!({"deployment": null, "since": null, "process": "other"}));
    assert!(!h.db().exists(), "the apply touched the target");
    assert_eq!(s.get("/v1/deployments?dir=app", Some(&read)).await.json()["items"], json!([]));
    // Once Atlas releases it, the same plan applies.
    std::fs::remove_file(&lock).unwrap();
    let ev = events(&apply(s, Some(&deploy), "local", &body).await);
    assert_eq!(ev.last().unwrap()["deployment"]["status"], "succeeded");
}

/// `--registry`: the hook fetches versions from another registry and
/// records its deployments there.
#[tokio::test]
async fn versions_from_a_remote_registry() {
    let central = Server::start().await;
    let version = push(&central, "app", &files()).await;
    let tmp = tempfile::tempdir().unwrap();
    let targets = tmp.path().join("targets.toml");
    std::fs::write(&targets, format!("[targets.local]\nurl = \"sqlite://{}\"\n", tmp.path().join("app.db").display()))
        .unwrap();
    let start = |token: String| {
        let (url, targets, tmp) = (central.url.clone(), targets.clone(), tmp.path().to_path_buf());
        async move {
            Server::start_with_env(
                &["--targets", targets.to_str().unwrap(), "--registry", &url],
                &[("STRATA_REGISTRY_TOKEN", token.as_str()), ("TMPDIR", tmp.to_str().unwrap())],
            )
            .await
        }
    };
    let hook = start(central.token_for("read,report", &["app"])).await;
    let deploy = hook.token("read,deploy");

    // The plan is of the central registry's version (the hook's own
    // storage has no directory at all).
    let (v, digest) = preview(&hook, &deploy, "local", json!({})).await;
    assert_eq!(v, version);
    hook.get("/v1/dirs/app/tags/latest", Some(&deploy)).await.error(404, "tag-not-found");
    let r = hook.post_json("/hook/v1/targets/local/plan", Some(&deploy), &json!({"dir": "app", "tag": "nope"})).await;
    let e = r.error(404, "tag-not-found");
    assert!(e["message"].as_str().unwrap().contains("nope"), "{e}");

    // The apply's report is recorded in the central registry.
    let ev =
        events(&apply(&hook, Some(&deploy), "local", &json!({"dir": "app", "version": v, "planDigest": digest})).await);
    let fin = ev.last().unwrap();
    assert_eq!(fin["deployment"]["status"], "succeeded", "{fin}");
    let id = fin["deployment"]["id"].as_str().unwrap();
    let d = central.get(&format!("/v1/deployments/{id}"), Some(&central.token("read"))).await;
    assert_eq!(d.status, 200, "{}", d.text());
    assert_eq!((d.json()["target"].as_str(), d.json()["version"].as_str()), (Some("local"), Some(version.as_str())));
    hook.get(&format!("/v1/deployments/{id}"), Some(&deploy)).await.error(404, "deployment-not-found");
    assert_eq!(revisions(&hook, &deploy, "local").await.len(), 2);

    // A token the registry refuses is the operator's problem: 502.
    let refused = start("strata_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()).await;
    let t = refused.token("read");
    let r = refused.post_json("/hook/v1/targets/local/plan", Some(&t), &json!({"dir": "app", "tag": "latest"})).await;
    let e = r.error(502, "registry-refused");
    assert!(e["hint"].as_str().unwrap().contains("--registry-token"), "{e}");
}
