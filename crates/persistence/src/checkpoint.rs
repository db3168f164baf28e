//! SQLite's WAL checkpoints, run by a thread of their own instead of by a committing writer.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past 1 000 pages: that
//! writer copies the pages back into the database file and syncs both files while Roost's
//! write gate stays held, so every other writer waits behind it (issue 4: at 64 connections
//! about 30 % of the CPU sat idle during posts, and each checkpoint showed in the p99).
//!
//! Here the pool's connections never checkpoint (`wal_autocheckpoint = 0`). This thread copies
//! the WAL back while writers go on, then, once the WAL is long, takes the write gate just to
//! copy the few pages written meanwhile: a WAL wholly copied back is started again from its
//! beginning by the next writer (<https://sqlite.org/wal.html#avoiding_excessively_large_wal_files>),
//! which a checkpoint racing a steady stream of commits would never achieve. Readers are never
//! blocked; a reader still on an old snapshot only holds the copy back until its next round.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl, SqliteConnection};

use crate::conn::connect_sqlite;
use crate::store::OpenError;

/// Commits between two rounds: ~12 pages each for a post, so about SQLite's own 1 000-page
/// period under a steady stream of posts.
const COMMITS_PER_ROUND: u64 = 64;
/// A WAL this long (pages) is finished under the write gate so that it starts again: SQLite's
/// default `wal_autocheckpoint`.
const RESTART_PAGES: i64 = 1000;
/// A round also runs this often while commits are few, so that a quiet database's WAL is
/// copied back too.
const QUIET_ROUND: Duration = Duration::from_secs(1);

/// The handle a store keeps: it tells the thread of commits; dropping it ends the thread.
pub(crate) struct Checkpointer {
    wake: SyncSender<()>,
    commits: AtomicU64,
}

impl Checkpointer {
    /// Opens the thread's own connection to the database at `path` and starts the thread;
    /// `gate` is the write gate every writer of this database holds.
    pub(crate) fn start(path: &str, gate: &Arc<Mutex<()>>) -> Result<Self, OpenError> {
        let mut conn = connect_sqlite(path)?;
        let (wake, woken) = mpsc::sync_channel(1);
        let gate = Arc::downgrade(gate);
        std::thread::Builder::new()
            .name("roost-checkpoint".into())
            .spawn(move || run(&mut conn, &gate, &woken))
            .map_err(OpenError::Thread)?;
        Ok(Self { wake, commits: AtomicU64::new(0) })
    }

    /// Called after each commit; every [`COMMITS_PER_ROUND`]th wakes the thread.
    pub(crate) fn committed(&self) {
        if (self.commits.fetch_add(1, Ordering::Relaxed) + 1) % COMMITS_PER_ROUND == 0 {
            // Full means a round is due already.
            let _ = self.wake.try_send(());
        }
    }
}

fn run(conn: &mut SqliteConnection, gate: &Weak<Mutex<()>>, woken: &Receiver<()>) {
    loop {
        match woken.recv_timeout(QUIET_ROUND) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return, // the store is gone
        }
        let Some(gate) = gate.upgrade() else { return };
        if let Err(e) = round(conn, &gate) {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next round tries again");
        }
    }
}

/// What `PRAGMA wal_checkpoint` answers (<https://sqlite.org/pragma.html#pragma_wal_checkpoint>).
#[derive(QueryableByName, Debug)]
struct CheckpointResult {
    /// 1 if a checkpoint that waits for others was kept from completing.
    #[diesel(sql_type = BigInt)]
    busy: i64,
    /// Pages in the WAL.
    #[diesel(sql_type = BigInt)]
    log: i64,
    /// Pages of the WAL copied back into the database file.
    #[diesel(sql_type = BigInt)]
    checkpointed: i64,
}

/// A PASSIVE checkpoint copies back what no reader still needs and never waits for anyone.
fn passive_checkpoint(conn: &mut SqliteConnection) -> diesel::QueryResult<CheckpointResult> {
    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(conn)
}

/// One round: copy back beside the writers, then finish a long WAL under the gate.
fn round(conn: &mut SqliteConnection, gate: &Mutex<()>) -> diesel::QueryResult<()> {
    let beside_writers = passive_checkpoint(conn)?;
    if beside_writers.log >= RESTART_PAGES {
        // A panic elsewhere while holding the gate leaves nothing half-done here.
        let _turn = gate.lock().unwrap_or_else(PoisonError::into_inner);
        let finished = passive_checkpoint(conn)?;
        tracing::debug!(
            copied_beside_writers = beside_writers.checkpointed,
            copied_under_gate = finished.checkpointed - beside_writers.checkpointed,
            busy = finished.busy,
            "WAL checkpointed"
        );
    }
    Ok(())
}
