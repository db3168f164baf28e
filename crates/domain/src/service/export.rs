//! An application's data as import files (`roost export`): what one Roost exports, another
//! imports unchanged. Channels are named by name (a direct channel, which has none, by its
//! members), users by name, a reply's parent by its `idempotencyKey`.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::Service;
use crate::error::DomainError;
use crate::model::channel::{Channel, ChannelType};
use crate::model::file::Picture;
use crate::model::ids::{ApplicationId, ChannelId, UserId};
use crate::model::message::MessageType;

/// Records per page.
const PAGE: u32 = 100;

/// The four import files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFile {
    /// `users.json` (`POST /v1/imports/users`).
    Users,
    /// `channels.json`, each with its members (`POST /v1/imports/channels`).
    Channels,
    /// `members.json`: `{channel, username}` per membership of a group channel, for
    /// `POST /v1/imports/channels/{id}/members` into a channel that exists already.
    Members,
    /// `messages.json`, oldest first (`POST /v1/imports/messages`).
    Messages,
}

/// A page of an export file's records.
#[derive(Debug, Default)]
pub struct ExportPage {
    /// The records, as the import reads them.
    pub records: Vec<Value>,
    /// Where the next page starts; `None` when this was the last.
    pub next: Option<i64>,
    /// Records left out: messages an import cannot bring (files).
    pub skipped: u64,
}

/// The name a channel goes by in an export: its own, or one made from its id for a group
/// channel without (direct channels go by their members).
fn channel_name(channel: &Channel) -> Option<String> {
    match (&channel.name, channel.channel_type) {
        (Some(name), _) => Some(name.clone()),
        (None, ChannelType::Direct) => None,
        (None, _) => Some(format!("channel-{}", channel.id.0)),
    }
}

impl Service {
    /// A page of an export file of the application: records after `after` (from the start
    /// when `None`).
    pub fn export_page(
        &self,
        application_id: ApplicationId,
        file: ExportFile,
        after: Option<i64>,
    ) -> Result<ExportPage, DomainError> {
        self.application(application_id)?;
        match file {
            ExportFile::Users => self.export_users(application_id, after.unwrap_or(i64::MIN)),
            ExportFile::Channels | ExportFile::Members => {
                self.export_channels(application_id, after.unwrap_or(i64::MIN), file)
            }
            ExportFile::Messages => self.export_messages(application_id, after.unwrap_or(i64::MIN)),
        }
    }

    fn export_users(&self, application_id: ApplicationId, after: i64) -> Result<ExportPage, DomainError> {
        let users = self.ports.export.users_after(application_id, after, PAGE)?;
        let next = (users.len() == PAGE as usize).then(|| users.last().map(|u| u.id.0)).flatten();
        let records = users
            .iter()
            .map(|user| {
                let mut record = json!({
                    "name": user.name,
                    "displayName": user.display_name,
                    "guest": user.is_guest,
                    "properties": user.properties,
                    "createdTime": iso(user.created_time),
                });
                if let Some(Picture::External(url)) = &user.display_picture {
                    record["displayPicture"] = json!({"url": url});
                }
                record
            })
            .collect();
        Ok(ExportPage { records, next, skipped: 0 })
    }

    fn export_channels(
        &self,
        application_id: ApplicationId,
        after: i64,
        file: ExportFile,
    ) -> Result<ExportPage, DomainError> {
        let channels = self.ports.export.channels_after(application_id, after, PAGE)?;
        let next = (channels.len() == PAGE as usize).then(|| channels.last().map(|c| c.id.0)).flatten();
        let mut records = Vec::new();
        for channel in &channels {
            let members = self.member_names(application_id, channel.id)?;
            match (file, channel_name(channel)) {
                (ExportFile::Members, Some(name)) => {
                    records.extend(members.into_iter().map(|username| json!({"channel": name, "username": username})));
                }
                (ExportFile::Members, None) => {}
                (_, name) => {
                    let creator = match channel.creator_id {
                        Some(id) => self.ports.users.find_user(application_id, id)?.map(|u| u.name),
                        None => None,
                    };
                    let mut record = Map::new();
                    record.insert("type".into(), json!(channel.channel_type.as_str()));
                    record.extend(name.map(|n| ("name".to_owned(), json!(n))));
                    record.extend(channel.display_name.as_ref().map(|d| ("displayName".to_owned(), json!(d))));
                    record.extend(creator.map(|c| ("creator".to_owned(), json!(c))));
                    record.insert("members".into(), json!(members));
                    record.insert("properties".into(), json!(channel.properties));
                    record.insert("createdTime".into(), json!(iso(channel.created_time)));
                    records.push(Value::Object(record));
                }
            }
        }
        Ok(ExportPage { records, next, skipped: 0 })
    }

    /// A channel's members' names, in id order.
    fn member_names(&self, application_id: ApplicationId, channel_id: ChannelId) -> Result<Vec<String>, DomainError> {
        let mut ids = self.ports.channels.member_ids(channel_id)?;
        ids.sort_unstable();
        let mut names = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1_000) {
            let mut users = self.ports.users.users_by_ids(application_id, chunk)?;
            users.sort_unstable_by_key(|u| u.id);
            names.extend(users.into_iter().map(|u| u.name));
        }
        Ok(names)
    }

    fn export_messages(&self, application_id: ApplicationId, after: i64) -> Result<ExportPage, DomainError> {
        let page = self.ports.export.messages_after(application_id, after, PAGE)?;
        let next = (page.len() == PAGE as usize).then(|| page.last().map(|m| m.message.id.0)).flatten();
        let mut user_ids: Vec<UserId> = page.iter().filter_map(|m| m.message.user_id).collect();
        user_ids.sort_unstable();
        user_ids.dedup();
        let users: HashMap<UserId, String> =
            self.ports.users.users_by_ids(application_id, &user_ids)?.into_iter().map(|u| (u.id, u.name)).collect();
        let mut channel_ids: Vec<ChannelId> = page.iter().map(|m| m.message.channel_id).collect();
        channel_ids.sort_unstable();
        channel_ids.dedup();
        let mut channels: HashMap<ChannelId, Value> = HashMap::new();
        for channel in self.ports.channels.channels_by_ids(application_id, &channel_ids)? {
            let named = match channel_name(&channel) {
                Some(name) => json!({"channel": name}),
                None => json!({"channelMembers": self.member_names(application_id, channel.id)?}),
            };
            channels.insert(channel.id, named);
        }
        let (mut records, mut skipped) = (Vec::with_capacity(page.len()), 0);
        for exported in &page {
            let m = &exported.message;
            let (Some(body), Some(Value::Object(channel))) = (&m.body, channels.get(&m.channel_id)) else {
                skipped += 1;
                continue;
            };
            let sender = m.user_id.and_then(|u| users.get(&u));
            // A message whose sender was deleted since is the application's now: an import
            // needs a TEXT message's sender.
            let message_type = match (m.message_type, sender) {
                (MessageType::Text | MessageType::File, Some(_)) => "TEXT",
                _ => "SYSTEM_TEXT",
            };
            let mut record = Map::new();
            record.insert("type".into(), json!(message_type));
            record.insert("body".into(), json!(body));
            record.extend(channel.clone());
            record.extend(sender.map(|name| ("user".to_owned(), json!(name))));
            record.extend(m.group_tag.as_ref().map(|tag| ("groupTag".to_owned(), json!(tag))));
            record.insert("properties".into(), json!(m.properties));
            let key = exported.key.clone().unwrap_or_else(|| format!("roost-{}", m.id.0));
            record.insert("idempotencyKey".into(), json!(key));
            if let Some(parent) = m.parent_id {
                let parent_key = exported.parent_key.clone().unwrap_or_else(|| format!("roost-{}", parent.0));
                record.insert("parent".into(), json!(parent_key));
            }
            record.insert("createdTime".into(), json!(iso(m.created_time)));
            records.push(Value::Object(record));
        }
        Ok(ExportPage { records, next, skipped })
    }
}

fn iso(time: crate::model::Timestamp) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
