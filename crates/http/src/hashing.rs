//! The queue in front of the argon2 threads. A secret check costs a core ~20 ms and 19 MiB, so
//! a flood of wrong-secret requests must not make a legitimate client wait behind them (issue
//! 19: 32 addresses, each within its rate limit and each hanging up after 50 ms, kept another
//! client waiting 84 s for a token while every abandoned request was still hashed):
//! - **fair**: one queue per source address, served in turn, so a client waits for at most one
//!   check per other busy address, however many requests those addresses have sent;
//! - **bounded**: a few waiting checks per address and a ceiling for all; a request that finds
//!   its place taken is refused at once (503 with `Retry-After`) instead of waiting behind work
//!   it cannot overtake;
//! - **no work for clients that have gone**: at its turn, a check is skipped when its client
//!   has hung up (seen on the socket, [`crate::connection`]) or its request was dropped, and
//!   when it waited longer than any client would.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Why a job did not run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue (or this source's share of it) holds as many jobs as it may.
    Full,
    /// The job waited longer than the queue's patience.
    Expired,
    /// The job panicked, or the queue stopped before running it.
    Lost,
    /// The client had gone when the job's turn came.
    ClientGone,
}

/// Counts of what the queue did, for `/metrics`.
#[derive(Debug, Default)]
pub struct HashingCounts {
    /// Jobs run.
    pub run: AtomicU64,
    /// Jobs refused because the queue or their source's share was full.
    pub refused_full: AtomicU64,
    /// Jobs dropped before running because their client had gone.
    pub abandoned: AtomicU64,
    /// Jobs dropped because they waited too long.
    pub expired: AtomicU64,
}

/// The sizes of a [`HashingQueue`].
#[derive(Debug, Clone, Copy)]
pub struct QueueLimits {
    /// Threads running jobs.
    pub threads: usize,
    /// Jobs waiting or running per source address.
    pub per_source: usize,
    /// Jobs waiting or running in all.
    pub total: usize,
    /// How long a job may wait before it is dropped unrun.
    pub patience: Duration,
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queues {
    /// Waiting jobs by source; a source is present while it has jobs waiting or running.
    by_source: HashMap<Option<IpAddr>, (VecDeque<Job>, usize)>,
    /// Sources with waiting jobs, in the order they are served.
    turns: VecDeque<Option<IpAddr>>,
    /// Jobs waiting or running.
    len: usize,
    stopping: bool,
}

struct Shared {
    queues: Mutex<Queues>,
    work: Condvar,
    limits: QueueLimits,
    counts: HashingCounts,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        // A job runs outside the lock, so a poisoned lock only means a panic between two
        // bookkeeping steps of this module; the counts stay usable.
        self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next job in turn, waiting for one; `None` when the queue stops.
    fn next_job(&self) -> Option<(Option<IpAddr>, Job)> {
        let mut queues = self.lock();
        loop {
            if queues.stopping {
                return None;
            }
            while let Some(source) = queues.turns.pop_front() {
                let Some((waiting, _)) = queues.by_source.get_mut(&source) else { continue };
                let Some(job) = waiting.pop_front() else { continue };
                if !waiting.is_empty() {
                    queues.turns.push_back(source);
                }
                return Some((source, job));
            }
            queues = self.work.wait(queues).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// A job of `source` has finished (run or skipped): its place is free.
    fn done(&self, source: Option<IpAddr>) {
        let mut queues = self.lock();
        queues.len = queues.len.saturating_sub(1);
        if let Some((waiting, places)) = queues.by_source.get_mut(&source) {
            *places = places.saturating_sub(1);
            if *places == 0 && waiting.is_empty() {
                queues.by_source.remove(&source);
            }
        }
    }
}

/// A fair, bounded queue of jobs in front of threads of the lowest normal priority.
pub struct HashingQueue {
    shared: Arc<Shared>,
}

impl HashingQueue {
    /// Starts `limits.threads` threads named `{name}-{i}`, each running `on_start` first.
    pub fn start(limits: QueueLimits, name: &str, on_start: fn()) -> std::io::Result<Self> {
        let limits = QueueLimits {
            threads: limits.threads.max(1),
            per_source: limits.per_source.max(1),
            total: limits.total.max(1),
            ..limits
        };
        let shared = Arc::new(Shared {
            queues: Mutex::default(),
            work: Condvar::new(),
            limits,
            counts: HashingCounts::default(),
        });
        for i in 0..limits.threads {
            let shared = shared.clone();
            std::thread::Builder::new().name(format!("{name}-{i}")).spawn(move || {
                on_start();
                while let Some((source, job)) = shared.next_job() {
                    job();
                    shared.done(source);
                }
            })?;
        }
        Ok(Self { shared })
    }

    /// Jobs waiting or running now.
    pub fn len(&self) -> usize {
        self.shared.lock().len
    }

    /// Whether no job is waiting or running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sizes this queue was started with.
    pub fn limits(&self) -> QueueLimits {
        self.shared.limits
    }

    /// What the queue has done so far.
    pub fn counts(&self) -> &HashingCounts {
        &self.shared.counts
    }

    /// Queues `job` behind the other jobs of `source` and waits for its result. The job is not
    /// run when, at its turn, the returned future has been dropped or `gone` says its client
    /// has left.
    pub async fn run<T: Send + 'static>(
        &self,
        source: Option<IpAddr>,
        gone: impl FnOnce() -> bool + Send + 'static,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refused> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let shared = self.shared.clone();
        let queued = Instant::now();
        let task: Job = Box::new(move || {
            let counts = &shared.counts;
            if tx.is_closed() {
                counts.abandoned.fetch_add(1, Ordering::Relaxed);
                return;
            }
            if gone() {
                counts.abandoned.fetch_add(1, Ordering::Relaxed);
                let _ = tx.send(Err(Refused::ClientGone));
                return;
            }
            if queued.elapsed() >= shared.limits.patience {
                counts.expired.fetch_add(1, Ordering::Relaxed);
                let _ = tx.send(Err(Refused::Expired));
                return;
            }
            counts.run.fetch_add(1, Ordering::Relaxed);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).map_err(|_| Refused::Lost);
            let _ = tx.send(result);
        });
        {
            let limits = self.shared.limits;
            let mut queues = self.shared.lock();
            let taken = queues.by_source.get(&source).map_or(0, |(_, places)| *places);
            if queues.len >= limits.total || taken >= limits.per_source {
                self.shared.counts.refused_full.fetch_add(1, Ordering::Relaxed);
                return Err(Refused::Full);
            }
            queues.len += 1;
            let (waiting, places) = queues.by_source.entry(source).or_default();
            *places += 1;
            waiting.push_back(task);
            if waiting.len() == 1 {
                queues.turns.push_back(source);
            }
        }
        self.shared.work.notify_one();
        rx.await.map_err(|_| Refused::Lost)?
    }
}

impl Drop for HashingQueue {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.work.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn queue(threads: usize, per_source: usize, total: usize, patience: Duration) -> Arc<HashingQueue> {
        let limits = QueueLimits { threads, per_source, total, patience };
        Arc::new(HashingQueue::start(limits, "test-hash", || {}).unwrap())
    }

    fn address(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    /// Occupies the queue's only thread until the returned sender is used or dropped.
    async fn block(queue: &Arc<HashingQueue>) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<bool>) {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let queue2 = queue.clone();
        let blocked = tokio::task::spawn_local(async move {
            queue2
                .run(
                    address(250),
                    || false,
                    move || {
                        let _ = started_tx.send(());
                        wait.recv().is_ok()
                    },
                )
                .await
                .is_ok()
        });
        while started.try_recv().is_err() {
            tokio::task::yield_now().await;
        }
        (release, blocked)
    }

    #[actix_web::test]
    async fn runs_jobs_and_gives_their_places_back() {
        let queue = queue(1, 2, 2, Duration::from_secs(10));
        assert_eq!(queue.run(address(1), || false, || 7).await, Ok(7));
        assert_eq!(queue.run(address(1), || false, || 8).await, Ok(8));
        while !queue.is_empty() {
            tokio::task::yield_now().await;
        }
        assert_eq!(queue.counts().run.load(Ordering::Relaxed), 2);
    }

    #[actix_web::test]
    async fn a_full_share_refuses_at_once_and_other_sources_still_get_in() {
        let queue = queue(1, 1, 3, Duration::from_secs(10));
        let (release, blocked) = block(&queue).await;
        let waiting = {
            let queue = queue.clone();
            tokio::task::spawn_local(async move { queue.run(address(1), || false, || 1).await })
        };
        while queue.len() < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(queue.run(address(1), || false, || 2).await, Err(Refused::Full), "one place per source");
        let other = {
            let queue = queue.clone();
            tokio::task::spawn_local(async move { queue.run(address(2), || false, || 3).await })
        };
        while queue.len() < 3 {
            tokio::task::yield_now().await;
        }
        assert_eq!(queue.run(address(3), || false, || 4).await, Err(Refused::Full), "three places in all");
        release.send(()).unwrap();
        assert!(blocked.await.unwrap());
        assert_eq!(waiting.await.unwrap(), Ok(1));
        assert_eq!(other.await.unwrap(), Ok(3));
        assert_eq!(queue.counts().refused_full.load(Ordering::Relaxed), 2);
    }

    /// Sources take turns: a source with many waiting jobs does not delay another's first job
    /// by more than one of its own.
    #[actix_web::test]
    async fn sources_are_served_in_turn() {
        let queue = queue(1, 8, 64, Duration::from_secs(10));
        let (release, blocked) = block(&queue).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        let mut queued = 1;
        for (source, label) in [(1, "a1"), (1, "a2"), (1, "a3"), (2, "b1")] {
            let (shared, order) = (queue.clone(), order.clone());
            tasks.push(tokio::task::spawn_local(async move {
                shared.run(address(source), || false, move || order.lock().unwrap().push(label)).await
            }));
            queued += 1;
            while queue.len() < queued {
                tokio::task::yield_now().await;
            }
        }
        release.send(()).unwrap();
        assert!(blocked.await.unwrap());
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(()));
        }
        assert_eq!(*order.lock().unwrap(), ["a1", "b1", "a2", "a3"]);
    }

    /// A job whose caller stopped waiting (a client that hung up) is skipped, not run.
    #[actix_web::test]
    async fn a_job_whose_caller_left_is_not_run() {
        let queue = queue(1, 4, 4, Duration::from_secs(10));
        let (release, blocked) = block(&queue).await;
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = ran.clone();
        let abandoned = {
            let queue = queue.clone();
            tokio::task::spawn_local(async move {
                queue
                    .run(
                        address(1),
                        || false,
                        move || {
                            counter.fetch_add(1, Ordering::SeqCst);
                        },
                    )
                    .await
            })
        };
        while queue.len() < 2 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        let _ = abandoned.await;
        release.send(()).unwrap();
        assert!(blocked.await.unwrap());
        while !queue.is_empty() {
            tokio::task::yield_now().await;
        }
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(queue.counts().abandoned.load(Ordering::Relaxed), 1);
    }

    #[actix_web::test]
    async fn a_job_whose_client_has_gone_is_not_run() {
        let queue = queue(1, 4, 4, Duration::from_secs(10));
        assert_eq!(queue.run(address(1), || true, || unreachable!()).await, Err(Refused::ClientGone));
        assert_eq!(queue.counts().abandoned.load(Ordering::Relaxed), 1);
    }

    #[actix_web::test]
    async fn a_job_that_waited_too_long_is_not_run() {
        let queue = queue(1, 4, 4, Duration::ZERO);
        assert_eq!(queue.run(address(1), || false, || ()).await, Err(Refused::Expired));
        assert_eq!(queue.counts().expired.load(Ordering::Relaxed), 1);
    }
}
