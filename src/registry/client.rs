//! The registry client: push a directory, fetch a version by tag or
//! digest, list and move tags, over the `/v1` protocol
//! (`docs/protocol.md`).
//!
//! The client does no I/O itself: it is generic over a [`Transport`]
//! that sends one HTTP request and returns the response. The wasm module
//! implements it over `fetch` (browsers, Node, edge workers) and the server
//! crate over reqwest. Everything else is here, once:
//!
//! * **Fetching never returns wrong bytes.** The manifest's digest must be
//!   the version the registry named; every blob, downloaded or cached, is
//!   checked against its digest and size and the directory against its
//!   `atlas.sum` ([`Manifest::assemble`]); errors name the file.
//! * **Fetching again is cheap.** The client keeps the last manifest of
//!   each tag with its `ETag`: an unchanged tag costs one conditional
//!   request answered `304 Not Modified`, and a tag that moved downloads
//!   only the blobs the [`BlobCache`] lacks, many per request
//!   (`blobs/fetch`).
//! * **Pushing uploads only what the registry lacks**: one
//!   `blobs/missing` request, then the missing blobs, [`MAX_IN_FLIGHT`] at
//!   a time, then the version, `latest` and the other tags.
//!
//! Errors are [`RegistryError`]s: the registry's own JSON error (code,
//! message, file, hint) as it sent it, or the client's when the registry
//! cannot be reached or answers something that is not the protocol.
//!
//! ```no_run
//! # async fn demo(transport: impl strata::registry::client::Transport) -> Result<(), strata::registry::RegistryError> {
//! use strata::lex::Dialect;
//! use strata::registry::client::Client;
//! let registry = Client::new("http://127.0.0.1:8080", transport)?.with_token("s3cr3t")?;
//! let fetched = registry.fetch("app", "latest", Dialect::Postgres, |_| {}).await?;
//! println!("{} files at {}", fetched.directory.files().len(), fetched.version);
//! # Ok(()) }
//! ```

mod cache;
mod transport;

pub use cache::{BlobCache, MemoryCache, NoCache};
pub use transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};

use super::{check_name, BlobDigest, Limits, Manifest, ManifestFile, NameKind, RegistryError};
use crate::dir::Directory;
use crate::lex::Dialect;
use futures_util::stream::{self, StreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many blob requests a push or a fetch keeps in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;

/// The most files a fetch asks for in one `blobs/fetch` request.
pub const BATCH_FILES: usize = 256;

/// The most bytes (by the manifest's sizes) a fetch asks for in one
/// `blobs/fetch` request; a larger file is asked for alone.
pub const BATCH_BYTES: u64 = 8 << 20;

/// The tag every push moves.
pub const LATEST: &str = "latest";

/// A client of one registry, with one token.
///
/// Methods take `&self`: one client can serve concurrent requests (its
/// caches are locked briefly, never across a request). Its `Debug`
/// output does not show the token.
pub struct Client<T, C = MemoryCache> {
    base: String,
    token: Option<String>,
    transport: T,
    cache: C,
    limits: Limits,
    /// The last manifest fetched per (directory, tag or digest).
    known: Mutex<HashMap<(String, String), Known>>,
    stats: Counters,
}

impl<T, C> std::fmt::Debug for Client<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
struct Known {
    version: BlobDigest,
    /// The `ETag` to send back in `If-None-Match` (tags only).
    etag: Option<String>,
    manifest: Arc<Manifest>,
}

/// The blobs of a fetch: for each digest, its bytes (cached or
/// downloaded); and one file per digest to download.
#[derive(Default)]
struct Gathered<'m> {
    slots: HashMap<&'m BlobDigest, Slot>,
    wanted: Vec<&'m ManifestFile>,
}

#[derive(Default)]
struct Slot {
    /// Files of the manifest with this digest not assembled yet.
    uses: usize,
    /// The bytes came from the cache.
    cached: bool,
    bytes: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    not_modified: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

/// What a client has sent and received so far (bodies only, not headers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Requests sent.
    pub requests: u64,
    /// Of which answered `304 Not Modified`.
    pub not_modified: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Response body bytes received.
    pub bytes_received: u64,
}

/// How far a push's uploads or a fetch's downloads are: reported once
/// before the first blob (with the totals), then after each blob a push
/// uploads and after each batch of blobs a fetch downloads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Blobs transferred.
    pub files_done: usize,
    /// Blobs to transfer.
    pub files_total: usize,
    /// Bytes transferred.
    pub bytes_done: u64,
    /// Bytes to transfer.
    pub bytes_total: u64,
}

/// A number of blobs and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    /// Blobs.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// A fetched, verified directory version.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The version's digest.
    pub version: BlobDigest,
    /// Its manifest.
    pub manifest: Manifest,
    /// The directory, every file checked against the manifest and the
    /// manifest's `atlas.sum`.
    pub directory: Directory,
    /// The manifest was not downloaded: the tag had not moved since this
    /// client last fetched it (`304`), or the version was known.
    pub not_modified: bool,
    /// The blobs downloaded (the others came from the cache).
    pub downloaded: Transfer,
}

/// The result of a push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    /// The version's digest.
    pub version: BlobDigest,
    /// Whether the registry created the version (`false`: it had it).
    pub created: bool,
    /// Files in the version.
    pub files: usize,
    /// Their total size in bytes.
    pub size: u64,
    /// The blobs uploaded (the registry had the others).
    pub uploaded: Transfer,
    /// The tags moved, `latest` first.
    pub tags: Vec<TagMove>,
}

/// A tag moved to a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagMove {
    /// The tag.
    pub name: String,
    /// The version it points to now.
    pub version: BlobDigest,
    /// The version it pointed to before, if it existed.
    #[serde(default)]
    pub previous: Option<BlobDigest>,
}

/// A deployment the registry recorded ([`Client::record_deployment`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedDeployment {
    /// Its id (`dep_…`), for `GET /v1/deployments/{id}`.
    pub id: String,
    /// The status the registry read from the report.
    pub status: super::DeploymentStatus,
}

/// A recorded deployment, as listed by [`Client::deployments`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInfo {
    /// Its id (`dep_…`).
    pub id: String,
    /// The directory.
    pub dir: String,
    /// The target.
    pub target: String,
    /// The directory version, when known.
    #[serde(default)]
    pub version: Option<BlobDigest>,
    /// Its status, read from the report.
    pub status: super::DeploymentStatus,
    /// The plan's digest, when the report has one.
    #[serde(default)]
    pub plan_digest: Option<String>,
    /// When the run started (RFC 3339), if it did.
    #[serde(default)]
    pub started: Option<String>,
    /// When it ended (RFC 3339), if it did.
    #[serde(default)]
    pub finished: Option<String>,
    /// When it was recorded (RFC 3339).
    pub created: String,
    /// The token that recorded it.
    pub created_by: String,
    /// The name that token was created with (`strata-server token create
    /// --name`), still shown once it is revoked; `None` when the registry
    /// has no such token (or does not say).
    #[serde(default)]
    pub created_by_name: Option<String>,
    /// The error the run ended with.
    #[serde(default)]
    pub error: Option<String>,
}

/// A recorded deployment with its report ([`Client::deployment`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// What the listing shows.
    #[serde(flatten)]
    pub info: DeploymentInfo,
    /// The report document as posted (`strata.report/v1`), unparsed: a
    /// renderer checks its format.
    pub report: serde_json::Value,
}

/// Which deployments [`Client::deployments`] lists (all when empty),
/// newest first, at most `limit`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeploymentQuery {
    /// Only this directory's.
    pub dir: Option<String>,
    /// Only this target's.
    pub target: Option<String>,
    /// Only those with this status.
    pub status: Option<super::DeploymentStatus>,
    /// At most this many (all when `None`).
    pub limit: Option<usize>,
}

/// A directory, as listed by [`Client::dirs`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirInfo {
    /// Its name.
    pub name: String,
    /// How many versions it has.
    pub versions: u64,
    /// How many tags it has.
    pub tags: u64,
    /// When it last changed (RFC 3339), if known.
    #[serde(default)]
    pub updated: Option<String>,
}

/// A version of a directory, as listed by [`Client::versions`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    /// Its digest.
    pub digest: BlobDigest,
    /// Its migration files.
    pub files: u64,
    /// Their total size in bytes.
    pub size: u64,
    /// When it was pushed (RFC 3339).
    pub created: String,
    /// The token that pushed it.
    pub created_by: String,
    /// The name that token was created with, still shown once it is
    /// revoked; `None` when the registry has no such token (or does not
    /// say).
    #[serde(default)]
    pub created_by_name: Option<String>,
}

/// One move of a tag, as listed by [`Client::tag_history`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagEvent {
    /// The version it moved to.
    pub version: BlobDigest,
    /// The version it pointed to before (`None`: it was created).
    #[serde(default)]
    pub previous: Option<BlobDigest>,
    /// When (RFC 3339).
    pub at: String,
    /// The token that moved it.
    pub by: String,
    /// The name that token was created with, still shown once it is
    /// revoked; `None` when the registry has no such token (or does not
    /// say).
    #[serde(default)]
    pub by_name: Option<String>,
}

/// A tag of a directory, as listed by [`Client::tags`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagInfo {
    /// The tag.
    pub name: String,
    /// The version it points to.
    pub version: BlobDigest,
    /// When it last moved (RFC 3339, UTC).
    #[serde(default)]
    pub updated: Option<String>,
    /// The id of the token that moved it.
    #[serde(default)]
    pub updated_by: Option<String>,
    /// The name that token was created with, still shown once it is
    /// revoked; `None` when the registry has no such token (or does not
    /// say).
    #[serde(default)]
    pub updated_by_name: Option<String>,
}

/// When [`Client::set_tag`] may move a tag (compare-and-swap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagCondition {
    /// Always: create or move it.
    Always,
    /// Only if it points to this version now (`If-Match`).
    Match(BlobDigest),
    /// Only if it does not exist yet (`If-None-Match: *`).
    Absent,
}

const UNREACHABLE_HINT: &str = "check the registry URL and that the registry is running and reachable from here";
const PROTOCOL_HINT: &str =
    "check that the URL is the base URL of a strata registry (without /v1) and that no proxy rewrites its answers";

impl<T: Transport> Client<T> {
    /// A client of the registry at `base_url` (`http://host:port`, maybe
    /// with a path prefix; the client adds `/v1/...`), with no token and a
    /// [`MemoryCache`] of the default size.
    pub fn new(base_url: &str, transport: T) -> Result<Client<T>, RegistryError> {
        Ok(Client {
            base: base_url_of(base_url)?,
            token: None,
            transport,
            cache: MemoryCache::default(),
            limits: Limits::default(),
            known: Mutex::new(HashMap::new()),
            stats: Counters::default(),
        })
    }
}

impl<T: Transport, C: BlobCache> Client<T, C> {
    /// Sends `token` as `Authorization: Bearer <token>` on every request.
    /// Refuses a token that cannot be sent in an HTTP header.
    pub fn with_token(mut self, token: impl Into<String>) -> Result<Self, RegistryError> {
        let token = token.into();
        if let Some(i) = token.bytes().position(|b| !(0x21..=0x7e).contains(&b)) {
            return Err(RegistryError::new(
                "invalid-token",
                format!("the token has a character that cannot be sent in an HTTP header (byte {i})"),
                None,
                "pass the token exactly as `strata-server token create` printed it, without spaces or newlines",
            ));
        }
        self.token = (!token.is_empty()).then_some(token);
        Ok(self)
    }

    /// Keeps blobs in `cache` instead.
    pub fn with_cache<D: BlobCache>(self, cache: D) -> Client<T, D> {
        Client {
            base: self.base,
            token: self.token,
            transport: self.transport,
            cache,
            limits: self.limits,
            known: self.known,
            stats: self.stats,
        }
    }

    /// The limits fetched versions are checked against (default
    /// [`Limits::default`]).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The registry's base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The blob cache.
    pub fn cache(&self) -> &C {
        &self.cache
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// What the client has sent and received so far.
    pub fn stats(&self) -> Stats {
        let c = &self.stats;
        Stats {
            requests: c.requests.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
            bytes_received: c.bytes_received.load(Ordering::Relaxed),
        }
    }

    /// Puts the files of `directory` in the blob cache, so that fetching
    /// a version that shares them downloads only the others: a pull into
    /// a directory that holds an earlier version of the same files. The
    /// files are addressed by their own digest, so they are always right
    /// for it; `atlas.sum` is not a blob and is ignored.
    pub fn remember(&self, directory: &Directory) {
        for f in directory.files() {
            self.cache.put(&BlobDigest::of(f.bytes()), f.bytes());
        }
    }

    /// The tags of directory `dir`, by name.
    pub async fn tags(&self, dir: &str) -> Result<Vec<TagInfo>, RegistryError> {
        check_name(NameKind::Directory, dir)?;
        self.pages(format!("dirs/{dir}/tags"), None).await
    }

    /// The directories the token may read, by name.
    pub async fn dirs(&self) -> Result<Vec<DirInfo>, RegistryError> {
        self.pages("dirs".into(), None).await
    }

    /// The versions of directory `dir`, newest first, at most `limit`.
    pub async fn versions(&self, dir: &str, limit: Option<usize>) -> Result<Vec<VersionInfo>, RegistryError> {
        check_name(NameKind::Directory, dir)?;
        self.pages(format!("dirs/{dir}/versions"), limit).await
    }

    /// The moves of tag `tag` of `dir`, newest first, at most `limit`.
    pub async fn tag_history(
        &self,
        dir: &str,
        tag: &str,
        limit: Option<usize>,
    ) -> Result<Vec<TagEvent>, RegistryError> {
        check_name(NameKind::Directory, dir)?;
        check_name(NameKind::Tag, tag)?;
        self.pages(format!("dirs/{dir}/tags/{tag}/history"), limit).await
    }

    /// The recorded deployments `query` selects, newest first.
    pub async fn deployments(&self, query: &DeploymentQuery) -> Result<Vec<DeploymentInfo>, RegistryError> {
        let mut params = Vec::new();
        if let Some(d) = &query.dir {
            check_name(NameKind::Directory, d)?;
            params.push(format!("dir={}", query_value(d)));
        }
        if let Some(t) = &query.target {
            check_name(NameKind::Target, t)?;
            params.push(format!("target={}", query_value(t)));
        }
        if let Some(st) = query.status {
            params.push(format!("status={}", st.as_str()));
        }
        let path =
            if params.is_empty() { "deployments".to_string() } else { format!("deployments?{}", params.join("&")) };
        self.pages(path, query.limit).await
    }

    /// Every item of a paged listing (`{"items": [...], "next": cursor}`),
    /// following `next`, until `limit` items when given.
    async fn pages<V: DeserializeOwned>(&self, path: String, limit: Option<usize>) -> Result<Vec<V>, RegistryError> {
        #[derive(Deserialize)]
        struct Page<V> {
            items: Vec<V>,
            #[serde(default)]
            next: Option<String>,
        }
        // The server's pages hold 1 to 1,000 items.
        let path = match limit {
            Some(l) => format!("{path}{}limit={}", if path.contains('?') { '&' } else { '?' }, l.clamp(1, 1000)),
            None => path,
        };
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut url = path.clone();
        loop {
            let page: Page<V> = self.call(Method::Get, &url, vec![], None).await?.expect(&[200])?.json()?;
            items.extend(page.items);
            if let Some(l) = limit {
                if items.len() >= l {
                    items.truncate(l);
                    return Ok(items);
                }
            }
            match page.next {
                Some(next) if !next.is_empty() => url = format!("{path}{sep}cursor={}", query_value(&next)),
                _ => return Ok(items),
            }
        }
    }

    /// The manifest of version `reference` of directory `dir` (a tag name
    /// or a version digest) and the version's digest, checked to be the
    /// version the registry named; no blob is downloaded. What a diff of
    /// two versions needs ([`super::VersionDiff::between`]).
    pub async fn manifest(&self, dir: &str, reference: &str) -> Result<(BlobDigest, Manifest), RegistryError> {
        check_name(NameKind::Directory, dir)?;
        let (known, _) = self.lookup(dir, reference).await?;
        known.manifest.check(&self.limits)?;
        Ok((known.version, (*known.manifest).clone()))
    }

    /// Fetches version `reference` of directory `dir`: a tag name or a
    /// version digest (`sha256:…`). Checks that the manifest is the
    /// version the registry named, downloads the blobs the cache lacks
    /// (in batches of at most [`BATCH_FILES`] files and [`BATCH_BYTES`],
    /// one `blobs/fetch` request each, [`MAX_IN_FLIGHT`] at a time, calling
    /// `progress` after each; one `GET` per blob from a registry without
    /// `blobs/fetch`) and builds the
    /// directory with [`Manifest::assemble`], splitting statements with
    /// `dialect`. Any byte that differs fails the fetch with an error
    /// naming the file.
    pub async fn fetch(
        &self,
        dir: &str,
        reference: &str,
        dialect: Dialect,
        mut progress: impl FnMut(Progress),
    ) -> Result<Fetched, RegistryError> {
        check_name(NameKind::Directory, dir)?;
        let (known, not_modified) = self.lookup(dir, reference).await?;
        let manifest = &*known.manifest;
        manifest.check(&self.limits)?;

        let mut g = self.gather(manifest);
        let mut done = Progress {
            files_total: g.wanted.len(),
            bytes_total: g.wanted.iter().map(|f| f.size).sum(),
            ..Progress::default()
        };
        progress(done);
        // Batches of files, one `blobs/fetch` request each. Index ranges,
        // not references, cross the closures: a closure taking a reference
        // would make the future not `Send` (rust-lang/rust#102211).
        let batches = batches(&g.wanted);
        let unsupported = AtomicBool::new(false);
        let mut leftover: Vec<usize> = Vec::new();
        let mut downloads = stream::iter(0..batches.len())
            .map(|b| {
                let range = batches[b].clone();
                let unsupported = &unsupported;
                let files = &g.wanted;
                async move {
                    if unsupported.load(Ordering::Relaxed) {
                        return (range, Ok(None));
                    }
                    let answer = self.fetch_batch(dir, &files[range.clone()]).await;
                    if matches!(answer, Ok(None)) {
                        unsupported.store(true, Ordering::Relaxed);
                    }
                    (range, answer)
                }
            })
            .buffer_unordered(MAX_IN_FLIGHT);
        while let Some((range, answer)) = downloads.next().await {
            let Some(blobs) = answer? else {
                // A registry without `blobs/fetch`: one GET per blob.
                leftover.extend(range);
                continue;
            };
            for (f, bytes) in g.wanted[range].iter().zip(blobs) {
                done.files_done += 1;
                done.bytes_done += bytes.len() as u64;
                if let Some(slot) = g.slots.get_mut(&f.digest) {
                    slot.bytes = Some(bytes);
                }
            }
            progress(done);
        }
        drop(downloads);
        leftover.sort_unstable();
        let mut downloads =
            stream::iter(leftover).map(|i| self.get_blob(dir, g.wanted[i])).buffer_unordered(MAX_IN_FLIGHT);
        while let Some(blob) = downloads.next().await {
            let (digest, bytes) = blob?;
            done.files_done += 1;
            done.bytes_done += bytes.len() as u64;
            progress(done);
            if let Some(slot) = g.slots.get_mut(digest) {
                slot.bytes = Some(bytes);
            }
        }
        drop(downloads);

        let directory = self.assemble(manifest, dialect, g)?;
        Ok(Fetched {
            version: known.version.clone(),
            manifest: manifest.clone(),
            directory,
            not_modified,
            downloaded: Transfer { files: done.files_done, bytes: done.bytes_done },
        })
    }

    /// Which blobs of `manifest` the cache has, and which to download
    /// (each digest once).
    fn gather<'m>(&self, manifest: &'m Manifest) -> Gathered<'m> {
        let mut g = Gathered::default();
        for f in &manifest.files {
            let slot = g.slots.entry(&f.digest).or_default();
            slot.uses += 1;
            if slot.uses > 1 {
                continue;
            }
            slot.bytes = self.cache.get(&f.digest);
            slot.cached = slot.bytes.is_some();
            if !slot.cached {
                g.wanted.push(f);
            }
        }
        g
    }

    /// Builds the directory from the gathered blobs ([`Manifest::assemble`]
    /// checks every byte; the bytes move into the directory) and caches
    /// the downloaded ones. A damaged cached blob is dropped from the cache,
    /// so that it does not fail the next fetch too.
    fn assemble(&self, manifest: &Manifest, dialect: Dialect, g: Gathered<'_>) -> Result<Directory, RegistryError> {
        let Gathered { mut slots, wanted } = g;
        let assembled = manifest.assemble(&self.limits, dialect, |d| {
            let slot = slots.get_mut(d)?;
            slot.uses = slot.uses.saturating_sub(1);
            if slot.uses == 0 {
                slot.bytes.take()
            } else {
                slot.bytes.clone()
            }
        });
        let directory = match assembled {
            Ok(directory) => directory,
            Err(e) => {
                if let Some(f) = manifest.files.iter().find(|f| e.file.as_deref() == Some(&f.name)) {
                    if slots.get(&f.digest).is_some_and(|s| s.cached) {
                        self.cache.remove(&f.digest);
                    }
                }
                return Err(e);
            }
        };
        for f in wanted {
            if let Some(file) = directory.file(&f.name) {
                self.cache.put(&f.digest, file.bytes());
            }
        }
        Ok(directory)
    }

    /// Pushes `directory` as a version of `dir`: asks which blobs the
    /// registry lacks, uploads those ([`MAX_IN_FLIGHT`] at a time, calling
    /// `progress`), creates the version, then moves [`LATEST`] and each of
    /// `tags` to it. A directory whose `atlas.sum` does not match its files
    /// is refused before anything is sent; one without `atlas.sum` is
    /// pushed with the computed sum.
    pub async fn push(
        &self,
        directory: &Directory,
        dir: &str,
        tags: &[&str],
        mut progress: impl FnMut(Progress),
    ) -> Result<Pushed, RegistryError> {
        let (names, manifest) = self.prepare_push(directory, dir, tags)?;
        let version = manifest.digest();

        // Which blobs the registry lacks; each digest once.
        let mut seen = HashSet::new();
        let unique: Vec<&ManifestFile> = manifest.files.iter().filter(|f| seen.insert(&f.digest)).collect();
        #[derive(Serialize)]
        struct Digests<'a> {
            digests: Vec<&'a BlobDigest>,
        }
        #[derive(Deserialize)]
        struct Missing {
            missing: Vec<BlobDigest>,
        }
        let body = json_body(&Digests { digests: unique.iter().map(|f| &f.digest).collect() });
        let missing: Missing = self
            .call(Method::Post, &format!("dirs/{dir}/blobs/missing"), json_headers(), Some(body))
            .await?
            .expect(&[200])?
            .json()?;
        let missing: HashSet<&BlobDigest> = missing.missing.iter().collect();
        let uploads: Vec<&ManifestFile> = unique.into_iter().filter(|f| missing.contains(&f.digest)).collect();

        let mut done = Progress {
            files_total: uploads.len(),
            bytes_total: uploads.iter().map(|f| f.size).sum(),
            ..Progress::default()
        };
        progress(done);
        let mut puts = stream::iter(0..uploads.len())
            .map(|i| {
                let f = uploads[i];
                // Manifest::of named every file of the directory.
                let bytes = directory.file(&f.name).map(|m| m.bytes()).unwrap_or_default();
                self.put_blob(dir, f, bytes)
            })
            .buffer_unordered(MAX_IN_FLIGHT);
        while let Some(put) = puts.next().await {
            done.files_done += 1;
            done.bytes_done += put?;
            progress(done);
        }
        drop(puts);

        #[derive(Deserialize)]
        struct Created {
            digest: BlobDigest,
        }
        let answer = self
            .call(Method::Post, &format!("dirs/{dir}/versions"), json_headers(), Some(json_body(&manifest)))
            .await?
            .expect(&[200, 201])?;
        let created = answer.response.status == 201;
        let stored: Created = answer.json()?;
        if stored.digest != version {
            return Err(RegistryError::new(
                "version-mismatch",
                format!("the registry stored the version as {}, but its manifest's digest is {version}", stored.digest),
                None,
                "the registry and this client disagree on the manifest format: use a client and a server of the same release",
            ));
        }

        let mut moved = Vec::with_capacity(names.len());
        for name in names {
            moved.push(self.set_tag(dir, name, &version, TagCondition::Always).await?);
        }
        Ok(Pushed {
            version,
            created,
            files: manifest.files.len(),
            size: manifest.files.iter().map(|f| f.size).sum(),
            uploaded: Transfer { files: done.files_done, bytes: done.bytes_done },
            tags: moved,
        })
    }

    /// What a push checks before sending anything: the names, the
    /// manifest against the limits and the directory against its
    /// `atlas.sum`. Returns the tags to move (`latest` first, each once)
    /// and the manifest.
    fn prepare_push<'t>(
        &self,
        directory: &Directory,
        dir: &str,
        tags: &[&'t str],
    ) -> Result<(Vec<&'t str>, Manifest), RegistryError> {
        check_name(NameKind::Directory, dir)?;
        let mut names = vec![LATEST];
        for &t in tags {
            check_name(NameKind::Tag, t)?;
            if !names.contains(&t) {
                names.push(t);
            }
        }
        let manifest = Manifest::of(directory);
        manifest.check(&self.limits)?;
        if directory.sum_file().is_some() {
            directory.verify(None).map_err(|e| {
                let e = crate::error::Error::from(&e);
                let message = match &e.detail {
                    Some(d) => format!("{} ({d})", e.message),
                    None => e.message,
                };
                RegistryError::new(e.code, message, e.file.as_deref(), &e.hint)
            })?;
        }
        Ok((names, manifest))
    }

    /// Points tag `tag` of `dir` at `version` if `condition` holds (the
    /// registry answers `precondition-failed` otherwise).
    pub async fn set_tag(
        &self,
        dir: &str,
        tag: &str,
        version: &BlobDigest,
        condition: TagCondition,
    ) -> Result<TagMove, RegistryError> {
        check_name(NameKind::Directory, dir)?;
        check_name(NameKind::Tag, tag)?;
        #[derive(Serialize)]
        struct Body<'a> {
            version: &'a BlobDigest,
        }
        let mut headers = json_headers();
        match condition {
            TagCondition::Always => {}
            TagCondition::Match(v) => headers.push(("if-match", format!("\"{v}\""))),
            TagCondition::Absent => headers.push(("if-none-match", "*".into())),
        }
        self.call(Method::Put, &format!("dirs/{dir}/tags/{tag}"), headers, Some(json_body(&Body { version })))
            .await?
            .expect(&[200, 201])?
            .json()
    }

    /// Deployment `id` with its report (`GET /v1/deployments/{id}`).
    pub async fn deployment(&self, id: &str) -> Result<Deployment, RegistryError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(RegistryError::new(
                "invalid-name",
                format!("{id:?} is not a deployment id"),
                None,
                "pass the id a deployment was recorded as (dep_…, from apply or GET /v1/deployments)",
            ));
        }
        self.call(Method::Get, &format!("deployments/{id}"), vec![], None).await?.expect(&[200])?.json()
    }

    /// Records a `strata.report/v1` document (`report`, JSON text, sent
    /// as is) as a deployment of version `version` of `dir` on `target`
    /// (`POST /v1/dirs/{dir}/deployments`, scope `report`).
    pub async fn record_deployment(
        &self,
        dir: &str,
        target: &str,
        version: Option<&BlobDigest>,
        report: &str,
    ) -> Result<RecordedDeployment, RegistryError> {
        check_name(NameKind::Directory, dir)?;
        check_name(NameKind::Target, target)?;
        let head = json_body(&serde_json::json!({ "target": target, "version": version }));
        // `{"target":…,"version":…}` + `,"report":` + the document + `}`.
        let mut body = Vec::with_capacity(head.len() + report.len() + 12);
        body.extend_from_slice(&head[..head.len().saturating_sub(1)]);
        body.extend_from_slice(b",\"report\":");
        body.extend_from_slice(report.as_bytes());
        body.push(b'}');
        self.call(Method::Post, &format!("dirs/{dir}/deployments"), json_headers(), Some(body))
            .await?
            .expect(&[200, 201])?
            .json()
    }

    /// The manifest of `reference` (a tag or a digest), and whether it was
    /// known already (no body downloaded).
    async fn lookup(&self, dir: &str, reference: &str) -> Result<(Known, bool), RegistryError> {
        let key = (dir.to_string(), reference.to_string());
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        let by_digest = reference.starts_with("sha256:");
        let (path, headers) = if by_digest {
            let digest = BlobDigest::parse(reference)?;
            if let Some(k) = known {
                // Versions are immutable.
                return Ok((k, true));
            }
            (format!("dirs/{dir}/versions/{digest}"), vec![])
        } else {
            check_name(NameKind::Tag, reference)?;
            let headers = match known.as_ref().and_then(|k| k.etag.clone()) {
                Some(etag) => vec![("if-none-match", etag)],
                None => vec![],
            };
            (format!("dirs/{dir}/tags/{reference}"), headers)
        };
        let answer = self.call(Method::Get, &path, headers, None).await?.expect(&[200, 304])?;
        if answer.response.status == 304 {
            return match known {
                Some(k) => {
                    self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
                    Ok((k, true))
                }
                None => Err(answer.invalid("it answered 304 Not Modified to a request that named no version")),
            };
        }
        // The version the registry names must be the manifest's digest.
        let named = if by_digest {
            Some(reference.to_string())
        } else {
            answer.response.header("strata-version").or_else(|| answer.response.header("etag")).map(unquote)
        };
        let Some(named) = named else {
            let mut e = answer.invalid("the answer has neither a Strata-Version nor an ETag header");
            e.hint = format!(
                "{PROTOCOL_HINT}; a registry that serves browsers must expose both headers \
                 (Access-Control-Expose-Headers: ETag, Strata-Version)"
            );
            return Err(e);
        };
        let named =
            BlobDigest::parse(&named).map_err(|_| answer.invalid(&format!("it names the version {named:?}")))?;
        let etag = answer.response.header("etag").map(str::to_string);
        let manifest: Manifest = answer.json()?;
        let actual = manifest.digest();
        if actual != named {
            return Err(RegistryError::new(
                "version-mismatch",
                format!(
                    "the manifest the registry sent for {dir} {reference} has digest {actual}, not {named}, the version it named"
                ),
                None,
                "the registry or a cache in between served damaged data: try again, and tell the registry's operator if it persists",
            ));
        }
        let k = Known { version: named, etag: etag.filter(|_| !by_digest), manifest: Arc::new(manifest) };
        self.known.lock().unwrap_or_else(|e| e.into_inner()).insert(key, k.clone());
        Ok((k, false))
    }

    /// The bytes of `files` in one `POST …/blobs/fetch`, split by their
    /// manifest sizes (checked against their digests later, by
    /// [`Manifest::assemble`]); `None` if the registry has no such
    /// endpoint (an older one: `404 not-found` or `405`).
    async fn fetch_batch(&self, dir: &str, files: &[&ManifestFile]) -> Result<Option<Vec<Vec<u8>>>, RegistryError> {
        #[derive(Serialize)]
        struct Digests<'a> {
            digests: Vec<&'a BlobDigest>,
        }
        let first = files.first().map_or("", |f| f.name.as_str());
        let body = json_body(&Digests { digests: files.iter().map(|f| &f.digest).collect() });
        let answer = self.call(Method::Post, &format!("dirs/{dir}/blobs/fetch"), json_headers(), Some(body)).await?;
        match answer.response.status {
            200 => {}
            405 => return Ok(None),
            404 if answer.error().code == "not-found" => return Ok(None),
            _ => {
                // The registry's error names the digest it lacks: name its file.
                let e = answer.error();
                let file = files.iter().find(|f| e.message.contains(f.digest.as_str())).map_or(first, |f| &f.name);
                return Err(on_file(e, file));
            }
        }
        let expected: u64 = files.iter().map(|f| f.size).sum();
        let sent = answer.response.body.len() as u64;
        if sent != expected {
            let others = match files.len() {
                0 | 1 => String::new(),
                2 => " and 1 other file".to_string(),
                n => format!(" and {} other files", n - 1),
            };
            return Err(RegistryError::new(
                "invalid-response",
                format!(
                    "{} {}: the registry sent {sent} bytes for {expected} expected \
                     ({first}{others}, by their sizes in the manifest)",
                    answer.method, answer.url
                ),
                Some(first),
                "the registry or a proxy in between cut or damaged the answer: try again, \
                 and tell the registry's operator if it persists",
            ));
        }
        let mut body = answer.response.body;
        let mut blobs = Vec::with_capacity(files.len());
        // From the end: each blob is split off the body without copying
        // the rest.
        for f in files.iter().rev() {
            let at = body.len().saturating_sub(f.size as usize);
            blobs.push(body.split_off(at));
        }
        blobs.reverse();
        Ok(Some(blobs))
    }

    async fn get_blob<'m>(&self, dir: &str, f: &'m ManifestFile) -> Result<(&'m BlobDigest, Vec<u8>), RegistryError> {
        let answer = self.call(Method::Get, &format!("dirs/{dir}/blobs/{}", f.digest), vec![], None).await?;
        let answer = answer.expect(&[200]).map_err(|e| on_file(e, &f.name))?;
        Ok((&f.digest, answer.response.body))
    }

    async fn put_blob(&self, dir: &str, f: &ManifestFile, bytes: &[u8]) -> Result<u64, RegistryError> {
        let headers = vec![("content-type", "application/octet-stream".to_string())];
        let path = format!("dirs/{dir}/blobs/{}", f.digest);
        self.call(Method::Put, &path, headers, Some(bytes.to_vec()))
            .await?
            .expect(&[200, 201])
            .map_err(|e| on_file(e, &f.name))?;
        Ok(bytes.len() as u64)
    }

    /// Sends one request, counting it.
    async fn call(
        &self,
        method: Method,
        path: &str,
        mut headers: Vec<(&'static str, String)>,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, RegistryError> {
        let url = format!("{}/v1/{path}", self.base);
        if let Some(t) = &self.token {
            headers.push(("authorization", format!("Bearer {t}")));
        }
        let c = &self.stats;
        c.requests.fetch_add(1, Ordering::Relaxed);
        c.bytes_sent.fetch_add(body.as_ref().map_or(0, |b| b.len() as u64), Ordering::Relaxed);
        let request = HttpRequest { method, url, headers, body };
        let url = request.url.clone();
        match self.transport.send(request).await {
            Ok(response) => {
                c.bytes_received.fetch_add(response.body.len() as u64, Ordering::Relaxed);
                Ok(Answer { method, url, response })
            }
            Err(e) => Err(RegistryError::new(
                "request-failed",
                format!("{method} {url}: {}", e.message),
                None,
                e.hint.as_deref().unwrap_or(UNREACHABLE_HINT),
            )),
        }
    }
}

/// A response and the request it answers.
struct Answer {
    method: Method,
    url: String,
    response: HttpResponse,
}

impl Answer {
    /// The answer if its status is one of `ok`; otherwise the registry's
    /// error.
    fn expect(self, ok: &[u16]) -> Result<Answer, RegistryError> {
        if ok.contains(&self.response.status) {
            Ok(self)
        } else {
            Err(self.error())
        }
    }

    /// The body as JSON of type `V`.
    fn json<V: DeserializeOwned>(self) -> Result<V, RegistryError> {
        let text = std::str::from_utf8(&self.response.body).map_err(|_| self.invalid("its body is not UTF-8 text"))?;
        let value =
            crate::json::parse(text).map_err(|at| self.invalid(&format!("its body is not JSON (byte {at})")))?;
        V::deserialize(value).map_err(|e| self.invalid(&format!("its body is not what the protocol says: {e}")))
    }

    #[cold]
    fn invalid(&self, why: &str) -> RegistryError {
        RegistryError::new(
            "invalid-response",
            format!(
                "{} {} answered {}, which is not the registry protocol: {why}",
                self.method, self.url, self.response.status
            ),
            None,
            PROTOCOL_HINT,
        )
    }

    /// The registry's JSON error, or what the status says when the body is
    /// not one (a proxy's page, an empty body).
    #[cold]
    fn error(&self) -> RegistryError {
        #[derive(Deserialize)]
        struct Body {
            code: String,
            message: String,
            #[serde(default)]
            file: Option<String>,
            #[serde(default)]
            hint: Option<String>,
        }
        let status = self.response.status;
        let fallback_hint = match status {
            401 => "pass a token the registry knows (strata-server token create)",
            403 => "use a token with the scope this needs, for this directory",
            404 => "check the directory, tag or version name",
            413 => "the registry refuses bodies this large: raise its limits or split the directory",
            500..=599 => "the registry or its storage failed: try again, and tell its operator if it persists",
            _ => PROTOCOL_HINT,
        };
        let body = std::str::from_utf8(&self.response.body).ok();
        let parsed = body.and_then(|t| crate::json::parse(t).ok()).and_then(|v| Body::deserialize(v).ok());
        match parsed {
            Some(b) if !b.code.is_empty() => RegistryError {
                code: b.code,
                message: b.message,
                file: b.file,
                hint: b.hint.filter(|h| !h.is_empty()).unwrap_or_else(|| fallback_hint.into()),
            },
            _ => {
                let code = match status {
                    401 => "unauthorized",
                    403 => "forbidden",
                    404 => "not-found",
                    500..=599 => "server-error",
                    _ => "unexpected-status",
                };
                let excerpt: String = body.unwrap_or("").trim().chars().take(200).collect();
                let excerpt = if excerpt.is_empty() { String::new() } else { format!(": {excerpt}") };
                RegistryError::new(
                    code,
                    format!("{} {} answered {status}{excerpt}", self.method, self.url),
                    None,
                    fallback_hint,
                )
            }
        }
    }
}

/// `files` in batches for `blobs/fetch`, as index ranges, in order: at
/// most [`BATCH_FILES`] files and [`BATCH_BYTES`] declared bytes each (a
/// larger file alone).
fn batches(files: &[&ManifestFile]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, f) in files.iter().enumerate() {
        if i > start && (i - start == BATCH_FILES || bytes.saturating_add(f.size) > BATCH_BYTES) {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes = bytes.saturating_add(f.size);
    }
    if start < files.len() {
        out.push(start..files.len());
    }
    out
}

/// `e`, about file `name` unless it names one already.
fn on_file(mut e: RegistryError, name: &str) -> RegistryError {
    if e.file.is_none() {
        e.file = Some(name.to_string());
    }
    e
}

fn json_headers() -> Vec<(&'static str, String)> {
    vec![("content-type", "application/json".to_string())]
}

fn json_body<V: Serialize>(v: &V) -> Vec<u8> {
    // Strings and integers only: serialising them cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}

/// `"sha256:…"` (an entity tag, maybe weak) as `sha256:…`.
fn unquote(v: &str) -> String {
    let v = v.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(v).to_string()
}

/// Percent-encodes a query value (a page cursor is opaque).
fn query_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Checks a registry base URL and drops its trailing `/`.
fn base_url_of(url: &str) -> Result<String, RegistryError> {
    let bad = |why: &str| {
        RegistryError::new(
            "invalid-url",
            format!("{url:?} is not a registry URL: {why}"),
            None,
            "pass the registry's base URL, such as http://127.0.0.1:8080 or https://registry.example.com",
        )
    };
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    let Some(rest) = rest else { return Err(bad("it does not start with http:// or https://")) };
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(&format!("it contains {c:?}")));
    }
    if url.contains(['?', '#']) {
        return Err(bad("it has a query or a fragment"));
    }
    if rest.split('/').next().unwrap_or("").is_empty() {
        return Err(bad("it has no host"));
    }
    let base = url.trim_end_matches('/');
    if base.ends_with("/v1") {
        return Err(bad("it ends in /v1, which the client adds itself"));
    }
    Ok(base.to_string())
}

#[cfg(test)]
mod tests;
