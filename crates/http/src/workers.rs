//! The storage threads: a fixed set of threads that run blocking work (diesel is synchronous)
//! off actix's event loops.
//!
//! Fixed, because a blocking pool that grows under load made hundreds of threads, each with a
//! stack and a malloc arena (issue 4: peak RSS 660 MiB). Plain threads waiting on one queue,
//! rather than rayon's pool: rayon's idle workers search every other worker's deque and spin
//! before they sleep, which took 14 % of a post's instructions under callgrind and competes for
//! the CPU with the HTTP workers on a small machine.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Threads taking jobs from one queue, first come first served.
pub struct WorkerPool {
    queue: Sender<Job>,
    threads: usize,
    load: Arc<Load>,
}

/// Jobs waiting and running, for `/metrics`.
#[derive(Default)]
struct Load {
    waiting: AtomicUsize,
    running: AtomicUsize,
}

impl WorkerPool {
    /// Starts `threads` threads named `{name}-{i}`; they end when the pool is dropped.
    pub fn spawn(threads: usize, name: &str) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let threads = threads.max(1);
        for i in 0..threads {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new().name(format!("{name}-{i}")).spawn(move || work(&jobs))?;
        }
        Ok(Self { queue, threads, load: Arc::default() })
    }

    /// Queues `job`; the next free thread runs it.
    pub fn execute(&self, job: impl FnOnce() + Send + 'static) {
        let load = Arc::clone(&self.load);
        load.waiting.fetch_add(1, Ordering::Relaxed);
        let counted = move || {
            load.waiting.fetch_sub(1, Ordering::Relaxed);
            load.running.fetch_add(1, Ordering::Relaxed);
            // Decremented even when the job panics.
            let _running = Running(&load.running);
            job();
        };
        // Sending fails only once every thread has ended, which a pool never lets happen
        // while it exists (a job's panic is caught by the thread).
        let _ = self.queue.send(Box::new(counted));
    }

    /// Threads of the pool.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Jobs waiting for a thread now.
    pub fn waiting(&self) -> usize {
        self.load.waiting.load(Ordering::Relaxed)
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        self.load.running.load(Ordering::Relaxed)
    }
}

struct Running<'a>(&'a AtomicUsize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        // One thread at a time waits on the queue; the others wait for the lock.
        let job = match jobs.lock().unwrap_or_else(PoisonError::into_inner).recv() {
            Ok(job) => job,
            Err(_) => return, // the pool was dropped
        };
        // A panicking job must not take its thread with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_pools_threads_and_a_panic_does_not_end_one() {
        let pool = WorkerPool::spawn(2, "test-worker").unwrap();
        pool.execute(|| panic!("a failing job"));
        let (tx, rx) = mpsc::channel();
        for n in 0..10 {
            let tx = tx.clone();
            pool.execute(move || {
                let name = std::thread::current().name().map(str::to_owned);
                tx.send((n, name)).unwrap();
            });
        }
        let mut done: Vec<(i32, Option<String>)> = (0..10).map(|_| rx.recv().unwrap()).collect();
        done.sort();
        assert_eq!(done.iter().map(|(n, _)| *n).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
        assert!(done.iter().all(|(_, name)| name.as_deref().is_some_and(|n| n.starts_with("test-worker-"))));
    }
}
