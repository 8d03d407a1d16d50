//! The registry API end to end against the real server: push, pull, tags
//! and their compare-and-swap, histories, listings and deployments.

mod common;

use common::{borrow, call, manifest_of, sample_files, Server};
use serde_json::{json, Value};
use strata::dir::Directory;
use strata::registry::{BlobDigest, Limits, Manifest};
use strata::report::{ApplyReport, Report, ReportBody};

/// Files of a version `n` (each version adds a file).
fn files(n: usize) -> Vec<(String, Vec<u8>)> {
    sample_files(n)
}

#[tokio::test]
async fn push_then_pull_verifies_every_byte() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let f = files(3);
    let m = manifest_of(&borrow(&f));
    let digests: Vec<String> = m.files.iter().map(|x| x.digest.to_string()).collect();

    // Nothing is there yet: every blob is missing, in the order asked.
    let r = s.post_json("/v1/dirs/app/blobs/missing", Some(&t), &json!({ "digests": digests })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["missing"], json!(digests));

    // Upload: 201 the first time, 200 after, with digest and size.
    for (name, bytes) in &f {
        let d = BlobDigest::of(bytes);
        let r = s.put(&format!("/v1/dirs/app/blobs/{d}"), Some(&t), bytes).await;
        assert_eq!(r.status, 201, "{name}: {}", r.text());
        assert_eq!(r.json(), json!({ "digest": d, "size": bytes.len() }));
        let r = s.put(&format!("/v1/dirs/app/blobs/{d}"), Some(&t), bytes).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text());
    }
    let r = s.post_json("/v1/dirs/app/blobs/missing", Some(&t), &json!({ "digests": digests })).await;
    assert_eq!(r.json()["missing"], json!([]));

    // The version: 201 once, 200 for the same manifest again.
    let body = serde_json::to_value(&m).unwrap();
    let r = s.post_json("/v1/dirs/app/versions", Some(&t), &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let size: usize = f.iter().map(|(_, b)| b.len()).sum();
    assert_eq!(r.json(), json!({ "digest": m.digest(), "files": 3, "size": size }));
    assert_eq!(r.header("location"), Some(format!("/v1/dirs/app/versions/{}", m.digest())));
    let r = s.post_json("/v1/dirs/app/versions", Some(&t), &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["digest"], json!(m.digest()));

    // Pull: the manifest by digest, immutable and cacheable; then the blobs.
    let r = s.get(&format!("/v1/dirs/app/versions/{}", m.digest()), Some(&t)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("etag"), Some(format!("\"{}\"", m.digest())));
    assert_eq!(r.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    let pulled: Manifest = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(pulled.digest(), m.digest());
    let mut blobs = std::collections::HashMap::new();
    for file in &pulled.files {
        let r = s.get(&format!("/v1/dirs/app/blobs/{}", file.digest), Some(&t)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("etag"), Some(format!("\"{}\"", file.digest)));
        assert_eq!(r.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
        assert_eq!(r.header("content-type").as_deref(), Some("application/octet-stream"));
        assert_eq!(r.header("content-length"), Some(file.size.to_string()));
        blobs.insert(file.digest.clone(), r.body);
    }
    let dir = pulled
        .assemble(&Limits::default(), strata::lex::Dialect::Generic, |d| blobs.get(d).cloned())
        .expect("the pulled directory verifies");
    let original = Directory::new(f.clone()).unwrap();
    assert_eq!(dir.files(), original.files());

    // HEAD: the headers without the bytes.
    let d = &pulled.files[0].digest;
    let r = call("HEAD", &s.at(&format!("/v1/dirs/app/blobs/{d}")), Some(&t), &[], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(pulled.files[0].size.to_string()));
    assert_eq!(r.header("etag"), Some(format!("\"{d}\"")));
    assert!(r.body.is_empty());

    // Listings.
    let r = s.get("/v1/dirs/app/versions", Some(&t)).await;
    let items = r.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["digest"], json!(m.digest()));
    assert_eq!(items[0]["files"], 3);
    assert_eq!(items[0]["size"], size);
    assert!(items[0]["createdBy"].as_str().unwrap().starts_with("tok_"), "{items}");
    assert!(strata::report::parse_rfc3339(items[0]["created"].as_str().unwrap()).is_some(), "{items}");
    assert!(r.json().get("next").is_none());
    let r = s.get("/v1/dirs", Some(&t)).await;
    let dirs = r.json()["items"].clone();
    assert_eq!(dirs.as_array().unwrap().len(), 1, "{dirs}");
    assert_eq!(dirs[0]["name"], "app");
    assert_eq!(dirs[0]["versions"], 1);
    assert_eq!(dirs[0]["tags"], 0);
}

#[tokio::test]
async fn a_blob_belongs_to_the_directories_it_was_uploaded_to() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let bytes = b"CREATE TABLE shared (id int);\n";
    let d = BlobDigest::of(bytes);
    assert_eq!(s.put(&format!("/v1/dirs/one/blobs/{d}"), Some(&t), bytes).await.status, 201);
    // Another directory neither reads it nor may reference it...
    s.get(&format!("/v1/dirs/two/blobs/{d}"), Some(&t)).await.error(404, "blob-not-found");
    let r = s.post_json("/v1/dirs/two/blobs/missing", Some(&t), &json!({ "digests": [d] })).await;
    assert_eq!(r.json()["missing"], json!([d]));
    let m = manifest_of(&[("1_a.sql", bytes)]);
    let r = s.post_json("/v1/dirs/two/versions", Some(&t), &serde_json::to_value(&m).unwrap()).await;
    let e = r.error(400, "missing-blob");
    assert_eq!(e["file"], "1_a.sql");
    // ...until it uploads the bytes itself (new to the directory: 201).
    assert_eq!(s.put(&format!("/v1/dirs/two/blobs/{d}"), Some(&t), bytes).await.status, 201);
    let r = s.post_json("/v1/dirs/two/versions", Some(&t), &serde_json::to_value(&m).unwrap()).await;
    assert_eq!(r.status, 201, "{}", r.text());
}

#[tokio::test]
async fn files_with_the_same_bytes_share_a_blob() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let same = b"SELECT 1;\n".as_slice();
    let v = s.push(&t, "app", &[("1_a.sql", same), ("2_b.sql", same), ("3_c.sql", b"SELECT 3;\n")]).await;
    let m: Manifest =
        serde_json::from_slice(&s.get(&format!("/v1/dirs/app/versions/{v}"), Some(&t)).await.body).unwrap();
    assert_eq!(m.files.len(), 3);
    assert_eq!(m.files[0].digest, m.files[1].digest);
}

#[tokio::test]
async fn tags_move_by_compare_and_swap_and_keep_their_history() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let v1 = s.push(&t, "app", &borrow(&files(1))).await;
    let v2 = s.push(&t, "app", &borrow(&files(2))).await;
    let q = |d: &BlobDigest| format!("\"{d}\"");

    // Create only if absent.
    let r = s.put_tag(&t, "app", "latest", &v1, &[("if-none-match", "*")]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "name": "latest", "version": v1, "previous": null }));
    assert_eq!(r.header("etag"), Some(q(&v1)));
    let e = s.put_tag(&t, "app", "latest", &v2, &[("if-none-match", "*")]).await.error(412, "precondition-failed");
    assert_eq!(e["current"], json!(v1));

    // Move only from where it is now.
    let e = s.put_tag(&t, "app", "latest", &v2, &[("if-match", &q(&v2))]).await.error(412, "precondition-failed");
    assert_eq!(e["current"], json!(v1));
    let r = s.put_tag(&t, "app", "latest", &v2, &[("if-match", &q(&v1))]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "name": "latest", "version": v2, "previous": v1 }));
    // If-Match on a tag that does not exist: 412 with a null current.
    let e = s.put_tag(&t, "app", "nope", &v2, &[("if-match", &q(&v1))]).await.error(412, "precondition-failed");
    assert_eq!(e["current"], Value::Null);
    assert!(e.as_object().unwrap().contains_key("current"));
    s.get("/v1/dirs/app/tags/nope", Some(&t)).await.error(404, "tag-not-found");

    // Unconditional moves, and a version the directory does not have.
    let r = s.put_tag(&t, "app", "v1.0", &v1, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let unknown = BlobDigest::of(b"no such version");
    s.put_tag(&t, "app", "latest", &unknown, &[]).await.error(404, "version-not-found");

    // Read: the manifest of the version, revalidated every time.
    let r = s.get("/v1/dirs/app/tags/latest", Some(&t)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some(q(&v2)));
    assert_eq!(r.header("strata-version"), Some(v2.to_string()));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-cache"));
    let m: Manifest = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(m.digest(), v2);
    let r = call("GET", &s.at("/v1/dirs/app/tags/latest"), Some(&t), &[("if-none-match", &q(&v2))], None).await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(q(&v2)));
    assert_eq!(r.header("strata-version"), Some(v2.to_string()));
    let r = call("GET", &s.at("/v1/dirs/app/tags/latest"), Some(&t), &[("if-none-match", &q(&v1))], None).await;
    assert_eq!(r.status, 200);

    // History, newest first, one page at a time.
    let r = s.get("/v1/dirs/app/tags/latest/history", Some(&t)).await;
    let items = r.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 2, "{items}");
    assert_eq!(items[0]["version"], json!(v2));
    assert_eq!(items[0]["previous"], json!(v1));
    assert_eq!(items[1]["version"], json!(v1));
    assert_eq!(items[1]["previous"], Value::Null);
    assert!(items[0]["by"].as_str().unwrap().starts_with("tok_"));
    assert!(strata::report::parse_rfc3339(items[0]["at"].as_str().unwrap()).is_some());
    let p1 = s.get("/v1/dirs/app/tags/latest/history?limit=1", Some(&t)).await.json();
    assert_eq!(p1["items"][0]["version"], json!(v2));
    let next = p1["next"].as_str().expect("a next page").to_string();
    let p2 = s.get(&format!("/v1/dirs/app/tags/latest/history?limit=1&cursor={next}"), Some(&t)).await.json();
    assert_eq!(p2["items"][0]["version"], json!(v1));
    assert!(p2.get("next").is_none(), "{p2}");
    s.get("/v1/dirs/app/tags/nope/history", Some(&t)).await.error(404, "tag-not-found");

    // The tag list, by name.
    let r = s.get("/v1/dirs/app/tags", Some(&t)).await.json();
    let names: Vec<&str> = r["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["latest", "v1.0"]);
    assert_eq!(r["items"][0]["version"], json!(v2));
    assert!(r["items"][0]["updatedBy"].as_str().unwrap().starts_with("tok_"));
    s.get("/v1/dirs/nothing/tags", Some(&t)).await.error(404, "dir-not-found");
    let d = s.get("/v1/dirs", Some(&t)).await.json();
    assert_eq!(d["items"][0]["tags"], 2);
    assert_eq!(d["items"][0]["versions"], 2);
}

#[tokio::test]
async fn concurrent_compare_and_swap_has_one_winner() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let base = s.push(&t, "app", &borrow(&files(1))).await;
    assert_eq!(s.put_tag(&t, "app", "latest", &base, &[]).await.status, 200);
    let mut versions = Vec::new();
    for n in 2..=9 {
        versions.push(s.push(&t, "app", &borrow(&files(n))).await);
    }
    let cond = format!("\"{base}\"");
    let attempts = versions.iter().map(|v| {
        let (s, t, cond) = (&s, &t, &cond);
        async move { (v.clone(), s.put_tag(t, "app", "latest", v, &[("if-match", cond)]).await) }
    });
    let results = futures_util::future::join_all(attempts).await;
    let winners: Vec<&BlobDigest> = results.iter().filter(|(_, r)| r.status == 200).map(|(v, _)| v).collect();
    assert_eq!(winners.len(), 1, "{:?}", results.iter().map(|(_, r)| r.status).collect::<Vec<_>>());
    for (_, r) in results.iter().filter(|(_, r)| r.status != 200) {
        let e = r.error(412, "precondition-failed");
        assert_eq!(e["current"], json!(winners[0]));
    }
    let h = s.get("/v1/dirs/app/tags/latest/history", Some(&t)).await.json();
    assert_eq!(h["items"].as_array().unwrap().len(), 2, "{h}");
    assert_eq!(h["items"][0]["version"], json!(winners[0]));
    assert_eq!(h["items"][0]["previous"], json!(base));
}

#[tokio::test]
async fn lists_page_through_everything_once() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let mut pushed = Vec::new();
    for n in 1..=5 {
        pushed.push(s.push(&t, "app", &borrow(&files(n))).await);
    }
    for d in ["b", "c", "d"] {
        s.push(&t, d, &borrow(&files(1))).await;
    }
    // Versions, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => "/v1/dirs/app/versions?limit=2".to_string(),
            Some(c) => format!("/v1/dirs/app/versions?limit=2&cursor={c}"),
        };
        let r = s.get(&path, Some(&t)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        let items = j["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["digest"].as_str().unwrap().to_string()));
        pages += 1;
        match j.get("next") {
            Some(n) => cursor = Some(n.as_str().unwrap().to_string()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    let newest_first: Vec<String> = pushed.iter().rev().map(|d| d.to_string()).collect();
    assert_eq!(seen, newest_first);
    assert_eq!(pages, 3);

    // Directories, by name.
    let p1 = s.get("/v1/dirs?limit=2", Some(&t)).await.json();
    let p2 = s.get(&format!("/v1/dirs?limit=2&cursor={}", p1["next"].as_str().unwrap()), Some(&t)).await.json();
    let names: Vec<&str> = p1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2["items"].as_array().unwrap())
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app", "b", "c", "d"]);
    assert!(p2.get("next").is_none(), "{p2}");
    // Limits above 1000 are read as 1000; nonsense is refused.
    assert_eq!(s.get("/v1/dirs?limit=5000", Some(&t)).await.status, 200);
    s.get("/v1/dirs?limit=ten", Some(&t)).await.error(400, "invalid-query");
    s.get("/v1/dirs?lmit=10", Some(&t)).await.error(400, "invalid-query");
    s.get("/v1/dirs/nothing/versions", Some(&t)).await.error(404, "dir-not-found");
}

/// A report document for an apply of `dir`'s first file.
fn apply_report(error: Option<&str>, dry_run: bool) -> Report {
    let start = 1_700_000_000_000_000_000;
    Report::new(ReportBody::Apply(Box::new(ApplyReport {
        digest: "sha256:plan".into(),
        sum: "h1:x".into(),
        dry_run,
        start,
        end: Some(start + 2_000_000_000),
        error: error.map(str::to_string),
        ..ApplyReport::default()
    })))
}

/// The directory of `f` with its `atlas.sum`.
fn with_sum(f: &[(String, Vec<u8>)]) -> Directory {
    let mut entries = f.to_vec();
    let sum = Directory::new(f.to_vec()).unwrap().computed_sum().render();
    entries.push(("atlas.sum".into(), sum.into_bytes()));
    Directory::new(entries).unwrap()
}

fn plan_report(f: &[(String, Vec<u8>)]) -> Report {
    let dir = with_sum(f);
    let plan =
        strata::plan::plan(&dir, &strata::plan::DbState::default(), &strata::plan::PlanOptions::default()).unwrap();
    Report::new(ReportBody::Plan(Box::new(plan)))
}

fn status_report(f: &[(String, Vec<u8>)]) -> Report {
    let dir = with_sum(f);
    let status = strata::plan::status(&dir, &strata::plan::DbState::default()).unwrap();
    Report::new(ReportBody::Status(Box::new(status)))
}

#[tokio::test]
async fn deployments_are_recorded_filtered_and_read_back() {
    let s = Server::start().await;
    let t = s.token("read,push,report");
    let f = files(2);
    let v = s.push(&t, "app", &borrow(&f)).await;
    s.push(&t, "other", &borrow(&f)).await;

    let post = |dir: &str, body: Value| {
        let (s, t, dir) = (&s, &t, dir.to_string());
        async move { s.post_json(&format!("/v1/dirs/{dir}/deployments"), Some(t), &body).await }
    };
    let ok = apply_report(None, false);
    let r = post("app", json!({ "target": "prod", "version": v, "report": ok })).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let first = r.json();
    assert_eq!(first["status"], "succeeded");
    let first_id = first["id"].as_str().unwrap().to_string();
    assert!(first_id.starts_with("dep_"), "{first}");
    let failed = apply_report(Some("Error 1064: syntax"), false);
    assert_eq!(post("app", json!({ "target": "prod", "report": failed })).await.json()["status"], "failed");
    let dry = apply_report(None, true);
    assert_eq!(post("app", json!({ "target": "staging", "report": dry })).await.json()["status"], "dry-run");
    let planned = plan_report(&f);
    assert_eq!(post("app", json!({ "target": "staging", "report": planned })).await.json()["status"], "planned");
    let checked = status_report(&f);
    assert_eq!(post("other", json!({ "target": "prod", "report": checked })).await.json()["status"], "checked");

    // Newest first, everything.
    let all = s.get("/v1/deployments", Some(&t)).await.json();
    let statuses: Vec<&str> = all["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["checked", "planned", "dry-run", "failed", "succeeded"]);
    let oldest = &all["items"][4];
    assert_eq!(oldest["id"], json!(first_id));
    assert_eq!(oldest["dir"], "app");
    assert_eq!(oldest["target"], "prod");
    assert_eq!(oldest["version"], json!(v));
    assert_eq!(oldest["planDigest"], "sha256:plan");
    assert_eq!(oldest["started"], "2023-11-14T22:13:20Z");
    assert_eq!(oldest["finished"], "2023-11-14T22:13:22Z");
    assert_eq!(oldest["error"], Value::Null);
    assert!(oldest["createdBy"].as_str().unwrap().starts_with("tok_"));
    assert!(strata::report::parse_rfc3339(oldest["created"].as_str().unwrap()).is_some());
    assert_eq!(all["items"][3]["error"], "Error 1064: syntax");
    assert_eq!(all["items"][3]["version"], Value::Null);

    // Filters.
    let count = |q: &'static str| {
        let (s, t) = (&s, &t);
        async move {
            let r = s.get(&format!("/v1/deployments?{q}"), Some(t)).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text());
            r.json()["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("target=prod").await, 3);
    assert_eq!(count("dir=app").await, 4);
    assert_eq!(count("dir=app&target=prod").await, 2);
    assert_eq!(count("status=failed").await, 1);
    assert_eq!(count("dir=other&status=checked").await, 1);
    assert_eq!(count("target=nowhere").await, 0);
    s.get("/v1/deployments?status=exploded", Some(&t)).await.error(400, "invalid-status");
    s.get("/v1/deployments?dir=a%2Fb", Some(&t)).await.error(400, "invalid-name");
    s.get("/v1/deployments?colour=red", Some(&t)).await.error(400, "invalid-query");

    // Pages.
    let mut ids = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let q = if cursor.is_empty() { "limit=2".to_string() } else { format!("limit=2&cursor={cursor}") };
        let p = s.get(&format!("/v1/deployments?{q}"), Some(&t)).await.json();
        ids.extend(p["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match p.get("next") {
            Some(n) => cursor = n.as_str().unwrap().to_string(),
            None => break,
        }
    }
    let all_ids: Vec<String> =
        all["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, all_ids);

    // One, with the report as posted.
    let one = s.get(&format!("/v1/deployments/{first_id}"), Some(&t)).await;
    assert_eq!(one.status, 200, "{}", one.text());
    let one = one.json();
    assert_eq!(one["status"], "succeeded");
    assert_eq!(one["target"], "prod");
    let back: Report = serde_json::from_value(one["report"].clone()).unwrap();
    assert_eq!(back, ok);
    s.get("/v1/deployments/dep_nope", Some(&t)).await.error(404, "deployment-not-found");
    s.get("/v1/deployments/whatever", Some(&t)).await.error(404, "deployment-not-found");
}

#[tokio::test]
async fn bad_deployment_reports_are_refused_and_not_recorded() {
    let s = Server::start().await;
    let t = s.token("read,push,report");
    s.push(&t, "app", &borrow(&files(1))).await;
    let ok = serde_json::to_value(apply_report(None, false)).unwrap();
    let post = |dir: &'static str, body: Value| {
        let (s, t) = (&s, &t);
        async move { s.post_json(&format!("/v1/dirs/{dir}/deployments"), Some(t), &body).await }
    };
    post("app", json!({ "target": "prod/eu", "report": ok })).await.error(400, "invalid-name");
    post("app", json!({ "target": "", "report": ok })).await.error(400, "invalid-name");
    post("app", json!({ "report": ok })).await.error(400, "invalid-json");
    post("app", json!({ "target": "prod", "report": ok, "extra": 1 })).await.error(400, "invalid-json");
    post("app", json!({ "target": "prod", "version": "v1", "report": ok })).await.error(400, "invalid-digest");
    let unknown = BlobDigest::of(b"x");
    post("app", json!({ "target": "prod", "version": unknown, "report": ok })).await.error(404, "version-not-found");
    post("nothing", json!({ "target": "prod", "report": ok })).await.error(404, "dir-not-found");
    let mut v2 = ok.clone();
    v2["format"] = json!("strata.report/v2");
    post("app", json!({ "target": "prod", "report": v2 })).await.error(400, "report-format");
    let mut no_body = ok.clone();
    no_body.as_object_mut().unwrap().remove("apply");
    post("app", json!({ "target": "prod", "report": no_body })).await.error(400, "invalid-report");
    post("app", json!({ "target": "prod", "report": "a string" })).await.error(400, "invalid-report");
    post("app", json!({ "target": "prod", "report": { "format": "strata.report/v1", "kind": "apply", "apply": 3 } }))
        .await
        .error(400, "invalid-report");
    let mut elsewhere = ok.clone();
    elsewhere["target"] = json!("staging");
    post("app", json!({ "target": "prod", "report": elsewhere })).await.error(400, "report-mismatch");
    let mut other_dir = ok.clone();
    other_dir["directory"] = json!("billing");
    post("app", json!({ "target": "prod", "report": other_dir })).await.error(400, "report-mismatch");
    let r = call("POST", &s.at("/v1/dirs/app/deployments"), Some(&t), &[], Some(b"{\"target\":".to_vec())).await;
    r.error(400, "invalid-json");
    let all = s.get("/v1/deployments", Some(&t)).await.json();
    assert_eq!(all["items"], json!([]), "nothing was recorded");
}

#[tokio::test]
async fn data_survives_a_crash_and_a_restart() {
    let mut s = Server::start().await;
    let t = s.token("read,push,report");
    let v = s.push(&t, "app", &borrow(&files(2))).await;
    assert_eq!(s.put_tag(&t, "app", "latest", &v, &[]).await.status, 200);
    s.kill();
    s.restart();
    let r = s.get("/v1/dirs/app/tags/latest", Some(&t)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("strata-version"), Some(v.to_string()));
    let m: Manifest = serde_json::from_slice(&r.body).unwrap();
    for f in &m.files {
        let b = s.get(&format!("/v1/dirs/app/blobs/{}", f.digest), Some(&t)).await;
        assert_eq!(BlobDigest::of(&b.body), f.digest);
    }
}
