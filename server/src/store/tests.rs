//! The storage against real backends: always SQLite and the file system in
//! a temporary directory; also PostgreSQL and S3 when `STRATA_TEST_METADATA`
//! (a PostgreSQL URL whose user may CREATE DATABASE: each test gets a fresh
//! database) and `STRATA_TEST_BLOBS` (`s3://bucket`: each test gets a fresh
//! prefix) are set, as `eval "$(scripts/services.sh start)"` does.

use super::*;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use sqlx::Row;
use strata::registry::ManifestFile;

struct Fixture {
    label: String,
    config: StoreConfig,
    store: Store,
    _dir: tempfile::TempDir,
    /// The admin URL and the database created for this test.
    pg: Option<(String, String)>,
}

fn random_hex() -> String {
    hex(&random::<6>().unwrap())
}

impl Fixture {
    async fn new(pg_url: Option<&str>, s3_url: Option<&str>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let embedded = StoreConfig::embedded(dir.path());
        let mut pg = None;
        let metadata = match pg_url {
            None => embedded.metadata,
            Some(admin) => {
                let name = format!("strata_test_{}", random_hex());
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
                    .await
                    .unwrap_or_else(|e| panic!("STRATA_TEST_METADATA={admin}: {e}"));
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
                let mut url = url::Url::parse(admin).unwrap();
                url.set_path(&format!("/{name}"));
                pg = Some((admin.to_string(), name));
                url.to_string()
            }
        };
        let blobs = match s3_url {
            None => embedded.blobs,
            Some(s3) => format!("{}/test-{}", s3.trim_end_matches('/'), random_hex()),
        };
        let config = StoreConfig { metadata, blobs };
        let label = format!("{} + {}", config.metadata, config.blobs);
        let store = Store::open(&config).await.unwrap_or_else(|e| panic!("{label}: {e}"));
        Fixture { label, config, store, _dir: dir, pg }
    }

    /// Another replica on the same storage.
    async fn replica(&self) -> Store {
        Store::open(&self.config).await.unwrap()
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// SQLite + file system always; PostgreSQL and/or S3 when configured.
async fn fixtures() -> Vec<Fixture> {
    let mut all = vec![Fixture::new(None, None).await];
    let pg = std::env::var("STRATA_TEST_METADATA").ok().filter(|s| !s.is_empty());
    let s3 = std::env::var("STRATA_TEST_BLOBS").ok().filter(|s| !s.is_empty());
    if pg.is_some() || s3.is_some() {
        all.push(Fixture::new(pg.as_deref(), s3.as_deref()).await);
    }
    all
}

/// A test run against every configured backend.
macro_rules! on_every_backend {
    ($(#[$m:meta])* async fn $name:ident($fx:ident) $body:block) => {
        $(#[$m])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            for fixture in fixtures().await {
                eprintln!("{}: {}", stringify!($name), fixture.label);
                {
                    let $fx = &fixture;
                    $body
                }
                fixture.finish().await;
            }
        }
    };
}

const LIMIT: u64 = 64 * 1024 * 1024;

fn body(bytes: &[u8]) -> BoxStream<'static, Result<Bytes, String>> {
    // Several chunks, as a request body arrives.
    let chunks: Vec<Result<Bytes, String>> = bytes.chunks(3).map(|c| Ok(Bytes::copy_from_slice(c))).collect::<Vec<_>>();
    stream::iter(chunks).boxed()
}

/// `n` bytes of a pattern, in 64 KiB chunks, made as they are read.
fn big_body(n: usize, seed: u8) -> BoxStream<'static, Result<Bytes, String>> {
    const CHUNK: usize = 64 * 1024;
    stream::iter((0..n.div_ceil(CHUNK)).map(move |i| {
        let len = CHUNK.min(n - i * CHUNK);
        Ok(Bytes::from((0..len).map(|j| ((i * CHUNK + j) % 251) as u8 ^ seed).collect::<Vec<_>>()))
    }))
    .boxed()
}

async fn big_digest(n: usize, seed: u8) -> BlobDigest {
    let mut h = Sha256::new();
    let mut s = big_body(n, seed);
    while let Some(c) = s.next().await {
        h.update(c.unwrap());
    }
    BlobDigest::parse(&format!("sha256:{:x}", h.finalize())).unwrap()
}

use sha2::{Digest as _, Sha256};

async fn put(s: &Store, dir: &str, bytes: &[u8]) -> (bool, u64) {
    s.put_blob(dir, &BlobDigest::of(bytes), LIMIT, body(bytes)).await.unwrap()
}

async fn get(s: &Store, dir: &str, d: &BlobDigest) -> Option<Vec<u8>> {
    let b = s.get_blob(dir, d).await.unwrap()?;
    let chunks: Vec<Bytes> = b.stream.try_collect().await.unwrap();
    let bytes = chunks.concat();
    assert_eq!(bytes.len() as u64, b.size);
    Some(bytes)
}

/// Every object in blob storage.
async fn objects(s: &Store) -> Vec<String> {
    let mut all: Vec<String> =
        s.inner.blobs.store().list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    all.sort();
    all
}

/// A version of `dir` made of the given files (their blobs pushed).
async fn version_of(s: &Store, dir: &str, files: &[(&str, &str)]) -> (BlobDigest, Manifest) {
    let mut m = Manifest { files: vec![], sum: String::new() };
    for (name, text) in files {
        put(s, dir, text.as_bytes()).await;
        m.files.push(ManifestFile {
            name: name.to_string(),
            digest: BlobDigest::of(text.as_bytes()),
            size: text.len() as u64,
        });
        m.sum.push_str(&format!("{name} {}\n", text.len()));
    }
    let d = m.digest();
    assert!(s.create_version(dir, &d, &m, "tok_0000000000000001").await.unwrap());
    (d, m)
}

fn page(limit: u32, cursor: Option<String>) -> Page {
    Page { limit, cursor }
}

on_every_backend! {
    async fn blobs_are_stored_once_and_linked_per_directory(fx) {
        let s = &fx.store;
        let bytes = b"CREATE TABLE users (id int);\n";
        let d = BlobDigest::of(bytes);
        assert!(!s.dir_exists("app").await.unwrap());
        assert_eq!(put(s, "app", bytes).await, (true, bytes.len() as u64));
        assert!(s.dir_exists("app").await.unwrap(), "the first blob creates the directory");
        assert_eq!(get(s, "app", &d).await.as_deref(), Some(&bytes[..]));
        assert_eq!(s.blob_size("app", &d).await.unwrap(), Some(bytes.len() as u64));
        // Again: idempotent, not new to the directory.
        assert_eq!(put(s, "app", bytes).await, (false, bytes.len() as u64));
        // Another directory must upload it too, and then has it.
        assert_eq!(s.blob_size("other", &d).await.unwrap(), None);
        assert!(get(s, "other", &d).await.is_none());
        assert_eq!(put(s, "other", bytes).await, (true, bytes.len() as u64));
        assert_eq!(get(s, "other", &d).await.as_deref(), Some(&bytes[..]));
        // Stored once.
        let hex = d.hex();
        assert_eq!(objects(s).await, vec![format!("sha256/{}/{hex}", &hex[..2])]);
        assert_eq!(s.read_blob(&d).await.unwrap().as_deref(), Some(&bytes[..]));
        assert_eq!(s.read_blob(&BlobDigest::of(b"nothing")).await.unwrap(), None);
        // The empty file is a blob too.
        assert_eq!(put(s, "app", b"").await, (true, 0));
        assert_eq!(get(s, "app", &BlobDigest::of(b"")).await.as_deref(), Some(&b""[..]));
    }
}

on_every_backend! {
    async fn a_refused_blob_leaves_nothing(fx) {
        let s = &fx.store;
        let claimed = BlobDigest::of(b"what the client says");
        match s.put_blob("app", &claimed, LIMIT, body(b"what it sends")).await {
            Err(PutBlobError::DigestMismatch { actual }) => assert_eq!(actual, BlobDigest::of(b"what it sends")),
            other => panic!("{other:?}"),
        }
        match s.put_blob("app", &BlobDigest::of(b"12345"), 4, body(b"12345")).await {
            Err(PutBlobError::TooLarge { limit: 4 }) => {}
            other => panic!("{other:?}"),
        }
        let failing = stream::iter(vec![Ok(Bytes::from_static(b"abc")), Err("connection reset".to_string())]).boxed();
        match s.put_blob("app", &BlobDigest::of(b"abcdef"), LIMIT, failing).await {
            Err(PutBlobError::Body(e)) => assert_eq!(e, "connection reset"),
            other => panic!("{other:?}"),
        }
        assert!(objects(s).await.is_empty());
        assert!(!s.dir_exists("app").await.unwrap());
        assert_eq!(s.read_blob(&claimed).await.unwrap(), None);
        // At the limit is fine.
        assert_eq!(s.put_blob("app", &BlobDigest::of(b"1234"), 4, body(b"1234")).await.unwrap(), (true, 4));
    }
}

on_every_backend! {
    async fn a_stored_blob_is_only_linked_for_whoever_sends_its_bytes(fx) {
        let s = &fx.store;
        let bytes = b"SELECT 1;";
        let d = BlobDigest::of(bytes);
        put(s, "app", bytes).await;
        // Knowing the digest is not enough: the body is still checked.
        match s.put_blob("thief", &d, LIMIT, body(b"SELECT 2;")).await {
            Err(PutBlobError::DigestMismatch { .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(s.blob_size("thief", &d).await.unwrap(), None);
        match s.put_blob("thief", &d, 3, body(bytes)).await {
            Err(PutBlobError::TooLarge { limit: 3 }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(s.blob_size("thief", &d).await.unwrap(), None);
        assert_eq!(put(s, "thief", bytes).await, (true, bytes.len() as u64));
    }
}

on_every_backend! {
    async fn large_blobs_stream_in_parts_and_are_visible_only_when_verified(fx) {
        let s = &fx.store;
        let n = 2 * blobs::PART_SIZE + 12345;
        let d = big_digest(n, 7).await;
        // A wrong digest: the multipart upload is aborted.
        let wrong = big_digest(n, 8).await;
        match s.put_blob("app", &wrong, LIMIT, big_body(n, 7)).await {
            Err(PutBlobError::DigestMismatch { actual }) => assert_eq!(actual, d),
            other => panic!("{other:?}"),
        }
        // Over the limit part way.
        match s.put_blob("app", &d, (blobs::PART_SIZE + 1) as u64, big_body(n, 7)).await {
            Err(PutBlobError::TooLarge { .. }) => {}
            other => panic!("{other:?}"),
        }
        assert!(objects(s).await.is_empty(), "nothing visible after refused uploads");
        assert_eq!(s.put_blob("app", &d, LIMIT, big_body(n, 7)).await.unwrap(), (true, n as u64));
        let got = s.read_blob(&d).await.unwrap().unwrap();
        assert_eq!(got.len(), n);
        assert_eq!(BlobDigest::of(&got), d);
        let streamed = get(s, "app", &d).await.unwrap();
        assert_eq!(streamed, got);
        // Another directory: verified again, not rewritten.
        assert_eq!(s.put_blob("web", &d, LIMIT, big_body(n, 7)).await.unwrap(), (true, n as u64));
        assert_eq!(objects(s).await.len(), 1);
    }
}

on_every_backend! {
    async fn an_upload_cut_off_midway_leaves_nothing(fx) {
        // The client goes away (the request future is dropped) after more
        // than a part was sent.
        let s = fx.store.clone();
        let n = blobs::PART_SIZE + 100_000;
        let d = big_digest(n + 10, 3).await;
        let (sent, sent_rx) = tokio::sync::oneshot::channel::<()>();
        let mut sent = Some(sent);
        let body = big_body(n, 3)
            .chain(stream::poll_fn(move |_| {
                if let Some(tx) = sent.take() {
                    let _ = tx.send(());
                }
                std::task::Poll::Pending
            }))
            .boxed();
        let task = tokio::spawn(async move { s.put_blob("app", &d, LIMIT, body).await });
        sent_rx.await.unwrap();
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        let s = &fx.store;
        assert!(!s.dir_exists("app").await.unwrap());
        let visible: Vec<String> = objects(s).await.into_iter().filter(|o| !o.contains('#')).collect();
        assert!(visible.is_empty(), "{visible:?}");
    }
}

on_every_backend! {
    async fn missing_blobs_keep_the_order_asked(fx) {
        let s = &fx.store;
        let all: Vec<Vec<u8>> = (0..1200).map(|i| format!("-- file {i}\n").into_bytes()).collect();
        let digests: Vec<BlobDigest> = all.iter().map(|b| BlobDigest::of(b)).collect();
        // Every third, including some past the first query's batch.
        for (i, b) in all.iter().enumerate() {
            if i.is_multiple_of(3) {
                put(s, "app", b).await;
            }
        }
        put(s, "other", &all[1]).await;
        let mut asked = digests.clone();
        asked.reverse();
        let missing = s.missing_blobs("app", &asked).await.unwrap();
        let expected: Vec<BlobDigest> =
            asked.iter().enumerate().filter(|(i, _)| (1199 - i) % 3 != 0).map(|(_, d)| d.clone()).collect();
        assert_eq!(missing, expected);
        assert_eq!(s.missing_blobs("app", &[]).await.unwrap(), vec![]);
        assert_eq!(s.missing_blobs("nowhere", &digests[..2]).await.unwrap(), digests[..2].to_vec());
    }
}

on_every_backend! {
    async fn versions_are_immutable_idempotent_and_paged_newest_first(fx) {
        let s = &fx.store;
        let (d1, m1) = version_of(s, "app", &[("1_a.sql", "CREATE TABLE a (id int);")]).await;
        assert!(!s.create_version("app", &d1, &m1, "tok_other").await.unwrap(), "same digest twice");
        assert_eq!(s.version("app", &d1).await.unwrap(), Some(m1.clone()));
        let json = s.version_json("app", &d1).await.unwrap().unwrap();
        assert_eq!(&json[..], serde_json::to_vec(&m1).unwrap());
        assert_eq!(s.version_json("app", &d1).await.unwrap(), Some(json), "cached");
        assert_eq!(s.version("web", &d1).await.unwrap(), None, "versions belong to a directory");
        assert_eq!(s.version_json("web", &d1).await.unwrap(), None);
        // A digest that is not the manifest's is refused.
        assert!(s.create_version("app", &BlobDigest::of(b"x"), &m1, "tok").await.is_err());

        let mut pushed = vec![d1];
        for i in 2..=5 {
            let (d, _) = version_of(s, "app", &[("1_a.sql", "CREATE TABLE a (id int);"), ("2_b.sql", &format!("-- {i}"))]).await;
            pushed.push(d);
        }
        let mut seen = vec![];
        let mut cursor = None;
        loop {
            let p = s.versions("app", &page(2, cursor)).await.unwrap();
            assert!(p.items.len() <= 2);
            seen.extend(p.items);
            match p.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        pushed.reverse();
        assert_eq!(seen.iter().map(|v| v.digest.clone()).collect::<Vec<_>>(), pushed);
        assert_eq!(seen[4].files, 1);
        assert_eq!(seen[4].size, 24);
        assert_eq!(seen[4].created_by, "tok_0000000000000001");
        assert_eq!(seen[0].files, 2);
        assert!(seen.windows(2).all(|w| w[0].created >= w[1].created));
        let all = s.versions("app", &page(100, None)).await.unwrap();
        assert_eq!((all.items.len(), all.next), (5, None));
        assert!(s.versions("web", &page(10, None)).await.unwrap().items.is_empty());
        // A cursor no page returned: nothing, not an error.
        assert!(s.versions("app", &page(10, Some("abc".into()))).await.unwrap().items.is_empty());
    }
}

on_every_backend! {
    async fn tags_move_by_compare_and_swap_and_keep_their_history(fx) {
        let s = &fx.store;
        let (v1, _) = version_of(s, "app", &[("1.sql", "-- one")]).await;
        let (v2, _) = version_of(s, "app", &[("1.sql", "-- one"), ("2.sql", "-- two")]).await;
        let (other, _) = version_of(s, "web", &[("1.sql", "-- web")]).await;
        match s.set_tag("app", "latest", &other, &TagCondition::Any, "tok_a").await {
            Err(SetTagError::NoVersion) => {}
            other => panic!("{other:?}"),
        }
        assert!(s.tag("app", "latest").await.unwrap().is_none());
        match s.set_tag("app", "latest", &v1, &TagCondition::At(v2.clone()), "tok_a").await {
            Err(SetTagError::Conflict { current: None }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(s.set_tag("app", "latest", &v1, &TagCondition::Absent, "tok_a").await.unwrap(), None);
        match s.set_tag("app", "latest", &v2, &TagCondition::Absent, "tok_a").await {
            Err(SetTagError::Conflict { current: Some(c) }) => assert_eq!(c, v1),
            other => panic!("{other:?}"),
        }
        match s.set_tag("app", "latest", &v1, &TagCondition::At(v2.clone()), "tok_a").await {
            Err(SetTagError::Conflict { current: Some(c) }) => assert_eq!(c, v1),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.set_tag("app", "latest", &v2, &TagCondition::At(v1.clone()), "tok_b").await.unwrap(), Some(v1.clone()));
        assert_eq!(s.set_tag("app", "latest", &v1, &TagCondition::Any, "tok_c").await.unwrap(), Some(v2.clone()));
        assert_eq!(s.set_tag("app", "v1.0", &v2, &TagCondition::Any, "tok_c").await.unwrap(), None);
        let t = s.tag("app", "latest").await.unwrap().unwrap();
        assert_eq!((t.name.as_str(), &t.version, t.updated_by.as_str()), ("latest", &v1, "tok_c"));
        assert!(s.tag("web", "latest").await.unwrap().is_none(), "tags belong to a directory");
        let names: Vec<String> = s.tags("app").await.unwrap().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["latest", "v1.0"]);
        assert!(s.tags("web").await.unwrap().is_empty());

        let h = s.tag_history("app", "latest", &page(100, None)).await.unwrap();
        let moves: Vec<_> = h.items.iter().map(|m| (m.version.clone(), m.previous.clone(), m.by.as_str())).collect();
        assert_eq!(
            moves,
            vec![(v1.clone(), Some(v2.clone()), "tok_c"), (v2.clone(), Some(v1.clone()), "tok_b"), (v1.clone(), None, "tok_a")]
        );
        assert_eq!(h.next, None);
        let p1 = s.tag_history("app", "latest", &page(2, None)).await.unwrap();
        assert_eq!(p1.items.len(), 2);
        let p2 = s.tag_history("app", "latest", &page(2, p1.next)).await.unwrap();
        assert_eq!((p2.items.len(), p2.next), (1, None));
        assert_eq!(p2.items[0].previous, None);
        assert!(s.tag_history("app", "nope", &page(10, None)).await.unwrap().items.is_empty());
    }
}

on_every_backend! {
    async fn concurrent_tag_moves_all_land_in_order(fx) {
        let s = &fx.store;
        let replica = fx.replica().await;
        let mut versions = vec![];
        for i in 0..5 {
            versions.push(version_of(s, "app", &[("1.sql", &format!("-- {i}"))]).await.0);
        }
        // 50 unconditional moves from two replicas at once: every one
        // succeeds and is in the history, each one's previous being the one
        // before it.
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let store = if i % 2 == 0 { s.clone() } else { replica.clone() };
                let v = versions[i % versions.len()].clone();
                tokio::spawn(async move {
                    store.set_tag("app", "latest", &v, &TagCondition::Any, &format!("tok_{i}")).await.map(|_| ())
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let h = s.tag_history("app", "latest", &page(1000, None)).await.unwrap().items;
        assert_eq!(h.len(), 50);
        let mut by: Vec<&str> = h.iter().map(|m| m.by.as_str()).collect();
        by.sort();
        by.dedup();
        assert_eq!(by.len(), 50, "every move recorded once");
        assert_eq!(h.last().unwrap().previous, None);
        for w in h.windows(2) {
            assert_eq!(w[0].previous.as_ref(), Some(&w[1].version), "history is a chain");
        }
        assert_eq!(s.tag("app", "latest").await.unwrap().unwrap().version, h[0].version);

        // 20 creations at once: exactly one wins.
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = if i % 2 == 0 { s.clone() } else { replica.clone() };
                let v = versions[i % versions.len()].clone();
                tokio::spawn(async move { store.set_tag("app", "new", &v, &TagCondition::Absent, "tok").await })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(None) => won += 1,
                Err(SetTagError::Conflict { current: Some(_) }) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(won, 1);
        // 20 compare-and-swaps from the same version: exactly one wins.
        let at = s.tag("app", "new").await.unwrap().unwrap().version;
        let elsewhere: Vec<BlobDigest> = versions.iter().filter(|v| **v != at).cloned().collect();
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = if i % 2 == 0 { s.clone() } else { replica.clone() };
                let v = elsewhere[i % elsewhere.len()].clone();
                let cond = TagCondition::At(at.clone());
                tokio::spawn(async move { store.set_tag("app", "new", &v, &cond, "tok").await })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(Some(prev)) => {
                    assert_eq!(prev, at);
                    won += 1
                }
                Err(SetTagError::Conflict { current: Some(_) }) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(won, 1);
        assert_eq!(s.tag_history("app", "new", &page(100, None)).await.unwrap().items.len(), 2);
        replica.close().await;
    }
}

on_every_backend! {
    async fn directories_are_listed_by_name_with_counts(fx) {
        let s = &fx.store;
        for dir in ["b-dir", "a.dir", "c_dir", "A"] {
            put(s, dir, dir.as_bytes()).await;
        }
        let (v, _) = version_of(s, "b-dir", &[("1.sql", "-- 1")]).await;
        version_of(s, "b-dir", &[("1.sql", "-- 2")]).await;
        s.set_tag("b-dir", "latest", &v, &TagCondition::Any, "tok").await.unwrap();
        let all = s.dirs(None, &page(100, None)).await.unwrap();
        let names: Vec<&str> = all.items.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["A", "a.dir", "b-dir", "c_dir"], "bytewise order");
        let b = &all.items[2];
        assert_eq!((b.versions, b.tags), (2, 1));
        let tag = s.tag("b-dir", "latest").await.unwrap().unwrap();
        assert_eq!(b.updated, tag.updated);
        assert_eq!((all.items[0].versions, all.items[0].tags), (0, 0));
        assert!(all.items[0].updated > 0);

        let p1 = s.dirs(None, &page(3, None)).await.unwrap();
        assert_eq!(p1.items.len(), 3);
        let p2 = s.dirs(None, &page(3, p1.next)).await.unwrap();
        assert_eq!(p2.items.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["c_dir"]);
        assert_eq!(p2.next, None);

        let only = ["c_dir".to_string(), "A".to_string(), "zz".to_string()];
        let some = s.dirs(Some(&only), &page(100, None)).await.unwrap();
        assert_eq!(some.items.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["A", "c_dir"]);
        let some = s.dirs(Some(&only), &page(1, None)).await.unwrap();
        assert_eq!(some.items.len(), 1);
        let rest = s.dirs(Some(&only), &page(1, some.next)).await.unwrap();
        assert_eq!(rest.items[0].name, "c_dir");
        assert!(s.dirs(Some(&[]), &page(100, None)).await.unwrap().items.is_empty());
    }
}

fn deployment(dir: &str, target: &str, status: DeploymentStatus, n: usize) -> NewDeployment {
    NewDeployment {
        dir: dir.into(),
        target: target.into(),
        version: n.is_multiple_of(2).then(|| BlobDigest::of(format!("v{n}").as_bytes())),
        status,
        plan_digest: Some(format!("plan{n}")),
        started: Some(1_000 + n as i64),
        finished: (!n.is_multiple_of(3)).then_some(2_000 + n as i64),
        error: (status == DeploymentStatus::Failed).then(|| format!("statement {n} failed")),
        created_by: format!("tok_{n}"),
        report: format!("{{\"format\": \"strata.report/v1\", \"n\": {n}}}"),
    }
}

on_every_backend! {
    async fn deployments_are_filtered_and_paged_newest_first(fx) {
        let s = &fx.store;
        let plan = [
            ("app", "prod", DeploymentStatus::Succeeded),
            ("app", "staging", DeploymentStatus::Failed),
            ("web", "prod", DeploymentStatus::DryRun),
            ("app", "prod", DeploymentStatus::Planned),
            ("web", "staging", DeploymentStatus::Checked),
            ("app", "prod", DeploymentStatus::Failed),
        ];
        let mut ids = vec![];
        for (n, (dir, target, status)) in plan.iter().enumerate() {
            let d = deployment(dir, target, *status, n);
            let id = s.add_deployment(&d).await.unwrap();
            assert!(id.starts_with("dep_"), "{id}");
            let (info, report) = s.deployment(&id).await.unwrap().unwrap();
            assert_eq!(report, d.report, "stored as posted");
            assert_eq!(
                (info.id.as_str(), info.dir.as_str(), info.target.as_str(), &info.version, info.status),
                (id.as_str(), d.dir.as_str(), d.target.as_str(), &d.version, d.status)
            );
            assert_eq!((&info.plan_digest, info.started, info.finished, &info.error), (&d.plan_digest, d.started, d.finished, &d.error));
            assert_eq!(info.created_by, d.created_by);
            ids.push(id);
        }
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        assert!(s.deployment("dep_nope").await.unwrap().is_none());

        let list = |f: DeploymentFilter| async move {
            s.deployments(&f, &page(100, None)).await.unwrap().items.into_iter().map(|d| d.id).collect::<Vec<_>>()
        };
        let newest_first = |idx: &[usize]| idx.iter().rev().map(|&i| ids[i].clone()).collect::<Vec<_>>();
        assert_eq!(list(DeploymentFilter::default()).await, newest_first(&[0, 1, 2, 3, 4, 5]));
        assert_eq!(list(DeploymentFilter { dir: Some("app".into()), ..Default::default() }).await, newest_first(&[0, 1, 3, 5]));
        assert_eq!(list(DeploymentFilter { target: Some("prod".into()), ..Default::default() }).await, newest_first(&[0, 2, 3, 5]));
        assert_eq!(
            list(DeploymentFilter { status: Some(DeploymentStatus::Failed), ..Default::default() }).await,
            newest_first(&[1, 5])
        );
        assert_eq!(
            list(DeploymentFilter {
                dir: Some("app".into()),
                target: Some("prod".into()),
                status: Some(DeploymentStatus::Failed),
                dirs: None
            })
            .await,
            newest_first(&[5])
        );
        assert_eq!(list(DeploymentFilter { dirs: Some(vec!["web".into()]), ..Default::default() }).await, newest_first(&[2, 4]));
        assert_eq!(
            list(DeploymentFilter { target: Some("staging".into()), dirs: Some(vec!["web".into(), "x".into()]), ..Default::default() }).await,
            newest_first(&[4])
        );
        assert!(list(DeploymentFilter { dirs: Some(vec![]), ..Default::default() }).await.is_empty());
        assert!(list(DeploymentFilter { dir: Some("app".into()), dirs: Some(vec!["web".into()]), ..Default::default() }).await.is_empty());

        let mut seen = vec![];
        let mut cursor = None;
        loop {
            let p = s.deployments(&DeploymentFilter { dir: Some("app".into()), ..Default::default() }, &page(3, cursor)).await.unwrap();
            seen.extend(p.items.into_iter().map(|d| d.id));
            match p.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, newest_first(&[0, 1, 3, 5]));
    }
}

on_every_backend! {
    async fn tokens_are_stored_hashed_and_revocable(fx) {
        let s = &fx.store;
        let (info, secret) = s.create_token("ci", &[Scope::Push, Scope::Read, Scope::Push], &["app".into()], &["prod".into()]).await.unwrap();
        assert_eq!(info.scopes, [Scope::Read, Scope::Push]);
        assert_eq!(info.dirs, ["app"]);
        assert!(info.id.starts_with("tok_") && info.id.len() == 20 && info.id[4..].bytes().all(|b| b.is_ascii_hexdigit()), "{}", info.id);
        let key = secret.strip_prefix("strata_").unwrap();
        assert_eq!(key.len(), 43);
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{secret}");
        let (other, other_secret) = s.create_token("viewer", &[Scope::Read], &[], &[]).await.unwrap();
        assert_ne!(secret, other_secret);
        assert_ne!(info.id, other.id);

        let found = s.token(&secret).await.unwrap().unwrap();
        assert_eq!((found.id.as_str(), found.name.as_str(), &found.scopes, &found.dirs), (info.id.as_str(), "ci", &info.scopes, &info.dirs));
        assert_eq!(found.targets, ["prod"]);
        let other_found = s.token(&other_secret).await.unwrap().unwrap();
        assert_eq!((other_found.dirs.len(), other_found.targets.len()), (0, 0));
        assert!(s.token("strata_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await.unwrap().is_none());
        assert!(s.token("").await.unwrap().is_none());
        assert!(s.token(&info.id).await.unwrap().is_none());

        // Only the secret's SHA-256 is stored.
        let rows = sqlx::query("SELECT hash FROM tokens").fetch_all(s.reader()).await.unwrap();
        let hashes: Vec<String> = rows.iter().map(|r| r.get("hash")).collect();
        assert!(hashes.contains(&sha256_hex(secret.as_bytes())));
        assert!(!hashes.iter().any(|h| h.contains(key)));

        assert!(s.revoke_token(&info.id).await.unwrap());
        assert!(s.token(&secret).await.unwrap().is_none());
        let revoked = s.tokens().await.unwrap().into_iter().find(|t| t.id == info.id).unwrap().revoked.unwrap();
        assert!(s.revoke_token(&info.id).await.unwrap(), "revoking twice is fine");
        let again = s.tokens().await.unwrap().into_iter().find(|t| t.id == info.id).unwrap().revoked;
        assert_eq!(again, Some(revoked), "the first revocation time stays");
        assert!(!s.revoke_token("tok_0000000000000000").await.unwrap());
        assert!(s.token(&other_secret).await.unwrap().is_some());
        assert_eq!(s.tokens().await.unwrap().len(), 2);
    }
}

on_every_backend! {
    async fn listings_name_the_token_that_did_it(fx) {
        let s = &fx.store;
        let (ci, _) = s.create_token("ci pipeline", &[Scope::Push, Scope::Report], &[], &[]).await.unwrap();
        let (alice, _) = s.create_token("alice", &[Scope::Push], &[], &[]).await.unwrap();
        // A revoked token keeps its row, so its name is still shown; an id
        // with no row (`anonymous`, a token from another registry) has none.
        assert!(s.revoke_token(&alice.id).await.unwrap());
        let gone = "tok_00000000000000ff";
        let ci_name = Some("ci pipeline".to_string());
        let alice_name = Some("alice".to_string());

        let mut pushed = vec![];
        for (i, by) in [ci.id.as_str(), alice.id.as_str(), gone].into_iter().enumerate() {
            let text = format!("-- {i}");
            put(s, "app", text.as_bytes()).await;
            let m = Manifest {
                files: vec![ManifestFile { name: "1.sql".into(), digest: BlobDigest::of(text.as_bytes()), size: text.len() as u64 }],
                sum: format!("1.sql {}\n", text.len()),
            };
            assert!(s.create_version("app", &m.digest(), &m, by).await.unwrap());
            pushed.push(m.digest());
        }
        // Newest first, one per page: the cursor still pages the joined rows.
        let mut seen = vec![];
        let mut cursor = None;
        loop {
            let p = s.versions("app", &page(1, cursor)).await.unwrap();
            seen.extend(p.items.into_iter().map(|v| (v.digest, v.created_by, v.created_by_name)));
            match p.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(
            seen,
            vec![
                (pushed[2].clone(), gone.to_string(), None),
                (pushed[1].clone(), alice.id.clone(), alice_name.clone()),
                (pushed[0].clone(), ci.id.clone(), ci_name.clone()),
            ]
        );

        s.set_tag("app", "latest", &pushed[0], &TagCondition::Any, &ci.id).await.unwrap();
        s.set_tag("app", "latest", &pushed[1], &TagCondition::Any, &alice.id).await.unwrap();
        s.set_tag("app", "latest", &pushed[2], &TagCondition::Any, gone).await.unwrap();
        s.set_tag("app", "stable", &pushed[0], &TagCondition::Any, &alice.id).await.unwrap();
        let tags: Vec<_> = s.tags("app").await.unwrap().into_iter().map(|t| (t.name, t.updated_by_name)).collect();
        assert_eq!(tags, [("latest".to_string(), None), ("stable".to_string(), alice_name.clone())]);
        let one = s.tag("app", "stable").await.unwrap().unwrap();
        assert_eq!((one.updated_by.as_str(), one.updated_by_name), (alice.id.as_str(), alice_name.clone()));
        let mut history = vec![];
        let mut cursor = None;
        loop {
            let p = s.tag_history("app", "latest", &page(2, cursor)).await.unwrap();
            history.extend(p.items.into_iter().map(|m| (m.by, m.by_name)));
            match p.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(
            history,
            [(gone.to_string(), None), (alice.id.clone(), alice_name.clone()), (ci.id.clone(), ci_name.clone())]
        );

        let mut ids = vec![];
        for (n, by) in [ci.id.as_str(), gone].into_iter().enumerate() {
            let d = NewDeployment { created_by: by.to_string(), ..deployment("app", "prod", DeploymentStatus::Succeeded, n) };
            ids.push(s.add_deployment(&d).await.unwrap());
        }
        let (info, _) = s.deployment(&ids[0]).await.unwrap().unwrap();
        assert_eq!((info.created_by.as_str(), info.created_by_name), (ci.id.as_str(), ci_name.clone()));
        let (info, _) = s.deployment(&ids[1]).await.unwrap().unwrap();
        assert_eq!((info.created_by.as_str(), info.created_by_name), (gone, None));
        // A token created without a name has none either (not an empty one).
        let (nameless, _) = s.create_token("", &[Scope::Report], &[], &[]).await.unwrap();
        let d = NewDeployment { created_by: nameless.id.clone(), ..deployment("web", "prod", DeploymentStatus::Succeeded, 9) };
        let id = s.add_deployment(&d).await.unwrap();
        assert_eq!(s.deployment(&id).await.unwrap().unwrap().0.created_by_name, None);
        // Filtered (the filter's columns are the deployment's, not the
        // token's: both tables have `created`, `id`...) and paged.
        let filter = DeploymentFilter {
            dir: Some("app".into()),
            target: Some("prod".into()),
            status: Some(DeploymentStatus::Succeeded),
            dirs: Some(vec!["app".into()]),
        };
        let p1 = s.deployments(&filter, &page(1, None)).await.unwrap();
        let p2 = s.deployments(&filter, &page(1, p1.next.clone())).await.unwrap();
        assert_eq!(p2.next, None);
        let listed: Vec<_> = p1.items.into_iter().chain(p2.items).map(|d| (d.id, d.created_by_name)).collect();
        assert_eq!(listed, [(ids[1].clone(), None), (ids[0].clone(), ci_name)]);
    }
}

on_every_backend! {
    async fn reopening_keeps_everything_and_the_schema_is_versioned(fx) {
        let s = &fx.store;
        let (v, _) = version_of(s, "app", &[("1.sql", "-- 1")]).await;
        s.set_tag("app", "latest", &v, &TagCondition::Any, "tok").await.unwrap();
        s.ping().await.unwrap();
        // Several replicas opening at once migrate once.
        let (a, b, c) = tokio::join!(fx.replica(), fx.replica(), fx.replica());
        assert_eq!(a.tag("app", "latest").await.unwrap().unwrap().version, v);
        assert_eq!(b.version("app", &v).await.unwrap().unwrap().files.len(), 1);
        assert_eq!(get(&c, "app", &BlobDigest::of(b"-- 1")).await.as_deref(), Some(&b"-- 1"[..]));
        let versions: Vec<i64> = sqlx::query("SELECT version FROM strata_schema ORDER BY version")
            .fetch_all(s.reader())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(versions, (1..=db::MIGRATION_COUNT as i64).collect::<Vec<_>>());
        for r in [a, b, c] {
            r.close().await;
        }
        // A schema from a newer server is not touched.
        sqlx::query("INSERT INTO strata_schema (version) VALUES (999)").execute(s.reader()).await.unwrap();
        let e = Store::open(&fx.config).await.err().unwrap();
        assert!(e.0.contains("newer than this server"), "{e}");
    }
}

#[tokio::test]
async fn the_embedded_store_creates_its_directories() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").join("nested");
    let config = StoreConfig::embedded(&data);
    assert_eq!(config.metadata, format!("sqlite://{}", data.join("registry.db").display()));
    assert_eq!(config.blobs, format!("file://{}", data.join("blobs").display()));
    let s = Store::open(&config).await.unwrap();
    put(&s, "app", b"x").await;
    assert!(data.join("registry.db").is_file());
    assert!(data.join("blobs").join("sha256").is_dir());
    s.close().await;
}

#[tokio::test]
async fn bad_configurations_say_what_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = format!("file://{}", dir.path().display());
    let e = Store::open(&StoreConfig { metadata: "mysql://x/y".into(), blobs: blobs.clone() }).await.err().unwrap();
    assert!(e.0.contains("sqlite://PATH"), "{e}");
    let metadata = format!("sqlite://{}/r.db", dir.path().display());
    let e = Store::open(&StoreConfig { metadata: metadata.clone(), blobs: "gs://bucket".into() }).await.err().unwrap();
    assert!(e.0.contains("s3://BUCKET/PREFIX"), "{e}");
    let e = Store::open(&StoreConfig { metadata: "postgres://u:hunter2@127.0.0.1:1/db".into(), blobs })
        .await
        .err()
        .unwrap();
    assert!(e.0.contains("cannot connect") && !e.0.contains("hunter2"), "{e}");
}

#[test]
fn cursors_are_checked() {
    for ok in [None, Some("123"), Some("app.v-1_x")] {
        assert!(page(10, ok.map(String::from)).check().is_ok(), "{ok:?}");
    }
    for bad in ["", "a b", "../x", "x;DROP", &"9".repeat(257)] {
        let e = page(10, Some(bad.into())).check().unwrap_err();
        assert_eq!(e.code, "invalid-cursor");
    }
}

#[test]
fn scopes_have_names() {
    for s in Scope::ALL {
        assert_eq!(Scope::parse(s.as_str()).unwrap(), s);
    }
    assert_eq!(Scope::parse("admin").unwrap_err().code, "invalid-scope");
}

/// The HTTP layer awaits these in handlers run on a multi-threaded
/// runtime: their futures must be `Send`.
#[allow(dead_code, clippy::manual_async_fn)]
fn futures_are_send(s: Store, d: BlobDigest, m: Manifest, p: Page, n: NewDeployment, f: DeploymentFilter) {
    fn send<T: Send>(_: T) {}
    send(s.put_blob("a", &d, 1, body(b"")));
    send(s.get_blob("a", &d));
    send(s.missing_blobs("a", &[]));
    send(s.create_version("a", &d, &m, "t"));
    send(s.version_json("a", &d));
    send(s.versions("a", &p));
    send(s.set_tag("a", "t", &d, &TagCondition::Any, "t"));
    send(s.tag_history("a", "t", &p));
    send(s.dirs(None, &p));
    send(s.add_deployment(&n));
    send(s.deployments(&f, &p));
    send(s.create_token("n", &[], &[], &[]));
    send(s.token("x"));
    send(s.revoke_token("x"));
}

on_every_backend! {
    async fn concurrent_pushes_of_the_same_content_count_once(fx) {
        let s = &fx.store;
        let replica = fx.replica().await;
        let bytes = b"CREATE TABLE t (id int);";
        let d = BlobDigest::of(bytes);
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = if i % 2 == 0 { s.clone() } else { replica.clone() };
                let d = d.clone();
                tokio::spawn(async move { store.put_blob("app", &d, LIMIT, body(bytes)).await.unwrap() })
            })
            .collect();
        let mut new = 0;
        for t in tasks {
            let (was_new, size) = t.await.unwrap();
            assert_eq!(size, bytes.len() as u64);
            new += usize::from(was_new);
        }
        assert_eq!(new, 1, "new to the directory exactly once");
        assert_eq!(get(s, "app", &d).await.as_deref(), Some(&bytes[..]));

        let m = Manifest {
            files: vec![ManifestFile { name: "1_t.sql".into(), digest: d, size: bytes.len() as u64 }],
            sum: "h1:x\n".into(),
        };
        let v = m.digest();
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = if i % 2 == 0 { s.clone() } else { replica.clone() };
                let (v, m) = (v.clone(), m.clone());
                tokio::spawn(async move { store.create_version("app", &v, &m, "tok").await.unwrap() })
            })
            .collect();
        let mut created = 0;
        for t in tasks {
            created += usize::from(t.await.unwrap());
        }
        assert_eq!(created, 1, "created exactly once");
        assert_eq!(s.versions("app", &page(10, None)).await.unwrap().items.len(), 1);
        replica.close().await;
    }
}

/// Set by the crash test for the child process it kills.
const CRASH_CHILD: &str = "STRATA_STORE_CRASH_CHILD";

/// The child of `a_killed_writer_leaves_whole_versions_and_tags`: pushes
/// versions and moves a tag for ever, saying after each which one it did.
#[tokio::test]
#[ignore = "run (and killed) by a_killed_writer_leaves_whole_versions_and_tags"]
async fn crash_child() {
    let Ok(config) = std::env::var(CRASH_CHILD) else { return };
    let (metadata, blobs) = config.split_once('\n').unwrap();
    let s = Store::open(&StoreConfig { metadata: metadata.into(), blobs: blobs.into() }).await.unwrap();
    for i in 0.. {
        let text = format!("CREATE TABLE t{i} (id int);\n").repeat(1 + i % 50);
        let (v, _) = version_of(&s, "app", &[("1.sql", "-- base"), ("2.sql", &text)]).await;
        s.set_tag("app", "latest", &v, &TagCondition::Any, "tok").await.unwrap();
        println!("done {i}");
    }
}

on_every_backend! {
    async fn a_killed_writer_leaves_whole_versions_and_tags(fx) {
        use std::io::BufRead;
        // A separate process pushes and moves a tag; it is killed with
        // SIGKILL once it has done 20, wherever it is then.
        struct KillOnDrop(std::process::Child);
        impl Drop for KillOnDrop {
            fn drop(&mut self) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
        let mut child = KillOnDrop(
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "store::tests::crash_child", "--ignored", "--nocapture", "--test-threads", "1"])
                .env(CRASH_CHILD, format!("{}\n{}", fx.config.metadata, fx.config.blobs))
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let out = std::io::BufReader::new(child.0.stdout.take().unwrap());
        let reached = out.lines().any(|line| line.unwrap() == "done 20");
        assert!(reached, "the child stopped before pushing 21 versions");
        drop(child); // SIGKILL

        let s = fx.replica().await;
        let versions = s.versions("app", &page(1000, None)).await.unwrap().items;
        assert!(versions.len() >= 21, "{}", versions.len());
        for v in &versions {
            let m = s.version("app", &v.digest).await.unwrap().unwrap();
            assert_eq!(m.digest(), v.digest);
            for f in &m.files {
                let bytes = s.read_blob(&f.digest).await.unwrap().expect("every blob of a version is stored");
                assert_eq!(BlobDigest::of(&bytes), f.digest);
                assert_eq!(s.blob_size("app", &f.digest).await.unwrap(), Some(f.size));
            }
        }
        let h = s.tag_history("app", "latest", &page(1000, None)).await.unwrap().items;
        assert!(h.len() >= 21);
        assert_eq!(s.tag("app", "latest").await.unwrap().unwrap().version, h[0].version, "tag and history agree");
        for w in h.windows(2) {
            assert_eq!(w[0].previous.as_ref(), Some(&w[1].version));
        }
        s.close().await;
    }
}

on_every_backend! {
    async fn damaged_bytes_are_served_as_stored_for_clients_to_catch(fx) {
        let s = &fx.store;
        let bytes = b"CREATE TABLE damaged (id int);";
        let d = BlobDigest::of(bytes);
        put(s, "app", bytes).await;
        let hex = d.hex();
        let key = object_store::path::Path::from(format!("sha256/{}/{hex}", &hex[..2]));
        s.inner.blobs.store().put(&key, Bytes::from_static(b"CREATE").into()).await.unwrap();
        // The size is the stored object's, so the response is whole and
        // the client's digest check names the file.
        let b = s.get_blob("app", &d).await.unwrap().unwrap();
        assert_eq!(b.size, 6);
        assert_eq!(get(s, "app", &d).await.as_deref(), Some(&b"CREATE"[..]));
        s.inner.blobs.store().delete(&key).await.unwrap();
        let e = s.get_blob("app", &d).await.err().unwrap();
        assert!(e.0.contains("recorded but missing"), "{e}");
    }
}
