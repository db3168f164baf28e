//! Jobs (imports and exports) and their progress.

use super::StoreResult;
use crate::model::ids::ApplicationId;
use crate::model::job::{ImportRecord, Job};
use crate::model::page::Page;
use crate::model::Timestamp;

/// Jobs, leased to the node that runs them.
pub trait JobStore: Send + Sync {
    /// Stores a new job.
    fn insert_job(&self, job: &Job) -> StoreResult<()>;
    /// One job of the application.
    fn find_job(&self, application_id: ApplicationId, id: i64) -> StoreResult<Option<Job>>;
    /// A page of the application's jobs, newest first; `running` keeps only those that are
    /// (`true`) or are not (`false`) pending or running.
    fn list_jobs(
        &self,
        application_id: ApplicationId,
        running: Option<bool>,
        number: u32,
        size: u32,
    ) -> StoreResult<Page<Job>>;
    /// Takes the oldest job that is due (pending, or running under a lease that ran out: its
    /// node died) and leases it to `node` until `lease_until`; the job, marked running.
    fn claim_job(&self, node: i64, now: Timestamp, lease_until: Timestamp) -> StoreResult<Option<Job>>;
    /// Ends the leases `node` holds: its previous run died with them, and the jobs are due now.
    fn release_jobs(&self, node: i64) -> StoreResult<u64>;
    /// Saves a job's progress (counts, errors, state, end) if this node still holds it under
    /// `held`, leasing it until `renew`; `false` when the lease was lost to another node. A job
    /// saved as ended (finished or failed) loses the records it kept for later, in the same
    /// transaction.
    fn save_job(&self, job: &Job, held: Timestamp, renew: Timestamp) -> StoreResult<bool>;
    /// Renews the lease `held` on job `id` until `renew`; `false` when it was lost.
    fn renew_job(&self, id: i64, held: Timestamp, renew: Timestamp) -> StoreResult<bool>;
    /// Keeps records of job `job_id` to apply later (replies read before their parent); a
    /// record kept already stays as it is.
    fn defer_records(&self, job_id: i64, records: &[ImportRecord]) -> StoreResult<()>;
    /// Up to `limit` of the records kept for job `job_id`, by index from the highest, below
    /// `below` when given.
    fn deferred_records(&self, job_id: i64, below: Option<u64>, limit: u32) -> StoreResult<Vec<ImportRecord>>;
    /// Forgets kept records of job `job_id` (applied, or failed and counted).
    fn forget_deferred(&self, job_id: i64, indices: &[u64]) -> StoreResult<()>;
}
