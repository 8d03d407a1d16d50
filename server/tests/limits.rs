//! Limits and bad input: every refusal is a 4xx JSON error that says what,
//! where and what to do, and leaves nothing stored.

mod common;

use common::{borrow, call, manifest_of, sample_files, Server};
use serde_json::{json, Value};
use strata::registry::{BlobDigest, Manifest};

/// Asserts that `dir` has no version and no blob `d`.
async fn nothing_stored(s: &Server, t: &str, dir: &str, blobs: &[&BlobDigest]) {
    let r = s.get(&format!("/v1/dirs/{dir}/versions"), Some(t)).await;
    assert!(r.status == 404 || r.json()["items"] == json!([]), "{dir} has versions: {} {}", r.status, r.text());
    for d in blobs {
        s.get(&format!("/v1/dirs/{dir}/blobs/{d}"), Some(t)).await.error(404, "blob-not-found");
        let m = s.post_json(&format!("/v1/dirs/{dir}/blobs/missing"), Some(t), &json!({ "digests": [d] })).await;
        assert_eq!(m.json()["missing"], json!([d]));
    }
}

#[tokio::test]
async fn blob_uploads_are_checked_before_they_are_visible() {
    let s = Server::start_with(&["--max-blob-size", "1024"]).await;
    let t = s.token("read,push");

    // Over the size limit, declared or streamed.
    let big = vec![b'x'; 2000];
    let d = BlobDigest::of(&big);
    let e = s.put(&format!("/v1/dirs/app/blobs/{d}"), Some(&t), &big).await.error(413, "blob-too-large");
    assert!(e["message"].as_str().unwrap().contains("1024"), "{e}");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big.chunks(100).map(|c| Ok(c.to_vec())).collect();
    let r = common::client()
        .put(s.at(&format!("/v1/dirs/app/blobs/{d}")))
        .bearer_auth(&t)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413, "a chunked upload over the limit");
    // Exactly at the limit is fine.
    let max = vec![b'y'; 1024];
    let r = s.put(&format!("/v1/dirs/ok/blobs/{}", BlobDigest::of(&max)), Some(&t), &max).await;
    assert_eq!(r.status, 201, "{}", r.text());

    // Bytes that are not the digest.
    let other = BlobDigest::of(b"something else");
    let e = s.put(&format!("/v1/dirs/app/blobs/{other}"), Some(&t), b"SELECT 1;").await.error(400, "digest-mismatch");
    assert!(e["message"].as_str().unwrap().contains(BlobDigest::of(b"SELECT 1;").as_str()), "{e}");

    // Not a digest at all.
    for bad in ["sha256:abc", "md5:0123", "SHA256:E193A4D8625C84E0DD2A73D6934516528737DB916FAB0D92F4591704682778F4"] {
        s.put(&format!("/v1/dirs/app/blobs/{bad}"), Some(&t), b"x").await.error(400, "invalid-digest");
        s.get(&format!("/v1/dirs/app/blobs/{bad}"), Some(&t)).await.error(400, "invalid-digest");
    }
    nothing_stored(&s, &t, "app", &[&d, &other, &BlobDigest::of(b"SELECT 1;")]).await;

    // Missing: bad digests and too many.
    s.post_json("/v1/dirs/app/blobs/missing", Some(&t), &json!({ "digests": ["nope"] }))
        .await
        .error(400, "invalid-digest");
    s.post_json("/v1/dirs/app/blobs/missing", Some(&t), &json!({ "digest": [] })).await.error(400, "invalid-json");
}

/// Pushes the blobs of `files` to `dir`.
async fn upload(s: &Server, t: &str, dir: &str, files: &[(&str, &[u8])]) {
    for (_, b) in files {
        let r = s.put(&format!("/v1/dirs/{dir}/blobs/{}", BlobDigest::of(b)), Some(t), b).await;
        assert!(r.status == 201 || r.status == 200, "{}", r.text());
    }
}

#[tokio::test]
async fn bad_manifests_are_refused_naming_the_file() {
    let s = Server::start_with(&["--max-files", "4", "--max-version-size", "200", "--max-body", "4096"]).await;
    let t = s.token("read,push");
    let f = sample_files(3);
    let files = borrow(&f);
    upload(&s, &t, "app", &files).await;
    let good = manifest_of(&files);
    let post = |m: Value| {
        let (s, t) = (&s, &t);
        async move { s.post_json("/v1/dirs/app/versions", Some(t), &m).await }
    };
    let with = |edit: &dyn Fn(&mut Manifest)| {
        let mut m = good.clone();
        edit(&mut m);
        serde_json::to_value(m).unwrap()
    };
    let mut digests = Vec::new();

    // The core's manifest check.
    let m = with(&|m| m.files.swap(0, 1));
    digests.push(serde_json::from_value::<Manifest>(m.clone()).unwrap().digest());
    let e = post(m).await.error(400, "unordered-files");
    assert_eq!(e["file"], f[0].0.as_str());
    let m = with(&|m| m.files[1].name = "../evil.sql".into());
    post(m).await.error(400, "invalid-file-name");
    let m = with(&|m| m.files[1].name = "notes.txt".into());
    let e = post(m).await.error(400, "invalid-file-name");
    assert_eq!(e["file"], "notes.txt");

    // Blobs: not uploaded, another size, other bytes, a wrong sum.
    let m = with(&|m| m.files[2].digest = BlobDigest::of(b"never uploaded"));
    digests.push(serde_json::from_value::<Manifest>(m.clone()).unwrap().digest());
    let e = post(m).await.error(400, "missing-blob");
    assert_eq!(e["file"], f[2].0.as_str());
    let m = with(&|m| m.files[1].size += 1);
    let e = post(m).await.error(400, "size-mismatch");
    assert_eq!(e["file"], f[1].0.as_str());
    let m = with(&|m| m.sum = m.sum.replace("h1:", "h1:A"));
    digests.push(serde_json::from_value::<Manifest>(m.clone()).unwrap().digest());
    let e = post(m).await;
    assert_eq!(e.status, 400, "{}", e.text());
    assert!(e.json()["file"].is_string(), "{}", e.text());
    // A file whose bytes are not those of its line in atlas.sum.
    let tampered = {
        let mut m = good.clone();
        let swapped = b"CREATE TABLE t2 (id bigint);\n".as_slice();
        upload(&s, &t, "app", &[("x", swapped)]).await;
        m.files[1].digest = BlobDigest::of(swapped);
        m.files[1].size = swapped.len() as u64;
        m
    };
    digests.push(tampered.digest());
    let e = post(serde_json::to_value(&tampered).unwrap()).await.error(400, "checksum-mismatch");
    assert_eq!(e["file"], f[1].0.as_str());

    // Limits: files, total size, body.
    let many = sample_files(5);
    let m = serde_json::to_value(manifest_of(&borrow(&many))).unwrap();
    post(m).await.error(413, "too-many-files");
    let heavy: Vec<(String, Vec<u8>)> =
        (1..=3).map(|i| (format!("{i}_big.sql"), format!("SELECT '{}';\n", "z".repeat(90)).into_bytes())).collect();
    let m = serde_json::to_value(manifest_of(&borrow(&heavy))).unwrap();
    let e = post(m).await.error(413, "version-too-large");
    assert!(e["message"].as_str().unwrap().contains("200"), "{e}");
    let mut padded = serde_json::to_value(&good).unwrap();
    padded["sum"] = json!("x".repeat(5000));
    post(padded).await.error(413, "body-too-large");

    // Not a manifest.
    let r = call("POST", &s.at("/v1/dirs/app/versions"), Some(&t), &[], Some(b"{\"files\": [".to_vec())).await;
    r.error(400, "invalid-json");
    post(json!({ "files": [], "sum": "", "extra": true })).await.error(400, "invalid-json");
    post(json!({ "files": [{ "name": "1_a.sql", "digest": "sha256:xyz", "size": 1 }], "sum": "" }))
        .await
        .error(400, "invalid-json");
    post(json!({ "files": [{ "name": "1_a.sql", "digest": BlobDigest::of(b"a"), "size": -1 }], "sum": "" }))
        .await
        .error(400, "invalid-json");

    // None of it was stored; the good manifest still goes in.
    let r = s.get("/v1/dirs/app/versions", Some(&t)).await;
    assert_eq!(r.json()["items"], json!([]), "{}", r.text());
    for d in &digests {
        s.get(&format!("/v1/dirs/app/versions/{d}"), Some(&t)).await.error(404, "version-not-found");
    }
    let r = post(serde_json::to_value(&good).unwrap()).await;
    assert_eq!(r.status, 201, "{}", r.text());
}

#[tokio::test]
async fn names_are_one_safe_path_segment() {
    let s = Server::start().await;
    let t = s.token("read,push,report");
    let v = s.push(&t, "app", &borrow(&sample_files(1))).await;
    for bad in ["a%2Fb", "a%00b", "a%3Ab", "a..b", "-a", ".hidden", "%20", "a%20b", &"x".repeat(129)] {
        for path in [
            format!("/v1/dirs/{bad}/versions"),
            format!("/v1/dirs/{bad}/tags"),
            format!("/v1/dirs/{bad}/blobs/{}", BlobDigest::of(b"x")),
            format!("/v1/dirs/app/tags/{bad}"),
            format!("/v1/dirs/app/tags/{bad}/history"),
        ] {
            s.get(&path, Some(&t)).await.error(400, "invalid-name");
        }
        let r = s.put_tag(&t, "app", bad, &v, &[]).await;
        r.error(400, "invalid-name");
        let r = s.put(&format!("/v1/dirs/{bad}/blobs/{}", BlobDigest::of(b"x")), Some(&t), b"x").await;
        r.error(400, "invalid-name");
    }
    // `..` as a whole segment, which HTTP clients normalize away: sent raw.
    for path in ["/v1/dirs/../versions", "/v1/dirs/app/tags/..", "/v1/dirs/%2e%2e/versions"] {
        let (status, body) = s
            .raw(&format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nConnection: close\r\n\r\n"))
            .await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("invalid-name"), "{path}: {body}");
    }
    // Not UTF-8 after decoding.
    s.get("/v1/dirs/%FF/versions", Some(&t)).await.error(400, "invalid-path");
    // Nothing was created by any of it.
    let dirs = s.get("/v1/dirs", Some(&t)).await.json();
    assert_eq!(dirs["items"].as_array().unwrap().len(), 1, "{dirs}");
    let tags = s.get("/v1/dirs/app/tags", Some(&t)).await.json();
    assert_eq!(tags["items"], json!([]));
}

#[tokio::test]
async fn tag_requests_are_checked() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let v = s.push(&t, "app", &borrow(&sample_files(1))).await;
    let q = format!("\"{v}\"");
    for headers in [
        vec![("if-match", q.as_str()), ("if-none-match", "*")],
        vec![("if-match", "*")],
        vec![("if-match", "\"v1\"")],
        vec![("if-none-match", q.as_str())],
        vec![("if-match", "\"sha256:a\", \"sha256:b\"")],
    ] {
        let r = s.put_tag(&t, "app", "latest", &v, &headers).await;
        r.error(400, "invalid-precondition");
    }
    let url = s.at("/v1/dirs/app/tags/latest");
    call("PUT", &url, Some(&t), &[], Some(b"{}".to_vec())).await.error(400, "invalid-json");
    call("PUT", &url, Some(&t), &[], Some(b"{\"version\":\"latest\"}".to_vec())).await.error(400, "invalid-digest");
    call("PUT", &url, Some(&t), &[], None).await.error(400, "invalid-json");
    s.get("/v1/dirs/app/tags/latest", Some(&t)).await.error(404, "tag-not-found");
    s.get("/v1/dirs/app/tags/latest/history", Some(&t)).await.error(404, "tag-not-found");
    assert_eq!(s.get("/v1/dirs/app/tags", Some(&t)).await.json()["items"], json!([]));
}

#[tokio::test]
async fn unknown_routes_methods_and_cursors_are_json_errors() {
    let s = Server::start().await;
    let t = s.token("read,push");
    s.push(&t, "app", &borrow(&sample_files(1))).await;
    s.get("/v2/dirs", Some(&t)).await.error(404, "not-found");
    s.get("/", None).await.error(404, "not-found");
    s.get("/v1/dirs/app/nothing", Some(&t)).await.error(404, "not-found");
    let r = call("DELETE", &s.at("/v1/dirs/app/versions"), Some(&t), &[], None).await;
    let e = r.error(405, "method-not-allowed");
    assert!(e["message"].as_str().unwrap().contains("DELETE"), "{e}");
    let allow = r.header("allow").expect("an Allow header");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    call("PATCH", &s.at("/v1/dirs/app/tags/latest"), Some(&t), &[], None).await.error(405, "method-not-allowed");
    call("GET", &s.at("/v1/dirs/app/blobs/missing"), Some(&t), &[], None).await.error(405, "method-not-allowed");
    s.get("/v1/dirs/app/versions?cursor=%00", Some(&t)).await.error(400, "invalid-cursor");
    s.get("/v1/deployments?cursor=a%2Fb", Some(&t)).await.error(400, "invalid-cursor");
    // A well-formed cursor that no page gave: an empty page, not an error.
    let r = s.get("/v1/dirs/app/versions?cursor=zzz", Some(&t)).await;
    assert_eq!(r.status, 200, "{}", r.text());
}
