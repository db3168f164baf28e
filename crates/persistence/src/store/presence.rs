//! Presence across nodes: each node's count of open streams per user, the nodes' heartbeats,
//! and `users.online`, kept true while a live node counts a stream of the user.

use diesel::prelude::*;
use roost_domain::model::presence::PresenceChange;
use roost_domain::ports::{PresenceStore, StoreResult};
use roost_domain::{ApplicationId, Timestamp, UserId};

use super::{DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::schema::{roost_nodes, stream_presence, users};

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
    fn stream_opened(
        &self,
        node: i64,
        application_id: ApplicationId,
        user_id: UserId,
    ) -> StoreResult<Option<PresenceChange>> {
        self.write(|conn| {
            lock_users(conn, &[user_id.0])?;
            on_engine!(conn, |c| diesel::insert_into(stream_presence::table)
                .values((
                    stream_presence::node_id.eq(node),
                    stream_presence::user_id.eq(user_id.0),
                    stream_presence::application_id.eq(application_id.0),
                    stream_presence::streams.eq(1),
                ))
                .on_conflict((stream_presence::node_id, stream_presence::user_id))
                .do_update()
                .set(stream_presence::streams.eq(stream_presence::streams + 1))
                .execute(c)
                .store_err()?);
            Ok(recompute(conn, &[user_id.0])?.pop())
        })
    }

    fn stream_closed(&self, node: i64, user_id: UserId) -> StoreResult<Option<PresenceChange>> {
        self.write(|conn| {
            lock_users(conn, &[user_id.0])?;
            let this = stream_presence::table
                .filter(stream_presence::node_id.eq(node))
                .filter(stream_presence::user_id.eq(user_id.0));
            diesel::update(this)
                .set(stream_presence::streams.eq(stream_presence::streams - 1))
                .execute(conn)
                .store_err()?;
            diesel::delete(this.filter(stream_presence::streams.le(0))).execute(conn).store_err()?;
            Ok(recompute(conn, &[user_id.0])?.pop())
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
            if nodes.is_none() {
                diesel::delete(roost_nodes::table.filter(roost_nodes::node_id.eq_any(&dead)))
                    .execute(conn)
                    .store_err()?;
            }
            recompute(conn, &users)
        })
    }
}
