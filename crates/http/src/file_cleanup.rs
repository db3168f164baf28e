//! Removing the bytes of files nothing refers to any more, after the transactions that let go of
//! them committed: every delete of a message, channel or user, and every replaced display
//! picture, marks its files removed in its own transaction; this removes their bytes, then their
//! rows. A store that is down only delays it (retried with backoff), and a crash leaves the marks
//! for the next run. `roost files sweep` (also run at start-up) finds what even that missed.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::web;
use roost_domain::{DomainError, Service};
use roost_files::{Files, FilesError};
use tokio::sync::Notify;

use crate::state::AppState;

/// Files removed per round trip to the database.
const BATCH: u32 = 100;
/// Longest wait between retries while the file store fails.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Bytes without a row younger than this are kept by a sweep: an upload stores its bytes before
/// the transaction that records them commits, possibly on another node.
const UPLOAD_GRACE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// What went wrong while cleaning up.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// The database.
    #[error(transparent)]
    Store(#[from] DomainError),
    /// The file store.
    #[error(transparent)]
    Files(#[from] FilesError),
    /// A blocking task did not finish.
    #[error("a storage task failed: {0}")]
    Blocking(String),
}

/// The node's cleanup task: started on first use, woken after each delete.
#[derive(Default)]
pub struct FileCleanup {
    wake: Notify,
    started: OnceLock<()>,
}

/// After a delete committed: removes a batch of the files marked removed now, so that a client
/// that deleted something finds its bytes gone; more, or a failing store, is left to the
/// cleanup task.
pub async fn after_delete(state: &web::Data<AppState>) {
    let Some(files) = &state.settings.files else { return };
    match remove_batch(&state.service, files).await {
        Ok((_, true)) => {}
        Ok((_, false)) => wake(state),
        Err(error) => {
            tracing::warn!(error = %error, "could not remove the bytes of deleted files; retrying in the background");
            wake(state);
        }
    }
}

/// Wakes the cleanup task of `state` (starting it the first time): files may be marked removed.
pub fn wake(state: &web::Data<AppState>) {
    let Some(files) = state.settings.files.clone() else { return };
    let cleanup = &state.file_cleanup;
    cleanup.started.get_or_init(|| {
        let state = state.clone();
        actix_web::rt::spawn(async move { run(&state, &files).await });
    });
    cleanup.wake.notify_one();
}

async fn run(state: &web::Data<AppState>, files: &Files) {
    loop {
        // A wake-up while removing is kept as a permit: nothing marked meanwhile is missed.
        state.file_cleanup.wake.notified().await;
        let mut backoff = Duration::from_secs(1);
        loop {
            match remove_pending(&state.service, files).await {
                Ok(removed) => {
                    tracing::debug!(removed, "removed the bytes of deleted files");
                    break;
                }
                Err(error) => {
                    tracing::warn!(error = %error, retry_in = ?backoff, "could not remove the bytes of deleted files");
                    actix_web::rt::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    service: &Service,
    call: impl FnOnce(&Service) -> Result<T, DomainError> + Send + 'static,
) -> Result<T, CleanupError> {
    let service = service.clone();
    Ok(web::block(move || call(&service)).await.map_err(|e| CleanupError::Blocking(e.to_string()))??)
}

/// Removes the bytes, then the rows, of every file marked removed: how many.
pub async fn remove_pending(service: &Service, files: &Files) -> Result<u64, CleanupError> {
    let mut removed = 0;
    loop {
        let (batch, done) = remove_batch(service, files).await?;
        removed += batch;
        if done {
            return Ok(removed);
        }
    }
}

/// Removes up to [`BATCH`] files marked removed: how many, and whether that was all of them.
async fn remove_batch(service: &Service, files: &Files) -> Result<(u64, bool), CleanupError> {
    let keys = blocking(service, |s| s.removed_files(BATCH)).await?;
    let done = keys.len() < BATCH as usize;
    let mut gone = Vec::with_capacity(keys.len());
    let mut failure = None;
    for key in keys {
        match files.delete(&key).await {
            Ok(()) => gone.push(key),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let removed = if gone.is_empty() { 0 } else { blocking(service, move |s| s.forget_files(&gone)).await? };
    match failure {
        Some(error) => Err(error.into()),
        None => Ok((removed, done)),
    }
}

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// Files no message and no user referred to, marked removed.
    pub unreferenced: u64,
    /// Files marked removed whose bytes (and rows) were removed.
    pub removed: u64,
    /// Bytes in the store that no row recorded, removed.
    pub orphaned_bytes: u64,
    /// Bytes without a row kept because they are recent (an upload may be recording them).
    pub recent_kept: u64,
    /// Rows whose bytes were gone from the store, removed.
    pub missing_bytes: u64,
}

/// Reconciles the file store with the database: marks unreferenced files removed, removes what
/// is marked, removes bytes no row records (older than [`UPLOAD_GRACE`]) and rows whose bytes are
/// gone.
pub async fn sweep(service: &Service, files: &Files) -> Result<SweepReport, CleanupError> {
    let started = roost_domain::now();
    let mut report = SweepReport {
        unreferenced: blocking(service, |s| s.mark_unreferenced_files()).await?,
        ..SweepReport::default()
    };
    report.removed = remove_pending(service, files).await?;
    let stored = files.list().await?;
    let mut listed = HashSet::with_capacity(stored.len());
    for chunk in stored.chunks(BATCH as usize) {
        let keys: Vec<String> = chunk.iter().map(|(key, _)| key.clone()).collect();
        let recorded: HashSet<String> =
            blocking(service, move |s| s.recorded_files(&keys)).await?.into_iter().collect();
        for (key, modified) in chunk {
            listed.insert(key.clone());
            if recorded.contains(key) {
                continue;
            }
            if *modified > started - UPLOAD_GRACE {
                report.recent_kept += 1;
            } else {
                files.delete(key).await?;
                report.orphaned_bytes += 1;
            }
        }
    }
    // A row recorded before the listing began has its bytes in the listing, unless they are gone.
    let mut after: Option<String> = None;
    loop {
        let from = after.clone();
        let page = blocking(service, move |s| s.files_after(from.as_deref(), BATCH)).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.key.clone());
        let missing: Vec<String> = page
            .into_iter()
            .filter(|file| file.created_time < started && !listed.contains(&file.key))
            .map(|file| file.key)
            .collect();
        if !missing.is_empty() {
            report.missing_bytes += blocking(service, move |s| s.forget_files(&missing)).await?;
        }
    }
    Ok(report)
}
