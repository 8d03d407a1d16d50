//! Storage: metadata (directories, blobs' links, versions, tags and their
//! history, deployments, tokens) in SQLite or PostgreSQL, and blob bytes on
//! the file system or in S3-compatible object storage.
//!
//! INTERFACE CONTRACT (shared by the HTTP layer and the storage
//! implementation): the signatures below are what `crate::http` calls.
//! Every method is safe to call from many tasks and many replicas at once;
//! every write is atomic (a transaction, or a blob made visible only once
//! complete and verified).

mod blobs;
mod cache;
mod db;
#[cfg(test)]
mod tests;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use blobs::Blobs;
use bytes::Bytes;
use cache::JsonCache;
use db::{backoff, col, is_transient, Db, MAX_ATTEMPTS};
use futures_util::stream::BoxStream;
use sqlx::any::AnyRow;
use sqlx::Any;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use strata::registry::{BlobDigest, DeploymentStatus, DeploymentSummary, Manifest, RegistryError};
use strata::sum::sha256_hex;

/// Where the registry keeps its data.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// `sqlite://PATH` or `postgres://...`.
    pub metadata: String,
    /// `file://DIR` (absolute) or `s3://bucket/prefix` (endpoint and
    /// credentials from the AWS environment variables).
    pub blobs: String,
}

impl StoreConfig {
    /// The embedded default: `DATA/registry.db` and `DATA/blobs/`.
    /// [`Store::open`] creates the directories.
    pub fn embedded(data: &std::path::Path) -> StoreConfig {
        StoreConfig {
            metadata: format!("sqlite://{}", data.join("registry.db").display()),
            blobs: format!("file://{}", data.join("blobs").display()),
        }
    }
}

/// A storage failure (the server's fault: a 5xx).
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for StoreError {}

pub use db::redact;

/// Unix nanoseconds (as the core's `Timestamp`).
pub type Time = i64;

/// A page request: at most `limit` items after `cursor` (an opaque string
/// a previous page returned).
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// At most this many items (the HTTP layer clamps it to 1..=1000).
    pub limit: u32,
    /// Where to continue.
    pub cursor: Option<String>,
}

/// A page of results.
#[derive(Clone, Debug)]
pub struct Paged<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// Why a blob upload was refused.
#[derive(Debug)]
pub enum PutBlobError {
    /// The body hashed to another digest. Nothing was stored.
    DigestMismatch {
        /// What the body hashed to.
        actual: BlobDigest,
    },
    /// The body exceeded the limit. Nothing was stored.
    TooLarge {
        /// The limit, bytes.
        limit: u64,
    },
    /// Reading the request body failed (client gone). Nothing was stored.
    Body(String),
    /// Storage failed.
    Store(StoreError),
}

/// A blob's bytes, streamed.
pub struct BlobBody {
    /// Its size.
    pub size: u64,
    /// The bytes.
    pub stream: BoxStream<'static, Result<Bytes, StoreError>>,
}

/// A stored version.
#[derive(Clone, Debug)]
pub struct VersionInfo {
    /// Its digest.
    pub digest: BlobDigest,
    /// Number of files.
    pub files: u64,
    /// Total bytes of its files.
    pub size: u64,
    /// When first pushed.
    pub created: Time,
    /// The id of the token that first pushed it.
    pub created_by: String,
    /// That token's name (`None`: no such token, as `anonymous`).
    pub created_by_name: Option<String>,
}

/// A tag.
#[derive(Clone, Debug)]
pub struct TagInfo {
    /// Its name.
    pub name: String,
    /// The version it points to.
    pub version: BlobDigest,
    /// When it last moved.
    pub updated: Time,
    /// The id of the token that moved it.
    pub updated_by: String,
    /// That token's name (`None`: no such token).
    pub updated_by_name: Option<String>,
}

/// One move of a tag.
#[derive(Clone, Debug)]
pub struct TagMove {
    /// The version it moved to.
    pub version: BlobDigest,
    /// The version it pointed to before, if any.
    pub previous: Option<BlobDigest>,
    /// When.
    pub at: Time,
    /// The id of the token.
    pub by: String,
    /// That token's name (`None`: no such token).
    pub by_name: Option<String>,
}

/// The condition of a tag move.
#[derive(Clone, Debug)]
pub enum TagCondition {
    /// Move unconditionally.
    Any,
    /// Only if the tag does not exist (`If-None-Match: *`).
    Absent,
    /// Only if it points to this version now (`If-Match`).
    At(BlobDigest),
}

/// Why a tag move was refused.
#[derive(Debug)]
pub enum SetTagError {
    /// The condition did not hold; the tag's current version.
    Conflict {
        /// Where the tag points now (`None`: it does not exist).
        current: Option<BlobDigest>,
    },
    /// The directory has no such version.
    NoVersion,
    /// Storage failed.
    Store(StoreError),
}

/// A directory in a listing.
#[derive(Clone, Debug)]
pub struct DirInfo {
    /// Its name.
    pub name: String,
    /// How many versions.
    pub versions: u64,
    /// How many tags.
    pub tags: u64,
    /// When something was last pushed or a tag moved.
    pub updated: Time,
}

/// A deployment to record.
#[derive(Clone, Debug)]
pub struct NewDeployment {
    /// The directory.
    pub dir: String,
    /// The target.
    pub target: String,
    /// The version, if the reporter named it.
    pub version: Option<BlobDigest>,
    /// Read from the report by the core (`DeploymentSummary::of`).
    pub status: DeploymentStatus,
    /// The plan digest.
    pub plan_digest: Option<String>,
    /// When the apply started.
    pub started: Option<Time>,
    /// When it ended.
    pub finished: Option<Time>,
    /// The error it stopped on.
    pub error: Option<String>,
    /// The token id.
    pub created_by: String,
    /// The report document's JSON text, stored as posted.
    pub report: String,
}

impl NewDeployment {
    /// A deployment of `dir` to `target` with the facts the core read from
    /// its report (`DeploymentSummary::of`) and the report's JSON text.
    pub fn new(
        dir: &str,
        target: &str,
        version: Option<BlobDigest>,
        summary: DeploymentSummary,
        created_by: &str,
        report: String,
    ) -> NewDeployment {
        let DeploymentSummary { status, plan_digest, started, finished, error } = summary;
        NewDeployment {
            dir: dir.to_string(),
            target: target.to_string(),
            version,
            status,
            plan_digest,
            started,
            finished,
            error,
            created_by: created_by.to_string(),
            report,
        }
    }
}

/// A stored deployment, without its report.
#[derive(Clone, Debug)]
pub struct DeploymentInfo {
    /// `dep_…`.
    pub id: String,
    /// Everything recorded.
    pub dir: String,
    /// The target.
    pub target: String,
    /// The version.
    pub version: Option<BlobDigest>,
    /// The status.
    pub status: DeploymentStatus,
    /// The plan digest.
    pub plan_digest: Option<String>,
    /// When the apply started.
    pub started: Option<Time>,
    /// When it ended.
    pub finished: Option<Time>,
    /// The error.
    pub error: Option<String>,
    /// When it was recorded.
    pub created: Time,
    /// The token id.
    pub created_by: String,
    /// That token's name (`None`: no such token).
    pub created_by_name: Option<String>,
}

/// A filter on deployments; `dirs` restricts to the directories a token
/// may read (`None`: all).
#[derive(Clone, Debug, Default)]
pub struct DeploymentFilter {
    /// Only this directory.
    pub dir: Option<String>,
    /// Only this target.
    pub target: Option<String>,
    /// Only this status.
    pub status: Option<DeploymentStatus>,
    /// Only these directories (a token limited to directories).
    pub dirs: Option<Vec<String>>,
}

/// Scopes of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read everything (listings, blobs, manifests, tags, deployments).
    Read,
    /// Upload blobs, create versions, move tags.
    Push,
    /// Record deployment reports.
    Report,
    /// Apply through the hook.
    Deploy,
}

/// A token as stored (never its secret).
#[derive(Clone, Debug)]
pub struct TokenInfo {
    /// `tok_…`, shown in histories and listings.
    pub id: String,
    /// A label given at creation.
    pub name: String,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// The directories it is limited to (empty: all).
    pub dirs: Vec<String>,
    /// The hook targets it is limited to (empty: all).
    pub targets: Vec<String>,
    /// When created.
    pub created: Time,
    /// When revoked.
    pub revoked: Option<Time>,
}

/// The registry's storage.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    blobs: Blobs,
    /// Manifests' JSON bytes by `digest/dir`.
    manifests: JsonCache,
}

/// How many bytes of manifests' JSON the cache holds.
const MANIFEST_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The most items a page holds, whatever is asked.
const MAX_PAGE: u32 = 1000;

/// The length of digests in `missing_blobs` queries, in one statement.
const DIGESTS_PER_QUERY: usize = 500;

/// The columns read of a table, as a literal (for `concat!`); the name of
/// the token that did something comes from `tokens` (alias `k`) by a left
/// join, so a row whose token is gone still reads, with a `NULL` name.
macro_rules! select {
    (tags) => {
        "SELECT g.name, g.version, g.updated, g.updated_by, NULLIF(k.name, '') AS updated_by_name \
         FROM tags g LEFT JOIN tokens k ON k.id = g.updated_by"
    };
    (deployments) => {
        "SELECT d.seq, d.id, d.dir, d.target, d.version, d.status, d.plan_digest, d.started, d.finished, d.error, \
         d.created, d.created_by, NULLIF(k.name, '') AS created_by_name"
    };
    (tokens) => {
        "SELECT id, name, scopes, dirs, targets, created, revoked FROM tokens"
    };
}

// One text per query; `$N` placeholders bind on SQLite and PostgreSQL.
const BLOB_SIZE: &str = "SELECT size FROM blobs WHERE digest = $1";
const LINKED_SIZE: &str =
    "SELECT b.size FROM dir_blobs l JOIN blobs b ON b.digest = l.digest WHERE l.dir = $1 AND l.digest = $2";
const INSERT_BLOB: &str =
    "INSERT INTO blobs (digest, size, created) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING";
const INSERT_DIR: &str = "INSERT INTO dirs (name, created) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
const INSERT_LINK: &str =
    "INSERT INTO dir_blobs (dir, digest, created) VALUES ($1, $2, $3) ON CONFLICT (dir, digest) DO NOTHING";
const INSERT_VERSION: &str = "INSERT INTO versions (dir, digest, manifest, files, size, created, created_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dir, digest) DO NOTHING";
const MANIFEST: &str = "SELECT manifest FROM versions WHERE dir = $1 AND digest = $2";
const VERSIONS: &str = "SELECT v.seq, v.digest, v.files, v.size, v.created, v.created_by, \
     NULLIF(k.name, '') AS created_by_name FROM versions v LEFT JOIN tokens k ON k.id = v.created_by \
     WHERE v.dir = $1 AND v.seq < $2 ORDER BY v.seq DESC LIMIT $3";
const VERSION_EXISTS: &str = "SELECT seq FROM versions WHERE dir = $1 AND digest = $2";
const TAG: &str = concat!(select!(tags), " WHERE g.dir = $1 AND g.name = $2");
const TAGS: &str = concat!(select!(tags), " WHERE g.dir = $1 ORDER BY g.name");
const TAG_VERSION: &str = "SELECT version FROM tags WHERE dir = $1 AND name = $2";
const INSERT_TAG: &str = "INSERT INTO tags (dir, name, version, updated, updated_by) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (dir, name) DO NOTHING";
const MOVE_TAG: &str =
    "UPDATE tags SET version = $3, updated = $4, updated_by = $5 WHERE dir = $1 AND name = $2 AND version = $6";
const INSERT_MOVE: &str = "INSERT INTO tag_history (dir, tag, version, previous, moved_at, moved_by) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const TAG_HISTORY: &str =
    "SELECT h.seq, h.version, h.previous, h.moved_at, h.moved_by, NULLIF(k.name, '') AS moved_by_name \
     FROM tag_history h LEFT JOIN tokens k ON k.id = h.moved_by \
     WHERE h.dir = $1 AND h.tag = $2 AND h.seq < $3 ORDER BY h.seq DESC LIMIT $4";
const DIR_EXISTS: &str = "SELECT name FROM dirs WHERE name = $1";
const DIRS: &str = "SELECT d.name, d.created, \
     (SELECT COUNT(*) FROM versions v WHERE v.dir = d.name) AS versions, \
     (SELECT MAX(v.created) FROM versions v WHERE v.dir = d.name) AS pushed, \
     (SELECT COUNT(*) FROM tags t WHERE t.dir = d.name) AS tags, \
     (SELECT MAX(t.updated) FROM tags t WHERE t.dir = d.name) AS moved \
     FROM dirs d WHERE d.name > $1";
const INSERT_DEPLOYMENT: &str = "INSERT INTO deployments (id, dir, target, version, status, plan_digest, started, \
     finished, error, created, created_by, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const DEPLOYMENTS: &str =
    concat!(select!(deployments), " FROM deployments d LEFT JOIN tokens k ON k.id = d.created_by WHERE TRUE");
const DEPLOYMENT: &str = concat!(
    select!(deployments),
    ", d.report FROM deployments d LEFT JOIN tokens k ON k.id = d.created_by WHERE d.id = $1"
);
const INSERT_TOKEN: &str =
    "INSERT INTO tokens (id, name, hash, scopes, dirs, targets, created, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)";
const TOKEN_BY_HASH: &str = concat!(select!(tokens), " WHERE hash = $1 AND revoked IS NULL");
const TOKENS: &str = concat!(select!(tokens), " ORDER BY created, id");
const REVOKE_TOKEN: &str = "UPDATE tokens SET revoked = $2 WHERE id = $1 AND revoked IS NULL";
const TOKEN_EXISTS: &str = "SELECT id FROM tokens WHERE id = $1";

/// Runs a transaction (an `async` block, built again for each attempt)
/// until it does not lose a race with another writer.
macro_rules! retry {
    ($what:expr, $body:expr) => {{
        let mut attempt = 0u32;
        loop {
            let r: Result<_, Fail> = $body.await;
            match r {
                Err(e) if attempt + 1 < MAX_ATTEMPTS && e.transient() => {
                    attempt += 1;
                    backoff(attempt).await;
                }
                r => break r.map_err(|e| e.store($what)),
            }
        }
    }};
}

/// A failure inside a transaction: the database's (maybe a lost race, to
/// run again) or one already explained.
enum Fail {
    Db(sqlx::Error),
    Store(StoreError),
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Fail {
        Fail::Db(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

impl Fail {
    fn transient(&self) -> bool {
        matches!(self, Fail::Db(e) if is_transient(e))
    }

    fn store(self, what: &str) -> StoreError {
        match self {
            Fail::Db(e) => db_error(what, e),
            Fail::Store(e) => e,
        }
    }
}

fn db_error(what: &str, e: sqlx::Error) -> StoreError {
    StoreError(format!("metadata database: {what}: {e}"))
}

/// The outcome of one attempt to move a tag.
enum TagMoveOutcome {
    Moved(Option<BlobDigest>),
    Conflict(Option<BlobDigest>),
    NoVersion,
    /// Another writer created the tag meanwhile: try again.
    Raced,
}

fn now() -> Time {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut b = [0; N];
    getrandom::fill(&mut b).map_err(|e| StoreError(format!("the system's random source failed: {e}")))?;
    Ok(b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A digest read back from the database.
fn digest(s: &str) -> Result<BlobDigest, StoreError> {
    BlobDigest::parse(s).map_err(|e| StoreError(format!("metadata database holds a damaged digest: {}", e.message)))
}

fn opt_digest(s: Option<String>) -> Result<Option<BlobDigest>, StoreError> {
    s.as_deref().map(digest).transpose()
}

/// A query with text arguments.
fn texts(sql: impl sqlx::SqlSafeStr, args: &[&str]) -> sqlx::query::Query<'static, Any, sqlx::any::AnyArguments> {
    args.iter().fold(sqlx::query(sql), |q, a| q.bind(a.to_string()))
}

/// `$from, $from+1, ...`, `n` placeholders.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Page {
    /// At most how many items to fetch (one more tells whether there is a
    /// next page).
    fn size(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE) as usize
    }

    /// The sequence number a newest-first page continues below. `None`: a
    /// cursor that no such page returned (see [`Page::check`]), after
    /// which there is nothing.
    fn before(&self) -> Option<i64> {
        match &self.cursor {
            None => Some(i64::MAX),
            Some(c) => c.parse::<i64>().ok().filter(|n| *n > 0),
        }
    }

    /// Checks a cursor a client sent back: 1 to 256 ASCII letters, digits,
    /// `.`, `_` and `-`, as every page's `next` is. (A well-formed cursor
    /// that no page of that list returned gives an empty page.)
    pub fn check(&self) -> Result<(), RegistryError> {
        match &self.cursor {
            Some(c)
                if c.is_empty()
                    || c.len() > 256
                    || !c.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) =>
            {
                Err(RegistryError::new(
                    "invalid-cursor",
                    format!("{c:?} is not a cursor of this list"),
                    None,
                    "pass the `next` value of the previous page unchanged, or no cursor for the first page",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A page of `rows` fetched with one more than asked: the cursor of the
/// next page is the last kept item's.
fn paged<T>(mut rows: Vec<(String, T)>, page: &Page) -> Paged<T> {
    let next = if rows.len() > page.size() {
        rows.truncate(page.size());
        rows.last().map(|(c, _)| c.clone())
    } else {
        None
    };
    Paged { items: rows.into_iter().map(|(_, t)| t).collect(), next }
}

impl Scope {
    /// Every scope, in the order of the docs.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Push, Scope::Report, Scope::Deploy];

    /// The name used in the protocol and on the command line (`read`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Push => "push",
            Scope::Report => "report",
            Scope::Deploy => "deploy",
        }
    }

    /// Parses a scope name.
    pub fn parse(s: &str) -> Result<Scope, RegistryError> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| {
            RegistryError::new(
                "invalid-scope",
                format!("{s:?} is not a token scope"),
                None,
                "use one of read, push, report, deploy",
            )
        })
    }
}

fn version_row(row: &AnyRow) -> Result<(String, VersionInfo), StoreError> {
    let seq: i64 = col(row, "seq")?;
    let info = VersionInfo {
        digest: digest(&col::<String>(row, "digest")?)?,
        files: col::<i64>(row, "files")? as u64,
        size: col::<i64>(row, "size")? as u64,
        created: col(row, "created")?,
        created_by: col(row, "created_by")?,
        created_by_name: col(row, "created_by_name")?,
    };
    Ok((seq.to_string(), info))
}

fn tag_row(row: &AnyRow) -> Result<TagInfo, StoreError> {
    Ok(TagInfo {
        name: col(row, "name")?,
        version: digest(&col::<String>(row, "version")?)?,
        updated: col(row, "updated")?,
        updated_by: col(row, "updated_by")?,
        updated_by_name: col(row, "updated_by_name")?,
    })
}

fn deployment_row(row: &AnyRow) -> Result<(String, DeploymentInfo), StoreError> {
    let seq: i64 = col(row, "seq")?;
    let status: String = col(row, "status")?;
    let info = DeploymentInfo {
        id: col(row, "id")?,
        dir: col(row, "dir")?,
        target: col(row, "target")?,
        version: opt_digest(col(row, "version")?)?,
        status: DeploymentStatus::parse(&status)
            .map_err(|e| StoreError(format!("metadata database holds a damaged deployment: {}", e.message)))?,
        plan_digest: col(row, "plan_digest")?,
        started: col(row, "started")?,
        finished: col(row, "finished")?,
        error: col(row, "error")?,
        created: col(row, "created")?,
        created_by: col(row, "created_by")?,
        created_by_name: col(row, "created_by_name")?,
    };
    Ok((seq.to_string(), info))
}

fn token_row(row: &AnyRow) -> Result<TokenInfo, StoreError> {
    let scopes: String = col(row, "scopes")?;
    let dirs: String = col(row, "dirs")?;
    let targets: String = col(row, "targets")?;
    let damaged = |what: String| StoreError(format!("metadata database holds a damaged token: {what}"));
    Ok(TokenInfo {
        id: col(row, "id")?,
        name: col(row, "name")?,
        scopes: scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| Scope::parse(s).map_err(|e| damaged(e.message)))
            .collect::<Result<_, _>>()?,
        dirs: serde_json::from_str(&dirs).map_err(|e| damaged(e.to_string()))?,
        targets: serde_json::from_str(&targets).map_err(|e| damaged(e.to_string()))?,
        created: col(row, "created")?,
        revoked: col(row, "revoked")?,
    })
}

impl Store {
    /// Opens (and creates or migrates) the storage.
    pub async fn open(config: &StoreConfig) -> Result<Store, StoreError> {
        let blobs = Blobs::open(&config.blobs)?;
        let db = Db::open(&config.metadata).await?;
        Ok(Store { inner: Arc::new(Inner { db, blobs, manifests: JsonCache::new(MANIFEST_CACHE_BYTES) }) })
    }

    /// Closes the metadata connections (the store is unusable after).
    pub async fn close(&self) {
        self.inner.db.close().await;
    }

    fn db(&self) -> &Db {
        &self.inner.db
    }

    fn reader(&self) -> &sqlx::AnyPool {
        self.inner.db.reader()
    }

    /// The row, if any, a query with text arguments finds; `what` names
    /// the operation in errors.
    async fn row(&self, sql: &'static str, args: &[&str], what: &str) -> Result<Option<AnyRow>, StoreError> {
        texts(sql, args).fetch_optional(self.reader()).await.map_err(|e| db_error(what, e))
    }

    /// The rows a query with text arguments finds.
    async fn rows(&self, sql: &'static str, args: &[&str], what: &str) -> Result<Vec<AnyRow>, StoreError> {
        texts(sql, args).fetch_all(self.reader()).await.map_err(|e| db_error(what, e))
    }

    /// The rows of a newest-first page: `sql` takes `args` as `$1`...,
    /// then the sequence number to continue below and the number of rows.
    async fn newest_first(
        &self,
        sql: impl sqlx::SqlSafeStr,
        args: &[&str],
        page: &Page,
        what: &str,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let Some(before) = page.before() else { return Ok(vec![]) };
        texts(sql, args)
            .bind(before)
            .bind(page.size() as i64 + 1)
            .fetch_all(self.reader())
            .await
            .map_err(|e| db_error(what, e))
    }

    /// Checks that metadata and blob storage answer (`/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.reader()).await.map_err(|e| db_error("checking it answers", e))?;
        self.inner.blobs.ping().await
    }

    // Blobs ---------------------------------------------------------------

    /// Streams `body` to blob storage while hashing it; stores it under
    /// `digest` only if it hashes to `digest` and is at most `limit` bytes,
    /// and links it to `dir` (creating the directory). Returns whether the
    /// blob was new to the directory and its size. Memory stays bounded
    /// whatever the size.
    pub async fn put_blob(
        &self,
        dir: &str,
        digest: &BlobDigest,
        limit: u64,
        body: BoxStream<'static, Result<Bytes, String>>,
    ) -> Result<(bool, u64), PutBlobError> {
        let known = self.row(BLOB_SIZE, &[digest.as_str()], "looking up a blob").await.map_err(PutBlobError::Store)?;
        // A stored blob is not written again; its body is still read and
        // checked, so a client proves it has the bytes.
        let size = self.inner.blobs.put(digest, limit, body, known.is_none()).await?;
        let new = retry!("linking a blob", async {
            let mut tx = self.db().begin().await?;
            let t = now();
            sqlx::query(INSERT_BLOB).bind(digest.as_str()).bind(size as i64).bind(t).execute(&mut *tx).await?;
            sqlx::query(INSERT_DIR).bind(dir).bind(t).execute(&mut *tx).await?;
            let linked = sqlx::query(INSERT_LINK).bind(dir).bind(digest.as_str()).bind(t).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(linked.rows_affected() == 1)
        })
        .map_err(PutBlobError::Store)?;
        Ok((new, size))
    }

    /// The size of a blob linked to `dir`, or `None`.
    pub async fn blob_size(&self, dir: &str, digest: &BlobDigest) -> Result<Option<u64>, StoreError> {
        let row = self.row(LINKED_SIZE, &[dir, digest.as_str()], "looking up a blob").await?;
        row.map(|r| col::<i64>(&r, "size").map(|s| s as u64)).transpose()
    }

    /// The sizes of those of `digests` linked to `dir`, by digest.
    pub async fn blob_sizes(&self, dir: &str, digests: &[BlobDigest]) -> Result<HashMap<String, u64>, StoreError> {
        let mut sizes = HashMap::new();
        for chunk in digests.chunks(DIGESTS_PER_QUERY) {
            let sql = format!(
                "SELECT b.digest, b.size FROM dir_blobs l JOIN blobs b ON b.digest = l.digest \
                 WHERE l.dir = $1 AND l.digest IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(dir);
            for d in chunk {
                q = q.bind(d.as_str());
            }
            for row in q.fetch_all(self.reader()).await.map_err(|e| db_error("looking up blobs", e))? {
                sizes.insert(col::<String>(&row, "digest")?, col::<i64>(&row, "size")? as u64);
            }
        }
        Ok(sizes)
    }

    /// A blob linked to `dir`, streamed, or `None`.
    pub async fn get_blob(&self, dir: &str, digest: &BlobDigest) -> Result<Option<BlobBody>, StoreError> {
        let Some(size) = self.blob_size(dir, digest).await? else { return Ok(None) };
        self.stream_blob(digest, size).await.map(Some)
    }

    /// A blob the metadata records with `size` bytes (see
    /// [`Store::blob_size`], [`Store::blob_sizes`]), streamed, with the
    /// size it has in storage now.
    pub async fn stream_blob(&self, digest: &BlobDigest, size: u64) -> Result<BlobBody, StoreError> {
        let (size, stream) = self.inner.blobs.stream(digest, size).await?;
        Ok(BlobBody { size, stream })
    }

    /// The whole bytes of a blob (no link check), for verifying a version.
    pub async fn read_blob(&self, digest: &BlobDigest) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.blobs.read(digest).await
    }

    /// Of `digests`, those not linked to `dir`, in the order given.
    pub async fn missing_blobs(&self, dir: &str, digests: &[BlobDigest]) -> Result<Vec<BlobDigest>, StoreError> {
        let mut present = HashSet::new();
        for chunk in digests.chunks(DIGESTS_PER_QUERY) {
            let sql =
                format!("SELECT digest FROM dir_blobs WHERE dir = $1 AND digest IN ({})", placeholders(2, chunk.len()));
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(dir);
            for d in chunk {
                q = q.bind(d.as_str());
            }
            for row in q.fetch_all(self.reader()).await.map_err(|e| db_error("looking up blobs", e))? {
                present.insert(col::<String>(&row, "digest")?);
            }
        }
        Ok(digests.iter().filter(|d| !present.contains(d.as_str())).cloned().collect())
    }

    // Versions ------------------------------------------------------------

    /// Records a version whose blobs the caller has checked (linked to
    /// `dir`, sizes match, sum verified): atomically, so no half version is
    /// ever visible. Returns `false` if it existed already.
    pub async fn create_version(
        &self,
        dir: &str,
        digest: &BlobDigest,
        manifest: &Manifest,
        by: &str,
    ) -> Result<bool, StoreError> {
        if manifest.digest() != *digest {
            return Err(StoreError(format!(
                "storing version {digest}: the manifest's digest is {}, not the one given",
                manifest.digest()
            )));
        }
        let json = serde_json::to_string(manifest).map_err(|e| StoreError(format!("encoding a manifest: {e}")))?;
        let files = manifest.files.len() as i64;
        let size = manifest.files.iter().map(|f| f.size).sum::<u64>() as i64;
        // One row holds the whole version: it is there or it is not.
        retry!("storing a version", async {
            let mut tx = self.db().begin().await?;
            let t = now();
            sqlx::query(INSERT_DIR).bind(dir).bind(t).execute(&mut *tx).await?;
            let r = sqlx::query(INSERT_VERSION)
                .bind(dir)
                .bind(digest.as_str())
                .bind(json.as_str())
                .bind(files)
                .bind(size)
                .bind(t)
                .bind(by)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// A version's manifest.
    pub async fn version(&self, dir: &str, digest: &BlobDigest) -> Result<Option<Manifest>, StoreError> {
        let Some(json) = self.version_json(dir, digest).await? else { return Ok(None) };
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| StoreError(format!("metadata database holds a damaged manifest for {digest}: {e}")))
    }

    /// A version's manifest as JSON bytes (`serde_json` of [`Manifest`],
    /// exactly what `GET .../versions/{digest}` serves), from a bounded
    /// in-memory cache after the first read (versions are immutable).
    pub async fn version_json(&self, dir: &str, digest: &BlobDigest) -> Result<Option<Bytes>, StoreError> {
        let key = format!("{digest}/{dir}");
        if let Some(json) = self.inner.manifests.get(&key) {
            return Ok(Some(json));
        }
        let row = self.row(MANIFEST, &[dir, digest.as_str()], "reading a version").await?;
        let Some(row) = row else { return Ok(None) };
        let json = Bytes::from(col::<String>(&row, "manifest")?);
        self.inner.manifests.insert(key, json.clone());
        Ok(Some(json))
    }

    /// A directory's versions, newest first.
    pub async fn versions(&self, dir: &str, page: &Page) -> Result<Paged<VersionInfo>, StoreError> {
        let rows = self.newest_first(VERSIONS, &[dir], page, "listing versions").await?;
        Ok(paged(rows.iter().map(version_row).collect::<Result<_, _>>()?, page))
    }

    // Tags ----------------------------------------------------------------

    /// A tag.
    pub async fn tag(&self, dir: &str, tag: &str) -> Result<Option<TagInfo>, StoreError> {
        let row = self.row(TAG, &[dir, tag], "reading a tag").await?;
        row.as_ref().map(tag_row).transpose()
    }

    /// Moves a tag (compare-and-swap under `cond`) and appends to its
    /// history, atomically. Returns the previous version.
    pub async fn set_tag(
        &self,
        dir: &str,
        tag: &str,
        version: &BlobDigest,
        cond: &TagCondition,
        by: &str,
    ) -> Result<Option<BlobDigest>, SetTagError> {
        let mut attempt = 0;
        loop {
            match self.try_set_tag(dir, tag, version, cond, by).await {
                Ok(TagMoveOutcome::Moved(previous)) => return Ok(previous),
                Ok(TagMoveOutcome::Conflict(current)) => return Err(SetTagError::Conflict { current }),
                Ok(TagMoveOutcome::NoVersion) => return Err(SetTagError::NoVersion),
                Ok(TagMoveOutcome::Raced) => {}
                Err(e) if e.transient() => {}
                Err(e) => return Err(SetTagError::Store(e.store("moving a tag"))),
            }
            attempt += 1;
            if attempt >= MAX_ATTEMPTS {
                return Err(SetTagError::Store(StoreError(format!(
                    "metadata database: moving tag {tag} of {dir}: other writers won {MAX_ATTEMPTS} times in a row; \
                     try again"
                ))));
            }
            backoff(attempt).await;
        }
    }

    async fn try_set_tag(
        &self,
        dir: &str,
        tag: &str,
        version: &BlobDigest,
        cond: &TagCondition,
        by: &str,
    ) -> Result<TagMoveOutcome, Fail> {
        let mut tx = self.db().begin().await?;
        let exists =
            sqlx::query(VERSION_EXISTS).bind(dir).bind(version.as_str()).fetch_optional(&mut *tx).await?.is_some();
        if !exists {
            return Ok(TagMoveOutcome::NoVersion);
        }
        // Locks the tag's row until commit (PostgreSQL; SQLite holds the
        // write lock already), so the condition holds when it moves.
        let current = sqlx::query(self.db().for_update(TAG_VERSION))
            .bind(dir)
            .bind(tag)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| col::<String>(&r, "version").and_then(|v| digest(&v)))
            .transpose()?;
        let holds = match cond {
            TagCondition::Any => true,
            TagCondition::Absent => current.is_none(),
            TagCondition::At(at) => current.as_ref() == Some(at),
        };
        if !holds {
            return Ok(TagMoveOutcome::Conflict(current));
        }
        let t = now();
        let moved = match &current {
            None => sqlx::query(INSERT_TAG)
                .bind(dir)
                .bind(tag)
                .bind(version.as_str())
                .bind(t)
                .bind(by)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            Some(previous) => sqlx::query(MOVE_TAG)
                .bind(dir)
                .bind(tag)
                .bind(version.as_str())
                .bind(t)
                .bind(by)
                .bind(previous.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected(),
        };
        if moved != 1 {
            // Created by another writer after our read (PostgreSQL has no
            // row to lock while a tag does not exist).
            return Ok(TagMoveOutcome::Raced);
        }
        sqlx::query(INSERT_MOVE)
            .bind(dir)
            .bind(tag)
            .bind(version.as_str())
            .bind(current.as_ref().map(|d| d.as_str().to_string()))
            .bind(t)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(TagMoveOutcome::Moved(current))
    }

    /// A directory's tags, by name.
    pub async fn tags(&self, dir: &str) -> Result<Vec<TagInfo>, StoreError> {
        let rows = self.rows(TAGS, &[dir], "listing tags").await?;
        rows.iter().map(tag_row).collect()
    }

    /// A tag's history, newest first.
    pub async fn tag_history(&self, dir: &str, tag: &str, page: &Page) -> Result<Paged<TagMove>, StoreError> {
        let rows = self.newest_first(TAG_HISTORY, &[dir, tag], page, "reading a tag's history").await?;
        let rows = rows
            .iter()
            .map(|row| {
                let seq: i64 = col(row, "seq")?;
                let mv = TagMove {
                    version: digest(&col::<String>(row, "version")?)?,
                    previous: opt_digest(col(row, "previous")?)?,
                    at: col(row, "moved_at")?,
                    by: col(row, "moved_by")?,
                    by_name: col(row, "moved_by_name")?,
                };
                Ok((seq.to_string(), mv))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(paged(rows, page))
    }

    // Directories ---------------------------------------------------------

    /// Whether a directory exists.
    pub async fn dir_exists(&self, dir: &str) -> Result<bool, StoreError> {
        Ok(self.row(DIR_EXISTS, &[dir], "looking up a directory").await?.is_some())
    }

    /// Directories by name; `only`: restrict to these.
    pub async fn dirs(&self, only: Option<&[String]>, page: &Page) -> Result<Paged<DirInfo>, StoreError> {
        let mut sql = DIRS.to_string();
        if let Some(only) = only {
            if only.is_empty() {
                return Ok(Paged { items: vec![], next: None });
            }
            sql += &format!(" AND d.name IN ({})", placeholders(3, only.len()));
        }
        sql += " ORDER BY d.name LIMIT $2";
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(page.cursor.as_deref().unwrap_or(""))
            .bind(page.size() as i64 + 1);
        for name in only.unwrap_or_default() {
            q = q.bind(name.as_str());
        }
        let rows = q.fetch_all(self.reader()).await.map_err(|e| db_error("listing directories", e))?;
        let rows = rows
            .iter()
            .map(|row| {
                let name: String = col(row, "name")?;
                let created: i64 = col(row, "created")?;
                let pushed: Option<i64> = col(row, "pushed")?;
                let moved: Option<i64> = col(row, "moved")?;
                let info = DirInfo {
                    name: name.clone(),
                    versions: col::<i64>(row, "versions")? as u64,
                    tags: col::<i64>(row, "tags")? as u64,
                    updated: created.max(pushed.unwrap_or(0)).max(moved.unwrap_or(0)),
                };
                Ok((name, info))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(paged(rows, page))
    }

    // Deployments ---------------------------------------------------------

    /// Records a deployment; returns its id.
    pub async fn add_deployment(&self, d: &NewDeployment) -> Result<String, StoreError> {
        let id = Store::new_deployment_id()?;
        self.add_deployment_as(&id, d).await?;
        Ok(id)
    }

    /// A fresh deployment id (`dep_…`), for a deployment recorded later
    /// with [`Store::add_deployment_as`] (the hook names a running apply
    /// by it).
    pub fn new_deployment_id() -> Result<String, StoreError> {
        // Sortable by creation time; the random part keeps ids unique
        // across replicas.
        Ok(format!("dep_{:016x}{}", now(), hex(&random::<5>()?)))
    }

    /// Records a deployment under an id from [`Store::new_deployment_id`].
    pub async fn add_deployment_as(&self, id: &str, d: &NewDeployment) -> Result<(), StoreError> {
        let created = now();
        retry!("recording a deployment", async {
            sqlx::query(INSERT_DEPLOYMENT)
                .bind(id)
                .bind(d.dir.as_str())
                .bind(d.target.as_str())
                .bind(d.version.as_ref().map(|v| v.as_str().to_string()))
                .bind(d.status.as_str())
                .bind(d.plan_digest.clone())
                .bind(d.started)
                .bind(d.finished)
                .bind(d.error.clone())
                .bind(created)
                .bind(d.created_by.as_str())
                .bind(d.report.as_str())
                .execute(self.db().write_pool())
                .await?;
            Ok(())
        })?;
        Ok(())
    }

    /// Deployments, newest first.
    pub async fn deployments(
        &self,
        filter: &DeploymentFilter,
        page: &Page,
    ) -> Result<Paged<DeploymentInfo>, StoreError> {
        let mut sql = DEPLOYMENTS.to_string();
        let mut args: Vec<&str> = Vec::new();
        for (column, value) in [
            ("dir", filter.dir.as_deref()),
            ("target", filter.target.as_deref()),
            ("status", filter.status.map(DeploymentStatus::as_str)),
        ] {
            if let Some(v) = value {
                args.push(v);
                sql += &format!(" AND d.{column} = ${}", args.len());
            }
        }
        if let Some(dirs) = &filter.dirs {
            if dirs.is_empty() {
                return Ok(Paged { items: vec![], next: None });
            }
            sql += &format!(" AND d.dir IN ({})", placeholders(args.len() + 1, dirs.len()));
            args.extend(dirs.iter().map(String::as_str));
        }
        sql += &format!(" AND d.seq < ${} ORDER BY d.seq DESC LIMIT ${}", args.len() + 1, args.len() + 2);
        let rows = self.newest_first(sqlx::AssertSqlSafe(sql), &args, page, "listing deployments").await?;
        Ok(paged(rows.iter().map(deployment_row).collect::<Result<_, _>>()?, page))
    }

    /// One deployment and its report's JSON text.
    pub async fn deployment(&self, id: &str) -> Result<Option<(DeploymentInfo, String)>, StoreError> {
        let row = self.row(DEPLOYMENT, &[id], "reading a deployment").await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((deployment_row(&row)?.1, col(&row, "report")?)))
    }

    // Tokens --------------------------------------------------------------

    /// Creates a token limited to `dirs` and hook `targets` (empty: all);
    /// returns its info and the secret (shown once; only its SHA-256 is
    /// stored).
    pub async fn create_token(
        &self,
        name: &str,
        scopes: &[Scope],
        dirs: &[String],
        targets: &[String],
    ) -> Result<(TokenInfo, String), StoreError> {
        let id = format!("tok_{}", hex(&random::<8>()?));
        let secret = format!("strata_{}", URL_SAFE_NO_PAD.encode(random::<32>()?));
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let scope_text = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        let encode = |v: &[String]| serde_json::to_string(v).map_err(|e| StoreError(format!("encoding a token: {e}")));
        let (dirs_json, targets_json) = (encode(dirs)?, encode(targets)?);
        let created = now();
        let hash = sha256_hex(secret.as_bytes());
        retry!("creating a token", async {
            sqlx::query(INSERT_TOKEN)
                .bind(id.as_str())
                .bind(name)
                .bind(hash.as_str())
                .bind(scope_text.as_str())
                .bind(dirs_json.as_str())
                .bind(targets_json.as_str())
                .bind(created)
                .execute(self.db().write_pool())
                .await?;
            Ok(())
        })?;
        let info = TokenInfo {
            id,
            name: name.to_string(),
            scopes,
            dirs: dirs.to_vec(),
            targets: targets.to_vec(),
            created,
            revoked: None,
        };
        Ok((info, secret))
    }

    /// The live (not revoked) token with this secret.
    pub async fn token(&self, secret: &str) -> Result<Option<TokenInfo>, StoreError> {
        if !secret.starts_with("strata_") {
            return Ok(None);
        }
        let row = self.row(TOKEN_BY_HASH, &[&sha256_hex(secret.as_bytes())], "looking up a token").await?;
        row.as_ref().map(token_row).transpose()
    }

    /// Every token, revoked ones included.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = self.rows(TOKENS, &[], "listing tokens").await?;
        rows.iter().map(token_row).collect()
    }

    /// Revokes a token by id; `false` if there is none. Revoking a revoked
    /// token keeps its first revocation time.
    pub async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        let revoked = retry!("revoking a token", async {
            let r = sqlx::query(REVOKE_TOKEN).bind(id).bind(now()).execute(self.db().write_pool()).await?;
            Ok(r.rows_affected())
        })?;
        if revoked == 1 {
            return Ok(true);
        }
        Ok(self.row(TOKEN_EXISTS, &[id], "looking up a token").await?.is_some())
    }
}
