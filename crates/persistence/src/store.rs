//! [`DieselStore`]: the domain's storage ports over a pool of [`AnyConnection`]s.

/// Runs `$body` with `$c` bound to the engine's own connection (SQLite or PostgreSQL).
///
/// diesel's multi-backend connection writes a statement's SQL text on every execution, even
/// for a statement it keeps prepared: 15 % of a post's instructions under callgrind (issue 4).
/// The engine's own connection finds a statement whose type identifies it without writing it.
/// For the hot statements; the body is compiled once per engine.
macro_rules! on_engine {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::conn::AnyConnection::Sqlite($c) => $body,
            $crate::conn::AnyConnection::Postgresql($c) => $body,
        }
    };
}

mod accounts;
mod applications;
mod channels;
mod credentials;
mod cursor;
mod events;
mod export;
mod files;
mod group_commit;
mod health;
mod idempotency;
mod jobs;
mod mail_outbox;
mod messages;
mod notifications;
mod presence;
mod safety;
mod sort;
mod users;
mod webhooks;

use std::sync::{Arc, Mutex};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;
use roost_domain::model::message::{Message, MessageDraft};
use roost_domain::{IdGenerator, StoreError};

pub use self::events::CommitSignal;
use self::group_commit::GroupCommit;

use crate::checkpoint::Checkpointer;
use crate::conn::{
    build_pool, AnyConnection, ConnectError, DatabaseKind, DatabaseUrl, ManagedConnection, Pool, PoolSettings,
};
use crate::migrate::{run_migrations, MigrationError};

// Lookups of one row by a unique key use `get_result`, not `first`: `first` adds `LIMIT ?`, and
// SQLite compiles a statement again on its next step whenever a bound LIMIT changes (its
// `sqlite3ExprIsInteger` marks the parameter), so diesel's cached statements were re-prepared
// on every call (issue 4: 13 % of a post's CPU).

/// The one implementation of every storage port.
#[derive(Clone)]
pub struct DieselStore {
    pool: Pool,
    kind: DatabaseKind,
    /// SQLite has one writer at a time. Writers queue here, in order, instead of in SQLite's
    /// busy handler, which sleeps 1–100 ms between retries (issue 4: 313 ms p99 at 16
    /// connections). `None` for PostgreSQL, whose row locks let writers run together.
    write_gate: Option<Arc<Mutex<()>>>,
    /// New messages, committed in groups (see [`group_commit`]). On SQLite the groups share
    /// the write gate; on PostgreSQL they have their own, so that one node's posts share
    /// transactions and fsyncs instead of queueing on the channel's row lock one by one.
    appends: Arc<GroupCommit<MessageDraft, Message>>,
    /// SQLite's WAL checkpoints, off the writers' path (see [`crate::checkpoint`]).
    checkpoints: Option<Arc<Checkpointer>>,
    /// The node's one id generator. A group commit's leader draws the ids of every message in
    /// its group, its own and the waiting callers': owned here, they all come from one clock
    /// and sequence, so ids never repeat within the node.
    ids: Arc<IdGenerator>,
    /// Wakes the event log's readers after a transaction that recorded events commits.
    commits: Arc<CommitSignal>,
}

/// Opening the store failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Migrations failed.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// The pool could not open its first connection.
    #[error("cannot connect to the database: {0}")]
    Pool(#[from] r2d2::Error),
    /// The SQLite checkpoint thread's connection could not be opened.
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] ConnectError),
    /// A thread could not be started.
    #[error("cannot start a thread: {0}")]
    Thread(#[source] std::io::Error),
}

impl DieselStore {
    /// Runs pending migrations, then opens the pool. `ids` is the node's id generator: new
    /// messages and notifications take their ids from it.
    pub fn open(url: &DatabaseUrl, settings: &PoolSettings, ids: Arc<IdGenerator>) -> Result<Self, OpenError> {
        run_migrations(url)?;
        let write_gate = (url.kind() == DatabaseKind::Sqlite).then(|| Arc::new(Mutex::new(())));
        let append_gate = write_gate.clone().unwrap_or_else(|| Arc::new(Mutex::new(())));
        let checkpoints = match (url.sqlite_path(), &write_gate) {
            (Some(path), Some(gate)) => Some(Arc::new(Checkpointer::start(path, gate)?)),
            _ => None,
        };
        let pool = build_pool(url, settings, checkpoints.is_some())?;
        Ok(Self {
            pool,
            kind: url.kind(),
            write_gate,
            appends: Arc::new(GroupCommit::new(append_gate)),
            checkpoints,
            ids,
            commits: Arc::default(),
        })
    }

    /// Which engine this store talks to.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<crate::conn::ConnectionManager>, StoreError> {
        self.pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Runs `f` in a read-write transaction: `BEGIN IMMEDIATE` on SQLite, so the write lock is
    /// taken up front and a read-then-write never fails with `SQLITE_BUSY` (standards-notes §3).
    fn write<T>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // A panic while holding the gate leaves no state behind it: recover the guard.
        let _turn = self.write_gate.as_ref().map(|gate| gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        self.write_holding_gate(f)
    }

    /// [`Self::write`] for a caller that holds the write gate already (a group commit leader).
    fn write_holding_gate<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        events::take_recorded();
        let result = write_transaction(&mut conn, f);
        if let (Ok(_), Some(checkpoints)) = (&result, &self.checkpoints) {
            checkpoints.committed();
        }
        if events::take_recorded() && result.is_ok() {
            self.commits.notify();
        }
        noting_lost(&mut conn, result)
    }

    /// Runs `f` on a pooled connection without a transaction.
    fn read<T>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let result = f(&mut conn);
        noting_lost(&mut conn, result)
    }
}

/// Marks the connection for the pool to drop when a query found it closed.
fn noting_lost<T>(conn: &mut ManagedConnection, result: Result<T, StoreError>) -> Result<T, StoreError> {
    if matches!(result, Err(StoreError::Unavailable(_))) {
        conn.mark_lost();
    }
    result
}

fn write_transaction<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // The events the change recorded are its last statements (see `events::flush`).
    events::discard_pending();
    let f = |c: &mut AnyConnection| {
        let value = f(c);
        match value {
            Ok(value) => events::flush(c).map(|()| value),
            Err(e) => {
                events::discard_pending();
                Err(e)
            }
        }
    };
    if let AnyConnection::Sqlite(sqlite) = conn {
        AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE").map_err(map_diesel_error)?;
        let result = f(conn);
        let AnyConnection::Sqlite(sqlite) = conn else {
            return Err(StoreError::Other("connection changed backend inside a transaction".into()));
        };
        return match result {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(sqlite).map_err(map_diesel_error)?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = AnsiTransactionManager::rollback_transaction(sqlite) {
                    tracing::error!(error = %rollback, "rollback failed");
                }
                Err(e)
            }
        };
    }
    conn.transaction(|c| f(c).map_err(TxError::Store)).map_err(|e| match e {
        TxError::Store(e) => e,
        TxError::Diesel(e) => map_diesel_error(e),
    })
}

/// Lets a diesel transaction carry a [`StoreError`] out of its closure.
enum TxError {
    Store(StoreError),
    Diesel(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        Self::Diesel(e)
    }
}

/// The one conversion of diesel errors. SQLite reports no constraint names, so only the kind is
/// used (style-anchors §10, pitfall 5).
pub fn map_diesel_error(e: DieselError) -> StoreError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(info.message().to_owned())
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        other => StoreError::Other(Box::new(other)),
    }
}

/// Shorthand for `.map_err(map_diesel_error)`.
trait DieselResultExt<T> {
    fn store_err(self) -> Result<T, StoreError>;
}

impl<T> DieselResultExt<T> for Result<T, DieselError> {
    fn store_err(self) -> Result<T, StoreError> {
        self.map_err(map_diesel_error)
    }
}

/// A row count from the database as an unsigned count.
pub(crate) fn count_to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
