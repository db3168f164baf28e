//! An application whole, in id order: keyset pages for exports.

use std::collections::HashMap;

use diesel::prelude::*;
use roost_domain::model::channel::Channel;
use roost_domain::model::job::ExportedMessage;
use roost_domain::model::user::User;
use roost_domain::ports::{ExportStore, StoreResult};
use roost_domain::ApplicationId;

use super::{DieselResultExt, DieselStore};
use crate::prepared::KeepPreparedLimit;
use crate::rows::{ChannelRow, MessageRow, UserRow};
use crate::schema::{channels, import_keys, messages, users};

impl ExportStore for DieselStore {
    fn users_after(&self, application_id: ApplicationId, after: i64, limit: u32) -> StoreResult<Vec<User>> {
        self.read(|conn| {
            let rows = users::table
                .filter(users::application_id.eq(application_id.0))
                .filter(users::id.gt(after))
                .order(users::id)
                .select(UserRow::as_select())
                .limit_prepared(i64::from(limit))
                .load(conn)
                .store_err()?;
            super::users::to_users(rows)
        })
    }

    fn channels_after(&self, application_id: ApplicationId, after: i64, limit: u32) -> StoreResult<Vec<Channel>> {
        self.read(|conn| {
            let rows = channels::table
                .filter(channels::application_id.eq(application_id.0))
                .filter(channels::id.gt(after))
                .order(channels::id)
                .select(ChannelRow::as_select())
                .limit_prepared(i64::from(limit))
                .load(conn)
                .store_err()?;
            super::channels::to_channels(rows)
        })
    }

    fn messages_after(
        &self,
        application_id: ApplicationId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ExportedMessage>> {
        self.read(|conn| {
            let rows: Vec<MessageRow> = messages::table
                .filter(messages::application_id.eq(application_id.0))
                .filter(messages::id.gt(after))
                .order(messages::id)
                .select(MessageRow::as_select())
                .limit_prepared(i64::from(limit))
                .load(conn)
                .store_err()?;
            let found = super::messages::to_messages(rows)?;
            let mut wanted: Vec<i64> =
                found.iter().flat_map(|m| [Some(m.id.0), m.parent_id.map(|p| p.0)]).flatten().collect();
            wanted.sort_unstable();
            wanted.dedup();
            let keys: HashMap<i64, String> = import_keys::table
                .filter(import_keys::message_id.eq_any(&wanted))
                .select((import_keys::message_id, import_keys::idempotency_key))
                .load::<(i64, String)>(conn)
                .store_err()?
                .into_iter()
                .collect();
            Ok(found
                .into_iter()
                .map(|message| ExportedMessage {
                    key: keys.get(&message.id.0).cloned(),
                    parent_key: message.parent_id.and_then(|p| keys.get(&p.0).cloned()),
                    message,
                })
                .collect())
        })
    }
}
