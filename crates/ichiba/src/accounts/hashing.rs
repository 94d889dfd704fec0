//! Where argon2id runs: a small fixed set of threads of our own, not the blocking pool, each
//! reusing one working buffer. Each hash needs 19 MiB of working memory (the OWASP parameters
//! argon2 uses by default). Allocated and freed per hash, on whatever blocking thread picked the
//! login up, glibc kept those blocks (it raises its mmap threshold after the first free): a few
//! hundred logins left the process at 600–800 MiB for good. Here the hashes in flight are
//! bounded by the threads (one per core, at most 4; hashing is CPU-bound, so more would not
//! finish sooner), further logins wait their turn in a queue, and each thread allocates its
//! buffer once: at most 4 × 19 MiB, whatever the number of logins. The strength of the hash and
//! its PHC string format are unchanged (hashes made by either path verify with the other).

use std::cell::RefCell;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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
            // A thread that cannot start leaves the others; with none, the queue's receiver is
            // dropped and every hash answers `Gone` (a 500), not a panic.
            if let Err(error) = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&rx))
            {
                tracing::error!(%error, "cannot start a password-hashing thread");
            }
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

thread_local! {
    /// The working memory of this hashing thread, kept between hashes.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `n` blocks of this thread's working memory (grown once, then reused).
fn with_blocks<R>(n: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() < n {
            blocks.resize(n, Block::default());
        }
        f(&mut blocks[..n])
    })
}

/// The argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of `password` with a
/// fresh random salt and the default parameters. Call it on a hashing thread ([`run`]).
///
/// Errors: only for inputs argon2 refuses (a password over 4 GiB).
pub fn hash(password: &[u8]) -> Result<String, password_hash::Error> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_blocks(params.block_count(), |blocks| {
        argon.hash_password_into_with_memory(password, salt_bytes, &mut out, blocks)
    })?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    }
    .to_string())
}

/// Whether `password` matches the PHC string `phc` (any argon2 variant and parameters; the
/// comparison is constant-time). False for a string that is not an argon2 hash.
pub fn verify(password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; Salt::MAX_LENGTH];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let computed = with_blocks(params.block_count(), |blocks| {
        argon.hash_password_into_with_memory(password, salt_bytes, &mut out, blocks)
    });
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
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
    use argon2::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_made_here_and_by_the_argon2_crate_verify_with_each_other() {
        let mine = hash(b"correct horse").expect("hash");
        assert!(
            mine.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{mine}"
        );
        let parsed = PasswordHash::new(&mine).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &parsed)
                .is_err()
        );

        let theirs = Argon2::default()
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        assert!(verify(b"correct horse", &theirs));
        assert!(!verify(b"correct hors", &theirs));
        assert!(verify(b"correct horse", &mine));
        // Two hashes of one password differ (fresh salts), and the buffer reused between them
        // leaves no trace in the second.
        let again = hash(b"correct horse").expect("hash");
        assert_ne!(mine, again);
        assert!(verify(b"correct horse", &again));
        assert!(!verify(b"correct horse", "not a hash"));
        assert!(!verify(
            b"correct horse",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ"
        ));
    }

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
