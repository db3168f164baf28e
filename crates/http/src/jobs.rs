//! The job runner: takes the due jobs (pending, or running on a node that died) and runs them.
//!
//! An import's file is copied from the file store to a local temporary file, then read one
//! record at a time (never whole: memory stays flat whatever its size). Records are applied in
//! batches; after each batch the job's progress is saved under its lease, so a job resumes after
//! its last saved batch when its node restarts or dies (the lease runs out and any node takes
//! it). A batch applied again adds nothing: records are applied idempotently.

use std::fmt;
use std::io::{BufReader, Read};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::web;
use futures_util::StreamExt;
use roost_domain::model::file::StoredFile;
use roost_domain::model::job::{ImportRecord, Job, JobError, JobState, JobType, MAX_JOB_ATTEMPTS};
use roost_domain::{DomainError, Timestamp};
use serde::de::{Deserializer as _, Error as _, SeqAccess, Visitor};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::state::AppState;

/// How often a node looks for due jobs when not woken.
const POLL: Duration = Duration::from_secs(1);
/// How long a job stays with the node running it without news; renewed after each batch.
const LEASE: Duration = Duration::from_secs(120);
/// Records applied between two checkpoints.
const BATCH: usize = 500;

/// Runs due jobs, one at a time, for as long as the server runs.
pub async fn run(state: web::Data<AppState>) {
    // This node's previous run died with the jobs it held: take them up now, not when their
    // leases run out.
    let (service, node) = (state.service.clone(), state.settings.realtime.node);
    match tokio::task::spawn_blocking(move || service.release_jobs(node)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::info!(jobs = n, "taking up the jobs this node's previous run left"),
        Ok(Err(error)) => tracing::warn!(%error, "cannot take up this node's previous jobs"),
        Err(error) => tracing::warn!(%error, "cannot take up this node's previous jobs"),
    }
    loop {
        match next(&state).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot look for jobs"),
        }
        tokio::select! {
            () = state.job_wake.notified() => {},
            () = tokio::time::sleep(POLL) => {},
        }
    }
}

fn lease_from_now() -> Timestamp {
    roost_domain::now() + chrono::Duration::from_std(LEASE).unwrap_or_else(|_| chrono::Duration::minutes(2))
}

/// Takes and runs one due job; whether there was one.
async fn next(state: &web::Data<AppState>) -> Result<bool, DomainError> {
    let held = lease_from_now();
    let (service, node) = (state.service.clone(), state.settings.realtime.node);
    let claimed = tokio::task::spawn_blocking(move || service.claim_job(node, held))
        .await
        .map_err(|e| DomainError::InvalidArgument(format!("the job runner stopped: {e}")))??;
    let Some(job) = claimed else { return Ok(false) };
    tracing::info!(job = job.id, kind = job.job_type.as_str(), from = job.processed, "running a job");
    run_job(state, job, held).await;
    Ok(true)
}

/// The lease this node holds on the job it runs: renewed by a heartbeat (a long download or
/// batch never lets it run out) and by each checkpoint, one at a time.
struct Lease {
    job_id: i64,
    held: Mutex<Timestamp>,
}

impl Lease {
    /// Calls `save` with the lease held and a renewed one; holds the renewed one if it saved.
    fn renew_with(
        &self,
        save: impl FnOnce(Timestamp, Timestamp) -> Result<bool, DomainError>,
    ) -> Result<bool, DomainError> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let renew = lease_from_now();
        let kept = save(*held, renew)?;
        if kept {
            *held = renew;
        }
        Ok(kept)
    }
}

/// Renews the lease every quarter of its length until the run ends or the lease is lost.
fn heartbeat(state: &web::Data<AppState>, lease: &Arc<Lease>) -> tokio::task::JoinHandle<()> {
    let (service, lease) = (state.service.clone(), Arc::clone(lease));
    actix_web::rt::spawn(async move {
        loop {
            tokio::time::sleep(LEASE / 4).await;
            let (service, lease) = (service.clone(), Arc::clone(&lease));
            let renewed = tokio::task::spawn_blocking(move || {
                let id = lease.job_id;
                lease.renew_with(|held, renew| service.renew_job(id, held, renew))
            })
            .await;
            match renewed {
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => return,
                Ok(Err(error)) => tracing::warn!(%error, "cannot renew a job's lease"),
                Err(_) => return,
            }
        }
    })
}

/// Why a job's run stopped before its end.
enum Stop {
    /// The input is unusable: the job fails, saying why.
    Fail(String),
    /// Storage failed: the job is left to be taken up again when its lease runs out.
    Retry(String),
    /// Another node holds the job now.
    Lost,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fail(why) | Self::Retry(why) => f.write_str(why),
            Self::Lost => f.write_str("another node took the job over"),
        }
    }
}

async fn run_job(state: &web::Data<AppState>, mut job: Job, held: Timestamp) {
    let lease = Arc::new(Lease { job_id: job.id, held: Mutex::new(held) });
    let beat = heartbeat(state, &lease);
    let outcome = if job.attempts > MAX_JOB_ATTEMPTS {
        Err(Stop::Fail(format!(
            "given up after {MAX_JOB_ATTEMPTS} runs in a row that made no progress (the nodes' logs say why)"
        )))
    } else if let Some(columns) = job.job_type.export_columns() {
        export_csv(state, &mut job, columns).await
    } else {
        match local_copy(state, &job).await {
            Ok(file) => {
                let (state, lease) = (state.clone(), Arc::clone(&lease));
                let mut running = job.clone();
                let ran = tokio::task::spawn_blocking(move || {
                    let outcome = apply_file(&state, &mut running, file, &lease);
                    (running, outcome)
                })
                .await;
                match ran {
                    Ok((ran, outcome)) => {
                        job = ran;
                        outcome
                    }
                    // Progress saved before the panic stays; the job fails rather than panic again.
                    Err(error) => Err(Stop::Fail(format!("the import stopped on an internal error: {error}"))),
                }
            }
            Err(stop) => Err(stop),
        }
    };
    beat.abort();
    let ended = match outcome {
        Ok(()) => JobState::Finished,
        Err(Stop::Fail(reason)) => {
            job.errors.push(JobError { index: None, idempotency_key: None, reason });
            JobState::Failed
        }
        Err(stop) => {
            tracing::warn!(job = job.id, reason = %stop, "a job stopped; it is taken up again when its lease runs out");
            return;
        }
    };
    job.state = ended;
    job.ended_time = Some(roost_domain::now());
    // The input goes with the end: once no job names it, `roost files sweep` removes what a
    // failed delete below leaves.
    let input = job.input_key.take();
    let (service, saved_job) = (state.service.clone(), job.clone());
    let saved =
        tokio::task::spawn_blocking(move || lease.renew_with(|held, _| service.save_job(&saved_job, held, held))).await;
    match saved {
        Ok(Ok(true)) => {
            tracing::info!(
                job = job.id,
                state = ended.as_str(),
                processed = job.processed,
                failed = job.failed,
                "job ended"
            );
            if let (Some(files), Some(key)) = (state.settings.files.as_ref(), input.as_deref()) {
                crate::upload::forget_upload(files, key).await;
            }
        }
        Ok(Ok(false)) => tracing::warn!(job = job.id, "another node took the job over before it ended here"),
        Ok(Err(error)) => tracing::warn!(job = job.id, %error, "cannot save a job's end; it runs again"),
        Err(error) => tracing::error!(%error, "saving a job's end panicked"),
    }
}

/// An analytics export: every message of the application (newest first) or every user (by
/// id), as CSV written to a local file page by page, then stored as a hosted file the job names.
async fn export_csv(state: &web::Data<AppState>, job: &mut Job, columns: &'static [&'static str]) -> Result<(), Stop> {
    let files = state.settings.files.as_ref().ok_or_else(|| Stop::Retry("no file store is configured".into()))?;
    let (service, export) = (state.service.clone(), job.clone());
    let (local, rows) = tokio::task::spawn_blocking(move || write_export(&service, &export, columns))
        .await
        .map_err(|e| Stop::Fail(format!("the export stopped on an internal error: {e}")))??;
    let key = roost_files::Files::new_key();
    let stored = store_local(files, &key, local).await?;
    let file = StoredFile {
        key: key.clone(),
        application_id: job.application_id,
        name: match job.job_type {
            JobType::UserAnalyticsExport => format!("users-{}.csv", job.id),
            _ => format!("messages-{}.csv", job.id),
        },
        content_type: "text/csv".to_owned(),
        size: stored.size,
        checksum: stored.sha256,
        created_time: roost_domain::now(),
    };
    let service = state.service.clone();
    let recorded = tokio::task::spawn_blocking(move || service.record_export(&file)).await;
    if !matches!(recorded, Ok(Ok(()))) {
        crate::upload::forget_upload(files, &key).await;
        return Err(Stop::Retry("cannot record the export's file".into()));
    }
    job.result_key = Some(key);
    job.processed = rows;
    Ok(())
}

/// Writes the export's CSV (RFC 4180, a header line first) to a temporary file; the file,
/// rewound, and the rows written.
fn write_export(service: &roost_domain::Service, job: &Job, columns: &[&str]) -> Result<(std::fs::File, u64), Stop> {
    use std::io::{Seek, Write};
    let io = |e: std::io::Error| Stop::Retry(format!("cannot write the export: {e}"));
    let mut out = std::io::BufWriter::new(tempfile::tempfile().map_err(io)?);
    out.write_all(format!("{}\r\n", columns.join(",")).as_bytes()).map_err(io)?;
    let (mut from, mut rows) = (None, 0u64);
    loop {
        let (page, next) = service.analytics_page(job, from).map_err(|e| Stop::Retry(e.to_string()))?;
        for row in &page {
            out.write_all(row.to_csv().as_bytes()).map_err(io)?;
            rows += 1;
        }
        match next {
            Some(next) if !page.is_empty() => from = Some(next),
            _ => break,
        }
    }
    let mut file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.rewind().map_err(io)?;
    Ok((file, rows))
}

/// Streams a local file to the file store under `key`.
async fn store_local(
    files: &roost_files::Files,
    key: &str,
    file: std::fs::File,
) -> Result<roost_files::Uploaded, Stop> {
    use tokio::io::AsyncReadExt;
    let chunks = futures_util::stream::unfold(Some(tokio::fs::File::from_std(file)), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; 1 << 20];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(bytes::Bytes::from(buffer)), Some(file)))
            }
            // The upload stops at the first error; nothing more is read.
            Err(error) => Some((Err(error), None)),
        }
    });
    files
        .upload(key, Box::pin(chunks), u64::MAX)
        .await
        .map_err(|e| Stop::Retry(format!("cannot store the export: {e}")))
}

/// The job's input, copied from the file store to a local temporary file.
async fn local_copy(state: &AppState, job: &Job) -> Result<std::fs::File, Stop> {
    let files = state.settings.files.as_ref().ok_or_else(|| Stop::Retry("no file store is configured".into()))?;
    let key = job.input_key.as_deref().ok_or_else(|| Stop::Fail("the job has no input file".into()))?;
    let download = match files.download(key, None).await {
        Ok(download) => download,
        Err(roost_files::FilesError::NotFound) => {
            return Err(Stop::Fail("the import file is gone from the file store".into()))
        }
        Err(error) => return Err(Stop::Retry(format!("cannot read the import file: {error}"))),
    };
    let local = tempfile::tempfile().map_err(|e| Stop::Retry(format!("cannot make a temporary file: {e}")))?;
    let reader = local.try_clone().map_err(|e| Stop::Retry(format!("cannot reopen the temporary file: {e}")))?;
    let mut writer = tokio::fs::File::from_std(local);
    let mut bytes = download.bytes;
    while let Some(chunk) = bytes.next().await {
        let chunk = chunk.map_err(|e| Stop::Retry(format!("cannot read the import file: {e}")))?;
        writer.write_all(&chunk).await.map_err(|e| Stop::Retry(format!("cannot copy the import file: {e}")))?;
    }
    writer.flush().await.map_err(|e| Stop::Retry(format!("cannot copy the import file: {e}")))?;
    let mut reader = reader;
    std::io::Seek::rewind(&mut reader).map_err(|e| Stop::Retry(format!("cannot read the temporary file: {e}")))?;
    Ok(reader)
}

/// Applies the records after the job's checkpoint, a batch at a time, saving progress after each.
fn apply_file(state: &AppState, job: &mut Job, file: std::fs::File, lease: &Lease) -> Result<(), Stop> {
    let skip = job.processed;
    let mut batch = Vec::with_capacity(BATCH);
    let mut batches = 0_u64;
    let read = for_each_record(BufReader::new(file), |index, value| {
        if index < skip {
            return Ok(());
        }
        batch.push(ImportRecord { index, value });
        if batch.len() == BATCH {
            checkpoint(state, job, &mut batch, lease)?;
            batches += 1;
            refresh_statistics(state, job, batches);
        }
        Ok(())
    });
    match read {
        // The records read before the end, or before a break in the file, are applied, and
        // then the replies read before their parents.
        Ok(()) | Err(Stop::Fail(_)) => {
            checkpoint(state, job, &mut batch, lease)?;
            if job.job_type == JobType::MessageImport {
                apply_deferred(state, job, lease)?;
            }
        }
        Err(_) => {}
    }
    read
}

/// Applies the replies a message import kept for later, in sweeps over them from the last read
/// (the oldest, in a newest-first export), until a sweep applies none; then one more says why
/// each left could not be applied. Progress is saved after each page, before the page's
/// records are forgotten: a job that dies meanwhile applies them again, adding nothing.
fn apply_deferred(state: &AppState, job: &mut Job, lease: &Lease) -> Result<(), Stop> {
    let retry = |e: DomainError| Stop::Retry(e.to_string());
    // A page size the store keeps prepared (at most 100 rows).
    let page_size = 100;
    let (mut last, mut pages) = (false, 0_u64);
    loop {
        let (mut below, mut progressed) = (None, false);
        loop {
            let page = state.service.deferred_import_records(job, below, page_size).map_err(retry)?;
            let Some(oldest) = page.last() else { break };
            below = Some(oldest.index);
            let applied = state.service.apply_deferred_imports(job, &page, last);
            state.responses.invalidate();
            let (errors, done) = applied.map_err(retry)?;
            progressed |= !done.is_empty();
            job.record_errors(errors);
            if !done.is_empty() {
                // Progress: the runs that made none so far are forgiven.
                job.attempts = 0;
            }
            match lease.renew_with(|held, renew| state.service.save_job(job, held, renew)) {
                Ok(true) => {}
                Ok(false) => return Err(Stop::Lost),
                Err(error) => return Err(retry(error)),
            }
            state.service.forget_deferred_imports(job, &done).map_err(retry)?;
            pages += 1;
            refresh_statistics(state, job, pages);
        }
        if last {
            return Ok(());
        }
        last = !progressed;
    }
}

/// After batch 1, 2, 4, 8… of a message import: the tables it grows are refreshed in the
/// store's statistics. PostgreSQL keeps a plan made while a table was empty (a scan of the
/// whole table) until the table is analysed, which its autovacuum may do late or never.
fn refresh_statistics(state: &AppState, job: &Job, batches: u64) {
    if job.job_type == JobType::MessageImport && batches.is_power_of_two() {
        if let Err(error) = state.service.refresh_import_statistics() {
            tracing::warn!(job = job.id, %error, "cannot refresh the statistics of the tables an import grows");
        }
    }
}

/// Applies a batch and saves the job's progress under its lease, renewed.
fn checkpoint(state: &AppState, job: &mut Job, batch: &mut Vec<ImportRecord>, lease: &Lease) -> Result<(), Stop> {
    if batch.is_empty() {
        return Ok(());
    }
    let applied = state.service.apply_import(job, batch);
    // Records may have been written even when the batch failed half-way.
    state.responses.invalidate();
    let errors = applied.map_err(|e| Stop::Retry(e.to_string()))?;
    job.processed += u64::try_from(batch.len()).unwrap_or(u64::MAX);
    job.record_errors(errors);
    // Progress: the runs that made none so far are forgiven.
    job.attempts = 0;
    batch.clear();
    match lease.renew_with(|held, renew| state.service.save_job(job, held, renew)) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Stop::Lost),
        Err(error) => Err(Stop::Retry(error.to_string())),
    }
}

/// Reads a JSON array from `reader` one element at a time, passing each on with its index.
fn for_each_record<R: Read>(reader: R, each: impl FnMut(u64, Value) -> Result<(), Stop>) -> Result<(), Stop> {
    struct Records<F> {
        each: F,
        stopped: Option<Stop>,
    }
    impl<'de, F: FnMut(u64, Value) -> Result<(), Stop>> Visitor<'de> for &mut Records<F> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON array of records")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            while let Some(value) = seq.next_element::<Value>()? {
                if let Err(stop) = (self.each)(index, value) {
                    self.stopped = Some(stop);
                    return Err(A::Error::custom("stopped"));
                }
                index += 1;
            }
            Ok(())
        }
    }
    let mut records = Records { each, stopped: None };
    let mut json = serde_json::Deserializer::from_reader(reader);
    let read = (&mut json).deserialize_seq(&mut records);
    if let Some(stop) = records.stopped {
        return Err(stop);
    }
    read.and_then(|()| json.end()).map_err(|e| {
        if e.is_io() {
            // The local copy could not be read: not the file's fault.
            Stop::Retry(format!("cannot read the import file's local copy: {e}"))
        } else {
            Stop::Fail(format!("the file is not a JSON array of records: {e}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<(u64, Value)>, String> {
        let mut seen = Vec::new();
        for_each_record(text.as_bytes(), |i, v| {
            seen.push((i, v));
            Ok(())
        })
        .map_err(|stop| stop.to_string())?;
        Ok(seen)
    }

    #[test]
    fn records_are_read_one_at_a_time_with_their_index() {
        let seen = read(r#" [{"name": "a"}, 7, {"name": "c"}] "#).unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2], (2, serde_json::json!({"name": "c"})));
        assert_eq!(read("[]").unwrap(), Vec::new());
    }

    #[test]
    fn what_is_not_a_json_array_fails_saying_so() {
        for bad in [r#"{"name": "a"}"#, "[1, 2", "[1] [2]", "", "nonsense"] {
            let error = read(bad).unwrap_err();
            assert!(error.starts_with("the file is not a JSON array"), "{bad}: {error}");
        }
        // Records before a break in the file are passed on first.
        let mut seen = 0;
        let broken = for_each_record(r#"[1, 2, oops]"#.as_bytes(), |_, _| {
            seen += 1;
            Ok(())
        });
        assert!(broken.is_err());
        assert_eq!(seen, 2);
    }
}
