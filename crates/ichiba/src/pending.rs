//! Keys whose derived data awaits recomputation (the sellers whose reputation a finished deal
//! changed): marked on the request path, drained by a background worker, and settled on demand by
//! a reader that must show them fresh. Knows no feature; the feature owning the data drains it.

use std::collections::HashSet;
use std::sync::Mutex;

use tokio::sync::{MutexGuard, Notify};

/// A set of pending keys with a wake-up for the worker and one drain at a time.
#[derive(Debug, Default)]
pub struct Pending {
    keys: Mutex<HashSet<String>>,
    wake: Notify,
    draining: tokio::sync::Mutex<()>,
}

impl Pending {
    /// Marks `key` as pending and wakes the worker.
    pub fn mark(&self, key: &str) {
        self.with_keys(|keys| {
            keys.insert(key.to_string());
        });
        self.wake.notify_one();
    }

    /// True when nothing is pending and no drain is running: a reader may read as is.
    pub fn is_settled(&self) -> bool {
        self.with_keys(|keys| keys.is_empty()) && self.draining.try_lock().is_ok()
    }

    /// Waits for the right to drain (one drain at a time, so a reader that settles after a worker
    /// took the keys waits until that worker's recomputation is committed).
    pub async fn drain_lock(&self) -> MutexGuard<'_, ()> {
        self.draining.lock().await
    }

    /// Takes every pending key (call with the drain lock held).
    pub fn take(&self) -> Vec<String> {
        self.with_keys(|keys| keys.drain().collect())
    }

    /// Resolves when a key is marked (or was marked since the last wake-up).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    fn with_keys<R>(&self, f: impl FnOnce(&mut HashSet<String>) -> R) -> R {
        match self.keys.lock() {
            Ok(mut keys) => f(&mut keys),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn marked_keys_are_taken_once_and_a_running_drain_is_not_settled() {
        let p = Pending::default();
        assert!(p.is_settled());
        p.mark("s1");
        p.mark("s2");
        p.mark("s1");
        assert!(!p.is_settled());
        let guard = p.drain_lock().await;
        let mut keys = p.take();
        keys.sort();
        assert_eq!(keys, ["s1", "s2"]);
        // Taken but not yet recomputed: a reader must still wait.
        assert!(!p.is_settled());
        drop(guard);
        assert!(p.is_settled());
        // The wake-up of a mark made while nobody waited is kept for the next wait.
        p.mark("s3");
        tokio::time::timeout(std::time::Duration::from_secs(5), p.woken())
            .await
            .expect("woken");
    }
}
