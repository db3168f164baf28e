//! Jobs: imports and exports that run in the background (`GET /v1/jobs`), and the records an
//! import reads (the spec's `ChatUserImport`, `ChannelImport`, `ChannelMembershipImport`, plus
//! Roost's `createdTime`).
//!
//! A job survives a restart: its input is in the file store, and how far it got is stored with
//! it after each batch. A node that dies while running one leaves a lease that runs out; another
//! node (or the same one, restarted) takes it up from its last checkpoint. Records are applied
//! idempotently (same user name, channel name, member), so a batch run twice adds nothing.

use serde::{Deserialize, Serialize};

use super::ids::{ApplicationId, ChannelId};
use super::{Properties, Timestamp};

wire_enum! {
    /// What a job does (`ApplicationJobResource.type`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    JobType {
        ChannelImport => "CHANNEL_IMPORT",
        ChannelMembersImport => "CHANNEL_MEMBERS_IMPORT",
        MessageImport => "MESSAGE_IMPORT",
        UserImport => "USER_IMPORT",
        MessageAnalyticsExport => "MESSAGE_ANALYTICS_EXPORT",
        UserAnalyticsExport => "USER_ANALYTICS_EXPORT",
    }
}

impl JobType {
    /// The `type` answered: the spec's enum has no user export, and its example answers
    /// `POST /v1/analytics/users` with `USER_IMPORT`; Roost's `kind` is always exact.
    pub fn spec_type(self) -> &'static str {
        match self {
            Self::UserAnalyticsExport => Self::UserImport.as_str(),
            other => other.as_str(),
        }
    }

    /// The columns of an export's CSV, in order; `None` for an import.
    pub fn export_columns(self) -> Option<&'static [&'static str]> {
        match self {
            Self::MessageAnalyticsExport => Some(&MESSAGE_EXPORT_COLUMNS),
            Self::UserAnalyticsExport => Some(&USER_EXPORT_COLUMNS),
            _ => None,
        }
    }
}

wire_enum! {
    /// Where a job is (`ApplicationJobResource.state`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    JobState {
        Pending => "PENDING",
        Running => "RUNNING",
        Finished => "FINISHED",
        Failed => "FAILED",
    }
}

/// Most record errors a job keeps (`failed` counts them all).
pub const MAX_JOB_ERRORS: usize = 1_000;

/// Runs in a row that may end without progress before a job is given up as failed.
pub const MAX_JOB_ATTEMPTS: u32 = 5;

/// Longest `reason` or `idempotencyKey` kept in an error, in characters (they come from the
/// file, and are kept and answered with the job).
const MAX_ERROR_TEXT: usize = 256;

fn bounded(text: &str) -> String {
    text.chars().take(MAX_ERROR_TEXT).collect()
}

/// A record an import could not apply, or (without `index`) why the job itself failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobError {
    /// The record's position in the file, from 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The record's `idempotencyKey`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// What was wrong.
    pub reason: String,
}

/// A job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// The tenant.
    pub application_id: ApplicationId,
    /// What it does.
    pub job_type: JobType,
    /// Where it is.
    pub state: JobState,
    /// The channel of a members import.
    pub channel_id: Option<ChannelId>,
    /// The records to import, in the file store.
    pub input_key: Option<String>,
    /// An export's result, in the file store (the job's `file` is its download URL).
    pub result_key: Option<String>,
    /// Records read so far (every record before this position is done: the checkpoint).
    pub processed: u64,
    /// Records that could not be applied.
    pub failed: u64,
    /// The first [`MAX_JOB_ERRORS`] of them, and the job's own failure.
    pub errors: Vec<JobError>,
    /// When it was accepted.
    pub created_time: Timestamp,
    /// When it finished or failed.
    pub ended_time: Option<Timestamp>,
    /// Runs since it last saved progress (counting the one that claimed it).
    pub attempts: u32,
}

impl Job {
    /// A job just accepted: pending, nothing done yet.
    pub fn pending(id: i64, application_id: ApplicationId, job_type: JobType, created_time: Timestamp) -> Self {
        Self {
            id,
            application_id,
            job_type,
            state: JobState::Pending,
            channel_id: None,
            input_key: None,
            result_key: None,
            processed: 0,
            failed: 0,
            errors: Vec::new(),
            created_time,
            ended_time: None,
            attempts: 0,
        }
    }

    /// Whether it is still to run or running.
    pub fn is_running(&self) -> bool {
        matches!(self.state, JobState::Pending | JobState::Running)
    }

    /// Adds record errors, keeping the first [`MAX_JOB_ERRORS`].
    pub fn record_errors(&mut self, errors: impl IntoIterator<Item = JobError>) {
        for error in errors {
            self.failed += 1;
            if self.errors.len() < MAX_JOB_ERRORS {
                self.errors.push(error);
            }
        }
    }
}

/// A display picture named by URL (`FileImport`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileImport {
    /// Where the picture is.
    pub url: String,
}

/// One user to import (`ChatUserImport`). Fields in either casing: the newest official client
/// speaks snake_case.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserImport {
    /// Unique name: a user of that name already there is kept, not duplicated.
    pub name: String,
    /// Display name; defaults to the name.
    #[serde(default, alias = "display_name")]
    pub display_name: Option<String>,
    /// Guest flag (`guest`, or `isGuest` as the user API spells it).
    #[serde(default, alias = "isGuest", alias = "is_guest")]
    pub guest: Option<bool>,
    /// Custom data.
    #[serde(default)]
    pub properties: Option<Properties>,
    /// A display picture hosted elsewhere.
    #[serde(default, alias = "display_picture")]
    pub display_picture: Option<FileImport>,
    /// The exporter's key for it.
    #[serde(default, alias = "idempotency_key")]
    pub idempotency_key: Option<String>,
    /// Roost's: when the user was created where it comes from.
    #[serde(default, alias = "created_time")]
    pub created_time: Option<Timestamp>,
}

/// One channel to import (`ChannelImport`: `PUBLIC`, `PRIVATE` or `DIRECT`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelImport {
    /// `PUBLIC`, `PRIVATE` or `DIRECT`.
    #[serde(rename = "type")]
    pub channel_type: String,
    /// Unique name of a group channel: one of that name already there is kept.
    #[serde(default)]
    pub name: Option<String>,
    /// Display name.
    #[serde(default, alias = "display_name")]
    pub display_name: Option<String>,
    /// Members, by user name.
    #[serde(default)]
    pub members: Vec<String>,
    /// Creator, by user name.
    #[serde(default)]
    pub creator: Option<String>,
    /// Custom data.
    #[serde(default)]
    pub properties: Option<Properties>,
    /// The exporter's key for it.
    #[serde(default, alias = "idempotency_key")]
    pub idempotency_key: Option<String>,
    /// Roost's: when the channel was created where it comes from.
    #[serde(default, alias = "created_time")]
    pub created_time: Option<Timestamp>,
}

/// One member to add (`ChannelMembershipImport`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberImport {
    /// The user, by name.
    pub username: String,
    /// Roost's: the channel, by name (as `roost export` writes `members.json`); when given, it
    /// must be the channel the import is for.
    #[serde(default)]
    pub channel: Option<String>,
    /// The exporter's key for it.
    #[serde(default, alias = "idempotency_key")]
    pub idempotency_key: Option<String>,
}

/// One message to import (`MessageImport`: `TEXT` from a user, `SYSTEM_TEXT` from the
/// application), plus Roost's `createdTime` (its original time), `parent` (the
/// `idempotencyKey` of the message it replies to) and `channel` (the channel's name, instead of
/// `channelId`, so an export moves to another server).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageImport {
    /// `TEXT` or `SYSTEM_TEXT`; without it, `TEXT` when a `user` is named.
    #[serde(default, rename = "type")]
    pub message_type: Option<String>,
    /// The text.
    pub body: String,
    /// The channel, by id.
    #[serde(default, alias = "channel_id")]
    pub channel_id: Option<i64>,
    /// The channel, by name.
    #[serde(default)]
    pub channel: Option<String>,
    /// The channel, by its members' names (a direct channel, which has no name).
    #[serde(default, alias = "channel_members")]
    pub channel_members: Option<Vec<String>>,
    /// The sender, by name (`TEXT`).
    #[serde(default)]
    pub user: Option<String>,
    /// Gallery grouping tag.
    #[serde(default, alias = "group_tag")]
    pub group_tag: Option<String>,
    /// Custom data.
    #[serde(default)]
    pub properties: Option<Properties>,
    /// The exporter's key for it: a re-run finds it, a reply names it.
    #[serde(default, alias = "idempotency_key")]
    pub idempotency_key: Option<String>,
    /// The `idempotencyKey` of the message it replies to.
    #[serde(default)]
    pub parent: Option<String>,
    /// When it was sent where it comes from.
    #[serde(default, alias = "created_time")]
    pub created_time: Option<Timestamp>,
}

/// A message an import stores, with the key it is found again by.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedMessage {
    /// The message; its id is given by the store.
    pub message: super::message::Message,
    /// Its `idempotencyKey` (or one the job made for a record without).
    pub key: String,
}

/// A message as an export reads it: with the key it was imported under, and its parent's.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedMessage {
    /// The message.
    pub message: super::message::Message,
    /// The `idempotencyKey` it was imported with.
    pub key: Option<String>,
    /// Its parent's.
    pub parent_key: Option<String>,
}

/// A record of an import file, read as JSON: its position, its `idempotencyKey` if it has one,
/// and the record or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRecord {
    /// Its position in the file, from 0.
    pub index: u64,
    /// The record as sent.
    pub value: serde_json::Value,
}

impl ImportRecord {
    /// The record's `idempotencyKey`, when it is a string.
    pub fn idempotency_key(&self) -> Option<String> {
        let key = self.value.get("idempotencyKey").or_else(|| self.value.get("idempotency_key"));
        key.and_then(serde_json::Value::as_str).map(str::to_owned)
    }

    /// An error about this record.
    pub fn error(&self, reason: impl Into<String>) -> JobError {
        let reason: String = reason.into();
        JobError {
            index: Some(self.index),
            idempotency_key: self.idempotency_key().as_deref().map(bounded),
            reason: bounded(&reason),
        }
    }

    /// The record as `T`, or the error that says why it is not one.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, JobError> {
        T::deserialize(&self.value).map_err(|e| self.error(format!("not a valid record: {e}")))
    }
}

/// The columns of a message analytics export, in order.
pub const MESSAGE_EXPORT_COLUMNS: [&str; 10] =
    ["id", "type", "channelId", "channelName", "userId", "username", "body", "groupTag", "parentId", "createdTime"];

/// The columns of a user analytics export, in order (`properties` as JSON).
pub const USER_EXPORT_COLUMNS: [&str; 7] =
    ["id", "name", "displayName", "isGuest", "online", "createdTime", "properties"];

/// One line of an analytics export (RFC 4180 CSV).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow(pub Vec<String>);

/// A CSV field (RFC 4180 §2): quoted, quotes doubled, when it holds a comma, a quote or a line
/// break; as it is otherwise.
pub fn csv_field(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

impl CsvRow {
    /// The row as a CSV line, CRLF-terminated (RFC 4180 §2).
    pub fn to_csv(&self) -> String {
        let fields: Vec<_> = self.0.iter().map(|f| csv_field(f)).collect();
        format!("{}\r\n", fields.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_the_spec_fields_and_roosts() {
        let record = ImportRecord {
            index: 3,
            value: serde_json::json!({"name": "ann", "displayName": "Ann", "isGuest": true, "properties": {},
                "idempotencyKey": "u-3", "createdTime": "2020-01-02T03:04:05Z"}),
        };
        let user: UserImport = record.parse().unwrap();
        assert_eq!((user.name.as_str(), user.guest), ("ann", Some(true)));
        assert_eq!(user.created_time.map(|t| t.to_rfc3339()), Some("2020-01-02T03:04:05+00:00".into()));
        let bad =
            ImportRecord { index: 4, value: serde_json::json!({"displayName": "no name", "idempotencyKey": "u-4"}) };
        let error = bad.parse::<UserImport>().unwrap_err();
        assert_eq!((error.index, error.idempotency_key.as_deref()), (Some(4), Some("u-4")));
        assert!(error.reason.contains("name"), "{}", error.reason);
    }

    #[test]
    fn a_job_keeps_the_first_errors_and_counts_them_all() {
        let mut job = Job::pending(1, ApplicationId(1), JobType::UserImport, crate::model::now());
        let many = (0..MAX_JOB_ERRORS as u64 + 5).map(|i| JobError {
            index: Some(i),
            idempotency_key: None,
            reason: "x".into(),
        });
        job.record_errors(many);
        assert_eq!((job.failed, job.errors.len()), (MAX_JOB_ERRORS as u64 + 5, MAX_JOB_ERRORS));
        assert_eq!(JobType::parse("USER_IMPORT"), Some(JobType::UserImport));
        assert_eq!(JobState::Finished.as_str(), "FINISHED");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        let row = CsvRow((0..10).map(|i| if i == 6 { "x,y".into() } else { i.to_string() }).collect());
        assert_eq!(row.to_csv(), "0,1,2,3,4,5,\"x,y\",7,8,9\r\n");
    }
}
