//! The one bounded cache of the server: a map shared between threads that holds at most its
//! capacity, the least recently used entry out first, so that a full cache loses one entry
//! per insert (never all of them at once).

use std::{borrow::Borrow, hash::Hash, num::NonZeroUsize, sync::Mutex};

use lru::LruCache;

pub struct Bounded<K: Hash + Eq, V> {
    inner: Mutex<LruCache<K, V>>,
}

impl<K: Hash + Eq, V: Clone> Bounded<K, V> {
    /// A cache of at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<K, V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry of `key`, now the most recently used.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().get(key).cloned()
    }

    /// Stores `value` under `key`; when full, the least recently used entry leaves.
    pub fn put(&self, key: K, value: V) {
        self.lock().put(key, value);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Bounded;

    #[test]
    fn the_entry_past_capacity_evicts_one_entry_not_the_others() {
        let cache = Bounded::new(10_000);
        for i in 0..10_000u32 {
            cache.put(i, i);
        }
        // The oldest entry was used since: the second oldest is the one to leave.
        assert_eq!(cache.get(&0), Some(0));
        cache.put(10_000, 10_000);
        assert_eq!(cache.len(), 10_000);
        assert_eq!(cache.get(&1), None);
        assert!((2..=10_000).all(|i| cache.get(&i) == Some(i)));
        assert_eq!(cache.get(&0), Some(0));
    }
}
