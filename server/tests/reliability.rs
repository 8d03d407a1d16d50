//! Reliability of the registry under concurrency, crashes and damaged
//! storage, against the real server (embedded storage, or PostgreSQL + S3
//! when the environment names them; see `common`).
//!
//! * 50 concurrent moves of one tag through two replicas: every move
//!   lands, the history lists all 50 as one chain, and the tag ends at one
//!   of the pushed versions.
//! * SIGKILL while pushing: whatever moment the server dies at, no version
//!   or tag that is not whole is ever visible, and the next push works.
//! * A damaged blob in storage: a fetch fails with a digest error naming
//!   the file and never returns the wrong bytes.

mod common;

use common::{borrow, Server, Storage};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use strata::dir::Directory;
use strata::lex::Dialect;
use strata::registry::{BlobDigest, Client};
use strata_server::remote::{RemoteRegistry, Reqwest};

fn registry(s: &Server, token: &str) -> RemoteRegistry {
    let transport = Reqwest::with_client(reqwest::Client::builder().no_proxy().build().unwrap());
    Client::new(&s.url, transport).unwrap().with_token(token).unwrap()
}

/// A directory of `n` files of about `size` bytes each (distinct content
/// per `seed`), with its atlas.sum.
fn directory(n: usize, size: usize, seed: &str) -> Directory {
    let files: Vec<(String, Vec<u8>)> = (1..=n)
        .map(|i| {
            let mut sql = format!("-- {seed} file {i}\nCREATE TABLE t{i} (id int);\n");
            while sql.len() < size {
                sql.push_str(&format!("INSERT INTO t{i} VALUES ({});\n", sql.len()));
            }
            (format!("{}_f{i}.sql", 20240101000000u64 + i as u64), sql.into_bytes())
        })
        .collect();
    let sum = Directory::new(files.clone()).unwrap().checksum().render();
    Directory::new(files.into_iter().chain([("atlas.sum".to_string(), sum.into_bytes())])).unwrap()
}

/// Every item of a paginated listing at `path` (which has no query yet).
async fn all_items(s: &Server, token: &str, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=1000&cursor={c}"),
            None => format!("{path}?limit=1000"),
        };
        let r = s.get(&url, Some(token)).await;
        if r.status == 404 && r.json()["code"] == "dir-not-found" {
            return items; // a crash before the directory's first blob
        }
        assert_eq!(r.status, 200, "{url}: {}", r.text());
        let j = r.json();
        items.extend(j["items"].as_array().unwrap().iter().cloned());
        match j["next"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => return items,
        }
    }
}

/// A second server process on the same storage: another replica (same
/// PostgreSQL database and S3 prefix, or the same SQLite file and blob
/// directory).
fn replica_of(s: &Server) -> Server {
    let storage = Storage {
        dir: tempfile::Builder::new().prefix("strata-replica-").tempdir().unwrap(),
        metadata: s.storage.metadata.clone(),
        blobs: s.storage.blobs.clone(),
    };
    let mut args: Vec<&str> = s.args.iter().map(String::as_str).collect();
    let (db, blobs);
    if s.storage.embedded() {
        db = format!("sqlite://{}", s.storage.path().join("registry.db").display());
        blobs = format!("file://{}", s.storage.path().join("blobs").display());
        args.extend(["--metadata", &db, "--blobs", &blobs]);
    }
    Server::start_on(storage, &args)
}

#[tokio::test]
async fn fifty_concurrent_moves_of_one_tag_all_land_in_its_history() {
    let first = Server::start().await;
    let second = replica_of(&first);
    let t = first.token("read,push");
    let mut versions = Vec::new();
    for i in 0..50 {
        let files = vec![(format!("20240101000000_v{i}.sql"), format!("CREATE TABLE v{i} (id int);\n").into_bytes())];
        versions.push(first.push(&t, "app", &borrow(&files)).await);
    }
    // What one replica wrote, the other reads.
    let s = &second;
    // Half of the moves go to each replica.
    let moves = versions.iter().enumerate().map(|(i, v)| {
        let (s, t) = (if i % 2 == 0 { &first } else { &second }, &t);
        async move { s.put_tag(t, "app", "prod", v, &[]).await }
    });
    let results = futures_util::future::join_all(moves).await;
    for (r, v) in results.iter().zip(&versions) {
        assert_eq!(r.status, 200, "move to {v}: {}", r.text());
        assert_eq!(r.json()["version"], json!(v));
    }

    // The tag is at one of them, and its history is one chain of 50 moves:
    // each move's `previous` is the version the move before it set.
    let now = s.get("/v1/dirs/app/tags/prod", Some(&t)).await;
    assert_eq!(now.status, 200);
    let current = now.header("strata-version").unwrap();
    assert!(versions.iter().any(|v| v.as_str() == current), "{current}");
    let history = all_items(s, &t, "/v1/dirs/app/tags/prod/history").await;
    assert_eq!(history.len(), 50, "{history:?}");
    assert_eq!(history[0]["version"], json!(current), "newest first");
    for pair in history.windows(2) {
        assert_eq!(pair[0]["previous"], pair[1]["version"], "{pair:?}");
    }
    assert_eq!(history[49]["previous"], Value::Null, "the first move created the tag");
    let moved: HashSet<&str> = history.iter().map(|h| h["version"].as_str().unwrap()).collect();
    let pushed: HashSet<&str> = versions.iter().map(BlobDigest::as_str).collect();
    assert_eq!(moved, pushed, "every move is in the history once");
    // Each answer's `previous` is the move before it in the history.
    let previous_of: HashMap<&str, &Value> =
        history.iter().map(|h| (h["version"].as_str().unwrap(), &h["previous"])).collect();
    for r in &results {
        let j = r.json();
        assert_eq!(&j["previous"], previous_of[j["version"].as_str().unwrap()], "{j}");
    }
}

/// Checks what a crash may never break: every listed version fetches and
/// verifies whole, every tag points at one of them.
async fn assert_only_whole_versions(s: &Server, token: &str) -> usize {
    let c = registry(s, token);
    let versions = all_items(s, token, "/v1/dirs/app/versions").await;
    let listed: HashSet<String> = versions.iter().map(|v| v["digest"].as_str().unwrap().to_string()).collect();
    for v in &versions {
        let digest = v["digest"].as_str().unwrap();
        let fetched = c
            .fetch("app", digest, Dialect::Generic, |_| {})
            .await
            .unwrap_or_else(|e| panic!("listed version {digest} is not whole: {e:?}"));
        assert_eq!(fetched.manifest.files.len() as u64, v["files"].as_u64().unwrap());
    }
    let tags = s.get("/v1/dirs/app/tags", Some(token)).await;
    if tags.status == 200 {
        for tag in tags.json()["items"].as_array().unwrap() {
            let version = tag["version"].as_str().unwrap();
            assert!(listed.contains(version), "tag {} points at an unlisted version {version}", tag["name"]);
            c.fetch("app", tag["name"].as_str().unwrap(), Dialect::Generic, |_| {})
                .await
                .unwrap_or_else(|e| panic!("tag {} is not whole: {e:?}", tag["name"]));
        }
    }
    versions.len()
}

#[tokio::test]
async fn sigkill_during_a_push_never_leaves_a_half_version_visible() {
    let mut s = Server::start().await;
    let t = s.token("read,push");
    // 200 files of 40 KB (8 MB): the blob uploads and the version's
    // verification (the server reads every blob back) take long enough
    // for the kills below to land in the middle of them.
    let base = directory(200, 40_000, "base");
    let mut in_flight = 0;
    let mut attempts = 0;
    for (round, delay_ms) in [5u64, 20, 40, 80, 120, 160, 240, 320, 480, 640].into_iter().enumerate() {
        // Each round pushes a directory the registry has not seen (one file
        // differs), so each has blobs to upload and a version to create.
        let mut files: Vec<(String, Vec<u8>)> =
            base.files().iter().map(|f| (f.name().to_string(), f.bytes().to_vec())).collect();
        files[0].1.extend_from_slice(format!("-- round {round}\n").as_bytes());
        let sum = Directory::new(files.clone()).unwrap().checksum().render();
        let dir = Directory::new(files.into_iter().chain([("atlas.sum".to_string(), sum.into_bytes())])).unwrap();

        let c = registry(&s, &t);
        let push = tokio::spawn(async move { c.push(&dir, "app", &["rc"], |_| {}).await });
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let was_running = !push.is_finished();
        s.kill();
        attempts += 1;
        let outcome = push.await.unwrap();
        if was_running && outcome.is_err() {
            in_flight += 1;
        }
        s.restart();
        assert_only_whole_versions(&s, &t).await;
    }
    // Some kills must have hit a push in flight, or the test proved nothing.
    assert!(in_flight >= 3, "only {in_flight} of {attempts} kills interrupted a push");

    // After the crashes, a push completes and its version is whole.
    let pushed = registry(&s, &t).push(&base, "app", &["rc"], |_| {}).await.unwrap();
    let n = assert_only_whole_versions(&s, &t).await;
    assert!(n >= 1);
    let fetched = registry(&s, &t).fetch("app", "rc", Dialect::Generic, |_| {}).await.unwrap();
    assert_eq!(fetched.version, pushed.version);
    for (a, b) in fetched.directory.files().iter().zip(base.files()) {
        assert_eq!((a.name(), a.bytes()), (b.name(), b.bytes()));
    }
}

/// Overwrites a stored blob with `bytes`, in whichever storage the server
/// uses: the file under `DATA/blobs`, or the S3 object.
async fn damage_blob(s: &Server, digest: &BlobDigest, bytes: &[u8]) {
    let hex = digest.hex();
    match &s.storage.blobs {
        None => {
            let path = s.storage.path().join("blobs").join("sha256").join(&hex[..2]).join(hex);
            assert!(path.exists(), "{} exists", path.display());
            std::fs::write(&path, bytes).unwrap();
        }
        Some(url) => {
            use object_store::ObjectStore;
            let (bucket, prefix) = url.trim_start_matches("s3://").split_once('/').unwrap();
            let s3 = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).build().unwrap();
            let key = object_store::path::Path::from(format!("{prefix}/sha256/{}/{hex}", &hex[..2]));
            s3.head(&key).await.unwrap_or_else(|e| panic!("the blob is stored at {key}: {e}"));
            s3.put(&key, bytes.to_vec().into()).await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_damaged_blob_fails_the_fetch_naming_the_file_and_never_returns_wrong_bytes() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let dir = directory(5, 2_000, "damage");
    registry(&s, &t).push(&dir, "app", &[], |_| {}).await.unwrap();
    let victim = &dir.files()[2];
    let digest = BlobDigest::of(victim.bytes());

    // Same size, one byte flipped; then cut short; then empty.
    let mut flipped = victim.bytes().to_vec();
    flipped[10] ^= 1;
    let short = &victim.bytes()[..victim.bytes().len() / 2];
    for damaged in [&flipped[..], short, b""] {
        damage_blob(&s, &digest, damaged).await;
        // A fresh client each time: nothing cached.
        let e = registry(&s, &t).fetch("app", "latest", Dialect::Generic, |_| {}).await.unwrap_err();
        assert_eq!(e.code, "digest-mismatch", "{} stored bytes: {e:?}", damaged.len());
        assert_eq!(e.file.as_deref(), Some(victim.name()), "{e:?}");
        assert!(e.message.contains(victim.name()), "{e:?}");
    }

    // Repaired, the same version fetches whole again.
    damage_blob(&s, &digest, victim.bytes()).await;
    let fetched = registry(&s, &t).fetch("app", "latest", Dialect::Generic, |_| {}).await.unwrap();
    assert_eq!(fetched.directory.files()[2].bytes(), victim.bytes());
}
