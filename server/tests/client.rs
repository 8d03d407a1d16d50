//! The core's registry client (`strata::registry::client`) over the
//! reqwest transport (`strata_server::remote`), against the real server on
//! loopback: push, fetch, the 304 path, incremental fetches, tags, damaged
//! blobs and errors.

mod common;

use common::{sample_files, Server};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use strata::dir::Directory;
use strata::lex::Dialect;
use strata::registry::client::{
    HttpRequest, HttpResponse, Progress, Stats, TagCondition, Transport, TransportError, MAX_IN_FLIGHT,
};
use strata::registry::{BlobDigest, Client, Manifest};
use strata_server::remote::{self, RemoteRegistry, Reqwest};

/// A transport on loopback (no proxy from the environment).
fn transport() -> Reqwest {
    Reqwest::with_client(reqwest::Client::builder().no_proxy().build().unwrap())
}

fn registry(s: &Server, token: &str) -> RemoteRegistry {
    Client::new(&s.url, transport()).unwrap().with_token(token).unwrap()
}

/// A directory of `n` sample files and its atlas.sum.
fn directory(n: usize) -> Directory {
    let files = sample_files(n);
    let dir = Directory::new(files.clone()).unwrap();
    let sum = dir.checksum().render();
    Directory::new(files.into_iter().chain([("atlas.sum".to_string(), sum.into_bytes())])).unwrap()
}

fn same_files(a: &Directory, b: &Directory) {
    let names =
        |d: &Directory| d.files().iter().map(|f| (f.name().to_string(), f.bytes().to_vec())).collect::<Vec<_>>();
    assert_eq!(names(a), names(b));
    assert_eq!(a.sum_file(), b.sum_file());
}

/// Requests and 304s sent by `c` since `before`.
fn since(c: &RemoteRegistry, before: Stats) -> (u64, u64) {
    let now = c.stats();
    (now.requests - before.requests, now.not_modified - before.not_modified)
}

#[tokio::test]
async fn push_then_fetch_returns_the_same_bytes_and_a_second_push_uploads_nothing() {
    let s = Server::start().await;
    let token = s.token("read,push");
    let pusher = registry(&s, &token);
    let dir = directory(20);

    let mut progress = Vec::new();
    let pushed = pusher.push(&dir, "app", &["v1", "latest"], |p| progress.push(p)).await.unwrap();
    assert!(pushed.created);
    assert_eq!(pushed.version, Manifest::of(&dir).digest());
    assert_eq!((pushed.files, pushed.uploaded.files), (20, 20));
    assert_eq!(pushed.uploaded.bytes, pushed.size);
    let tags: Vec<_> = pushed.tags.iter().map(|t| (t.name.as_str(), &t.version, t.previous.is_none())).collect();
    assert_eq!(tags, [("latest", &pushed.version, true), ("v1", &pushed.version, true)], "latest once, first");
    // Progress: the totals first, then once per blob, ending at the totals.
    assert_eq!(progress.len(), 21);
    assert_eq!(progress[0], Progress { files_total: 20, bytes_total: pushed.size, ..Progress::default() });
    assert!(progress.windows(2).all(|w| w[1].files_done == w[0].files_done + 1 && w[1].bytes_done > w[0].bytes_done));
    assert_eq!(
        progress[20],
        Progress { files_done: 20, files_total: 20, bytes_done: pushed.size, bytes_total: pushed.size }
    );
    // blobs/missing, 20 blobs, the version, two tags; bytes: the blobs and the JSON.
    let st = pusher.stats();
    assert_eq!(st.requests, 24);
    assert!(st.bytes_sent > pushed.size && st.bytes_received > 0, "{st:?}");

    // Another client gets the same directory.
    let reader = registry(&s, &s.token("read"));
    let fetched = reader.fetch("app", "latest", Dialect::Postgres, |_| {}).await.unwrap();
    assert_eq!(fetched.version, pushed.version);
    assert!(!fetched.not_modified);
    assert_eq!((fetched.downloaded.files as u64, fetched.downloaded.bytes), (20, pushed.size));
    same_files(&fetched.directory, &dir);
    assert_eq!(fetched.directory.dialect(), Dialect::Postgres);
    assert!(fetched.directory.verify(None).is_ok());
    assert_eq!(reader.stats().requests, 2, "the tag, then all 20 blobs in one blobs/fetch");
    // The manifest alone (what a diff needs), by tag and by digest, with no blob.
    let before = reader.stats();
    let (version, manifest) = reader.manifest("app", "v1").await.unwrap();
    assert_eq!((version, &manifest), (pushed.version.clone(), &fetched.manifest));
    assert_eq!(reader.manifest("app", pushed.version.as_str()).await.unwrap().1, manifest);
    assert_eq!(since(&reader, before).0, 2, "one manifest each, no blob");
    let before = reader.stats();
    reader.manifest("app", pushed.version.as_str()).await.unwrap();
    assert_eq!(since(&reader, before).0, 0, "a version is immutable: asked once");
    assert_eq!(reader.manifest("app", "nope").await.unwrap_err().code, "tag-not-found");

    // Pushing the same directory again: nothing to upload, the version exists.
    let before = pusher.stats();
    let again = pusher.push(&dir, "app", &[], |_| {}).await.unwrap();
    assert!(!again.created);
    assert_eq!((again.version, again.uploaded.files), (pushed.version.clone(), 0));
    assert_eq!(again.tags.len(), 1);
    assert_eq!(again.tags[0].previous.as_ref(), Some(&pushed.version));
    assert_eq!(since(&pusher, before), (3, 0), "blobs/missing, the version, latest");
}

#[tokio::test]
async fn an_unchanged_tag_costs_one_304_and_a_moved_tag_only_the_new_blobs() {
    let s = Server::start().await;
    let token = s.token("read,push");
    let pusher = registry(&s, &token);
    pusher.push(&directory(5), "app", &[], |_| {}).await.unwrap();

    let c = registry(&s, &token);
    let first = c.fetch("app", "latest", Dialect::Generic, |_| {}).await.unwrap();
    assert_eq!(first.downloaded.files, 5);

    // Unchanged: one conditional request, answered 304; same directory.
    let before = c.stats();
    let second = c.fetch("app", "latest", Dialect::Generic, |_| {}).await.unwrap();
    assert_eq!(since(&c, before), (1, 1));
    assert!(second.not_modified);
    assert_eq!((second.downloaded.files, second.version.clone()), (0, first.version.clone()));
    same_files(&second.directory, &first.directory);
    assert_eq!(c.stats().bytes_received - before.bytes_received, 0, "a 304 has no body");

    // The tag moves to a version with two more files: the manifest and
    // one blobs/fetch of the two new blobs.
    let v2 = pusher.push(&directory(7), "app", &[], |_| {}).await.unwrap();
    let before = c.stats();
    let mut progress = Vec::new();
    let third = c.fetch("app", "latest", Dialect::Generic, |p| progress.push(p)).await.unwrap();
    assert_eq!(since(&c, before), (2, 0));
    assert_eq!(third.version, v2.version);
    assert_eq!(third.downloaded.files, 2);
    assert_eq!(progress.first().map(|p| p.files_total), Some(2));
    same_files(&third.directory, &directory(7));

    // By digest: a known version costs nothing; an old one only its manifest.
    let before = c.stats();
    let by_digest = c.fetch("app", v2.version.as_str(), Dialect::Generic, |_| {}).await.unwrap();
    let old = c.fetch("app", first.version.as_str(), Dialect::Generic, |_| {}).await.unwrap();
    let again = c.fetch("app", first.version.as_str(), Dialect::Generic, |_| {}).await.unwrap();
    assert_eq!(since(&c, before), (2, 0), "versions/{{v2}} and versions/{{v1}} once, no blob");
    assert_eq!((by_digest.version, old.version), (v2.version, first.version));
    assert!(again.not_modified);
    same_files(&old.directory, &first.directory);
}

#[tokio::test]
async fn tags_list_and_compare_and_swap() {
    let s = Server::start().await;
    let c = registry(&s, &s.token("read,push"));
    let v1 = c.push(&directory(1), "app", &["stable"], |_| {}).await.unwrap().version;
    let v2 = c.push(&directory(2), "app", &[], |_| {}).await.unwrap().version;

    let tags = c.tags("app").await.unwrap();
    let names: Vec<_> = tags.iter().map(|t| (t.name.as_str(), &t.version)).collect();
    assert_eq!(names, [("latest", &v2), ("stable", &v1)]);
    assert!(tags.iter().all(|t| t.updated.is_some()));

    // Compare-and-swap: moves only from the version named.
    let e = c.set_tag("app", "stable", &v2, TagCondition::Match(v2.clone())).await.unwrap_err();
    assert_eq!(e.code, "precondition-failed");
    let moved = c.set_tag("app", "stable", &v2, TagCondition::Match(v1.clone())).await.unwrap();
    assert_eq!((moved.version, moved.previous), (v2.clone(), Some(v1.clone())));
    let e = c.set_tag("app", "stable", &v1, TagCondition::Absent).await.unwrap_err();
    assert_eq!(e.code, "precondition-failed");
    c.set_tag("app", "new", &v1, TagCondition::Absent).await.unwrap();
    assert_eq!(c.tags("app").await.unwrap().len(), 3);
}

/// The listings a viewer reads: directories, versions, a tag's history,
/// deployments (filtered, limited, paged past the server's page size) and
/// one deployment with its report.
#[tokio::test]
async fn listings_directories_versions_history_and_deployments() {
    use strata::registry::client::DeploymentQuery;
    use strata::registry::DeploymentStatus;
    use strata::report::{ApplyReport, Report, ReportBody};
    let s = Server::start().await;
    // Listings name the token that did something, not only its id.
    let out = s.command(&["token", "create", "--scope", "read,push,report", "--name", "ci pipeline"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let by = Some("ci pipeline".to_string());
    let c = registry(&s, &token);
    let v1 = c.push(&directory(1), "app", &["stable"], |_| {}).await.unwrap().version;
    let v2 = c.push(&directory(2), "app", &[], |_| {}).await.unwrap().version;
    c.push(&directory(1), "web", &[], |_| {}).await.unwrap();

    let dirs = c.dirs().await.unwrap();
    let d: Vec<_> = dirs.iter().map(|d| (d.name.as_str(), d.versions, d.tags)).collect();
    assert_eq!(d, [("app", 2, 2), ("web", 1, 1)]);
    let versions = c.versions("app", None).await.unwrap();
    assert_eq!(versions.iter().map(|v| &v.digest).collect::<Vec<_>>(), [&v2, &v1], "newest first");
    assert_eq!((versions[1].files, versions[1].created_by.starts_with("tok_")), (1, true));
    let token_id = versions[1].created_by.clone();
    assert!(versions.iter().all(|v| v.created_by == token_id && v.created_by_name == by), "{versions:?}");
    assert_eq!(c.versions("app", Some(1)).await.unwrap().len(), 1);
    let history = c.tag_history("app", "latest", None).await.unwrap();
    let moves: Vec<_> = history.iter().map(|h| (&h.version, h.previous.as_ref())).collect();
    assert_eq!(moves, [(&v2, Some(&v1)), (&v1, None)]);
    assert!(history.iter().all(|h| h.by == token_id && h.by_name == by), "{history:?}");
    let tags = c.tags("app").await.unwrap();
    assert_eq!(tags.len(), 2);
    assert!(tags.iter().all(|t| t.updated_by.as_ref() == Some(&token_id) && t.updated_by_name == by), "{tags:?}");

    // 120 deployments: more than one page of the server's listing.
    let report = |failed: bool| {
        let apply = ApplyReport { error: failed.then(|| "boom".to_string()), ..ApplyReport::default() };
        serde_json::to_string(&Report::new(ReportBody::Apply(Box::new(apply)))).unwrap()
    };
    let mut ids = Vec::new();
    for i in 0..120 {
        let target = if i % 2 == 0 { "prod" } else { "staging" };
        let r = c.record_deployment("app", target, Some(&v2), &report(i % 3 == 0)).await.unwrap();
        ids.push(r.id);
    }
    let all = c.deployments(&DeploymentQuery::default()).await.unwrap();
    assert_eq!(all.len(), 120);
    assert_eq!(all[0].id, ids[119], "newest first");
    assert!(all.iter().all(|d| d.created_by == token_id && d.created_by_name == by), "every page names the token");
    let prod = c.deployments(&DeploymentQuery { target: Some("prod".into()), ..Default::default() }).await.unwrap();
    assert_eq!(prod.len(), 60);
    assert!(prod.iter().all(|d| d.target == "prod"));
    let failed = c
        .deployments(&DeploymentQuery { status: Some(DeploymentStatus::Failed), limit: Some(7), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(failed.len(), 7);
    assert!(failed.iter().all(|d| d.status == DeploymentStatus::Failed && d.error.as_deref() == Some("boom")));
    assert!(c
        .deployments(&DeploymentQuery { dir: Some("web".into()), ..Default::default() })
        .await
        .unwrap()
        .is_empty());

    let one = c.deployment(&ids[0]).await.unwrap();
    assert_eq!((one.info.id.as_str(), one.info.version.as_ref()), (ids[0].as_str(), Some(&v2)));
    assert_eq!(one.report["kind"], "apply");
    assert_eq!((one.info.created_by.as_str(), &one.info.created_by_name), (token_id.as_str(), &by));
    // On the wire: camelCase, next to the id.
    let reader = s.token("read");
    let raw = s.get("/v1/dirs/app/versions", Some(&reader)).await.json();
    assert_eq!(
        (&raw["items"][0]["createdBy"], &raw["items"][0]["createdByName"]),
        (&token_id.as_str().into(), &"ci pipeline".into())
    );
    let raw = s.get("/v1/dirs/app/tags", Some(&reader)).await.json();
    assert_eq!(raw["items"][0]["updatedByName"], "ci pipeline");
    let raw = s.get("/v1/dirs/app/tags/latest/history", Some(&reader)).await.json();
    assert_eq!(raw["items"][0]["byName"], "ci pipeline");
    let raw = s.get("/v1/deployments?limit=1", Some(&reader)).await.json();
    assert_eq!(raw["items"][0]["createdByName"], "ci pipeline");
    let raw = s.get(&format!("/v1/deployments/{}", ids[0]), Some(&reader)).await.json();
    assert_eq!(raw["createdByName"], "ci pipeline");
    // A revoked token is still named: its row stays.
    let out = s.command(&["token", "revoke", &token_id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = registry(&s, &reader);
    assert_eq!(r.versions("app", None).await.unwrap()[0].created_by_name, by);
    assert_eq!(r.deployment(&ids[0]).await.unwrap().info.created_by_name, by);
    let e = c.deployment("dep_0000").await.unwrap_err();
    assert_eq!(e.code, "deployment-not-found");
    assert_eq!(c.deployment("../x").await.unwrap_err().code, "invalid-name");
}

/// A fetch asks for its blobs in batches (`POST …/blobs/fetch`): 600 files
/// are the tag and three requests of 256, 256 and 88 files; progress moves
/// once per batch, the totals first.
#[tokio::test]
async fn a_fetch_asks_for_blobs_in_batches() {
    let s = Server::start().await;
    let dir = directory(600);
    registry(&s, &s.token("read,push")).push(&dir, "app", &["v1"], |_| {}).await.unwrap();

    let reader = registry(&s, &s.token("read"));
    let mut seen = Vec::new();
    let fetched = reader.fetch("app", "v1", Dialect::Generic, |p| seen.push(p)).await.unwrap();
    same_files(&fetched.directory, &dir);
    assert_eq!(reader.stats().requests, 4, "the tag, then three batches");
    let total: u64 = dir.files().iter().map(|f| f.bytes().len() as u64).sum();
    assert_eq!(seen[0], Progress { files_total: 600, bytes_total: total, ..Progress::default() });
    let mut sizes: Vec<usize> = seen.windows(2).map(|w| w[1].files_done - w[0].files_done).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [88, 256, 256], "{seen:?}");
    assert!(seen.windows(2).all(|w| w[1].bytes_done > w[0].bytes_done));
    assert_eq!(
        seen.last(),
        Some(&Progress { files_done: 600, files_total: 600, bytes_done: total, bytes_total: total })
    );
}

#[tokio::test]
async fn a_damaged_blob_on_the_server_fails_the_fetch_naming_the_file() {
    let s = Server::start().await;
    if !s.storage.embedded() {
        eprintln!("skipped: damages a blob file of the embedded storage");
        return;
    }
    let token = s.token("read,push");
    let dir = directory(3);
    registry(&s, &token).push(&dir, "app", &[], |_| {}).await.unwrap();

    // Flip one byte of the second file's blob, keeping its size.
    let victim = &dir.files()[1];
    let hex = BlobDigest::of(victim.bytes()).hex().to_string();
    let path = s.storage.path().join("blobs").join("sha256").join(&hex[..2]).join(&hex);
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(bytes, victim.bytes());
    bytes[0] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();

    let c = registry(&s, &token);
    let e = c.fetch("app", "latest", Dialect::Generic, |_| {}).await.unwrap_err();
    assert_eq!(e.file.as_deref(), Some(victim.name()), "{e:?}");
    assert_eq!(e.code, "digest-mismatch", "{e:?}");
    assert!(e.message.contains(victim.name()) && !e.hint.is_empty(), "{e:?}");
    // Nothing damaged was cached: once repaired, the fetch works.
    bytes[0] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let fetched = c.fetch("app", "latest", Dialect::Generic, |_| {}).await.unwrap();
    same_files(&fetched.directory, &dir);
}

#[tokio::test]
async fn errors_say_what_and_what_to_do() {
    let s = Server::start().await;
    let token = s.token("read,push");
    let c = registry(&s, &token);
    c.push(&directory(1), "app", &[], |_| {}).await.unwrap();

    // The server's errors, as it sent them.
    let anonymous = Client::new(&s.url, transport()).unwrap();
    let e = anonymous.fetch("app", "latest", Dialect::Generic, |_| {}).await.unwrap_err();
    let raw = s.get("/v1/dirs/app/tags/latest", None).await.json();
    assert_eq!(
        (e.code.as_str(), e.message.as_str(), e.hint.as_str()),
        ("unauthorized", raw["message"].as_str().unwrap(), raw["hint"].as_str().unwrap())
    );
    let e = c.fetch("app", "nope", Dialect::Generic, |_| {}).await.unwrap_err();
    assert_eq!(e.code, "tag-not-found", "{e:?}");
    let reader = registry(&s, &s.token("read"));
    let e = reader.push(&directory(2), "app", &[], |_| {}).await.unwrap_err();
    assert_eq!(e.code, "forbidden", "{e:?}");

    // Refused before sending anything.
    let before = c.stats();
    assert_eq!(c.fetch("../etc", "latest", Dialect::Generic, |_| {}).await.unwrap_err().code, "invalid-name");
    assert_eq!(c.fetch("app", "a/b", Dialect::Generic, |_| {}).await.unwrap_err().code, "invalid-name");
    assert_eq!(c.fetch("app", "sha256:12", Dialect::Generic, |_| {}).await.unwrap_err().code, "invalid-digest");
    assert_eq!(c.push(&directory(1), "app", &["no:pe"], |_| {}).await.unwrap_err().code, "invalid-name");
    // A directory whose atlas.sum does not match its files.
    let mut files = sample_files(2);
    let sum = Directory::new(files.clone()).unwrap().checksum().render();
    files[1].1.extend_from_slice(b"-- edited\n");
    let edited = Directory::new(files.into_iter().chain([("atlas.sum".to_string(), sum.into_bytes())])).unwrap();
    let e = c.push(&edited, "app", &[], |_| {}).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.file.as_deref()), ("checksum-mismatch", Some("20240101000002_f2.sql")), "{e:?}");
    assert_eq!(c.stats(), before, "no request sent");
    assert_eq!(Client::new("localhost:8080", transport()).unwrap_err().code, "invalid-url");

    // Nobody listening: the URL and what to do.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let gone = Client::new(&format!("http://127.0.0.1:{port}"), transport()).unwrap();
    let e = gone.tags("app").await.unwrap_err();
    assert_eq!(e.code, "request-failed");
    assert!(e.message.starts_with(&format!("GET http://127.0.0.1:{port}/v1/dirs/app/tags: ")), "{}", e.message);
    assert!(e.message.to_lowercase().contains("connect"), "{}", e.message);
    assert!(e.hint.contains("registry URL"), "{}", e.hint);
}

/// Counts the requests in flight over a real transport.
struct Counting {
    inner: Reqwest,
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Transport for Counting {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
        let r = self.inner.send(request).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        r
    }
}

#[tokio::test]
async fn transfers_keep_at_most_eight_requests_in_flight() {
    let s = Server::start().await;
    let token = s.token("read,push");
    let counting = Counting { inner: transport(), now: AtomicUsize::new(0), max: AtomicUsize::new(0) };
    let c = Client::new(&s.url, &counting).unwrap().with_token(&token).unwrap();
    c.push(&directory(40), "app", &[], |_| {}).await.unwrap();
    let max = counting.max.swap(0, Ordering::SeqCst);
    assert!((2..=MAX_IN_FLIGHT).contains(&max), "{max} uploads in flight");
    // A fetch asks for at most 256 files per request: 2,100 files are 9
    // batches.
    c.push(&directory(2100), "big", &[], |_| {}).await.unwrap();
    counting.max.store(0, Ordering::SeqCst);
    let c = Client::new(&s.url, &counting).unwrap().with_token(&token).unwrap();
    let fetched = c.fetch("big", "latest", Dialect::Generic, |_| {}).await.unwrap();
    assert_eq!((fetched.downloaded.files, c.stats().requests), (2100, 10), "the tag, then 9 batches");
    let max = counting.max.load(Ordering::SeqCst);
    assert!((2..=MAX_IN_FLIGHT).contains(&max), "{max} downloads in flight");
}

#[tokio::test]
async fn the_client_runs_on_spawned_tasks() {
    // tokio::spawn needs Send futures: what the deployment hook relies on.
    let s = Server::start().await;
    let token = s.token("read,push");
    let c = Arc::new(remote::connect(&s.url, Some(&token)).unwrap());
    let pushed = {
        let c = Arc::clone(&c);
        tokio::spawn(async move { c.push(&directory(3), "app", &[], |_| {}).await }).await.unwrap().unwrap()
    };
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let c = Arc::clone(&c);
            tokio::spawn(async move { c.fetch("app", "latest", Dialect::Generic, |_| {}).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().version, pushed.version);
    }
}
