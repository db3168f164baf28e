//! Imported messages: ids from their own times, their keys, and the counts they move, a batch
//! in one transaction. No events: an import brings history, not news.

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;
use roost_domain::model::job::ImportedMessage;
use roost_domain::model::message::{Message, ThreadType};
use roost_domain::ports::StoreResult;
use roost_domain::{ApplicationId, IdGenerator, MessageId, StoreError, ThreadId};

use super::{INSERT_CHUNK_ROWS, PREPARED_INSERT_ROWS};
use crate::conn::AnyConnection;
use crate::prepared::KeepPrepared;
use crate::rows::{MessageRow, ThreadRow};
use crate::schema::{channels, import_keys, messages, threads};
use crate::store::DieselResultExt;

/// Ids per `IN (…)` list: well under SQLite's 32 766 bound parameters.
const IN_LIST: usize = 10_000;

#[derive(Insertable)]
#[diesel(table_name = import_keys)]
struct ImportKeyRow {
    application_id: i64,
    idempotency_key: String,
    message_id: i64,
}

/// Of `keys`, those stored with an imported message.
pub(super) fn imported_keys(
    conn: &mut AnyConnection,
    application_id: ApplicationId,
    keys: &[String],
) -> StoreResult<Vec<(String, MessageId)>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(IN_LIST) {
        let rows: Vec<(String, i64)> = import_keys::table
            .filter(import_keys::application_id.eq(application_id.0))
            .filter(import_keys::idempotency_key.eq_any(chunk))
            .select((import_keys::idempotency_key, import_keys::message_id))
            .load(conn)
            .store_err()?;
        found.extend(rows.into_iter().map(|(key, id)| (key, MessageId(id))));
    }
    Ok(found)
}

/// Stores a batch of imported messages with their keys; their ids, in order.
pub(super) fn import_messages(
    conn: &mut AnyConnection,
    ids: &IdGenerator,
    batch: &[ImportedMessage],
) -> StoreResult<Vec<MessageId>> {
    let given = free_ids(conn, ids, batch)?;
    let mut stored: Vec<Message> =
        batch.iter().zip(&given).map(|(m, id)| Message { id: MessageId(*id), ..m.message.clone() }).collect();
    reply_threads(conn, ids, &mut stored)?;
    // The channels first, in id order, as a post locks them: the two never wait in a cycle.
    let mut by_channel: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for message in &stored {
        let (top_level, newest) = by_channel.entry(message.channel_id.0).or_insert((0, i64::MIN));
        *top_level += i64::from(message.parent_id.is_none());
        *newest = (*newest).max(message.id.0);
    }
    for (channel_id, (top_level, newest)) in by_channel {
        KeepPrepared(
            diesel::update(channels::table.filter(channels::id.eq(channel_id)))
                .set(channels::message_count.eq(channels::message_count + top_level)),
        )
        .execute(conn)
        .store_err()?;
        // Its newest message moves only when history reaches past it.
        KeepPrepared(
            diesel::update(
                channels::table
                    .filter(channels::id.eq(channel_id))
                    .filter(channels::last_message_id.is_null().or(channels::last_message_id.lt(newest))),
            )
            .set(channels::last_message_id.eq(newest)),
        )
        .execute(conn)
        .store_err()?;
    }
    let rows: Vec<MessageRow> = stored.iter().map(MessageRow::from).collect();
    insert_rows!(conn, messages::table, messages::id, rows);
    let key_rows: Vec<ImportKeyRow> = batch
        .iter()
        .zip(&stored)
        .map(|(m, s)| ImportKeyRow {
            application_id: s.application_id.0,
            idempotency_key: m.key.clone(),
            message_id: s.id.0,
        })
        .collect();
    insert_rows!(conn, import_keys::table, import_keys::message_id, key_rows);
    let mut replies: BTreeMap<i64, i64> = BTreeMap::new();
    for parent in stored.iter().filter_map(|m| m.parent_id) {
        *replies.entry(parent.0).or_default() += 1;
    }
    let now = roost_domain::now().naive_utc();
    for (parent, count) in replies {
        // Its representation shows the count: `Last-Modified` moves with it.
        let counted = KeepPrepared(
            diesel::update(messages::table.filter(messages::id.eq(parent)))
                .set((messages::replies_count.eq(messages::replies_count + count), messages::updated_at.eq(Some(now)))),
        )
        .execute(conn)
        .store_err()?;
        if counted == 0 {
            // Deleted since the batch read it: roll back rather than store an orphan (the
            // batch runs again, and finds the parent gone).
            return Err(StoreError::Conflict(format!("message {parent} was deleted while importing replies to it")));
        }
    }
    Ok(given.into_iter().map(MessageId).collect())
}

/// An id for each message from its own time: the millisecond's next slot that neither the
/// batch nor the store holds ([`IdGenerator::imported_id`]); a live id for a time out of the
/// layout's range (the service lets none through).
fn free_ids(conn: &mut AnyConnection, ids: &IdGenerator, batch: &[ImportedMessage]) -> StoreResult<Vec<i64>> {
    let mut given = vec![0_i64; batch.len()];
    let mut in_store: HashSet<i64> = HashSet::new();
    let mut next_slot: BTreeMap<i64, u64> = BTreeMap::new();
    let mut todo: Vec<usize> = (0..batch.len()).collect();
    loop {
        let mut pending = vec![false; batch.len()];
        todo.iter().for_each(|&i| pending[i] = true);
        let mut in_batch: HashSet<i64> = (0..batch.len()).filter(|&i| !pending[i]).map(|i| given[i]).collect();
        for &i in &todo {
            let ms = batch[i].message.created_time.timestamp_millis();
            let slot = next_slot.entry(ms).or_insert(0);
            let id = loop {
                match IdGenerator::imported_id(ms, *slot) {
                    None => break ids.next_id(),
                    Some(id) => {
                        *slot += 1;
                        if !in_batch.contains(&id) && !in_store.contains(&id) {
                            break id;
                        }
                    }
                }
            };
            in_batch.insert(id);
            given[i] = id;
        }
        let candidates: Vec<i64> = todo.iter().map(|&i| given[i]).collect();
        let mut taken = Vec::new();
        for chunk in candidates.chunks(IN_LIST) {
            let found: Vec<i64> =
                messages::table.filter(messages::id.eq_any(chunk)).select(messages::id).load(conn).store_err()?;
            taken.extend(found);
        }
        if taken.is_empty() {
            return Ok(given);
        }
        // Held by messages imported before (another file, another job): the next free slots.
        in_store.extend(taken);
        todo.retain(|&i| in_store.contains(&given[i]));
    }
}

/// Puts each reply in its parent's thread, creating the threads parents have not yet: all of
/// a batch's in two statements, not a transaction per parent.
fn reply_threads(conn: &mut AnyConnection, ids: &IdGenerator, stored: &mut [Message]) -> StoreResult<()> {
    let mut parents: Vec<i64> = stored.iter().filter_map(|m| m.parent_id.map(|p| p.0)).collect();
    if parents.is_empty() {
        return Ok(());
    }
    parents.sort_unstable();
    parents.dedup();
    let mut thread_of: BTreeMap<i64, i64> = BTreeMap::new();
    for chunk in parents.chunks(IN_LIST) {
        let found: Vec<(Option<i64>, i64)> = threads::table
            .filter(threads::parent_message_id.eq_any(chunk))
            .select((threads::parent_message_id, threads::id))
            .load(conn)
            .store_err()?;
        thread_of.extend(found.into_iter().filter_map(|(parent, thread)| parent.map(|p| (p, thread))));
    }
    let now = roost_domain::now().naive_utc();
    let mut new_threads = Vec::new();
    for message in stored.iter_mut() {
        let Some(parent) = message.parent_id else { continue };
        let thread = *thread_of.entry(parent.0).or_insert_with(|| {
            let id = ids.next_id();
            new_threads.push(ThreadRow {
                id,
                application_id: message.application_id.0,
                channel_id: message.channel_id.0,
                thread_type: ThreadType::Message.as_str().to_owned(),
                parent_message_id: Some(parent.0),
                created_at: now,
            });
            id
        });
        message.thread_id = ThreadId(thread);
    }
    insert_rows!(conn, threads::table, threads::id, new_threads);
    Ok(())
}
