//! Reactions and read marks: what users did to messages.

use diesel::prelude::*;
use roost_domain::model::event::{EventDraft, EventType, Link};
use roost_domain::model::message::{Message, ReactionSummary, ReadReceipt, UnreadSummary};
use roost_domain::model::page::{Page, PageRequest, MAX_PAGE_SIZE};
use roost_domain::model::user::{User, UserSort};
use roost_domain::ports::StoreResult;
use roost_domain::{ApplicationId, ChannelId, MessageId, StoreError, Timestamp, UserId};

use super::Db;
use crate::conn::AnyConnection;
use crate::prepared::{KeepPrepared, KeepPreparedLimit};
use crate::rows::UserRow;
use crate::schema::{messages, reactions, read_marks, users};
use crate::store::events::{record, record_link};
use crate::store::sort::sorted;
use crate::store::{count_to_u64, DieselResultExt, DieselStore};

pub(super) fn add_reaction(
    store: &DieselStore,
    message: &Message,
    emoji: &str,
    user_id: UserId,
    now: Timestamp,
) -> StoreResult<()> {
    store.write(|conn| {
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
            touch_message(conn, message.id, now)?;
            let link = message_link(message, user_id, Some(emoji), now);
            record(conn, message.application_id, &[EventDraft::link(EventType::ReactionAdded, link)], now)?;
        }
        Ok(())
    })
}

pub(super) fn remove_reaction(
    store: &DieselStore,
    message_id: MessageId,
    emoji: &str,
    user_id: UserId,
) -> StoreResult<bool> {
    store.write(|conn| {
        let deleted = diesel::delete(
            reactions::table
                .filter(reactions::message_id.eq(message_id.0))
                .filter(reactions::emoji.eq(emoji))
                .filter(reactions::user_id.eq(user_id.0)),
        )
        .execute(conn)
        .store_err()?;
        if deleted > 0 {
            let now = roost_domain::now();
            touch_message(conn, message_id, now)?;
            let channel_id: i64 = messages::table
                .filter(messages::id.eq(message_id.0))
                .select(messages::channel_id)
                .get_result(conn)
                .store_err()?;
            let link = Link {
                message_id: Some(message_id),
                emoji: Some(emoji.to_owned()),
                ..Link::new(ChannelId(channel_id), user_id, now)
            };
            record_link(conn, EventType::ReactionRemoved, link)?;
        }
        Ok(deleted > 0)
    })
}

fn message_link(message: &Message, user_id: UserId, emoji: Option<&str>, time: Timestamp) -> Link {
    Link {
        message_id: Some(message.id),
        emoji: emoji.map(str::to_owned),
        ..Link::new(message.channel_id, user_id, time)
    }
}

fn record_receipt(
    conn: &mut AnyConnection,
    message: &Message,
    user_id: UserId,
    now: Timestamp,
) -> StoreResult<Timestamp> {
    let link = message_link(message, user_id, None, now);
    record(conn, message.application_id, &[EventDraft::link(EventType::ReadReceiptCreated, link)], now)?;
    Ok(now)
}

/// Records that a message's representation changed (its reactions), for `Last-Modified`.
fn touch_message(conn: &mut AnyConnection, id: MessageId, now: Timestamp) -> StoreResult<()> {
    diesel::update(messages::table.filter(messages::id.eq(id.0)))
        .set(messages::updated_at.eq(Some(now.naive_utc())))
        .execute(conn)
        .store_err()?;
    Ok(())
}

pub(super) fn reactions(
    store: &DieselStore,
    message_ids: &[MessageId],
) -> StoreResult<Vec<(MessageId, ReactionSummary)>> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = message_ids.iter().map(|m| m.0).collect();
    store.read(|conn| {
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

pub(super) fn mark_read(
    store: &DieselStore,
    message: &Message,
    user_id: UserId,
    now: Timestamp,
) -> StoreResult<Timestamp> {
    store.write(|conn| {
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
                let moved = diesel::update(
                    read_marks::table
                        .filter(read_marks::channel_id.eq(message.channel_id.0))
                        .filter(read_marks::user_id.eq(user_id.0))
                        .filter(read_marks::last_read_message_id.lt(message.id.0)),
                )
                .set((read_marks::last_read_message_id.eq(message.id.0), read_marks::updated_at.eq(now.naive_utc())))
                .execute(conn)
                .store_err()?;
                // A concurrent mark moved further first: nothing changed here.
                if moved == 0 {
                    return Ok(now);
                }
                record_receipt(conn, message, user_id, now)
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
                record_receipt(conn, message, user_id, now)
            }
        }
    })
}

pub(super) fn read_receipts(
    store: &DieselStore,
    message: &Message,
    page: &PageRequest<UserSort>,
) -> StoreResult<Page<ReadReceipt>> {
    store.read(|conn| {
        let base = || {
            read_marks::table
                .inner_join(users::table)
                .filter(read_marks::channel_id.eq(message.channel_id.0))
                .filter(read_marks::last_read_message_id.ge(message.id.0))
                .into_boxed::<Db>()
        };
        let total: i64 = base().count().get_result(conn).store_err()?;
        let query = sorted(base(), page);
        let rows: Vec<(chrono::NaiveDateTime, UserRow)> =
            query.select((read_marks::updated_at, UserRow::as_select())).page_prepared(page).load(conn).store_err()?;
        let items = rows
            .into_iter()
            .map(|(at, user)| Ok(ReadReceipt { user: User::try_from(user)?, created_time: at.and_utc() }))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page { items, number: page.number, size: page.size, total_elements: count_to_u64(total) })
    })
}

/// Per channel and member, the messages after the member's read mark there that someone else
/// sent: the unread pairs of an application. One aggregate statement (the application's id and
/// the page's bounds are integers written into its text: it runs rarely, for an administrator,
/// and is planned each time).
fn unread_pairs(application_id: ApplicationId) -> String {
    format!(
        "SELECT cm.channel_id AS channel_id, cm.user_id AS user_id, COUNT(m.id) AS unread \
         FROM channel_members cm \
         JOIN messages m ON m.channel_id = cm.channel_id \
         LEFT JOIN read_marks rm ON rm.channel_id = cm.channel_id AND rm.user_id = cm.user_id \
         WHERE cm.application_id = {app} \
           AND (rm.last_read_message_id IS NULL OR m.id > rm.last_read_message_id) \
           AND (m.user_id IS NULL OR m.user_id <> cm.user_id) \
         GROUP BY cm.channel_id, cm.user_id",
        app = application_id.0
    )
}

#[derive(diesel::QueryableByName)]
struct UnreadRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    channel_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    user_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    unread: i64,
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

pub(super) fn unread_summaries(
    conn: &mut AnyConnection,
    application_id: ApplicationId,
    number: u32,
    size: u32,
) -> StoreResult<Page<UnreadSummary>> {
    let pairs = unread_pairs(application_id);
    let total: Vec<CountRow> =
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM ({pairs}) pairs")).load(conn).store_err()?;
    let offset = u64::from(number) * u64::from(size);
    let rows: Vec<UnreadRow> =
        diesel::sql_query(format!("{pairs} ORDER BY cm.channel_id, cm.user_id LIMIT {size} OFFSET {offset}"))
            .load(conn)
            .store_err()?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|row| UnreadSummary {
                channel_id: ChannelId(row.channel_id),
                user_id: UserId(row.user_id),
                count: u64::try_from(row.unread).unwrap_or(0),
            })
            .collect(),
        number,
        size,
        total_elements: total.first().map_or(0, |row| u64::try_from(row.n).unwrap_or(0)),
    })
}

pub(super) fn users_with_unread(conn: &mut AnyConnection, application_id: ApplicationId) -> StoreResult<Vec<UserId>> {
    let rows: Vec<UnreadRow> = diesel::sql_query(unread_pairs(application_id)).load(conn).store_err()?;
    let mut users: Vec<UserId> = rows.into_iter().map(|row| UserId(row.user_id)).collect();
    users.sort_unstable_by_key(|u| u.0);
    users.dedup();
    Ok(users)
}
