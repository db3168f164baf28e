//! Presence across nodes: each node's count of open streams per user, the nodes' heartbeats,
//! and `users.online`, kept true while a live node counts a stream of the user.

use diesel::prelude::*;
use roost_domain::model::page::Page;
use roost_domain::model::presence::{ChatSession, OpenUserStream, PresenceChange};
use roost_domain::model::user::User;
use roost_domain::ports::{PresenceStore, StoreResult};
use roost_domain::{ApplicationId, ChannelId, Timestamp, UserId};

use super::{DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::prepared::KeepPreparedLimit;
use crate::rows::{utc, UserRow};
use crate::schema::{chat_sessions, open_streams, roost_nodes, stream_presence, users};

#[derive(Queryable, Selectable)]
#[diesel(table_name = chat_sessions)]
struct ChatSessionRow {
    id: i64,
    session_id: i64,
    channel_id: i64,
    opened_at: chrono::NaiveDateTime,
}

/// Subscribes an open stream to channels: a chat session each, with the stream's user and
/// login session. Nothing when the stream is gone (closed meanwhile) or a channel is.
fn insert_chat_sessions(conn: &mut AnyConnection, stream_id: i64, sessions: &[(i64, ChannelId)]) -> StoreResult<()> {
    if sessions.is_empty() {
        return Ok(());
    }
    let stream: Option<(i64, i64, i64)> = open_streams::table
        .find(stream_id)
        .select((open_streams::application_id, open_streams::user_id, open_streams::session_id))
        .get_result(conn)
        .optional()
        .store_err()?;
    let Some((application_id, user_id, session_id)) = stream else { return Ok(()) };
    let channels: Vec<i64> = sessions.iter().map(|(_, c)| c.0).collect();
    let existing: Vec<i64> = crate::schema::channels::table
        .filter(crate::schema::channels::id.eq_any(&channels))
        .select(crate::schema::channels::id)
        .load(conn)
        .store_err()?;
    let now = roost_domain::now().naive_utc();
    for (id, channel) in sessions.iter().filter(|(_, c)| existing.contains(&c.0)) {
        diesel::insert_into(chat_sessions::table)
            .values((
                chat_sessions::id.eq(id),
                chat_sessions::stream_id.eq(stream_id),
                chat_sessions::application_id.eq(application_id),
                chat_sessions::user_id.eq(user_id),
                chat_sessions::session_id.eq(session_id),
                chat_sessions::channel_id.eq(channel.0),
                chat_sessions::opened_at.eq(now),
            ))
            .execute(conn)
            .store_err()?;
    }
    Ok(())
}

/// Forgets an open stream and its chat sessions (not left to `ON DELETE CASCADE`, so that the
/// order is the same on both engines).
fn forget_stream(conn: &mut AnyConnection, stream_id: i64) -> StoreResult<()> {
    diesel::delete(chat_sessions::table.filter(chat_sessions::stream_id.eq(stream_id))).execute(conn).store_err()?;
    diesel::delete(open_streams::table.filter(open_streams::stream_id.eq(stream_id))).execute(conn).store_err()?;
    Ok(())
}

/// Locks the users' rows, in id order: presence changes of one user (from two nodes at once)
/// then run one after the other, and the last one counts what the others wrote.
pub(super) fn lock_users(conn: &mut AnyConnection, user_ids: &[i64]) -> StoreResult<()> {
    let mut ids = user_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        diesel::update(users::table.filter(users::id.eq(id)))
            .set(users::online.eq(users::online))
            .execute(conn)
            .store_err()?;
    }
    Ok(())
}

/// Whether a live node counts a stream of the user.
pub(super) fn counted_online(conn: &mut AnyConnection, user_id: i64) -> StoreResult<bool> {
    let counted: i64 = stream_presence::table
        .filter(stream_presence::user_id.eq(user_id))
        .filter(stream_presence::streams.gt(0))
        .count()
        .get_result(conn)
        .store_err()?;
    Ok(counted > 0)
}

/// Sets `users.online` from the counts; the users whose flag changed.
fn recompute(conn: &mut AnyConnection, user_ids: &[i64]) -> StoreResult<Vec<PresenceChange>> {
    let mut changed = Vec::new();
    for user_id in user_ids {
        let online = counted_online(conn, *user_id)?;
        let flipped: Vec<i64> = on_engine!(conn, |c| diesel::update(
            users::table.filter(users::id.eq(user_id)).filter(users::online.ne(online))
        )
        .set(users::online.eq(online))
        .returning(users::application_id)
        .load(c)
        .store_err()?);
        changed.extend(flipped.into_iter().map(|app| PresenceChange {
            application_id: ApplicationId(app),
            user_id: UserId(*user_id),
            online,
        }));
    }
    Ok(changed)
}

impl PresenceStore for DieselStore {
    fn stream_opened(&self, stream: &OpenUserStream) -> StoreResult<Option<PresenceChange>> {
        let user_id = stream.user_id.0;
        self.write(|conn| {
            lock_users(conn, &[user_id])?;
            on_engine!(conn, |c| diesel::insert_into(stream_presence::table)
                .values((
                    stream_presence::node_id.eq(stream.node),
                    stream_presence::user_id.eq(user_id),
                    stream_presence::application_id.eq(stream.application_id.0),
                    stream_presence::streams.eq(1),
                ))
                .on_conflict((stream_presence::node_id, stream_presence::user_id))
                .do_update()
                .set(stream_presence::streams.eq(stream_presence::streams + 1))
                .execute(c)
                .store_err()?);
            if let Some(session_id) = stream.session_id {
                diesel::insert_into(open_streams::table)
                    .values((
                        open_streams::stream_id.eq(stream.id),
                        open_streams::node_id.eq(stream.node),
                        open_streams::application_id.eq(stream.application_id.0),
                        open_streams::user_id.eq(user_id),
                        open_streams::session_id.eq(session_id),
                        open_streams::opened_at.eq(stream.opened.naive_utc()),
                    ))
                    .execute(conn)
                    .store_err()?;
                insert_chat_sessions(conn, stream.id, &stream.chat_sessions)?;
            }
            Ok(recompute(conn, &[user_id])?.pop())
        })
    }

    fn stream_closed(&self, stream: &OpenUserStream) -> StoreResult<Option<PresenceChange>> {
        let user_id = stream.user_id.0;
        self.write(|conn| {
            lock_users(conn, &[user_id])?;
            let this = stream_presence::table
                .filter(stream_presence::node_id.eq(stream.node))
                .filter(stream_presence::user_id.eq(user_id));
            diesel::update(this)
                .set(stream_presence::streams.eq(stream_presence::streams - 1))
                .execute(conn)
                .store_err()?;
            diesel::delete(this.filter(stream_presence::streams.le(0))).execute(conn).store_err()?;
            forget_stream(conn, stream.id)?;
            Ok(recompute(conn, &[user_id])?.pop())
        })
    }

    fn set_chat_sessions(&self, stream_id: i64, sessions: &[(i64, ChannelId)]) -> StoreResult<()> {
        self.write(|conn| {
            let kept: Vec<i64> = sessions.iter().map(|(_, channel)| channel.0).collect();
            diesel::delete(
                chat_sessions::table
                    .filter(chat_sessions::stream_id.eq(stream_id))
                    .filter(diesel::dsl::not(chat_sessions::channel_id.eq_any(&kept))),
            )
            .execute(conn)
            .store_err()?;
            let subscribed: Vec<i64> = chat_sessions::table
                .filter(chat_sessions::stream_id.eq(stream_id))
                .select(chat_sessions::channel_id)
                .load(conn)
                .store_err()?;
            let new: Vec<(i64, ChannelId)> =
                sessions.iter().copied().filter(|(_, channel)| !subscribed.contains(&channel.0)).collect();
            insert_chat_sessions(conn, stream_id, &new)
        })
    }

    fn chat_sessions(&self, application_id: ApplicationId, number: u32, size: u32) -> StoreResult<Page<ChatSession>> {
        self.read(|conn| {
            let base = || chat_sessions::table.filter(chat_sessions::application_id.eq(application_id.0));
            let total: i64 = base().count().get_result(conn).store_err()?;
            let offset = i64::from(number).saturating_mul(i64::from(size));
            let rows: Vec<(ChatSessionRow, UserRow)> = base()
                .inner_join(users::table)
                .order((chat_sessions::opened_at, chat_sessions::id))
                .select((ChatSessionRow::as_select(), UserRow::as_select()))
                .limit_offset_prepared(i64::from(size), offset)
                .load(conn)
                .store_err()?;
            let items = rows
                .into_iter()
                .map(|(row, user)| {
                    Ok(ChatSession {
                        id: row.id,
                        user: User::try_from(user)?,
                        session_id: row.session_id,
                        channel_id: ChannelId(row.channel_id),
                        opened: utc(row.opened_at),
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Page { items, number, size, total_elements: super::count_to_u64(total) })
        })
    }

    fn participants(&self, application_id: ApplicationId, channel_id: ChannelId) -> StoreResult<Vec<UserId>> {
        self.read(|conn| {
            let users: Vec<i64> = chat_sessions::table
                .filter(chat_sessions::application_id.eq(application_id.0))
                .filter(chat_sessions::channel_id.eq(channel_id.0))
                .select(chat_sessions::user_id)
                .distinct()
                .load(conn)
                .store_err()?;
            Ok(users.into_iter().map(UserId).collect())
        })
    }

    fn node_alive(&self, node: i64, now: Timestamp) -> StoreResult<()> {
        self.write(|conn| {
            on_engine!(conn, |c| diesel::insert_into(roost_nodes::table)
                .values((roost_nodes::node_id.eq(node), roost_nodes::seen_at.eq(now.naive_utc())))
                .on_conflict(roost_nodes::node_id)
                .do_update()
                .set(roost_nodes::seen_at.eq(now.naive_utc()))
                .execute(c)
                .store_err()?);
            Ok(())
        })
    }

    fn forget_nodes(&self, nodes: Option<i64>, seen_before: Timestamp) -> StoreResult<Vec<PresenceChange>> {
        self.write(|conn| {
            let dead: Vec<i64> = match nodes {
                Some(node) => vec![node],
                None => roost_nodes::table
                    .filter(roost_nodes::seen_at.lt(seen_before.naive_utc()))
                    .select(roost_nodes::node_id)
                    .load(conn)
                    .store_err()?,
            };
            if dead.is_empty() {
                return Ok(Vec::new());
            }
            let users: Vec<i64> = stream_presence::table
                .filter(stream_presence::node_id.eq_any(&dead))
                .select(stream_presence::user_id)
                .load(conn)
                .store_err()?;
            lock_users(conn, &users)?;
            diesel::delete(stream_presence::table.filter(stream_presence::node_id.eq_any(&dead)))
                .execute(conn)
                .store_err()?;
            // By subquery, never by a list of ids: a node may have had more streams open than
            // SQLite binds in one statement.
            let on_dead =
                open_streams::table.filter(open_streams::node_id.eq_any(&dead)).select(open_streams::stream_id);
            diesel::delete(chat_sessions::table.filter(chat_sessions::stream_id.eq_any(on_dead)))
                .execute(conn)
                .store_err()?;
            diesel::delete(open_streams::table.filter(open_streams::node_id.eq_any(&dead)))
                .execute(conn)
                .store_err()?;
            if nodes.is_none() {
                diesel::delete(roost_nodes::table.filter(roost_nodes::node_id.eq_any(&dead)))
                    .execute(conn)
                    .store_err()?;
            }
            recompute(conn, &users)
        })
    }
}
