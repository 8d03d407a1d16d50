//! Integration-test harness: the real `strata-server` binary on loopback.
//!
//! * [`Server::start`] runs `strata-server serve --listen 127.0.0.1:0` on a
//!   fresh [`Storage`] and reads the bound address from its first stdout
//!   line (`listening on http://127.0.0.1:PORT`).
//! * [`Storage`] is a temp data directory (embedded SQLite + files) or,
//!   when `STRATA_TEST_METADATA` (a PostgreSQL admin URL) and
//!   `STRATA_TEST_BLOBS` (`s3://bucket`, with the `AWS_*` variables set)
//!   are present, a fresh PostgreSQL database and a fresh S3 prefix.
//! * [`Server::token`] creates tokens with the `token create` subcommand on
//!   the same storage; [`Server::kill`] (SIGKILL), [`Server::terminate`]
//!   (SIGTERM) and [`Server::restart`] (same storage, same port) exercise
//!   crashes and restarts.
//! * [`Server::push`] uploads a directory the way a client does (blobs,
//!   then the manifest), for tests that need content to read.
//!
//! The server's stderr (its logs) goes to `server.log` in the data
//! directory: [`Server::log`] reads it, and a panic in a test prints it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use strata::dir::Directory;
use strata::registry::{BlobDigest, Manifest};

/// The server binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_strata-server");

/// A random lower-case hex string of `bytes * 2` digits.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("getrandom");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Where a test server keeps its data; kept across restarts.
pub struct Storage {
    /// The data directory (embedded storage, and the server's log).
    pub dir: tempfile::TempDir,
    /// `postgres://…` when testing against PostgreSQL.
    pub metadata: Option<String>,
    /// `s3://bucket/prefix` when testing against S3.
    pub blobs: Option<String>,
}

impl Storage {
    /// A fresh storage: embedded, or PostgreSQL + S3 when the environment
    /// names them.
    pub async fn new() -> Storage {
        let dir = tempfile::Builder::new().prefix("strata-test-").tempdir().expect("temp dir");
        let metadata = match std::env::var("STRATA_TEST_METADATA") {
            Ok(admin) if !admin.is_empty() => Some(fresh_database(&admin).await),
            _ => None,
        };
        let blobs = match std::env::var("STRATA_TEST_BLOBS") {
            Ok(b) if !b.is_empty() => Some(format!("{}/t{}", b.trim_end_matches('/'), random_hex(8))),
            _ => None,
        };
        Storage { dir, metadata, blobs }
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The storage flags every subcommand takes.
    pub fn args(&self) -> Vec<String> {
        let mut a = vec!["--data".to_string(), self.dir.path().display().to_string()];
        if let Some(m) = &self.metadata {
            a.extend(["--metadata".to_string(), m.clone()]);
        }
        if let Some(b) = &self.blobs {
            a.extend(["--blobs".to_string(), b.clone()]);
        }
        a
    }

    /// Whether this is the embedded storage (SQLite + files).
    pub fn embedded(&self) -> bool {
        self.metadata.is_none() && self.blobs.is_none()
    }
}

/// Creates a database named `strata_t_<random>` through the admin URL and
/// returns its URL.
pub async fn fresh_database(admin: &str) -> String {
    use sqlx::Connection;
    let name = format!("strata_t_{}", random_hex(8));
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("connect to STRATA_TEST_METADATA");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE");
    let _ = conn.close().await;
    let mut url = url::Url::parse(admin).expect("STRATA_TEST_METADATA is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A running (or stopped) `strata-server serve`.
pub struct Server {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    /// The bound address.
    pub addr: std::net::SocketAddr,
    /// Its storage (kept across restarts).
    pub storage: Storage,
    /// The serve flags besides storage and `--listen`.
    pub args: Vec<String>,
    /// Extra environment variables of the server process.
    pub env: Vec<(String, String)>,
    child: Option<Child>,
    stdout: Option<BufReader<ChildStdout>>,
}

impl Server {
    /// A server on fresh storage with default flags.
    pub async fn start() -> Server {
        Server::start_with(&[]).await
    }

    /// A server on fresh storage with extra `serve` flags
    /// (`--anonymous-read`, `--max-blob-size 1024`, …).
    pub async fn start_with(args: &[&str]) -> Server {
        let storage = Storage::new().await;
        Server::start_on(storage, args)
    }

    /// A server on fresh storage with extra `serve` flags and environment
    /// variables (`TMPDIR`, `STRATA_TARGET_…`).
    pub async fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let storage = Storage::new().await;
        let mut s = Server {
            url: String::new(),
            addr: "127.0.0.1:0".parse().unwrap(),
            storage,
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            child: None,
            stdout: None,
        };
        s.spawn("127.0.0.1:0");
        s
    }

    /// A server on the given storage.
    pub fn start_on(storage: Storage, args: &[&str]) -> Server {
        let mut s = Server {
            url: String::new(),
            addr: "127.0.0.1:0".parse().unwrap(),
            storage,
            args: args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            child: None,
            stdout: None,
        };
        s.spawn("127.0.0.1:0");
        s
    }

    fn log_path(&self) -> PathBuf {
        self.storage.path().join("server.log")
    }

    fn spawn(&mut self, listen: &str) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).expect("open server.log");
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(self.storage.args())
            .args(["--listen", listen])
            .args(&self.args)
            .env_remove("STRATA_DATA")
            .env("RUST_LOG", std::env::var("STRATA_TEST_LOG").unwrap_or_else(|_| "info".into()))
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn strata-server");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let status = child.wait().ok();
            panic!(
                "strata-server did not start (first line {line:?}, exit {status:?}); log:\n{}",
                std::fs::read_to_string(self.log_path()).unwrap_or_default()
            );
        };
        self.url = url.to_string();
        self.addr = url.trim_start_matches("http://").parse().expect("listening address");
        self.child = Some(child);
        self.stdout = Some(out);
    }

    /// The server's log so far (its stderr, across restarts).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// `self.url + path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Runs `strata-server ARGS… --data … [--metadata …] [--blobs …]` on
    /// this server's storage and returns its output.
    pub fn command(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .args(self.storage.args())
            .env_remove("STRATA_DATA")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("run strata-server")
    }

    /// A new token with `scopes` (`"read,push"`) on every directory; its
    /// secret.
    pub fn token(&self, scopes: &str) -> String {
        self.token_for(scopes, &[])
    }

    /// A new token with `scopes`, limited to `dirs` (all if empty).
    pub fn token_for(&self, scopes: &str, dirs: &[&str]) -> String {
        self.token_limited(scopes, dirs, &[])
    }

    /// A new token with `scopes`, limited to `dirs` and hook `targets`
    /// (all if empty).
    pub fn token_limited(&self, scopes: &str, dirs: &[&str], targets: &[&str]) -> String {
        let mut args = vec!["token", "create", "--scope", scopes, "--name", "test"];
        for d in dirs {
            args.extend(["--dir", d]);
        }
        for t in targets {
            args.extend(["--target", t]);
        }
        let out = self.command(&args);
        assert!(
            out.status.success(),
            "token create failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        let secret = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(!secret.is_empty() && !secret.contains(char::is_whitespace), "token create printed {secret:?}");
        secret
    }

    /// Sends `signal` (`"TERM"`, `"INT"`, `"KILL"`) and waits for the exit.
    pub fn signal(&mut self, signal: &str) -> ExitStatus {
        let mut child = self.child.take().expect("server is running");
        let ok =
            Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().expect("run kill");
        assert!(ok.success(), "kill -{signal} failed");
        self.stdout = None;
        child.wait().expect("wait for strata-server")
    }

    /// SIGKILL: a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.stdout = None;
    }

    /// SIGTERM: a graceful stop; returns how it exited.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM")
    }

    /// Starts it again on the same storage, flags and port (killing it
    /// first if it still runs).
    pub fn restart(&mut self) {
        self.kill();
        let listen = self.addr.to_string();
        self.spawn(&listen);
    }

    /// An HTTP client (no proxy, no default headers).
    pub fn client(&self) -> reqwest::Client {
        client()
    }

    /// Pushes a directory of `(name, bytes)` files (an `atlas.sum` is
    /// computed when none is given) to `dir` with a `push` token: missing
    /// blobs, blob uploads, then the manifest. Returns the version digest.
    pub async fn push(&self, token: &str, dir: &str, files: &[(&str, &[u8])]) -> BlobDigest {
        let manifest = manifest_of(files);
        let c = self.client();
        for (name, bytes) in files {
            if *name == "atlas.sum" {
                continue;
            }
            let r = c
                .put(self.at(&format!("/v1/dirs/{dir}/blobs/{}", BlobDigest::of(bytes))))
                .bearer_auth(token)
                .body(bytes.to_vec())
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "blob upload of {name}: {} {}", r.status(), r.text().await.unwrap());
        }
        let r = c
            .post(self.at(&format!("/v1/dirs/{dir}/versions")))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&manifest).unwrap())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "version push: {} {}", r.status(), r.text().await.unwrap());
        manifest.digest()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- strata-server log ({}) ---\n{}", self.url, self.log());
        }
        self.kill();
    }
}

/// An HTTP client for tests.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// The manifest of a directory of `(name, bytes)` files; `atlas.sum` is
/// computed when none is given.
pub fn manifest_of(files: &[(&str, &[u8])]) -> Manifest {
    let dir = Directory::new(files.iter().map(|(n, b)| (n.to_string(), b.to_vec()))).expect("a valid directory");
    Manifest::of(&dir)
}

/// A small valid directory: `n` files `2024010100000N_fN.sql`.
pub fn sample_files(n: usize) -> Vec<(String, Vec<u8>)> {
    (1..=n)
        .map(|i| (format!("2024010100{i:04}_f{i}.sql"), format!("CREATE TABLE t{i} (id int);\n").into_bytes()))
        .collect()
}

/// Borrows `sample_files` output for [`Server::push`] and [`manifest_of`].
pub fn borrow(files: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect()
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as JSON (panics with the body if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }

    /// Asserts a JSON error: this status and code, and a message and hint
    /// that say something. Returns the error document.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> serde_json::Value {
        assert_eq!(self.status, status, "expected {status} {code}, got {}: {}", self.status, self.text());
        let j = self.json();
        assert_eq!(j["code"], code, "{j}");
        assert!(j["message"].as_str().is_some_and(|m| m.len() > 5), "message: {j}");
        assert!(j["hint"].as_str().is_some_and(|m| m.len() > 5), "hint: {j}");
        assert_eq!(self.header("content-type").as_deref(), Some("application/json"), "{j}");
        j
    }
}

/// Sends a request: `headers` as given, `Authorization: Bearer token`
/// when a token is given.
pub async fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Resp {
    let mut r = client().request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some(b) = body {
        r = r.body(b);
    }
    let resp = r.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap().to_vec();
    Resp { status, headers, body }
}

impl Server {
    /// `GET path`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        call("GET", &self.at(path), token, &[], None).await
    }

    /// `PUT path` with raw bytes.
    pub async fn put(&self, path: &str, token: Option<&str>, body: &[u8]) -> Resp {
        call("PUT", &self.at(path), token, &[], Some(body.to_vec())).await
    }

    /// `POST path` with a JSON value.
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &serde_json::Value) -> Resp {
        let b = serde_json::to_vec(body).unwrap();
        call("POST", &self.at(path), token, &[("content-type", "application/json")], Some(b)).await
    }

    /// `PUT …/tags/{tag}` to `version`, with extra headers (preconditions).
    pub async fn put_tag(
        &self,
        token: &str,
        dir: &str,
        tag: &str,
        version: &BlobDigest,
        headers: &[(&str, &str)],
    ) -> Resp {
        let body = serde_json::to_vec(&serde_json::json!({ "version": version })).unwrap();
        call("PUT", &self.at(&format!("/v1/dirs/{dir}/tags/{tag}")), Some(token), headers, Some(body)).await
    }

    /// Sends raw bytes on a fresh connection and returns the status code
    /// and the body of the answer (for paths an HTTP client would
    /// normalize, such as `..` segments).
    pub async fn raw(&self, request: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }
}
