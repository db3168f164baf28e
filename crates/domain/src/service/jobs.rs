//! Imports as jobs: accepted at once (202), run by a node's job runner in batches, each batch's
//! records applied idempotently and its progress saved, so a job resumes after a restart.

use std::collections::HashMap;

use super::Service;
use crate::error::DomainError;
use crate::model::channel::{ChannelType, NewChannel};
use crate::model::cursor::CursorRequest;
use crate::model::ids::{ChannelId, UserId};
use crate::model::job::{ChannelImport, CsvRow, ImportRecord, Job, JobError, JobType, MemberImport, UserImport};
use crate::model::message::{MessageFilter, MessageScope};
use crate::model::page::Page;
use crate::model::principal::Principal;
use crate::model::user::{new_user, NewUser, UserRef};
use crate::model::{has_nul, now, Timestamp};

impl Service {
    /// Accepts an import whose records are in the file store under `input_key`: a pending job
    /// (the application only; a members import's channel must be the application's).
    pub fn accept_import(
        &self,
        principal: &Principal,
        job_type: JobType,
        channel_id: Option<ChannelId>,
        input_key: &str,
    ) -> Result<Job, DomainError> {
        let application_id = self.check_import(principal, channel_id)?;
        let job = Job {
            channel_id,
            input_key: Some(input_key.to_owned()),
            ..Job::pending(self.next_id(), application_id, job_type, now())
        };
        self.ports.jobs.insert_job(&job)?;
        Ok(job)
    }

    /// Whether the principal may import, into `channel_id` for a members import (a group
    /// channel of its application): checked before the file is read, and again with it.
    pub fn check_import(
        &self,
        principal: &Principal,
        channel_id: Option<ChannelId>,
    ) -> Result<crate::model::ids::ApplicationId, DomainError> {
        let application_id = principal.manage()?;
        if let Some(channel_id) = channel_id {
            let (channel, _) = self.visible_channel(principal, channel_id)?;
            channel.check_group()?;
        }
        Ok(application_id)
    }

    /// Accepts an export of the application's messages as CSV (`POST /v1/analytics/messages`):
    /// a pending job whose `file` is the CSV once it has finished.
    pub fn accept_message_export(&self, principal: &Principal) -> Result<Job, DomainError> {
        self.accept_export(principal, JobType::MessageAnalyticsExport)
    }

    /// Accepts an export of the application's users as CSV (`POST /v1/analytics/users`).
    pub fn accept_user_export(&self, principal: &Principal) -> Result<Job, DomainError> {
        self.accept_export(principal, JobType::UserAnalyticsExport)
    }

    fn accept_export(&self, principal: &Principal, job_type: JobType) -> Result<Job, DomainError> {
        let application_id = principal.manage()?;
        let job = Job::pending(self.next_id(), application_id, job_type, now());
        self.ports.jobs.insert_job(&job)?;
        Ok(job)
    }

    /// For the job runner: a page of an export's rows after `from` (from the start when
    /// `None`); and where the next page starts (`None`: done).
    pub fn analytics_page(&self, job: &Job, from: Option<i64>) -> Result<(Vec<CsvRow>, Option<i64>), DomainError> {
        match job.job_type {
            JobType::UserAnalyticsExport => self.user_export_page(job, from),
            _ => self.message_export_page(job, from),
        }
    }

    /// The application's users by id, with their presence.
    fn user_export_page(&self, job: &Job, after: Option<i64>) -> Result<(Vec<CsvRow>, Option<i64>), DomainError> {
        const PAGE: u32 = 100;
        let users = self.ports.export.users_after(job.application_id, after.unwrap_or(i64::MIN), PAGE)?;
        let next = (users.len() == PAGE as usize).then(|| users.last().map(|u| u.id.0)).flatten();
        let rows = users
            .iter()
            .map(|u| {
                CsvRow(vec![
                    u.id.0.to_string(),
                    u.name.clone(),
                    u.display_name.clone(),
                    u.is_guest.to_string(),
                    u.presence.online.to_string(),
                    u.created_time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    serde_json::to_string(&u.properties).unwrap_or_default(),
                ])
            })
            .collect();
        Ok((rows, next))
    }

    /// Messages newest first, older than `older_than` (from the newest when `None`).
    fn message_export_page(
        &self,
        job: &Job,
        older_than: Option<i64>,
    ) -> Result<(Vec<CsvRow>, Option<i64>), DomainError> {
        let application_id = job.application_id;
        let request = match older_than {
            None => CursorRequest::parse(Some(100), None, None, None)?,
            Some(next) => CursorRequest::parse(Some(100), None, Some(next), Some("NEXT"))?,
        };
        let page = self.ports.messages.list_messages(
            application_id,
            &MessageScope::Application,
            &MessageFilter::default(),
            &request,
        )?;
        let mut user_ids: Vec<UserId> = page.items.iter().filter_map(|m| m.user_id).collect();
        user_ids.sort_unstable();
        user_ids.dedup();
        let mut channel_ids: Vec<ChannelId> = page.items.iter().map(|m| m.channel_id).collect();
        channel_ids.sort_unstable();
        channel_ids.dedup();
        let users: HashMap<UserId, String> =
            self.ports.users.users_by_ids(application_id, &user_ids)?.into_iter().map(|u| (u.id, u.name)).collect();
        let channels: HashMap<ChannelId, Option<String>> = self
            .ports
            .channels
            .channels_by_ids(application_id, &channel_ids)?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let rows = page
            .items
            .iter()
            .map(|m| {
                CsvRow(vec![
                    m.id.0.to_string(),
                    m.message_type.as_str().to_owned(),
                    m.channel_id.0.to_string(),
                    channels.get(&m.channel_id).cloned().flatten().unwrap_or_default(),
                    m.user_id.map(|u| u.0.to_string()).unwrap_or_default(),
                    m.user_id.and_then(|u| users.get(&u).cloned()).unwrap_or_default(),
                    m.body.clone().unwrap_or_default(),
                    m.group_tag.clone().unwrap_or_default(),
                    m.parent_id.map(|p| p.0.to_string()).unwrap_or_default(),
                    m.created_time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                ])
            })
            .collect();
        Ok((rows, page.next))
    }

    /// For the job runner: records an export's CSV (in the file store under `file.key`) as a
    /// hosted file its job names, so `GET /v1/files/{key}` serves it.
    pub fn record_export(&self, file: &crate::model::file::StoredFile) -> Result<(), DomainError> {
        Ok(self.ports.files.record_file(file)?)
    }

    /// One of the application's jobs (`GET /v1/jobs/{id}`).
    pub fn job(&self, principal: &Principal, id: i64) -> Result<Job, DomainError> {
        let application_id = principal.manage()?;
        self.ports.jobs.find_job(application_id, id)?.ok_or(DomainError::NotFound("job"))
    }

    /// The application's jobs, newest first (`GET /v1/jobs`, `running=true|false`).
    pub fn jobs(
        &self,
        principal: &Principal,
        running: Option<bool>,
        number: u32,
        size: u32,
    ) -> Result<Page<Job>, DomainError> {
        let application_id = principal.manage()?;
        Ok(self.ports.jobs.list_jobs(application_id, running, number, size)?)
    }

    /// For the job runner: the next due job, leased to `node` until `lease_until`.
    pub fn claim_job(&self, node: i64, lease_until: Timestamp) -> Result<Option<Job>, DomainError> {
        Ok(self.ports.jobs.claim_job(node, now(), lease_until)?)
    }

    /// For the job runner, as it starts: the jobs this node's previous run held are due at once
    /// (it died with them); how many.
    pub fn release_jobs(&self, node: i64) -> Result<u64, DomainError> {
        Ok(self.ports.jobs.release_jobs(node)?)
    }

    /// For the job runner: saves a job's progress under the lease `held`; `false` when another
    /// node has taken the job since.
    pub fn save_job(&self, job: &Job, held: Timestamp, renew: Timestamp) -> Result<bool, DomainError> {
        Ok(self.ports.jobs.save_job(job, held, renew)?)
    }

    /// For the job runner: renews the lease `held` on a running job until `renew`; `false`
    /// when another node has taken the job since.
    pub fn renew_job(&self, id: i64, held: Timestamp, renew: Timestamp) -> Result<bool, DomainError> {
        Ok(self.ports.jobs.renew_job(id, held, renew)?)
    }

    /// For the job runner: applies a batch of an import's records; the errors of those that
    /// could not be applied. A record already applied (the same user name, channel name or
    /// membership) is kept as it is and is not an error: a batch run twice adds nothing.
    pub fn apply_import(&self, job: &Job, records: &[ImportRecord]) -> Result<Vec<JobError>, DomainError> {
        if job.job_type == JobType::MessageImport {
            return self.import_message_batch(job, records);
        }
        let principal = self.job_principal(job)?;
        let mut errors = Vec::new();
        for record in records {
            let applied = match job.job_type {
                JobType::UserImport => record.parse().and_then(|user| self.import_user(&principal, record, user)),
                JobType::ChannelImport => {
                    record.parse().and_then(|channel| self.import_channel(&principal, job.id, record, channel))
                }
                JobType::ChannelMembersImport => {
                    record.parse().and_then(|member| self.import_member(&principal, job, record, member))
                }
                JobType::MessageImport | JobType::MessageAnalyticsExport | JobType::UserAnalyticsExport => {
                    Err(record.error(format!("{} records are not applied one by one", job.job_type.as_str())))
                }
            };
            match applied {
                Ok(()) => {}
                // The store failing is the job's failure (it is retried), not the record's.
                Err(error) if error.index.is_none() => return Err(DomainError::InvalidArgument(error.reason)),
                Err(error) => errors.push(error),
            }
        }
        Ok(errors)
    }

    /// The application acting as itself, as its back end would.
    fn job_principal(&self, job: &Job) -> Result<Principal, DomainError> {
        let application = self.application(job.application_id)?;
        Ok(Principal::Application {
            application_id: job.application_id,
            organization_id: application.organization_id,
            client_id: "roost-import".to_owned(),
        })
    }

    fn import_user(&self, principal: &Principal, record: &ImportRecord, input: UserImport) -> Result<(), JobError> {
        let application_id = principal.application_id();
        let created = input.created_time.unwrap_or_else(now);
        let fields = NewUser {
            name: Some(input.name),
            display_name: input.display_name,
            is_guest: input.guest,
            properties: input.properties,
        };
        // Validated before it is looked up: a name no user can have (a NUL) is this record's
        // error, never the store's.
        let mut user = new_user(UserId(0), application_id, fields, created).map_err(|e| record.error(e.to_string()))?;
        if has_nul(&user.name) {
            return Err(record.error("name must not contain NUL characters"));
        }
        let found = self.ports.users.find_user_by_name(application_id, &user.name).map_err(|e| store_error(&e))?;
        let user = match found {
            Some(existing) => existing,
            None => {
                user.id = UserId(self.next_id());
                match self.ports.users.insert_user(&user) {
                    Ok(()) => user,
                    // Another import or request created it meanwhile: it is there.
                    Err(crate::error::StoreError::Conflict(_)) => return Ok(()),
                    Err(e) => return Err(store_error(&e)),
                }
            }
        };
        // Set when the user has none yet: a run that stopped between the two is completed.
        if let (Some(picture), None) = (input.display_picture, &user.display_picture) {
            let external = super::NewPicture::External { url: picture.url };
            self.set_display_picture(principal, user.id, external).map_err(|e| record.error(e.to_string()))?;
        }
        Ok(())
    }

    fn import_channel(
        &self,
        principal: &Principal,
        job_id: i64,
        record: &ImportRecord,
        input: ChannelImport,
    ) -> Result<(), JobError> {
        let application_id = principal.application_id();
        let channel_type = ChannelType::parse(&input.channel_type)
            .ok_or_else(|| record.error("type must be PUBLIC, PRIVATE or DIRECT"))?;
        let named = [&input.name, &input.creator].into_iter().flatten().chain(&input.members).any(|n| has_nul(n));
        if named {
            return Err(record.error("names must not contain NUL characters"));
        }
        // A group channel without a name is named after its record, so that importing it again
        // finds it (a random name would make another).
        let name = match (&input.name, channel_type) {
            (None, ChannelType::Public | ChannelType::Private) => Some(match record.idempotency_key() {
                Some(key) => format!("imported-{key}"),
                None => format!("imported-{}-{}", job_id, record.index),
            }),
            (name, _) => name.clone(),
        };
        if let Some(name) = &name {
            let found = self.ports.channels.find_channel_by_name(application_id, name).map_err(|e| store_error(&e))?;
            if found.is_some() {
                return Ok(());
            }
        }
        let fields = NewChannel {
            channel_type,
            name,
            display_name: input.display_name,
            creator: input.creator.map(UserRef::Name),
            members: input.members.into_iter().map(UserRef::Name).collect(),
            properties: input.properties.unwrap_or_default(),
        };
        let created = input.created_time.unwrap_or_else(now);
        match self.new_channel(application_id, fields, created) {
            Ok(_) => Ok(()),
            Err(DomainError::Store(e)) => Err(store_error(&e)),
            Err(e) => Err(record.error(e.to_string())),
        }
    }

    fn import_member(
        &self,
        principal: &Principal,
        job: &Job,
        record: &ImportRecord,
        input: MemberImport,
    ) -> Result<(), JobError> {
        let channel_id = job.channel_id.ok_or_else(|| record.error("the job names no channel"))?;
        if has_nul(&input.username) {
            return Err(record.error("username must not contain NUL characters"));
        }
        if let Some(named) = &input.channel {
            let (channel, _) = self.visible_channel(principal, channel_id).map_err(|e| record.error(e.to_string()))?;
            if channel.name.as_deref() != Some(named.as_str()) {
                return Err(record.error(format!("the record is for channel '{named}', not this one")));
            }
        }
        match self.add_member(principal, channel_id, &UserRef::Name(input.username)) {
            Ok(_) => Ok(()),
            Err(DomainError::Store(e)) => Err(store_error(&e)),
            Err(e) => Err(record.error(e.to_string())),
        }
    }
}

/// The store failing: the job's error (no index), so the batch is retried, never skipped.
pub(super) fn store_error(error: &crate::error::StoreError) -> JobError {
    JobError { index: None, idempotency_key: None, reason: error.to_string() }
}
