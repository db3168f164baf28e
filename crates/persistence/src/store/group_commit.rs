//! Group commit: writes that arrive while another is being committed wait, and the next
//! writer commits all of them in one transaction (issue 4: one post per transaction paid
//! BEGIN, the channel lock, the newest-id read, the channel update, COMMIT and, on
//! PostgreSQL, an fsync for every message).
//!
//! There is no writer thread: the caller that takes the gate leads, runs every job waiting
//! at that moment (its own among them) and hands each waiting caller its result before it
//! lets the gate go. Jobs are plain data, so the leader needs nothing the others borrowed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use roost_domain::StoreError;

type Answer<T> = mpsc::SyncSender<Result<T, StoreError>>;

/// Jobs `J` waiting to be committed together, each answered with a `T`.
pub(crate) struct GroupCommit<J, T> {
    gate: Arc<Mutex<()>>,
    waiting: Mutex<Vec<(J, Answer<T>)>>,
    sizes: GroupSizes,
}

/// Upper bounds of the group size histogram.
const SIZE_BOUNDS: [u64; 8] = [1, 2, 4, 8, 16, 32, 64, u64::MAX];

/// How many groups were committed, of how many jobs: a histogram of group sizes.
#[derive(Default)]
struct GroupSizes {
    jobs: AtomicU64,
    /// Groups of at most `SIZE_BOUNDS[i]` jobs and more than the bound before.
    by_bound: [AtomicU64; SIZE_BOUNDS.len()],
}

impl GroupSizes {
    fn record(&self, size: usize) {
        let size = size as u64;
        self.jobs.fetch_add(size, Ordering::Relaxed);
        let bucket = SIZE_BOUNDS.iter().position(|bound| size <= *bound).unwrap_or(SIZE_BOUNDS.len() - 1);
        self.by_bound[bucket].fetch_add(1, Ordering::Relaxed);
    }
}

/// A panic in another thread while holding a lock leaves nothing half-done behind it here.
fn lock<X>(mutex: &Mutex<X>) -> MutexGuard<'_, X> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<J, T> GroupCommit<J, T> {
    /// Batches serialized by `gate`, which other writers may share (SQLite's write gate).
    pub(crate) fn new(gate: Arc<Mutex<()>>) -> Self {
        Self { gate, waiting: Mutex::new(Vec::new()), sizes: GroupSizes::default() }
    }

    /// Groups committed, jobs in them, and the cumulative histogram of group sizes.
    pub(crate) fn stats(&self) -> (u64, u64, Vec<(u64, u64)>) {
        let mut cumulative = 0;
        let histogram: Vec<(u64, u64)> = SIZE_BOUNDS
            .iter()
            .zip(&self.sizes.by_bound)
            .map(|(bound, count)| {
                cumulative += count.load(Ordering::Relaxed);
                (*bound, cumulative)
            })
            .collect();
        (cumulative, self.sizes.jobs.load(Ordering::Relaxed), histogram)
    }

    /// Commits `job` with whatever else is waiting. `run` gets the jobs in arrival order and
    /// must return one result per job, in the same order.
    pub(crate) fn submit(
        &self,
        job: J,
        run: impl FnOnce(Vec<J>) -> Vec<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let (answer, result) = mpsc::sync_channel(1);
        lock(&self.waiting).push((job, answer));
        let turn = lock(&self.gate);
        // A leader that held the gate before us may have committed our job already.
        if let Ok(done) = result.try_recv() {
            return done;
        }
        let (jobs, answers): (Vec<J>, Vec<Answer<T>>) = std::mem::take(&mut *lock(&self.waiting)).into_iter().unzip();
        self.sizes.record(jobs.len());
        for (answer, done) in answers.into_iter().zip(run(jobs)) {
            // A waiting caller never leaves before its answer; nothing to do if it did.
            let _ = answer.send(done);
        }
        drop(turn);
        // If `run` returned too few results, the missing answers were dropped: an error, not a hang.
        result.recv().unwrap_or_else(|_| Err(StoreError::Other("the batch holding this write failed".into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_jobs_are_answered_each_with_its_own_result() {
        let commits = Arc::new(GroupCommit::<u32, u32>::new(Arc::new(Mutex::new(()))));
        let batches = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..16)
            .map(|n| {
                let (commits, batches) = (commits.clone(), batches.clone());
                std::thread::spawn(move || {
                    commits.submit(n, |jobs| {
                        lock(&batches).push(jobs.len());
                        jobs.into_iter()
                            .map(|j| if j == 7 { Err(StoreError::Conflict("seven".into())) } else { Ok(j * 10) })
                            .collect()
                    })
                })
            })
            .collect();
        for (n, thread) in threads.into_iter().enumerate() {
            let result = thread.join().unwrap();
            if n == 7 {
                assert!(matches!(result, Err(StoreError::Conflict(_))));
            } else {
                assert_eq!(result.unwrap(), n as u32 * 10);
            }
        }
        assert_eq!(lock(&batches).iter().sum::<usize>(), 16, "every job ran exactly once");
        let (groups, jobs, histogram) = commits.stats();
        assert_eq!(jobs, 16);
        assert_eq!(groups as usize, lock(&batches).len());
        assert_eq!(histogram.last(), Some(&(u64::MAX, groups)), "the last bound counts every group");
    }

    #[test]
    fn missing_results_are_errors() {
        let commits = GroupCommit::<u32, u32>::new(Arc::new(Mutex::new(())));
        assert!(commits.submit(1, |_| Vec::new()).is_err());
    }
}
