//! Concurrent reads of the same mutable record share storage queries
//! without ever answering with data older than the request.
//!
//! A read that arrives while a query for its key is running does not join
//! that query (it may have read the record before a write that completed
//! before this request arrived); it joins the *next* query, which starts
//! once the running one ends, and which every read arriving meanwhile
//! shares. So each answer comes from a query that started after its
//! request arrived (as without sharing), and under load one query serves
//! every request that arrived during the previous one.

use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Mutex;

type Flight<V> = Shared<BoxFuture<'static, V>>;

struct Slot<V: Clone> {
    running: Flight<V>,
    next: Option<Flight<V>>,
}

/// Shares reads by key (see the module documentation).
pub struct Coalescer<K, V: Clone> {
    slots: Mutex<HashMap<K, Slot<V>>>,
}

impl<K: Hash + Eq + Clone, V: Clone + Send + Sync + 'static> Default for Coalescer<K, V> {
    fn default() -> Self {
        Coalescer { slots: Mutex::new(HashMap::new()) }
    }
}

impl<K: Hash + Eq + Clone, V: Clone + Send + Sync + 'static> Coalescer<K, V> {
    /// The result of `query` for `key`, from a query that starts after
    /// this call (possibly one shared with concurrent calls).
    pub async fn read<F>(&self, key: K, query: impl FnOnce() -> F) -> V
    where
        F: Future<Output = V> + Send + 'static,
    {
        let flight = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            match slots.get_mut(&key) {
                None => {
                    let f = query().boxed().shared();
                    slots.insert(key.clone(), Slot { running: f.clone(), next: None });
                    f
                }
                Some(slot) => match &slot.next {
                    Some(n) => n.clone(),
                    None => {
                        let before = slot.running.clone();
                        let q = query();
                        let f = async move {
                            let _ = before.await;
                            q.await
                        }
                        .boxed()
                        .shared();
                        slot.next = Some(f.clone());
                        f
                    }
                },
            }
        };
        let v = flight.clone().await;
        // The first reader back retires its flight: the next one (already
        // chained after it) becomes the running one.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.get_mut(&key) {
            if slot.running.ptr_eq(&flight) {
                match slot.next.take() {
                    Some(n) => slot.running = n,
                    None => {
                        slots.remove(&key);
                    }
                }
            } else if slot.next.as_ref().is_some_and(|n| n.ptr_eq(&flight)) {
                // The next flight ended, so the running one did too (it
                // waited for it) even if none of its readers came back:
                // nothing is in flight.
                slots.remove(&key);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::Coalescer;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn reads_arriving_during_a_query_share_the_next_one() {
        let c = Arc::new(Coalescer::<&str, usize>::default());
        let queries = Arc::new(AtomicUsize::new(0));
        // The first query is held open until released.
        let (release, held) = oneshot::channel::<()>();
        let q = queries.clone();
        let first = {
            let c = c.clone();
            tokio::spawn(async move {
                c.read("k", move || async move {
                    let _ = held.await;
                    q.fetch_add(1, Ordering::SeqCst)
                })
                .await
            })
        };
        tokio::task::yield_now().await;
        // Three reads arrive while it runs: they must not see its result.
        let later: Vec<_> = (0..3)
            .map(|_| {
                let (c, q) = (c.clone(), queries.clone());
                tokio::spawn(async move { c.read("k", move || async move { q.fetch_add(1, Ordering::SeqCst) }).await })
            })
            .collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), 0);
        for l in later {
            assert_eq!(l.await.unwrap(), 1, "a read that arrived during query 0 got its result");
        }
        assert_eq!(queries.load(Ordering::SeqCst), 2, "the three later reads shared one query");
        // Nothing in flight: a new read queries again.
        let q = queries.clone();
        assert_eq!(c.read("k", move || async move { q.fetch_add(1, Ordering::SeqCst) }).await, 2);
        assert!(c.slots.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_finished_flight_is_never_joined() {
        let c = Arc::new(Coalescer::<&str, usize>::default());
        let queries = Arc::new(AtomicUsize::new(0));
        // A read whose reader goes away while its query is running...
        let (release, held) = oneshot::channel::<()>();
        let q = queries.clone();
        let abandoned = {
            let c = c.clone();
            tokio::spawn(async move {
                c.read("k", move || async move {
                    let _ = held.await;
                    q.fetch_add(1, Ordering::SeqCst)
                })
                .await
            })
        };
        tokio::task::yield_now().await;
        abandoned.abort();
        let _ = abandoned.await;
        let _ = release.send(());
        // ...is driven by the next read, which gets a query of its own,
        let q = queries.clone();
        assert_eq!(c.read("k", move || async move { q.fetch_add(1, Ordering::SeqCst) }).await, 1);
        // and a read after that queries again rather than reuse it.
        let q = queries.clone();
        assert_eq!(c.read("k", move || async move { q.fetch_add(1, Ordering::SeqCst) }).await, 2);
        assert!(c.slots.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn keys_do_not_share() {
        let c = Coalescer::<u8, u8>::default();
        assert_eq!(c.read(1, || async { 1 }).await, 1);
        assert_eq!(c.read(2, || async { 2 }).await, 2);
    }
}
