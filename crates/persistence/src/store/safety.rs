//! Blocks between users and reports of messages.

use diesel::prelude::*;
use roost_domain::model::message::Message;
use roost_domain::model::page::Page;
use roost_domain::model::safety::Block;
use roost_domain::model::user::User;
use roost_domain::ports::{SafetyStore, StoreResult};
use roost_domain::{ApplicationId, ChannelId, Timestamp, UserId};

use super::{count_to_u64, DieselResultExt, DieselStore};
use crate::prepared::KeepPreparedLimit;
use crate::rows::{utc, MessageRow, UserRow};
use crate::schema::{message_reports, messages, user_blocks, users};

impl SafetyStore for DieselStore {
    fn block(&self, application_id: ApplicationId, user: UserId, blocked: UserId, now: Timestamp) -> StoreResult<bool> {
        self.write(|conn| {
            // A second block, even one racing this one, changes nothing.
            let block = diesel::insert_into(user_blocks::table)
                .values((
                    user_blocks::user_id.eq(user.0),
                    user_blocks::blocked_user_id.eq(blocked.0),
                    user_blocks::application_id.eq(application_id.0),
                    user_blocks::created_at.eq(now.naive_utc()),
                ))
                .on_conflict_do_nothing();
            let added = on_engine!(&mut *conn, |c| block.execute(c)).store_err()?;
            Ok(added > 0)
        })
    }

    fn unblock(&self, user: UserId, blocked: UserId) -> StoreResult<bool> {
        self.write(|conn| {
            let removed = diesel::delete(
                user_blocks::table
                    .filter(user_blocks::user_id.eq(user.0))
                    .filter(user_blocks::blocked_user_id.eq(blocked.0)),
            )
            .execute(conn)
            .store_err()?;
            Ok(removed > 0)
        })
    }

    fn list_blocks(
        &self,
        application_id: ApplicationId,
        user: UserId,
        number: u32,
        size: u32,
    ) -> StoreResult<Page<Block>> {
        self.read(|conn| {
            let mine = || {
                user_blocks::table
                    .filter(user_blocks::application_id.eq(application_id.0))
                    .filter(user_blocks::user_id.eq(user.0))
            };
            let total: i64 = mine().count().get_result(conn).store_err()?;
            let rows: Vec<(UserRow, chrono::NaiveDateTime)> = mine()
                .inner_join(users::table.on(users::id.eq(user_blocks::blocked_user_id)))
                .order((user_blocks::created_at.desc(), user_blocks::blocked_user_id.desc()))
                .select((UserRow::as_select(), user_blocks::created_at))
                .limit_offset_prepared(i64::from(size), i64::from(number) * i64::from(size))
                .load(conn)
                .store_err()?;
            let items = rows
                .into_iter()
                .map(|(user, at)| Ok(Block { user: User::try_from(user)?, created_time: utc(at) }))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Page { items, number, size, total_elements: count_to_u64(total) })
        })
    }

    fn blockers_among(&self, sender: UserId, users: &[UserId]) -> StoreResult<Vec<UserId>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        self.read(|conn| {
            let ids: Vec<i64> = users.iter().map(|u| u.0).collect();
            let blockers: Vec<i64> = user_blocks::table
                .filter(user_blocks::blocked_user_id.eq(sender.0))
                .filter(user_blocks::user_id.eq_any(ids))
                .select(user_blocks::user_id)
                .load(conn)
                .store_err()?;
            Ok(blockers.into_iter().map(UserId).collect())
        })
    }

    fn report(&self, message: &Message, user: UserId, reason: &str, now: Timestamp) -> StoreResult<bool> {
        self.write(|conn| {
            // The first report stands; a second, even one racing it, changes nothing.
            let report = diesel::insert_into(message_reports::table)
                .values((
                    message_reports::message_id.eq(message.id.0),
                    message_reports::user_id.eq(user.0),
                    message_reports::application_id.eq(message.application_id.0),
                    message_reports::channel_id.eq(message.channel_id.0),
                    message_reports::reason.eq(reason),
                    message_reports::created_at.eq(now.naive_utc()),
                ))
                .on_conflict_do_nothing();
            let added = on_engine!(&mut *conn, |c| report.execute(c)).store_err()?;
            Ok(added > 0)
        })
    }

    fn reported_messages(&self, channel: ChannelId, number: u32, size: u32) -> StoreResult<Page<(Message, u64)>> {
        self.read(|conn| {
            let total: i64 = message_reports::table
                .filter(message_reports::channel_id.eq(channel.0))
                .select(diesel::dsl::count(message_reports::message_id).aggregate_distinct())
                .get_result(conn)
                .store_err()?;
            let counted: Vec<(i64, i64)> = message_reports::table
                .filter(message_reports::channel_id.eq(channel.0))
                .group_by(message_reports::message_id)
                .select((message_reports::message_id, diesel::dsl::count_star()))
                .order((diesel::dsl::count_star().desc(), message_reports::message_id.desc()))
                .limit_offset_prepared(i64::from(size), i64::from(number) * i64::from(size))
                .load(conn)
                .store_err()?;
            let ids: Vec<i64> = counted.iter().map(|(id, _)| *id).collect();
            let rows: Vec<MessageRow> = messages::table
                .filter(messages::id.eq_any(&ids))
                .select(MessageRow::as_select())
                .load(conn)
                .store_err()?;
            let mut found: Vec<Message> = super::messages::to_messages(rows)?;
            let items = counted
                .into_iter()
                .filter_map(|(id, reports)| {
                    let at = found.iter().position(|m| m.id.0 == id)?;
                    Some((found.swap_remove(at), u64::try_from(reports).unwrap_or(0)))
                })
                .collect();
            Ok(Page { items, number, size, total_elements: count_to_u64(total) })
        })
    }
}
