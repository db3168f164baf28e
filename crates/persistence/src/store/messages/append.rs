//! New messages: committed in groups (see [`crate::store::group_commit`]), ids drawn from the
//! store's generator while each channel is locked.

use std::collections::BTreeMap;

use diesel::prelude::*;
use roost_domain::model::event::{EventDraft, EventType};
use roost_domain::model::message::{Message, MessageDraft};
use roost_domain::model::notification::Notification;
use roost_domain::model::notification::NotificationDraft;
use roost_domain::model::notification::NotificationKind;
use roost_domain::ports::StoreResult;
use roost_domain::{ApplicationId, IdGenerator, MessageId, StoreError};

use super::{INSERT_CHUNK_ROWS, PREPARED_INSERT_ROWS};
use crate::conn::AnyConnection;
use crate::prepared::KeepPrepared;
use crate::rows::{MessageRow, NotificationRow};
use crate::schema::{channels, messages, notifications};
use crate::store::events::record;
use crate::store::{DieselResultExt, DieselStore};

/// Stores `draft` with whatever other posts wait for the gate, in one transaction when they
/// all succeed. Every message's id comes from the store's generator, whichever caller leads.
pub(super) fn append_message(store: &DieselStore, draft: MessageDraft) -> StoreResult<Message> {
    let ids = &*store.ids;
    store.appends.submit(draft, |drafts| {
        // One transaction for the group; if any of it fails (a reply whose parent was just
        // deleted, say), each message is tried alone so that only the bad one fails.
        if drafts.len() > 1 {
            if let Ok(messages) = store.write_holding_gate(|conn| append_all(conn, ids, &drafts)) {
                return messages.into_iter().map(Ok).collect();
            }
        }
        drafts
            .iter()
            .map(|draft| {
                store
                    .write_holding_gate(|conn| append_all(conn, ids, std::slice::from_ref(draft)))
                    .and_then(|mut one| one.pop().ok_or_else(|| StoreError::Other("no message appended".into())))
            })
            .collect()
    })
}

fn notification_row(draft: &NotificationDraft, message: &Message, id: i64) -> NotificationRow {
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
        // The channel's count of top-level messages (its MAIN thread) moves in the same statement.
        let top_level = stored.iter().filter(|m| m.channel_id.0 == channel_id && m.parent_id.is_none()).count();
        let top_level = i64::try_from(top_level).unwrap_or(i64::MAX);
        // Lock the channel and record its newest message in one statement, as long as every
        // new id is above the newest stored one: ids come from this node's clock, and another
        // node's may run ahead.
        let claim = KeepPrepared(
            diesel::update(
                channels::table
                    .filter(channels::id.eq(channel_id))
                    .filter(channels::last_message_id.is_null().or(channels::last_message_id.lt(first))),
            )
            .set((channels::last_message_id.eq(last), channels::message_count.eq(channels::message_count + top_level)))
            .returning(channels::id),
        );
        let claimed: Option<i64> = on_engine!(&mut *conn, |c| claim.get_result(c).optional()).store_err()?;
        if claimed.is_none() {
            renumber_after_newest(conn, ids, channel_id, &mut stored, top_level)?;
        }
    }
    let mut notification_rows = Vec::new();
    for (draft, message) in drafts.iter().zip(&stored) {
        notification_rows.extend(draft.notifications.iter().map(|n| notification_row(n, message, ids.next_id())));
    }
    let mut file_events = Vec::new();
    for (file, message) in drafts.iter().zip(&stored).filter_map(|(draft, m)| draft.file.as_ref().map(|f| (f, m))) {
        crate::store::files::insert_file(conn, file)?;
        let created = EventDraft::file(EventType::FileCreated, file, Some(message.channel_id), message.user_id);
        file_events.push((message.application_id.0, created));
    }
    let message_rows: Vec<MessageRow> = stored.iter().map(MessageRow::from).collect();
    insert_rows!(conn, messages::table, messages::id, message_rows);
    for (reply, parent) in stored.iter().filter_map(|m| m.parent_id.map(|parent| (m, parent))) {
        let counted = KeepPrepared(diesel::update(messages::table.filter(messages::id.eq(parent.0))).set((
            messages::replies_count.eq(messages::replies_count + 1),
            // Its representation shows the count: `Last-Modified` moves with it.
            messages::updated_at.eq(Some(reply.created_time.naive_utc())),
        )))
        .execute(conn)
        .store_err()?;
        if counted == 0 {
            // The parent was deleted meanwhile: roll back rather than store an orphan.
            return Err(StoreError::Conflict(format!("message {parent} was deleted while replying to it")));
        }
    }
    insert_rows!(conn, notifications::table, notifications::id, notification_rows);
    record_created(conn, &stored, file_events, notification_rows)?;
    Ok(stored)
}

/// `message.created` for each message, `file.created` for each file, then
/// `notification.created` for each notification, per
/// application (a group may hold several), counters taken in application order so that two
/// nodes' groups never wait on each other in a cycle.
fn record_created(
    conn: &mut AnyConnection,
    stored: &[Message],
    file_events: Vec<(i64, EventDraft)>,
    notification_rows: Vec<NotificationRow>,
) -> StoreResult<()> {
    let mut by_application: BTreeMap<i64, Vec<EventDraft>> = BTreeMap::new();
    for message in stored {
        by_application
            .entry(message.application_id.0)
            .or_default()
            .push(EventDraft::message(EventType::MessageCreated, message));
    }
    for (application_id, event) in file_events {
        by_application.entry(application_id).or_default().push(event);
    }
    for row in notification_rows {
        let application_id = row.application_id;
        let notification = Notification::try_from(row)?;
        by_application.entry(application_id).or_default().push(EventDraft::notification(&notification));
    }
    let now = stored.first().map_or_else(roost_domain::now, |m| m.created_time);
    for (application_id, events) in by_application {
        record(conn, ApplicationId(application_id), &events, now)?;
    }
    Ok(())
}

/// The slow path of [`append_all`]: the channel holds a message newer than the ids drawn for
/// it (or is gone). Locks it, reads its newest id, draws new ids above that one (at once, see
/// [`IdGenerator::next_id_above`]) and records the newest.
fn renumber_after_newest(
    conn: &mut AnyConnection,
    ids: &IdGenerator,
    channel_id: i64,
    stored: &mut [Message],
    top_level: i64,
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
        diesel::update(channels::table.filter(channels::id.eq(channel_id)))
            .set((channels::last_message_id.eq(last), channels::message_count.eq(channels::message_count + top_level))),
    )
    .execute(conn)
    .store_err()?;
    Ok(())
}
