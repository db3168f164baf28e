//! The event log: events recorded in the transaction of the change they describe, read back by
//! streams and resumes, purged after the retention; and single-use stream tickets.

use std::cell::{Cell, RefCell};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use diesel::prelude::*;
use roost_domain::model::event::{Event, EventDraft, EventResource, EventType, Link, LogHorizon};
use roost_domain::ports::{EventStore, StoreResult};
use roost_domain::{ApplicationId, ChannelId, StoreError, Timestamp, UserId};

use super::{DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::prepared::KeepPreparedLimit;
use crate::rows::utc;
use crate::schema::{channel_members, channels, event_counters, events};

thread_local! {
    /// Set by [`flush`] inside a write transaction; the store wakes the log's readers after it
    /// commits (see [`CommitSignal`]).
    static RECORDED: Cell<bool> = const { Cell::new(false) };
    /// The events the running transaction recorded, written by [`flush`] as its last statements.
    static PENDING: RefCell<Vec<(ApplicationId, EventDraft, Timestamp)>> = const { RefCell::new(Vec::new()) };
}

/// Forgets what a transaction that did not commit had recorded.
pub(super) fn discard_pending() {
    PENDING.with(|p| p.borrow_mut().clear());
}

/// Takes the "events were recorded" mark of this thread's last transaction.
pub(super) fn take_recorded() -> bool {
    RECORDED.with(|r| r.replace(false))
}

/// Wakes the log's readers when a transaction that recorded events has committed: a counter
/// readers wait on, so a wake between two reads is never lost.
#[derive(Debug, Default)]
pub struct CommitSignal {
    /// Commits counted, and whether a poke is waiting.
    commits: Mutex<(u64, bool)>,
    moved: Condvar,
}

impl CommitSignal {
    /// Counts a commit and wakes every waiter.
    pub fn notify(&self) {
        let mut commits = self.commits.lock().unwrap_or_else(PoisonError::into_inner);
        commits.0 = commits.0.wrapping_add(1);
        self.moved.notify_all();
    }

    /// Wakes the waiters without counting a commit.
    pub fn poke(&self) {
        self.commits.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
        self.moved.notify_all();
    }

    /// Waits until the count moves past `seen`, a poke, or `timeout`; returns the count.
    pub fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let commits = self.commits.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut commits, _) = self
            .moved
            .wait_timeout_while(commits, timeout, |(count, poked)| *count == seen && !*poked)
            .unwrap_or_else(PoisonError::into_inner);
        commits.1 = false;
        commits.0
    }
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = events)]
struct EventRow {
    application_id: i64,
    seq: i64,
    event_type: String,
    channel_id: Option<i64>,
    user_id: Option<i64>,
    resource: String,
    created_at: chrono::NaiveDateTime,
}

impl EventRow {
    fn into_event(self) -> Option<Event> {
        let event_type = EventType::parse(&self.event_type);
        let resource = serde_json::from_str::<EventResource>(&self.resource);
        match (event_type, resource) {
            (Some(event_type), Ok(resource)) => Some(Event {
                application_id: ApplicationId(self.application_id),
                seq: self.seq,
                time: utc(self.created_at),
                draft: EventDraft {
                    event_type,
                    channel_id: self.channel_id.map(ChannelId),
                    user_id: self.user_id.map(UserId),
                    resource,
                },
            }),
            // Written by another version of Roost (see `EventResource`): skipped, not misread.
            (_, resource) => {
                tracing::warn!(
                    application = self.application_id,
                    seq = self.seq,
                    event_type = %self.event_type,
                    error = ?resource.err(),
                    "skipping an event this version cannot read"
                );
                None
            }
        }
    }
}

/// Records `drafts` in the caller's transaction. They are written by [`flush`], the
/// transaction's last statements, so the counter row is locked last and briefly: no row lock is
/// ever taken while holding it (a lock taken after it could close a cycle with a writer holding
/// that row and waiting for the counter).
pub(crate) fn record(
    _conn: &mut AnyConnection,
    application_id: ApplicationId,
    drafts: &[EventDraft],
    now: Timestamp,
) -> StoreResult<()> {
    PENDING.with(|p| p.borrow_mut().extend(drafts.iter().map(|d| (application_id, d.clone(), now))));
    Ok(())
}

/// Writes the events the transaction recorded, per application in ascending order (two
/// transactions never wait on each other's counters in a cycle).
pub(super) fn flush(conn: &mut AnyConnection) -> StoreResult<()> {
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let mut by_application: std::collections::BTreeMap<i64, Vec<(EventDraft, Timestamp)>> = Default::default();
    for (application_id, draft, now) in pending {
        by_application.entry(application_id.0).or_default().push((draft, now));
    }
    for (application_id, events) in by_application {
        let now = events.first().map_or_else(roost_domain::now, |(_, at)| *at);
        let drafts: Vec<EventDraft> = events.into_iter().map(|(draft, _)| draft).collect();
        write_events(conn, ApplicationId(application_id), &drafts, now)?;
    }
    Ok(())
}

/// Numbers `drafts` after the application's newest event and inserts them. Taking the numbers
/// locks the application's counter row until the transaction ends, so events become visible in
/// number order and a reader never skips one still being written.
fn write_events(
    conn: &mut AnyConnection,
    application_id: ApplicationId,
    drafts: &[EventDraft],
    now: Timestamp,
) -> StoreResult<()> {
    if drafts.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(drafts.len()).map_err(|e| StoreError::Other(Box::new(e)))?;
    let last: i64 = on_engine!(conn, |c| diesel::insert_into(event_counters::table)
        .values((
            event_counters::application_id.eq(application_id.0),
            event_counters::last_seq.eq(n),
            event_counters::purged_through.eq(0),
        ))
        .on_conflict(event_counters::application_id)
        .do_update()
        .set(event_counters::last_seq.eq(event_counters::last_seq + n))
        .returning(event_counters::last_seq)
        .get_result(c)
        .store_err()?);
    let first = last - n + 1;
    let created_at = now.naive_utc();
    let rows = drafts
        .iter()
        .zip(first..)
        .map(|(draft, seq)| {
            Ok(EventRow {
                application_id: application_id.0,
                seq,
                event_type: draft.event_type.as_str().to_owned(),
                channel_id: draft.channel_id.map(|c| c.0),
                user_id: draft.user_id.map(|u| u.0),
                resource: serde_json::to_string(&draft.resource).map_err(|e| StoreError::Other(Box::new(e)))?,
                created_at,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    match conn {
        AnyConnection::Postgresql(pg) => {
            for chunk in rows.chunks(1_000) {
                diesel::insert_into(events::table).values(chunk).execute(pg).store_err()?;
            }
        }
        AnyConnection::Sqlite(sqlite) => {
            for row in &rows {
                diesel::insert_into(events::table).values(row).execute(sqlite).store_err()?;
            }
        }
    }
    RECORDED.with(|r| r.set(true));
    Ok(())
}

/// Records a link's event in the caller's transaction, in the application of its channel
/// (nothing when the channel is gone).
pub(crate) fn record_link(conn: &mut AnyConnection, event_type: EventType, link: Link) -> StoreResult<()> {
    let application_id: Option<i64> = channels::table
        .filter(channels::id.eq(link.channel_id.0))
        .select(channels::application_id)
        .get_result(conn)
        .optional()
        .store_err()?;
    match application_id {
        Some(app) => {
            let time = link.time;
            record(conn, ApplicationId(app), &[EventDraft::link(event_type, link)], time)
        }
        None => Ok(()),
    }
}

/// Events read per call of [`EventStore::events_after`] at most: a page's worth, so the statement
/// stays prepared (see [`KeepPreparedLimit`]).
const MAX_READ: u32 = 100;

impl EventStore for DieselStore {
    fn events_after(&self, application_id: ApplicationId, after: i64, limit: u32) -> StoreResult<Vec<Event>> {
        let limit = i64::from(limit.clamp(1, MAX_READ));
        self.read(|conn| {
            let mut found = Vec::new();
            let mut cursor = after;
            // Rows this version cannot read are skipped without shortening the page: a short
            // page means the end of the log to every reader.
            loop {
                let rows: Vec<EventRow> = events::table
                    .filter(events::application_id.eq(application_id.0))
                    .filter(events::seq.gt(cursor))
                    .order(events::seq.asc())
                    .select(EventRow::as_select())
                    .limit_prepared(limit)
                    .load(conn)
                    .store_err()?;
                let scanned = rows.len();
                for row in rows {
                    cursor = row.seq;
                    found.extend(row.into_event());
                }
                if usize::try_from(limit).is_ok_and(|l| scanned < l || found.len() >= l) {
                    return Ok(found);
                }
            }
        })
    }

    fn log_horizon(&self, application_id: ApplicationId) -> StoreResult<LogHorizon> {
        self.read(|conn| {
            let row: Option<(i64, i64)> = event_counters::table
                .filter(event_counters::application_id.eq(application_id.0))
                .select((event_counters::last_seq, event_counters::purged_through))
                .get_result(conn)
                .optional()
                .store_err()?;
            Ok(row
                .map_or_else(LogHorizon::default, |(last_seq, purged_through)| LogHorizon { last_seq, purged_through }))
        })
    }

    fn purge_events(&self, before: Timestamp) -> StoreResult<u64> {
        let before = before.naive_utc();
        // Each application's newest event past the retention, in application order.
        let purgeable: Vec<(i64, Option<i64>)> = self.read(|conn| {
            events::table
                .filter(events::created_at.lt(before))
                .group_by(events::application_id)
                .select((events::application_id, diesel::dsl::max(events::seq)))
                .order(events::application_id.asc())
                .load(conn)
                .store_err()
        })?;
        let mut deleted = 0;
        // One short transaction per application: writers wait for its counter only that long.
        for (application_id, through) in purgeable {
            let Some(through) = through else { continue };
            deleted += self.write(|conn| {
                let gone = diesel::delete(
                    events::table.filter(events::application_id.eq(application_id)).filter(events::seq.le(through)),
                )
                .execute(conn)
                .store_err()?;
                // A resume point at or below it has lost events.
                diesel::update(event_counters::table.filter(event_counters::application_id.eq(application_id)))
                    .set(event_counters::purged_through.eq(through))
                    .execute(conn)
                    .store_err()?;
                Ok(gone)
            })?;
        }
        Ok(super::count_to_u64(i64::try_from(deleted).unwrap_or(i64::MAX)))
    }

    fn member_channel_ids(&self, user_id: UserId) -> StoreResult<Vec<ChannelId>> {
        self.read(|conn| {
            let ids: Vec<i64> = channel_members::table
                .filter(channel_members::user_id.eq(user_id.0))
                .select(channel_members::channel_id)
                .load(conn)
                .store_err()?;
            Ok(ids.into_iter().map(ChannelId).collect())
        })
    }

    fn wait_for_events(&self, seen: u64, timeout: Duration) -> u64 {
        self.commits.wait(seen, timeout)
    }

    fn poke_readers(&self) {
        self.commits.poke();
    }
}
