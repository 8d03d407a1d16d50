//! `POST /v1/dirs/{dir}/blobs/fetch`: many blobs in one answer, their
//! bytes concatenated in the order asked; every digest checked before the
//! `200`; the same auth as `GET` of a blob.

mod common;

use common::{borrow, call, sample_files, Resp, Server};
use serde_json::json;
use strata::registry::BlobDigest;

const FETCH: &str = "/v1/dirs/app/blobs/fetch";

/// `POST …/blobs/fetch` of `digests` as `token`.
async fn fetch(s: &Server, dir: &str, token: Option<&str>, digests: &[&BlobDigest]) -> Resp {
    s.post_json(&format!("/v1/dirs/{dir}/blobs/fetch"), token, &json!({ "digests": digests })).await
}

/// Files of distinct sizes, one of them over 1 MiB (several chunks).
fn files() -> Vec<(String, Vec<u8>)> {
    let mut f = sample_files(4);
    f[2].1.resize(3 << 19, b'\n');
    f
}

#[tokio::test]
async fn blobs_come_back_concatenated_in_the_order_asked() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let f = files();
    s.push(&t, "app", &borrow(&f)).await;
    let d: Vec<BlobDigest> = f.iter().map(|(_, b)| BlobDigest::of(b)).collect();

    // Out of order, with a duplicate: each as asked.
    let order = [3, 0, 2, 0, 1];
    let r = fetch(&s, "app", Some(&t), &order.map(|i| &d[i])).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let expected: Vec<u8> = order.iter().flat_map(|&i| f[i].1.clone()).collect();
    assert_eq!(r.body.len(), expected.len());
    assert!(r.body == expected, "the bytes of the blobs, concatenated in order");
    assert_eq!(r.header("content-type").as_deref(), Some("application/octet-stream"));
    assert_eq!(r.header("content-length"), Some(expected.len().to_string()));

    // A read token is enough; nothing asked, nothing sent.
    let reader = s.token_for("read", &["app"]);
    let r = fetch(&s, "app", Some(&reader), &[&d[1]]).await;
    assert_eq!((r.status, r.body.as_slice()), (200, f[1].1.as_slice()));
    let r = fetch(&s, "app", Some(&reader), &[]).await;
    assert_eq!((r.status, r.body.len(), r.header("content-length").as_deref()), (200, 0, Some("0")));

    // Counted by route.
    let m = s.get("/metrics", None).await.text();
    let series = "strata_http_requests_total{route=\"/v1/dirs/{dir}/blobs/fetch\",method=\"POST\",status=\"200\"} 3";
    assert!(m.lines().any(|l| l == series), "{m}");
}

#[tokio::test]
async fn a_missing_blob_is_a_404_naming_it_before_any_byte() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let f = sample_files(2);
    s.push(&t, "app", &borrow(&f)).await;
    // A blob of another directory only is not this one's.
    let only_other = b"CREATE TABLE elsewhere (id int);\n".to_vec();
    s.push(&t, "other", &[("20240101000001_x.sql", &only_other[..])]).await;
    let (a, b) = (BlobDigest::of(&f[0].1), BlobDigest::of(&f[1].1));
    for absent in [BlobDigest::of(b"never uploaded"), BlobDigest::of(&only_other)] {
        let r = fetch(&s, "app", Some(&t), &[&a, &absent, &b]).await;
        let j = r.error(404, "blob-not-found");
        assert!(j["message"].as_str().unwrap().contains(absent.as_str()), "{j}");
    }
    // A directory that does not exist has no blobs.
    fetch(&s, "nope", Some(&t), &[&a]).await.error(404, "blob-not-found");
}

#[tokio::test]
async fn bad_requests_are_400s() {
    let s = Server::start_with(&["--max-body", "128KiB"]).await;
    let t = s.token("read,push");
    let f = sample_files(1);
    s.push(&t, "app", &borrow(&f)).await;
    let d = BlobDigest::of(&f[0].1);
    let url = s.at(FETCH);
    let post = |body: Vec<u8>| call("POST", &url, Some(&t), &[("content-type", "application/json")], Some(body));

    post(b"not json".to_vec()).await.error(400, "invalid-json");
    post(br#"{"digest": []}"#.to_vec()).await.error(400, "invalid-json");
    post(br#"{"digests": "sha256:00"}"#.to_vec()).await.error(400, "invalid-json");
    post(format!(r#"{{"digests": ["{d}"], "other": 1}}"#).into_bytes()).await.error(400, "invalid-json");
    post(br#"{"digests": ["sha256:12"]}"#.to_vec()).await.error(400, "invalid-digest");
    post(br#"{"digests": ["md5:d41d8cd98f00b204e9800998ecf8427e"]}"#.to_vec()).await.error(400, "invalid-digest");

    // At most 1,000 digests.
    let many = vec![d.as_str(); 1001];
    let j = s.post_json(FETCH, Some(&t), &json!({ "digests": many })).await.error(400, "too-many-digests");
    assert!(j["message"].as_str().unwrap().contains("1001"), "{j}");
    let r = s.post_json(FETCH, Some(&t), &json!({ "digests": vec![d.as_str(); 1000] })).await;
    assert_eq!((r.status, r.body.len()), (200, 1000 * f[0].1.len()));
    // The JSON body limit holds.
    let huge = format!(r#"{{"digests": ["{}"]}}"#, "x".repeat(130 << 10));
    post(huge.into_bytes()).await.error(413, "body-too-large");
}

#[tokio::test]
async fn the_same_auth_as_reading_a_blob() {
    let s = Server::start().await;
    let admin = s.token("read,push");
    let f = sample_files(1);
    s.push(&admin, "app", &borrow(&f)).await;
    s.push(&admin, "other", &borrow(&f)).await;
    let d = BlobDigest::of(&f[0].1);

    let r = fetch(&s, "app", None, &[&d]).await;
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(fetch(&s, "app", Some("not-a-token"), &[&d]).await.status, 401);
    fetch(&s, "app", Some(&s.token("push")), &[&d]).await.error(403, "forbidden");
    // A token for another directory, though that directory has the blob too.
    let elsewhere = s.token_for("read", &["other"]);
    fetch(&s, "app", Some(&elsewhere), &[&d]).await.error(403, "forbidden");
    assert_eq!(fetch(&s, "other", Some(&elsewhere), &[&d]).await.status, 200);
    // Auth comes before the body is looked at.
    let r = call("POST", &s.at(FETCH), None, &[], Some(b"not json".to_vec())).await;
    assert_eq!(r.status, 401);

    // Anonymous reads, when enabled.
    let anonymous = Server::start_with(&["--anonymous-read"]).await;
    let admin = anonymous.token("read,push");
    anonymous.push(&admin, "app", &borrow(&f)).await;
    let r = fetch(&anonymous, "app", None, &[&d]).await;
    assert_eq!((r.status, r.body.as_slice()), (200, f[0].1.as_slice()));
}

#[tokio::test]
async fn a_blob_damaged_to_another_size_keeps_the_others_in_place() {
    let s = Server::start().await;
    if !s.storage.embedded() {
        eprintln!("skipped: damages a blob file of the embedded storage");
        return;
    }
    let t = s.token("read,push");
    let f = files();
    s.push(&t, "app", &borrow(&f)).await;
    let d: Vec<BlobDigest> = f.iter().map(|(_, b)| BlobDigest::of(b)).collect();
    let path = |d: &BlobDigest| {
        let hex = d.hex().to_string();
        s.storage.path().join("blobs").join("sha256").join(&hex[..2]).join(&hex)
    };
    // One blob cut short, one grown: served at their recorded sizes (cut,
    // or padded with zeros), so the blobs after them are where the sizes
    // say and the client's check names the damaged files.
    let (short, long) = (&d[2], &d[0]);
    std::fs::write(path(short), &f[2].1[..10]).unwrap();
    std::fs::write(path(long), [f[0].1.as_slice(), b"-- more\n"].concat()).unwrap();
    let r = fetch(&s, "app", Some(&t), &[short, &d[1], long, &d[3]]).await;
    assert_eq!(r.status, 200);
    let (n2, n1, n0) = (f[2].1.len(), f[1].1.len(), f[0].1.len());
    assert_eq!(r.body.len(), n2 + n1 + n0 + f[3].1.len());
    assert_eq!(&r.body[..10], &f[2].1[..10]);
    assert!(r.body[10..n2].iter().all(|&b| b == 0));
    assert_eq!(&r.body[n2..n2 + n1], f[1].1.as_slice());
    assert_eq!(&r.body[n2 + n1..n2 + n1 + n0], f[0].1.as_slice());
    assert_eq!(&r.body[n2 + n1 + n0..], f[3].1.as_slice());
    assert!(s.log().contains("size changed"), "logged");
}
