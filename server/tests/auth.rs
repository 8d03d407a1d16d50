//! Who may do what: every endpoint without a token, with a bad one, with a
//! token lacking the scope, with one limited to another directory, and
//! with the right one; anonymous reads on and off; revocation.

mod common;

use common::{borrow, call, manifest_of, sample_files, Resp, Server};
use serde_json::json;
use strata::registry::BlobDigest;
use strata::report::{ApplyReport, Report, ReportBody};

const SCOPES: [&str; 3] = ["read", "push", "report"];

/// One endpoint of the API, as a request that succeeds with the right
/// token.
struct Endpoint {
    method: &'static str,
    path: String,
    scope: &'static str,
    /// The endpoint is about directory `app` (a token limited to another
    /// directory gets 403); otherwise it lists what the token may read.
    dir_scoped: bool,
    body: Option<Vec<u8>>,
    /// The success status.
    ok: u16,
}

struct World {
    s: Server,
    endpoints: Vec<Endpoint>,
}

async fn world(args: &[&str]) -> World {
    let s = Server::start_with(args).await;
    let admin = s.token("read,push,report,deploy");
    let files = sample_files(2);
    let v = s.push(&admin, "app", &borrow(&files)).await;
    s.push(&admin, "other", &borrow(&files)).await;
    assert_eq!(s.put_tag(&admin, "app", "latest", &v, &[]).await.status, 200);
    let report = serde_json::to_value(Report::new(ReportBody::Apply(Box::new(ApplyReport {
        digest: "sha256:p".into(),
        start: 1,
        ..ApplyReport::default()
    }))))
    .unwrap();
    let deployment = json!({ "target": "prod", "version": v, "report": report });
    let r = s.post_json("/v1/dirs/app/deployments", Some(&admin), &deployment).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let dep = r.json()["id"].as_str().unwrap().to_string();
    let r = s.post_json("/v1/dirs/other/deployments", Some(&admin), &deployment).await;
    assert_eq!(r.status, 201, "{}", r.text());

    let blob = files[0].1.clone();
    let d = BlobDigest::of(&blob);
    let manifest = serde_json::to_vec(&manifest_of(&borrow(&files))).unwrap();
    let e = |method, path: String, scope, dir_scoped, body: Option<Vec<u8>>, ok| Endpoint {
        method,
        path,
        scope,
        dir_scoped,
        body,
        ok,
    };
    let endpoints = vec![
        e("GET", "/v1/dirs".into(), "read", false, None, 200),
        e("PUT", format!("/v1/dirs/app/blobs/{d}"), "push", true, Some(blob), 200),
        e("GET", format!("/v1/dirs/app/blobs/{d}"), "read", true, None, 200),
        e("HEAD", format!("/v1/dirs/app/blobs/{d}"), "read", true, None, 200),
        e(
            "POST",
            "/v1/dirs/app/blobs/missing".into(),
            "push",
            true,
            Some(format!("{{\"digests\":[\"{d}\"]}}").into()),
            200,
        ),
        e(
            "POST",
            "/v1/dirs/app/blobs/fetch".into(),
            "read",
            true,
            Some(format!("{{\"digests\":[\"{d}\"]}}").into()),
            200,
        ),
        e("POST", "/v1/dirs/app/versions".into(), "push", true, Some(manifest), 200),
        e("GET", "/v1/dirs/app/versions".into(), "read", true, None, 200),
        e("GET", format!("/v1/dirs/app/versions/{v}"), "read", true, None, 200),
        e("GET", "/v1/dirs/app/tags".into(), "read", true, None, 200),
        e("PUT", "/v1/dirs/app/tags/latest".into(), "push", true, Some(format!("{{\"version\":\"{v}\"}}").into()), 200),
        e("GET", "/v1/dirs/app/tags/latest".into(), "read", true, None, 200),
        e("GET", "/v1/dirs/app/tags/latest/history".into(), "read", true, None, 200),
        e(
            "POST",
            "/v1/dirs/app/deployments".into(),
            "report",
            true,
            Some(serde_json::to_vec(&deployment).unwrap()),
            201,
        ),
        e("GET", "/v1/deployments".into(), "read", false, None, 200),
        e("GET", format!("/v1/deployments/{dep}"), "read", true, None, 200),
    ];
    World { s, endpoints }
}

async fn send(s: &Server, e: &Endpoint, headers: &[(&str, &str)], token: Option<&str>) -> Resp {
    call(e.method, &s.at(&e.path), token, headers, e.body.clone()).await
}

#[track_caller]
fn unauthorized(r: &Resp, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text());
    assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")), "{what}: {:?}", r.headers);
    if !r.body.is_empty() {
        r.error(401, "unauthorized");
    }
}

#[tokio::test]
async fn every_endpoint_checks_token_scope_and_directory() {
    let w = world(&[]).await;
    let s = &w.s;
    for scope in SCOPES {
        let others: Vec<&str> = ["read", "push", "report", "deploy"].into_iter().filter(|x| *x != scope).collect();
        let lacking = s.token(&others.join(","));
        let right = s.token_for(scope, &["app"]);
        let elsewhere = s.token_for(scope, &["other"]);
        for e in w.endpoints.iter().filter(|e| e.scope == scope) {
            let what = format!("{} {}", e.method, e.path);
            unauthorized(&send(s, e, &[], None).await, &format!("{what} without a token"));
            unauthorized(&send(s, e, &[], Some("not-a-token")).await, &format!("{what} with an unknown token"));
            unauthorized(
                &send(s, e, &[("authorization", "Basic dXNlcjpwYXNz")], None).await,
                &format!("{what} with Basic auth"),
            );
            let r = send(s, e, &[], Some(&lacking)).await;
            assert_eq!(r.status, 403, "{what} without the {scope} scope: {}", r.text());
            if e.method != "HEAD" {
                let j = r.error(403, "forbidden");
                assert!(j["message"].as_str().unwrap().contains(scope), "{what}: {j}");
            }
            let r = send(s, e, &[], Some(&elsewhere)).await;
            if e.dir_scoped {
                assert_eq!(r.status, 403, "{what} with a token for another directory: {}", r.text());
                if e.method != "HEAD" {
                    r.error(403, "forbidden");
                }
            } else {
                assert_eq!(r.status, 200, "{what} with a token for another directory: {}", r.text());
            }
            let r = send(s, e, &[], Some(&right)).await;
            assert_eq!(r.status, e.ok, "{what} with the right token: {}", r.text());
        }
    }
    // Every endpoint of the API is in the matrix.
    let routes: std::collections::BTreeSet<(&str, String)> =
        w.endpoints.iter().map(|e| (e.method, e.path.clone())).collect();
    assert_eq!(routes.len(), 16);

    // Service endpoints need no token.
    assert_eq!(s.get("/healthz", None).await.status, 200);
    assert_eq!(s.get("/metrics", None).await.status, 200);
}

#[tokio::test]
async fn listings_show_only_the_directories_a_token_may_read() {
    let w = world(&[]).await;
    let s = &w.s;
    let t = s.token_for("read", &["other"]);
    let dirs = s.get("/v1/dirs", Some(&t)).await.json();
    assert_eq!(dirs["items"].as_array().unwrap().len(), 1, "{dirs}");
    assert_eq!(dirs["items"][0]["name"], "other");
    let deps = s.get("/v1/deployments", Some(&t)).await.json();
    let items = deps["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{deps}");
    assert_eq!(items[0]["dir"], "other");
    s.get("/v1/deployments?dir=app", Some(&t)).await.error(403, "forbidden");
    let all = s.token("read");
    assert_eq!(s.get("/v1/dirs", Some(&all)).await.json()["items"].as_array().unwrap().len(), 2);
    assert_eq!(s.get("/v1/deployments", Some(&all)).await.json()["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn anonymous_reads_only_when_enabled() {
    let mut w = world(&[]).await;
    // Off: every read needs a token (checked above); on: reads need none,
    // writes still do, and a bad token is still refused.
    w.s.args = vec!["--anonymous-read".into()];
    w.s.restart();
    let s = &w.s;
    for e in &w.endpoints {
        let what = format!("{} {}", e.method, e.path);
        let r = send(s, e, &[], None).await;
        if e.scope == "read" {
            assert_eq!(r.status, e.ok, "anonymous {what}: {}", r.text());
            unauthorized(&send(s, e, &[], Some("not-a-token")).await, &format!("{what} with an unknown token"));
        } else {
            unauthorized(&r, &format!("anonymous {what}"));
        }
    }
}

#[tokio::test]
async fn revoked_tokens_are_refused() {
    let mut s = Server::start().await;
    let t = s.token("read");
    assert_eq!(s.get("/v1/dirs", Some(&t)).await.status, 200);
    let list = s.command(&["token", "list", "--json"]);
    assert!(list.status.success());
    let tokens: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let id = tokens[0]["id"].as_str().unwrap().to_string();
    assert_eq!(tokens[0]["revoked"], serde_json::Value::Null);
    let out = s.command(&["token", "revoke", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A server that never saw it refuses it at once (a running one may
    // trust its cache for up to 2 s: docs/protocol.md).
    s.restart();
    unauthorized(&s.get("/v1/dirs", Some(&t)).await, "a revoked token");
    // A token revoked before its first use is refused at once.
    let u = s.token("read");
    let tokens: serde_json::Value = serde_json::from_slice(&s.command(&["token", "list", "--json"]).stdout).unwrap();
    let newest = tokens.as_array().unwrap().iter().find(|t| t["id"] != json!(id)).unwrap()["id"].clone();
    assert!(s.command(&["token", "revoke", newest.as_str().unwrap()]).status.success());
    unauthorized(&s.get("/v1/dirs", Some(&u)).await, "a token revoked before use");
}
