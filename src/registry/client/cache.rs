//! Blobs the client already has. Blobs are immutable and addressed by
//! their digest, so a cached blob never goes stale; the client still
//! checks every byte it takes from a cache before it returns a directory.

use crate::registry::BlobDigest;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Where the client keeps the blobs it downloaded or uploaded, so that
/// fetching a version again only downloads the files it does not have.
///
/// Methods take `&self`: a cache is shared by concurrent requests and
/// uses its own locking. The client verifies every blob a cache returns
/// (a wrong one fails the fetch, naming the file, and is
/// [removed](BlobCache::remove)).
pub trait BlobCache {
    /// The bytes of `digest`, if cached.
    fn get(&self, digest: &BlobDigest) -> Option<Vec<u8>>;
    /// Keeps `bytes`, whose digest was checked to be `digest`. A cache may
    /// drop it (or others) to stay within its budget.
    fn put(&self, digest: &BlobDigest, bytes: &[u8]);
    /// Forgets `digest` (its bytes turned out to be wrong).
    fn remove(&self, digest: &BlobDigest);
}

/// A cache that keeps nothing: every fetch downloads every blob.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCache;

impl BlobCache for NoCache {
    fn get(&self, _: &BlobDigest) -> Option<Vec<u8>> {
        None
    }
    fn put(&self, _: &BlobDigest, _: &[u8]) {}
    fn remove(&self, _: &BlobDigest) {}
}

/// The default cache: blobs in memory, up to a byte budget; the oldest
/// blobs go first when a new one does not fit.
#[derive(Debug)]
pub struct MemoryCache {
    budget: u64,
    inner: Mutex<Blobs>,
}

#[derive(Debug, Default)]
struct Blobs {
    bytes: u64,
    map: HashMap<BlobDigest, Vec<u8>>,
    order: VecDeque<BlobDigest>,
}

impl MemoryCache {
    /// The default budget: 256 MiB.
    pub const DEFAULT_BUDGET: u64 = 256 * 1024 * 1024;

    /// A cache holding at most `budget` bytes of blobs.
    pub fn new(budget: u64) -> MemoryCache {
        MemoryCache { budget, inner: Mutex::new(Blobs::default()) }
    }

    /// The number of blobs held.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether the cache holds no blob.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes held.
    pub fn size(&self) -> u64 {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Blobs> {
        // A panic while holding the lock cannot leave the map inconsistent
        // in a way that matters: every blob is verified when read.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache::new(MemoryCache::DEFAULT_BUDGET)
    }
}

impl BlobCache for MemoryCache {
    fn get(&self, digest: &BlobDigest) -> Option<Vec<u8>> {
        self.lock().map.get(digest).cloned()
    }

    fn put(&self, digest: &BlobDigest, bytes: &[u8]) {
        let size = bytes.len() as u64;
        if size > self.budget {
            return;
        }
        let mut b = self.lock();
        if b.map.contains_key(digest) {
            return;
        }
        while b.bytes + size > self.budget {
            let Some(old) = b.order.pop_front() else { break };
            if let Some(v) = b.map.remove(&old) {
                b.bytes -= v.len() as u64;
            }
        }
        b.bytes += size;
        b.map.insert(digest.clone(), bytes.to_vec());
        b.order.push_back(digest.clone());
    }

    fn remove(&self, digest: &BlobDigest) {
        let mut b = self.lock();
        if let Some(v) = b.map.remove(digest) {
            b.bytes -= v.len() as u64;
            b.order.retain(|d| d != digest);
        }
    }
}

impl<C: BlobCache + ?Sized> BlobCache for &C {
    fn get(&self, digest: &BlobDigest) -> Option<Vec<u8>> {
        (**self).get(digest)
    }
    fn put(&self, digest: &BlobDigest, bytes: &[u8]) {
        (**self).put(digest, bytes)
    }
    fn remove(&self, digest: &BlobDigest) {
        (**self).remove(digest)
    }
}
