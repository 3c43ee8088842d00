//! Evidence of progress from inside the pipeline, for `/healthz` and the systemd watchdog.
//!
//! Owns: when the writer took its current job, when each page worker took its current
//! page, and when each page thread ([`super::cpu`]) took its current job. Idle is not stuck:
//! a writer waiting for work is healthy; a writer that has held one job for minutes (one
//! short sled transaction normally) is not. Must not: decide what "too long" is (the daemon's
//! health check does) or block: every call is a relaxed atomic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Shared by the writer, the page workers and the health check.
pub struct Liveness {
    /// Reference point of the millisecond stamps below (monotonic, unlike wall time).
    origin: Instant,
    /// Stamp (ms since `origin`, +1 so 0 means idle) of the writer's current job.
    writer_since: AtomicU64,
    /// Same, one slot per page worker.
    pages: Vec<AtomicU64>,
    /// Same, one slot per page thread.
    threads: Vec<AtomicU64>,
}

impl Liveness {
    pub fn new(page_workers: usize, page_threads: usize) -> Liveness {
        let slots = |n| (0..n).map(|_| AtomicU64::new(0)).collect();
        Liveness {
            origin: Instant::now(),
            writer_since: AtomicU64::new(0),
            pages: slots(page_workers),
            threads: slots(page_threads),
        }
    }

    fn stamp(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64 + 1
    }

    fn age(&self, stamp: u64) -> Option<Duration> {
        (stamp != 0).then(|| Duration::from_millis(self.stamp().saturating_sub(stamp)))
    }

    pub fn writer_started(&self) {
        self.writer_since.store(self.stamp(), Ordering::Relaxed);
    }

    pub fn writer_done(&self) {
        self.writer_since.store(0, Ordering::Relaxed);
    }

    /// How long the writer has been on its current job (None when idle).
    pub fn writer_busy_for(&self) -> Option<Duration> {
        self.age(self.writer_since.load(Ordering::Relaxed))
    }

    pub fn page_started(&self, worker: usize) {
        self.mark(&self.pages, worker, true);
    }

    pub fn page_done(&self, worker: usize) {
        self.mark(&self.pages, worker, false);
    }

    pub fn thread_started(&self, thread: usize) {
        self.mark(&self.threads, thread, true);
    }

    pub fn thread_done(&self, thread: usize) {
        self.mark(&self.threads, thread, false);
    }

    /// How many page threads have a slot: the pipeline starts that many.
    pub fn page_threads(&self) -> usize {
        self.threads.len()
    }

    /// Stamps slot `i` busy (now) or idle; a slot that does not exist is ignored.
    fn mark(&self, slots: &[AtomicU64], i: usize, busy: bool) {
        if let Some(slot) = slots.get(i) {
            slot.store(if busy { self.stamp() } else { 0 }, Ordering::Relaxed);
        }
    }

    /// Age of the oldest page (or job) a page worker or page thread is on (None when all
    /// are idle).
    pub fn oldest_page(&self) -> Option<Duration> {
        self.pages
            .iter()
            .chain(&self.threads)
            .filter_map(|s| self.age(s.load(Ordering::Relaxed)))
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_is_not_busy_and_a_held_job_ages() {
        let l = Liveness::new(2, 1);
        assert_eq!(l.writer_busy_for(), None);
        assert_eq!(l.oldest_page(), None);
        l.writer_started();
        l.page_started(1);
        l.page_started(7); // no such worker: ignored, not a panic
        std::thread::sleep(Duration::from_millis(20));
        assert!(l.writer_busy_for().unwrap() >= Duration::from_millis(20));
        assert!(l.oldest_page().unwrap() >= Duration::from_millis(20));
        l.writer_done();
        l.page_done(1);
        assert_eq!(l.oldest_page(), None);
        l.thread_started(0);
        l.thread_started(3); // no such thread: ignored
        std::thread::sleep(Duration::from_millis(20));
        assert!(l.oldest_page().unwrap() >= Duration::from_millis(20));
        l.thread_done(0);
        assert_eq!(l.writer_busy_for(), None);
        assert_eq!(l.oldest_page(), None);
    }
}
