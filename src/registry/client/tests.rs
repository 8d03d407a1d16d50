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
