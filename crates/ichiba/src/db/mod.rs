//! The database: one sqlx `Any` pool for both backends, backend detection, SQLite pragmas, the
//! embedded twin migrations, and how write transactions begin.
//!
//! SQLite allows one writer at a time. A deferred transaction that reads and then writes fails with
//! `SQLITE_BUSY` under concurrency whatever the busy timeout, so every write transaction on SQLite
//! begins with `BEGIN IMMEDIATE` (it takes the write lock up front). Within one process the
//! writers first queue on an async lock, in arrival order, before they take a connection: SQLite's
//! busy handler would otherwise make them sleep and retry (1 ms, 2 ms, … 100 ms), which under
//! concurrency cost more time than the writes themselves. `BEGIN IMMEDIATE` still guards against
//! other processes (an `ichiba admin` command beside the server).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool, Connection};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::config::{Backend, DatabaseConfig};

pub mod params;

/// The most connections a SQLite pool opens.
const SQLITE_CONNECTIONS: u32 = 4;

/// An open write transaction on either backend: used as a connection (`&mut *tx`), ended with
/// [`Tx::commit`]; dropped without commit, it rolls back. On SQLite it holds this process's
/// writer turn until it ends.
#[derive(Debug)]
pub struct Tx {
    // Declared first so it is dropped (and its rollback queued) before the writer turn is freed.
    inner: sqlx::Transaction<'static, Any>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let Tx { inner, _turn } = self;
        inner.commit().await
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        let Tx { inner, _turn } = self;
        inner.rollback().await
    }
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The server or file could not be reached.
    #[error("cannot open the {backend:?} database")]
    Unreachable {
        /// Which backend.
        backend: Backend,
        /// Driver error.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A handle to the database: cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Write transactions begun through [`Db::begin`] (for the load generator's ratios).
    begun: Arc<AtomicU64>,
    /// SQLite: this process's writers take turns here before `BEGIN IMMEDIATE`.
    writer: Option<Arc<Mutex<()>>>,
}

impl Db {
    /// Opens a pool. SQLite connections get WAL, foreign keys and a busy timeout.
    ///
    /// Errors: [`DbError::Unreachable`] when no connection can be made within a few seconds.
    pub async fn connect(config: &DatabaseConfig, max_connections: u32) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = config.backend;
        let unreachable = |source| DbError::Unreachable { backend, source };
        let options: AnyConnectOptions = config.url.parse().map_err(unreachable)?;
        // One direct connection first: its error names the cause (refused, unknown database,
        // authentication), where a pool would only report a time-out.
        let probe = sqlx::AnyConnection::connect_with(&options)
            .await
            .map_err(unreachable)?;
        probe.close().await.map_err(unreachable)?;
        // SQLite: a few connections, reused. Each has a thread of its own and a page cache that
        // any other connection's write empties; handing out the least recently used of many
        // meant a cold thread and a cold cache on every statement, and one writer at a time
        // needs no more (readers of WAL still run beside it).
        let max_connections = match backend {
            Backend::Sqlite => max_connections.min(SQLITE_CONNECTIONS),
            Backend::Postgres => max_connections,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // No ping before handing out a pooled connection: it was a round trip to the
            // SQLite worker thread or the PostgreSQL server on every acquisition. A connection
            // that broke meanwhile fails its statement and is not returned to the pool.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed while one writer writes; the busy timeout makes
                        // BEGIN IMMEDIATE wait for the write lock instead of failing at once
                        // (another process's writer). Reads go through a memory map: a write on
                        // one connection empties every other connection's page cache, and pages
                        // read through the map need no copy out of the kernel.
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; \
                             PRAGMA mmap_size = 268435456;",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(unreachable)?;
        Ok(Db {
            pool,
            backend,
            begun: Arc::new(AtomicU64::new(0)),
            writer: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
        })
    }

    /// Applies every pending migration of this backend.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The pool, for reads outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that may write. On SQLite it waits for this process's writer turn
    /// (before taking a connection, so waiting writers hold none) and then takes the write lock.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.begun.fetch_add(1, Ordering::Relaxed);
        match &self.writer {
            Some(writer) => {
                let turn = Arc::clone(writer).lock_owned().await;
                let inner = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx {
                    inner,
                    _turn: Some(turn),
                })
            }
            None => Ok(Tx {
                inner: self.pool.begin().await?,
                _turn: None,
            }),
        }
    }

    /// How many write transactions [`Db::begin`] has begun on this handle and its clones.
    pub fn write_transactions(&self) -> u64 {
        self.begun.load(Ordering::Relaxed)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// True when the error is a unique-constraint violation (both backends).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

/// A new opaque id: a UUIDv7 (time-ordered) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[cfg(test)]
mod tests {
    // That the twin migrations match (names and the schema they build) is checked by the
    // integration suite: tests/api/schema.rs.

    #[tokio::test]
    async fn sqlite_writers_of_one_process_take_turns_and_a_dropped_turn_frees_the_next() {
        let dir = tempfile::tempdir().expect("dir");
        let config = crate::config::database_config(None, dir.path()).expect("config");
        let db = super::Db::connect(&config, 16).await.expect("open");
        sqlx::raw_sql("CREATE TABLE t (n BIGINT NOT NULL)")
            .execute(db.pool())
            .await
            .expect("table");
        let first = db.begin().await.expect("first");
        // The second writer waits for the first one's turn, holding no connection meanwhile.
        let waiting = tokio::spawn({
            let db = db.clone();
            async move {
                let mut tx = db.begin().await.expect("second");
                sqlx::query("INSERT INTO t (n) VALUES (2)")
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                tx.commit().await.expect("commit");
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(
            !waiting.is_finished(),
            "the second writer waits for the first"
        );
        let in_use = db.pool().size() - u32::try_from(db.pool().num_idle()).expect("count");
        assert_eq!(
            in_use, 1,
            "the waiting writer holds no connection (only the first writer's is in use)"
        );
        // Reads go on beside the writer.
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(db.pool())
            .await
            .expect("read");
        assert_eq!(n, 0);
        drop(first);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("a dropped transaction frees the turn")
            .expect("second writer");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(db.pool())
            .await
            .expect("read");
        assert_eq!(n, 1);
    }

    #[test]
    fn ids_are_unique_and_opaque_text() {
        let a = super::new_id();
        let b = super::new_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }
}
