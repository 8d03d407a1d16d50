//! Running the server: health, metrics, CORS for browsers, caching headers,
//! graceful stops, and the token commands.

mod common;

use common::{borrow, call, sample_files, Server};
use serde_json::Value;
use strata::registry::BlobDigest;

#[tokio::test]
async fn healthz_answers_without_a_token() {
    let s = Server::start().await;
    let r = s.get("/healthz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text().trim(), "ok");
}

/// The value of a metric line starting with `prefix` (labels included).
fn metric(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_bytes_versions_and_tag_moves() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let f = sample_files(2);
    let v = s.push(&t, "app", &borrow(&f)).await;
    assert_eq!(s.put_tag(&t, "app", "latest", &v, &[]).await.status, 200);
    for _ in 0..3 {
        assert_eq!(s.get(&format!("/v1/dirs/app/versions/{v}"), Some(&t)).await.status, 200);
    }
    s.get("/v1/dirs/app/tags/nope", Some(&t)).await.error(404, "tag-not-found");
    s.get("/no/such/path", None).await.error(404, "not-found");

    let r = s.get("/metrics", None).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let m = r.text();
    let get_version =
        "strata_http_requests_total{route=\"/v1/dirs/{dir}/versions/{digest}\",method=\"GET\",status=\"200\"}";
    assert_eq!(metric(&m, get_version), Some(3.0), "{m}");
    let missing_tag = "strata_http_requests_total{route=\"/v1/dirs/{dir}/tags/{tag}\",method=\"GET\",status=\"404\"}";
    assert_eq!(metric(&m, missing_tag), Some(1.0), "{m}");
    // Unknown paths are one series, not one per path.
    assert_eq!(metric(&m, "strata_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"), Some(1.0));
    assert!(!m.contains("/no/such/path"));
    let puts = "strata_http_requests_total{route=\"/v1/dirs/{dir}/blobs/{digest}\",method=\"PUT\",status=\"201\"}";
    assert_eq!(metric(&m, puts), Some(2.0), "{m}");
    assert_eq!(metric(&m, "strata_versions_created_total "), Some(1.0), "{m}");
    assert_eq!(metric(&m, "strata_tag_moves_total "), Some(1.0), "{m}");
    assert_eq!(metric(&m, "strata_blobs_stored_total "), Some(2.0), "{m}");
    let blob_bytes: usize = f.iter().map(|(_, b)| b.len()).sum();
    assert!(metric(&m, "strata_http_request_bytes_total ").unwrap() >= blob_bytes as f64, "{m}");
    assert!(metric(&m, "strata_http_response_bytes_total ").unwrap() > 0.0, "{m}");
    let count = "strata_http_request_duration_seconds_count{route=\"/v1/dirs/{dir}/versions/{digest}\",method=\"GET\"}";
    assert_eq!(metric(&m, count), Some(3.0), "{m}");
    let inf =
        "strata_http_request_duration_seconds_bucket{route=\"/v1/dirs/{dir}/versions/{digest}\",method=\"GET\",le=\"+Inf\"}";
    assert_eq!(metric(&m, inf), Some(3.0), "{m}");
}

#[tokio::test]
async fn immutable_content_is_cacheable_and_revalidates() {
    let s = Server::start().await;
    let t = s.token("read,push");
    let f = sample_files(1);
    let v = s.push(&t, "app", &borrow(&f)).await;
    let d = BlobDigest::of(&f[0].1);
    for path in [format!("/v1/dirs/app/versions/{v}"), format!("/v1/dirs/app/blobs/{d}")] {
        let r = s.get(&path, Some(&t)).await;
        assert_eq!(r.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"), "{path}");
        let etag = r.header("etag").unwrap();
        let r = call("GET", &s.at(&path), Some(&t), &[("if-none-match", &etag)], None).await;
        assert_eq!(r.status, 304, "{path}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), Some(etag.clone()));
        let r = call("GET", &s.at(&path), Some(&t), &[("if-none-match", "\"sha256:0\"")], None).await;
        assert_eq!(r.status, 200, "{path}");
    }
}

#[tokio::test]
async fn cors_lets_configured_origins_in_and_preflights_need_no_token() {
    let s = Server::start_with(&["--cors-origin", "https://viewer.example"]).await;
    let t = s.token("read,push");
    let v = s.push(&t, "app", &borrow(&sample_files(1))).await;
    assert_eq!(s.put_tag(&t, "app", "latest", &v, &[]).await.status, 200);

    let preflight = call(
        "OPTIONS",
        &s.at("/v1/dirs/app/tags/latest"),
        None,
        &[
            ("origin", "https://viewer.example"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "authorization,if-match,content-type"),
        ],
        None,
    )
    .await;
    assert!(preflight.status == 200 || preflight.status == 204, "{}: {}", preflight.status, preflight.text());
    assert_eq!(preflight.header("access-control-allow-origin").as_deref(), Some("https://viewer.example"));
    let methods = preflight.header("access-control-allow-methods").unwrap().to_ascii_uppercase();
    assert!(methods.contains("PUT"), "{methods}");
    let allowed = preflight.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    for h in ["authorization", "if-match", "content-type", "if-none-match"] {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }

    let r =
        call("GET", &s.at("/v1/dirs/app/tags/latest"), Some(&t), &[("origin", "https://viewer.example")], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("https://viewer.example"));
    let exposed = r.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    assert!(exposed.contains("etag") && exposed.contains("strata-version"), "{exposed}");
    // Errors carry the headers too, so a page can read them.
    let r = call("GET", &s.at("/v1/dirs/app/tags/latest"), None, &[("origin", "https://viewer.example")], None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("https://viewer.example"));
    // Other origins get nothing.
    let r = call("GET", &s.at("/v1/dirs/app/tags/latest"), Some(&t), &[("origin", "https://evil.example")], None).await;
    assert_eq!(r.header("access-control-allow-origin"), None);

    // Without --cors-origin: no CORS headers at all.
    let plain = Server::start().await;
    let r = call("GET", &plain.at("/healthz"), None, &[("origin", "https://viewer.example")], None).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn cors_any_origin() {
    let s = Server::start_with(&["--cors-origin", "*", "--anonymous-read"]).await;
    let r = call("GET", &s.at("/v1/dirs"), None, &[("origin", "https://anywhere.example")], None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("*"));
}

#[tokio::test]
async fn sigterm_and_sigint_stop_cleanly() {
    let mut s = Server::start().await;
    let t = s.token("read,push");
    s.push(&t, "app", &borrow(&sample_files(1))).await;
    // A client holding an idle keep-alive connection does not keep the
    // server from stopping.
    let idle = s.client();
    assert_eq!(idle.get(s.at("/healthz")).send().await.unwrap().status(), 200);
    let status = s.terminate();
    assert!(status.success(), "SIGTERM: {status:?}\n{}", s.log());
    s.restart();
    assert_eq!(s.get("/v1/dirs", Some(&t)).await.json()["items"][0]["name"], "app");
    assert_eq!(idle.get(s.at("/healthz")).send().await.unwrap().status(), 200);
    let status = s.signal("INT");
    assert!(status.success(), "SIGINT: {status:?}\n{}", s.log());
}

#[tokio::test]
async fn bad_flags_fail_with_a_message() {
    let s = Server::start().await;
    for (args, says) in [
        (vec!["serve", "--listen", "not-an-address"], "cannot listen"),
        (vec!["serve", "--max-blob-size", "ten", "--listen", "127.0.0.1:0"], "not a size"),
        (vec!["serve", "--cors-origin", "viewer.example", "--listen", "127.0.0.1:0"], "not an origin"),
        (vec!["token", "create", "--scope", "admin"], "not a token scope"),
        (vec!["token", "create", "--scope", "read", "--dir", "a/b"], "not a valid directory name"),
        (vec!["token", "revoke", "tok_nope"], "no token"),
    ] {
        let out = s.command(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn token_commands_create_list_and_revoke() {
    let s = Server::start().await;
    let out = s.command(&[
        "token",
        "create",
        "--scope",
        "read,push,deploy",
        "--dir",
        "app",
        "--target",
        "prod",
        "--name",
        "ci",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = created["secret"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("tok_"));
    assert_eq!(created["scopes"], serde_json::json!(["read", "push", "deploy"]));
    assert_eq!(created["dirs"], serde_json::json!(["app"]));
    assert_eq!(created["targets"], serde_json::json!(["prod"]));
    assert_eq!(created["name"], "ci");
    // The secret works, and is never shown again.
    assert_eq!(s.get("/v1/dirs", Some(secret)).await.status, 200);
    let list = s.command(&["token", "list", "--json"]);
    let text = String::from_utf8(list.stdout).unwrap();
    assert!(!text.contains(secret));
    let tokens: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(tokens[0]["id"], id);
    assert_eq!(tokens[0]["revoked"], Value::Null);
    let table = String::from_utf8(s.command(&["token", "list"]).stdout).unwrap();
    assert!(table.contains(id) && table.contains("ci") && table.contains("read,push,deploy"), "{table}");
    assert!(table.contains("TARGETS") && table.contains(" prod "), "{table}");
    // A target name is checked as the hook checks it.
    let bad = s.command(&["token", "create", "--scope", "deploy", "--target", "a:b"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--target"), "{}", String::from_utf8_lossy(&bad.stderr));
    assert!(!table.contains(secret));

    let out = s.command(&["token", "revoke", id]);
    assert!(out.status.success());
    let tokens: Value = serde_json::from_slice(&s.command(&["token", "list", "--json"]).stdout).unwrap();
    assert!(tokens[0]["revoked"].is_string(), "{tokens}");
}

#[tokio::test]
async fn logs_one_line_per_request_as_json_when_asked() {
    let mut s = Server::start_with(&["--log-format", "json"]).await;
    s.get("/v1/dirs/app/tags/latest", None).await.error(401, "unauthorized");
    // Lines are written in the background; a graceful stop flushes them.
    assert!(s.terminate().success());
    let log = s.log();
    let lines: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("{l}"))).collect();
    let request = lines
        .iter()
        .find(|l| l["fields"]["route"] == "/v1/dirs/{dir}/tags/{tag}")
        .unwrap_or_else(|| panic!("no request line in {log}"));
    assert_eq!(request["fields"]["status"], 401);
    assert_eq!(request["fields"]["method"], "GET");
    assert_eq!(request["fields"]["path"], "/v1/dirs/app/tags/latest");
    assert!(request["fields"]["micros"].is_u64());
}

/// `--www DIR`: the viewer's files outside the API, `index.html` for the
/// viewer's own routes, never a file outside DIR; the API's unknown paths
/// stay JSON 404s.
#[tokio::test]
async fn serves_the_viewer_outside_the_api() {
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("index.html"), "<!doctype html><title>strata</title>").unwrap();
    std::fs::create_dir(www.path().join("pkg")).unwrap();
    std::fs::write(www.path().join("pkg/strata_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(www.path().join("app.js"), "export {};").unwrap();
    let s = Server::start_with(&["--www", www.path().to_str().unwrap()]).await;

    // A browser's page load accepts text/html; its scripts, styles and fetches do not.
    let html = [("accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
    for (path, ctype, body) in [
        ("/", "text/html", "<!doctype html><title>strata</title>"),
        ("/d/app/v/v1.4", "text/html", "<!doctype html><title>strata</title>"),
        ("/app.js", "text/javascript", "export {};"),
    ] {
        let r = call("GET", &s.at(path), None, &html, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert!(
            r.header("content-type").is_some_and(|c| c.starts_with(ctype)),
            "{path}: {:?}",
            r.header("content-type")
        );
        assert_eq!(r.text(), body, "{path}");
        assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(
            r.header("content-security-policy").as_deref(),
            Some(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
            ),
            "{path}"
        );
    }
    let r = s.get("/pkg/strata_bg.wasm", None).await;
    assert_eq!((r.status, r.header("content-type").as_deref()), (200, Some("application/wasm")));
    // A missing asset is a 404, never the page served as a stylesheet or script.
    let css = [("accept", "text/css,*/*;q=0.1")];
    let r = call("GET", &s.at("/style.css"), None, &css, None).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(s.get("/d/app", None).await.status, 404, "not a page load");

    // Nothing outside the directory, whatever the spelling.
    for raw in
        ["GET /../Cargo.toml HTTP/1.1", "GET /%2e%2e/Cargo.toml HTTP/1.1", "GET /pkg/..%2f..%2fCargo.toml HTTP/1.1"]
    {
        let (status, body) = s.raw(&format!("{raw}\r\nHost: x\r\nConnection: close\r\n\r\n")).await;
        assert!(!body.contains("[package]"), "{raw}: {status} {body}");
    }
    // The API keeps its JSON errors and its auth.
    s.get("/v1/nope", None).await.error(404, "not-found");
    s.get("/hook/v1/nope", None).await.error(404, "not-found");
    s.get("/v1/dirs", None).await.error(401, "unauthorized");
    let r = s.post_json("/dirs/app", None, &serde_json::json!({})).await;
    assert_eq!(r.status, 404, "only GET and HEAD read the viewer: {}", r.text());

    // Without --www there is no viewer: a JSON 404.
    Server::start().await.get("/", None).await.error(404, "not-found");
    // A directory without index.html is refused at startup.
    let empty = tempfile::tempdir().unwrap();
    let out = s.command(&["serve", "--www", empty.path().to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("index.html"), "{}", String::from_utf8_lossy(&out.stderr));
}
