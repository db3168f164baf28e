//! The message port: messages and threads here; new messages, listings, reactions and read
//! marks in the submodules.

/// Rows per multi-row INSERT on PostgreSQL: well under its 65 535 parameters for any row here.
pub(super) const INSERT_CHUNK_ROWS: usize = 1_000;

/// Multi-row INSERTs of up to this many rows are kept prepared (one statement per row count
/// per connection): a group commit holds at most one message per storage thread.
pub(super) const PREPARED_INSERT_ROWS: usize = 32;

/// Inserts rows: on PostgreSQL in multi-row statements of up to [`INSERT_CHUNK_ROWS`] (one
/// round trip per chunk, whatever the group's size); on SQLite, where diesel's multi-backend
/// connection cannot batch rows, one cached statement per row, in process.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $id:expr, $rows:expr) => {
        match $conn {
            AnyConnection::Postgresql(pg) => {
                // PostgreSQL takes at most 65 535 parameters per statement (a notification row
                // has 12): a channel of thousands of members needs several statements.
                for chunk in $rows.chunks(INSERT_CHUNK_ROWS) {
                    let insert = diesel::insert_into($table).values(chunk);
                    // The text differs by row count: groups of a few rows, the usual case, stay
                    // prepared; rarer big ones are prepared once, not to fill the cache. Run as
                    // a query (`RETURNING` the ids): `PgConnection` asks an executed statement
                    // itself, not the wrapper, whether it may be cached.
                    if chunk.len() <= PREPARED_INSERT_ROWS {
                        KeepPrepared(insert.returning($id)).load::<i64>(pg).store_err()?;
                    } else {
                        insert.execute(pg).store_err()?;
                    }
                }
            }
            AnyConnection::Sqlite(sqlite) => {
                for row in &$rows {
                    diesel::insert_into($table).values(row).execute(sqlite).store_err()?;
                }
            }
        }
    };
}

mod append;
mod import;
mod listing;
mod marks;

use diesel::prelude::*;
use roost_domain::model::channel::Channel;
use roost_domain::model::cursor::{CursorPage, CursorRequest};
use roost_domain::model::event::{EventDraft, EventType};
use roost_domain::model::message::{
    Message, MessageDraft, MessageFilter, MessageScope, ReactionSummary, ReadReceipt, Thread, ThreadType, UnreadSummary,
};
use roost_domain::model::page::{Page, PageRequest};
use roost_domain::model::user::UserSort;
use roost_domain::ports::{MessageStore, StoreResult};
use roost_domain::{ApplicationId, MessageId, StoreError, ThreadId, Timestamp, UserId};

use super::events::record;
use super::files::{mark_removed, message_files};
use super::{DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::rows::{ChannelRow, MessageRow, ThreadRow};
use crate::schema::{channels, messages, notifications, reactions, read_marks, threads};

type Db = <AnyConnection as Connection>::Backend;

pub(super) fn to_messages(rows: Vec<MessageRow>) -> StoreResult<Vec<Message>> {
    rows.into_iter().map(Message::try_from).collect()
}

/// The message and every reply below it, recursively.
fn message_tree(conn: &mut AnyConnection, root: MessageId) -> StoreResult<Vec<i64>> {
    let mut all = vec![root.0];
    let mut frontier = vec![root.0];
    while !frontier.is_empty() {
        let children: Vec<i64> = messages::table
            .filter(messages::parent_id.eq_any(&frontier))
            .select(messages::id)
            .load(conn)
            .store_err()?;
        all.extend(&children);
        frontier = children;
    }
    Ok(all)
}

impl MessageStore for DieselStore {
    fn append_message(&self, draft: MessageDraft) -> StoreResult<Message> {
        append::append_message(self, draft)
    }

    fn imported_keys(&self, application_id: ApplicationId, keys: &[String]) -> StoreResult<Vec<(String, MessageId)>> {
        self.read(|conn| import::imported_keys(conn, application_id, keys))
    }

    fn refresh_import_statistics(&self) -> StoreResult<()> {
        self.read(|conn| match conn {
            AnyConnection::Postgresql(pg) => {
                diesel::sql_query("ANALYZE messages, import_keys, import_deferred, threads").execute(pg).store_err()?;
                Ok(())
            }
            AnyConnection::Sqlite(_) => Ok(()),
        })
    }

    fn import_messages(&self, batch: &[roost_domain::model::job::ImportedMessage]) -> StoreResult<Vec<MessageId>> {
        let ids = &*self.ids;
        // Two nodes importing at once may pick the same free slot: the second transaction to
        // commit fails on the key and looks again (what the first took is then in the store).
        let mut tries = 0;
        loop {
            match self.write(|conn| import::import_messages(conn, ids, batch)) {
                Err(StoreError::Conflict(_)) if tries < 3 => tries += 1,
                done => return done,
            }
        }
    }

    fn find_message(&self, application_id: ApplicationId, id: MessageId) -> StoreResult<Option<Message>> {
        self.read(|conn| {
            messages::table
                .filter(messages::application_id.eq(application_id.0))
                .filter(messages::id.eq(id.0))
                .select(MessageRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?
                .map(Message::try_from)
                .transpose()
        })
    }

    fn messages_by_ids(&self, application_id: ApplicationId, ids: &[MessageId]) -> StoreResult<Vec<Message>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|m| m.0).collect();
        self.read(|conn| {
            to_messages(
                messages::table
                    .filter(messages::application_id.eq(application_id.0))
                    .filter(messages::id.eq_any(&ids))
                    .select(MessageRow::as_select())
                    .load(conn)
                    .store_err()?,
            )
        })
    }

    fn find_thread(&self, application_id: ApplicationId, id: ThreadId) -> StoreResult<Option<Thread>> {
        self.read(|conn| {
            threads::table
                .filter(threads::application_id.eq(application_id.0))
                .filter(threads::id.eq(id.0))
                .select(ThreadRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?
                .map(Thread::try_from)
                .transpose()
        })
    }

    fn message_thread(&self, parent: &Message, new_id: ThreadId, now: Timestamp) -> StoreResult<Thread> {
        self.write(|conn| {
            let existing = threads::table
                .filter(threads::parent_message_id.eq(parent.id.0))
                .select(ThreadRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?;
            if let Some(row) = existing {
                return Thread::try_from(row);
            }
            let thread = Thread {
                id: new_id,
                application_id: parent.application_id,
                channel_id: parent.channel_id,
                thread_type: ThreadType::Message,
                parent_message_id: Some(parent.id),
                created_time: now,
            };
            diesel::insert_into(threads::table).values(ThreadRow::from(&thread)).execute(conn).store_err()?;
            Ok(thread)
        })
        .or_else(|e| match e {
            // A concurrent first reply created the thread: use it.
            StoreError::Conflict(_) => self.read(|conn| {
                threads::table
                    .filter(threads::parent_message_id.eq(parent.id.0))
                    .select(ThreadRow::as_select())
                    .get_result(conn)
                    .store_err()
                    .and_then(Thread::try_from)
            }),
            other => Err(other),
        })
    }

    fn list_messages(
        &self,
        application_id: ApplicationId,
        scope: &MessageScope,
        filter: &MessageFilter,
        request: &CursorRequest,
    ) -> StoreResult<CursorPage<Message>> {
        self.read(|conn| listing::messages_page(conn, application_id, scope, filter, request))
    }

    fn list_messages_numbered(
        &self,
        application_id: ApplicationId,
        scope: &MessageScope,
        filter: &MessageFilter,
        number: u32,
        size: u32,
    ) -> StoreResult<Page<Message>> {
        self.read(|conn| listing::numbered_page(conn, application_id, scope, filter, number, size))
    }

    fn update_message(&self, message: &Message) -> StoreResult<()> {
        self.write(|conn| update_message_row(conn, message))
    }

    fn update_messages(&self, messages: &[Message]) -> StoreResult<()> {
        self.write(|conn| messages.iter().try_for_each(|message| update_message_row(conn, message)))
    }

    fn delete_message(&self, message: &Message, same_revision: bool) -> StoreResult<bool> {
        self.write(|conn| delete_message_rows(conn, message, same_revision.then_some(message.version)))
    }

    fn delete_messages(&self, application_id: ApplicationId, ids: &[MessageId]) -> StoreResult<Option<MessageId>> {
        let wanted: Vec<i64> = ids.iter().map(|id| id.0).collect();
        self.write(|conn| {
            let found = to_messages(
                messages::table
                    .filter(messages::application_id.eq(application_id.0))
                    .filter(messages::id.eq_any(&wanted))
                    .select(MessageRow::as_select())
                    .load(conn)
                    .store_err()?,
            )?;
            if let Some(missing) = ids.iter().find(|id| !found.iter().any(|m| m.id == **id)) {
                return Ok(Some(*missing));
            }
            // One of them may be a reply of another, gone with it already: each delete checks.
            for message in &found {
                delete_message_rows(conn, message, None)?;
            }
            Ok(None)
        })
    }

    fn delete_all_messages(&self, application_id: ApplicationId) -> StoreResult<u64> {
        let app = application_id.0;
        self.write(|conn| {
            diesel::delete(notifications::table.filter(notifications::application_id.eq(app)))
                .execute(conn)
                .store_err()?;
            diesel::delete(reactions::table.filter(reactions::application_id.eq(app))).execute(conn).store_err()?;
            diesel::delete(read_marks::table.filter(read_marks::application_id.eq(app))).execute(conn).store_err()?;
            let files: Vec<(Option<String>, i64, Option<i64>)> = messages::table
                .filter(messages::application_id.eq(app))
                .filter(messages::file_key.is_not_null())
                .select((messages::file_key, messages::channel_id, messages::user_id))
                .load(conn)
                .store_err()?;
            mark_removed(conn, message_files(files))?;
            let deleted =
                diesel::delete(messages::table.filter(messages::application_id.eq(app))).execute(conn).store_err()?;
            diesel::delete(
                threads::table.filter(threads::application_id.eq(app)).filter(threads::thread_type.eq("MESSAGE")),
            )
            .execute(conn)
            .store_err()?;
            // Each channel that had messages changes (no last message, a count of 0): one
            // `channel.updated` each, rather than a `message.deleted` per message, which would
            // hold a whole application's messages in this transaction.
            let emptied = || {
                channels::table
                    .filter(channels::application_id.eq(app))
                    .filter(channels::last_message_id.is_not_null().or(channels::message_count.ne(0)))
            };
            // Read before the update (by its filter, never by a list of ids: an application may
            // have more channels than SQLite binds in one statement), then changed as it does.
            let changed: Vec<ChannelRow> = emptied().select(ChannelRow::as_select()).load(conn).store_err()?;
            diesel::update(emptied())
                .set((channels::last_message_id.eq(None::<i64>), channels::message_count.eq(0)))
                .execute(conn)
                .store_err()?;
            let events = changed
                .into_iter()
                .map(|row| {
                    let channel = Channel::try_from(ChannelRow { last_message_id: None, ..row })?;
                    Ok(EventDraft::channel(EventType::ChannelUpdated, &channel))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            record(conn, application_id, &events, roost_domain::now())?;
            Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
        })
    }

    fn add_reaction(&self, message: &Message, emoji: &str, user_id: UserId, now: Timestamp) -> StoreResult<()> {
        marks::add_reaction(self, message, emoji, user_id, now)
    }

    fn remove_reaction(&self, message_id: MessageId, emoji: &str, user_id: UserId) -> StoreResult<bool> {
        marks::remove_reaction(self, message_id, emoji, user_id)
    }

    fn reactions(&self, message_ids: &[MessageId]) -> StoreResult<Vec<(MessageId, ReactionSummary)>> {
        marks::reactions(self, message_ids)
    }

    fn mark_read(&self, message: &Message, user_id: UserId, now: Timestamp) -> StoreResult<Timestamp> {
        marks::mark_read(self, message, user_id, now)
    }

    fn read_receipts(&self, message: &Message, page: &PageRequest<UserSort>) -> StoreResult<Page<ReadReceipt>> {
        marks::read_receipts(self, message, page)
    }

    fn count_messages(
        &self,
        application_id: ApplicationId,
        scope: &MessageScope,
        filter: &MessageFilter,
    ) -> StoreResult<u64> {
        self.read(|conn| listing::count_messages(conn, application_id, scope, filter))
    }

    fn unread_summaries(
        &self,
        application_id: ApplicationId,
        number: u32,
        size: u32,
    ) -> StoreResult<Page<UnreadSummary>> {
        self.read(|conn| marks::unread_summaries(conn, application_id, number, size))
    }

    fn users_with_unread(&self, application_id: ApplicationId) -> StoreResult<Vec<UserId>> {
        self.read(|conn| marks::users_with_unread(conn, application_id))
    }
}

/// Optimistic concurrency, as for users: an edit made from a stale read matches no row.
fn update_message_row(conn: &mut AnyConnection, message: &Message) -> StoreResult<()> {
    let row = MessageRow::from(message);
    let updated =
        diesel::update(messages::table.filter(messages::id.eq(row.id)).filter(messages::version.eq(row.version - 1)))
            .set((
                messages::body.eq(&row.body),
                messages::mentions.eq(&row.mentions),
                messages::links.eq(&row.links),
                messages::properties.eq(&row.properties),
                messages::last_edited_at.eq(row.last_edited_at),
                messages::version.eq(row.version),
                messages::updated_at.eq(row.updated_at),
            ))
            .execute(conn)
            .store_err()?;
    if updated == 0 {
        return Err(StoreError::Conflict(format!("message {} changed while being updated", message.id)));
    }
    let at = message.updated_time.unwrap_or_else(roost_domain::now);
    record(conn, message.application_id, &[EventDraft::message(EventType::MessageUpdated, message)], at)
}

/// Deletes a message and its replies inside the caller's transaction, keeping its parent's reply
/// count and its channel's newest message right.
/// `false` when the message is gone already, or (with `revision`) no longer at that version.
fn delete_message_rows(conn: &mut AnyConnection, message: &Message, revision: Option<i64>) -> StoreResult<bool> {
    // Lock the channel as posts do, so the newest id computed below cannot be overtaken.
    diesel::update(channels::table.filter(channels::id.eq(message.channel_id.0)))
        .set(channels::last_message_id.eq(channels::last_message_id))
        .execute(conn)
        .store_err()?;
    // A concurrent delete may have taken it already: then nothing more to do or count. The
    // check is an update, so on PostgreSQL it locks the row against a concurrent edit.
    let mut claim = diesel::update(messages::table.filter(messages::id.eq(message.id.0))).into_boxed();
    if let Some(version) = revision {
        claim = claim.filter(messages::version.eq(version));
    }
    let still_there = claim.set(messages::version.eq(messages::version)).execute(conn).store_err()?;
    if still_there == 0 {
        return Ok(false);
    }
    let ids = message_tree(conn, message.id)?;
    // Their last states, replies first, for `message.deleted`.
    let mut gone = to_messages(
        messages::table.filter(messages::id.eq_any(&ids)).select(MessageRow::as_select()).load(conn).store_err()?,
    )?;
    gone.sort_by_key(|m| std::cmp::Reverse(m.nested_level));
    let events: Vec<EventDraft> = gone.iter().map(|m| EventDraft::message(EventType::MessageDeleted, m)).collect();
    record(conn, message.application_id, &events, roost_domain::now())?;
    let files: Vec<(Option<String>, i64, Option<i64>)> = messages::table
        .filter(messages::id.eq_any(&ids))
        .filter(messages::file_key.is_not_null())
        .select((messages::file_key, messages::channel_id, messages::user_id))
        .load(conn)
        .store_err()?;
    mark_removed(conn, message_files(files))?;
    diesel::delete(notifications::table.filter(notifications::message_id.eq_any(&ids))).execute(conn).store_err()?;
    diesel::delete(reactions::table.filter(reactions::message_id.eq_any(&ids))).execute(conn).store_err()?;
    diesel::delete(messages::table.filter(messages::id.eq_any(&ids))).execute(conn).store_err()?;
    diesel::delete(threads::table.filter(threads::parent_message_id.eq_any(&ids))).execute(conn).store_err()?;
    if let Some(parent) = message.parent_id {
        diesel::update(messages::table.filter(messages::id.eq(parent.0)))
            .set((
                messages::replies_count.eq(messages::replies_count - 1),
                // Its representation shows the count: `Last-Modified` moves with it.
                messages::updated_at.eq(Some(chrono::Utc::now().naive_utc())),
            ))
            .execute(conn)
            .store_err()?;
    }
    let newest: Option<i64> = messages::table
        .filter(messages::channel_id.eq(message.channel_id.0))
        .select(diesel::dsl::max(messages::id))
        .get_result(conn)
        .store_err()?;
    // A top-level message leaves its channel's count (replies leave their parent's).
    let top_level = i64::from(message.parent_id.is_none());
    diesel::update(channels::table.filter(channels::id.eq(message.channel_id.0)))
        .set((
            channels::last_message_id.eq(newest),
            channels::message_count.eq(channels::message_count - top_level),
            // Its `lastReceivedMessage` may have changed to an older one: `Last-Modified` moves.
            channels::updated_at.eq(Some(chrono::Utc::now().naive_utc())),
        ))
        .execute(conn)
        .store_err()?;
    Ok(true)
}
