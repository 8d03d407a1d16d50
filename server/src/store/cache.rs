//! A bounded in-memory cache of manifests' JSON bytes. Versions are
//! immutable, so an entry never goes stale; the oldest entries go first
//! when the cache is full.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

pub(crate) struct JsonCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

impl JsonCache {
    /// A cache holding at most `max_bytes` of values.
    pub(crate) fn new(max_bytes: usize) -> JsonCache {
        JsonCache { inner: Mutex::new(Inner::default()), max_bytes }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent map (every
        // update below is complete before anything can panic).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, key: &str) -> Option<Bytes> {
        self.lock().map.get(key).cloned()
    }

    pub(crate) fn insert(&self, key: String, value: Bytes) {
        if value.len() > self.max_bytes / 8 {
            return; // one huge manifest does not evict everything else
        }
        let mut c = self.lock();
        if c.map.contains_key(&key) {
            return;
        }
        while c.bytes + value.len() > self.max_bytes {
            let Some(old) = c.order.pop_front() else { break };
            if let Some(v) = c.map.remove(&old) {
                c.bytes -= v.len();
            }
        }
        c.bytes += value.len();
        c.order.push_back(key.clone());
        c.map.insert(key, value);
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_its_bound_and_drops_the_oldest() {
        let c = JsonCache::new(800);
        for i in 0..20 {
            c.insert(format!("k{i}"), Bytes::from(vec![b'x'; 100]));
            assert!(c.bytes() <= 800);
        }
        assert!(c.get("k0").is_none());
        assert_eq!(c.get("k19").as_deref(), Some(&[b'x'; 100][..]));
        c.insert("huge".into(), Bytes::from(vec![0; 101]));
        assert!(c.get("huge").is_none());
    }
}
