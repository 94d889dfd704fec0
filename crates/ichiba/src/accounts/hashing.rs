//! Where argon2id runs: a small fixed set of threads of our own, not the blocking pool. Each hash
//! needs 19 MiB of working memory (the OWASP parameters argon2 uses by default); on the blocking
//! pool every login could land on a new thread whose allocator arena then keeps those 19 MiB, so
//! a few hundred logins left the process at 600–800 MiB. With one thread per core the hashes in
//! flight, and the memory the allocator keeps for them, are bounded by the number of threads;
//! further logins wait their turn in a queue (hashing is CPU-bound: more threads than cores would
//! not finish sooner). The strength of the hash is unchanged.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

/// A unit of hashing work.
type Job = Box<dyn FnOnce() + Send>;

/// Jobs waiting for a hashing thread; beyond this a caller waits to enqueue (back-pressure).
const QUEUE: usize = 1024;

struct Pool {
    jobs: SyncSender<Job>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = threads();
        let (jobs, rx) = sync_channel::<Job>(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&rx))
                .expect("spawn a password-hashing thread");
        }
        Pool { jobs }
    })
}

/// One thread per core, at most 4 (each holds up to 19 MiB while hashing).
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while taking a job, never while running it.
        let job = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// The hashing threads stopped (only when the process is exiting).
#[derive(Debug, thiserror::Error)]
#[error("the password-hashing threads are gone")]
pub struct Gone;

/// Runs `f` on a hashing thread and waits for its result without blocking the async runtime.
pub async fn run<T, F>(f: F) -> Result<T, Gone>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    let jobs = pool().jobs.clone();
    // Enqueueing blocks only when a thousand hashes are already waiting.
    match jobs.try_send(job) {
        Ok(()) => {}
        Err(std::sync::mpsc::TrySendError::Full(job)) => {
            tokio::task::spawn_blocking(move || jobs.send(job))
                .await
                .map_err(|_| Gone)?
                .map_err(|_| Gone)?;
        }
        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(Gone),
    }
    rx.await.map_err(|_| Gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_named_hashing_threads_only() {
        let mut names = std::collections::BTreeSet::new();
        let runs: Vec<_> = (0..32)
            .map(|_| run(|| std::thread::current().name().map(str::to_string)))
            .collect();
        for r in futures::future::join_all(runs).await {
            names.insert(r.expect("ran").expect("named"));
        }
        assert!(names.iter().all(|n| n.starts_with("argon2-")), "{names:?}");
        assert!(names.len() <= threads(), "{names:?}");
    }
}
