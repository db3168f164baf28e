//! Jobs (`ApplicationJobResource`), with Roost's progress fields.

use roost_domain::model::job::{Job, JobError};
use roost_hal::{Links, Resource};
use serde::Serialize;

use super::iso;
use crate::urls::Urls;

/// A job: the spec's fields, plus how far it got and what it could not apply.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationJobProperties)]
#[serde(rename_all = "camelCase")]
pub struct JobRepr {
    id: i64,
    /// `CHANNEL_IMPORT`, `CHANNEL_MEMBERS_IMPORT`, `MESSAGE_IMPORT`, `USER_IMPORT` or
    /// `MESSAGE_ANALYTICS_EXPORT` (a user analytics export answers `USER_IMPORT`, as the spec's
    /// example does: its enum has no user export).
    #[serde(rename = "type")]
    job_type: &'static str,
    /// Roost's: exactly what the job does, `type`'s values plus `USER_ANALYTICS_EXPORT`.
    kind: &'static str,
    /// `PENDING`, `RUNNING`, `FINISHED` or `FAILED`.
    state: &'static str,
    created_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    ended_time: Option<String>,
    /// An export's result, to download.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    file: Option<String>,
    /// Roost's: records read so far.
    processed: u64,
    /// Roost's: records that could not be applied.
    failed: u64,
    /// Roost's: the first 1 000 of them (`index` from 0, `idempotencyKey`, `reason`); a failed
    /// job's own reason is an entry without `index`.
    #[schema(value_type = Vec<Object>)]
    errors: Vec<JobError>,
}

/// A job as answered.
pub fn job(found: &Job, urls: &Urls) -> Resource<JobRepr> {
    let repr = JobRepr {
        id: found.id,
        job_type: found.job_type.spec_type(),
        kind: found.job_type.as_str(),
        state: found.state.as_str(),
        created_time: iso(found.created_time),
        ended_time: found.ended_time.map(iso),
        file: found.result_key.as_deref().map(|key| urls.file(key)),
        processed: found.processed,
        failed: found.failed,
        errors: found.errors.clone(),
    };
    let links = Links::new()
        .with_href("self", urls.v1(&format!("/jobs/{}", found.id)))
        .with_href("application", urls.v1("/application"));
    Resource::new(repr, links)
}
