//! Scopes of messages and their cursor pages.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use roost_domain::model::channel::ChannelType;
use roost_domain::model::cursor::{CursorPage, CursorRequest, KeyRange};
use roost_domain::model::message::{Message, MessageFilter, MessageScope};
use roost_domain::model::page::Page;
use roost_domain::ports::StoreResult;
use roost_domain::ApplicationId;

use super::{to_messages, Db};
use crate::conn::AnyConnection;
use crate::prepared::{KeepPrepared, KeepPreparedLimit};
use crate::rows::MessageRow;
use crate::schema::{channel_members, channels, messages, read_marks, threads};
use crate::store::cursor::{cursor_page, within_key_range, EmptyPage};
use crate::store::DieselResultExt;

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both engines (ASCII case folding).
    fn lower(x: Nullable<Text>) -> Nullable<Text>;
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
                    // Imported history before 2025 has negative ids: no mark is below them all.
                    let mark = marks.iter().find(|(c, _)| *c == channel).map_or(i64::MIN, |(_, m)| *m);
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
        MessageScope::VisibleTo(user) => {
            // Planned per call: the channel list is a subquery, so the statement's text is fixed.
            let joined =
                channel_members::table.filter(channel_members::user_id.eq(user.0)).select(channel_members::channel_id);
            query = query
                .filter(messages::application_id.eq(application_id.0))
                .filter(messages::channel_id.eq_any(joined).or(messages::user_id.eq(user.0)).nullable());
        }
        MessageScope::ThreadsVisibleTo(user) => {
            let joined =
                channel_members::table.filter(channel_members::user_id.eq(user.0)).select(channel_members::channel_id);
            let visible = channels::table
                .filter(channels::application_id.eq(application_id.0))
                .filter(channels::channel_type.eq(ChannelType::Public.as_str()).or(channels::id.eq_any(joined)))
                .select(channels::id);
            query = query
                .filter(messages::application_id.eq(application_id.0))
                .filter(messages::parent_id.is_null())
                .filter(messages::replies_count.gt(0))
                .filter(messages::channel_id.eq_any(visible));
        }
    }
    if let Some(since) = filter.since {
        query = query.filter(messages::created_at.ge(since.naive_utc()));
    }
    if let Some(sender) = filter.sender {
        query = query.filter(messages::user_id.eq(sender.0));
    }
    if let Some(text) = &filter.query {
        query = query.filter(lower(messages::body).like(contains_pattern(text)).escape('\\'));
    }
    Ok(Some(ScopeQuery { query, leading, keep_prepared }))
}

pub(super) fn messages_page(
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
    let mut page = cursor_page(conn, request, |m: &Message| m.id.0, EmptyPage::ProbeFromBound, read, newer)?;
    page.total = total(conn, application_id, scope, filter)?;
    Ok(page)
}

/// A cursor page's `total`. A thread's, unfiltered, is kept as its messages are written: a
/// channel's MAIN thread in `channels.message_count`, a reply thread in its parent's
/// `replies_count`; so the hottest page costs one indexed row read, not a count of a channel's
/// messages. Other scopes and filtered lists are counted.
fn total(
    conn: &mut AnyConnection,
    application_id: ApplicationId,
    scope: &MessageScope,
    filter: &MessageFilter,
) -> StoreResult<u64> {
    let MessageScope::Thread(thread) = scope else {
        return count_messages(conn, application_id, scope, filter);
    };
    if filter.sender.is_some() || filter.query.is_some() {
        return count_messages(conn, application_id, scope, filter);
    }
    let kept: Option<i64> =
        KeepPrepared(channels::table.filter(channels::main_thread_id.eq(thread.0)).select(channels::message_count))
            .get_result(conn)
            .optional()
            .store_err()?;
    let kept = match kept {
        Some(count) => Some(count),
        None => threads::table
            .inner_join(messages::table.on(threads::parent_message_id.eq(messages::id.nullable())))
            .filter(threads::id.eq(thread.0))
            .select(messages::replies_count)
            .get_result(conn)
            .optional()
            .store_err()?,
    };
    match kept {
        Some(count) => Ok(u64::try_from(count).unwrap_or(0)),
        None => count_messages(conn, application_id, scope, filter),
    }
}

/// How many messages a scope holds: what `messages_page` lists, all pages.
pub(super) fn count_messages(
    conn: &mut AnyConnection,
    application_id: ApplicationId,
    scope: &MessageScope,
    filter: &MessageFilter,
) -> StoreResult<u64> {
    let Some(ScopeQuery { query, .. }) = scoped(conn, application_id, scope, filter)? else {
        return Ok(0);
    };
    let count: i64 = query.count().get_result(conn).store_err()?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// A numbered page of a scope's messages, newest first (`page=N` on a user's stream).
pub(super) fn numbered_page(
    conn: &mut AnyConnection,
    application_id: ApplicationId,
    scope: &MessageScope,
    filter: &MessageFilter,
    number: u32,
    size: u32,
) -> StoreResult<Page<Message>> {
    let empty = Page { items: Vec::new(), number, size, total_elements: 0 };
    let Some(ScopeQuery { query, .. }) = scoped(conn, application_id, scope, filter)? else { return Ok(empty) };
    let offset = i64::from(number) * i64::from(size);
    let rows: Vec<MessageRow> = query
        .order(messages::id.desc())
        .select(MessageRow::as_select())
        .limit_offset_prepared(i64::from(size), offset)
        .load(conn)
        .store_err()?;
    let total = count_messages(conn, application_id, scope, filter)?;
    Ok(Page { items: to_messages(rows)?, number, size, total_elements: total })
}
