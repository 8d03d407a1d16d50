//! The client's own rules: URLs, request bodies and how answers become
//! errors. Exchanges with a real registry are tested in
//! `server/tests/client.rs`.

use super::*;

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        method: Method::Get,
        url: "http://127.0.0.1:1/v1/dirs/app/tags/latest".into(),
        response: HttpResponse { status, headers: vec![], body: body.as_bytes().to_vec() },
    }
}

#[test]
fn base_urls_are_checked_and_trimmed() {
    assert_eq!(base_url_of("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
    assert_eq!(base_url_of("https://reg.example.com/strata//").unwrap(), "https://reg.example.com/strata");
    for (bad, why) in [
        ("127.0.0.1:8080", "does not start with http"),
        ("ftp://x", "does not start with http"),
        ("http://", "no host"),
        ("http:///v1", "no host"),
        ("http://x/ y", "contains ' '"),
        ("http://x/?a=b", "query"),
        ("http://x/v1/", "ends in /v1"),
    ] {
        let e = base_url_of(bad).unwrap_err();
        assert_eq!(e.code, "invalid-url", "{bad}");
        assert!(e.message.contains(why), "{bad}: {}", e.message);
        assert!(e.hint.contains("http://127.0.0.1:8080"));
    }
}

#[test]
fn tokens_must_fit_in_a_header() {
    struct Never;
    impl Transport for Never {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
            Err(TransportError::new("unused"))
        }
    }
    let c = Client::new("http://x", Never).unwrap();
    assert_eq!(c.with_token("tok\n").unwrap_err().code, "invalid-token");
    let c = Client::new("http://x", Never).unwrap().with_token("strata_abc-123").unwrap();
    assert_eq!(c.token.as_deref(), Some("strata_abc-123"));
}

#[test]
fn the_registry_json_error_is_kept_as_sent() {
    let e = answer(
        400,
        r#"{"code":"checksum-mismatch","message":"checksum mismatch","file":"2_b.sql","hint":"run strata hash","current":null}"#,
    )
    .error();
    assert_eq!(
        e,
        RegistryError::new("checksum-mismatch", "checksum mismatch".into(), Some("2_b.sql"), "run strata hash")
    );
    // No hint: one from the status.
    let e = answer(401, r#"{"code":"unauthorized","message":"no token"}"#).error();
    assert_eq!((e.code.as_str(), e.message.as_str()), ("unauthorized", "no token"));
    assert!(e.hint.contains("token"), "{}", e.hint);
}

#[test]
fn other_error_bodies_say_what_answered() {
    let e = answer(502, "<html>Bad Gateway</html>\n").error();
    assert_eq!(e.code, "server-error");
    assert_eq!(e.message, "GET http://127.0.0.1:1/v1/dirs/app/tags/latest answered 502: <html>Bad Gateway</html>");
    assert_eq!(answer(404, "").error().message, "GET http://127.0.0.1:1/v1/dirs/app/tags/latest answered 404");
    assert_eq!(answer(403, "{}").error().code, "forbidden");
    assert_eq!(answer(418, "").error().code, "unexpected-status");
    let long = "x".repeat(1000);
    assert!(answer(500, &long).error().message.len() < 300);
}

#[test]
fn bodies_that_are_not_the_protocol_are_invalid_responses() {
    #[derive(Debug, Deserialize)]
    struct Missing {
        #[allow(dead_code)]
        missing: Vec<BlobDigest>,
    }
    for (body, why) in [
        ("not json", "not JSON (byte 0)"),
        (r#"{"missing": ["sha1:x"]}"#, "not what the protocol says"),
        (r#"{"other": []}"#, "not what the protocol says"),
    ] {
        let e = answer(200, body).json::<Missing>().unwrap_err();
        assert_eq!(e.code, "invalid-response", "{body}");
        assert!(e.message.contains(why), "{body}: {}", e.message);
        assert!(e.message.starts_with("GET http://127.0.0.1:1/v1/dirs/app/tags/latest answered 200"));
    }
    let e = Answer { response: HttpResponse { status: 200, headers: vec![], body: vec![0xff] }, ..answer(200, "") }
        .json::<Missing>()
        .unwrap_err();
    assert!(e.message.contains("not UTF-8"));
}

#[test]
fn manifest_bodies_read_back_as_the_same_manifest() {
    let dir = crate::dir::Directory::new([
        ("1_a.sql", b"CREATE TABLE \"a\" (id int); -- \\ \x01\n".to_vec()),
        ("2_b.sql", "CREATE TABLE é (id int);\n".as_bytes().to_vec()),
    ])
    .unwrap();
    let m = Manifest::of(&dir);
    let body = json_body(&m);
    let back: Manifest = answer(200, std::str::from_utf8(&body).unwrap()).json().unwrap();
    assert_eq!(back, m);
    assert_eq!(back.digest(), m.digest());
}

#[test]
fn entity_tags_and_cursors() {
    assert_eq!(unquote("\"sha256:ab\""), "sha256:ab");
    assert_eq!(unquote("W/\"sha256:ab\""), "sha256:ab");
    assert_eq!(unquote("sha256:ab"), "sha256:ab");
    assert_eq!(query_value("a b/c=d&e~_.-"), "a%20b%2Fc%3Dd%26e~_.-");
}

#[test]
fn memory_cache_keeps_its_budget() {
    let c = MemoryCache::new(10);
    let (a, b) = (BlobDigest::of(b"aaaaaa"), BlobDigest::of(b"bbbbbb"));
    c.put(&a, b"aaaaaa");
    assert_eq!(c.get(&a).as_deref(), Some(&b"aaaaaa"[..]));
    c.put(&b, b"bbbbbb");
    // a went to make room.
    assert_eq!((c.get(&a), c.len(), c.size()), (None, 1, 6));
    c.put(&BlobDigest::of(&[0; 11]), &[0; 11]);
    assert_eq!(c.len(), 1, "a blob over the budget is not kept");
    c.remove(&b);
    assert!(c.is_empty());
    assert_eq!(c.size(), 0);
}

/// Runs a future whose every await is ready (the fake registry's).
fn ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1_000_000 {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("the future never completed");
}

/// What the stand-in registry does with `POST …/blobs/fetch`. Fetching
/// in batches from the real server, progress and damaged blobs included,
/// is tested in `server/tests/client.rs`; this stand-in covers only what
/// no registry that runs here does: an older registry without the
/// endpoint, and an answer of the wrong length.
#[derive(Clone, Copy, PartialEq)]
enum Batches {
    /// An older registry: `404 not-found` (no such route).
    NotFound,
    /// An older registry that routes it to `…/blobs/{digest}`: `405`.
    NotAllowed,
    /// Drops the last byte of every answer.
    Short,
}

/// A registry in memory: one directory `app`, tag `latest`.
struct Fake {
    manifest: Manifest,
    blobs: HashMap<String, Vec<u8>>,
    batches: Batches,
    /// Method and path (after `/v1/`) of each request, with the digests
    /// of a batch.
    log: Mutex<Vec<(Method, String, usize)>>,
}

impl Fake {
    fn new(files: &[(&str, Vec<u8>)], batches: Batches) -> Fake {
        let dir = Directory::new(files.iter().map(|(n, b)| (*n, b.clone()))).unwrap();
        let blobs = dir.files().iter().map(|f| (BlobDigest::of(f.bytes()).to_string(), f.bytes().to_vec())).collect();
        Fake { manifest: Manifest::of(&dir), blobs, batches, log: Mutex::default() }
    }

    fn requests(&self) -> Vec<(Method, String, usize)> {
        self.log.lock().unwrap().clone()
    }
}

fn not_found_body(code: &str) -> Vec<u8> {
    format!(r#"{{"code":"{code}","message":"no such thing","hint":"look elsewhere"}}"#).into_bytes()
}

impl Transport for &Fake {
    async fn send(&self, r: HttpRequest) -> Result<HttpResponse, TransportError> {
        let path = r.url.strip_prefix("http://fake/v1/").unwrap().to_string();
        let ok = |body: Vec<u8>| HttpResponse { status: 200, headers: vec![], body };
        let mut count = 0;
        let response = if path == "dirs/app/tags/latest" {
            let mut a = ok(json_body(&self.manifest));
            a.headers.push(("strata-version".into(), self.manifest.digest().to_string()));
            a
        } else if path == "dirs/app/blobs/fetch" {
            #[derive(Deserialize)]
            struct Req {
                digests: Vec<String>,
            }
            let req: Req = serde_json::from_slice(r.body.as_deref().unwrap()).unwrap();
            count = req.digests.len();
            match self.batches {
                Batches::NotFound => HttpResponse { status: 404, headers: vec![], body: not_found_body("not-found") },
                Batches::NotAllowed => {
                    HttpResponse { status: 405, headers: vec![], body: not_found_body("method-not-allowed") }
                }
                Batches::Short => {
                    let mut body: Vec<u8> = req.digests.iter().flat_map(|d| self.blobs[d].clone()).collect();
                    body.pop();
                    ok(body)
                }
            }
        } else if let Some(d) = path.strip_prefix("dirs/app/blobs/") {
            ok(self.blobs[d].clone())
        } else {
            HttpResponse { status: 404, headers: vec![], body: not_found_body("not-found") }
        };
        self.log.lock().unwrap().push((r.method, path, count));
        Ok(response)
    }
}

/// `n` files of `size` bytes each (distinct contents).
fn files(n: usize, size: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let mut sql = format!("CREATE TABLE t{i} (id int);\n-- ").into_bytes();
            sql.resize(size.max(sql.len()), b'x');
            sql.push(b'\n');
            (format!("{:03}_t{i}.sql", i + 1), sql)
        })
        .collect()
}

fn fetch_with(files: &[(String, Vec<u8>)], batches: Batches) -> (Result<Fetched, RegistryError>, Vec<Progress>, Fake) {
    let named: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let fake = Fake::new(&named, batches);
    let mut seen = Vec::new();
    let result = {
        let client = Client::new("http://fake", &fake).unwrap();
        ready(client.fetch("app", "latest", Dialect::Postgres, |p| seen.push(p)))
    };
    (result, seen, fake)
}

/// The totals first, then monotonic, ending at the totals.
fn check_progress(seen: &[Progress], files: usize, bytes: u64) {
    assert_eq!(seen[0], Progress { files_done: 0, files_total: files, bytes_done: 0, bytes_total: bytes });
    for w in seen.windows(2) {
        assert!(w[1].files_done > w[0].files_done && w[1].bytes_done > w[0].bytes_done, "{w:?}");
        assert_eq!((w[1].files_total, w[1].bytes_total), (files, bytes));
    }
    assert_eq!(
        seen.last(),
        Some(&Progress { files_done: files, files_total: files, bytes_done: bytes, bytes_total: bytes })
    );
}

#[test]
fn batches_hold_at_most_8_mib_and_a_larger_file_goes_alone() {
    let f = |size: u64| ManifestFile { name: "1_a.sql".into(), digest: BlobDigest::of(b""), size };
    let (mib3, mib9, small) = (f(3 << 20), f(9 << 20), f(10));
    let list = [&mib3, &mib3, &mib3, &mib9, &small, &small, &mib3];
    assert_eq!(batches(&list), [0..2, 2..3, 3..4, 4..7]);
    let eight = f(8 << 20);
    assert_eq!(batches(&[&eight, &small]), [0..1, 1..2]);
    assert_eq!(batches(&[&small; 513]), [0..256, 256..512, 512..513]);
    assert!(batches(&[]).is_empty());
}

#[test]
fn an_older_registry_gets_one_get_per_blob() {
    for batches in [Batches::NotFound, Batches::NotAllowed] {
        let fs = files(300, 40);
        let (fetched, seen, fake) = fetch_with(&fs, batches);
        let fetched = fetched.unwrap();
        assert_eq!(fetched.directory.files().len(), 300);
        let requests = fake.requests();
        let posts = requests.iter().filter(|r| r.0 == Method::Post).count();
        let gets = requests.iter().filter(|r| r.0 == Method::Get && r.1.starts_with("dirs/app/blobs/sha256:")).count();
        // The fake answers at once: the second batch was not sent yet
        // when the first came back, so it was not sent at all.
        assert_eq!((posts, gets), (1, 300));
        let total: u64 = fs.iter().map(|(_, b)| b.len() as u64).sum();
        assert_eq!(seen.len(), 301, "the totals, then one per blob");
        check_progress(&seen, 300, total);
    }
}

#[test]
fn a_batch_answer_of_the_wrong_length_names_its_first_file() {
    let fs = files(3, 40);
    let (fetched, _, _) = fetch_with(&fs, Batches::Short);
    let e = fetched.unwrap_err();
    assert_eq!((e.code.as_str(), e.file.as_deref()), ("invalid-response", Some("001_t0.sql")));
    let expected: usize = fs.iter().map(|(_, b)| b.len()).sum();
    assert!(
        e.message
            .contains(&format!("sent {} bytes for {expected} expected (001_t0.sql and 2 other files", expected - 1)),
        "{}",
        e.message
    );
}
