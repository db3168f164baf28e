//! Message imports (`POST /v1/imports/messages`): history keeps its original times, senders,
//! threads and replies.
//!
//! Each message's id comes from its own time ([`crate::IdGenerator::imported_id`]), so an old
//! message imported after new ones still sits in its place in every cursor page. A record is
//! found again by its `idempotencyKey` (one is made from the record's content when it has none),
//! so a batch applied twice, or a file imported again, adds nothing. A reply names its parent by key; one
//! read before its parent waits in the store until the file has been read, then is applied.

use std::collections::{HashMap, HashSet};

use super::Service;
use crate::error::DomainError;
use crate::model::channel::{direct_key, Channel};
use crate::model::ids::{ChannelId, MessageId, UserId};
use crate::model::job::{ImportRecord, ImportedMessage, Job, JobError, MessageImport};
use crate::model::message::{Message, MessageType};
use crate::model::{has_nul, now};

/// The oldest time an imported message's id can hold: 2^41 ms before the id epoch (2025).
const OLDEST_IMPORT_UNIX_MS: i64 = 1_735_689_600_000 - (1 << 41);

/// A record read, waiting for its turn.
struct Pending<'a> {
    record: &'a ImportRecord,
    input: MessageImport,
    key: String,
}

/// What a batch has looked up already: most records of a batch share a channel and a few users.
#[derive(Default)]
struct Lookups {
    channels_by_name: HashMap<String, Option<Channel>>,
    channels_by_id: HashMap<i64, Option<Channel>>,
    direct_channels: HashMap<String, Option<Channel>>,
    users: HashMap<String, Option<UserId>>,
}

/// Records that could not be applied, and those still waiting for their parent.
type Applied<'a> = (Vec<JobError>, Vec<&'a ImportRecord>);

impl Service {
    /// Applies a batch of a message import's records; replies whose parent is not there yet
    /// are kept to be applied once the whole file has been read.
    pub(super) fn import_message_batch(
        &self,
        job: &Job,
        records: &[ImportRecord],
    ) -> Result<Vec<JobError>, DomainError> {
        let (errors, waiting) = self.import_messages(job, records)?;
        // Kept with the key they were given: a digest of the stored copy could differ.
        let waiting: Vec<ImportRecord> = waiting
            .into_iter()
            .map(|record| {
                let mut kept = record.clone();
                if record.idempotency_key().is_none() {
                    if let Some(fields) = kept.value.as_object_mut() {
                        fields.insert("idempotencyKey".into(), content_key(record).into());
                    }
                }
                kept
            })
            .collect();
        self.ports.jobs.defer_records(job.id, &waiting)?;
        Ok(errors)
    }

    /// For the job runner, once a message import's file has been read: up to `limit` of the
    /// replies kept for later, from the last read (oldest first in a newest-first export).
    pub fn deferred_import_records(
        &self,
        job: &Job,
        below: Option<u64>,
        limit: u32,
    ) -> Result<Vec<ImportRecord>, DomainError> {
        Ok(self.ports.jobs.deferred_records(job.id, below, limit)?)
    }

    /// For the job runner: applies kept replies whose parent is there now; on the `last`
    /// sweep, those whose parent never came are errors. The errors, and the records done with
    /// (to forget once the job's progress is saved).
    pub fn apply_deferred_imports(
        &self,
        job: &Job,
        records: &[ImportRecord],
        last: bool,
    ) -> Result<(Vec<JobError>, Vec<u64>), DomainError> {
        let (mut errors, waiting) = self.import_messages(job, records)?;
        let waiting: HashSet<u64> = waiting.iter().map(|r| r.index).collect();
        if last {
            for record in records.iter().filter(|r| waiting.contains(&r.index)) {
                let parent = record.parse::<MessageImport>().ok().and_then(|m| m.parent).unwrap_or_default();
                errors.push(record.error(format!(
                    "parent '{parent}' was not imported (it is not in the file or an earlier import, or it failed)"
                )));
            }
        }
        let done = records.iter().map(|r| r.index).filter(|i| last || !waiting.contains(i)).collect();
        Ok((errors, done))
    }

    /// For the job runner, now and then while an import grows the tables: refreshes the
    /// store's statistics of them, so that its plans fit their size.
    pub fn refresh_import_statistics(&self) -> Result<(), DomainError> {
        Ok(self.ports.messages.refresh_import_statistics()?)
    }

    /// For the job runner: forgets kept records done with.
    pub fn forget_deferred_imports(&self, job: &Job, indices: &[u64]) -> Result<(), DomainError> {
        Ok(self.ports.jobs.forget_deferred(job.id, indices)?)
    }

    /// Applies what can be applied of `records`, in rounds: a reply whose parent is in the
    /// same batch goes in the round after its parent's.
    fn import_messages<'a>(&self, job: &Job, records: &'a [ImportRecord]) -> Result<Applied<'a>, DomainError> {
        let mut errors = Vec::new();
        let mut pending = Vec::new();
        for record in records {
            match record.parse::<MessageImport>() {
                Ok(input) => {
                    let key = input.idempotency_key.clone().unwrap_or_else(|| content_key(record));
                    pending.push(Pending { record, input, key });
                }
                Err(error) => errors.push(error),
            }
        }
        let mut wanted: Vec<String> =
            pending.iter().flat_map(|p| std::iter::once(p.key.clone()).chain(p.input.parent.clone())).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let application_id = job.application_id;
        let mut known: HashMap<String, MessageId> =
            self.ports.messages.imported_keys(application_id, &wanted)?.into_iter().collect();
        let mut lookups = Lookups::default();
        loop {
            // Imported already (by an earlier run, or a record of the same key before it).
            pending.retain(|p| !known.contains_key(&p.key));
            let mut keys_this_round = HashSet::new();
            let (ready, rest): (Vec<Pending<'a>>, Vec<Pending<'a>>) = pending.into_iter().partition(|p| {
                p.input.parent.as_ref().is_none_or(|parent| known.contains_key(parent))
                    && keys_this_round.insert(p.key.clone())
            });
            pending = rest;
            if ready.is_empty() {
                break;
            }
            let parent_ids: Vec<MessageId> =
                ready.iter().filter_map(|p| p.input.parent.as_ref().and_then(|k| known.get(k)).copied()).collect();
            let parents: HashMap<MessageId, Message> = self
                .ports
                .messages
                .messages_by_ids(application_id, &parent_ids)?
                .into_iter()
                .map(|m| (m.id, m))
                .collect();
            let mut batch = Vec::with_capacity(ready.len());
            for p in &ready {
                let parent = p.input.parent.as_ref().and_then(|k| known.get(k)).and_then(|id| parents.get(id));
                match self.imported_message(job, p, parent, &mut lookups) {
                    Ok(message) => batch.push(ImportedMessage { message, key: p.key.clone() }),
                    // The store failing is the job's failure (it is retried), not the record's.
                    Err(error) if error.index.is_none() => return Err(DomainError::InvalidArgument(error.reason)),
                    Err(error) => errors.push(error),
                }
            }
            if batch.is_empty() {
                continue;
            }
            let ids = self.ports.messages.import_messages(&batch)?;
            known.extend(batch.into_iter().map(|m| m.key).zip(ids));
        }
        Ok((errors, pending.into_iter().map(|p| p.record).collect()))
    }

    /// The message a record stands for (its id is given by the store).
    fn imported_message(
        &self,
        job: &Job,
        pending: &Pending<'_>,
        parent: Option<&Message>,
        lookups: &mut Lookups,
    ) -> Result<Message, JobError> {
        let (record, input) = (pending.record, &pending.input);
        let application_id = job.application_id;
        if input.parent.is_some() && parent.is_none() {
            return Err(record.error("the parent message was deleted"));
        }
        let texts = [Some(&input.body), input.group_tag.as_ref(), input.user.as_ref(), input.channel.as_ref()];
        if texts.into_iter().flatten().any(|t| has_nul(t)) {
            return Err(record.error("texts must not contain NUL characters"));
        }
        if input.body.trim().is_empty() {
            return Err(record.error("body must not be empty"));
        }
        if input.body.chars().count() > self.rules.max_body_chars {
            return Err(record.error(format!("body is longer than {} characters", self.rules.max_body_chars)));
        }
        if let Some(created) = input.created_time {
            if created > now() {
                return Err(record.error("createdTime is in the future"));
            }
            if created.timestamp_millis() <= OLDEST_IMPORT_UNIX_MS {
                return Err(record.error("createdTime is before 1955-04-27, the oldest time an id can hold"));
            }
        }
        let channel = self.import_channel_of(job, record, input, parent, lookups)?;
        let (message_type, user_id) = match (input.message_type.as_deref(), &input.user) {
            (None | Some("TEXT"), Some(name)) => {
                (MessageType::Text, Some(self.import_user_named(job, record, name, lookups)?))
            }
            (None | Some("SYSTEM_TEXT"), None) => (MessageType::SystemText, None),
            (Some("TEXT"), None) => return Err(record.error("a TEXT message names its sender as user")),
            (Some("SYSTEM_TEXT"), Some(_)) => return Err(record.error("a SYSTEM_TEXT message has no user")),
            (Some(other), _) => return Err(record.error(format!("type must be TEXT or SYSTEM_TEXT, got '{other}'"))),
        };
        // A reply's thread is set by the store, which finds or makes its parent's thread with the
        // batch; this one is a placeholder.
        let thread_id = parent.map_or(channel.main_thread_id, |p| p.thread_id);
        Ok(Message {
            id: MessageId(0),
            application_id,
            channel_id: channel.id,
            thread_id,
            message_type,
            user_id,
            body: Some(input.body.clone()),
            file: None,
            group_tag: input.group_tag.clone(),
            properties: input.properties.clone().unwrap_or_default(),
            mentions: Vec::new(),
            links: Vec::new(),
            nested_level: parent.map_or(0, |p| p.nested_level + 1),
            replies_count: 0,
            parent_id: parent.map(|p| p.id),
            created_time: input.created_time.unwrap_or_else(now),
            last_edited_time: None,
            version: 1,
            updated_time: None,
        })
    }

    /// The record's channel: its parent's for a reply; else by `channelId`, by `channel` (a
    /// name) or by `channelMembers` (a direct channel's members, by name).
    fn import_channel_of(
        &self,
        job: &Job,
        record: &ImportRecord,
        input: &MessageImport,
        parent: Option<&Message>,
        lookups: &mut Lookups,
    ) -> Result<Channel, JobError> {
        let application_id = job.application_id;
        let store = |e: crate::error::StoreError| super::jobs::store_error(&e);
        let named = match (input.channel_id, &input.channel, &input.channel_members) {
            (Some(id), _, _) => match lookups.channels_by_id.get(&id) {
                Some(found) => found.clone(),
                None => {
                    let found = self.ports.channels.find_channel(application_id, ChannelId(id)).map_err(store)?;
                    lookups.channels_by_id.entry(id).or_insert(found).clone()
                }
            },
            (None, Some(name), _) => match lookups.channels_by_name.get(name) {
                Some(found) => found.clone(),
                None => {
                    let found = self.ports.channels.find_channel_by_name(application_id, name).map_err(store)?;
                    lookups.channels_by_name.entry(name.clone()).or_insert(found).clone()
                }
            },
            (None, None, Some(members)) => {
                let mut ids = Vec::with_capacity(members.len());
                for name in members {
                    ids.push(self.import_user_named(job, record, name, lookups)?);
                }
                let key = direct_key(&ids);
                match lookups.direct_channels.get(&key) {
                    Some(found) => found.clone(),
                    None => {
                        let found = self.ports.channels.find_direct_channel(application_id, &key).map_err(store)?;
                        lookups.direct_channels.entry(key).or_insert(found).clone()
                    }
                }
            }
            (None, None, None) => match parent {
                Some(_) => None,
                None => return Err(record.error("channelId, channel or channelMembers is required")),
            },
        };
        let wanted = input
            .channel_id
            .map(|id| id.to_string())
            .or_else(|| input.channel.clone())
            .or_else(|| input.channel_members.as_ref().map(|members| format!("of members {}", members.join(", "))));
        match (named, parent) {
            (Some(channel), Some(parent)) if channel.id != parent.channel_id => {
                Err(record.error("a reply is in its parent's channel"))
            }
            (Some(channel), _) => Ok(channel),
            (None, Some(parent)) => {
                let found = self.ports.channels.find_channel(application_id, parent.channel_id).map_err(store)?;
                found.ok_or_else(|| record.error("the parent's channel was deleted"))
            }
            (None, None) => Err(record.error(format!("channel '{}' not found", wanted.unwrap_or_default()))),
        }
    }

    fn import_user_named(
        &self,
        job: &Job,
        record: &ImportRecord,
        name: &str,
        lookups: &mut Lookups,
    ) -> Result<UserId, JobError> {
        let found = match lookups.users.get(name) {
            Some(found) => *found,
            None => {
                let user = self
                    .ports
                    .users
                    .find_user_by_name(job.application_id, name)
                    .map_err(|e| super::jobs::store_error(&e))?;
                *lookups.users.entry(name.to_owned()).or_insert(user.map(|u| u.id))
            }
        };
        found.ok_or_else(|| record.error(format!("user '{name}' not found")))
    }
}

/// The key of a record without `idempotencyKey`: a digest of the record as written (fields in
/// the file's order), so the same record imported again is found. Two records alike in every
/// field are one message.
fn content_key(record: &ImportRecord) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(record.value.to_string().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("roost-content-{hex}")
}
