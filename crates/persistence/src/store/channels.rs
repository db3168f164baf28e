use diesel::prelude::*;
use roost_domain::model::channel::{
    Channel, ChannelFilter, ChannelSort, ChannelType, Invite, MemberFilter, Membership,
};
use roost_domain::model::event::{EventDraft, EventType, Link};
use roost_domain::model::page::{Page, PageRequest};
use roost_domain::model::user::{User, UserSort};
use roost_domain::ports::{ChannelStore, StoreResult};
use roost_domain::{now, ApplicationId, ChannelId, StoreError, Timestamp, UserId};

use super::events::{record, record_link};
use super::sort::sorted;
use super::{count_to_u64, DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::prepared::{KeepPrepared, KeepPreparedLimit};
use crate::rows::{ChannelRow, UserRow};
use crate::schema::{
    channel_invites, channel_members, channels, messages, notifications, reactions, read_marks, threads, users,
};

type Db = <AnyConnection as Connection>::Backend;

fn load_member_ids(conn: &mut AnyConnection, channel_id: ChannelId) -> StoreResult<Vec<UserId>> {
    let query = channel_members::table
        .filter(channel_members::channel_id.eq(channel_id.0))
        .order(channel_members::user_id)
        .select(channel_members::user_id);
    let ids: Vec<i64> = on_engine!(conn, |c| query.load(c)).store_err()?;
    Ok(ids.into_iter().map(UserId).collect())
}

pub(super) fn to_channels(rows: Vec<ChannelRow>) -> StoreResult<Vec<Channel>> {
    rows.into_iter().map(Channel::try_from).collect()
}

fn filtered<'a>(application_id: ApplicationId, filter: &'a ChannelFilter) -> channels::BoxedQuery<'a, Db> {
    let mut query = channels::table.filter(channels::application_id.eq(application_id.0)).into_boxed();
    if let Some(kind) = filter.channel_type {
        query = query.filter(channels::channel_type.eq(kind.as_str()));
    }
    for member in &filter.member_ids {
        let of_member =
            channel_members::table.filter(channel_members::user_id.eq(member.0)).select(channel_members::channel_id);
        query = query.filter(channels::id.eq_any(of_member));
    }
    if let Some(user) = filter.user_id {
        let joined =
            channel_members::table.filter(channel_members::user_id.eq(user.0)).select(channel_members::channel_id);
        query = query.filter(channels::creator_id.eq(user.0).or(channels::id.eq_any(joined)));
    }
    if let Some(user) = filter.visible_to {
        let joined =
            channel_members::table.filter(channel_members::user_id.eq(user.0)).select(channel_members::channel_id);
        query = query.filter(channels::channel_type.eq(ChannelType::Public.as_str()).or(channels::id.eq_any(joined)));
    }
    if let Some(start) = filter.start_time {
        query = query.filter(channels::created_at.ge(start.naive_utc()));
    }
    if let Some(end) = filter.end_time {
        query = query.filter(channels::created_at.lt(end.naive_utc()));
    }
    query
}

fn page_of<T>(items: Vec<T>, page: &PageRequest<impl Copy>, total: i64) -> Page<T> {
    Page { items, number: page.number, size: page.size, total_elements: count_to_u64(total) }
}

impl ChannelStore for DieselStore {
    fn insert_channel(&self, channel: &Channel, direct_key: Option<&str>, member_ids: &[UserId]) -> StoreResult<()> {
        self.write(|conn| {
            diesel::insert_into(channels::table)
                .values(ChannelRow::new(channel, direct_key))
                .execute(conn)
                .store_err()?;
            diesel::insert_into(threads::table)
                .values((
                    threads::id.eq(channel.main_thread_id.0),
                    threads::application_id.eq(channel.application_id.0),
                    threads::channel_id.eq(channel.id.0),
                    threads::thread_type.eq("MAIN"),
                    threads::created_at.eq(channel.created_time.naive_utc()),
                ))
                .execute(conn)
                .store_err()?;
            for member in member_ids {
                diesel::insert_into(channel_members::table)
                    .values((
                        channel_members::channel_id.eq(channel.id.0),
                        channel_members::user_id.eq(member.0),
                        channel_members::application_id.eq(channel.application_id.0),
                        channel_members::moderator.eq(false),
                        channel_members::created_at.eq(channel.created_time.naive_utc()),
                    ))
                    .execute(conn)
                    .store_err()?;
            }
            // Members first: a member's stream admits the channel's events once it has seen its
            // own `member.added`, and `channel.created` is one of them.
            let mut events: Vec<EventDraft> = member_ids
                .iter()
                .map(|member| {
                    EventDraft::link(EventType::MemberAdded, Link::new(channel.id, *member, channel.created_time))
                })
                .collect();
            events.push(EventDraft::channel(EventType::ChannelCreated, channel));
            record(conn, channel.application_id, &events, channel.created_time)
        })
    }

    fn find_channel_as(
        &self,
        application_id: ApplicationId,
        id: ChannelId,
        user: UserId,
    ) -> StoreResult<Option<(Channel, Option<bool>)>> {
        self.read(|conn| {
            let membership = channel_members::channel_id.eq(channels::id).and(channel_members::user_id.eq(user.0));
            // On the engine's own connection, as `find_channel`: there diesel keeps it prepared.
            let row: Option<(ChannelRow, Option<bool>)> = on_engine!(conn, |c| channels::table
                .left_join(channel_members::table.on(membership))
                .filter(channels::application_id.eq(application_id.0))
                .filter(channels::id.eq(id.0))
                .select((ChannelRow::as_select(), channel_members::moderator.nullable()))
                .get_result(c)
                .optional())
            .store_err()?;
            row.map(|(channel, moderator)| Ok((Channel::try_from(channel)?, moderator))).transpose()
        })
    }

    fn find_channel(&self, application_id: ApplicationId, id: ChannelId) -> StoreResult<Option<Channel>> {
        self.read(|conn| {
            on_engine!(conn, |c| channels::table
                .filter(channels::application_id.eq(application_id.0))
                .filter(channels::id.eq(id.0))
                .select(ChannelRow::as_select())
                .get_result(c)
                .optional())
            .store_err()?
            .map(Channel::try_from)
            .transpose()
        })
    }

    fn find_channel_by_name(&self, application_id: ApplicationId, name: &str) -> StoreResult<Option<Channel>> {
        self.read(|conn| {
            channels::table
                .filter(channels::application_id.eq(application_id.0))
                .filter(channels::name.eq(name))
                .select(ChannelRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?
                .map(Channel::try_from)
                .transpose()
        })
    }

    fn find_direct_channel(&self, application_id: ApplicationId, direct_key: &str) -> StoreResult<Option<Channel>> {
        self.read(|conn| {
            channels::table
                .filter(channels::application_id.eq(application_id.0))
                .filter(channels::direct_key.eq(direct_key))
                .select(ChannelRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?
                .map(Channel::try_from)
                .transpose()
        })
    }

    fn channels_by_ids(&self, application_id: ApplicationId, ids: &[ChannelId]) -> StoreResult<Vec<Channel>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|c| c.0).collect();
        self.read(|conn| {
            to_channels(
                channels::table
                    .filter(channels::application_id.eq(application_id.0))
                    .filter(channels::id.eq_any(&ids))
                    .select(ChannelRow::as_select())
                    .load(conn)
                    .store_err()?,
            )
        })
    }

    fn list_channels(
        &self,
        application_id: ApplicationId,
        filter: &ChannelFilter,
        page: &PageRequest<ChannelSort>,
    ) -> StoreResult<Page<Channel>> {
        self.read(|conn| {
            if filter.properties.is_some() {
                // Custom properties are JSON text: filtered here, as for users.
                let all = to_channels(
                    sorted(filtered(application_id, filter), page)
                        .select(ChannelRow::as_select())
                        .load(conn)
                        .store_err()?,
                )?;
                let matching: Vec<Channel> = all.into_iter().filter(|c| filter.matches_properties(c)).collect();
                let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
                let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
                let items = matching.into_iter().skip(skip).take(page.size as usize).collect();
                return Ok(page_of(items, page, total));
            }
            let total: i64 = filtered(application_id, filter).count().get_result(conn).store_err()?;
            let rows = sorted(filtered(application_id, filter), page)
                .select(ChannelRow::as_select())
                .page_prepared(page)
                .load(conn)
                .store_err()?;
            Ok(page_of(to_channels(rows)?, page, total))
        })
    }

    fn update_channel(&self, channel: &Channel) -> StoreResult<()> {
        self.write(|conn| update_channel_row(conn, channel))
    }

    fn update_channels(&self, channels: &[Channel]) -> StoreResult<()> {
        self.write(|conn| channels.iter().try_for_each(|channel| update_channel_row(conn, channel)))
    }

    fn delete_channel(&self, application_id: ApplicationId, id: ChannelId, revision: Option<i64>) -> StoreResult<bool> {
        self.write(|conn| {
            // Claims the row (at `revision` when given: a stale conditional delete matches nothing).
            let mut claim = diesel::update(
                channels::table.filter(channels::application_id.eq(application_id.0)).filter(channels::id.eq(id.0)),
            )
            .into_boxed();
            if let Some(version) = revision {
                claim = claim.filter(channels::version.eq(version));
            }
            let exists = claim.set(channels::version.eq(channels::version)).execute(conn).store_err()?;
            if exists == 0 {
                return Ok(false);
            }
            delete_channel_rows(conn, id)?;
            Ok(true)
        })
    }

    fn delete_channels(&self, application_id: ApplicationId, ids: &[ChannelId]) -> StoreResult<Option<ChannelId>> {
        let wanted: Vec<i64> = ids.iter().map(|id| id.0).collect();
        self.write(|conn| {
            let found: Vec<i64> = channels::table
                .filter(channels::application_id.eq(application_id.0))
                .filter(channels::id.eq_any(&wanted))
                .select(channels::id)
                .load(conn)
                .store_err()?;
            if let Some(missing) = ids.iter().find(|id| !found.contains(&id.0)) {
                return Ok(Some(*missing));
            }
            for id in ids {
                delete_channel_rows(conn, *id)?;
            }
            Ok(None)
        })
    }

    fn add_member(&self, channel: &Channel, user_id: UserId, now: Timestamp) -> StoreResult<()> {
        self.write(|conn| {
            let existing = channel_members::table
                .filter(channel_members::channel_id.eq(channel.id.0))
                .filter(channel_members::user_id.eq(user_id.0))
                .count()
                .get_result::<i64>(conn)
                .store_err()?;
            if existing == 0 {
                diesel::insert_into(channel_members::table)
                    .values((
                        channel_members::channel_id.eq(channel.id.0),
                        channel_members::user_id.eq(user_id.0),
                        channel_members::application_id.eq(channel.application_id.0),
                        channel_members::moderator.eq(false),
                        channel_members::created_at.eq(now.naive_utc()),
                    ))
                    .execute(conn)
                    .store_err()?;
                let added = Link::new(channel.id, user_id, now);
                record(conn, channel.application_id, &[EventDraft::link(EventType::MemberAdded, added)], now)?;
            }
            diesel::delete(
                channel_invites::table
                    .filter(channel_invites::channel_id.eq(channel.id.0))
                    .filter(channel_invites::user_id.eq(user_id.0)),
            )
            .execute(conn)
            .store_err()?;
            Ok(())
        })
    }

    fn remove_member(&self, channel_id: ChannelId, user_id: UserId) -> StoreResult<bool> {
        self.write(|conn| {
            let deleted = diesel::delete(
                channel_members::table
                    .filter(channel_members::channel_id.eq(channel_id.0))
                    .filter(channel_members::user_id.eq(user_id.0)),
            )
            .execute(conn)
            .store_err()?;
            if deleted > 0 {
                record_link(conn, EventType::MemberRemoved, Link::new(channel_id, user_id, now()))?;
            }
            Ok(deleted > 0)
        })
    }

    fn membership(&self, channel_id: ChannelId, user_id: UserId) -> StoreResult<Option<Membership>> {
        self.read(|conn| {
            let row: Option<(bool, chrono::NaiveDateTime, UserRow)> = channel_members::table
                .inner_join(users::table)
                .filter(channel_members::channel_id.eq(channel_id.0))
                .filter(channel_members::user_id.eq(user_id.0))
                .select((channel_members::moderator, channel_members::created_at, UserRow::as_select()))
                .get_result(conn)
                .optional()
                .store_err()?;
            row.map(|(moderator, created_at, user)| {
                Ok(Membership {
                    channel_id,
                    user: User::try_from(user)?,
                    moderator,
                    created_time: created_at.and_utc(),
                })
            })
            .transpose()
        })
    }

    fn member_ids(&self, channel_id: ChannelId) -> StoreResult<Vec<UserId>> {
        self.read(|conn| load_member_ids(conn, channel_id))
    }

    fn find_channel_with_member_ids(
        &self,
        application_id: ApplicationId,
        id: ChannelId,
    ) -> StoreResult<Option<(Channel, Vec<UserId>)>> {
        let channel =
            channels::table.filter(channels::application_id.eq(application_id.0)).filter(channels::id.eq(id.0));
        self.read(|conn| {
            if let AnyConnection::Postgresql(pg) = conn {
                // One round trip: the member ids ride along as an array. The SQL literal is
                // fixed text, so the statement can stay prepared.
                let found: Option<(ChannelRow, Vec<i64>)> = KeepPrepared(channel.select((
                    ChannelRow::as_select(),
                    diesel::dsl::sql::<diesel::sql_types::Array<diesel::sql_types::BigInt>>(
                        "ARRAY(SELECT m.user_id FROM channel_members m WHERE m.channel_id = channels.id \
                         ORDER BY m.user_id)",
                    ),
                )))
                .get_result(pg)
                .optional()
                .store_err()?;
                return found
                    .map(|(row, members)| Ok((Channel::try_from(row)?, members.into_iter().map(UserId).collect())))
                    .transpose();
            }
            // In process (SQLite), two statements on one connection cost less than one that
            // would concatenate the ids into text to be parsed again.
            match on_engine!(conn, |c| channel.select(ChannelRow::as_select()).get_result(c).optional()).store_err()? {
                None => Ok(None),
                Some(row) => Ok(Some((Channel::try_from(row)?, load_member_ids(conn, id)?))),
            }
        })
    }

    fn list_memberships(
        &self,
        channel_id: ChannelId,
        which: MemberFilter,
        page: &PageRequest<UserSort>,
    ) -> StoreResult<Page<Membership>> {
        self.read(|conn| {
            let base = || {
                let mut query = channel_members::table
                    .inner_join(users::table)
                    .filter(channel_members::channel_id.eq(channel_id.0))
                    .into_boxed::<Db>();
                match which {
                    MemberFilter::All => {}
                    MemberFilter::Moderators => query = query.filter(channel_members::moderator.eq(true)),
                }
                query
            };
            let total: i64 = base().count().get_result(conn).store_err()?;
            let rows: Vec<(bool, chrono::NaiveDateTime, UserRow)> = sorted(base(), page)
                .select((channel_members::moderator, channel_members::created_at, UserRow::as_select()))
                .page_prepared(page)
                .load(conn)
                .store_err()?;
            let items = rows
                .into_iter()
                .map(|(moderator, created_at, user)| {
                    Ok(Membership {
                        channel_id,
                        user: User::try_from(user)?,
                        moderator,
                        created_time: created_at.and_utc(),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(page_of(items, page, total))
        })
    }

    fn set_moderator(&self, channel_id: ChannelId, user_id: UserId, moderator: bool) -> StoreResult<bool> {
        self.write(|conn| {
            let updated = diesel::update(
                channel_members::table
                    .filter(channel_members::channel_id.eq(channel_id.0))
                    .filter(channel_members::user_id.eq(user_id.0)),
            )
            .set(channel_members::moderator.eq(moderator))
            .execute(conn)
            .store_err()?;
            if updated > 0 {
                let event_type = if moderator { EventType::ModeratorAdded } else { EventType::ModeratorRemoved };
                record_link(conn, event_type, Link::new(channel_id, user_id, now()))?;
            }
            Ok(updated > 0)
        })
    }

    fn add_invite(&self, channel_id: ChannelId, user_id: UserId, now: Timestamp) -> StoreResult<Timestamp> {
        self.write(|conn| {
            let existing: Option<chrono::NaiveDateTime> = channel_invites::table
                .filter(channel_invites::channel_id.eq(channel_id.0))
                .filter(channel_invites::user_id.eq(user_id.0))
                .select(channel_invites::created_at)
                .get_result(conn)
                .optional()
                .store_err()?;
            if let Some(created_at) = existing {
                return Ok(created_at.and_utc());
            }
            let application_id: i64 = channels::table
                .filter(channels::id.eq(channel_id.0))
                .select(channels::application_id)
                .get_result(conn)
                .store_err()?;
            diesel::insert_into(channel_invites::table)
                .values((
                    channel_invites::channel_id.eq(channel_id.0),
                    channel_invites::user_id.eq(user_id.0),
                    channel_invites::application_id.eq(application_id),
                    channel_invites::created_at.eq(now.naive_utc()),
                ))
                .execute(conn)
                .store_err()?;
            let invite = EventDraft::link(EventType::InviteCreated, Link::new(channel_id, user_id, now));
            record(conn, ApplicationId(application_id), &[invite], now)?;
            Ok(now)
        })
    }

    fn list_invites(&self, channel_id: ChannelId, page: &PageRequest<UserSort>) -> StoreResult<Page<Invite>> {
        self.read(|conn| {
            let base = || {
                channel_invites::table
                    .inner_join(users::table)
                    .filter(channel_invites::channel_id.eq(channel_id.0))
                    .into_boxed::<Db>()
            };
            let total: i64 = base().count().get_result(conn).store_err()?;
            let rows: Vec<(chrono::NaiveDateTime, UserRow)> = sorted(base(), page)
                .select((channel_invites::created_at, UserRow::as_select()))
                .page_prepared(page)
                .load(conn)
                .store_err()?;
            let items = rows
                .into_iter()
                .map(|(created_at, user)| {
                    Ok(Invite { channel_id, user: User::try_from(user)?, created_time: created_at.and_utc() })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(page_of(items, page, total))
        })
    }
}

/// Optimistic concurrency, as for users: a change made from a stale read matches no row.
fn update_channel_row(conn: &mut AnyConnection, channel: &Channel) -> StoreResult<()> {
    let updated = diesel::update(
        channels::table.filter(channels::id.eq(channel.id.0)).filter(channels::version.eq(channel.version - 1)),
    )
    .set((
        channels::display_name.eq(&channel.display_name),
        channels::properties.eq(crate::rows::properties_text(&channel.properties)),
        channels::version.eq(channel.version),
        channels::updated_at.eq(channel.updated_time.map(|t| t.naive_utc())),
    ))
    .execute(conn)
    .store_err()?;
    if updated == 0 {
        return Err(StoreError::Conflict(format!("channel {} changed while being updated", channel.id)));
    }
    let at = channel.updated_time.unwrap_or_else(now);
    record(conn, channel.application_id, &[EventDraft::channel(EventType::ChannelUpdated, channel)], at)
}

/// Deletes a channel and everything in it inside the caller's transaction. Children first,
/// explicitly: the same on both engines whatever their FK settings.
fn delete_channel_rows(conn: &mut AnyConnection, id: ChannelId) -> StoreResult<()> {
    // Its last state, for `channel.deleted`.
    let last: Channel = channels::table
        .filter(channels::id.eq(id.0))
        .select(ChannelRow::as_select())
        .get_result(conn)
        .store_err()
        .and_then(Channel::try_from)?;
    diesel::delete(notifications::table.filter(notifications::channel_id.eq(id.0))).execute(conn).store_err()?;
    let channel_messages = messages::table.filter(messages::channel_id.eq(id.0)).select(messages::id);
    diesel::delete(reactions::table.filter(reactions::message_id.eq_any(channel_messages)))
        .execute(conn)
        .store_err()?;
    diesel::delete(read_marks::table.filter(read_marks::channel_id.eq(id.0))).execute(conn).store_err()?;
    let files: Vec<(Option<String>, i64, Option<i64>)> = messages::table
        .filter(messages::channel_id.eq(id.0))
        .filter(messages::file_key.is_not_null())
        .select((messages::file_key, messages::channel_id, messages::user_id))
        .load(conn)
        .store_err()?;
    super::files::mark_removed(conn, super::files::message_files(files))?;
    // After its files' `file.deleted`: a member's stream stops following the channel at
    // `channel.deleted`.
    let deleted_at = now();
    record(conn, last.application_id, &[EventDraft::channel(EventType::ChannelDeleted, &last)], deleted_at)?;
    diesel::delete(messages::table.filter(messages::channel_id.eq(id.0))).execute(conn).store_err()?;
    diesel::delete(threads::table.filter(threads::channel_id.eq(id.0))).execute(conn).store_err()?;
    diesel::delete(channel_invites::table.filter(channel_invites::channel_id.eq(id.0))).execute(conn).store_err()?;
    diesel::delete(channel_members::table.filter(channel_members::channel_id.eq(id.0))).execute(conn).store_err()?;
    diesel::delete(channels::table.filter(channels::id.eq(id.0))).execute(conn).store_err()?;
    Ok(())
}
