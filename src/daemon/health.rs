//! What `/healthz`, `/readyz` and the systemd watchdog report, from evidence of progress.
//!
//! Healthy (alive and making progress) means all of:
//! - the scheduler loop turned recently (it wakes at least every feed-list check);
//! - the writer is idle or has held its current article for less than
//!   `daemon.stall_timeout_secs` (one sled transaction normally takes milliseconds);
//! - no poll and no page has been in flight longer than `daemon.poll_timeout_secs` +
//!   `daemon.drain_timeout_secs` + `daemon.stall_timeout_secs` (a poll that old escaped its own
//!   timeout: the runtime is wedged).
//!
//! Ready (worth sending work to / counting on) means started, not shutting down, and ingest
//! not paused by the store gate. A paused daemon is healthy but not ready: restarting it would
//! not free the disk, and it resumes by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::pipeline::{Gate, Liveness};

#[derive(Debug)]
pub struct Health {
    /// Started and not shutting down.
    ready: AtomicBool,
    /// Unix time (seconds) of the scheduler loop's last turn.
    pub(super) last_tick: AtomicU64,
    /// Longest the loop may go without a turn and still be healthy.
    stall_after: Duration,
    /// Unix time (ms) at which the oldest in-flight poll was dispatched (0 = none), published
    /// by the loop on every turn.
    oldest_poll_ms: AtomicU64,
    pipeline: Option<Watch>,
    /// Cluster mode: why the worker cannot work (NATS unreachable, leases not renewed).
    cluster: Option<Probe>,
}

/// A readiness check supplied from outside (cluster mode).
struct Probe(Box<dyn Fn() -> Option<String> + Send + Sync>);

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Probe").field(&(self.0)()).finish()
    }
}

/// The pipeline evidence and its thresholds.
#[derive(Debug)]
struct Watch {
    liveness: Arc<Liveness>,
    gate: Arc<Gate>,
    writer_stall: Duration,
    work_stall: Duration,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("paused", &self.is_paused())
            .finish()
    }
}

impl std::fmt::Debug for Liveness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Liveness")
            .field("writer_busy_for", &self.writer_busy_for())
            .field("oldest_page", &self.oldest_page())
            .finish()
    }
}

impl Health {
    /// Health of the scheduler loop alone (`stall_after` without a turn = unhealthy).
    pub fn new(stall_after: Duration) -> Health {
        let h = Health {
            ready: AtomicBool::new(false),
            last_tick: AtomicU64::new(0),
            stall_after,
            oldest_poll_ms: AtomicU64::new(0),
            pipeline: None,
            cluster: None,
        };
        h.tick();
        h
    }

    /// Also watches the pipeline: the writer may hold one article for `writer_stall`, a poll
    /// or page may be in flight for `work_stall`; the gate's pause makes it not ready.
    pub fn watching(
        mut self,
        liveness: Arc<Liveness>,
        gate: Arc<Gate>,
        writer_stall: Duration,
        work_stall: Duration,
    ) -> Health {
        self.pipeline = Some(Watch {
            liveness,
            gate,
            writer_stall,
            work_stall,
        });
        self
    }

    /// Cluster mode: not ready while `problem` says why (healthy all the same: a restart
    /// would not bring NATS back).
    pub fn with_cluster(
        mut self,
        problem: impl Fn() -> Option<String> + Send + Sync + 'static,
    ) -> Health {
        self.cluster = Some(Probe(Box::new(problem)));
        self
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// The scheduler loop took a turn; `oldest_poll` is how long the oldest in-flight poll
    /// has been running (None when none is).
    pub fn tick_with(&self, oldest_poll: Option<Duration>) {
        self.tick();
        let stamp = oldest_poll.map_or(0, |age| {
            unix_now_ms().saturating_sub(age.as_millis() as u64).max(1)
        });
        self.oldest_poll_ms.store(stamp, Ordering::Relaxed);
    }

    pub fn tick(&self) {
        self.last_tick.store(unix_now(), Ordering::Relaxed);
    }

    /// Why the daemon is not healthy, or None when it is.
    pub fn problem(&self) -> Option<String> {
        let silent = unix_now().saturating_sub(self.last_tick.load(Ordering::Relaxed));
        if silent > self.stall_after.as_secs() {
            return Some(format!("scheduler loop stalled: no turn for {silent} s"));
        }
        let w = self.pipeline.as_ref()?;
        if let Some(busy) = w.liveness.writer_busy_for()
            && busy > w.writer_stall
        {
            return Some(format!(
                "writer stuck: one article held for {} s (daemon.stall_timeout_secs = {})",
                busy.as_secs(),
                w.writer_stall.as_secs()
            ));
        }
        if let Some(age) = w.liveness.oldest_page()
            && age > w.work_stall
        {
            return Some(format!("a page worker stuck for {} s", age.as_secs()));
        }
        let oldest = self.oldest_poll_ms.load(Ordering::Relaxed);
        if oldest != 0 {
            let age = Duration::from_millis(unix_now_ms().saturating_sub(oldest));
            if age > w.work_stall {
                return Some(format!(
                    "a feed poll in flight for {} s escaped its timeout",
                    age.as_secs()
                ));
            }
        }
        None
    }

    pub fn healthy(&self) -> bool {
        self.problem().is_none()
    }

    /// Why the daemon is not ready, or None when it is.
    pub fn unready(&self) -> Option<String> {
        if !self.ready.load(Ordering::Relaxed) {
            return Some("not started or shutting down".into());
        }
        if let Some(cause) = self.pipeline.as_ref().and_then(|w| w.gate.cause()) {
            return Some(format!("ingest paused: {cause}"));
        }
        let problem = (self.cluster.as_ref()?.0)()?;
        Some(format!("cluster: {problem}"))
    }

    pub fn ready(&self) -> bool {
        self.unready().is_none()
    }
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::store::{Store, StoreConfig, StoreError};

    fn watched(dir: &std::path::Path) -> (Health, Arc<Liveness>, Arc<Gate>) {
        let store = Arc::new(
            Store::open(&StoreConfig {
                data_dir: dir.join("db"),
                ..StoreConfig::default()
            })
            .unwrap(),
        );
        let liveness = Arc::new(Liveness::new(2, 1));
        let gate = Arc::new(Gate::new(store, Arc::new(Metrics::new()), 0));
        let h = Health::new(Duration::from_secs(60)).watching(
            liveness.clone(),
            gate.clone(),
            Duration::from_millis(50),
            Duration::from_millis(50),
        );
        (h, liveness, gate)
    }

    #[test]
    fn a_writer_holding_one_article_too_long_is_unhealthy() {
        let dir = tempfile::tempdir().unwrap();
        let (h, liveness, _) = watched(dir.path());
        assert!(h.healthy());
        liveness.writer_started();
        std::thread::sleep(Duration::from_millis(80));
        let problem = h.problem().expect("a stuck writer is a health problem");
        assert!(problem.contains("writer stuck"), "{problem}");
        liveness.writer_done();
        assert!(h.healthy(), "an idle writer is healthy");
    }

    #[test]
    fn an_old_poll_or_page_is_unhealthy() {
        let dir = tempfile::tempdir().unwrap();
        let (h, liveness, _) = watched(dir.path());
        h.tick_with(Some(Duration::from_secs(5)));
        assert!(h.problem().unwrap().contains("feed poll"));
        h.tick_with(None);
        assert!(h.healthy());
        liveness.page_started(0);
        std::thread::sleep(Duration::from_millis(80));
        assert!(h.problem().unwrap().contains("page worker"));
    }

    #[test]
    fn a_paused_gate_is_healthy_but_not_ready() {
        let dir = tempfile::tempdir().unwrap();
        let (h, _, gate) = watched(dir.path());
        h.set_ready(true);
        assert!(h.ready());
        gate.store_failed(
            &StoreError::Sled(sled::Error::Io(std::io::Error::other("disk full"))),
            "test",
        );
        assert!(h.healthy());
        let why = h.unready().unwrap();
        assert!(
            why.contains("ingest paused") && why.contains("disk full"),
            "{why}"
        );
    }
}
