//! Jobs: imports and exports, leased to the node that runs them.

use diesel::prelude::*;
use roost_domain::model::job::{ImportRecord, Job, JobError, JobState, JobType};
use roost_domain::model::page::Page;
use roost_domain::ports::{JobStore, StoreResult};
use roost_domain::{ApplicationId, ChannelId, StoreError, Timestamp};

use super::{DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::prepared::KeepPreparedLimit;
use crate::rows::utc;
use crate::schema::{import_deferred, jobs};

type Db = <AnyConnection as diesel::Connection>::Backend;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs)]
struct JobRow {
    id: i64,
    application_id: i64,
    job_type: String,
    state: String,
    channel_id: Option<i64>,
    input_key: Option<String>,
    result_key: Option<String>,
    processed: i64,
    failed: i64,
    errors: String,
    lease_until: Option<chrono::NaiveDateTime>,
    node_id: Option<i64>,
    attempts: i32,
    created_at: chrono::NaiveDateTime,
    ended_at: Option<chrono::NaiveDateTime>,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl JobRow {
    fn new(job: &Job) -> StoreResult<Self> {
        Ok(Self {
            id: job.id,
            application_id: job.application_id.0,
            job_type: job.job_type.as_str().to_owned(),
            state: job.state.as_str().to_owned(),
            channel_id: job.channel_id.map(|c| c.0),
            input_key: job.input_key.clone(),
            result_key: job.result_key.clone(),
            processed: count(job.processed),
            failed: count(job.failed),
            errors: serde_json::to_string(&job.errors).map_err(|e| StoreError::Other(e.into()))?,
            lease_until: None,
            node_id: None,
            attempts: i32::try_from(job.attempts).unwrap_or(i32::MAX),
            created_at: job.created_time.naive_utc(),
            ended_at: job.ended_time.map(|t| t.naive_utc()),
        })
    }
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(r: JobRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Other(format!("job {}: unknown {what}", r.id).into());
        let errors: Vec<JobError> = serde_json::from_str(&r.errors).map_err(|_| corrupt("errors"))?;
        Ok(Self {
            id: r.id,
            application_id: ApplicationId(r.application_id),
            job_type: JobType::parse(&r.job_type).ok_or_else(|| corrupt("type"))?,
            state: JobState::parse(&r.state).ok_or_else(|| corrupt("state"))?,
            channel_id: r.channel_id.map(ChannelId),
            input_key: r.input_key,
            result_key: r.result_key,
            processed: u64::try_from(r.processed).unwrap_or(0),
            failed: u64::try_from(r.failed).unwrap_or(0),
            errors,
            created_time: utc(r.created_at),
            ended_time: r.ended_at.map(utc),
            attempts: u32::try_from(r.attempts).unwrap_or(0),
        })
    }
}

const RUNNING: [&str; 2] = ["PENDING", "RUNNING"];

impl JobStore for DieselStore {
    fn insert_job(&self, job: &Job) -> StoreResult<()> {
        let row = JobRow::new(job)?;
        self.write(|conn| {
            diesel::insert_into(jobs::table).values(&row).execute(conn).store_err()?;
            Ok(())
        })
    }

    fn find_job(&self, application_id: ApplicationId, id: i64) -> StoreResult<Option<Job>> {
        self.read(|conn| {
            let row: Option<JobRow> = jobs::table
                .filter(jobs::application_id.eq(application_id.0))
                .filter(jobs::id.eq(id))
                .select(JobRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?;
            row.map(Job::try_from).transpose()
        })
    }

    fn list_jobs(
        &self,
        application_id: ApplicationId,
        running: Option<bool>,
        number: u32,
        size: u32,
    ) -> StoreResult<Page<Job>> {
        self.read(|conn| {
            let base = || {
                let query = jobs::table.filter(jobs::application_id.eq(application_id.0)).into_boxed::<Db>();
                match running {
                    None => query,
                    Some(true) => query.filter(jobs::state.eq_any(RUNNING)),
                    Some(false) => query.filter(diesel::dsl::not(jobs::state.eq_any(RUNNING))),
                }
            };
            let total: i64 = base().count().get_result(conn).store_err()?;
            let offset = i64::from(number).saturating_mul(i64::from(size));
            let rows: Vec<JobRow> = base()
                .order(jobs::id.desc())
                .select(JobRow::as_select())
                .limit_offset_prepared(i64::from(size), offset)
                .load(conn)
                .store_err()?;
            let items = rows.into_iter().map(Job::try_from).collect::<StoreResult<Vec<_>>>()?;
            Ok(Page { items, number, size, total_elements: super::count_to_u64(total) })
        })
    }

    fn claim_job(&self, node: i64, now: Timestamp, lease_until: Timestamp) -> StoreResult<Option<Job>> {
        let now = now.naive_utc();
        let due = || {
            jobs::table.filter(
                jobs::state
                    .eq("PENDING")
                    .or(jobs::state.eq("RUNNING").and(jobs::lease_until.is_null().or(jobs::lease_until.lt(now)))),
            )
        };
        // Looked for outside a write transaction: an idle node's poll takes no write lock.
        let found: Option<i64> = self.read(|conn| {
            due().order(jobs::id).select(jobs::id).limit_prepared(1).get_result(conn).optional().store_err()
        })?;
        let Some(id) = found else { return Ok(None) };
        self.write(|conn| {
            // Only if still due: of two nodes, one takes it.
            let taken = diesel::update(due().filter(jobs::id.eq(id)))
                .set((
                    jobs::state.eq("RUNNING"),
                    jobs::lease_until.eq(Some(lease_until.naive_utc())),
                    jobs::node_id.eq(Some(node)),
                    jobs::attempts.eq(jobs::attempts + 1),
                ))
                .execute(conn)
                .store_err()?;
            if taken == 0 {
                return Ok(None);
            }
            let row: JobRow = jobs::table.find(id).select(JobRow::as_select()).get_result(conn).store_err()?;
            Job::try_from(row).map(Some)
        })
    }

    fn renew_job(&self, id: i64, held: Timestamp, renew: Timestamp) -> StoreResult<bool> {
        self.write(|conn| {
            let renewed = diesel::update(
                jobs::table.filter(jobs::id.eq(id)).filter(jobs::lease_until.eq(Some(held.naive_utc()))),
            )
            .set(jobs::lease_until.eq(Some(renew.naive_utc())))
            .execute(conn)
            .store_err()?;
            Ok(renewed > 0)
        })
    }

    fn release_jobs(&self, node: i64) -> StoreResult<u64> {
        self.write(|conn| {
            let released =
                diesel::update(jobs::table.filter(jobs::state.eq("RUNNING")).filter(jobs::node_id.eq(Some(node))))
                    .set(jobs::lease_until.eq(None::<chrono::NaiveDateTime>))
                    .execute(conn)
                    .store_err()?;
            Ok(u64::try_from(released).unwrap_or(u64::MAX))
        })
    }

    fn save_job(&self, job: &Job, held: Timestamp, renew: Timestamp) -> StoreResult<bool> {
        let row = JobRow::new(job)?;
        self.write(|conn| {
            let saved = diesel::update(
                jobs::table.filter(jobs::id.eq(job.id)).filter(jobs::lease_until.eq(Some(held.naive_utc()))),
            )
            .set((
                jobs::state.eq(&row.state),
                jobs::processed.eq(row.processed),
                jobs::failed.eq(row.failed),
                jobs::errors.eq(&row.errors),
                jobs::input_key.eq(&row.input_key),
                jobs::result_key.eq(&row.result_key),
                jobs::attempts.eq(row.attempts),
                jobs::ended_at.eq(row.ended_at),
                jobs::lease_until.eq(Some(renew.naive_utc())),
            ))
            .execute(conn)
            .store_err()?;
            // A job that ended (finished, failed or given up) keeps no replies for later:
            // nothing will ever read them again.
            if saved > 0 && matches!(job.state, JobState::Finished | JobState::Failed) {
                diesel::delete(import_deferred::table.filter(import_deferred::job_id.eq(job.id)))
                    .execute(conn)
                    .store_err()?;
            }
            Ok(saved > 0)
        })
    }

    fn defer_records(&self, job_id: i64, records: &[ImportRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let rows: Vec<DeferredRow> = records
            .iter()
            .map(|r| DeferredRow { job_id, record_index: count(r.index), record: r.value.to_string() })
            .collect();
        self.write(|conn| {
            match conn {
                // Many rows a statement (4 parameters each: far under PostgreSQL's 65 535).
                AnyConnection::Postgresql(pg) => {
                    for chunk in rows.chunks(1_000) {
                        let insert = diesel::insert_into(import_deferred::table).values(chunk).on_conflict_do_nothing();
                        insert.execute(pg).store_err()?;
                    }
                }
                AnyConnection::Sqlite(sqlite) => {
                    for row in &rows {
                        let insert = diesel::insert_into(import_deferred::table).values(row).on_conflict_do_nothing();
                        insert.execute(sqlite).store_err()?;
                    }
                }
            }
            Ok(())
        })
    }

    fn deferred_records(&self, job_id: i64, below: Option<u64>, limit: u32) -> StoreResult<Vec<ImportRecord>> {
        self.read(|conn| {
            let mut query = import_deferred::table
                .filter(import_deferred::job_id.eq(job_id))
                .select((import_deferred::record_index, import_deferred::record))
                .order(import_deferred::record_index.desc())
                .into_boxed::<Db>();
            if let Some(below) = below {
                query = query.filter(import_deferred::record_index.lt(count(below)));
            }
            let rows: Vec<(i64, String)> = query.limit_prepared(i64::from(limit)).load(conn).store_err()?;
            rows.into_iter()
                .map(|(index, record)| {
                    let value = serde_json::from_str(&record)
                        .map_err(|_| StoreError::Other(format!("job {job_id}: a kept record is not JSON").into()))?;
                    Ok(ImportRecord { index: u64::try_from(index).unwrap_or(0), value })
                })
                .collect()
        })
    }

    fn forget_deferred(&self, job_id: i64, indices: &[u64]) -> StoreResult<()> {
        let indices: Vec<i64> = indices.iter().map(|i| count(*i)).collect();
        self.write(|conn| {
            for chunk in indices.chunks(10_000) {
                diesel::delete(
                    import_deferred::table
                        .filter(import_deferred::job_id.eq(job_id))
                        .filter(import_deferred::record_index.eq_any(chunk)),
                )
                .execute(conn)
                .store_err()?;
            }
            Ok(())
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = import_deferred)]
struct DeferredRow {
    job_id: i64,
    record_index: i64,
    record: String,
}
