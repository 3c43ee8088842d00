//! Page threads: the CPU-bound work of the pipeline (a page's decode + extract + canonical +
//! fingerprint, a feed's parse) on a few dedicated threads, one per core, fed by one bounded
//! queue.
//!
//! Why not `spawn_blocking` per page: the blocking pool parks and wakes (or spawns) a thread
//! for every task, a storm of futex calls and context switches per article. Here a thread
//! that finishes a job takes the next one already queued without sleeping; the async side
//! awaits a oneshot reply.
//!
//! Owns: the threads and their queue. A job that panics is answered [`CpuError::Panicked`] and the
//! thread goes on. What each thread holds is stamped in [`Liveness`] (page threads' slots),
//! so the health check sees a job stuck on a page thread. The threads end when every sender
//! is gone (the pipeline dropped) and the queue is drained; they are not joined (a job stuck
//! at shutdown must not hold the exit).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::Liveness;

/// A job gets a function to call when its work is done, just before it replies (so a caller
/// that has the reply sees the thread's liveness slot already cleared).
type Job = Box<dyn FnOnce(&dyn Fn()) + Send>;

/// Why a job gave no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum CpuError {
    /// The job panicked (its thread goes on).
    #[error("panicked: {0}")]
    Panicked(String),
    /// The page threads are gone (shutting down): the work was not done.
    #[error("page threads stopped")]
    Stopped,
}

/// Hands jobs to the page threads. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Cpu {
    jobs: mpsc::Sender<Job>,
}

impl Cpu {
    /// Starts one page thread per slot `liveness` has (at least one), sharing a queue of
    /// `capacity` jobs.
    pub(crate) fn start(capacity: usize, liveness: Arc<Liveness>) -> std::io::Result<Cpu> {
        let (tx, rx) = mpsc::channel::<Job>(capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for slot in 0..liveness.page_threads().max(1) {
            let (rx, liveness) = (rx.clone(), liveness.clone());
            std::thread::Builder::new()
                .name(format!("newsd-page-{slot}"))
                .spawn(move || {
                    loop {
                        // One thread waits on the queue at a time; the others wait for the
                        // lock, so a job wakes exactly one thread.
                        let job = match rx.lock() {
                            Ok(mut rx) => rx.blocking_recv(),
                            Err(_) => None,
                        };
                        let Some(job) = job else { break };
                        liveness.thread_started(slot);
                        job(&|| liveness.thread_done(slot));
                    }
                })?;
        }
        Ok(Cpu { jobs: tx })
    }

    /// Runs `f` on a page thread and returns its result.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, CpuError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |done| {
            let out = catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                CpuError::Panicked(msg)
            });
            done();
            let _ = tx.send(out);
        });
        if self.jobs.send(job).await.is_err() {
            return Err(CpuError::Stopped);
        }
        rx.await.unwrap_or(Err(CpuError::Stopped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_run_on_the_page_threads_and_a_panic_is_answered_not_fatal() {
        let liveness = Arc::new(Liveness::new(0, 2));
        let cpu = Cpu::start(4, liveness.clone()).unwrap();
        let name = cpu
            .run(|| std::thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("newsd-page-"));
        let crashed = cpu.run(|| -> u32 { panic!("injected") }).await;
        assert_eq!(crashed, Err(CpuError::Panicked("injected".into())));
        // Both threads still serve: more jobs than threads, all answered.
        let all: Vec<_> = (0..8u32).map(|i| cpu.run(move || i * 2)).collect();
        let mut got = Vec::new();
        for f in all {
            got.push(f.await.unwrap());
        }
        assert_eq!(got, (0..8).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(liveness.oldest_page(), None, "idle threads hold nothing");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_held_by_a_page_thread_shows_in_liveness() {
        let liveness = Arc::new(Liveness::new(0, 1));
        let cpu = Cpu::start(4, liveness.clone()).unwrap();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = oneshot::channel();
        let held = tokio::spawn({
            let cpu = cpu.clone();
            async move {
                cpu.run(move || {
                    let _ = started_tx.send(());
                    let _ = release_rx.recv();
                })
                .await
            }
        });
        started_rx.await.unwrap();
        assert!(liveness.oldest_page().is_some(), "the held job is seen");
        release_tx.send(()).unwrap();
        held.await.unwrap().unwrap();
        assert_eq!(liveness.oldest_page(), None);
    }
}
