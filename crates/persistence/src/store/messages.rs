use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use roost_domain::cursor::{CursorPage, CursorRequest, KeyRange};
use roost_domain::message::{
    Message, MessageDraft, MessageFilter, MessageScope, ReactionSummary, ReadReceipt, Thread, ThreadType,
};
use roost_domain::notification::{Notification, NotificationKind};
use roost_domain::page::{Page, PageRequest, MAX_PAGE_SIZE};
use roost_domain::store::{MessageStore, NotificationStore, StoreResult};
use roost_domain::user::{User, UserSort};
use roost_domain::{ApplicationId, IdGenerator, MessageId, StoreError, ThreadId, Timestamp, UserId};

use super::cursor::{cursor_page, within_key_range, EmptyPage};
use super::sort::sorted;
use super::{count_to_u64, DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::prepared::{KeepPrepared, KeepPreparedLimit};
use crate::rows::{MessageRow, NotificationRow, ThreadRow, UserRow};
use crate::schema::{channel_members, channels, messages, notifications, reactions, read_marks, threads, users};

type Db = <AnyConnection as Connection>::Backend;

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both engines (ASCII case folding).
    fn lower(x: Nullable<Text>) -> Nullable<Text>;
}

fn to_messages(rows: Vec<MessageRow>) -> StoreResult<Vec<Message>> {
    rows.into_iter().map(Message::try_from).collect()
}

/// `LIKE` pattern matching `needle` anywhere, with `\` escaping the wildcards.
fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::from("%");
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

type Condition = Box<dyn BoxableExpression<messages::table, Db, SqlType = Nullable<Bool>>>;
type Scoped = messages::BoxedQuery<'static, Db>;

/// The column leading the `(column, id)` index a scope's pages are read from, when the query
/// names it in its ordering (PostgreSQL only, see [`scoped`]).
#[derive(Clone, Copy)]
enum Leading {
    Thread,
    Application,
    Sender,
    /// Ordered by `id` alone.
    Id,
}

/// Orders a scope's messages newest first, along the scope's index.
fn newest_first(query: Scoped, leading: Leading) -> Scoped {
    match leading {
        Leading::Thread => query.order((messages::thread_id.desc(), messages::id.desc())),
        Leading::Application => query.order((messages::application_id.desc(), messages::id.desc())),
        Leading::Sender => query.order((messages::user_id.desc(), messages::id.desc())),
        Leading::Id => query.order(messages::id.desc()),
    }
}

/// Orders a scope's messages oldest first, along the scope's index.
fn oldest_first(query: Scoped, leading: Leading) -> Scoped {
    match leading {
        Leading::Thread => query.order((messages::thread_id.asc(), messages::id.asc())),
        Leading::Application => query.order((messages::application_id.asc(), messages::id.asc())),
        Leading::Sender => query.order((messages::user_id.asc(), messages::id.asc())),
        Leading::Id => query.order(messages::id.asc()),
    }
}

/// A scope's messages, without ordering or key range.
struct ScopeQuery {
    query: Scoped,
    /// The ordering to page them by.
    leading: Leading,
    /// Whether the statement's SQL text takes a bounded set of forms, so that connections may
    /// keep it prepared.
    keep_prepared: bool,
}

/// An unread scope's SQL has one condition per channel of the user: kept prepared up to this
/// many channels (one statement per count and page size), planned afresh beyond.
const UNREAD_CHANNELS_KEPT_PREPARED: usize = 16;

/// The messages of a scope, without ordering or key range, and the ordering to page them by.
fn scoped(
    conn: &mut AnyConnection,
    application_id: ApplicationId,
    scope: &MessageScope,
    filter: &MessageFilter,
) -> StoreResult<Option<ScopeQuery>> {
    // Each scope filters on the leading column of its own `(…, id)` index. Threads, senders and
    // channels already belong to the application (the use case checked them), so only the
    // whole-application scope filters on `application_id`: adding it elsewhere lets the
    // planner pick the application index and scan other channels' messages.
    //
    // On PostgreSQL the scope's column is matched with `= ANY(array)` and named in the
    // ordering. With a plain `=`, the planner drops the column from the ordering (it is
    // constant) and, for a channel holding most rows, prefers walking the primary key
    // backwards with a filter: it then reads every newer message of every other channel
    // first (20 000 rows for one page in the cursor benchmark). `= ANY` keeps the column in
    // the ordering, which only the scope's index provides without sorting. SQLite plans the
    // plain `=` well and caches it as a prepared statement (an `IN` list it would not).
    let postgres = matches!(conn, AnyConnection::Postgresql(_));
    let mut query = messages::table.into_boxed();
    let mut leading = Leading::Id;
    let mut keep_prepared = true;
    match scope {
        MessageScope::Thread(thread) if postgres => {
            query = query.filter(messages::thread_id.eq_any(vec![thread.0]));
            leading = Leading::Thread;
        }
        MessageScope::Application if postgres => {
            query = query.filter(messages::application_id.eq_any(vec![application_id.0]));
            leading = Leading::Application;
        }
        MessageScope::SentBy(user) if postgres => {
            query = query.filter(messages::user_id.eq_any(vec![user.0]));
            leading = Leading::Sender;
        }
        MessageScope::Thread(thread) => query = query.filter(messages::thread_id.eq(thread.0)),
        MessageScope::Application => query = query.filter(messages::application_id.eq(application_id.0)),
        MessageScope::SentBy(user) => query = query.filter(messages::user_id.eq(user.0)),
        MessageScope::UnreadBy(user) => {
            let channel_ids: Vec<i64> = channel_members::table
                .filter(channel_members::user_id.eq(user.0))
                .select(channel_members::channel_id)
                .load(conn)
                .store_err()?;
            if channel_ids.is_empty() {
                return Ok(None);
            }
            keep_prepared = channel_ids.len() <= UNREAD_CHANNELS_KEPT_PREPARED;
            let marks: Vec<(i64, i64)> = read_marks::table
                .filter(read_marks::user_id.eq(user.0))
                .select((read_marks::channel_id, read_marks::last_read_message_id))
                .load(conn)
                .store_err()?;
            // One condition per channel: after the user's read mark there (everything if none),
            // OR-ed as a balanced tree so thousands of channels stay within SQLite's expression
            // depth limit (1 000) and the stack.
            let mut conditions: Vec<Condition> = channel_ids
                .into_iter()
                .map(|channel| {
                    let mark = marks.iter().find(|(c, _)| *c == channel).map_or(0, |(_, m)| *m);
                    Box::new(messages::channel_id.eq(channel).and(messages::id.gt(mark)).nullable()) as Condition
                })
                .collect();
            while conditions.len() > 1 {
                let mut paired = Vec::with_capacity(conditions.len().div_ceil(2));
                let mut items = conditions.into_iter();
                while let Some(left) = items.next() {
                    paired.push(match items.next() {
                        Some(right) => Box::new(left.or(right)) as Condition,
                        None => left,
                    });
                }
                conditions = paired;
            }
            if let Some(condition) = conditions.pop() {
                query = query.filter(condition);
            }
            query = query.filter(messages::user_id.is_null().or(messages::user_id.ne(user.0)).nullable());
        }
    }
    if let Some(sender) = filter.sender {
        query = query.filter(messages::user_id.eq(sender.0));
    }
    if let Some(text) = &filter.query {
        query = query.filter(lower(messages::body).like(contains_pattern(text)).escape('\\'));
    }
    Ok(Some(ScopeQuery { query, leading, keep_prepared }))
}

fn messages_page(
    conn: &mut AnyConnection,
    application_id: ApplicationId,
    scope: &MessageScope,
    filter: &MessageFilter,
    request: &CursorRequest,
) -> StoreResult<CursorPage<Message>> {
    let Some(ScopeQuery { query: base, leading, keep_prepared: keep }) = scoped(conn, application_id, scope, filter)?
    else {
        return Ok(CursorPage::from_probe(request, Vec::new(), |m: &Message| m.id.0, false));
    };
    let read = |conn: &mut AnyConnection, range: KeyRange, limit: i64| {
        let (query, newest) = within_key_range!(base, messages::id, range);
        let query = if newest { newest_first(query, leading) } else { oldest_first(query, leading) };
        to_messages(
            query.select(MessageRow::as_select()).limit_prepared(limit).prepared_if(keep).load(conn).store_err()?,
        )
    };
    let newer = |conn: &mut AnyConnection, newest_seen: i64| {
        // Any one newer row answers; unordered, PostgreSQL may answer it with a sequential
        // scan, so the probe follows the scope's index there (`Leading::Id` leaves SQLite's
        // statement as it was).
        let Some(ScopeQuery { query, leading, keep_prepared }) = scoped(conn, application_id, scope, filter)? else {
            return Ok(false);
        };
        let query = query.filter(messages::id.gt(newest_seen));
        let query = match leading {
            Leading::Id => query,
            _ => oldest_first(query, leading),
        };
        Ok(query
            .select(messages::id)
            .limit_prepared(1)
            .prepared_if(keep_prepared)
            .get_result::<i64>(conn)
            .optional()
            .store_err()?
            .is_some())
    };
    cursor_page(conn, request, |m: &Message| m.id.0, EmptyPage::ProbeFromBound, read, newer)
}

fn notification_row(draft: &roost_domain::message::NotificationDraft, message: &Message, id: i64) -> NotificationRow {
    let mentioned_channel_id = match draft.kind {
        NotificationKind::MentionedChannel(c) => Some(c.0),
        _ => None,
    };
    NotificationRow {
        id,
        application_id: message.application_id.0,
        user_id: draft.user_id.0,
        channel_id: message.channel_id.0,
        message_id: message.id.0,
        kind: draft.kind.as_str().to_owned(),
        mentioned_channel_id,
        title: draft.title.clone(),
        body: draft.body.clone(),
        muted: false,
        created_at: message.created_time.naive_utc(),
        read_at: None,
    }
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

/// Rows per multi-row INSERT on PostgreSQL: well under its 65 535 parameters for any row here.
const INSERT_CHUNK_ROWS: usize = 1_000;

/// Multi-row INSERTs of up to this many rows are kept prepared (one statement per row count
/// per connection): a group commit holds at most one message per storage thread.
const PREPARED_INSERT_ROWS: usize = 32;

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

/// Stores `drafts` in the caller's transaction, in order. Each channel is locked once by the
/// update that records its newest message (PostgreSQL's row lock; SQLite holds the database
/// write lock already), which succeeds only if the new ids are above the channel's newest: so
/// one channel's messages are committed in id order and a reader paging by id never misses
/// one, even if this node's clock is behind another's (then the ids are drawn again).
fn append_all(conn: &mut AnyConnection, ids: &IdGenerator, drafts: &[MessageDraft]) -> StoreResult<Vec<Message>> {
    let mut stored: Vec<Message> =
        drafts.iter().map(|draft| Message { id: MessageId(ids.next_id()), ..draft.message.clone() }).collect();
    // Channels are locked in id order, so two nodes' groups never wait on each other in a cycle.
    let mut channel_ids: Vec<i64> = stored.iter().map(|m| m.channel_id.0).collect();
    channel_ids.sort_unstable();
    channel_ids.dedup();
    for channel_id in channel_ids {
        let new_ids = || stored.iter().filter(|m| m.channel_id.0 == channel_id).map(|m| m.id.0);
        let (first, last) = (new_ids().min().unwrap_or_default(), new_ids().max().unwrap_or_default());
        // Lock the channel and record its newest message in one statement, as long as every
        // new id is above the newest stored one: ids come from this node's clock, and another
        // node's may run ahead.
        let claim = KeepPrepared(
            diesel::update(
                channels::table
                    .filter(channels::id.eq(channel_id))
                    .filter(channels::last_message_id.is_null().or(channels::last_message_id.lt(first))),
            )
            .set(channels::last_message_id.eq(last))
            .returning(channels::id),
        );
        let claimed: Option<i64> = on_engine!(&mut *conn, |c| claim.get_result(c).optional()).store_err()?;
        if claimed.is_none() {
            renumber_after_newest(conn, ids, channel_id, &mut stored)?;
        }
    }
    let mut notification_rows = Vec::new();
    for (draft, message) in drafts.iter().zip(&stored) {
        notification_rows.extend(draft.notifications.iter().map(|n| notification_row(n, message, ids.next_id())));
    }
    let message_rows: Vec<MessageRow> = stored.iter().map(MessageRow::from).collect();
    insert_rows!(conn, messages::table, messages::id, message_rows);
    for parent in stored.iter().filter_map(|m| m.parent_id) {
        let counted = KeepPrepared(
            diesel::update(messages::table.filter(messages::id.eq(parent.0)))
                .set(messages::replies_count.eq(messages::replies_count + 1)),
        )
        .execute(conn)
        .store_err()?;
        if counted == 0 {
            // The parent was deleted meanwhile: roll back rather than store an orphan.
            return Err(StoreError::Conflict(format!("message {parent} was deleted while replying to it")));
        }
    }
    insert_rows!(conn, notifications::table, notifications::id, notification_rows);
    Ok(stored)
}

/// The slow path of [`append_all`]: the channel holds a message newer than the ids drawn for
/// it (or is gone). Locks it, reads its newest id, draws new ids above that one (at once, see
/// [`IdGenerator::next_id_above`]) and records the newest.
fn renumber_after_newest(
    conn: &mut AnyConnection,
    ids: &IdGenerator,
    channel_id: i64,
    stored: &mut [Message],
) -> StoreResult<()> {
    let newest: Option<i64> = KeepPrepared(
        diesel::update(channels::table.filter(channels::id.eq(channel_id)))
            .set(channels::last_message_id.eq(channels::last_message_id))
            .returning(channels::last_message_id),
    )
    .get_result(conn)
    .optional()
    .store_err()?
    .ok_or_else(|| StoreError::Other(format!("channel {channel_id} vanished while posting").into()))?;
    let mut last = newest.unwrap_or(i64::MIN);
    for message in stored.iter_mut().filter(|m| m.channel_id.0 == channel_id) {
        if message.id.0 <= last {
            message.id = MessageId(ids.next_id_above(last));
        }
        last = message.id.0;
    }
    KeepPrepared(
        diesel::update(channels::table.filter(channels::id.eq(channel_id))).set(channels::last_message_id.eq(last)),
    )
    .execute(conn)
    .store_err()?;
    Ok(())
}

impl MessageStore for DieselStore {
    fn append_message(&self, draft: MessageDraft) -> StoreResult<Message> {
        let ids = &*self.ids;
        self.appends.submit(draft, |drafts| {
            // One transaction for the group; if any of it fails (a reply whose parent was just
            // deleted, say), each message is tried alone so that only the bad one fails.
            if drafts.len() > 1 {
                if let Ok(messages) = self.write_holding_gate(|conn| append_all(conn, ids, &drafts)) {
                    return messages.into_iter().map(Ok).collect();
                }
            }
            drafts
                .iter()
                .map(|draft| {
                    self.write_holding_gate(|conn| append_all(conn, ids, std::slice::from_ref(draft)))
                        .and_then(|mut one| one.pop().ok_or_else(|| StoreError::Other("no message appended".into())))
                })
                .collect()
        })
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
        self.read(|conn| messages_page(conn, application_id, scope, filter, request))
    }

    fn update_message(&self, message: &Message) -> StoreResult<()> {
        let row = MessageRow::from(message);
        self.write(|conn| {
            diesel::update(messages::table.filter(messages::id.eq(row.id)))
                .set((
                    messages::body.eq(&row.body),
                    messages::mentions.eq(&row.mentions),
                    messages::links.eq(&row.links),
                    messages::properties.eq(&row.properties),
                    messages::last_edited_at.eq(row.last_edited_at),
                ))
                .execute(conn)
                .store_err()?;
            Ok(())
        })
    }

    fn delete_message(&self, message: &Message) -> StoreResult<()> {
        self.write(|conn| {
            // Lock the channel as posts do, so the newest id computed below cannot be overtaken.
            diesel::update(channels::table.filter(channels::id.eq(message.channel_id.0)))
                .set(channels::last_message_id.eq(channels::last_message_id))
                .execute(conn)
                .store_err()?;
            // A concurrent delete may have taken it already: then nothing more to do or count.
            let still_there: i64 =
                messages::table.filter(messages::id.eq(message.id.0)).count().get_result(conn).store_err()?;
            if still_there == 0 {
                return Ok(());
            }
            let ids = message_tree(conn, message.id)?;
            diesel::delete(notifications::table.filter(notifications::message_id.eq_any(&ids)))
                .execute(conn)
                .store_err()?;
            diesel::delete(reactions::table.filter(reactions::message_id.eq_any(&ids))).execute(conn).store_err()?;
            diesel::delete(messages::table.filter(messages::id.eq_any(&ids))).execute(conn).store_err()?;
            diesel::delete(threads::table.filter(threads::parent_message_id.eq_any(&ids))).execute(conn).store_err()?;
            if let Some(parent) = message.parent_id {
                diesel::update(messages::table.filter(messages::id.eq(parent.0)))
                    .set(messages::replies_count.eq(messages::replies_count - 1))
                    .execute(conn)
                    .store_err()?;
            }
            let newest: Option<i64> = messages::table
                .filter(messages::channel_id.eq(message.channel_id.0))
                .select(diesel::dsl::max(messages::id))
                .get_result(conn)
                .store_err()?;
            diesel::update(channels::table.filter(channels::id.eq(message.channel_id.0)))
                .set(channels::last_message_id.eq(newest))
                .execute(conn)
                .store_err()?;
            Ok(())
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
            let deleted =
                diesel::delete(messages::table.filter(messages::application_id.eq(app))).execute(conn).store_err()?;
            diesel::delete(
                threads::table.filter(threads::application_id.eq(app)).filter(threads::thread_type.eq("MESSAGE")),
            )
            .execute(conn)
            .store_err()?;
            diesel::update(channels::table.filter(channels::application_id.eq(app)))
                .set(channels::last_message_id.eq(None::<i64>))
                .execute(conn)
                .store_err()?;
            Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
        })
    }

    fn add_reaction(&self, message: &Message, emoji: &str, user_id: UserId, now: Timestamp) -> StoreResult<()> {
        self.write(|conn| {
            let existing: i64 = reactions::table
                .filter(reactions::message_id.eq(message.id.0))
                .filter(reactions::emoji.eq(emoji))
                .filter(reactions::user_id.eq(user_id.0))
                .count()
                .get_result(conn)
                .store_err()?;
            if existing == 0 {
                diesel::insert_into(reactions::table)
                    .values((
                        reactions::message_id.eq(message.id.0),
                        reactions::emoji.eq(emoji),
                        reactions::user_id.eq(user_id.0),
                        reactions::application_id.eq(message.application_id.0),
                        reactions::created_at.eq(now.naive_utc()),
                    ))
                    .execute(conn)
                    .store_err()?;
            }
            Ok(())
        })
    }

    fn remove_reaction(&self, message_id: MessageId, emoji: &str, user_id: UserId) -> StoreResult<bool> {
        self.write(|conn| {
            let deleted = diesel::delete(
                reactions::table
                    .filter(reactions::message_id.eq(message_id.0))
                    .filter(reactions::emoji.eq(emoji))
                    .filter(reactions::user_id.eq(user_id.0)),
            )
            .execute(conn)
            .store_err()?;
            Ok(deleted > 0)
        })
    }

    fn reactions(&self, message_ids: &[MessageId]) -> StoreResult<Vec<(MessageId, ReactionSummary)>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = message_ids.iter().map(|m| m.0).collect();
        self.read(|conn| {
            macro_rules! reactions_where {
                ($condition:expr) => {
                    reactions::table
                        .inner_join(users::table)
                        .filter($condition)
                        .order((reactions::message_id, reactions::emoji, reactions::created_at, reactions::user_id))
                        .select((reactions::message_id, reactions::emoji, UserRow::as_select()))
                };
            }
            // One message (just posted or read alone) is a fixed statement. diesel prepares an
            // `IN (…)` list afresh on every call on SQLite (8.5 % of Roost's CPU reading
            // uncached pages, issue 4); a page's list has at most `MAX_PAGE_SIZE` ids, so its
            // text takes at most that many forms and is kept prepared.
            let rows: Vec<(i64, String, UserRow)> = match ids.as_slice() {
                [one] => reactions_where!(reactions::message_id.eq(*one)).load(conn),
                _ if ids.len() <= MAX_PAGE_SIZE as usize => {
                    KeepPrepared(reactions_where!(reactions::message_id.eq_any(&ids))).load(conn)
                }
                _ => reactions_where!(reactions::message_id.eq_any(&ids)).load(conn),
            }
            .store_err()?;
            let mut out: Vec<(MessageId, ReactionSummary)> = Vec::new();
            for (message_id, emoji, user) in rows {
                let user = User::try_from(user)?;
                match out.last_mut() {
                    Some((id, summary)) if id.0 == message_id && summary.emoji == emoji => summary.users.push(user),
                    _ => out.push((MessageId(message_id), ReactionSummary { emoji, users: vec![user] })),
                }
            }
            Ok(out)
        })
    }

    fn mark_read(&self, message: &Message, user_id: UserId, now: Timestamp) -> StoreResult<Timestamp> {
        self.write(|conn| {
            let existing: Option<(i64, chrono::NaiveDateTime)> = read_marks::table
                .filter(read_marks::channel_id.eq(message.channel_id.0))
                .filter(read_marks::user_id.eq(user_id.0))
                .select((read_marks::last_read_message_id, read_marks::updated_at))
                .get_result(conn)
                .optional()
                .store_err()?;
            match existing {
                // Already read up to here or further: the mark never moves back.
                Some((mark, at)) if mark >= message.id.0 => Ok(at.and_utc()),
                Some(_) => {
                    diesel::update(
                        read_marks::table
                            .filter(read_marks::channel_id.eq(message.channel_id.0))
                            .filter(read_marks::user_id.eq(user_id.0))
                            .filter(read_marks::last_read_message_id.lt(message.id.0)),
                    )
                    .set((
                        read_marks::last_read_message_id.eq(message.id.0),
                        read_marks::updated_at.eq(now.naive_utc()),
                    ))
                    .execute(conn)
                    .store_err()?;
                    Ok(now)
                }
                None => {
                    diesel::insert_into(read_marks::table)
                        .values((
                            read_marks::channel_id.eq(message.channel_id.0),
                            read_marks::user_id.eq(user_id.0),
                            read_marks::application_id.eq(message.application_id.0),
                            read_marks::last_read_message_id.eq(message.id.0),
                            read_marks::updated_at.eq(now.naive_utc()),
                        ))
                        .execute(conn)
                        .store_err()?;
                    Ok(now)
                }
            }
        })
    }

    fn read_receipts(&self, message: &Message, page: &PageRequest<UserSort>) -> StoreResult<Page<ReadReceipt>> {
        self.read(|conn| {
            let base = || {
                read_marks::table
                    .inner_join(users::table)
                    .filter(read_marks::channel_id.eq(message.channel_id.0))
                    .filter(read_marks::last_read_message_id.ge(message.id.0))
                    .into_boxed::<Db>()
            };
            let total: i64 = base().count().get_result(conn).store_err()?;
            let query = sorted(base(), page);
            let rows: Vec<(chrono::NaiveDateTime, UserRow)> = query
                .select((read_marks::updated_at, UserRow::as_select()))
                .page_prepared(page)
                .load(conn)
                .store_err()?;
            let items = rows
                .into_iter()
                .map(|(at, user)| Ok(ReadReceipt { user: User::try_from(user)?, created_time: at.and_utc() }))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Page { items, number: page.number, size: page.size, total_elements: count_to_u64(total) })
        })
    }
}

impl NotificationStore for DieselStore {
    fn list_notifications(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        request: &CursorRequest,
    ) -> StoreResult<CursorPage<Notification>> {
        self.read(|conn| {
            let base = || {
                notifications::table
                    .filter(notifications::application_id.eq(application_id.0))
                    .filter(notifications::user_id.eq(user_id.0))
                    .into_boxed::<Db>()
            };
            let read = |conn: &mut AnyConnection, range: KeyRange, limit: i64| {
                let (query, newest) = within_key_range!(base(), notifications::id, range);
                let query =
                    if newest { query.order(notifications::id.desc()) } else { query.order(notifications::id.asc()) };
                let rows = query.select(NotificationRow::as_select()).limit_prepared(limit).load(conn).store_err()?;
                rows.into_iter().map(Notification::try_from).collect::<Result<Vec<_>, _>>()
            };
            let newer = |conn: &mut AnyConnection, newest_seen: i64| {
                Ok(base()
                    .filter(notifications::id.gt(newest_seen))
                    .select(notifications::id)
                    .limit_prepared(1)
                    .get_result::<i64>(conn)
                    .optional()
                    .store_err()?
                    .is_some())
            };
            cursor_page(conn, request, |n: &Notification| n.id.0, EmptyPage::NoNewer, read, newer)
        })
    }
}
