//! Storage: metadata (directories, blobs' links, versions, tags and their
//! history, deployments, tokens) in SQLite or PostgreSQL, and blob bytes on
//! the file system or in S3-compatible object storage.
//!
//! INTERFACE CONTRACT (shared by the HTTP layer and the storage
//! implementation): the signatures below are what `crate::http` calls.
//! Every method is safe to call from many tasks and many replicas at once;
//! every write is atomic (a transaction, or a blob made visible only once
//! complete and verified).

use bytes::Bytes;
use futures_util::stream::BoxStream;
use strata::registry::{BlobDigest, DeploymentStatus, Manifest};

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
    pub fn embedded(data: &std::path::Path) -> StoreConfig {
        todo!("{data:?}")
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
    /// When created.
    pub created: Time,
    /// When revoked.
    pub revoked: Option<Time>,
}

/// The registry's storage.
#[derive(Clone)]
pub struct Store {}

impl Store {
    /// Opens (and creates or migrates) the storage.
    pub async fn open(config: &StoreConfig) -> Result<Store, StoreError> {
        todo!("{config:?}")
    }

    /// Checks that metadata and blob storage answer (`/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        todo!()
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
        let _ = (dir, digest, limit, body);
        todo!()
    }

    /// The size of a blob linked to `dir`, or `None`.
    pub async fn blob_size(&self, dir: &str, digest: &BlobDigest) -> Result<Option<u64>, StoreError> {
        let _ = (dir, digest);
        todo!()
    }

    /// A blob linked to `dir`, streamed, or `None`.
    pub async fn get_blob(&self, dir: &str, digest: &BlobDigest) -> Result<Option<BlobBody>, StoreError> {
        let _ = (dir, digest);
        todo!()
    }

    /// The whole bytes of a blob (no link check), for verifying a version.
    pub async fn read_blob(&self, digest: &BlobDigest) -> Result<Option<Vec<u8>>, StoreError> {
        let _ = digest;
        todo!()
    }

    /// Of `digests`, those not linked to `dir`, in the order given.
    pub async fn missing_blobs(&self, dir: &str, digests: &[BlobDigest]) -> Result<Vec<BlobDigest>, StoreError> {
        let _ = (dir, digests);
        todo!()
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
        let _ = (dir, digest, manifest, by);
        todo!()
    }

    /// A version's manifest.
    pub async fn version(&self, dir: &str, digest: &BlobDigest) -> Result<Option<Manifest>, StoreError> {
        let _ = (dir, digest);
        todo!()
    }

    /// A version's manifest as JSON bytes (`serde_json` of [`Manifest`],
    /// exactly what `GET .../versions/{digest}` serves), from a bounded
    /// in-memory cache after the first read (versions are immutable).
    pub async fn version_json(&self, dir: &str, digest: &BlobDigest) -> Result<Option<Bytes>, StoreError> {
        let _ = (dir, digest);
        todo!()
    }

    /// A directory's versions, newest first.
    pub async fn versions(&self, dir: &str, page: &Page) -> Result<Paged<VersionInfo>, StoreError> {
        let _ = (dir, page);
        todo!()
    }

    // Tags ----------------------------------------------------------------

    /// A tag.
    pub async fn tag(&self, dir: &str, tag: &str) -> Result<Option<TagInfo>, StoreError> {
        let _ = (dir, tag);
        todo!()
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
        let _ = (dir, tag, version, cond, by);
        todo!()
    }

    /// A directory's tags, by name.
    pub async fn tags(&self, dir: &str) -> Result<Vec<TagInfo>, StoreError> {
        let _ = dir;
        todo!()
    }

    /// A tag's history, newest first.
    pub async fn tag_history(&self, dir: &str, tag: &str, page: &Page) -> Result<Paged<TagMove>, StoreError> {
        let _ = (dir, tag, page);
        todo!()
    }

    // Directories ---------------------------------------------------------

    /// Whether a directory exists.
    pub async fn dir_exists(&self, dir: &str) -> Result<bool, StoreError> {
        let _ = dir;
        todo!()
    }

    /// Directories by name; `only`: restrict to these.
    pub async fn dirs(&self, only: Option<&[String]>, page: &Page) -> Result<Paged<DirInfo>, StoreError> {
        let _ = (only, page);
        todo!()
    }

    // Deployments ---------------------------------------------------------

    /// Records a deployment; returns its id.
    pub async fn add_deployment(&self, d: &NewDeployment) -> Result<String, StoreError> {
        let _ = d;
        todo!()
    }

    /// Deployments, newest first.
    pub async fn deployments(
        &self,
        filter: &DeploymentFilter,
        page: &Page,
    ) -> Result<Paged<DeploymentInfo>, StoreError> {
        let _ = (filter, page);
        todo!()
    }

    /// One deployment and its report's JSON text.
    pub async fn deployment(&self, id: &str) -> Result<Option<(DeploymentInfo, String)>, StoreError> {
        let _ = id;
        todo!()
    }

    // Tokens --------------------------------------------------------------

    /// Creates a token; returns its info and the secret (shown once; only
    /// its SHA-256 is stored).
    pub async fn create_token(
        &self,
        name: &str,
        scopes: &[Scope],
        dirs: &[String],
    ) -> Result<(TokenInfo, String), StoreError> {
        let _ = (name, scopes, dirs);
        todo!()
    }

    /// The live (not revoked) token with this secret.
    pub async fn token(&self, secret: &str) -> Result<Option<TokenInfo>, StoreError> {
        let _ = secret;
        todo!()
    }

    /// Every token, revoked ones included.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        todo!()
    }

    /// Revokes a token by id; `false` if there is none.
    pub async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        let _ = id;
        todo!()
    }
}
