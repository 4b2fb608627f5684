//! Has anything a caller depends on changed? Answered without a statement, so the app can
//! keep each authenticated caller in memory and still see a deleted user, a changed level, a
//! removed membership, a changed permission row or a re-linked person on the next request
//! (ADR 0022).
//!
//! [`Store::auth_stamp`] returns a stamp of "now"; an entry cached under a stamp is valid
//! while the stamp has not moved. `None` means "cannot tell right now": do not use or fill
//! the cache. Every stamp carries an in-process epoch that each committed write transaction
//! of this process bumps (`Tx::commit`), so this instance's own writes are seen at once.
//!
//! - **SQLite** (WAL mode): the stamp also carries the WAL-index header, the first 48 bytes
//!   of the `-shm` file, which SQLite rewrites on every commit by any process (its change
//!   counter, last frame, salts and checksums). It is read with one `pread`, no statement
//!   and no trip to sqlx's worker thread. The header is stored twice; a read where the two
//!   copies differ caught a writer mid-update and answers `None`. A dedicated connection is
//!   held open for the store's life, so SQLite never deletes and recreates the `-shm` file
//!   under the descriptor read here.
//! - **PostgreSQL**: triggers on the tables a caller is read from `pg_notify('roster_auth')`
//!   (migration 0008), and a task holding a `LISTEN roster_auth` connection bumps the epoch on
//!   each notification. While that connection is down the stamp is `None` (the cache is
//!   bypassed, every request reads the database); a reconnect bumps the epoch before the
//!   cache is used again, since notifications sent while it was down are lost. Another
//!   instance's change reaches this one when its notification arrives: after the writer's
//!   commit, typically well under a millisecond on one host.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::PgPool;

/// The channel the triggers of migration 0008 notify.
pub const AUTH_CHANNEL: &str = "roster_auth";

/// Size of one copy of SQLite's WAL-index header (`WalIndexHdr`).
const WAL_INDEX_HEADER: usize = 48;

/// A point in the database's history as far as callers are concerned: two equal stamps mean
/// no commit that could change a caller came between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthStamp {
    epoch: u64,
    header: [u8; WAL_INDEX_HEADER],
}

/// The store's change detector (one per [`crate::Store`], shared by its clones).
pub(crate) struct Changes {
    epoch: AtomicU64,
    /// Set by [`Changes::close`]: the store is closed, nothing can be told any more.
    closed: AtomicBool,
    source: Source,
}

enum Source {
    /// No way to tell (an in-memory database, or no `-shm` file): never cache.
    Blind,
    Sqlite {
        /// Never closed, on purpose: closing any descriptor of a file drops every POSIX
        /// lock this process holds on it, SQLite's own locks on the WAL index included
        /// (sqlite.org/howtocorrupt.html, 2.2), and another store on the same database in
        /// this process may still be using them. One descriptor a store is the cost.
        shm: std::mem::ManuallyDrop<std::fs::File>,
        /// Keeps the database open, so the `-shm` file is never unlinked while read here.
        /// Taken and closed by [`Changes::close`], with the store's pool.
        keep_open: tokio::sync::Mutex<Option<sqlx::SqliteConnection>>,
    },
    Postgres {
        listening: Arc<AtomicBool>,
        /// Dropped with the store; the listener task then ends.
        _stop: tokio::sync::oneshot::Sender<()>,
    },
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Blind => "blind",
            Source::Sqlite { .. } => "sqlite wal-index",
            Source::Postgres { .. } => "postgres listen",
        };
        f.debug_struct("Changes")
            .field("epoch", &self.epoch.load(Ordering::SeqCst))
            .field("closed", &self.closed.load(Ordering::SeqCst))
            .field("source", &source)
            .finish()
    }
}

impl Changes {
    pub(crate) fn blind() -> Arc<Self> {
        Arc::new(Self {
            epoch: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            source: Source::Blind,
        })
    }

    /// Closes the connection kept open (after the store's pool, so it is the last one and
    /// SQLite checkpoints the WAL into the database file before this returns: a file that is
    /// moved or copied next holds every commit). No stamp is given afterwards.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Source::Sqlite { keep_open, .. } = &self.source
            && let Some(conn) = keep_open.lock().await.take()
        {
            use sqlx::Connection;
            if let Err(e) = conn.close().await {
                tracing::warn!(error = %e, "closing the connection the auth cache kept open");
            }
        }
    }

    /// Watches the SQLite database `opts` names: opens a connection it keeps, then the
    /// `-shm` file beside the database. Blind when either fails (say, an in-memory database).
    pub(crate) async fn sqlite(opts: &sqlx::sqlite::SqliteConnectOptions) -> Arc<Self> {
        use sqlx::ConnectOptions;
        let path = opts.get_filename();
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
            return Self::blind();
        }
        let conn = match opts.connect().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "auth cache disabled: no connection to keep open");
                return Self::blind();
            }
        };
        let mut shm_path = path.as_os_str().to_owned();
        shm_path.push("-shm");
        let shm = match std::fs::File::open(&shm_path) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "auth cache disabled: no WAL index to watch");
                return Self::blind();
            }
        };
        let changes = Self {
            epoch: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            source: Source::Sqlite {
                shm: std::mem::ManuallyDrop::new(shm),
                keep_open: tokio::sync::Mutex::new(Some(conn)),
            },
        };
        if changes.wal_header().is_none() {
            tracing::warn!("auth cache disabled: the WAL index header is unreadable");
            return Self::blind();
        }
        Arc::new(changes)
    }

    /// Watches a PostgreSQL database through `LISTEN`, on a task of its own.
    pub(crate) fn postgres(pool: &PgPool) -> Arc<Self> {
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let listening = Arc::new(AtomicBool::new(false));
        let changes = Arc::new(Self {
            epoch: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            source: Source::Postgres {
                listening: listening.clone(),
                _stop: stop,
            },
        });
        tokio::spawn(listen(
            pool.clone(),
            Arc::downgrade(&changes),
            listening,
            stopped,
        ));
        changes
    }

    /// A committed write of this process.
    pub(crate) fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn stamp(&self) -> Option<AuthStamp> {
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        match &self.source {
            Source::Blind => None,
            Source::Sqlite { .. } => {
                let epoch = self.epoch.load(Ordering::SeqCst);
                let header = self.wal_header()?;
                Some(AuthStamp { epoch, header })
            }
            Source::Postgres { listening, .. } => {
                if !listening.load(Ordering::SeqCst) {
                    return None;
                }
                Some(AuthStamp {
                    epoch: self.epoch.load(Ordering::SeqCst),
                    header: [0; WAL_INDEX_HEADER],
                })
            }
        }
    }

    /// The WAL-index header, when both copies agree and it is initialised.
    #[cfg(unix)]
    fn wal_header(&self) -> Option<[u8; WAL_INDEX_HEADER]> {
        use std::os::unix::fs::FileExt;
        let Source::Sqlite { shm, .. } = &self.source else {
            return None;
        };
        let mut both = [0u8; 2 * WAL_INDEX_HEADER];
        shm.read_exact_at(&mut both, 0).ok()?;
        let (first, second) = both.split_at(WAL_INDEX_HEADER);
        // Byte 12 is `isInit`.
        if first != second || first[12] == 0 {
            return None;
        }
        first.try_into().ok()
    }

    #[cfg(not(unix))]
    fn wal_header(&self) -> Option<[u8; WAL_INDEX_HEADER]> {
        None
    }
}

/// Holds `LISTEN roster_auth` and bumps the epoch on every notification; marks the stamp
/// unusable while the connection is down, and reconnects with a capped backoff.
async fn listen(
    pool: PgPool,
    changes: Weak<Changes>,
    listening: Arc<AtomicBool>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let connected = tokio::select! {
            _ = &mut stopped => return,
            l = subscribe(&pool) => l,
        };
        let mut listener = match connected {
            Ok(l) => l,
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "auth cache bypassed: cannot LISTEN {AUTH_CHANNEL}");
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        // Whatever was cached before the notifications resumed may be stale.
        let Some(c) = changes.upgrade() else { return };
        c.bump();
        listening.store(true, Ordering::SeqCst);
        drop(c);
        loop {
            let next = tokio::select! {
                _ = &mut stopped => return,
                n = listener.try_recv() => n,
            };
            let Some(c) = changes.upgrade() else { return };
            if let Ok(Some(_)) = next {
                c.bump();
                continue;
            }
            listening.store(false, Ordering::SeqCst);
            c.bump();
            if matches!(next, Err(sqlx::Error::PoolClosed)) {
                return;
            }
            tracing::warn!("auth cache bypassed: the {AUTH_CHANNEL} listener dropped");
            break;
        }
    }
}

async fn subscribe(pool: &PgPool) -> sqlx::Result<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(AUTH_CHANNEL).await?;
    Ok(listener)
}

impl crate::Store {
    /// A stamp of the database's state as far as callers go, read without a statement;
    /// `None` when it cannot be known now (then nothing may be served from a cache).
    pub fn auth_stamp(&self) -> Option<AuthStamp> {
        self.changes.stamp()
    }
}
