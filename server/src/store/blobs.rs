//! Blob bytes in object storage: the file system (`file://DIR`) or S3
//! (`s3://bucket/prefix`), through one code path (`object_store`).
//!
//! A blob lives at `sha256/<first two hex digits>/<hex>`. It is written
//! while its body streams in and is hashed; it becomes visible only once
//! complete and only if it hashed to its digest within the size limit
//! (the file system renames a finished temporary file; S3 completes a
//! multipart upload or takes a single put). Memory stays bounded: a body
//! is held at most one part at a time.

use super::{PutBlobError, StoreError};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetResult, ObjectStore, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use strata::registry::BlobDigest;

/// Bodies up to this size are stored with one put once verified; larger
/// ones go out in parts of this size (S3 wants parts of at least 5 MiB).
pub(crate) const PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts of one upload in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

pub(crate) struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// Where, for messages.
    location: String,
}

impl Blobs {
    pub(crate) fn open(url: &str) -> Result<Blobs, StoreError> {
        if let Some(dir) = url.strip_prefix("file://") {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError(format!("blob directory {dir}: cannot create it: {e}: check the path and its permissions"))
            })?;
            let fs =
                LocalFileSystem::new_with_prefix(dir).map_err(|e| StoreError(format!("blob directory {dir}: {e}")))?;
            Ok(Blobs { store: Arc::new(fs), location: url.to_string() })
        } else if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError(format!("blob storage URL {url:?} names no bucket: use s3://BUCKET/PREFIX")));
            }
            let s3 = AmazonS3Builder::from_env().with_bucket_name(bucket).build().map_err(|e| {
                StoreError(format!(
                    "blob storage {url}: {e}: set AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY \
                     (and AWS_ENDPOINT_URL, AWS_ALLOW_HTTP for an S3-compatible server)"
                ))
            })?;
            let prefix = prefix.trim_matches('/');
            let store: Arc<dyn ObjectStore> =
                if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) };
            Ok(Blobs { store, location: url.to_string() })
        } else {
            Err(StoreError(format!(
                "blob storage URL {url:?} is neither file://DIR nor s3://BUCKET/PREFIX: use one of those"
            )))
        }
    }

    /// The object store itself (tests list it).
    #[cfg(test)]
    pub(crate) fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    fn key(digest: &BlobDigest) -> Path {
        let hex = digest.hex();
        Path::from(format!("sha256/{}/{hex}", &hex[..2]))
    }

    fn fail(&self, what: &str, e: object_store::Error) -> StoreError {
        StoreError(format!("blob storage {}: {what}: {e}", self.location))
    }

    /// Checks that the storage answers.
    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        match self.store.head(&Path::from("strata-ping")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.fail("checking it answers", e)),
        }
    }

    /// Consumes `body`, hashing it; if `write`, stores it under `digest`,
    /// visible only if it hashed to `digest` within `limit` bytes. Returns
    /// its size.
    pub(crate) async fn put(
        &self,
        digest: &BlobDigest,
        limit: u64,
        mut body: BoxStream<'static, Result<Bytes, String>>,
        write: bool,
    ) -> Result<u64, PutBlobError> {
        let key = Blobs::key(digest);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        // The body so far, while it fits in one part.
        let mut held: Vec<Bytes> = Vec::new();
        let mut held_len = 0usize;
        let mut upload: Option<WriteMultipart> = None;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => return Err(abort(upload, PutBlobError::Body(e)).await),
            };
            size += chunk.len() as u64;
            if size > limit {
                return Err(abort(upload, PutBlobError::TooLarge { limit }).await);
            }
            hasher.update(&chunk);
            if !write {
                continue;
            }
            if let Some(up) = upload.as_mut() {
                if let Err(e) = up.wait_for_capacity(PARTS_IN_FLIGHT).await {
                    let e = PutBlobError::Store(self.fail("uploading a part", e));
                    return Err(abort(upload, e).await);
                }
                up.put(chunk);
                continue;
            }
            held_len += chunk.len();
            held.push(chunk);
            if held_len >= PART_SIZE {
                let mp = self
                    .store
                    .put_multipart(&key)
                    .await
                    .map_err(|e| PutBlobError::Store(self.fail(&format!("starting the upload of {digest}"), e)))?;
                let mut up = WriteMultipart::new_with_chunk_size(mp, PART_SIZE);
                for b in held.drain(..) {
                    up.put(b);
                }
                upload = Some(up);
            }
        }
        let actual = digest_of(hasher);
        if actual != *digest {
            return Err(abort(upload, PutBlobError::DigestMismatch { actual }).await);
        }
        if write {
            let done = match upload {
                Some(up) => up.finish().await,
                None => self.store.put(&key, PutPayload::from_iter(held)).await,
            };
            done.map_err(|e| PutBlobError::Store(self.fail(&format!("storing {digest}"), e)))?;
        }
        Ok(size)
    }

    /// A blob, or `None` if storage has no such object.
    async fn get(&self, digest: &BlobDigest) -> Result<Option<GetResult>, StoreError> {
        match self.store.get(&Blobs::key(digest)).await {
            Ok(r) => Ok(Some(r)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.fail(&format!("reading {digest}"), e)),
        }
    }

    /// A blob the metadata says is there (`size` bytes when stored),
    /// streamed, with the size it has now. Bytes damaged in storage are
    /// served as they are (and logged): clients check every blob against
    /// its digest and name the file that differs.
    pub(crate) async fn stream(
        &self,
        digest: &BlobDigest,
        size: u64,
    ) -> Result<(u64, BoxStream<'static, Result<Bytes, StoreError>>), StoreError> {
        let Some(r) = self.get(digest).await? else {
            return Err(StoreError(format!(
                "blob storage {}: blob {digest} is recorded but missing: restore it from a backup, \
                 or push the directory again",
                self.location
            )));
        };
        if r.meta.size != size {
            tracing::error!(
                blob = %digest,
                stored = r.meta.size,
                recorded = size,
                "blob storage {}: the blob's size changed since it was stored: it was damaged; restore it or push it again",
                self.location
            );
        }
        let location = self.location.clone();
        let d = digest.clone();
        let size = r.meta.size;
        let stream =
            r.into_stream().map_err(move |e| StoreError(format!("blob storage {location}: reading {d}: {e}"))).boxed();
        Ok((size, stream))
    }

    /// A blob's whole bytes, or `None`.
    pub(crate) async fn read(&self, digest: &BlobDigest) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(r) = self.get(digest).await? else { return Ok(None) };
        let bytes = r.bytes().await.map_err(|e| self.fail(&format!("reading {digest}"), e))?;
        Ok(Some(Vec::from(bytes)))
    }
}

/// Cancels a multipart upload (its parts are deleted, nothing becomes
/// visible) and returns `why`.
async fn abort(upload: Option<WriteMultipart>, why: PutBlobError) -> PutBlobError {
    if let Some(up) = upload {
        if let Err(e) = up.abort().await {
            tracing::warn!("aborting a refused blob upload: {e}");
        }
    }
    why
}

fn digest_of(hasher: Sha256) -> BlobDigest {
    let hex = format!("{:x}", hasher.finalize());
    BlobDigest::parse(&format!("sha256:{hex}")).expect("a SHA-256 in hex is a blob digest")
}
